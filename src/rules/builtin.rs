//! The built-in rule pack, embedded at build time by `build.rs`.

use std::sync::Arc;

use super::RuleSource;

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// The built-in rule files, in path order.
pub fn sources() -> Vec<RuleSource> {
    BUILTIN_RULE_FILES
        .iter()
        .map(|(name, text)| RuleSource {
            name: name.to_string(),
            text: Arc::new(text.to_string()),
            builtin: true,
            layer: 0,
        })
        .collect()
}
