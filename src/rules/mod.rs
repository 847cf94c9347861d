//! Stage 5, rules: the rule model, loading from TOML (built-in pack plus the
//! user's directories), and evaluation against an incident's facts.
//!
//! - `model`: the rules as plain, serialisable data; `digest`: what
//!   start-up needs of each rule's conditions, stored beside them so that
//!   they are decoded only for the rules an input can concern.
//! - `load`: TOML → validated rules, every problem with its span. The
//!   built-in pack goes through the same validation in `build.rs` and is
//!   only deserialised at start-up (`builtin`).
//! - `engine`: evaluation. Patterns compile on first need; `prefilter`
//!   picks the few rules an incident can concern from its facts, and
//!   `scan` searches the input-wide patterns behind literal prefilters, so
//!   neither start-up nor evaluation grows with the size of the rule set.
//! - `check` and `lint`: what `rules check` adds (all patterns compiled,
//!   authoring warnings, JSON); `selftest`, `explain`, `schema`: the other
//!   rule-author commands.

pub(crate) mod builtin;
pub mod check;
mod digest;
pub mod engine;
pub mod explain;
mod lint;
pub(crate) mod literal_set;
pub(crate) mod literals;
pub mod load;
mod model;
mod prefilter;
mod runs;
pub mod scan;
pub mod schema;
pub mod selftest;

pub use engine::{Evidence, RuleMatch, RuleSet};
pub use load::{LoadReport, RuleProblem, RuleSource};
pub use model::*;

/// The built-in rule files embedded in the binary.
pub fn builtin_sources() -> Vec<RuleSource> {
    builtin::sources()
}

/// A rule's examples: its own, or for a rule of the built-in pack (whose
/// examples are stored apart and read on demand), the pack's.
pub fn examples(rule: &Rule) -> &[Example] {
    if rule.examples.is_empty() && rule.origin.builtin {
        builtin::examples(&rule.id)
    } else {
        &rule.examples
    }
}
