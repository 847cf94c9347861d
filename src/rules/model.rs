//! The rule model: plain data, as the loader validates it. Serialisable, so
//! the built-in pack is validated once at build time (`build.rs` includes
//! this file and the loader) and only deserialised at start-up. Compiling
//! patterns is the engine's job, done lazily, never here.

use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A rule's text, shared by every diagnosis that shows it as it is (one
/// with no placeholder): a run with thousands of diagnoses keeps one copy.
pub type Text = Arc<str>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// What a rule is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    /// One failing exchange (the default).
    Incident,
    /// The input as a whole: claims and symptoms not tied to one exchange.
    Input,
}

/// A literal in a condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Literal {
    Str(String),
    Num(f64),
    Bool(bool),
}

impl std::fmt::Display for Literal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Literal::Str(s) => write!(f, "{s:?}"),
            Literal::Num(n) => write!(f, "{n}"),
            Literal::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// A `regex` test as written. The engine compiles it on first need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegexOp {
    pub pattern: String,
    /// Named groups, which become `{placeholders}`.
    pub captures: Vec<String>,
    /// Literal factors (lower-case): sets of strings, every match contains
    /// one string of each set, so a text without them cannot match (see
    /// `rules::literals`). Found when the pattern is validated; `None` when
    /// it has none.
    #[serde(default)]
    pub factors: Option<Vec<Vec<String>>>,
    /// Where the pattern is written in its rule file, for a problem found
    /// when it is compiled.
    pub span: Option<Range<usize>>,
    /// The engine's compiled-pattern slot (assigned by `RuleSet::new`).
    #[serde(skip)]
    pub slot: usize,
}

/// One test a fact value must pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Op {
    Equals(Literal),
    AnyOf(Vec<Literal>),
    Regex(RegexOp),
    /// Lower-cased: the test is case-insensitive.
    Contains(String),
    StartsWith(String),
    EndsWith(String),
    Exists(bool),
    Gt(f64),
    Lt(f64),
    Gte(f64),
    Lte(f64),
    /// Equals some value of another fact.
    SameAs(String),
    /// An `input.text` test, answered by the input-wide scan (pattern id;
    /// the engine rewrites `input.text` tests into these).
    Input(usize),
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Op::Equals(l) => write!(f, "= {l}"),
            Op::AnyOf(ls) => {
                let items: Vec<String> = ls.iter().map(|l| l.to_string()).collect();
                write!(f, "one of [{}]", items.join(", "))
            }
            Op::Regex(r) => write!(f, "matches /{}/", r.pattern),
            Op::Contains(s) => write!(f, "contains {s:?}"),
            Op::StartsWith(s) => write!(f, "starts with {s:?}"),
            Op::EndsWith(s) => write!(f, "ends with {s:?}"),
            Op::Exists(true) => write!(f, "exists"),
            Op::Exists(false) => write!(f, "is absent"),
            Op::Gt(n) => write!(f, "> {n}"),
            Op::Lt(n) => write!(f, "< {n}"),
            Op::Gte(n) => write!(f, ">= {n}"),
            Op::Lte(n) => write!(f, "<= {n}"),
            Op::SameAs(other) => write!(f, "same as {other}"),
            Op::Input(id) => write!(f, "input pattern #{id}"),
        }
    }
}

/// `field` must pass every op.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub field: String,
    pub ops: Vec<Op>,
    /// Text shown under the evidence; defaults to a description of the test.
    pub label: Option<String>,
    /// The condition as written, for explanations (`status = [400, 401]`).
    pub source_text: String,
    /// Where it is written in its rule file.
    #[serde(default)]
    pub span: Option<Range<usize>>,
}

/// A rule's own test case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub name: Option<String>,
    pub input: String,
    pub matches: bool,
    /// 1-based line of the example in its rule file.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    pub title: Text,
    pub severity: Severity,
    pub confidence: f64,
    pub provider: Option<String>,
    pub scope: Scope,
    pub when: Vec<Condition>,
    pub any: Vec<Vec<Condition>>,
    /// Groups of conditions; the rule is blocked when every condition of
    /// some group holds. `unless = {a, b}` makes each condition its own
    /// group; `unless = [{a, b}, {c}]` blocks on (a and b) or c.
    pub unless: Vec<Vec<Condition>>,
    pub cause: Text,
    pub fix: Text,
    pub check: Option<Text>,
    pub not: Vec<String>,
    pub docs: Arc<[String]>,
    pub supersedes: Vec<String>,
    pub examples: Vec<Example>,
    pub origin: Origin,
}

impl Rule {
    /// Every condition: `when`, `any` and `unless`.
    pub fn conditions(&self) -> impl Iterator<Item = &Condition> {
        self.when
            .iter()
            .chain(self.any.iter().flatten())
            .chain(self.unless.iter().flatten())
    }

    pub fn conditions_mut(&mut self) -> impl Iterator<Item = &mut Condition> {
        self.when
            .iter_mut()
            .chain(self.any.iter_mut().flatten())
            .chain(self.unless.iter_mut().flatten())
    }

    /// The texts that may hold `{placeholders}`, with their key.
    pub fn templates(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [("title", Some(&self.title)), ("cause", Some(&self.cause))]
            .into_iter()
            .chain([("fix", Some(&self.fix)), ("check", self.check.as_ref())])
            .filter_map(|(k, v)| v.map(|v| (k, &**v)))
            .chain(self.not.iter().map(|n| ("not", n.as_str())))
    }
}

/// Where a rule was defined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    /// The rule file's path (built-in rules: relative to the repo).
    pub file: String,
    pub builtin: bool,
    /// 1-based line of the rule's `id`.
    pub line: usize,
    /// Set when this user rule replaced a built-in rule with the same id
    /// (directly, or by replacing a user rule that did).
    pub overrides_builtin: bool,
    /// The file of the rule with the same id this one replaced.
    pub overrides: Option<String>,
    /// The file's text, to show a problem found after loading (a pattern
    /// that does not compile); not kept for the built-in pack.
    #[serde(skip)]
    pub text: Option<SourceText>,
}

/// A rule file's text, shared by its rules; printed by size only.
#[derive(Clone, PartialEq)]
pub enum SourceText {
    Held(Arc<String>),
    /// Not held, but read again from the rule file when a problem needs
    /// it, and used only if the file still has the text loaded (its length
    /// and hash): see `engine::release_for_analysis`.
    OnDisk {
        len: usize,
        hash: u64,
    },
}

impl std::fmt::Debug for SourceText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceText::Held(text) => write!(f, "SourceText({} bytes)", text.len()),
            SourceText::OnDisk { len, .. } => write!(f, "SourceText({len} bytes, on disk)"),
        }
    }
}

/// The `{name}` placeholders of a text: (byte range of `{name}`, name).
/// A name is a fact field or a regex group: ASCII letters, digits, `_`,
/// `.` and `-`, not starting with a digit, `.` or `-`. Anything else in
/// braces (JSON, prose) is not a placeholder and stays as written.
pub fn placeholders(text: &str) -> impl Iterator<Item = (Range<usize>, &str)> {
    let bytes = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while let Some(open) = text[at..].find('{').map(|p| at + p) {
            at = open + 1;
            let name_len = bytes[open + 1..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
                .count();
            let end = open + 1 + name_len;
            let starts_well = bytes
                .get(open + 1)
                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
            if starts_well && bytes.get(end) == Some(&b'}') {
                at = end + 1;
                return Some((open..end + 1, &text[open + 1..end]));
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_names_in_braces_and_nothing_else() {
        let found: Vec<&str> =
            placeholders("{error} at {url.host}: {\"json\": 1} {} {9x} {a b} {_x-y.z} {{status}}")
                .map(|(_, n)| n)
                .collect();
        assert_eq!(found, ["error", "url.host", "_x-y.z", "status"]);
        let (range, _) = placeholders("é{x}").next().unwrap();
        assert_eq!(range, 2..5);
    }
}
