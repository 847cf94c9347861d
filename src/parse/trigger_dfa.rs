//! The parse prefilter's automaton for big texts: an Aho-Corasick DFA over
//! the ASCII-lower-cased triggers, which reads the text as it is (its byte
//! classes map an upper-case letter to its lower-case one).
//!
//! Written here rather than taken from aho-corasick, whose DFA fills each
//! missing transition by walking the NFA's failure chain: 20 M instructions
//! to build for the ~240 triggers and provider words (callgrind), as much as
//! searching a 1 MiB log. Filled breadth first from the failure state's row,
//! this one builds in under 4 M and searches with no lower-cased copy.
//! aho-corasick's contiguous NFA (3 M to build) searched 2.5 times slower,
//! and regex-automata's lazy DFA, over the triggers as one set, 4 times.

/// Row values with this bit end at least one trigger.
const ENDS: u32 = 1 << 31;

pub(crate) struct TriggerDfa {
    /// Each byte's class: the distinct bytes of the triggers get one each
    /// (an upper-case letter its lower-case one's), every other byte 0.
    classes: [u16; 256],
    /// Transitions per state (the number of classes).
    stride: usize,
    /// By state row (the state times `stride`) plus class: the next
    /// state's row, with [`ENDS`] set when it ends triggers.
    next: Vec<u32>,
    /// By state: the range of `ends` it ends (its own and its failures').
    ends_of: Vec<(u32, u32)>,
    ends: Vec<u32>,
    lens: Vec<u32>,
}

impl TriggerDfa {
    /// `None` when the table would not fit its 31-bit rows (never for real
    /// data: a billion transitions). No trigger is empty (one that is
    /// admits every line, and the prefilter searches for none).
    pub(crate) fn new(triggers: &[String]) -> Option<Self> {
        let lowered: Vec<Vec<u8>> = triggers
            .iter()
            .map(|t| t.to_ascii_lowercase().into_bytes())
            .collect();
        let mut classes = [0u16; 256];
        let mut stride = 1;
        for &b in lowered.iter().flatten() {
            if classes[usize::from(b)] == 0 {
                classes[usize::from(b)] = stride;
                stride += 1;
            }
        }
        for b in b'A'..=b'Z' {
            classes[usize::from(b)] = classes[usize::from(b.to_ascii_lowercase())];
        }
        let stride = usize::from(stride);
        // The trie, state 0 its root: `child` holds a child's state (0: none,
        // as no edge leads back to the root).
        let mut child: Vec<u32> = vec![0; stride];
        let mut own: Vec<Vec<u32>> = vec![Vec::new()];
        for (id, t) in lowered.iter().enumerate() {
            let mut state = 0;
            for &b in t {
                let at = state * stride + usize::from(classes[usize::from(b)]);
                if child[at] == 0 {
                    child[at] = u32::try_from(own.len()).ok()?;
                    own.push(Vec::new());
                    child.resize(own.len() * stride, 0);
                }
                state = child[at] as usize;
            }
            own[state].push(u32::try_from(id).ok()?);
        }
        let states = own.len();
        if states.checked_mul(stride)? >= ENDS as usize {
            return None;
        }
        // Breadth first, so a state's failure (shallower) has its full row
        // and its ends when the state is reached: what the trie lacks, the
        // state does as its failure does.
        let mut next = vec![0u32; states * stride];
        let mut fail = vec![0usize; states];
        let mut ends_of: Vec<Vec<u32>> = own;
        let mut queue = std::collections::VecDeque::new();
        next[..stride].copy_from_slice(&child[..stride]);
        queue.extend(
            child[..stride]
                .iter()
                .filter(|&&c| c != 0)
                .map(|&c| c as usize),
        );
        while let Some(state) = queue.pop_front() {
            let failure = fail[state];
            let inherited = ends_of[failure].clone();
            ends_of[state].extend(inherited);
            let (row, failure_row) = (state * stride, failure * stride);
            next.copy_within(failure_row..failure_row + stride, row);
            for (class, &to) in child[row..row + stride].iter().enumerate() {
                if to != 0 {
                    fail[to as usize] = next[failure_row + class] as usize;
                    next[row + class] = to;
                    queue.push_back(to as usize);
                }
            }
        }
        // States become rows, flagged when they end triggers.
        let rows: Vec<u32> = (ends_of.iter().enumerate())
            .map(|(state, ends)| (state * stride) as u32 | if ends.is_empty() { 0 } else { ENDS })
            .collect();
        for to in &mut next {
            *to = rows[*to as usize];
        }
        let mut ends = Vec::new();
        let ends_of = ends_of
            .iter()
            .map(|of| {
                let from = ends.len() as u32;
                ends.extend_from_slice(of);
                (from, ends.len() as u32)
            })
            .collect();
        Some(TriggerDfa {
            classes,
            stride,
            next,
            ends_of,
            ends,
            lens: lowered.iter().map(|t| t.len() as u32).collect(),
        })
    }

    /// Calls `found` with the trigger (its index in `new`'s) and start of
    /// each match in `text`, ASCII case-insensitively, in order of their
    /// end, overlapping ones included.
    pub(crate) fn find(&self, text: &[u8], mut found: impl FnMut(usize, usize)) {
        let (next, classes) = (self.next.as_slice(), &self.classes);
        let mut row = 0;
        let mut at = 0;
        while at < text.len() {
            // To the next state that ends triggers, in a loop that keeps its
            // few values in registers (with the reporting inlined it walked
            // a quarter slower).
            let mut to = 0;
            for &b in &text[at..] {
                to = next[row + usize::from(classes[usize::from(b)])];
                row = (to & !ENDS) as usize;
                at += 1;
                if to & ENDS != 0 {
                    break;
                }
            }
            if to & ENDS != 0 {
                self.report(row, at, &mut found);
            }
        }
    }

    /// Whether `text` holds a trigger: [`TriggerDfa::find`] stopped at the
    /// first.
    pub(super) fn is_match(&self, text: &[u8]) -> bool {
        let mut row = 0;
        for &b in text {
            let to = self.next[row + usize::from(self.classes[usize::from(b)])];
            if to & ENDS != 0 {
                return true;
            }
            row = to as usize;
        }
        false
    }

    /// Reports the triggers the state at `row` ends, where they end.
    #[inline(never)]
    fn report(&self, row: usize, end: usize, found: &mut impl FnMut(usize, usize)) {
        let (from, until) = self.ends_of[row / self.stride];
        for &id in &self.ends[from as usize..until as usize] {
            found(id as usize, end - self.lens[id as usize] as usize);
        }
    }
}

#[cfg(test)]
mod tests {
    // The prefilter's own triggers, over every fixture and field case, are
    // tested in `parse::tests`.
    use super::*;
    use std::collections::BTreeSet;

    fn by_dfa(triggers: &[String], text: &str) -> BTreeSet<(usize, usize)> {
        let mut out = BTreeSet::new();
        let mut last_end = 0;
        TriggerDfa::new(triggers)
            .unwrap()
            .find(text.as_bytes(), |id, start| {
                let end = start + triggers[id].len();
                assert!(end >= last_end, "matches out of order");
                last_end = end;
                assert!(out.insert((id, start)), "{id} at {start} twice");
            });
        out
    }

    fn by_aho_corasick(triggers: &[String], text: &str) -> BTreeSet<(usize, usize)> {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(triggers)
            .unwrap()
            .find_overlapping_iter(text)
            .map(|m| (m.pattern().as_usize(), m.start()))
            .collect()
    }

    /// Overlaps, a trigger inside another, the same trigger in two cases,
    /// non-ASCII bytes and upper-case text.
    #[test]
    fn finds_what_aho_corasick_finds() {
        let triggers: Vec<String> = [
            "error", "Error", "err", "rror:", "r", "> ", ">", "é", "café", "http/", "tp/1", "a\nb",
        ]
        .map(String::from)
        .to_vec();
        let text = "ERROR: Error error: rrror:> > >> CAFÉ café Café HTTP/1.1 http/2 a\nb A\nB é";
        let found = by_dfa(&triggers, text);
        assert_eq!(found, by_aho_corasick(&triggers, text));
        assert!(found.len() > 30, "{}", found.len());
    }

    #[test]
    fn finds_nothing_without_triggers() {
        let triggers = vec!["needle".to_string()];
        assert!(by_dfa(&triggers, "haystack NEEDL eedle").is_empty());
        assert_eq!(by_dfa(&[], "anything").len(), 0);
    }
}
