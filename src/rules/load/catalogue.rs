//! What a rule file may contain: its keys, its operators, the id syntax.
//! The JSON Schema and docs/rules.md are built from (or checked against)
//! these lists.

use regex::Regex;

/// The keys of a `[[rule]]` table: (key, required, meaning). The JSON Schema
/// and docs/rules.md are built from (or checked against) this list.
pub const RULE_KEYS: &[(&str, bool, &str)] = &[
    (
        "id",
        true,
        "Unique id, lower-case dotted words: `provider.what-went-wrong`. A user rule with a built-in id replaces the built-in rule.",
    ),
    (
        "title",
        true,
        "One-line headline of the diagnosis. May use `{placeholders}`.",
    ),
    ("severity", false, "`error` (default), `warning` or `info`."),
    (
        "confidence",
        false,
        "How likely the cause is when the rule matches, 0 to 1 (default 0.5). Orders diagnoses of the same severity.",
    ),
    (
        "provider",
        false,
        "The provider the rule is about (a label shown in reports; it does not restrict matching: test the `provider` fact in `when` for that).",
    ),
    (
        "scope",
        false,
        "`incident` (default): matched against each failing exchange. `input`: matched once against the whole input (`input.*` fields only).",
    ),
    (
        "when",
        false,
        "Conditions that must all hold: `{ field = test, … }`.",
    ),
    (
        "any",
        false,
        "Array of condition tables; at least one table must hold entirely: `[ { … }, { … } ]`.",
    ),
    (
        "unless",
        false,
        "Conditions that each, on their own, stop the rule from firing: `{ field = test, … }` (or an array of such tables).",
    ),
    (
        "cause",
        true,
        "Why this happens, in a paragraph. May use `{placeholders}`.",
    ),
    (
        "fix",
        true,
        "What to do about it. May use `{placeholders}`.",
    ),
    (
        "check",
        false,
        "How to confirm the cause. May use `{placeholders}`.",
    ),
    (
        "not",
        false,
        "Causes this is not, and why (array of strings).",
    ),
    (
        "docs",
        true,
        "URLs of the pages that back the cause (array of strings).",
    ),
    (
        "supersedes",
        false,
        "Ids of rules this one hides when both match the same failure (it says the same thing more precisely).",
    ),
    (
        "example",
        true,
        "`[[rule.example]]` tables: the rule's own tests; at least one with `matches = true` and one with `matches = false`.",
    ),
];
/// The keys of a `[[rule.example]]` table: (key, required, meaning).
pub const EXAMPLE_KEYS: &[(&str, bool, &str)] = &[
    ("name", false, "Short name shown by `faultline rules test`."),
    (
        "input",
        true,
        "A log excerpt, curl -v transcript, traceback or response body, as faultline would read it from a file.",
    ),
    (
        "matches",
        true,
        "`true`: the rule must fire on this input; `false`: it must not (make it a near miss).",
    ),
];
/// The operators of a condition table: (operator, what it takes, meaning).
pub const OPERATORS: &[(&str, &str, &str)] = &[
    (
        "regex",
        "string",
        "Rust regex, searched anywhere in the value; case-sensitive unless it starts with `(?i)`. Named groups `(?P<name>…)` become `{name}` placeholders.",
    ),
    (
        "contains",
        "string",
        "The value contains this text (case-insensitive).",
    ),
    (
        "starts_with",
        "string",
        "The value starts with this text (case-insensitive).",
    ),
    (
        "ends_with",
        "string",
        "The value ends with this text (case-insensitive).",
    ),
    (
        "exists",
        "boolean",
        "`true`: the fact has a value; `false`: it has none.",
    ),
    ("gt", "number", "The value is a number greater than this."),
    ("lt", "number", "The value is a number less than this."),
    (
        "gte",
        "number",
        "The value is a number greater than or equal to this.",
    ),
    (
        "lte",
        "number",
        "The value is a number less than or equal to this.",
    ),
    (
        "same_as",
        "field name",
        "The value equals (case-insensitive) a value of this other fact.",
    ),
    (
        "label",
        "string",
        "Not a test: the text shown under the evidence in the report. May use `{placeholders}`.",
    ),
];
/// Operators that `input.text` answers (it is searched line by line).
pub(super) const INPUT_TEXT_OPERATORS: &[&str] =
    &["regex", "contains", "starts_with", "ends_with", "label"];

pub(super) fn names(catalogue: &[(&'static str, bool, &str)]) -> Vec<&'static str> {
    catalogue.iter().map(|(k, _, _)| *k).collect()
}

pub(super) fn operator_names() -> Vec<&'static str> {
    OPERATORS.iter().map(|(k, _, _)| *k).collect()
}

/// Whether `id` is a valid rule id (lower-case dotted words).
pub fn is_valid_id(id: &str) -> bool {
    static ID: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$").unwrap()
    });
    ID.is_match(id)
}
