//! One walk of a big text for the literals of several stages: the parse
//! prefilter's triggers and the input-wide scan's factors were each
//! searched by a DFA of their own, two table walks per byte of every chunk
//! (a third of a big log's instructions). One DFA over both lists walks it
//! once, and hands each match to the list it came from; each stage still
//! only sees its own literals, by their index in its own list.

use crate::parse::trigger_dfa::TriggerDfa;

pub(crate) struct SharedWalk {
    dfa: TriggerDfa,
    /// By the DFA's literal: its list, and its index there (a look-up per
    /// match, where a search of the lists' starts took a dozen steps).
    origins: Vec<(u32, u32)>,
    /// By the DFA's literal: when the DFA walks only its first bytes (see
    /// [`walked_lengths`]), how many, and the rest of the literal, to be
    /// compared after them where they matched.
    wholes: Vec<Option<(usize, Box<[u8]>)>>,
}

/// Bytes of each literal the DFA walks at least: its table has a row per
/// distinct prefix of what it walks (times the bytes they use). Walked
/// whole, the 3,545 literals of the built-in pack made 23,279 states, a
/// 6.5 MB table built in 53 M instructions, an eighth of a 1 MiB log's
/// run (callgrind, session 56). The rest of a literal is compared where
/// its start matched.
const WALKED_BYTES: usize = 8;

/// Literals that may end in the same walked prefix: past it, a prefix
/// is walked further. Cut to 8 bytes alone, 300 scan literals were walked
/// as `https://`, and each URL in a log was compared 300 times over; with
/// this bound the DFA has 11,486 states and a 1 MiB log's walk stops at a
/// tenth more places than the whole literals' (87,500 against 78,000).
const SHARING_A_PREFIX: usize = 2;

/// Bytes of a literal the DFA walks at most. Since session 60 the
/// input-wide scan's literals come whole (a provider's URL, a sentence of
/// its error), and fourteen Segment paths share their first 30 bytes:
/// walked as far as they share, the table's build took 24.2 M
/// instructions against 21.2 M cut at 16 bytes (and the 64 MiB log's
/// walk no less); ending together there, they are compared where
/// `https://api.segm` is, which few logs hold.
const WALKED_MOST: usize = 16;

impl SharedWalk {
    /// `None` when the DFA cannot be built (see [`TriggerDfa::new`]). A
    /// literal in two lists is searched twice over, as two patterns that
    /// end in the same states: no table is needed to share it.
    pub(crate) fn new(lists: &[&[String]]) -> Option<Self> {
        let all = Self::all(lists);
        let cut = Self::walked(&all);
        let wholes = all
            .iter()
            .zip(&cut)
            .map(|(literal, prefix)| {
                let walked = prefix.len();
                (walked < literal.len()).then(|| (walked, literal.as_bytes()[walked..].into()))
            })
            .collect();
        let mut origins = Vec::with_capacity(all.len());
        for (k, list) in lists.iter().enumerate() {
            let k = u32::try_from(k).ok()?;
            for i in 0..list.len() {
                origins.push((k, u32::try_from(i).ok()?));
            }
        }
        Some(SharedWalk {
            dfa: TriggerDfa::new(&cut)?,
            origins,
            wholes,
        })
    }

    /// The bytes of the table [`SharedWalk::new`] would build of `lists`
    /// (see [`TriggerDfa::table_bytes_of`]), without building it.
    pub(crate) fn table_bytes(lists: &[&[String]]) -> usize {
        let all = Self::all(lists);
        let keys: Vec<Key> = all.iter().map(|l| Key::of(l)).collect();
        let lengths = walked_lengths_by_keys(&keys, WALKED_BYTES, SHARING_A_PREFIX);
        // A cut inside a character is a byte or more shorter (`prefix`).
        let mut cut: Vec<Key> = all
            .iter()
            .zip(keys)
            .zip(lengths)
            .map(|((literal, key), len)| key.cut(prefix(literal, len).len()))
            .collect();
        let mut distinct = [false; 256];
        for b in cut.iter().flat_map(|k| k.bytes()) {
            distinct[usize::from(b)] = true;
        }
        // Sorted, each adds the prefixes longer than the one it shares
        // with the one before it: the trie's distinct prefixes.
        cut.sort_unstable();
        let mut states = 0;
        let mut before = Key { bits: 0, len: 0 };
        for &key in &cut {
            states += key.len - key.common(before);
            before = key;
        }
        TriggerDfa::table_bytes_of(states, distinct.iter().filter(|&&d| d).count())
    }

    fn all<'a>(lists: &[&'a [String]]) -> Vec<&'a str> {
        lists
            .iter()
            .flat_map(|l| l.iter().map(String::as_str))
            .collect()
    }

    /// Each literal's walked prefix (see [`walked_lengths`]).
    fn walked(all: &[&str]) -> Vec<String> {
        let lengths = walked_lengths(all, WALKED_BYTES, SHARING_A_PREFIX);
        all.iter()
            .zip(lengths)
            .map(|(literal, len)| prefix(literal, len).to_string())
            .collect()
    }

    /// Calls `found` with the list, the literal (its index in its list) and
    /// the start of each match in `text`, ASCII case-insensitively, in
    /// order of their end (see [`TriggerDfa::find`]), as long as it wants
    /// them (see [`Wanted`]).
    pub(crate) fn find(&self, text: &[u8], mut found: impl FnMut(usize, usize, usize) -> Wanted) {
        // By the DFA's literal: set once `found` wants no more of it.
        let mut unwanted = vec![0u64; self.wholes.len().div_ceil(64)];
        self.dfa.find(text, |id, start| {
            let bit = 1u64 << (id % 64);
            if unwanted[id / 64] & bit != 0 {
                return true;
            }
            if let Some((walked, rest)) = &self.wholes[id]
                && !text
                    .get(start + walked..start + walked + rest.len())
                    .is_some_and(|t| t.eq_ignore_ascii_case(rest))
            {
                return true;
            }
            let (list, index) = self.origins[id];
            match found(list as usize, index as usize, start) {
                Wanted::More => true,
                Wanted::NoMoreOfThis => {
                    unwanted[id / 64] |= bit;
                    true
                }
                Wanted::Nothing => false,
            }
        })
    }
}

/// What the caller of [`SharedWalk::find`] wants after a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wanted {
    /// The matches after it.
    More,
    /// The matches after it, but none more of this literal: they are
    /// passed over with a bit test. Taking one in cost ~150 instructions,
    /// and most matches of a big log's walk are of literals taken in
    /// already: the input-wide scan keeps a literal's first 32 places in a
    /// chunk (16 MB of the mixed log: 1.44 M matches, 920,000 of them
    /// passed over, most of literals such as `https://` or `request` on
    /// most lines).
    NoMoreOfThis,
    /// No more matches.
    Nothing,
}

/// By literal: how many of its bytes to walk. At least `least` (all of a
/// shorter one), and more where over `sharing` literals start with those
/// bytes (ASCII case folded), up to all of it or [`WALKED_MOST`] (a
/// literal given more than `sharing` times is walked whole, up to that).
fn walked_lengths(literals: &[&str], least: usize, sharing: usize) -> Vec<usize> {
    let keys: Vec<Key> = literals.iter().map(|l| Key::of(l)).collect();
    walked_lengths_by_keys(&keys, least, sharing)
}

/// A literal's first [`WALKED_MOST`] bytes, ASCII-lower-cased: all the
/// walk looks at. As one number (the bytes big-endian, zeros after), keys
/// sort in the order of their bytes (literals hold no NUL) by a compare
/// of two words, where slices were compared through an index (session
/// 60, a 1 MiB log's start: 10.6 → 8.3 M instructions for the sorts).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    bits: u128,
    len: usize,
}

// A key holds what is walked at most.
const _: () = assert!(WALKED_MOST == std::mem::size_of::<u128>());

impl Key {
    fn of(literal: &str) -> Self {
        let mut bytes = [0u8; WALKED_MOST];
        let len = literal.len().min(WALKED_MOST);
        bytes[..len].copy_from_slice(&literal.as_bytes()[..len]);
        bytes.make_ascii_lowercase();
        Key {
            bits: u128::from_be_bytes(bytes),
            len,
        }
    }

    /// The key of the first `len` bytes (at most its own).
    fn cut(self, len: usize) -> Self {
        let len = len.min(self.len);
        let kept = if len == 0 {
            0
        } else {
            u128::MAX << (8 * (WALKED_MOST - len))
        };
        Key {
            bits: self.bits & kept,
            len,
        }
    }

    /// The bytes two keys start with alike.
    fn common(self, other: Key) -> usize {
        let alike = ((self.bits ^ other.bits).leading_zeros() / 8) as usize;
        alike.min(self.len).min(other.len)
    }

    fn bytes(self) -> impl Iterator<Item = u8> {
        self.bits.to_be_bytes().into_iter().take(self.len)
    }
}

/// [`walked_lengths`] of the literals' keys.
fn walked_lengths_by_keys(keys: &[Key], least: usize, sharing: usize) -> Vec<usize> {
    let mut order: Vec<(Key, usize)> = keys.iter().copied().zip(0..).collect();
    order.sort_unstable();
    // The common prefix of each literal and the next one in order.
    let common: Vec<usize> = order.windows(2).map(|w| w[0].0.common(w[1].0)).collect();
    let mut lengths = vec![0; keys.len()];
    for (at, &(key, literal)) in order.iter().enumerate() {
        // Each run of `sharing + 1` literals in order around this one
        // shares its common prefix: walk a byte past the longest such.
        let shared = (at.saturating_sub(sharing)..=at)
            .filter(|&from| from + sharing < order.len())
            .map(|from| {
                common[from..from + sharing]
                    .iter()
                    .copied()
                    .min()
                    .unwrap_or(0)
            })
            .max()
            .map_or(0, |c| c + 1);
        lengths[literal] = shared.max(least).min(key.len);
    }
    lengths
}

/// `literal`'s first `bytes` bytes (fewer at a character's middle).
fn prefix(literal: &str, bytes: usize) -> &str {
    let mut end = literal.len().min(bytes);
    while !literal.is_char_boundary(end) {
        end -= 1;
    }
    &literal[..end]
}

#[cfg(test)]
mod tests {
    use super::{Key, SharedWalk, WALKED_MOST, Wanted, walked_lengths};

    /// Each list's matches in `got` (literal, start) are what aho-corasick
    /// finds of that list alone, ASCII case-insensitively, overlapping.
    fn assert_each_list_found_as_alone(
        lists: &[&[String]],
        text: &str,
        got: &mut [Vec<(usize, usize)>],
    ) {
        for (k, list) in lists.iter().enumerate() {
            let mut alone: Vec<(usize, usize)> = aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(*list)
                .unwrap()
                .find_overlapping_iter(text)
                .map(|m| (m.pattern().as_usize(), m.start()))
                .collect();
            alone.sort_unstable();
            got[k].sort_unstable();
            assert_eq!(got[k], alone, "list {k}");
        }
    }

    /// Each list gets what a search of its own literals alone finds, the
    /// same literal in both lists included, with an empty list between.
    #[test]
    fn each_list_gets_its_own_matches() {
        let parse: Vec<String> = ["error", "http/", "> "].map(String::from).to_vec();
        let rules: Vec<String> = ["rror", "error", "quota", "p/1"].map(String::from).to_vec();
        let text = "ERROR > HTTP/1.1 quota error\nquota> ".repeat(2000);
        let lists: [&[String]; 3] = [&parse, &[], &rules];
        let walk = SharedWalk::new(&lists).unwrap();
        let mut got = vec![Vec::new(); 3];
        walk.find(text.as_bytes(), |list, id, start| {
            got[list].push((id, start));
            Wanted::More
        });
        assert_each_list_found_as_alone(&lists, &text, &mut got);
        assert!(got[2].len() > 8000);
    }

    /// A literal its caller wants no more of is not reported again in the
    /// text; a match of only its walked start does not count; the other
    /// literals go on, and the walk stops when told.
    #[test]
    fn a_literal_wanted_no_more_is_passed_over() {
        let words: Vec<String> = ["20", "https://api.example.com/", "quota"]
            .map(String::from)
            .to_vec();
        let line = "20 https://api.example.org/ 20 quota https://API.example.com/ 20 quota\n";
        let text = line.repeat(3);
        let walk = SharedWalk::new(&[&words]).unwrap();
        let mut got = Vec::new();
        walk.find(text.as_bytes(), |_, id, start| {
            got.push((id, start));
            if id == 2 {
                Wanted::More
            } else {
                Wanted::NoMoreOfThis
            }
        });
        let host = line.find("https://API").unwrap();
        let of = |id: usize| -> Vec<usize> {
            got.iter()
                .filter(|(i, _)| *i == id)
                .map(|(_, s)| *s)
                .collect()
        };
        assert_eq!(of(0), [0]);
        assert_eq!(of(1), [host]);
        assert_eq!(of(2).len(), 6);
        let mut quotas = 0;
        walk.find(text.as_bytes(), |_, id, _| {
            quotas += usize::from(id == 2);
            if quotas == 2 {
                Wanted::Nothing
            } else {
                Wanted::More
            }
        });
        assert_eq!(quotas, 2);
    }

    /// Literals longer than the walked bytes, many sharing their first
    /// ones (as the scan's URLs do), are found exactly where they occur:
    /// in either case, overlapping, and not where only their walked start
    /// does (the text ends in one).
    #[test]
    fn long_literals_sharing_a_start_are_found_whole() {
        let hosts: Vec<String> = [
            "api.mistral.ai",
            "api.openai.com",
            "api.github.com",
            "apix",
            // Sharing more than WALKED_MOST bytes: they end in one state.
            "api.segment.io/v1/track",
            "api.segment.io/v1/batch",
            "api.segment.io/v1/identify",
        ]
        .iter()
        .map(|h| format!("https://{h}/"))
        .collect();
        let words: Vec<String> = [
            "invalid_grant",
            "invalid_client",
            "invalid_",
            "Invalid_Grant",
        ]
        .map(String::from)
        .to_vec();
        let text =
            "GET HTTPS://API.OPENAI.COM/v1 -> invalid_grantinvalid_client https://api.mistral.x \
                    https://apix/ invalid_ INVALID_GRANT https://api.segment.io/v1/trac \
                    POST https://API.segment.io/v1/batch/\n"
                .repeat(50)
                + "tail https://api.github.co";
        let lists: [&[String]; 2] = [&hosts, &words];
        let walk = SharedWalk::new(&lists).unwrap();
        let mut got = vec![Vec::new(); 2];
        walk.find(text.as_bytes(), |list, id, start| {
            got[list].push((id, start));
            Wanted::More
        });
        assert_each_list_found_as_alone(&lists, &text, &mut got);
        assert_eq!(got[0].len(), 150);
    }

    /// The table a walk is held to (see `Group::dfa_fits`) is the one it
    /// builds: long literals sharing starts, cut inside a character.
    #[test]
    fn table_bytes_are_the_built_walk_s() {
        let lists: Vec<Vec<String>> = vec![
            ["Error", "error:", "HTTP/", "http/1.1", "quota", "Q", "é"]
                .map(String::from)
                .to_vec(),
            [
                "https://api.segment.io/v1/track",
                "https://api.segment.io/v1/batch",
                "https://api.segment.io/v1/page",
                "https://api.openai.com/v1/",
                "ééééééééé long",
                "ééééééééé longer",
                "ééééééééé longest",
            ]
            .map(String::from)
            .to_vec(),
        ];
        let lists: Vec<&[String]> = lists.iter().map(Vec::as_slice).collect();
        let walk = SharedWalk::new(&lists).unwrap();
        assert_eq!(SharedWalk::table_bytes(&lists), walk.dfa.table_len() * 4);
    }

    /// Keys as numbers sort and share starts as the literals' lower-cased
    /// first bytes do: over generated literals with long common starts,
    /// every length to 20 bytes, in either case and cut inside characters.
    #[test]
    fn keys_order_and_share_as_their_bytes() {
        let parts = ["https://api.", "A", "b", "é", "/v1/", "x", "Segment"];
        let mut literals: Vec<String> = Vec::new();
        let mut seed = 7u64;
        for _ in 0..3000 {
            let mut l = String::new();
            while l.len() < 20 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                l.push_str(parts[(seed >> 33) as usize % parts.len()]);
                if (seed >> 20).is_multiple_of(5) {
                    break;
                }
            }
            literals.push(l);
        }
        let keys: Vec<Key> = literals.iter().map(|l| Key::of(l)).collect();
        let bytes: Vec<Vec<u8>> = literals
            .iter()
            .map(|l| l.as_bytes()[..l.len().min(WALKED_MOST)].to_ascii_lowercase())
            .collect();
        for (i, j) in (0..literals.len()).zip((1..literals.len()).chain([0])) {
            assert_eq!(keys[i].cmp(&keys[j]), bytes[i].cmp(&bytes[j]), "{i} {j}");
            let alike = bytes[i]
                .iter()
                .zip(&bytes[j])
                .take_while(|(a, b)| a == b)
                .count();
            assert_eq!(keys[i].common(keys[j]), alike);
            for len in 0..=WALKED_MOST {
                let cut = &bytes[i][..len.min(bytes[i].len())];
                assert!(keys[i].cut(len).bytes().eq(cut.iter().copied()));
            }
        }
    }

    /// A literal is walked for at least its first bytes, and further where
    /// more than the bound share them; one shorter is walked whole.
    #[test]
    fn walked_bytes_grow_where_literals_share_them() {
        let literals = [
            "https://a.example/",
            "https://b.example/",
            "https://c.example/",
            "quota_exceeded",
            "429",
            "quota_exceeded",
        ];
        let lengths = walked_lengths(&literals, 8, 2);
        // Three share `https://`: each is walked a byte past it.
        assert_eq!(&lengths[..3], &[9, 9, 9]);
        // Alone past its first bytes.
        assert_eq!(lengths[4], 3);
        // Twice is not over the bound; three times is, and is walked whole.
        assert_eq!((lengths[3], lengths[5]), (8, 8));
        let thrice = walked_lengths(&["quota_exceeded"; 3], 8, 2);
        assert_eq!(thrice, vec!["quota_exceeded".len(); 3]);
        // Past WALKED_MOST bytes a shared start is not walked further.
        let paths = [
            "https://api.segment.io/v1/track",
            "https://api.segment.io/v1/batch",
            "https://api.segment.io/v1/page",
        ];
        assert_eq!(walked_lengths(&paths, 8, 2), vec![WALKED_MOST; 3]);
    }
}
