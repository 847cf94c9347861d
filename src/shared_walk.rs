//! One walk of a big text for the literals of several stages: the parse
//! prefilter's triggers and the input-wide scan's factors were each
//! searched by a DFA of their own, two table walks per byte of every chunk
//! (a third of a big log's instructions). One DFA over both lists walks it
//! once, and hands each match to the list it came from; each stage still
//! only sees its own literals, by their index in its own list.

use crate::parse::trigger_dfa::TriggerDfa;

pub(crate) struct SharedWalk {
    dfa: TriggerDfa,
    /// Where each list's literals begin among the DFA's: the literal `i`
    /// of list `k` is the DFA's `firsts[k] + i`.
    firsts: Vec<usize>,
}

impl SharedWalk {
    /// `None` when the DFA cannot be built (see [`TriggerDfa::new`]). A
    /// literal in two lists is searched twice over, as two patterns that
    /// end in the same states: no table is needed to share it.
    pub(crate) fn new(lists: &[&[String]]) -> Option<Self> {
        let mut all = Vec::new();
        let mut firsts = Vec::with_capacity(lists.len());
        for list in lists {
            firsts.push(all.len());
            all.extend(list.iter().cloned());
        }
        Some(SharedWalk {
            dfa: TriggerDfa::new(&all)?,
            firsts,
        })
    }

    /// Calls `found` with the list, the literal (its index in its list) and
    /// the start of each match in `text`, ASCII case-insensitively, in
    /// order of their end (see [`TriggerDfa::find`]).
    pub(crate) fn find(&self, text: &[u8], mut found: impl FnMut(usize, usize, usize)) {
        self.dfa.find(text, |id, start| {
            // The last list starting at or before `id` (an empty list
            // starts where the next one does).
            let list = self.firsts.partition_point(|&first| first <= id) - 1;
            found(list, id - self.firsts[list], start);
            true
        })
    }
}

#[cfg(test)]
mod tests {
    use super::SharedWalk;

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
            got[list].push((id, start))
        });
        for (k, list) in lists.iter().enumerate() {
            let ac = aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(*list)
                .unwrap();
            let mut alone: Vec<(usize, usize)> = ac
                .find_overlapping_iter(&text)
                .map(|m| (m.pattern().as_usize(), m.start()))
                .collect();
            alone.sort_unstable();
            got[k].sort_unstable();
            assert_eq!(got[k], alone, "list {k}");
        }
        assert!(got[2].len() > 8000);
    }
}
