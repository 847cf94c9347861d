//! Literal factors of a pattern: sets of strings such that every match
//! contains a string of each set. They let one Aho-Corasick pass decide
//! which patterns (and so which rules) can possibly match a text, before any
//! regex is compiled: `(?i)\bclient\b.{0,60}\b(disabled|inactive)\b` needs
//! `client` *and* one of `disabled`, `inactive`.
//!
//! Factors are lower-case and meant to be searched ASCII-case-insensitively,
//! so `(?i)locked` gives `locked` rather than 64 case variants. One
//! approximation: under `(?i)`, `k` and `s` also match the Kelvin sign
//! (U+212A) and the long s (U+017F); a text that spells a word with those is
//! taken not to match. Logs do not.

use regex_syntax::hir::{Class, Hir, HirKind};

/// Strings in a set, and strings in a set built by concatenation, are
/// capped: past this the set stops being a useful filter.
const MAX_SET: usize = 64;
const MAX_LEN: usize = 64;
/// Sets kept per pattern, most selective first.
const MAX_SETS: usize = 4;

/// Sets of strings; every match contains a string of each set. The first
/// set is the most selective.
pub type Factors = Vec<Vec<String>>;

/// What a sub-pattern tells about its matches.
#[derive(Debug, Clone, Default)]
struct Info {
    /// Every string it can match (lower-case), when that set is small.
    exact: Option<Vec<String>>,
    /// Required sets (a conjunction; empty: nothing is required).
    required: Factors,
}

/// The factors of `pattern` (Rust regex syntax), if it has useful ones:
/// every string at least `min_len` bytes long. (The loader finds them from
/// the pattern it parses anyway, with [`hir_factors`]; this parses the same
/// way.)
pub fn pattern_factors(pattern: &str, min_len: usize) -> Option<Factors> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .ok()?;
    hir_factors(&hir, min_len)
}

/// The factors of a parsed pattern; see [`pattern_factors`].
pub fn hir_factors(hir: &Hir, min_len: usize) -> Option<Factors> {
    let info = walk(hir, 0);
    let mut sets = info.required;
    sets.extend(info.exact);
    at_least(Some(sets.as_slice()), min_len)
}

/// The sets of `factors` whose strings are all at least `min_len` bytes
/// long (dropping a set keeps the others necessary), most selective first;
/// `None` if none is left.
pub fn at_least<S: AsRef<str> + Ord + Clone>(
    factors: Option<&[Vec<S>]>,
    min_len: usize,
) -> Option<Vec<Vec<S>>> {
    let mut sets: Vec<Vec<S>> = factors?
        .iter()
        .filter(|set| useful(set, min_len))
        .map(|set| dedup(set.clone()))
        .collect();
    sets.sort_by_key(|set| std::cmp::Reverse(score(set)));
    sets.dedup();
    sets.truncate(MAX_SETS);
    (!sets.is_empty()).then_some(sets)
}

/// Whether `text` may match a pattern with these factors: it contains a
/// string of every set (ASCII-case-insensitively).
pub fn may_match<S: AsRef<str>>(text: &str, factors: &[Vec<S>]) -> bool {
    factors.iter().all(|set| any_in(text.as_bytes(), set))
}

/// The block a big text's sets are read in (see [`any_in`]).
const BLOCK: usize = 16 << 10;
/// Texts shorter than this have their sets' literals searched one by one
/// (see [`any_in`]).
const PLANNED_FROM: usize = 4 << 10;

/// Whether `hay` contains one of `set` (lower-case), ignoring ASCII case.
///
/// A big text's literals are found by their rarest bytes, one search per
/// byte for the literals it anchors (see [`anchor_plan`]): searched one by
/// one, ten `https://api.segment.io/v1/…` paths each read every `v` of a
/// 512 KiB chunk again (0.6 ms; two such patterns were a tenth of a 64 MiB
/// log's run). It is read block by block, every anchor in a block before
/// the next: a set's absent literals cost a search of the text up to its
/// first present one, not of all of it each.
fn any_in<S: AsRef<str>>(hay: &[u8], set: &[S]) -> bool {
    // A short text (a line) is read a few times over sooner than a plan
    // is made for it.
    if set.len() < 2 || hay.len() < PLANNED_FROM {
        return set
            .iter()
            .any(|f| contains_ignore_ascii_case(hay, f.as_ref().as_bytes()));
    }
    any_in_planned(hay, set)
}

/// [`any_in`] by an [`anchor_plan`], whatever the text's length.
fn any_in_planned<S: AsRef<str>>(hay: &[u8], set: &[S]) -> bool {
    let Some(plan) = anchor_plan(hay.len(), set) else {
        return true;
    };
    let block = if hay.len() <= 2 * BLOCK {
        hay.len()
    } else {
        BLOCK
    };
    (0..hay.len()).step_by(block.max(1)).any(|from| {
        let to = (from + block).min(hay.len());
        plan.iter().any(|(byte, anchored)| {
            let matches_at = |at: usize| anchored.iter().any(|a| a.matches_at(hay, from + at));
            let (lower, upper) = (*byte, byte.to_ascii_uppercase());
            if lower == upper {
                memchr::memchr_iter(lower, &hay[from..to]).any(matches_at)
            } else {
                memchr::memchr2_iter(lower, upper, &hay[from..to]).any(matches_at)
            }
        })
    })
}

/// How much commoner (see [`commonness`]) than its own rarest byte a
/// byte may be for a literal to be found by it with others (`k` by `v`).
const SHARED_ANCHOR_SLACK: u8 = 2;

/// How [`any_in`] finds the literals of `set` that fit in a text of `len`
/// bytes: by anchor byte (lower-case), one search of it for the literals
/// anchored on it. Literals with the same anchor at the same place are
/// compared together (a set's literals often share their start: ten
/// `https://api.segment.io/v1/…` paths, anchored at the `v` of `/v1/`),
/// and a literal whose own rarest byte is a bit rarer joins them where it
/// has their anchor too (`…/v1/track`, rather than a search of its `k`).
/// `None` when an empty literal matches anywhere.
fn anchor_plan<S: AsRef<str>>(len: usize, set: &[S]) -> Option<Vec<(u8, Vec<Anchored<'_>>)>> {
    let mut anchored: Vec<Anchored> = Vec::new();
    for f in set {
        let needle = f.as_ref().as_bytes();
        if needle.is_empty() {
            return None;
        }
        if needle.len() > len {
            continue;
        }
        let own = rarest(needle);
        let slack = commonness(needle[own]).saturating_add(SHARED_ANCHOR_SLACK);
        let joins = anchored.iter_mut().find(|a| {
            needle
                .get(a.anchor)
                .is_some_and(|b| b.to_ascii_lowercase() == a.byte())
                && commonness(a.byte()) <= slack
        });
        match joins {
            Some(a) => a.add(needle),
            None => anchored.push(Anchored::new(needle, own)),
        }
    }
    let mut plan: Vec<(u8, Vec<Anchored>)> = Vec::new();
    for mut a in anchored {
        a.settle();
        match plan.iter_mut().find(|(byte, _)| *byte == a.byte()) {
            Some((_, same)) => same.push(a),
            None => plan.push((a.byte(), vec![a])),
        }
    }
    Some(plan)
}

/// Literals (lower-case) with the same rarest byte at the same place,
/// found by a search of that byte; see [`any_in`].
struct Anchored<'n> {
    literals: Vec<&'n [u8]>,
    anchor: usize,
    /// The length of their common start, and the place of its rarest byte
    /// but the anchor: compared at a candidate before the rest.
    common: usize,
    second: usize,
}

impl<'n> Anchored<'n> {
    fn new(needle: &'n [u8], anchor: usize) -> Self {
        Anchored {
            literals: vec![needle],
            anchor,
            common: needle.len(),
            second: anchor,
        }
    }

    fn byte(&self) -> u8 {
        self.literals[0][self.anchor].to_ascii_lowercase()
    }

    fn add(&mut self, needle: &'n [u8]) {
        let first = self.literals[0];
        self.common = (0..self.common.min(needle.len()))
            .find(|&i| first[i] != needle[i])
            .unwrap_or(self.common.min(needle.len()));
        self.literals.push(needle);
    }

    /// Picks the byte compared second, once all literals are in.
    fn settle(&mut self) {
        let start = &self.literals[0][..self.common];
        self.second = (0..start.len())
            .filter(|&i| i != self.anchor)
            .min_by_key(|&i| commonness(start[i]))
            .unwrap_or(self.anchor);
    }

    /// Whether one of the literals is in `hay` with its anchor at `at`
    /// (ASCII case aside).
    #[inline]
    fn matches_at(&self, hay: &[u8], at: usize) -> bool {
        let Some(start) = at.checked_sub(self.anchor) else {
            return false;
        };
        // Through the anchor, which the common start may end before.
        let head = self.common.max(self.anchor + 1);
        let Some(found) = hay.get(start..start + head) else {
            return false;
        };
        let first = self.literals[0];
        found[self.second].to_ascii_lowercase() == first[self.second]
            && lower_equal(&found[..self.common], &first[..self.common])
            && self.literals.iter().any(|literal| {
                hay.get(start + self.common..start + literal.len())
                    .is_some_and(|rest| lower_equal(rest, &literal[self.common..]))
            })
    }
}

/// Whether `text` lower-cased (ASCII) is `lower`, of the same length; a
/// loop that stops at the first difference, which most candidates have
/// near their start.
#[inline]
fn lower_equal(text: &[u8], lower: &[u8]) -> bool {
    text.iter()
        .zip(lower)
        .all(|(a, b)| a.to_ascii_lowercase() == *b)
}

/// The place of `needle`'s rarest byte in log text (see [`commonness`]).
fn rarest(needle: &[u8]) -> usize {
    (0..needle.len())
        .min_by_key(|&i| commonness(needle[i]))
        .unwrap_or(0)
}

/// Whether `hay` contains `needle` (lower-case), ignoring ASCII case.
/// Candidates are found with memchr at the needle's rarest byte (in either
/// case) and then compared: rules and provider vocabularies test this over
/// whole incident texts, where a per-byte scan was a few percent of a big
/// log's run.
fn contains_ignore_ascii_case(hay: &[u8], needle: &[u8]) -> bool {
    find_ignore_ascii_case(hay, needle).is_some()
}

/// The ASCII-lower-cased byte pairs of a small text, a bit each: a
/// literal none of whose pairs is missing is then searched for.
pub(crate) struct BytePairs(Vec<u64>);

impl BytePairs {
    pub(crate) fn of(text: &[u8]) -> Self {
        let mut bits = vec![0u64; 1 << 10];
        for pair in text.windows(2) {
            let k = Self::key(pair[0], pair[1]);
            bits[k >> 6] |= 1 << (k & 63);
        }
        BytePairs(bits)
    }

    fn key(a: u8, b: u8) -> usize {
        usize::from(a.to_ascii_lowercase()) << 8 | usize::from(b.to_ascii_lowercase())
    }

    /// Whether `text` (of which these are the pairs) holds `literal`,
    /// ASCII-case-insensitively.
    pub(crate) fn holds(&self, text: &[u8], literal: &[u8]) -> bool {
        let all_pairs = literal.windows(2).all(|pair| {
            let k = Self::key(pair[0], pair[1]);
            self.0[k >> 6] & (1 << (k & 63)) != 0
        });
        all_pairs && find_ignore_ascii_case(text, literal).is_some()
    }
}

/// Where `needle` (lower-case) first starts in `hay`, ignoring ASCII case
/// (see [`contains_ignore_ascii_case`]).
pub fn find_ignore_ascii_case(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let n = needle.len();
    if n == 0 {
        return Some(0);
    }
    if hay.len() < n {
        return None;
    }
    let k = rarest(needle);
    let (lower, upper) = (
        needle[k].to_ascii_lowercase(),
        needle[k].to_ascii_uppercase(),
    );
    // The anchor's place in `hay` minus `k` is where a match would start.
    let starts = &hay[k..hay.len() - (n - 1 - k)];
    let matches_at = |start: &usize| hay[*start..*start + n].eq_ignore_ascii_case(needle);
    if lower == upper {
        memchr::memchr_iter(lower, starts).find(matches_at)
    } else {
        memchr::memchr2_iter(lower, upper, starts).find(matches_at)
    }
}

/// How common a byte is in log text (higher: more common), to pick the
/// byte a search skips to: a rough order, from English letter frequencies
/// and what logs are full of (spaces, digits, punctuation of URLs and JSON).
/// A table: the anchor is chosen at every search, and finding a letter's
/// rank in the list of letters was most of a search of a short text (a URL
/// path against the token paths' factors).
fn commonness(b: u8) -> u8 {
    COMMONNESS[usize::from(b)]
}

const COMMONNESS: [u8; 256] = {
    const LETTERS: &[u8] = b"zqxjkvbpygfwmucldrhsnioate";
    let mut table = [5u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = (b as u8).to_ascii_lowercase();
        table[b] = match c {
            b' ' | b'"' | b'0'..=b'9' => 60,
            b':' | b'/' | b'.' | b',' | b'-' | b'_' | b'=' | b'\'' => 50,
            _ => 5,
        };
        b += 1;
    }
    let mut rank = 0;
    while rank < LETTERS.len() {
        let l = LETTERS[rank];
        table[l as usize] = 10 + rank as u8;
        table[l.to_ascii_uppercase() as usize] = 10 + rank as u8;
        rank += 1;
    }
    table
};

/// The longest run of ASCII in `text` (lower-cased), as a factor of any
/// text that contains `text` after Unicode lower-casing (`contains` tests).
pub fn ascii_factor(text: &str, min_len: usize) -> Option<String> {
    ascii_run(text, min_len).map(str::to_ascii_lowercase)
}

/// The run of text [`ascii_factor`] lower-cases, borrowed.
pub fn ascii_run(text: &str, min_len: usize) -> Option<&str> {
    text.split(|c: char| !c.is_ascii())
        .max_by_key(|run| run.len())
        .filter(|run| run.len() >= min_len)
}

fn useful<S: AsRef<str>>(set: &[S], min_len: usize) -> bool {
    !set.is_empty() && set.iter().all(|s| s.as_ref().len() >= min_len)
}

/// Longer factors are rarer; fewer alternatives are cheaper.
fn score<S: AsRef<str>>(set: &[S]) -> usize {
    let shortest = set.iter().map(|s| s.as_ref().len()).min().unwrap_or(0);
    shortest * 16 / (set.len() + 3)
}

fn dedup<S: Ord>(mut set: Vec<S>) -> Vec<S> {
    set.sort();
    set.dedup();
    set
}

/// The most selective of some sets, as one required set.
fn best(sets: impl IntoIterator<Item = Vec<String>>) -> Option<Vec<String>> {
    sets.into_iter()
        .filter(|s| useful(s, 1))
        .max_by_key(|s| score(s))
}

fn walk(hir: &Hir, depth: usize) -> Info {
    // regex-syntax caps nesting at 250; stay well inside the stack anyway.
    if depth > 300 {
        return Info::default();
    }
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Info {
            exact: Some(vec![String::new()]),
            required: Vec::new(),
        },
        HirKind::Literal(lit) if lit.0.is_ascii() => {
            let s = String::from_utf8_lossy(&lit.0).to_ascii_lowercase();
            Info {
                exact: Some(vec![s.clone()]),
                required: vec![vec![s]],
            }
        }
        // Non-ASCII text may have been case-folded by the real (Unicode)
        // pattern, which ASCII-insensitive search would miss: only its
        // ASCII runs are required.
        HirKind::Literal(lit) => Info {
            exact: None,
            required: lit
                .0
                .split(|b| !b.is_ascii())
                .filter(|run| !run.is_empty())
                .map(|run| vec![String::from_utf8_lossy(run).to_ascii_lowercase()])
                .collect(),
        },
        HirKind::Class(class) => Info {
            exact: class_chars(class),
            required: Vec::new(),
        },
        HirKind::Capture(c) => walk(&c.sub, depth + 1),
        HirKind::Repetition(r) => {
            let sub = walk(&r.sub, depth + 1);
            if r.min == 0 {
                let exact = match (r.max, sub.exact) {
                    (Some(1), Some(mut e)) => {
                        e.push(String::new());
                        Some(e)
                    }
                    _ => None,
                };
                return Info {
                    exact,
                    required: Vec::new(),
                };
            }
            let mut required = sub.required;
            if required.is_empty() {
                required.extend(sub.exact.clone().filter(|e| useful(e, 1)));
            }
            let exact = match (r.max, sub.exact) {
                (Some(max), Some(e)) if max == r.min && max <= 4 => {
                    let mut out = Some(vec![String::new()]);
                    for _ in 0..max {
                        out = out.and_then(|o| product(&o, &e));
                    }
                    out
                }
                _ => None,
            };
            Info { exact, required }
        }
        HirKind::Concat(subs) => {
            // Every piece's requirements hold together; runs of exact
            // pieces combine into longer strings.
            let mut required: Factors = Vec::new();
            let mut run: Option<Vec<String>> = Some(vec![String::new()]);
            let mut all_exact = true;
            for sub in subs {
                let info = walk(sub, depth + 1);
                match info.exact {
                    // The common case, one string after another: extend it.
                    Some(e) if e.len() == 1 && run.as_ref().is_some_and(|r| r.len() == 1) => {
                        let r = &mut run.as_mut().expect("checked")[0];
                        if r.len() + e[0].len() <= MAX_LEN {
                            r.push_str(&e[0]);
                        } else {
                            required.extend(run.replace(e));
                            all_exact = false;
                        }
                    }
                    Some(e) => {
                        run = match run.as_ref().and_then(|r| product(r, &e)) {
                            Some(p) => Some(p),
                            None => {
                                // Too many combinations: close the run here.
                                required.extend(run.take());
                                all_exact = false;
                                Some(e)
                            }
                        };
                    }
                    None => {
                        all_exact = false;
                        required.extend(run.replace(vec![String::new()]));
                        required.extend(info.required);
                    }
                }
            }
            let exact = if all_exact { run.clone() } else { None };
            required.extend(run);
            required.retain(|set| useful(set, 1));
            required.sort_by_key(|set| std::cmp::Reverse(score(set)));
            required.truncate(MAX_SETS);
            Info { exact, required }
        }
        HirKind::Alternation(subs) => {
            // One of the branches matches: each gives its best set, and the
            // union of those is required.
            let infos: Vec<Info> = subs.iter().map(|s| walk(s, depth + 1)).collect();
            let exact = union(infos.iter().map(|i| i.exact.clone()));
            let mut required = common_sets(&infos);
            required.extend(union(
                infos
                    .into_iter()
                    .map(|i| best(i.required.into_iter().chain(i.exact))),
            ));
            required.sort_by_key(|set| std::cmp::Reverse(score(set)));
            required.dedup();
            required.truncate(MAX_SETS);
            Info { exact, required }
        }
    }
}

/// Sets every branch of an alternation requires, whichever matches: a set
/// of the first branch that each other branch has one implying (each of
/// whose strings holds one of it). `\b403\b[^\n]{0,40}\bForbidden\b|\bHTTP/[0-9.]+ 403\b`
/// requires `403`, though its branches' best sets are `forbidden` and
/// `http/`, on a tenth of a log's lines.
fn common_sets(branches: &[Info]) -> Factors {
    let sets = |info: &Info| -> Vec<Vec<String>> {
        let mut sets = info.required.clone();
        sets.extend(info.exact.clone());
        sets.retain(|set| useful(set, 1));
        sets
    };
    let Some((first, rest)) = branches.split_first() else {
        return Vec::new();
    };
    let rest: Vec<Factors> = rest.iter().map(sets).collect();
    sets(first)
        .into_iter()
        .filter(|candidate| {
            rest.iter().all(|sets| {
                sets.iter().any(|set| {
                    set.iter()
                        .all(|s| candidate.iter().any(|c| s.contains(c.as_str())))
                })
            })
        })
        .collect()
}

fn union(sets: impl Iterator<Item = Option<Vec<String>>>) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for set in sets {
        out.extend(set?);
        if out.len() > MAX_SET {
            return None;
        }
    }
    Some(out)
}

fn product(left: &[String], right: &[String]) -> Option<Vec<String>> {
    if left.len() * right.len() > MAX_SET {
        return None;
    }
    let mut out = Vec::with_capacity(left.len() * right.len());
    for l in left {
        for r in right {
            if l.len() + r.len() > MAX_LEN {
                return None;
            }
            out.push(format!("{l}{r}"));
        }
    }
    Some(out)
}

/// The characters of a small class, lower-cased: `[Aa]` (from `(?i)a`) is
/// `a`, `[-_ ]` is three one-character strings. `None` for anything larger
/// or with non-ASCII members other than the case folds of `k` and `s`.
fn class_chars(class: &Class) -> Option<Vec<String>> {
    let ranges: Vec<(u32, u32)> = match class {
        Class::Unicode(u) => u
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect(),
        Class::Bytes(b) => b
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect(),
    };
    let mut chars: Vec<char> = Vec::new();
    for (start, end) in ranges {
        if end - start > 8 {
            return None;
        }
        for c in (start..=end).filter_map(char::from_u32) {
            match c {
                '\u{212A}' => chars.push('k'),
                '\u{017F}' => chars.push('s'),
                c if c.is_ascii() => chars.push(c.to_ascii_lowercase()),
                _ => return None,
            }
        }
    }
    chars.sort_unstable();
    chars.dedup();
    (chars.len() <= 4).then(|| chars.into_iter().map(String::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A big text's sets are read block by block (see [`any_in`]): a
    /// literal across a block's end, at either end of the text, or only
    /// in the last block is found as a search of the whole text finds it.
    #[test]
    fn a_big_text_read_by_blocks_finds_what_a_whole_search_finds() {
        let filler = "x".repeat(5 * BLOCK + 7);
        let set = ["absent-literal", "needle", "other"];
        let whole = |text: &str| {
            set.iter()
                .any(|f| contains_ignore_ascii_case(text.as_bytes(), f.as_bytes()))
        };
        let mut places: Vec<usize> = (1..5).flat_map(|k| k * BLOCK - 6..k * BLOCK + 1).collect();
        places.extend([0, filler.len()]);
        for at in places {
            let text = format!("{}NeEdLe{}", &filler[..at], &filler[at..]);
            assert!(whole(&text) && any_in(text.as_bytes(), &set), "at {at}");
            assert!(may_match(&text, &[vec!["needle"], vec!["xx"]]), "at {at}");
        }
        assert!(!any_in(filler.as_bytes(), &set));
        assert!(!any_in(format!("{filler}needl").as_bytes(), &set));
    }

    /// Sets whose literals share anchors, at one place or at several, and
    /// literals that join another's anchor: [`any_in`]'s plan finds what a
    /// search of each literal finds, in texts made to hold near misses.
    #[test]
    fn shared_anchors_find_what_each_literal_s_search_finds() {
        let sets: [&[&str]; 5] = [
            &[
                "https://api.example.io/v1/alias",
                "https://api.example.io/v1/track",
                "https://events.eu1.example.com/v1/track",
                "https://api.example.io/v2/batch",
            ],
            &["vv", "v", "xvx"],
            &["token expired", "token revoked", "key expired"],
            &["k8s", "kv", "vk"],
            &["/v1/", "v1/", "/v1"],
        ];
        let pieces = [
            "https://api.example.io/v1/",
            "track",
            "TRACK",
            "alias",
            "https://events.eu1.example.com/v1/",
            "v",
            "V",
            "x",
            "k",
            "8s",
            "token ",
            "Expired",
            "revoked",
            "key ",
            "/",
            "1",
            "\n",
        ];
        // A fixed walk over the pieces: every text is checked against a
        // search of each literal alone.
        let mut seed = 7u64;
        let mut outcomes = [0usize; 2];
        for round in 0..4000 {
            let mut text = String::new();
            for _ in 0..(round % 9) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            if round % 500 == 0 {
                text = format!("{}{text}", "y".repeat(3 * BLOCK - 5));
            }
            for set in sets {
                let each = set
                    .iter()
                    .any(|f| find_ignore_ascii_case(text.as_bytes(), f.as_bytes()).is_some());
                assert_eq!(
                    any_in_planned(text.as_bytes(), set),
                    each,
                    "{set:?} in {text:?}"
                );
                outcomes[usize::from(each)] += 1;
            }
        }
        // Both answers, often: the texts test something.
        assert!(outcomes.iter().all(|&n| n > 2000), "{outcomes:?}");
    }

    /// The most selective set.
    fn f(p: &str) -> Option<Vec<String>> {
        pattern_factors(p, 3).map(|sets| sets[0].clone())
    }

    fn v(items: &[&str]) -> Option<Vec<String>> {
        Some(items.iter().map(|s| s.to_string()).collect())
    }

    /// The memchr-anchored search finds a needle exactly where comparing
    /// every window does: needles cut from texts of letters, digits,
    /// punctuation and non-ASCII, at every length and offset, in both cases,
    /// and near misses.
    #[test]
    fn anchored_search_agrees_with_every_window() {
        let naive = |hay: &[u8], needle: &[u8]| {
            needle.is_empty()
                || hay
                    .windows(needle.len())
                    .any(|w| w.eq_ignore_ascii_case(needle))
        };
        let texts = [
            "HTTP/1.1 401 Unauthorized: invalid_client (AADSTS7000215) at api.mypurecloud.com",
            "{\"error\":\"invalid_grant\",\"error_description\":\"Token expired\"}",
            "zz-Zq:x_jÄrger über façade 'QUOTED' \\back, slash/path?x=1&y=2",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
        ];
        for text in texts {
            let hay = text.as_bytes();
            for start in 0..hay.len() {
                for len in 1..=(hay.len() - start).min(12) {
                    let needle = hay[start..start + len].to_ascii_lowercase();
                    for probe in [
                        text.to_string(),
                        text.to_ascii_uppercase(),
                        text.to_ascii_lowercase(),
                    ] {
                        let p = probe.as_bytes();
                        assert_eq!(contains_ignore_ascii_case(p, &needle), naive(p, &needle));
                        // The first place, as a scan from the left finds it.
                        let first = p.windows(len).position(|w| w.eq_ignore_ascii_case(&needle));
                        assert_eq!(find_ignore_ascii_case(p, &needle), first);
                        // The needle with its last byte changed: mostly absent.
                        let mut miss = needle.clone();
                        *miss.last_mut().unwrap() ^= 0x5;
                        assert_eq!(contains_ignore_ascii_case(p, &miss), naive(p, &miss));
                    }
                }
            }
        }
        assert!(contains_ignore_ascii_case(b"abc", b""));
        assert!(!contains_ignore_ascii_case(b"ab", b"abc"));
        assert!(!contains_ignore_ascii_case(b"", b"a"));
    }

    #[test]
    fn literals_and_case() {
        assert_eq!(f("locked"), v(&["locked"]));
        assert_eq!(f("(?i)Account Is Locked"), v(&["account is locked"]));
        assert_eq!(f(r"(?i)\bmissing\b"), v(&["missing"]));
        assert_eq!(f("(?i)kelvin"), v(&["kelvin"]));
        // Needs Unicode: parsed with it.
        assert_eq!(f(r"(?i)\pL+ locked"), v(&[" locked"]));
        // Non-ASCII text only gives its ASCII runs.
        assert_eq!(f("(?i)données invalides"), v(&["es invalides"]));
    }

    #[test]
    fn the_longest_required_piece_wins() {
        assert_eq!(f(r"invalid_\w+ for client"), v(&[" for client"]));
        assert_eq!(f(r"AADSTS\d{5,}"), v(&["aadsts"]));
        assert_eq!(f(r"(?i)token.*expired"), v(&["expired"]));
        assert_eq!(f(r"(?P<code>E\d{7})"), None);
    }

    #[test]
    fn alternations_and_small_classes() {
        assert_eq!(f("(?i)(locked|disabled)"), v(&["disabled", "locked"]));
        assert_eq!(
            f("invalid[_ ]grant"),
            v(&["invalid grant", "invalid_grant"])
        );
        assert_eq!(f("(?i)(locked|a)"), None);
        assert_eq!(f("colou?r"), v(&["color", "colour"]));
    }

    /// A literal every branch holds, in a set of its own or within a
    /// longer one, is required of the alternation, beside the union of
    /// the branches' best sets; one that a branch lacks is not.
    #[test]
    fn what_every_branch_requires_is_required() {
        let sets = |p: &str| pattern_factors(p, 2).unwrap_or_default();
        let forbidden = r"\b403\b[^\n]{0,40}\bForbidden\b|\bHTTP/[0-9.]+ 403\b|\b[Ss]tatus(?: code)?[:= ]+403\b";
        assert!(
            sets(forbidden).contains(&vec!["403".to_string()]),
            "{:?}",
            sets(forbidden)
        );
        assert!(
            sets(forbidden)
                .iter()
                .any(|set| set.contains(&"forbidden".to_string())),
            "{:?}",
            sets(forbidden)
        );
        let one_lacks = r"\b403\b[^\n]{0,40}\bForbidden\b|\bHTTP/[0-9.]+ 401\b";
        assert!(!sets(one_lacks).iter().any(|set| set == &["403"]));
    }

    #[test]
    fn optional_and_unbounded_parts_are_not_required() {
        assert_eq!(f("(?:foo)?bar"), v(&["bar", "foobar"]));
        assert_eq!(f("x*"), None);
        assert_eq!(f(".*"), None);
        assert_eq!(f("(ab)+cde"), v(&["cde"]));
    }

    #[test]
    fn every_match_contains_a_factor() {
        // Property check on a few patterns and texts: a factor-less text
        // never matches.
        let cases = [
            (r"(?i)user (?P<u>\w+) is locked", "USER bob IS LOCKED now"),
            (r"(?i)(?:status|code)[=: ]+40[13]", "Code: 401"),
            (r"\b(?:ECONNRESET|EPIPE)\b", "write EPIPE"),
            (
                r"(?im)^[ \t]*(?:unauthorized|forbidden)[ \t]*$",
                "  FORBIDDEN",
            ),
        ];
        for (pattern, text) in cases {
            let re = regex::Regex::new(pattern).unwrap();
            assert!(re.is_match(text), "{pattern}");
            let sets = pattern_factors(pattern, 1).expect(pattern);
            let lower = text.to_ascii_lowercase();
            for set in &sets {
                assert!(
                    set.iter().any(|f| lower.contains(f.as_str())),
                    "{pattern}: {set:?}"
                );
            }
        }
    }

    #[test]
    fn every_piece_is_required() {
        let mut sets =
            pattern_factors(r"(?i)\bclient\b[^\n]{0,60}\b(disabled|inactive)\b", 3).unwrap();
        sets.sort();
        assert_eq!(
            sets,
            [
                v(&["client"]).unwrap(),
                v(&["disabled", "inactive"]).unwrap()
            ]
        );
        // Non-ASCII text: each ASCII run is required.
        let sets = pattern_factors("Connexion refusée par le serveur", 3).unwrap();
        assert!(
            sets.contains(&vec!["connexion refus".to_string()]),
            "{sets:?}"
        );
        assert!(
            sets.contains(&vec!["e par le serveur".to_string()]),
            "{sets:?}"
        );
    }

    #[test]
    fn ascii_runs() {
        assert_eq!(
            ascii_factor("données invalides", 3).as_deref(),
            Some("es invalides")
        );
        assert_eq!(ascii_factor("é", 1), None);
    }
}
