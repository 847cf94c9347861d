//! A pattern compiled forward only, with regex-automata: a lazy DFA, and a
//! PikeVM for what the DFA gives up on (a Unicode word boundary next to a
//! non-ASCII byte) or for groups. For patterns that never need where a
//! match starts: the `regex` crate also compiles the pattern in reverse,
//! most of the compile of the log prefix and the signal set.

use std::cell::RefCell;
use std::thread::LocalKey;

use regex_automata::hybrid;
use regex_automata::nfa::thompson::pikevm;

/// One thread's search state for a [`Forward`] pair.
pub(super) type Caches = RefCell<Option<(hybrid::dfa::Cache, pikevm::Cache)>>;

pub(super) struct Forward {
    pub dfa: hybrid::dfa::DFA,
    pub pikevm: pikevm::PikeVM,
}

impl Forward {
    /// Calls `f` with this thread's caches for the engines, kept in
    /// `caches` (a thread-local of the pattern's own: the caches fit only
    /// the engines that made them).
    pub fn with_caches<T>(
        &self,
        caches: &'static LocalKey<Caches>,
        f: impl FnOnce(&mut hybrid::dfa::Cache, &mut pikevm::Cache) -> T,
    ) -> T {
        caches.with(|caches| {
            let mut caches = caches.borrow_mut();
            let (dfa, vm) =
                caches.get_or_insert_with(|| (self.dfa.create_cache(), self.pikevm.create_cache()));
            f(dfa, vm)
        })
    }
}
