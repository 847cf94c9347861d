//! Which of a set of literals occur in a text, ASCII-case-insensitively,
//! at a cost that suits the amount of text.
//!
//! An Aho-Corasick automaton over hundreds of literals takes milliseconds to
//! build: more than a pasted body takes to analyse. So the first texts are
//! searched with a table of the literals' first two bytes (built in
//! microseconds; each text position costs a bit test), and the automaton is
//! built only once the texts searched add up to enough that it pays (a big
//! log). Both find the same literals, so nothing downstream can tell which
//! one ran.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::runs::Runs;
use foldhash::HashMap;

/// Text searched before the automaton is built, at least; more when the
/// literals are many (the automaton costs about their total length).
const MIN_TEXT_BEFORE_AUTOMATON: usize = 64 << 10;
const TEXT_PER_LITERAL_BYTE: usize = 16;

/// [`LiteralSet::find_narrowing`]: the head of a text searched for every
/// literal, and the size of text from which narrowing pays.
const PROBE: usize = 64 << 10;
const NARROW_FROM: usize = 4 * PROBE;
/// A narrowed automaton is a DFA up to this many literals (the built-in
/// scanner's 591 take 2 MB), else of the set's kind: a DFA grows with the
/// literals, and ten times the rules would make it tens of MB.
const NARROWED_DFA_MAX: usize = 1024;
/// ... and once this much text has been searched narrowed: the DFA of the
/// built-in scanner takes about 15 ms to build (a fifth of a 1 MiB log's
/// run) and saves about 5 ms a MiB.
const NARROWED_DFA_FROM: usize = 4 << 20;

/// An automaton over some of the set's literals.
struct Narrowed {
    /// The set's ids of its literals, by its own pattern id (sorted).
    ids: Vec<u32>,
    automaton: AhoCorasick,
    dfa: bool,
}

pub struct LiteralSet {
    /// ASCII-lower-cased, by id.
    literals: Runs<u8>,
    /// One-byte literals' ids, by byte (empty when there are none): looked
    /// up at every byte of a text searched with the table.
    single: Vec<Vec<u32>>,
    /// A bit per two-byte prefix (lower-cased) some literal starts with.
    prefix_bits: Vec<u64>,
    /// With a fast hash: looked up at every position whose prefix some
    /// literal has (SipHash there was a fifth of a table search). The
    /// range of `prefixed` holding the ids of the literals with a prefix.
    by_prefix: HashMap<u16, (u32, u32)>,
    /// Ids of the literals of two bytes or more, by their prefix (each
    /// prefix's in id order): one list rather than one per prefix, as
    /// start-up builds a set of some 2,000 literals.
    prefixed: Vec<u32>,
    /// Empty literals: they occur in every text.
    empty: Vec<u32>,
    /// Bytes searched with the table so far, and the point at which the
    /// automaton is built instead.
    searched: AtomicUsize,
    switch_at: usize,
    kind: AhoCorasickKind,
    /// `None` when it could not be built (absurd sizes): the table is exact
    /// anyway.
    automaton: OnceLock<Option<AhoCorasick>>,
    /// The automaton over the literals still wanted after a probe (see
    /// [`LiteralSet::find_narrowing`]): one per set, as a run's chunks
    /// mostly want the same.
    narrowed: Mutex<Option<Arc<Narrowed>>>,
    /// Bytes searched by narrowed automata so far.
    narrowed_searched: AtomicUsize,
    longest: usize,
}

fn prefix(a: u8, b: u8) -> u16 {
    u16::from_le_bytes([a.to_ascii_lowercase(), b.to_ascii_lowercase()])
}

/// `pairs` ordered by prefix, keeping their order within a prefix: a
/// radix sort, one stable pass per byte of the prefix. Comparison sorts
/// of the start-up's sets (some 5,000 literals) were 0.8 M instructions of
/// a paste's run.
fn sorted_by_prefix(pairs: Vec<(u16, u32)>) -> Vec<(u16, u32)> {
    let mut from = pairs;
    let mut to = vec![(0u16, 0u32); from.len()];
    for shift in [0, 8] {
        let digit = |p: u16| usize::from((p >> shift) as u8);
        let mut starts = [0usize; 257];
        for &(p, _) in &from {
            starts[digit(p) + 1] += 1;
        }
        for d in 1..257 {
            starts[d] += starts[d - 1];
        }
        for &pair in &from {
            let d = digit(pair.0);
            to[starts[d]] = pair;
            starts[d] += 1;
        }
        std::mem::swap(&mut from, &mut to);
    }
    from
}

impl LiteralSet {
    /// `kind` is the automaton's, when one is built.
    pub fn new<S: AsRef<str>>(literals: &[S], kind: AhoCorasickKind) -> Self {
        let total: usize = literals.iter().map(|l| l.as_ref().len()).sum();
        let mut bytes = Vec::with_capacity(total);
        let mut ends = Vec::with_capacity(literals.len());
        for l in literals {
            bytes.extend_from_slice(l.as_ref().as_bytes());
            ends.push(bytes.len() as u32);
        }
        bytes.make_ascii_lowercase();
        // One buffer, not one per literal (see `super::runs`).
        let literals = Runs::from_parts(bytes, ends);
        let mut single: Vec<Vec<u32>> = Vec::new();
        let mut prefix_bits = vec![0u64; 1 << 10];
        let mut prefixed: Vec<(u16, u32)> = Vec::with_capacity(literals.len());
        let mut empty = Vec::new();
        let longest = literals.iter().map(<[u8]>::len).max().unwrap_or(0);
        for (id, l) in literals.iter().enumerate() {
            let id = id as u32;
            match l {
                [] => empty.push(id),
                [a] => {
                    single.resize_with(256, Vec::new);
                    single[usize::from(*a)].push(id);
                }
                [a, b, ..] => {
                    let p = prefix(*a, *b);
                    prefix_bits[usize::from(p >> 6)] |= 1 << (p & 63);
                    prefixed.push((p, id));
                }
            }
        }
        // Each prefix's ids in id order (they were pushed in id order).
        let prefixed = sorted_by_prefix(prefixed);
        let mut by_prefix: HashMap<u16, (u32, u32)> = HashMap::default();
        for (at, &(p, _)) in prefixed.iter().enumerate() {
            let at = at as u32;
            by_prefix.entry(p).or_insert((at, at)).1 = at + 1;
        }
        LiteralSet {
            literals,
            single,
            prefix_bits,
            by_prefix,
            prefixed: prefixed.into_iter().map(|(_, id)| id).collect(),
            empty,
            searched: AtomicUsize::new(0),
            switch_at: MIN_TEXT_BEFORE_AUTOMATON.max(total * TEXT_PER_LITERAL_BYTE),
            kind,
            automaton: OnceLock::new(),
            narrowed: Mutex::new(None),
            narrowed_searched: AtomicUsize::new(0),
            longest,
        }
    }

    /// Calls `found` with the id of each literal occurring in `text` (a
    /// literal may be reported more than once) until it returns `false`.
    pub fn find(&self, text: &str, mut found: impl FnMut(usize) -> bool) {
        if self.literals.is_empty() {
            return;
        }
        if let Some(automaton) = self.automaton(text.len()) {
            for m in automaton.find_overlapping_iter(text) {
                if !found(m.pattern().as_usize()) {
                    return;
                }
            }
            return;
        }
        self.find_by_table(text.as_bytes(), &mut |id, _| found(id));
    }

    /// Like [`LiteralSet::find`], with where each match starts: in order of
    /// their start while the table is searched, of their end once the
    /// automaton is (a literal holds no line break, so either order keeps
    /// lines in order).
    pub fn find_with_start(&self, text: &str, mut found: impl FnMut(usize, usize) -> bool) {
        if self.literals.is_empty() {
            return;
        }
        if let Some(automaton) = self.automaton(text.len()) {
            for m in automaton.find_overlapping_iter(text) {
                if !found(m.pattern().as_usize(), m.start()) {
                    return;
                }
            }
            return;
        }
        self.find_by_table(text.as_bytes(), &mut found);
    }

    /// Like [`LiteralSet::find`], for a caller that stops wanting most
    /// literals once it has seen them (or what they stand for) once: after
    /// the text's head, the rest is searched with an automaton that leaves out
    /// the literals the head held and `wanted` no longer does. In a big log
    /// a few common literals (`https://`, `error`) occur on every other line
    /// and cost an automaton walk a stop each, long after the first one
    /// settled all they could. Every wanted literal that occurs is still
    /// reported (an unwanted one may be too), so the caller sees what a
    /// plain `find` would have made it decide.
    pub fn find_narrowing(
        &self,
        text: &str,
        wanted: impl Fn(usize) -> bool,
        mut found: impl FnMut(usize) -> bool,
    ) {
        if text.len() < NARROW_FROM || self.literals.is_empty() {
            return self.find(text, found);
        }
        let bytes = text.as_bytes();
        let Some(full) = self.automaton(text.len()) else {
            return self.find_by_table(bytes, &mut |id, _| found(id));
        };
        // The head up to a line end, so the rest starts at a line (any
        // split is exact: the rest overlaps the head by a literal's length).
        let head_end =
            memchr::memchr(b'\n', &bytes[PROBE..]).map_or(bytes.len(), |p| PROBE + p + 1);
        let mut in_head = vec![false; self.literals.len()];
        for m in full.find_overlapping_iter(&bytes[..head_end]) {
            in_head[m.pattern().as_usize()] = true;
            if !found(m.pattern().as_usize()) {
                return;
            }
        }
        if head_end == bytes.len() {
            return;
        }
        if !(0..self.literals.len()).any(&wanted) {
            return;
        }
        // Only what the head showed to be common and no longer wanted is
        // dropped, so that the automaton serves later chunks too (their
        // heads settle other rare literals, but the same common ones).
        let ids: Vec<u32> = (0..self.literals.len() as u32)
            .filter(|&id| !in_head[id as usize] || wanted(id as usize))
            .collect();
        let rest = &bytes[head_end.saturating_sub(self.longest.saturating_sub(1))..];
        match self.narrowed(&ids, rest.len()) {
            // Lower-cased, for an automaton that need not fold case: a
            // DFA half the size of one that folds, and faster.
            Some(n) => find_lowered(&n.automaton, self.longest, rest, |pattern, _| {
                found(n.ids[pattern] as usize)
            }),
            None => {
                for m in full.find_overlapping_iter(rest) {
                    if !found(m.pattern().as_usize()) {
                        return;
                    }
                }
            }
        }
    }

    /// A narrowed automaton over at least the literals `ids` (sorted): the
    /// kept one if it has them all, else a new one over them and the kept
    /// one's, which replaces it; `None` when that would be the full set or
    /// cannot be built. Few literals drop out, but they are the ones that
    /// occur everywhere: a rare literal that one chunk's head happened to
    /// hold is wanted again in the next chunk, and the union keeps it, so
    /// after a few chunks the kept automaton serves every chunk (it used to
    /// be given up for the full one). It is of the set's kind until enough
    /// text has been searched for a DFA to pay (see [`NARROWED_DFA_FROM`]).
    fn narrowed(&self, ids: &[u32], text_len: usize) -> Option<Arc<Narrowed>> {
        let searched = self
            .narrowed_searched
            .fetch_add(text_len, Ordering::Relaxed)
            + text_len;
        let dfa_due = searched >= NARROWED_DFA_FROM;
        let mut union = ids.to_vec();
        {
            let kept = self.narrowed.lock().ok()?;
            if let Some(n) = kept.as_ref() {
                let upgrade = dfa_due && !n.dfa && n.ids.len() <= NARROWED_DFA_MAX;
                if !upgrade && ids.iter().all(|id| n.ids.binary_search(id).is_ok()) {
                    return Some(n.clone());
                }
                union.extend(&n.ids);
                union.sort_unstable();
                union.dedup();
            }
        }
        if union.len() == self.literals.len() {
            return None;
        }
        let dfa = dfa_due && union.len() <= NARROWED_DFA_MAX;
        let kind = if dfa { AhoCorasickKind::DFA } else { self.kind };
        // Case-sensitive: it searches lower-cased text for lower-cased literals.
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(kind))
            .build(union.iter().map(|&id| self.literals.get(id as usize)))
            .ok()?;
        let n = Arc::new(Narrowed {
            ids: union,
            automaton,
            dfa,
        });
        *self.narrowed.lock().ok()? = Some(n.clone());
        Some(n)
    }

    /// Whether a narrowed automaton is kept (for tests).
    #[cfg(test)]
    pub fn narrowed_kept(&self) -> bool {
        self.narrowed.lock().is_ok_and(|k| k.is_some())
    }

    /// Whether any literal occurs in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        let mut any = false;
        self.find(text, |_| {
            any = true;
            false
        });
        any
    }

    /// The automaton, once enough text has been searched to pay for it.
    /// Texts are counted before they are searched: a first big text builds
    /// it at once.
    fn automaton(&self, text_len: usize) -> Option<&AhoCorasick> {
        if let Some(built) = self.automaton.get() {
            return built.as_ref();
        }
        let searched = self.searched.fetch_add(text_len, Ordering::Relaxed) + text_len;
        if searched < self.switch_at {
            return None;
        }
        self.automaton
            .get_or_init(|| {
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .kind(Some(self.kind))
                    .build(self.literals.iter())
                    .ok()
            })
            .as_ref()
    }

    fn find_by_table(&self, text: &[u8], found: &mut impl FnMut(usize, usize) -> bool) {
        for &id in &self.empty {
            if !found(id as usize, 0) {
                return;
            }
        }
        let singles = !self.single.is_empty();
        for (i, &b) in text.iter().enumerate() {
            if singles {
                for &id in &self.single[usize::from(b.to_ascii_lowercase())] {
                    if !found(id as usize, i) {
                        return;
                    }
                }
            }
            let Some(&next) = text.get(i + 1) else {
                break;
            };
            let p = prefix(b, next);
            if self.prefix_bits[usize::from(p >> 6)] & (1 << (p & 63)) == 0 {
                continue;
            }
            let (from, to) = self.by_prefix[&p];
            for &id in &self.prefixed[from as usize..to as usize] {
                let literal = self.literals.get(id as usize);
                if text.len() - i >= literal.len()
                    && text[i..i + literal.len()].eq_ignore_ascii_case(literal)
                    && !found(id as usize, i)
                {
                    return;
                }
            }
        }
    }
}

/// Text lower-cased at a time by [`find_lowered`]: small enough to stay in
/// cache, big enough that the overlap between blocks costs nothing.
const LOWERED_BLOCK: usize = 64 << 10;

/// Calls `found` with (pattern id, start) of each match of `automaton` in
/// `text` read ASCII-lower-cased, in order of their end, until it returns
/// `false`. The automaton is built over lower-cased literals without case
/// folding (which makes it smaller and faster than one that folds); the
/// text is lower-cased a block at a time into a buffer each thread keeps
/// (lower-casing keeps every offset). Blocks overlap by `longest - 1` bytes
/// and each match is reported by the block it ends in, so a match across
/// a block boundary is found once.
pub(crate) fn find_lowered(
    automaton: &AhoCorasick,
    longest: usize,
    text: &[u8],
    mut found: impl FnMut(usize, usize) -> bool,
) {
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let mut search = |buffer: &mut Vec<u8>| {
        let back = longest.saturating_sub(1);
        let mut at = 0;
        while at < text.len() {
            let end = (at + LOWERED_BLOCK).min(text.len());
            let from = at.saturating_sub(back);
            buffer.clear();
            buffer.extend_from_slice(&text[from..end]);
            buffer.make_ascii_lowercase();
            for m in automaton.find_overlapping_iter(buffer.as_slice()) {
                // Ended in the block before, which reported it.
                if at > 0 && from + m.end() <= at {
                    continue;
                }
                if !found(m.pattern().as_usize(), from + m.start()) {
                    return;
                }
            }
            at = end;
        }
    };
    BUFFER.with(|buffer| match buffer.try_borrow_mut() {
        Ok(mut buffer) => search(&mut buffer),
        // Already in use further up the stack.
        Err(_) => search(&mut Vec::new()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// (literal id, start) of every match.
    fn by_table(set: &LiteralSet, text: &str) -> BTreeSet<(usize, usize)> {
        let mut out = BTreeSet::new();
        set.find_by_table(text.as_bytes(), &mut |id, start| {
            out.insert((id, start));
            true
        });
        out
    }

    fn by_automaton(literals: &[&str], text: &str) -> BTreeSet<(usize, usize)> {
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(literals)
            .unwrap();
        ac.find_overlapping_iter(text)
            .map(|m| (m.pattern().as_usize(), m.start()))
            .collect()
    }

    /// The radix sort orders as a sort of the pairs does when they come
    /// in id order (prefixes that differ in either byte, repeats).
    #[test]
    fn sorted_by_prefix_is_the_pairs_sorted() {
        let prefixes = [
            0x6f6cu16, 0x0101, 0xff00, 0x00ff, 0x6f6c, 0x6c6f, 0, 0xffff, 0x0101,
        ];
        let pairs: Vec<(u16, u32)> = (0..600u32)
            .map(|id| (prefixes[(id as usize * 7) % prefixes.len()], id))
            .collect();
        let mut sorted = pairs.clone();
        sorted.sort_unstable();
        assert_eq!(sorted_by_prefix(pairs), sorted);
        assert_eq!(sorted_by_prefix(Vec::new()), Vec::new());
    }

    /// Every match, where it starts (the parse prefilter places matches on
    /// their lines by it).
    #[test]
    fn the_table_finds_what_the_automaton_finds() {
        let literals = [
            "locked",
            "LOCK",
            "ck",
            "k",
            "invalid_grant",
            "grant",
            "é",
            "ÉTÉ",
            "x",
            "xx",
            "aadsts50",
            "50126",
            "s5",
        ];
        let texts = [
            "",
            "k",
            "Account LOCKED out",
            "error=invalid_GRANT aadsts50126",
            "Étéé été xxx",
            "no match here at all",
            "xk",
        ];
        let set = LiteralSet::new(&literals, AhoCorasickKind::ContiguousNFA);
        for text in texts {
            assert_eq!(
                by_table(&set, text),
                by_automaton(&literals, text),
                "in {text:?}"
            );
        }
    }

    #[test]
    fn big_texts_switch_to_the_automaton_with_the_same_answers() {
        let literals = ["needle", "hay"];
        let set = LiteralSet::new(&literals, AhoCorasickKind::ContiguousNFA);
        let big = format!("{}NEEDLE", "h".repeat(MIN_TEXT_BEFORE_AUTOMATON));
        let mut seen = Vec::new();
        for text in ["hay", big.as_str(), "a needle in hay"] {
            let mut found = BTreeSet::new();
            set.find(text, |id| {
                found.insert(id);
                true
            });
            seen.push(found);
        }
        assert!(set.automaton.get().is_some(), "built after the big text");
        assert_eq!(seen[0], BTreeSet::from([1]));
        assert_eq!(seen[1], BTreeSet::from([0]));
        assert_eq!(seen[2], BTreeSet::from([0, 1]));
    }

    /// Narrowing reports every wanted literal a plain search finds, in a
    /// text big enough to narrow: whatever the head held, and for a
    /// literal that straddles the end of the head.
    #[test]
    fn narrowing_finds_every_wanted_literal() {
        let literals = [
            "https://",
            "error",
            "AADSTS7000222",
            "invalid_grant",
            "grant",
        ];
        let set = LiteralSet::new(&literals, AhoCorasickKind::DFA);
        let line = "2026-11-24 INFO GET https://a.example/x error_count=0\n";
        let mut text = line.repeat(NARROW_FROM / line.len() + 1);
        // A rare literal at the head's end, and one far after it.
        let head_end = PROBE + memchr::memchr(b'\n', &text.as_bytes()[PROBE..]).unwrap() + 1;
        text.insert_str(head_end - 1, " AADSTS7000222");
        text.push_str("then INVALID_GRANT\n");
        let all = |wanted: &dyn Fn(usize) -> bool| {
            let mut out = BTreeSet::new();
            set.find_narrowing(&text, wanted, |id| {
                out.insert(id);
                true
            });
            out
        };
        let mut plain = BTreeSet::new();
        set.find(&text, |id| {
            plain.insert(id);
            true
        });
        assert_eq!(plain, BTreeSet::from([0, 1, 2, 3, 4]));
        // The common literals are found in the head: only the rare are wanted after it.
        let rare = |id: usize| id >= 2;
        let narrowed = all(&rare);
        assert!(narrowed.is_superset(&plain), "{narrowed:?}");
        assert!(set.narrowed_kept(), "a narrowed automaton was built");
        assert_eq!(all(&|_| true), plain);
        assert_eq!(all(&|_| false), BTreeSet::from([0, 1, 2]), "the head alone");
    }

    /// Block by block, lower-cased: the matches a case-folding search
    /// finds, once each, also those across a block boundary.
    #[test]
    fn lowered_blocks_find_what_a_folding_search_finds() {
        let literals = ["Needle", "le\nne", "x", "LONGER-LITERAL"];
        let lower: Vec<String> = literals.iter().map(|l| l.to_ascii_lowercase()).collect();
        let cs = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::DFA))
            .build(&lower)
            .unwrap();
        let folding = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(literals)
            .unwrap();
        // The first boundary falls inside a literal, the others anywhere.
        let mut text = "h".repeat(LOWERED_BLOCK - 5);
        while text.len() < 3 * LOWERED_BLOCK {
            text.push_str("LONGER-literal hay NEEDLE xx needLE\nNEedle ");
        }
        let mut expected: Vec<(usize, usize)> = folding
            .find_overlapping_iter(&text)
            .map(|m| (m.pattern().as_usize(), m.start()))
            .collect();
        let mut got = Vec::new();
        find_lowered(&cs, 14, text.as_bytes(), |pattern, start| {
            got.push((pattern, start));
            true
        });
        assert!(got.contains(&(3, LOWERED_BLOCK - 5)), "across the boundary");
        expected.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, expected);
    }

    #[test]
    fn stops_when_told() {
        let set = LiteralSet::new(&["a", "b"], AhoCorasickKind::ContiguousNFA);
        let mut calls = 0;
        set.find("ababab", |_| {
            calls += 1;
            false
        });
        assert_eq!(calls, 1);
    }
}
