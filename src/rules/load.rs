//! Loads rule files: TOML → validated [`Rule`]s. Every problem in a file is
//! collected with the exact span it concerns, like a compiler, and the valid
//! rules (of this file and of the others) still load.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};
use regex::Regex;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{Condition, Example, Literal, Op, Origin, Rule, Scope, Severity};
use crate::facts::{FIELD_PREFIXES, FIELDS, is_known_field};
use crate::providers::{ProviderFile, Providers};

/// A problem in a rule file (or with a rules path), rendered by miette with
/// the file's text. `code` is a stable kebab-case name (`rule::bad-regex`),
/// documented in docs/rules.md.
#[derive(Debug, Clone)]
pub struct RuleProblem {
    pub message: String,
    /// The file's text; `None` when the file could not be read at all.
    pub source_code: Option<NamedSource<Arc<String>>>,
    pub span: Option<SourceSpan>,
    pub label: String,
    pub help: Option<String>,
    pub code: String,
    /// The rule file (or rules path) the problem is about.
    pub file: String,
    /// Secondary places, e.g. where a duplicate id was first defined.
    pub related: Vec<RuleProblem>,
    pub severity: miette::Severity,
}

impl std::fmt::Display for RuleProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuleProblem {}

impl Diagnostic for RuleProblem {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source_code
            .as_ref()
            .map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let span = self.span?;
        let label = (!self.label.is_empty()).then(|| self.label.clone());
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(label, span),
        )))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|r| r as &dyn Diagnostic)))
    }
}

impl RuleProblem {
    /// 1-based line of the problem, 0 when it has no place in a file.
    pub fn line(&self) -> usize {
        match (&self.source_code, self.span) {
            (Some(src), Some(span)) => {
                let text = src.inner();
                text[..span.offset().min(text.len())].matches('\n').count() + 1
            }
            _ => 0,
        }
    }

    /// A rules path that does not exist or cannot be read.
    pub fn unreadable(path: &str, message: impl Into<String>) -> Self {
        RuleProblem {
            message: message.into(),
            source_code: None,
            span: None,
            label: String::new(),
            help: Some(
                "check `--rules`, `FAULTLINE_RULES` and the rules directories; the other rules still run"
                    .into(),
            ),
            code: "rule::unreadable".into(),
            file: path.to_string(),
            related: Vec::new(),
            severity: miette::Severity::Error,
        }
    }

    fn offset(&self) -> usize {
        self.span.map_or(0, |s| s.offset())
    }
}

/// A rule file's text and where it came from.
#[derive(Debug, Clone)]
pub struct RuleSource {
    pub name: String,
    pub text: Arc<String>,
    pub builtin: bool,
    /// Discovery layer (built-in 0, then the user's config dir, a project's
    /// `.faultline/rules`, `FAULTLINE_RULES`, `--rules`): a rule replaces one
    /// with the same id from a lower layer; within a layer, a duplicate id
    /// is a problem.
    pub layer: u8,
}

impl RuleSource {
    pub fn read(path: &Path) -> std::io::Result<Self> {
        Ok(RuleSource {
            name: path.to_string_lossy().into_owned(),
            text: Arc::new(std::fs::read_to_string(path)?),
            builtin: false,
            layer: 1,
        })
    }
}

/// Rule files under a directory (recursively) or the file itself.
pub fn rule_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(path)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "toml"))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

/// Everything loaded from a set of rule files.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub rules: Vec<Rule>,
    pub providers: Providers,
    pub problems: Vec<RuleProblem>,
}

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
const INPUT_TEXT_OPERATORS: &[&str] = &["regex", "contains", "starts_with", "ends_with", "label"];

fn names(catalogue: &[(&'static str, bool, &str)]) -> Vec<&'static str> {
    catalogue.iter().map(|(k, _, _)| *k).collect()
}

fn operator_names() -> Vec<&'static str> {
    OPERATORS.iter().map(|(k, _, _)| *k).collect()
}

/// Whether `id` is a valid rule id (lower-case dotted words).
pub fn is_valid_id(id: &str) -> bool {
    static ID: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$").unwrap()
    });
    ID.is_match(id)
}

/// Loads every source in order. A source of a higher layer overrides a rule
/// of a lower layer by id (user rules replace built-in ones, a project's
/// rules replace the user's own); any other duplicate id is a problem. Problems come back in
/// source order, then by position in the file.
pub fn load(sources: &[RuleSource]) -> LoadReport {
    let mut report = LoadReport::default();
    // (id, index of its source, span of its `id` value) of rules loaded so
    // far, for duplicate detection.
    let mut seen: Vec<(String, usize, Range<usize>)> = Vec::new();
    let mut pending_supersedes: Vec<(String, Spanned<String>, usize)> = Vec::new();
    let mut declared: Vec<String> = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        let mut file = FileLoader {
            source,
            problems: Vec::new(),
            invalid_ids: Vec::new(),
        };
        let Some((rules, supersedes)) = file.load(&mut report.providers) else {
            report.problems.append(&mut file.problems);
            continue;
        };
        for (rule, id_span) in rules {
            if let Some(pos) = seen.iter().position(|(id, _, _)| *id == rule.id) {
                let (_, first, first_span) = seen[pos].clone();
                let first_source = &sources[first];
                if first_source.layer < source.layer {
                    let replaced = report.rules.iter().find(|r| r.id == rule.id);
                    let mut rule = rule;
                    rule.origin.overrides_builtin = first_source.builtin
                        || replaced.is_some_and(|r| r.origin.overrides_builtin);
                    rule.origin.overrides = Some(first_source.name.clone());
                    report.rules.retain(|r| r.id != rule.id);
                    seen[pos] = (rule.id.clone(), index, id_span);
                    report.rules.push(rule);
                } else {
                    let first_line =
                        first_source.text[..first_span.start].matches('\n').count() + 1;
                    let mut problem = file.problem(
                        "rule::duplicate-id",
                        id_span,
                        format!("duplicate rule id `{}`", rule.id),
                        "this id is already used",
                        Some(format!(
                            "first defined at {}:{first_line}; ids must be unique (rename one of them)",
                            first_source.name
                        )),
                    );
                    problem.related.push(RuleProblem {
                        message: format!("`{}` is first defined here", rule.id),
                        source_code: Some(NamedSource::new(
                            first_source.name.clone(),
                            first_source.text.clone(),
                        )),
                        span: Some(first_span.into()),
                        label: "first definition".into(),
                        help: None,
                        code: "rule::duplicate-id".into(),
                        file: first_source.name.clone(),
                        related: Vec::new(),
                        severity: miette::Severity::Advice,
                    });
                    file.problems.push(problem);
                }
                continue;
            }
            seen.push((rule.id.clone(), index, id_span));
            report.rules.push(rule);
        }
        for (rule_id, target) in supersedes {
            pending_supersedes.push((rule_id, target, index));
        }
        declared.append(&mut file.invalid_ids);
        report.problems.append(&mut file.problems);
    }
    for (rule_id, target, index) in pending_supersedes {
        let source = &sources[index];
        let name = target.get_ref();
        let (message, label) = if *name == rule_id {
            (
                format!("rule `{rule_id}` supersedes itself"),
                "this rule's own id",
            )
        } else if seen.iter().any(|(id, _, _)| id == name) || declared.contains(name) {
            continue;
        } else {
            (
                format!("`supersedes` names no rule: `{name}`"),
                "no rule has this id",
            )
        };
        let ids: Vec<&str> = seen
            .iter()
            .map(|(id, _, _)| id.as_str())
            .filter(|id| *id != rule_id)
            .collect();
        report.problems.push(RuleProblem {
            message,
            source_code: Some(NamedSource::new(source.name.clone(), source.text.clone())),
            span: Some(target.span().into()),
            label: label.into(),
            help: did_you_mean(name, &ids).or(Some(
                "see `faultline rules list` for the loaded rule ids".into(),
            )),
            code: "rule::unknown-supersedes".into(),
            file: source.name.clone(),
            related: Vec::new(),
            severity: miette::Severity::Error,
        });
    }
    let order = |p: &RuleProblem| {
        sources
            .iter()
            .position(|s| s.name == p.file)
            .unwrap_or(usize::MAX)
    };
    report.problems.sort_by_key(|p| (order(p), p.offset()));
    report
}

pub fn did_you_mean(word: &str, candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

struct FileLoader<'s> {
    source: &'s RuleSource,
    problems: Vec<RuleProblem>,
    /// Ids of rules in this file that have problems (not loaded, but they
    /// exist: `supersedes` naming one is not a second problem).
    invalid_ids: Vec<String>,
}

type Supersedes = Vec<(String, Spanned<String>)>;
/// The valid rules of a file, each with the span of its `id` value.
type FileRules = Vec<(Rule, Range<usize>)>;

impl<'s> FileLoader<'s> {
    fn problem(
        &self,
        code: &str,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
        help: Option<String>,
    ) -> RuleProblem {
        RuleProblem {
            message: message.into(),
            source_code: Some(NamedSource::new(
                self.source.name.clone(),
                self.source.text.clone(),
            )),
            span: Some(span.into()),
            label: label.into(),
            help,
            code: code.into(),
            file: self.source.name.clone(),
            related: Vec::new(),
            severity: miette::Severity::Error,
        }
    }

    fn report(
        &mut self,
        code: &str,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
        help: Option<String>,
    ) {
        let p = self.problem(code, span, message, label, help);
        self.problems.push(p);
    }

    fn line_of(&self, offset: usize) -> usize {
        self.source.text[..offset.min(self.source.text.len())]
            .matches('\n')
            .count()
            + 1
    }

    fn load(&mut self, providers: &mut Providers) -> Option<(FileRules, Supersedes)> {
        let text = self.source.text.clone();
        let doc = match DeTable::parse(&text) {
            Ok(doc) => doc,
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                self.report(
                    "rule::toml-syntax",
                    span,
                    format!("invalid TOML: {}", e.message().trim()),
                    "here",
                    None,
                );
                return None;
            }
        };
        let doc = doc.into_inner();
        let is_provider_file = doc
            .keys()
            .any(|k| matches!(k.get_ref().as_ref(), "provider" | "token_path"));
        if is_provider_file {
            self.load_providers(&text, providers);
            return Some((Vec::new(), Vec::new()));
        }
        let mut rules = Vec::new();
        let mut supersedes = Vec::new();
        for (key, value) in doc.iter() {
            if key.get_ref() != "rule" {
                let help = did_you_mean(key.get_ref(), &["rule"])
                    .or(Some("a rule file holds `[[rule]]` tables".into()));
                self.report(
                    "rule::unknown-key",
                    key.span(),
                    format!("unknown top-level key `{}`", key.get_ref()),
                    "unknown key",
                    help,
                );
                continue;
            }
            let DeValue::Array(items) = value.get_ref() else {
                self.report(
                    "rule::type",
                    value.span(),
                    "`rule` must be an array of tables: write `[[rule]]`",
                    "expected `[[rule]]`",
                    None,
                );
                continue;
            };
            for item in items.iter() {
                let DeValue::Table(table) = item.get_ref() else {
                    self.report(
                        "rule::type",
                        item.span(),
                        "each `rule` must be a table",
                        "expected a table",
                        None,
                    );
                    continue;
                };
                let before = self.problems.len();
                if let Some((rule, sup)) = self.rule(table, item.span()) {
                    // `supersedes` is checked even for a rule with other
                    // problems, so one `rules check` run shows everything.
                    supersedes.extend(sup.into_iter().map(|s| (rule.id.clone(), s)));
                    if self.problems.len() == before {
                        let id_span = table.get("id").map_or(item.span(), |v| v.span());
                        rules.push((rule, id_span));
                    } else {
                        self.invalid_ids.push(rule.id);
                    }
                }
            }
        }
        Some((rules, supersedes))
    }

    fn load_providers(&mut self, text: &str, providers: &mut Providers) {
        match toml::from_str::<ProviderFile>(text) {
            Ok(file) => {
                if let Err(e) = providers.add(file) {
                    self.report(
                        "provider::bad-regex",
                        0..0,
                        format!("invalid provider data: {e}"),
                        "in this file",
                        None,
                    );
                }
            }
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                self.report(
                    "provider::invalid",
                    span,
                    format!("invalid provider data: {}", e.message().trim()),
                    "here",
                    None,
                );
            }
        }
    }

    fn rule(
        &mut self,
        table: &DeTable,
        span: Range<usize>,
    ) -> Option<(Rule, Vec<Spanned<String>>)> {
        for key in table.keys() {
            if !names(RULE_KEYS).contains(&key.get_ref().as_ref()) {
                let help = did_you_mean(key.get_ref(), &names(RULE_KEYS));
                self.report(
                    "rule::unknown-key",
                    key.span(),
                    format!("unknown rule key `{}`", key.get_ref()),
                    "unknown key",
                    help,
                );
            }
        }
        let rule_start = span.start..span.start + 1;
        let id = self.required_str(table, "id", &rule_start)?;
        let id_line = self.line_of(table.get("id").map_or(span.start, |v| v.span().start));
        if !is_valid_id(&id) {
            let s = table.get("id").unwrap().span();
            self.report(
                "rule::bad-id",
                s,
                format!("rule id `{id}` is not of the form `provider.topic`"),
                "bad id",
                Some("use lower-case dotted words, e.g. `genesys.token-wrong-host`".into()),
            );
        }
        let title = self
            .required_str(table, "title", &rule_start)
            .unwrap_or_default();
        let severity = match self.optional_str(table, "severity").as_deref() {
            None | Some("error") => Severity::Error,
            Some("warning") => Severity::Warning,
            Some("info") => Severity::Info,
            Some(other) => {
                let s = table.get("severity").unwrap().span();
                let help = did_you_mean(other, &["error", "warning", "info"]);
                self.report(
                    "rule::bad-severity",
                    s,
                    format!("unknown severity `{other}`"),
                    "expected error, warning or info",
                    help,
                );
                Severity::Error
            }
        };
        let confidence = match table.get("confidence") {
            None => 0.5,
            Some(v) => match number(v.get_ref()) {
                Some(n) if (0.0..=1.0).contains(&n) => n,
                _ => {
                    self.report(
                        "rule::bad-confidence",
                        v.span(),
                        "`confidence` must be a number from 0 to 1",
                        "here",
                        None,
                    );
                    0.5
                }
            },
        };
        let scope = match self.optional_str(table, "scope").as_deref() {
            None | Some("incident") => Scope::Incident,
            Some("input") => Scope::Input,
            Some(other) => {
                let s = table.get("scope").unwrap().span();
                self.report(
                    "rule::bad-scope",
                    s,
                    format!("unknown scope `{other}`"),
                    "expected incident or input",
                    None,
                );
                Scope::Incident
            }
        };
        let mut captures: Vec<String> = Vec::new();
        let when = match table.get("when") {
            Some(v) => self.conditions(v, scope, &mut captures),
            None => Vec::new(),
        };
        let any = match table.get("any") {
            Some(v) => match v.get_ref() {
                DeValue::Array(items) => items
                    .iter()
                    .map(|t| self.conditions(t, scope, &mut captures))
                    .collect(),
                _ => {
                    self.report(
                        "rule::type",
                        v.span(),
                        "`any` must be an array of tables",
                        "expected [ {…}, {…} ]",
                        None,
                    );
                    Vec::new()
                }
            },
            None => Vec::new(),
        };
        let unless = match table.get("unless") {
            Some(v) => match v.get_ref() {
                DeValue::Array(items) => items
                    .iter()
                    .map(|t| self.conditions(t, scope, &mut Vec::new()))
                    .filter(|group| !group.is_empty())
                    .collect(),
                _ => self
                    .conditions(v, scope, &mut Vec::new())
                    .into_iter()
                    .map(|c| vec![c])
                    .collect(),
            },
            None => Vec::new(),
        };
        // Only when none are written: conditions that were written but
        // invalid have problems of their own.
        if table.get("when").is_none() && table.get("any").is_none() {
            self.report(
                "rule::no-conditions",
                rule_start.clone(),
                format!("rule `{id}` has no conditions"),
                "this rule",
                Some("add a `when` table; a rule without conditions would match everything".into()),
            );
        }
        let cause = self
            .required_str(table, "cause", &rule_start)
            .unwrap_or_default();
        let fix = self
            .required_str(table, "fix", &rule_start)
            .unwrap_or_default();
        let check = self.optional_str(table, "check");
        let not = self.str_list(table, "not");
        let docs = self.str_list(table, "docs");
        if docs.is_empty() {
            let s = table.get("docs").map_or(rule_start.clone(), |v| v.span());
            self.report(
                "rule::no-docs",
                s,
                format!("rule `{id}` cites no docs"),
                "needs a source",
                Some("add `docs = [\"https://…\"]` with the page that backs the cause".into()),
            );
        }
        for (doc, span) in self.str_list_spanned(table, "docs") {
            if !(doc.starts_with("https://") || doc.starts_with("http://")) {
                self.report(
                    "rule::bad-docs",
                    span,
                    "`docs` entries must be URLs",
                    "not a URL",
                    None,
                );
            }
        }
        let supersedes = self
            .str_list_spanned(table, "supersedes")
            .into_iter()
            .map(|(s, span)| Spanned::new(span, s))
            .collect();
        // Placeholders must name a fact or a named capture.
        for key in ["title", "cause", "fix", "check"] {
            if let Some(v) = table.get(key)
                && let DeValue::String(s) = v.get_ref()
            {
                self.check_placeholders(s, v.span(), &captures);
            }
        }
        let examples = self.examples(table, &id, &rule_start);
        let provider = self.optional_str(table, "provider");
        Some((
            Rule {
                id,
                title,
                severity,
                confidence,
                provider,
                scope,
                when,
                any,
                unless,
                cause,
                fix,
                check,
                not,
                docs,
                supersedes: Vec::new(),
                examples,
                origin: Origin {
                    file: self.source.name.clone(),
                    builtin: self.source.builtin,
                    line: id_line,
                    overrides_builtin: false,
                    overrides: None,
                },
            },
            supersedes,
        ))
        .map(|(mut rule, sup): (Rule, Vec<Spanned<String>>)| {
            rule.supersedes = sup.iter().map(|s| s.get_ref().clone()).collect();
            (rule, sup)
        })
    }

    /// Where the content of a string value starts in the file, when the
    /// TOML text holds it verbatim (no escapes), so a problem can point
    /// inside the string.
    fn verbatim_start(&self, span: &Range<usize>, value: &str) -> Option<usize> {
        let raw = self.source.text.get(span.clone())?;
        let quote = if raw.starts_with("\'\'\'") || raw.starts_with("\"\"\"") {
            3
        } else {
            1
        };
        let inner = raw.get(quote..raw.len().saturating_sub(quote))?;
        // A multi-line string drops the newline right after its opening quotes.
        let (inner, skip) = match inner.strip_prefix('\n') {
            Some(rest) if quote == 3 => (rest, 1),
            _ => (inner, 0),
        };
        (inner == value).then_some(span.start + quote + skip)
    }

    fn check_placeholders(&mut self, text: &str, span: Range<usize>, captures: &[String]) {
        let re = Regex::new(r"\{([A-Za-z_][\w.\-]*)\}").unwrap();
        let start = self.verbatim_start(&span, text);
        for c in re.captures_iter(text) {
            let name = &c[1];
            let whole = c.get(0).expect("group 0");
            let span = start.map_or(span.clone(), |s| s + whole.start()..s + whole.end());
            if is_known_field(name) || captures.iter().any(|k| k == name) {
                continue;
            }
            let mut candidates: Vec<&str> = FIELDS.iter().map(|(n, _, _)| *n).collect();
            candidates.extend(captures.iter().map(String::as_str));
            self.report(
                "rule::unknown-placeholder",
                span.clone(),
                format!("placeholder `{{{name}}}` names no fact and no regex capture"),
                "unknown placeholder",
                did_you_mean(name, &candidates).or(Some(
                    "placeholders are fact fields (`faultline rules fields`) or named regex groups `(?<name>…)`".into(),
                )),
            );
        }
    }

    fn examples(&mut self, table: &DeTable, id: &str, rule_start: &Range<usize>) -> Vec<Example> {
        let mut out = Vec::new();
        let Some(v) = table.get("example") else {
            self.report("rule::no-examples", rule_start.clone(), format!("rule `{id}` has no examples"), "this rule", Some("add `[[rule.example]]` tables: at least one with `matches = true` and one with `matches = false`".into()));
            return out;
        };
        let DeValue::Array(items) = v.get_ref() else {
            self.report(
                "rule::type",
                v.span(),
                "`example` must be an array of tables: write `[[rule.example]]`",
                "here",
                None,
            );
            return out;
        };
        for item in items.iter() {
            let DeValue::Table(t) = item.get_ref() else {
                continue;
            };
            for key in t.keys() {
                if !names(EXAMPLE_KEYS).contains(&key.get_ref().as_ref()) {
                    let help = did_you_mean(key.get_ref(), &names(EXAMPLE_KEYS));
                    self.report(
                        "rule::unknown-key",
                        key.span(),
                        format!("unknown example key `{}`", key.get_ref()),
                        "unknown key",
                        help,
                    );
                }
            }
            let input = self.required_str(t, "input", &item.span());
            let matches = match t.get("matches") {
                Some(v) => match v.get_ref() {
                    DeValue::Boolean(b) => Some(*b),
                    _ => {
                        self.report(
                            "rule::type",
                            v.span(),
                            "`matches` must be true or false",
                            "here",
                            None,
                        );
                        None
                    }
                },
                None => {
                    self.report(
                        "rule::missing-key",
                        item.span().start..item.span().start + 1,
                        "example is missing `matches = true|false`",
                        "this example",
                        None,
                    );
                    None
                }
            };
            if let (Some(input), Some(matches)) = (input, matches) {
                out.push(Example {
                    name: self.optional_str(t, "name"),
                    input,
                    matches,
                    line: self.line_of(item.span().start),
                });
            }
        }
        let positive = out.iter().any(|e| e.matches);
        let negative = out.iter().any(|e| !e.matches);
        if !out.is_empty() && (!positive || !negative) {
            let missing = if positive {
                "`matches = false`"
            } else {
                "`matches = true`"
            };
            self.report(
                "rule::examples-one-sided",
                v.span().start..v.span().start + 1,
                format!("rule `{id}` has no example with {missing}"),
                "examples",
                Some("every rule needs a positive and a negative (near-miss) example".into()),
            );
        }
        out
    }

    /// A table of `field = test` pairs.
    fn conditions(
        &mut self,
        value: &Spanned<DeValue>,
        scope: Scope,
        captures: &mut Vec<String>,
    ) -> Vec<Condition> {
        let DeValue::Table(table) = value.get_ref() else {
            self.report(
                "rule::type",
                value.span(),
                "conditions must be a table: `{ field = value, … }`",
                "expected a table",
                None,
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, test) in table.iter() {
            let field = key.get_ref().to_string();
            if !is_known_field(&field) {
                let mut names: Vec<&str> = FIELDS.iter().map(|(n, _, _)| *n).collect();
                names.extend(FIELD_PREFIXES.iter().map(|(p, _, _)| *p));
                self.report(
                    "rule::unknown-field",
                    key.span(),
                    format!("unknown fact field `{field}`"),
                    "no such field",
                    did_you_mean(&field, &names).or(Some(
                        "see `faultline rules fields` or docs/rules.md for the field list".into(),
                    )),
                );
                continue;
            }
            if scope == Scope::Input && !field.starts_with("input.") {
                self.report(
                    "rule::field-scope",
                    key.span(),
                    format!(
                        "`{field}` is a per-incident field, but this rule has `scope = \"input\"`"
                    ),
                    "not available here",
                    Some("input-scope rules can only test `input.*` fields".into()),
                );
                continue;
            }
            if field == "input.text"
                && let DeValue::Table(ops) = test.get_ref()
            {
                let mut ok = true;
                for (op, _) in ops.iter() {
                    let name = op.get_ref().as_ref();
                    if operator_names().contains(&name) && !INPUT_TEXT_OPERATORS.contains(&name) {
                        self.report("rule::bad-operator", op.span(), format!("`input.text` cannot be tested with `{name}`"), "not supported on input.text", Some("`input.text` is searched line by line: use `regex`, `contains`, `starts_with`, `ends_with`, a string or an array of strings".into()));
                        ok = false;
                    }
                }
                if !ok {
                    continue;
                }
            }
            let source_text = self
                .source
                .text
                .get(key.span().start..test.span().end)
                .unwrap_or("")
                .to_string();
            if let Some((ops, label)) = self.ops(test, captures) {
                out.push(Condition {
                    field,
                    ops,
                    label,
                    source_text,
                });
            }
        }
        out
    }

    fn ops(
        &mut self,
        test: &Spanned<DeValue>,
        captures: &mut Vec<String>,
    ) -> Option<(Vec<Op>, Option<String>)> {
        match test.get_ref() {
            DeValue::Array(items) => {
                let lits: Vec<Literal> = items.iter().filter_map(|i| self.literal(i)).collect();
                Some((vec![Op::AnyOf(lits)], None))
            }
            DeValue::Table(t) => {
                let mut ops = Vec::new();
                let mut label = None;
                for (k, v) in t.iter() {
                    let name = k.get_ref().as_ref();
                    let op = match name {
                        "label" => {
                            label = v.get_ref().as_str().map(str::to_string);
                            continue;
                        }
                        "regex" => self.regex(v, captures).map(Op::Regex),
                        "contains" | "starts_with" | "ends_with" | "same_as" => {
                            match v.get_ref().as_str() {
                                Some(s) => Some(match name {
                                    "contains" => Op::Contains(s.to_lowercase()),
                                    "starts_with" => Op::StartsWith(s.to_lowercase()),
                                    "ends_with" => Op::EndsWith(s.to_lowercase()),
                                    _ => {
                                        if !is_known_field(s) {
                                            self.report(
                                                "rule::unknown-field",
                                                v.span(),
                                                format!("unknown fact field `{s}`"),
                                                "no such field",
                                                None,
                                            );
                                        }
                                        Op::SameAs(s.to_string())
                                    }
                                }),
                                None => {
                                    self.report(
                                        "rule::type",
                                        v.span(),
                                        format!("`{name}` takes a string"),
                                        "expected a string",
                                        None,
                                    );
                                    None
                                }
                            }
                        }
                        "exists" => match v.get_ref() {
                            DeValue::Boolean(b) => Some(Op::Exists(*b)),
                            _ => {
                                self.report(
                                    "rule::type",
                                    v.span(),
                                    "`exists` takes true or false",
                                    "expected a boolean",
                                    None,
                                );
                                None
                            }
                        },
                        "gt" | "lt" | "gte" | "lte" => match number(v.get_ref()) {
                            Some(n) => Some(match name {
                                "gt" => Op::Gt(n),
                                "lt" => Op::Lt(n),
                                "gte" => Op::Gte(n),
                                _ => Op::Lte(n),
                            }),
                            None => {
                                self.report(
                                    "rule::type",
                                    v.span(),
                                    format!("`{name}` takes a number"),
                                    "expected a number",
                                    None,
                                );
                                None
                            }
                        },
                        other => {
                            let help = did_you_mean(other, &operator_names())
                                .or(Some(format!("operators: {}", operator_names().join(", "))));
                            self.report(
                                "rule::unknown-operator",
                                k.span(),
                                format!("unknown operator `{other}`"),
                                "unknown operator",
                                help,
                            );
                            None
                        }
                    };
                    ops.extend(op);
                }
                if ops.is_empty() && label.is_some() {
                    self.report(
                        "rule::no-operator",
                        test.span(),
                        "a condition table needs an operator besides `label`",
                        "no test here",
                        None,
                    );
                    return None;
                }
                Some((ops, label))
            }
            _ => self.literal(test).map(|l| (vec![Op::Equals(l)], None)),
        }
    }

    fn literal(&mut self, v: &Spanned<DeValue>) -> Option<Literal> {
        match v.get_ref() {
            DeValue::String(s) => Some(Literal::Str(s.to_string())),
            DeValue::Boolean(b) => Some(Literal::Bool(*b)),
            other => match number(other) {
                Some(n) => Some(Literal::Num(n)),
                None => {
                    self.report(
                        "rule::type",
                        v.span(),
                        "expected a string, number, boolean, array or operator table",
                        "unsupported value",
                        None,
                    );
                    None
                }
            },
        }
    }

    fn regex(&mut self, v: &Spanned<DeValue>, captures: &mut Vec<String>) -> Option<Regex> {
        let Some(pattern) = v.get_ref().as_str() else {
            self.report(
                "rule::type",
                v.span(),
                "`regex` takes a string",
                "expected a string",
                None,
            );
            return None;
        };
        match Regex::new(pattern) {
            Ok(re) => {
                captures.extend(re.capture_names().flatten().map(str::to_string));
                Some(re)
            }
            Err(e) => {
                // Place the error inside the string when the TOML text is the
                // pattern verbatim (literal strings, the usual way to write regexes).
                let span = v.span();
                let precise = self
                    .verbatim_start(&span, pattern)
                    .and_then(|start| {
                        regex_syntax::ast::parse::Parser::new()
                            .parse(pattern)
                            .err()
                            .map(|ast_err| (start, ast_err))
                    })
                    .map(|(start, ast_err)| {
                        let s = ast_err.span();
                        start + s.start.offset
                            ..(start + s.end.offset).max(start + s.start.offset + 1)
                    });
                let message = match &e {
                    regex::Error::Syntax(s) => s
                        .lines()
                        .last()
                        .unwrap_or("invalid regex")
                        .trim_start_matches("error: ")
                        .to_string(),
                    other => other.to_string(),
                };
                self.report("rule::bad-regex", precise.unwrap_or(span), format!("invalid regex: {message}"), message.clone(), Some("faultline uses Rust regex syntax: https://docs.rs/regex/latest/regex/#syntax".into()));
                None
            }
        }
    }

    fn required_str(
        &mut self,
        table: &DeTable,
        key: &str,
        fallback: &Range<usize>,
    ) -> Option<String> {
        match table.get(key) {
            Some(v) => match v.get_ref() {
                DeValue::String(s) => Some(s.to_string()),
                _ => {
                    self.report(
                        "rule::type",
                        v.span(),
                        format!("`{key}` must be a string"),
                        "expected a string",
                        None,
                    );
                    None
                }
            },
            None => {
                // A misspelt key elsewhere in the table is the likely reason.
                let typo = table
                    .keys()
                    .map(|k| k.get_ref().to_string())
                    .find(|k| k != key && strsim::jaro_winkler(k, key) > 0.8);
                let help = typo
                    .map(|k| format!("`{k}` in this table looks like a misspelling of `{key}`"));
                self.report(
                    "rule::missing-key",
                    fallback.clone(),
                    format!("missing required key `{key}`"),
                    "in this table",
                    help,
                );
                None
            }
        }
    }

    fn optional_str(&mut self, table: &DeTable, key: &str) -> Option<String> {
        let v = table.get(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                self.report(
                    "rule::type",
                    v.span(),
                    format!("`{key}` must be a string"),
                    "expected a string",
                    None,
                );
                None
            }
        }
    }

    fn str_list(&mut self, table: &DeTable, key: &str) -> Vec<String> {
        self.str_list_spanned(table, key)
            .into_iter()
            .map(|(s, _)| s)
            .collect()
    }

    fn str_list_spanned(&mut self, table: &DeTable, key: &str) -> Vec<(String, Range<usize>)> {
        let Some(v) = table.get(key) else {
            return Vec::new();
        };
        match v.get_ref() {
            DeValue::String(s) => vec![(s.to_string(), v.span())],
            DeValue::Array(items) => items
                .iter()
                .filter_map(|i| match i.get_ref() {
                    DeValue::String(s) => Some((s.to_string(), i.span())),
                    _ => {
                        self.report(
                            "rule::type",
                            i.span(),
                            format!("`{key}` entries must be strings"),
                            "expected a string",
                            None,
                        );
                        None
                    }
                })
                .collect(),
            _ => {
                self.report(
                    "rule::type",
                    v.span(),
                    format!("`{key}` must be an array of strings"),
                    "expected [\"…\"]",
                    None,
                );
                Vec::new()
            }
        }
    }
}

fn number(v: &DeValue) -> Option<f64> {
    match v {
        DeValue::Integer(i) => i64::from_str_radix(&i.as_str().replace('_', ""), i.radix())
            .ok()
            .map(|n| n as f64),
        DeValue::Float(f) => f.as_str().replace('_', "").parse().ok(),
        _ => None,
    }
}
