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

/// Bytes walked per step of [`TriggerDfa::find`]'s loop, which tests
/// whether any of them ended a trigger once per step.
const STEP: usize = 8;

pub(crate) struct TriggerDfa {
    /// Each byte's class: the distinct bytes of the triggers get one each
    /// (an upper-case letter its lower-case one's), every other byte 0.
    /// At most 231 classes: the 256 bytes less the 26 upper-case letters,
    /// plus the class of the others.
    classes: [u8; 256],
    /// Slots per state in `next`: the classes plus at least one more, even.
    block: usize,
    /// By a state's base plus a byte's class: the next state's base. A
    /// state's base is its index times `block`, plus 1 when it ends
    /// triggers: its transitions then start one slot later in its block.
    /// So a base indexes the table as it is, and an OR of the bases a
    /// step went through tells whether one ended triggers.
    next: Vec<u32>,
    /// By state: the range of `ends` it ends (its own and its failures').
    ends_of: Vec<(u32, u32)>,
    ends: Vec<u32>,
    lens: Vec<u32>,
}

impl TriggerDfa {
    /// `None` when the table would not fit 32-bit bases (never for real
    /// data: a billion transitions). No trigger is empty (one that is
    /// admits every line, and the prefilter searches for none).
    pub(crate) fn new(triggers: &[String]) -> Option<Self> {
        let lowered: Vec<Vec<u8>> = triggers
            .iter()
            .map(|t| t.to_ascii_lowercase().into_bytes())
            .collect();
        let mut classes = [0u8; 256];
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
        let block = (stride + 2) & !1;
        u32::try_from(states.checked_mul(block)?).ok()?;
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
        // States become bases, each row moved into its block.
        let bases: Vec<u32> = (ends_of.iter().enumerate())
            .map(|(state, ends)| (state * block + usize::from(!ends.is_empty())) as u32)
            .collect();
        let mut table = vec![0u32; states * block];
        for (state, row) in next.chunks_exact(stride).enumerate() {
            let base = bases[state] as usize;
            for (slot, &to) in table[base..base + stride].iter_mut().zip(row) {
                *slot = bases[to as usize];
            }
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
            block,
            next: table,
            ends_of,
            ends,
            lens: lowered.iter().map(|t| t.len() as u32).collect(),
        })
    }

    /// The base of the state `byte` leads to from the state at `base`.
    #[inline(always)]
    fn step(&self, base: u32, byte: u8) -> u32 {
        let at = base as usize + usize::from(self.classes[usize::from(byte)]);
        debug_assert!(at < self.next.len());
        // SAFETY: every base `next` holds, and the root's (0), is a
        // state's: its index times `block` plus 0 or 1, and a class is
        // less than `block - 1`, so `at` is inside that state's block,
        // which `next` holds whole.
        unsafe { *self.next.get_unchecked(at) }
    }

    /// Calls `found` with the trigger (its index in `new`'s) and start of
    /// each match in `text`, ASCII case-insensitively, in order of their
    /// end, overlapping ones included; stops when `found` returns false.
    pub(crate) fn find(&self, text: &[u8], mut found: impl FnMut(usize, usize) -> bool) {
        let mut base = 0;
        // [`STEP`] bytes at a time, testing the OR of their states' bases
        // once: most steps end no trigger. One that did is walked again
        // byte by byte to report where. (Walking byte by byte with a test
        // at each took about twice the instructions.)
        let (steps, tail) = text.as_chunks::<STEP>();
        for (k, step) in steps.iter().enumerate() {
            let from = base;
            let mut any = 0;
            for &b in step {
                base = self.step(base, b);
                any |= base;
            }
            if any & 1 != 0 && !self.report_within(from, step, k * STEP, &mut found) {
                return;
            }
        }
        self.report_within(base, tail, steps.len() * STEP, &mut found);
    }

    /// Walks `bytes`, which start at `offset` in the text, from the state
    /// at `base`, reporting the triggers they end; false when `found` said
    /// to stop.
    #[inline(never)]
    fn report_within(
        &self,
        mut base: u32,
        bytes: &[u8],
        offset: usize,
        found: &mut impl FnMut(usize, usize) -> bool,
    ) -> bool {
        for (i, &b) in bytes.iter().enumerate() {
            base = self.step(base, b);
            if base & 1 != 0 {
                let end = offset + i + 1;
                let (from, until) = self.ends_of[base as usize / self.block];
                for &id in &self.ends[from as usize..until as usize] {
                    if !found(id as usize, end - self.lens[id as usize] as usize) {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// Whether `text` holds a trigger: [`TriggerDfa::find`] stopped at the
    /// first.
    pub(super) fn is_match(&self, text: &[u8]) -> bool {
        let mut base = 0;
        text.iter().any(|&b| {
            base = self.step(base, b);
            base & 1 != 0
        })
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
                true
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

    /// Each trigger at every start in a filler text of every length up to
    /// four steps: ending at each place of a step, at a step's edges, in
    /// the tail after the last whole step and at the text's end.
    #[test]
    fn finds_a_trigger_ending_anywhere() {
        let triggers: Vec<String> = ["x", "yz", "q0q", "abcdefghijk"].map(String::from).to_vec();
        for len in 0..4 * STEP {
            for (id, t) in triggers.iter().enumerate() {
                for start in (0..len).filter(|s| s + t.len() <= len) {
                    let mut text = "-".repeat(len);
                    text.replace_range(start..start + t.len(), t);
                    let found = by_dfa(&triggers, &text);
                    assert_eq!(found, by_aho_corasick(&triggers, &text), "{text:?}");
                    assert!(found.contains(&(id, start)), "{text:?}");
                }
            }
        }
    }

    /// Several triggers ending in one step, and in every step.
    #[test]
    fn finds_dense_triggers() {
        let triggers: Vec<String> = ["x", "xx", "x-x", "-"].map(String::from).to_vec();
        for len in 0..4 * STEP {
            for text in ["x".repeat(len), "x-".repeat(len), "xx--".repeat(len)] {
                let found = by_dfa(&triggers, &text);
                assert_eq!(found, by_aho_corasick(&triggers, &text), "{text:?}");
            }
        }
    }

    /// A search told to stop reports nothing more, wherever it stops.
    #[test]
    fn stops_when_told() {
        let triggers: Vec<String> = ["ab", "b"].map(String::from).to_vec();
        let dfa = TriggerDfa::new(&triggers).unwrap();
        let text = "ab-".repeat(3 * STEP);
        let mut all = Vec::new();
        dfa.find(text.as_bytes(), |id, start| {
            all.push((id, start));
            true
        });
        assert_eq!(all.len(), 2 * 3 * STEP);
        for wanted in 1..=all.len() {
            let mut got = Vec::new();
            dfa.find(text.as_bytes(), |id, start| {
                got.push((id, start));
                got.len() < wanted
            });
            assert_eq!(got, all[..wanted]);
        }
    }

    #[test]
    fn finds_nothing_without_triggers() {
        let triggers = vec!["needle".to_string()];
        assert!(by_dfa(&triggers, "haystack NEEDL eedle").is_empty());
        assert_eq!(by_dfa(&[], "anything").len(), 0);
    }
}
