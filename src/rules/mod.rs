//! Stage 5, rules: the rule model, loading from TOML (built-in pack plus the
//! user's directories), and evaluation against an incident's facts.

mod builtin;
pub mod engine;
pub mod load;
pub mod schema;
pub mod selftest;

use regex::Regex;

pub use engine::{Evidence, RuleMatch, RuleSet};
pub use load::{LoadReport, RuleProblem, RuleSource};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One failing exchange (the default).
    Incident,
    /// The input as a whole: claims and symptoms not tied to one exchange.
    Input,
}

/// A literal in a condition.
#[derive(Debug, Clone, PartialEq)]
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

/// One test a fact value must pass.
#[derive(Debug, Clone)]
pub enum Op {
    Equals(Literal),
    AnyOf(Vec<Literal>),
    Regex(Regex),
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
    /// An `input.text` test, answered by the input-wide scan (pattern id).
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
            Op::Regex(r) => write!(f, "matches /{}/", r.as_str()),
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
#[derive(Debug, Clone)]
pub struct Condition {
    pub field: String,
    pub ops: Vec<Op>,
    /// Text shown under the evidence; defaults to a description of the test.
    pub label: Option<String>,
    /// The condition as written, for explanations (`status = [400, 401]`).
    pub source_text: String,
}

/// A rule's own test case.
#[derive(Debug, Clone)]
pub struct Example {
    pub name: Option<String>,
    pub input: String,
    pub matches: bool,
    /// 1-based line of the example in its rule file.
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub title: String,
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
    pub cause: String,
    pub fix: String,
    pub check: Option<String>,
    pub not: Vec<String>,
    pub docs: Vec<String>,
    pub supersedes: Vec<String>,
    pub examples: Vec<Example>,
    pub origin: Origin,
}

/// Where a rule was defined.
#[derive(Debug, Clone)]
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
}

pub mod explain;

/// The built-in rule files embedded in the binary.
pub fn builtin_sources() -> Vec<RuleSource> {
    builtin::sources()
}
