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
//! Built with case kept ([`TriggerDfa::case_sensitive`]), it tests a line
//! for a few exact literals in a third of the instructions of
//! aho-corasick's search with its prefilters.

/// Bytes walked per step of [`TriggerDfa::find`]'s loop, which tests
/// whether any of them ended a trigger once per step.
const STEP: usize = 8;

/// Parts of a big text walked side by side (see [`TriggerDfa::find`]).
const LANES: usize = 4;

/// Texts from this size on are walked in [`LANES`] parts.
const LANES_FROM: usize = 16 << 10;

pub(crate) struct TriggerDfa {
    /// Each byte's class: the distinct bytes of the triggers get one each
    /// (an upper-case letter its lower-case one's, case folded), every
    /// other byte 0. Case folded, at most 231 classes: the 256 bytes less
    /// the 26 upper-case letters, plus the class of the others; case kept,
    /// at most 244 (the byte values of UTF-8 text, and the others').
    classes: [u8; 256],
    /// By a state's base plus a byte's class: the next state's base. A
    /// state's base is its index times its block's slots (the classes
    /// plus at least one more, even), plus 1 when it ends
    /// triggers: its transitions then start one slot later in its block.
    /// A state that ends triggers leads here, by every byte, to a last
    /// state that ends none and leads only to itself: once a walk has
    /// ended a trigger, its base stays odd, so a run of steps is tested
    /// once, at its end, with no test or OR at each byte. Such a run is
    /// walked again by `ending_next` to report where.
    next: Vec<u32>,
    /// The transitions of the states that end triggers, which are the
    /// first ones after the root (whose block this holds too, unused),
    /// laid out as in `next`; the slot before a row (its base less 1)
    /// holds the state's index.
    ending_next: Vec<u32>,
    /// By state: the range of `ends` it ends (its own and its failures').
    ends_of: Vec<(u32, u32)>,
    ends: Vec<u32>,
    lens: Vec<u32>,
    /// No trigger holds a line feed: the walk is at its root after each
    /// one, so a text may be cut after a line feed and its parts walked
    /// apart.
    cut_at_lines: bool,
}

impl TriggerDfa {
    /// `None` when the table would not fit 32-bit bases (never for real
    /// data: a billion transitions), or a trigger is empty (one would
    /// admit every line, and the prefilter searches for none; the walk
    /// starts at the root's base, which must end none).
    pub(crate) fn new(triggers: &[String]) -> Option<Self> {
        Self::build(triggers, true)
    }

    /// As [`TriggerDfa::new`], but matching the triggers' case exactly.
    pub(crate) fn case_sensitive(triggers: &[&str]) -> Option<Self> {
        let triggers: Vec<String> = triggers.iter().map(|t| t.to_string()).collect();
        Self::build(&triggers, false)
    }

    /// The bytes of the table [`TriggerDfa::new`] builds for a trie of
    /// `prefixes` distinct prefixes (ASCII case folded) over `bytes`
    /// distinct bytes, without building it: a block (see `build`) per
    /// state, with the root and the state the ending ones lead to (see
    /// `SharedWalk::table_bytes`, which counts them).
    pub(crate) fn table_bytes_of(prefixes: usize, bytes: usize) -> usize {
        let block = Self::block(1 + bytes);
        (prefixes + 2).saturating_mul(block).saturating_mul(4)
    }

    /// The built table's slots (see [`TriggerDfa::table_bytes_of`]).
    #[cfg(test)]
    pub(crate) fn table_len(&self) -> usize {
        self.next.len()
    }

    /// Slots of a state's block for `stride` classes: one more at least
    /// (a row that ends triggers starts one slot in), even.
    fn block(stride: usize) -> usize {
        (stride + 2) & !1
    }

    fn build(triggers: &[String], fold_case: bool) -> Option<Self> {
        if triggers.iter().any(String::is_empty) {
            return None;
        }
        let lowered: Vec<Vec<u8>> = triggers
            .iter()
            .map(|t| {
                if fold_case {
                    t.to_ascii_lowercase().into_bytes()
                } else {
                    t.clone().into_bytes()
                }
            })
            .collect();
        let mut classes = [0u8; 256];
        let mut stride: u8 = 1;
        for &b in lowered.iter().flatten() {
            if classes[usize::from(b)] == 0 {
                classes[usize::from(b)] = stride;
                // Never past a byte: UTF-8 text holds 243 byte values.
                stride = stride.checked_add(1)?;
            }
        }
        if fold_case {
            for b in b'A'..=b'Z' {
                classes[usize::from(b)] = classes[usize::from(b.to_ascii_lowercase())];
            }
        }
        let stride = usize::from(stride);
        // Each state's row of transitions in a block of this many slots
        // (see `next`).
        let block = Self::block(stride);
        // Sorted by their first 8 bytes as one number (big-endian, zeros
        // after), then whole where those are alike: in byte order either
        // way. Compared through the index alone, sorting the 6,400
        // literals of a big log's walk took 4.4 M instructions.
        let head = |t: &[u8]| {
            let mut bytes = [0u8; 8];
            let n = t.len().min(8);
            bytes[..n].copy_from_slice(&t[..n]);
            u64::from_be_bytes(bytes)
        };
        let heads: Vec<u64> = lowered.iter().map(|t| head(t)).collect();
        let mut order: Vec<usize> = (0..lowered.len()).collect();
        order.sort_unstable_by(|&a, &b| {
            heads[a]
                .cmp(&heads[b])
                .then_with(|| lowered[a].cmp(&lowered[b]))
        });
        // The trie, state 0 its root, built from the triggers in order
        // (each adds the states past the prefix it shares with the one
        // before it); a state's edges as a list: its first child, each
        // child's next sibling (0: none, as no edge leads to the root).
        let mut first_child: Vec<u32> = vec![0];
        let mut next_sibling: Vec<u32> = vec![0];
        let mut class_of: Vec<u8> = vec![0];
        let mut own: Vec<Vec<u32>> = vec![Vec::new()];
        let mut path: Vec<u32> = vec![0];
        let mut before: &[u8] = &[];
        for &id in &order {
            let t = &lowered[id];
            let shared = t.iter().zip(before).take_while(|(a, b)| a == b).count();
            path.truncate(shared + 1);
            for &b in &t[shared..] {
                let parent = *path.last()? as usize;
                let state = u32::try_from(own.len()).ok()?;
                next_sibling.push(first_child[parent]);
                first_child[parent] = state;
                first_child.push(0);
                class_of.push(classes[usize::from(b)]);
                own.push(Vec::new());
                path.push(state);
            }
            own[*path.last()? as usize].push(u32::try_from(id).ok()?);
            before = t;
        }
        // Triggers alike but for case end in one state, listed in order.
        own.iter_mut().for_each(|ids| ids.sort_unstable());
        let states = own.len();
        u32::try_from((states + 1).checked_mul(block)?).ok()?;
        // A state's place in the table is fixed when the breadth-first
        // walk reaches it: its failure (shallower) is known by then, and
        // with it whether it ends triggers. Those that do take the places
        // after the root, upwards, the others the places from the last
        // one down, and the two meet. Its row is written once, in its
        // place, when it is taken from the queue: its failure's row (whole,
        // as the failure was taken before it) with its children put in.
        // Built in the trie's order and moved into this one, the table
        // took 28 M instructions for the 11,500 states of a big log's
        // walk, 7 % of a 1 MiB log's run (session 56).
        let absorbing = (states * block + 1) as u32;
        let mut next = vec![absorbing; (states + 1) * block];
        let mut ending_next: Vec<u32> = vec![0; block];
        // By state: its base (the root's is 0) and failure; by place: the
        // state there.
        let mut base = vec![0u32; states];
        let mut fail = vec![0u32; states];
        let mut state_at = vec![0u32; states];
        let mut ends_of = own;
        let (mut ending_places, mut other_places) = (1, states);
        let mut queue = std::collections::VecDeque::with_capacity(states);
        queue.push_back(0u32);
        let mut row = vec![0u32; stride];
        while let Some(state) = queue.pop_front() {
            let state = state as usize;
            // The failure's row, in bases; the root's leads all to itself.
            if state == 0 {
                row.fill(0);
            } else {
                let from = base[fail[state] as usize] as usize;
                let table = if from & 1 == 1 { &ending_next } else { &next };
                row.copy_from_slice(&table[from..from + stride]);
            }
            let mut child = first_child[state];
            while child != 0 {
                let c = child as usize;
                let class = usize::from(class_of[c]);
                // Where the failure's row leads by the child's byte (the
                // root, for the root's children), before the child is put
                // in its place in the row.
                let failure = state_at[row[class] as usize / block] as usize;
                fail[c] = failure as u32;
                if !ends_of[failure].is_empty() {
                    let inherited = ends_of[failure].clone();
                    ends_of[c].extend(inherited);
                }
                let ends = !ends_of[c].is_empty();
                let place = if ends {
                    ending_places += 1;
                    ending_places - 1
                } else {
                    other_places -= 1;
                    other_places
                };
                state_at[place] = child;
                base[c] = (place * block) as u32 + u32::from(ends);
                row[class] = base[c];
                queue.push_back(child);
                child = next_sibling[c];
            }
            // The row in its place: one that ends triggers in
            // `ending_next`, after the slot holding its place (its block
            // in `next` leads only to the absorbing state).
            let at = base[state] as usize;
            if at & 1 == 1 {
                ending_next.resize(ending_next.len().max(at - 1 + block), 0);
                ending_next[at - 1] = (at / block) as u32;
                ending_next[at..at + stride].copy_from_slice(&row);
            } else {
                next[at..at + stride].copy_from_slice(&row);
            }
        }
        drop((fail, base, queue, row, first_child, next_sibling, class_of));
        let mut ends = Vec::new();
        let ends_of = (0..=states)
            .map(|place| {
                let from = ends.len() as u32;
                if let Some(&state) = state_at.get(place) {
                    ends.extend_from_slice(&ends_of[state as usize]);
                }
                (from, ends.len() as u32)
            })
            .collect();
        Some(TriggerDfa {
            classes,
            next,
            ending_next,
            ends_of,
            ends,
            lens: lowered.iter().map(|t| t.len() as u32).collect(),
            cut_at_lines: !lowered.iter().flatten().any(|&b| b == b'\n'),
        })
    }

    /// The base of the state `byte` leads to from the state at `base` in
    /// `next`: the state that ends no trigger leads everywhere when `base`
    /// is of one that ends some.
    #[inline(always)]
    fn step(&self, base: u32, byte: u8) -> u32 {
        let at = base as usize + usize::from(self.classes[usize::from(byte)]);
        debug_assert!(at < self.next.len());
        // SAFETY: every base `next` holds, and the root's (0), is a
        // state's: its index times its block's slots plus 0 or 1, and a class is
        // less than the slots less 1, so `at` is inside that state's block,
        // which `next` holds whole.
        unsafe { *self.next.get_unchecked(at) }
    }

    /// The base of the state `byte` leads to from the state at `base`, an
    /// odd one: a state that ends triggers (the state they lead to in
    /// `next` is never reached here), whose block `ending_next` holds.
    #[inline(always)]
    fn step_from_ending(&self, base: u32, byte: u8) -> u32 {
        self.ending_next[base as usize + usize::from(self.classes[usize::from(byte)])]
    }

    /// Calls `found` with the trigger (its index in `new`'s) and start of
    /// each match in `text`, ASCII case-insensitively, in order of their
    /// end, overlapping ones included; stops when `found` returns false.
    ///
    /// Each byte's step waits for the one before it (a table load): one
    /// walk runs at the latency of the loads, not at the core's pace. A
    /// big text is therefore cut after line feeds into [`LANES`] parts
    /// walked side by side, whose loads overlap; the matches of the later
    /// parts are kept until the parts before them are reported.
    pub(crate) fn find(&self, text: &[u8], mut found: impl FnMut(usize, usize) -> bool) {
        // Kept matches hold 32-bit places (half the memory where every
        // line matches, as in a storm of failures).
        if !self.cut_at_lines || text.len() < LANES_FROM || u32::try_from(text.len()).is_err() {
            self.find_from(0, text, 0, &mut found);
            return;
        }
        let mut cuts = [text.len(); LANES + 1];
        cuts[0] = 0;
        for k in 1..LANES {
            let at = (k * text.len() / LANES).max(cuts[k - 1]);
            cuts[k] = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |p| at + p + 1);
        }
        let parts: [&[u8]; LANES] = std::array::from_fn(|k| &text[cuts[k]..cuts[k + 1]]);
        let side_by_side = parts.iter().map(|p| p.len() / STEP).min().unwrap_or(0);
        let steps: [&[[u8; STEP]]; LANES] =
            parts.map(|part| part[..side_by_side * STEP].as_chunks::<STEP>().0);
        let mut bases = [0u32; LANES];
        // Room for a match every 16 bytes of a part: grown as the walk
        // went, these vectors' growth was 10.5 M of a 16 MB log's 1.5 G
        // instructions (the mixed log has a match every 11 bytes); the
        // room is only touched as it is used.
        let mut later: [Vec<(u32, u32)>; LANES] = std::array::from_fn(|k| {
            Vec::with_capacity(if k == 0 { 0 } else { parts[k].len() / 16 })
        });
        for n in 0..side_by_side {
            let from = bases;
            for (base, steps) in bases.iter_mut().zip(&steps) {
                for &b in &steps[n] {
                    *base = self.step(*base, b);
                }
            }
            if bases.iter().fold(0, |all, b| all | b) & 1 == 0 {
                continue;
            }
            let at = n * STEP;
            if bases[0] & 1 != 0 {
                match self.report_within(from[0], &steps[0][n], at, &mut found) {
                    Some(base) => bases[0] = base,
                    None => return,
                }
            }
            for k in 1..LANES {
                if bases[k] & 1 == 0 {
                    continue;
                }
                let keep = &mut later[k];
                let mut keep = |id: usize, start: usize| {
                    keep.push((id as u32, start as u32));
                    true
                };
                let walked = self.report_within(from[k], &steps[k][n], cuts[k] + at, &mut keep);
                bases[k] = walked.unwrap_or_default();
            }
        }
        let walked = side_by_side * STEP;
        for k in 0..LANES {
            for &(id, start) in &later[k] {
                if !found(id as usize, start as usize) {
                    return;
                }
            }
            let rest = &parts[k][walked..];
            if !self.find_from(bases[k], rest, cuts[k] + walked, &mut found) {
                return;
            }
        }
    }

    /// [`TriggerDfa::find`] over `text`, which starts at `offset`, from
    /// the state at `base`, in one walk; false when `found` said to stop.
    fn find_from(
        &self,
        mut base: u32,
        text: &[u8],
        offset: usize,
        found: &mut impl FnMut(usize, usize) -> bool,
    ) -> bool {
        // [`STEP`] bytes at a time, testing the base once: most steps end
        // no trigger. One that did (its base odd, see `next`) is walked
        // again byte by byte to report where, and its true end state.
        let (steps, tail) = text.as_chunks::<STEP>();
        for (k, step) in steps.iter().enumerate() {
            let from = base;
            for &b in step {
                base = self.step(base, b);
            }
            if base & 1 != 0 {
                match self.report_within(from, step, offset + k * STEP, found) {
                    Some(end) => base = end,
                    None => return false,
                }
            }
        }
        self.report_within(base, tail, offset + steps.len() * STEP, found)
            .is_some()
    }

    /// Walks `bytes`, which start at `offset` in the text, from the state
    /// at `base`, reporting the triggers they end; gives the base of the
    /// state it ends in, or `None` when `found` said to stop.
    #[inline(never)]
    fn report_within(
        &self,
        mut base: u32,
        bytes: &[u8],
        offset: usize,
        found: &mut impl FnMut(usize, usize) -> bool,
    ) -> Option<u32> {
        for (i, &b) in bytes.iter().enumerate() {
            base = if base & 1 == 0 {
                self.step(base, b)
            } else {
                self.step_from_ending(base, b)
            };
            if base & 1 != 0 && !self.report_ends(base, offset + i + 1, found) {
                return None;
            }
        }
        Some(base)
    }

    /// Reports the triggers the state at `base` ends at `end`; false when
    /// `found` said to stop. Apart from the walk in `report_within`, whose
    /// loop then keeps its values in registers (inlined, `found` spilled
    /// them at every byte).
    #[inline(never)]
    fn report_ends(
        &self,
        base: u32,
        end: usize,
        found: &mut impl FnMut(usize, usize) -> bool,
    ) -> bool {
        let (from, until) = self.ends_of[self.ending_next[base as usize - 1] as usize];
        for &id in &self.ends[from as usize..until as usize] {
            if !found(id as usize, end - self.lens[id as usize] as usize) {
                return false;
            }
        }
        true
    }

    /// Whether `text` holds a trigger: [`TriggerDfa::find`] stopped at the
    /// first.
    pub(super) fn is_match(&self, text: &[u8]) -> bool {
        // [`STEP`] bytes at a time, testing once per step: a base once odd
        // stays odd (see `next`). A test per byte took twice the
        // instructions.
        let (steps, tail) = text.as_chunks::<STEP>();
        let mut base = 0;
        for step in steps {
            for &b in step {
                base = self.step(base, b);
            }
            if base & 1 != 0 {
                return true;
            }
        }
        tail.iter().any(|&b| {
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

    /// Triggers alike in their first 8 bytes, or but for NULs, are all
    /// found: the build sorts them by those bytes as a number first, then
    /// whole.
    #[test]
    fn finds_triggers_alike_in_their_first_bytes() {
        let mut triggers: Vec<String> = [
            "abcdefgh12",
            "abcdefgh",
            "abcdefgh\0",
            "abcdefgX",
            "ab\0x",
            "ab\0",
            "ab",
            "a\0b",
            "abcdefgh1",
        ]
        .map(String::from)
        .to_vec();
        let text = "abcdefgh12 ab\0x abcdefgh\0 ABCDEFGX a\0b ab\0\0x abcdefgh1";
        // The sort is unstable: given in each rotation.
        for _ in 0..triggers.len() {
            triggers.rotate_left(1);
            let found = by_dfa(&triggers, text);
            assert_eq!(found, by_aho_corasick(&triggers, text), "{triggers:?}");
            assert!(found.len() > 12, "{}", found.len());
        }
    }

    /// With case kept, a text holds a trigger exactly where aho-corasick
    /// (case kept) finds one, and the matches are the same.
    #[test]
    fn case_kept_finds_what_aho_corasick_finds() {
        let triggers = ["Error", "err", "Fault", " for url: ", "é", "a\nb"];
        let dfa = TriggerDfa::case_sensitive(&triggers).unwrap();
        let ac = aho_corasick::AhoCorasick::new(triggers).unwrap();
        let text = "ERROR error Error FAULT fault Fault x for url: y FOR URL: É é a\nb A\nB";
        let mut found = BTreeSet::new();
        dfa.find(text.as_bytes(), |id, start| found.insert((id, start)));
        let want: BTreeSet<_> = ac
            .find_overlapping_iter(text)
            .map(|m| (m.pattern().as_usize(), m.start()))
            .collect();
        assert_eq!(found, want);
        for line in text.split(' ') {
            assert_eq!(dfa.is_match(line.as_bytes()), ac.is_match(line), "{line:?}");
        }
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
                    let dfa = TriggerDfa::new(&triggers).unwrap();
                    assert!(dfa.is_match(text.as_bytes()), "{text:?}");
                    // Cut before the trigger ends: no match, wherever it stops.
                    let cut = &text.as_bytes()[..start + t.len() - 1];
                    assert!(!dfa.is_match(cut), "{text:?}");
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

    /// A text of pseudo-random lines from pieces of the triggers, long
    /// enough to be walked in parts.
    fn big_text(len: usize) -> String {
        let pieces = [
            "err", "or", "ERROR", " ", "\n", "http", "/1.1", "x", "status", ":", "\n\n",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut text = String::new();
        while text.len() < len {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            text.push_str(pieces[(seed % pieces.len() as u64) as usize]);
        }
        text
    }

    /// Cut into parts walked side by side, a big text gives every match,
    /// in order, as one walk does; the parts' edges fall anywhere in a
    /// step (texts of several lengths), and in a text with no line feed
    /// there is one part.
    #[test]
    fn finds_the_same_in_parts() {
        let triggers: Vec<String> = ["error", "err", "r", "http/1.1", "status:", " s", "or\ne"]
            .map(String::from)
            .to_vec();
        let line_local: Vec<String> = triggers[..6].to_vec();
        assert!(TriggerDfa::new(&line_local).unwrap().cut_at_lines);
        assert!(!TriggerDfa::new(&triggers).unwrap().cut_at_lines);
        for len in [
            LANES_FROM,
            LANES_FROM + 3,
            3 * LANES_FROM + 5,
            5 * LANES_FROM + 1,
        ] {
            let text = big_text(len);
            for t in [&line_local, &triggers] {
                let found = by_dfa(t, &text);
                assert_eq!(found, by_aho_corasick(t, &text), "{len}");
                assert!(found.len() > len / 8, "{}", found.len());
            }
        }
        let one_line = "err ".repeat(LANES_FROM);
        assert_eq!(
            by_dfa(&line_local, &one_line),
            by_aho_corasick(&line_local, &one_line)
        );
    }

    /// Told to stop anywhere in a big text (in the first part, in a later
    /// one's kept matches, in a later one's rest), the walk in parts
    /// reports what one walk would have, up to there.
    #[test]
    fn stops_when_told_in_parts() {
        let triggers: Vec<String> = ["error", "http", "s"].map(String::from).to_vec();
        let dfa = TriggerDfa::new(&triggers).unwrap();
        let text = big_text(2 * LANES_FROM);
        let mut all = Vec::new();
        dfa.find(text.as_bytes(), |id, start| {
            all.push((id, start));
            true
        });
        let n = all.len();
        for wanted in [1, n / 5, n / 3, n / 2, 2 * n / 3, n - 1, n] {
            let mut got = Vec::new();
            dfa.find(text.as_bytes(), |id, start| {
                got.push((id, start));
                got.len() < wanted
            });
            assert_eq!(got, all[..wanted]);
        }
    }

    /// Matches at every place a walk's step can stand: at the first and
    /// last byte of the text, of each part walked side by side and of a
    /// step, back to back (a step starting in a state that ends triggers,
    /// which the walk's table leads elsewhere), in texts of several sizes.
    #[test]
    fn finds_matches_at_the_edges_of_steps_and_parts() {
        let triggers: Vec<String> = ["q", "zq", "qz", "zz\nq", "abc"].map(String::from).to_vec();
        let line_local: Vec<String> = triggers[..3].to_vec();
        for len in [LANES_FROM - 1, LANES_FROM, 2 * LANES_FROM + 7] {
            let mut text = big_text(len).into_bytes();
            let n = text.len();
            let dfa = TriggerDfa::new(&line_local).unwrap();
            let mut cuts = vec![0, n];
            for k in 1..LANES {
                let at = k * n / LANES;
                cuts.push(memchr::memchr(b'\n', &text[at..]).map_or(n, |p| at + p + 1));
            }
            for &cut in &cuts {
                for place in [
                    cut.wrapping_sub(2),
                    cut.wrapping_sub(1),
                    cut,
                    cut + 1,
                    cut + STEP - 1,
                ] {
                    if place < n && text[place] != b'\n' {
                        text[place] = b'q';
                    }
                }
            }
            for at in (0..n).step_by(3 * STEP + 1) {
                text[at] = b'Q';
                if at + 1 < n && text[at + 1] != b'\n' {
                    text[at + 1] = b'z';
                }
            }
            let text = String::from_utf8(text).unwrap();
            for t in [&line_local, &triggers] {
                let found = by_dfa(t, &text);
                assert_eq!(found, by_aho_corasick(t, &text), "{len}");
                assert!(found.contains(&(0, n - 1)) || !text.ends_with('q'));
            }
            assert!(dfa.is_match(text.as_bytes()));
        }
    }

    #[test]
    fn builds_no_walk_for_an_empty_trigger() {
        assert!(TriggerDfa::new(&["a".to_string(), String::new()]).is_none());
    }

    #[test]
    fn finds_nothing_without_triggers() {
        let triggers = vec!["needle".to_string()];
        assert!(by_dfa(&triggers, "haystack NEEDL eedle").is_empty());
        assert_eq!(by_dfa(&[], "anything").len(), 0);
    }
}
