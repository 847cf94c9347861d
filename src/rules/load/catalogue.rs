//! What a rule file may contain: its keys, its operators, the id syntax.
//! The JSON Schema and docs/rules.md are built from (or checked against)
//! these lists.

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
        "expected",
        false,
        "`true` when what the rule matches is the API working as designed, not a failure (a device-code poll answered \"pending\"): the incident is reported as expected, the diagnosis is `info`, and it does not fail the run. Default `false`.",
    ),
    (
        "yields",
        false,
        "`true` for a generic reading that gives way to any other diagnosis of the same failure (a refusal stated in words without its status): it is reported only when no rule without `yields` explains that failure, so specific rules need not list it in `supersedes`. Default `false`.",
    ),
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

/// Whether `id` is a valid rule id: lower-case dotted words, at least two,
/// each `[a-z0-9][a-z0-9_-]*` (the JSON Schema states the same pattern).
pub fn is_valid_id(id: &str) -> bool {
    let word = |w: &str| {
        let mut bytes = w.bytes();
        bytes
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    };
    id.contains('.') && id.split('.').all(word)
}

/// The valid id an invalid one was probably meant to be:
/// `Stripe.ResourceMissing` → `stripe.resource-missing`. A single word gets
/// the rule's provider (or `provider`) in front.
pub fn suggest_id(id: &str, provider: Option<&str>) -> Option<String> {
    let mut words: Vec<String> = id.split('.').map(kebab).filter(|w| !w.is_empty()).collect();
    if words.len() == 1 {
        let provider = provider.map(kebab).filter(|p| !p.is_empty());
        let word = words.remove(0);
        // `Acme Second` in a rule of provider `acme`: `acme.second`.
        let rest = provider
            .as_ref()
            .and_then(|p| word.strip_prefix(p.as_str())?.strip_prefix('-'));
        match (rest, provider.as_ref()) {
            (Some(rest), Some(p)) => words = vec![p.clone(), rest.to_string()],
            _ => words = vec![provider.unwrap_or_else(|| "provider".into()), word],
        }
    }
    let suggestion = words.join(".");
    (is_valid_id(&suggestion) && suggestion != id).then_some(suggestion)
}

/// `ResourceMissing`, `resource missing`, `resource--missing-` → `resource-missing`.
fn kebab(word: &str) -> String {
    let mut out = String::with_capacity(word.len() + 4);
    let mut prev: Option<char> = None;
    for c in word.chars() {
        if c.is_ascii_uppercase() {
            // A new word starts at an upper-case letter after a lower-case
            // letter or digit (`ResourceMissing`, `Oauth2Error`).
            if prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit()) {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
        prev = Some(c);
    }
    out.trim_matches(|c| c == '-' || c == '_').to_string()
}

/// Limits on what rule files may hold, so that a huge or hostile rules
/// directory is reported, not loaded for minutes (docs/rules.md lists them).
pub mod limits {
    /// Bytes of one rule file.
    pub const MAX_FILE_BYTES: usize = 8 << 20;
    /// Rule files in one run.
    pub const MAX_FILES: usize = 10_000;
    /// Rules in one run, built-in ones included.
    pub const MAX_RULES: usize = 50_000;
    /// Bytes of one `regex` value. A longer pattern is almost surely a
    /// generated word list, which `any-of` (an array) states better.
    pub const MAX_PATTERN_BYTES: usize = 16 << 10;
    /// Problems reported per file; the rest are counted.
    pub const MAX_PROBLEMS_PER_FILE: usize = 200;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        for ok in ["a.b", "genesys.token-wrong-host", "x9.a_b", "a.b.c"] {
            assert!(is_valid_id(ok), "{ok}");
        }
        for bad in ["", "a", "A.b", "a..b", ".a", "a.-b", "a b.c", "a.b.", "é.b"] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn id_suggestions() {
        let s = |id, p| suggest_id(id, p);
        assert_eq!(
            s("Stripe.ResourceMissing", None).as_deref(),
            Some("stripe.resource-missing")
        );
        assert_eq!(
            s("Acme Second", Some("acme")).as_deref(),
            Some("acme.second")
        );
        assert_eq!(
            s("ResourceMissing", Some("Stripe")).as_deref(),
            Some("stripe.resource-missing")
        );
        assert_eq!(
            s("resource_missing", None).as_deref(),
            Some("provider.resource_missing")
        );
        assert_eq!(s("okta.E0000011", None).as_deref(), Some("okta.e0000011"));
        assert_eq!(s("a.b", None), None);
        assert_eq!(s("!!!", None), None);
    }
}
