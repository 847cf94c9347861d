//! One rule file's TOML → validated rules, with every problem it has.
//!
//! `build.rs` compiles this file too (the built-in pack is validated once,
//! at build time), so it uses only the rule model, the problem type and
//! crates the build script has: no regex engine (patterns are parsed here,
//! compiled by the engine on first need) and no provider data.

use std::ops::Range;
use std::sync::Arc;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::catalogue::limits::MAX_PATTERN_BYTES;
use super::catalogue::{
    EXAMPLE_KEYS, INPUT_TEXT_OPERATORS, RULE_KEYS, is_valid_id, names, operator_names, suggest_id,
};
use super::problems::{RuleProblem, did_you_mean, quote};
use super::source::{LineIndex, RuleSource};
use crate::facts::{FIELD_PREFIXES, FIELDS, is_known_field};
use crate::rules::literals::hir_factors;
use crate::rules::{
    Condition, Example, LazyLogic, LazyProse, Literal, Logic, Names, Op, Origin, Prose, RegexOp,
    Rule, Scope, Severity, SourceText, placeholders,
};

/// A valid rule and what the checks after loading need to know about it.
#[derive(Debug)]
pub struct Loaded {
    /// Not boxed: a rule read from the cache (most of a start with many
    /// rules) then took an allocation, and a free once moved into the rule
    /// set, about 300 instructions per rule; the moves cost less.
    pub rule: Rule,
    /// The span of its `id` value.
    pub id_span: Range<usize>,
    pub supersedes: Vec<Spanned<String>>,
    /// Boxed, and `None` when read from the cache (only `rules check`
    /// reads them): a rule is moved twice at a start, and ten times the
    /// rules moved and dropped 72 bytes of empty vectors each.
    pub mentions: Option<Box<Mentions>>,
    /// False when the rule has problems: it is not loaded, but it exists
    /// (a `supersedes` naming it is not a second problem).
    pub valid: bool,
}

impl Mentions {
    /// Whether there are none (a rule read from the cache).
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.placeholders.is_empty() && self.guaranteed.is_empty()
    }
}

/// Where a rule names fields and placeholders, for the authoring checks
/// (`rules check` warnings) that run after loading.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Mentions {
    /// Condition keys and `same_as` values: (field, span of the name).
    pub fields: Vec<(String, Range<usize>)>,
    /// `{placeholders}` in texts and labels: (name, span of `{name}`,
    /// whether it is sure to have a value where it is used: a label naming
    /// its own condition's field or groups).
    pub placeholders: Vec<(String, Range<usize>, bool)>,
    /// Fields that every match of the rule has a value for, and the named
    /// groups every match captures: what a placeholder may safely use.
    pub guaranteed: Vec<String>,
}

/// What a file turned out to be.
pub enum Parsed {
    Rules(Vec<Loaded>),
    /// Provider data (`[[provider]]`, `token_path`), not rules.
    Providers,
    /// Not TOML at all (the problem is reported).
    Unparsable,
}

pub struct FileLoader<'s> {
    pub source: &'s RuleSource,
    pub problems: Vec<RuleProblem>,
    lines: LineIndex,
    /// The text its rules hold (none for the built-in pack's files).
    text: Option<Arc<SourceText>>,
}

/// Per rule: the named groups its regexes define, and whether a regex was
/// invalid (then a placeholder may name a group of the broken pattern).
#[derive(Default)]
struct RuleState {
    captures: Vec<String>,
    guaranteed: Vec<String>,
    mentions: Mentions,
}

impl<'s> FileLoader<'s> {
    pub fn new(source: &'s RuleSource) -> Self {
        FileLoader {
            source,
            problems: Vec::new(),
            lines: LineIndex::new(source.text()),
            text: (!source.builtin)
                .then(|| Arc::new(SourceText::Held(source.text().clone(), source.stamp))),
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
        let p = RuleProblem::at(self.source, code, span, message, label, help);
        self.problems.push(p);
    }

    /// Parses the file: its rules, or that it holds provider data.
    pub fn parse(&mut self) -> Parsed {
        let text = self.source.text().clone();
        let doc = match DeTable::parse(&text) {
            Ok(doc) => doc,
            Err(e) => {
                let span = value_span(&text, e.span().unwrap_or(0..0));
                self.report(
                    "rule::toml-syntax",
                    span,
                    format!("invalid TOML: {}", e.message().trim()),
                    "in this value",
                    None,
                );
                return Parsed::Unparsable;
            }
        };
        let doc = doc.into_inner();
        let is_provider_file = doc
            .keys()
            .any(|k| matches!(k.get_ref().as_ref(), "provider" | "token_path"));
        if is_provider_file {
            return Parsed::Providers;
        }
        let mut rules = Vec::new();
        for (key, value) in doc.iter() {
            if key.get_ref() != "rule" {
                let help = did_you_mean(key.get_ref(), &["rule"])
                    .or(Some("a rule file holds `[[rule]]` tables".into()));
                self.report(
                    "rule::unknown-key",
                    key.span(),
                    format!("unknown top-level key `{}`", quote(key.get_ref())),
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
                if let Some(mut loaded) = self.rule(table, item.span()) {
                    // A rule with problems is not loaded, but its
                    // `supersedes` is still checked, so one `rules check`
                    // run shows everything.
                    loaded.valid = self.problems.len() == before;
                    rules.push(loaded);
                }
            }
        }
        Parsed::Rules(rules)
    }

    fn rule(&mut self, table: &DeTable, span: Range<usize>) -> Option<Loaded> {
        for key in table.keys() {
            if !names(RULE_KEYS).contains(&key.get_ref().as_ref()) {
                let help = did_you_mean(key.get_ref(), &names(RULE_KEYS));
                self.report(
                    "rule::unknown-key",
                    key.span(),
                    format!("unknown rule key `{}`", quote(key.get_ref())),
                    "unknown key",
                    help,
                );
            }
        }
        let rule_start = span.start..span.start + 1;
        let id = self.required_str(table, "id", &rule_start)?;
        let id_span = table.get("id").map_or(span.clone(), |v| v.span());
        let id_line = self.lines.line(id_span.start);
        let provider = self.optional_str(table, "provider");
        if !is_valid_id(&id) {
            let help = match suggest_id(&id, provider.as_deref()) {
                Some(s) => format!("did you mean `{s}`? (lower-case dotted words)"),
                None => "use lower-case dotted words, e.g. `genesys.token-wrong-host`".into(),
            };
            self.report(
                "rule::bad-id",
                id_span.clone(),
                format!(
                    "rule id `{}` is not of the form `provider.topic`",
                    quote(&id)
                ),
                "bad id",
                Some(help),
            );
        }
        let title = self
            .required_str(table, "title", &rule_start)
            .unwrap_or_default();
        let severity = self.severity(table);
        let expected = self.expected(table, severity);
        let yields = table
            .get("yields")
            .and_then(|v| self.boolean(v, "yields"))
            .unwrap_or(false);
        let severity = if expected { Severity::Info } else { severity };
        let confidence = self.confidence(table);
        let scope = match self.optional_str(table, "scope").as_deref() {
            None | Some("incident") => Scope::Incident,
            Some("input") => Scope::Input,
            Some(other) => {
                let s = table.get("scope").map_or(0..0, |v| v.span());
                self.report(
                    "rule::bad-scope",
                    s,
                    format!("unknown scope `{}`", quote(other)),
                    "expected incident or input",
                    did_you_mean(other, &["incident", "input"]),
                );
                Scope::Incident
            }
        };
        let mut state = RuleState::default();
        let when = match table.get("when") {
            Some(v) => self.conditions(v, scope, &mut state),
            None => Vec::new(),
        };
        // What every match is sure to have: `when`'s fields and groups, and
        // those that every `any` table provides.
        let mut guaranteed = std::mem::take(&mut state.guaranteed);
        let any = match table.get("any") {
            Some(v) => match v.get_ref() {
                DeValue::Array(items) => {
                    let mut common: Option<Vec<String>> = None;
                    let tables: Vec<Vec<Condition>> = items
                        .iter()
                        .map(|t| {
                            let conds = self.conditions(t, scope, &mut state);
                            let provided = std::mem::take(&mut state.guaranteed);
                            common = Some(match common.take() {
                                None => provided,
                                Some(c) => c.into_iter().filter(|f| provided.contains(f)).collect(),
                            });
                            conds
                        })
                        .collect();
                    guaranteed.extend(common.unwrap_or_default());
                    tables
                }
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
        // `unless` guarantees nothing: its conditions hold when the rule
        // does not fire. Its groups' captures are not placeholders.
        let unless = match table.get("unless") {
            Some(v) => match v.get_ref() {
                DeValue::Array(items) => items
                    .iter()
                    .map(|t| self.conditions(t, scope, &mut state))
                    .filter(|group| !group.is_empty())
                    .collect(),
                _ => self
                    .conditions(v, scope, &mut state)
                    .into_iter()
                    .map(|c| vec![c])
                    .collect(),
            },
            None => Vec::new(),
        };
        state.guaranteed = guaranteed;
        // Only when none are written: conditions that were written but
        // invalid have problems of their own.
        if table.get("when").is_none() && table.get("any").is_none() {
            self.report(
                "rule::no-conditions",
                rule_start.clone(),
                format!("rule `{}` has no conditions", quote(&id)),
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
                format!("rule `{}` cites no docs", quote(&id)),
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
        let supersedes: Vec<Spanned<String>> = self
            .str_list_spanned(table, "supersedes")
            .into_iter()
            .map(|(s, span)| Spanned::new(span, s))
            .collect();
        // Placeholders must name a fact or a named capture.
        for key in ["title", "cause", "fix", "check", "not"] {
            let Some(v) = table.get(key) else { continue };
            let values: Vec<&Spanned<DeValue>> = match v.get_ref() {
                DeValue::Array(items) => items.iter().collect(),
                _ => vec![v],
            };
            for v in values {
                if let DeValue::String(s) = v.get_ref() {
                    self.check_placeholders(s, v.span(), &mut state, &[]);
                }
            }
        }
        let examples = self.examples(table, &id, &rule_start);
        let conditions = when
            .iter()
            .chain(any.iter().flatten())
            .chain(unless.iter().flatten())
            .map(|c| {
                let span = c.span.clone().unwrap_or_default();
                self.source.text().get(span).unwrap_or("").to_string()
            })
            .collect();
        let mut rule = Rule {
            id,
            severity,
            confidence,
            provider,
            scope,
            expected,
            yields,
            logic: LazyLogic::new(Logic { when, any, unless }),
            prose: LazyProse::new(Prose {
                title: title.into(),
                cause: cause.into(),
                fix: fix.into(),
                check: check.map(Into::into),
                not,
                docs: docs.into(),
                conditions,
            }),
            supersedes: Names::new(&supersedes.iter().map(|s| s.get_ref()).collect::<Vec<_>>()),
            examples,
            origin: Origin {
                file: self.source.name.as_str().into(),
                builtin: self.source.builtin,
                line: id_line,
                overrides_builtin: false,
                overrides: None,
                text: self.text.clone(),
            },
        };
        // Kept encoded, as a cache hit or the built-in pack holds them:
        // decoded, the 4,410 rules of the rule-scale bench held about
        // 5 MiB more through an analysis validated on this run than one
        // read from the cache.
        rule.logic.shed();
        rule.prose.shed();
        state.mentions.guaranteed = state.guaranteed;
        Some(Loaded {
            rule,
            id_span,
            supersedes,
            mentions: Some(Box::new(state.mentions)),
            valid: true,
        })
    }

    fn severity(&mut self, table: &DeTable) -> Severity {
        match self.optional_str(table, "severity").as_deref() {
            None | Some("error") => Severity::Error,
            Some("warning") => Severity::Warning,
            Some("info") => Severity::Info,
            Some(other) => {
                let s = table.get("severity").map_or(0..0, |v| v.span());
                let help = did_you_mean(&other.to_ascii_lowercase(), &["error", "warning", "info"]);
                self.report(
                    "rule::bad-severity",
                    s,
                    format!("unknown severity `{}`", quote(other)),
                    "expected error, warning or info",
                    help,
                );
                Severity::Error
            }
        }
    }

    /// `expected = true`: what the rule matches is not a failure. Such a
    /// rule is `info`; an explicit `error` or `warning` contradicts it.
    fn expected(&mut self, table: &DeTable, severity: Severity) -> bool {
        let Some(expected) = table
            .get("expected")
            .and_then(|v| self.boolean(v, "expected"))
        else {
            return false;
        };
        if expected && severity != Severity::Info && table.contains_key("severity") {
            let s = table.get("severity").map_or(0..0, |v| v.span());
            self.report(
                "rule::bad-severity",
                s,
                format!(
                    "an expected outcome is not a failure, so it cannot be `{}`",
                    severity.as_str()
                ),
                "contradicts `expected = true`",
                Some("drop `severity` (an expected rule is `info`), or drop `expected`".into()),
            );
        }
        expected
    }

    /// A `true`/`false` value, or a `rule::type` problem at it.
    fn boolean(&mut self, v: &Spanned<DeValue>, key: &str) -> Option<bool> {
        if let DeValue::Boolean(b) = v.get_ref() {
            return Some(*b);
        }
        self.report(
            "rule::type",
            v.span(),
            format!("`{key}` must be true or false"),
            "here",
            None,
        );
        None
    }

    fn confidence(&mut self, table: &DeTable) -> f64 {
        let Some(v) = table.get("confidence") else {
            return 0.5;
        };
        let n = number(v.get_ref());
        if let Some(n) = n.filter(|n| (0.0..=1.0).contains(n)) {
            return n;
        }
        let text = v.get_ref().as_str().map(str::trim);
        // A percentage is the usual slip: `80`, or `"80%"`.
        let percent = n.or_else(|| text?.strip_suffix('%')?.trim().parse().ok());
        let quoted = text
            .and_then(|t| t.parse::<f64>().ok())
            .filter(|n| (0.0..=1.0).contains(n));
        let help = match (percent, quoted) {
            (_, Some(q)) => format!("write the number without quotes: `confidence = {q}`"),
            (Some(p), _) if (10.0..=100.0).contains(&p) => format!(
                "did you mean `confidence = {}`? It is a probability from 0 to 1, not a percentage",
                p / 100.0
            ),
            _ => "a probability from 0 (never the cause) to 1 (always), e.g. `confidence = 0.7`"
                .into(),
        };
        self.report(
            "rule::bad-confidence",
            v.span(),
            "`confidence` must be a number from 0 to 1",
            "here",
            Some(help),
        );
        0.5
    }

    /// Where the content of a string value starts in the file, when the
    /// TOML text holds it verbatim (no escapes), so a problem can point
    /// inside the string.
    fn verbatim_start(&self, span: &Range<usize>, value: &str) -> Option<usize> {
        let raw = self.source.text().get(span.clone())?;
        let quote = if raw.starts_with("'''") || raw.starts_with("\"\"\"") {
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

    /// The span of `part` (a byte range of a string value) in the file, or
    /// the whole value's span when the value is not written verbatim.
    fn inner_span(
        &self,
        value_span: &Range<usize>,
        value: &str,
        part: Range<usize>,
    ) -> Range<usize> {
        match self.verbatim_start(value_span, value) {
            Some(s) => s + part.start..s + part.end,
            None => value_span.clone(),
        }
    }

    /// Checks the placeholders of `text`; `local` names those sure to have
    /// a value where the text is used.
    fn check_placeholders(
        &mut self,
        text: &str,
        span: Range<usize>,
        state: &mut RuleState,
        local: &[String],
    ) {
        for (range, name) in placeholders(text) {
            let at = self.inner_span(&span, text, range);
            let sure = local.iter().any(|l| l == name);
            state
                .mentions
                .placeholders
                .push((name.to_string(), at.clone(), sure));
            if is_known_field(name) || state.captures.iter().any(|k| k == name) {
                continue;
            }
            let mut candidates: Vec<&str> = FIELDS.iter().map(|(n, _, _)| *n).collect();
            candidates.extend(state.captures.iter().map(String::as_str));
            // `{error_description}` for `{body.error_description}`: a field
            // family's example with this name as its last part.
            let in_family = FIELD_PREFIXES
                .iter()
                .map(|(_, _, example)| *example)
                .find(|example| example.rsplit('.').next() == Some(name));
            let help = did_you_mean(name, &candidates)
                .or(in_family.map(|f| format!("did you mean `{{{f}}}`?")))
                .unwrap_or_else(|| {
                    "placeholders are fact fields (`faultline rules fields`, e.g. `{body.message}` for a value of the response body) or named regex groups `(?<name>…)`".into()
                });
            self.report(
                "rule::unknown-placeholder",
                at,
                format!(
                    "placeholder `{{{}}}` names no fact and no regex capture",
                    quote(name)
                ),
                "unknown placeholder",
                Some(help),
            );
        }
    }

    fn examples(&mut self, table: &DeTable, id: &str, rule_start: &Range<usize>) -> Vec<Example> {
        let mut out = Vec::new();
        let Some(v) = table.get("example") else {
            self.report("rule::no-examples", rule_start.clone(), format!("rule `{}` has no examples", quote(id)), "this rule", Some("add `[[rule.example]]` tables: at least one with `matches = true` and one with `matches = false`".into()));
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
                        format!("unknown example key `{}`", quote(key.get_ref())),
                        "unknown key",
                        help,
                    );
                }
            }
            let input = self.required_str(t, "input", &item.span());
            let matches = match t.get("matches") {
                Some(v) => self.boolean(v, "matches"),
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
                    line: self.lines.line(item.span().start),
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
                format!("rule `{}` has no example with {missing}", quote(id)),
                "examples",
                Some("every rule needs a positive and a negative (near-miss) example".into()),
            );
        }
        out
    }

    /// A table of `field = test` pairs. Adds the fields and named groups
    /// that hold whenever all of them hold to `state.guaranteed`.
    fn conditions(
        &mut self,
        value: &Spanned<DeValue>,
        scope: Scope,
        state: &mut RuleState,
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
            state.mentions.fields.push((field.clone(), key.span()));
            if !is_known_field(&field) {
                let mut names: Vec<&str> = FIELDS.iter().map(|(n, _, _)| *n).collect();
                names.extend(FIELD_PREFIXES.iter().map(|(p, _, _)| *p));
                self.report(
                    "rule::unknown-field",
                    key.span(),
                    format!("unknown fact field `{}`", quote(&field)),
                    "no such field",
                    did_you_mean(&field, &names).or(Some(
                        "see `faultline rules fields` or docs/rules.md for the field list".into(),
                    )),
                );
                // Still read the test: its regex groups are placeholders,
                // which must not be reported as unknown too.
                self.ops(test, &field, state);
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
            if let Some((ops, label)) = self.ops(test, &field, state) {
                if !ops.iter().all(|op| matches!(op, Op::Exists(false))) {
                    state.guaranteed.push(field.clone());
                }
                out.push(Condition {
                    field,
                    ops,
                    label,
                    span: Some(key.span().start..test.span().end),
                });
            }
        }
        out
    }

    fn ops(
        &mut self,
        test: &Spanned<DeValue>,
        field: &str,
        state: &mut RuleState,
    ) -> Option<(Vec<Op>, Option<String>)> {
        match test.get_ref() {
            DeValue::Array(items) => {
                let lits: Vec<Literal> = items.iter().filter_map(|i| self.literal(i)).collect();
                Some((vec![Op::AnyOf(lits)], None))
            }
            DeValue::Table(t) => {
                let mut ops = Vec::new();
                let mut label = None;
                let mut label_at = None;
                for (k, v) in t.iter() {
                    let name = k.get_ref().as_ref();
                    let op = match name {
                        "label" => {
                            match v.get_ref().as_str() {
                                Some(s) => {
                                    label = Some(s.to_string());
                                    label_at = Some(v.span());
                                }
                                None => self.report(
                                    "rule::type",
                                    v.span(),
                                    "`label` takes a string",
                                    "expected a string",
                                    None,
                                ),
                            }
                            continue;
                        }
                        "regex" => self.regex(v, field, state).map(Op::Regex),
                        "contains" | "starts_with" | "ends_with" | "same_as" => {
                            match v.get_ref().as_str() {
                                Some(s) => Some(match name {
                                    "contains" => Op::Contains(s.to_lowercase()),
                                    "starts_with" => Op::StartsWith(s.to_lowercase()),
                                    "ends_with" => Op::EndsWith(s.to_lowercase()),
                                    _ => {
                                        state.mentions.fields.push((s.to_string(), v.span()));
                                        if !is_known_field(s) {
                                            let names: Vec<&str> =
                                                FIELDS.iter().map(|(n, _, _)| *n).collect();
                                            self.report(
                                                "rule::unknown-field",
                                                v.span(),
                                                format!("unknown fact field `{}`", quote(s)),
                                                "no such field",
                                                did_you_mean(s, &names),
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
                                format!("unknown operator `{}`", quote(other)),
                                "unknown operator",
                                help,
                            );
                            None
                        }
                    };
                    ops.extend(op);
                }
                if let (Some(text), Some(at)) = (&label, label_at) {
                    // A label is shown where its condition held: its field
                    // and groups have values there.
                    let mut local = vec![field.to_string()];
                    for op in &ops {
                        if let Op::Regex(r) = op {
                            local.extend(r.captures.iter().cloned());
                        }
                    }
                    self.check_placeholders(text, at, state, &local);
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

    /// Parses a `regex` (the engine compiles it on first need). A pattern
    /// that does not parse is reported with the parser's own message,
    /// pointing inside the pattern, and nothing else: its named groups still
    /// count as placeholders.
    fn regex(
        &mut self,
        v: &Spanned<DeValue>,
        field: &str,
        state: &mut RuleState,
    ) -> Option<RegexOp> {
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
        let span = v.span();
        if pattern.len() > MAX_PATTERN_BYTES {
            self.report(
                "rule::pattern-too-large",
                span.start..span.start + 1,
                format!(
                    "this regex is {} bytes; patterns are limited to {} KiB",
                    pattern.len(),
                    MAX_PATTERN_BYTES >> 10
                ),
                "this pattern",
                Some(format!(
                    "a long list of words is an array (`{field} = [\"a\", \"b\", …]`, any of them) or several rules"
                )),
            );
            state.captures.extend(group_names_in_text(pattern));
            return None;
        }
        match regex_syntax::ParserBuilder::new().build().parse(pattern) {
            Ok(hir) => {
                let mut captures = Vec::new();
                capture_names(&hir, &mut captures);
                state.captures.extend(captures.iter().cloned());
                state.guaranteed.extend(captures.iter().cloned());
                Some(RegexOp {
                    pattern: pattern.to_string(),
                    captures,
                    factors: hir_factors(&hir, 1),
                    span: Some(span),
                    slot: 0,
                })
            }
            Err(e) => {
                state.captures.extend(group_names_in_text(pattern));
                let inner = match &e {
                    regex_syntax::Error::Parse(a) => Some(a.span()),
                    regex_syntax::Error::Translate(t) => Some(t.span()),
                    _ => None,
                };
                // Point inside the string when the TOML text is the pattern
                // verbatim (literal strings, the usual way to write regexes).
                let precise = inner.and_then(|s| {
                    let start = self.verbatim_start(&span, pattern)?;
                    Some(
                        start + s.start.offset
                            ..(start + s.end.offset).max(start + s.start.offset + 1),
                    )
                });
                let text = e.to_string();
                let message = text
                    .lines()
                    .last()
                    .unwrap_or("invalid regex")
                    .trim_start_matches("error: ")
                    .to_string();
                self.report(
                    "rule::bad-regex",
                    precise.unwrap_or(span),
                    format!("invalid regex: {message}"),
                    message.clone(),
                    Some("faultline uses Rust regex syntax: https://docs.rs/regex/latest/regex/#syntax".into()),
                );
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
                let help = typo.map(|k| {
                    format!(
                        "`{}` in this table looks like a misspelling of `{key}`",
                        quote(&k)
                    )
                });
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

/// The named groups of a parsed pattern, in order.
fn capture_names(hir: &regex_syntax::hir::Hir, out: &mut Vec<String>) {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Capture(c) => {
            if let Some(name) = &c.name {
                out.push(name.to_string());
            }
            capture_names(&c.sub, out);
        }
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            for s in subs {
                capture_names(s, out);
            }
        }
        HirKind::Repetition(r) => capture_names(&r.sub, out),
        _ => {}
    }
}

/// Group names written in a pattern that does not parse (`(?P<name>`,
/// `(?<name>`), so that a broken regex is one problem, not one more per
/// placeholder naming its groups.
fn group_names_in_text(pattern: &str) -> Vec<String> {
    let mut out = Vec::new();
    for opener in ["(?P<", "(?<"] {
        for (at, _) in pattern.match_indices(opener) {
            let rest = &pattern[at + opener.len()..];
            if let Some(end) = rest.find('>') {
                out.push(rest[..end].to_string());
            }
        }
    }
    out
}

/// A TOML syntax error's span, moved onto the value it concerns: the
/// parser reports where it gave up, which for an unclosed string or table
/// is the end of the line or the start of the next statement.
pub fn value_span(text: &str, error: Range<usize>) -> Range<usize> {
    let at = error.start.min(text.len());
    if !text.is_char_boundary(at) {
        return error;
    }
    let line_start = text[..at].rfind('\n').map_or(0, |p| p + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |p| at + p);
    let line = &text[line_start..line_end];
    let column = at - line_start;
    let before = &line[..column];
    let after = line[column..].trim_end();
    // Inside the value already: keep the parser's place.
    let (statement_start, statement_end) = if after.is_empty() && !before.trim().is_empty() {
        // At the end of this line: the value on this line is unfinished.
        (line_start, line_end)
    } else if before.trim().is_empty() && line_start > 0 {
        // At the start of a statement: the previous one is unfinished.
        let prev_end = line_start - 1;
        let prev_start = text[..prev_end].rfind('\n').map_or(0, |p| p + 1);
        if text[prev_start..prev_end].trim().is_empty() {
            return error;
        }
        (prev_start, prev_end)
    } else {
        return error;
    };
    let statement = &text[statement_start..statement_end];
    let Some(eq) = statement_assignment(statement) else {
        return error;
    };
    let value_offset = statement[eq + 1..]
        .find(|c: char| !c.is_whitespace())
        .map(|p| eq + 1 + p);
    match value_offset {
        Some(v) => {
            let start = statement_start + v;
            let end = statement_start + statement.trim_end().len();
            start..end.max(start + 1)
        }
        None => error,
    }
}

/// The `=` of a `key = value` line (outside quotes), if the line is one.
fn statement_assignment(line: &str) -> Option<usize> {
    let trimmed = line.trim_start();
    if trimmed.starts_with('#') || trimmed.starts_with('[') {
        return None;
    }
    let mut quote: Option<char> = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '=') => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_move_onto_the_unfinished_value() {
        let text = "id = \"a.b\"\ntitle = \"unterminated\ncause = \"x\"\n";
        let end_of_line = text.find("\ncause").unwrap();
        let span = value_span(text, end_of_line..end_of_line);
        assert_eq!(&text[span], "\"unterminated");
        let text = "when = { status = 401\ncause = \"x\"\n";
        let next = text.find("cause").unwrap();
        let span = value_span(text, next..next);
        assert_eq!(&text[span], "{ status = 401");
        // Inside a value: unchanged.
        let text = "severity = error\n";
        let at = text.find("error").unwrap();
        assert_eq!(value_span(text, at..at + 5), at..at + 5);
        // A key with `=` in quotes.
        assert_eq!(statement_assignment("\"a=b\" = 1"), Some(6));
    }

    #[test]
    fn group_names_of_a_broken_pattern() {
        assert_eq!(
            group_names_in_text(r"(?P<user>\w+ (?<code>\d+"),
            ["user", "code"]
        );
    }
}
