//! Compiles loaded rules once (input-wide patterns into one scanner) and
//! evaluates them against an incident's facts.

use std::collections::BTreeMap;

use super::{Condition, Literal, Op, Rule, Scope};
use crate::facts::{FactValue, Facts, InputFacts, InputPattern, InputScanner, Line};
use crate::input::{Loc, Span};
use crate::parse::Value;
use crate::providers::Providers;

/// Rules ready to run, with the provider data they rely on.
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub providers: Providers,
    scanner: InputScanner,
}

/// A piece of evidence: where a condition held, and what to say there.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub loc: Loc,
    pub label: String,
    /// The line, when the evidence lies outside the incident's excerpt.
    pub line: Option<Line>,
}

/// A rule that held, with its evidence and interpolation variables.
#[derive(Debug, Clone)]
pub struct RuleMatch {
    pub rule: usize,
    pub evidence: Vec<Evidence>,
    pub vars: BTreeMap<String, String>,
    /// How many conditions held: more means a more specific explanation.
    pub specificity: usize,
}

impl RuleSet {
    pub fn new(mut rules: Vec<Rule>, providers: Providers) -> Self {
        let mut input_patterns = Vec::new();
        for rule in &mut rules {
            let conds = rule
                .when
                .iter_mut()
                .chain(rule.any.iter_mut().flatten())
                .chain(rule.unless.iter_mut().flatten());
            for cond in conds.filter(|c| c.field == "input.text") {
                for op in &mut cond.ops {
                    if let Some(pattern) = input_regex(op) {
                        let id = input_patterns.len();
                        input_patterns.push((pattern, InputPattern::Condition(id)));
                        *op = Op::Input(id);
                    }
                }
            }
        }
        input_patterns.extend(InputScanner::place_patterns(&providers));
        // Each pattern compiled alone when its rule loaded; together they can
        // still exceed the regex size limit. Then input-wide tests find nothing,
        // which is reported rather than fatal.
        let scanner = InputScanner::new(input_patterns).unwrap_or_else(|e| {
            eprintln!("faultline: input-wide patterns could not be compiled together ({e}); input.* tests are disabled");
            InputScanner::new(Vec::new()).expect("an empty scanner compiles")
        });
        RuleSet {
            rules,
            providers,
            scanner,
        }
    }

    /// The input-wide scanner, compiled once for this rule set.
    pub fn scanner(&self) -> &InputScanner {
        &self.scanner
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Rules of `scope` that hold for `facts`.
    pub fn evaluate(&self, scope: Scope, facts: &Facts, input: &InputFacts) -> Vec<RuleMatch> {
        self.rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.scope == scope)
            .filter_map(|(i, r)| evaluate_rule(r, facts, input).map(|m| RuleMatch { rule: i, ..m }))
            .collect()
    }
}

/// The regex that answers an `input.text` test over raw text.
fn input_regex(op: &Op) -> Option<String> {
    let esc = |s: &str| regex::escape(s);
    Some(match op {
        Op::Regex(re) => format!("(?m){}", re.as_str()),
        Op::Contains(s) => format!("(?i){}", esc(s)),
        Op::StartsWith(s) => format!(r"(?im)^[ \t]*{}", esc(s)),
        Op::EndsWith(s) => format!(r"(?im){}[ \t]*$", esc(s)),
        Op::Equals(Literal::Str(s)) => format!(r"(?im)^[ \t]*{}[ \t]*$", esc(s)),
        Op::AnyOf(lits) => {
            let alts: Vec<String> = lits
                .iter()
                .map(|l| match l {
                    Literal::Str(s) => esc(s),
                    other => esc(&other.to_string()),
                })
                .collect();
            format!(r"(?im)^[ \t]*(?:{})[ \t]*$", alts.join("|"))
        }
        _ => return None,
    })
}

fn evaluate_rule(rule: &Rule, facts: &Facts, input: &InputFacts) -> Option<RuleMatch> {
    let mut evidence = Vec::new();
    let mut vars = BTreeMap::new();
    let mut specificity = 0;
    for cond in &rule.when {
        if !holds(cond, facts, input, &mut evidence, &mut vars) {
            return None;
        }
        specificity += 1;
    }
    if !rule.any.is_empty() {
        let held = rule.any.iter().find_map(|table| {
            let mut ev = Vec::new();
            let mut vs = BTreeMap::new();
            table
                .iter()
                .all(|c| holds(c, facts, input, &mut ev, &mut vs))
                .then_some((ev, vs, table.len()))
        });
        let (ev, vs, n) = held?;
        evidence.extend(ev);
        vars.extend(vs);
        specificity += n;
    }
    for group in &rule.unless {
        let blocked = group
            .iter()
            .all(|cond| holds(cond, facts, input, &mut Vec::new(), &mut BTreeMap::new()));
        if blocked {
            return None;
        }
    }
    Some(RuleMatch {
        rule: 0,
        evidence,
        vars,
        specificity,
    })
}

fn values<'a>(field: &str, facts: &'a Facts, input: &'a InputFacts) -> &'a [FactValue] {
    if field.starts_with("input.") {
        input.facts.get(field)
    } else {
        facts.get(field)
    }
}

/// Whether `cond` holds; on success, appends its evidence and captures.
fn holds(
    cond: &Condition,
    facts: &Facts,
    input: &InputFacts,
    evidence: &mut Vec<Evidence>,
    vars: &mut BTreeMap<String, String>,
) -> bool {
    let input_ops: Vec<usize> = cond
        .ops
        .iter()
        .filter_map(|op| match op {
            Op::Input(id) => Some(*id),
            _ => None,
        })
        .collect();
    if !input_ops.is_empty() {
        let mut found = Vec::new();
        for id in input_ops {
            match input.hits.by_pattern.get(id).and_then(|h| h.first()) {
                Some(hit) => found.push(hit),
                None => return false,
            }
        }
        for hit in found {
            vars.extend(hit.captures.iter().cloned());
            if cond.label.as_deref() == Some("") {
                continue;
            }
            evidence.push(Evidence {
                loc: hit.loc,
                label: cond.label.clone().unwrap_or_else(|| "stated here".into()),
                line: Some(hit.line.clone()),
            });
        }
        return true;
    }
    let vals = values(&cond.field, facts, input);
    if cond.ops.iter().all(|op| matches!(op, Op::Exists(false))) {
        return vals.is_empty();
    }
    for v in vals {
        let mut caps = Vec::new();
        let mut narrowed: Option<(usize, usize)> = None;
        let text = v.value.to_string();
        let ok = cond
            .ops
            .iter()
            .all(|op| test(op, &v.value, &text, facts, input, &mut caps, &mut narrowed));
        if !ok {
            continue;
        }
        vars.extend(caps);
        // `label = ""` marks a context condition: it must hold, but is not
        // worth pointing at.
        let silent = cond.label.as_deref() == Some("");
        if let Some(loc) = v.loc.filter(|_| !silent) {
            let loc = match narrowed {
                Some(range) if loc.span.len() == text.len() => narrow(loc, &text, range),
                _ => loc,
            };
            let line = input_line(&cond.field, input, &loc);
            evidence.push(Evidence {
                loc,
                label: cond
                    .label
                    .clone()
                    .unwrap_or_else(|| default_label(&cond.field, &text)),
                line,
            });
        }
        return true;
    }
    false
}

/// Input-wide facts live outside any incident's excerpt; bring their line.
fn input_line(field: &str, input: &InputFacts, loc: &Loc) -> Option<Line> {
    if !field.starts_with("input.") {
        return None;
    }
    input
        .lines
        .iter()
        .find(|l| {
            l.source == loc.source
                && l.offset <= loc.span.start
                && loc.span.start <= l.offset + l.text.len()
        })
        .cloned()
}

fn default_label(field: &str, value: &str) -> String {
    if matches!(field, "text" | "body" | "input.text") || value.len() > 60 || value.contains('\n') {
        field.to_string()
    } else {
        format!("{field} = {value}")
    }
}

/// The part of a verbatim value that a text test matched.
fn narrow(loc: Loc, text: &str, (start, end): (usize, usize)) -> Loc {
    let before = &text[..start];
    let (line, column) = match before.rfind('\n') {
        Some(nl) => (loc.line + before.matches('\n').count(), start - nl),
        None => (loc.line, loc.column + start),
    };
    Loc {
        source: loc.source,
        span: Span::new(loc.span.start + start, loc.span.start + end),
        line,
        column,
    }
}

fn eq_literal(lit: &Literal, value: &Value, text: &str) -> bool {
    match lit {
        Literal::Str(s) => text.eq_ignore_ascii_case(s),
        Literal::Num(n) => value.as_num() == Some(*n),
        Literal::Bool(b) => text.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
    }
}

fn test(
    op: &Op,
    value: &Value,
    text: &str,
    facts: &Facts,
    input: &InputFacts,
    caps: &mut Vec<(String, String)>,
    narrowed: &mut Option<(usize, usize)>,
) -> bool {
    match op {
        Op::Equals(lit) => eq_literal(lit, value, text),
        Op::AnyOf(lits) => lits.iter().any(|l| eq_literal(l, value, text)),
        Op::Regex(re) => {
            match re.captures(text) {
                Some(c) => {
                    let m = c.get(0).expect("group 0");
                    *narrowed = Some((m.start(), m.end()));
                    caps.extend(re.capture_names().flatten().filter_map(|n| {
                        c.name(n).map(|g| (n.to_string(), g.as_str().to_string()))
                    }));
                    true
                }
                None => false,
            }
        }
        Op::Contains(s) => {
            let lower = text.to_lowercase();
            let found = lower.find(s.as_str());
            // Lower-casing can change byte lengths (non-ASCII); only then is
            // the position not valid in the original text.
            if let Some(p) = found.filter(|_| lower.len() == text.len()) {
                *narrowed = Some((p, p + s.len()));
            }
            found.is_some()
        }
        Op::StartsWith(s) => text.to_lowercase().starts_with(s.as_str()),
        Op::EndsWith(s) => text.to_lowercase().ends_with(s.as_str()),
        Op::Exists(b) => *b,
        Op::Gt(n) => value.as_num().is_some_and(|v| v > *n),
        Op::Lt(n) => value.as_num().is_some_and(|v| v < *n),
        Op::Gte(n) => value.as_num().is_some_and(|v| v >= *n),
        Op::Lte(n) => value.as_num().is_some_and(|v| v <= *n),
        Op::SameAs(other) => values(other, facts, input)
            .iter()
            .any(|o| o.value.to_string().eq_ignore_ascii_case(text)),
        Op::Input(_) => false,
    }
}

/// Fills `{name}` from regex captures, then the incident's facts, then the
/// input-wide facts. Unknown names stay as written.
pub fn interpolate(
    template: &str,
    vars: &BTreeMap<String, String>,
    facts: &Facts,
    input: &InputFacts,
) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}');
        let name = close.map(|c| &after[..c]);
        let value = name
            .filter(|n| !n.is_empty() && !n.contains(char::is_whitespace))
            .and_then(|n| {
                vars.get(n)
                    .cloned()
                    .or_else(|| values(n, facts, input).first().map(|v| v.value.to_string()))
            });
        match (value, close) {
            (Some(v), Some(c)) => {
                out.push_str(&v);
                rest = &after[c + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}
