//! `faultline rules check` and `rules test` as library calls: the loader's
//! problems plus what only a check looks for (patterns compiled now, the
//! authoring warnings of `lint`), and their JSON form for CI.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::lint::{Vocabulary, lint};
use super::load::{LineIndex, LoadReport, RuleProblem, RuleSource, load_over_builtin};
use super::selftest::ExampleResult;
use super::{Rule, RuleSet};

/// User rule files checked over the built-in pack.
pub struct Checked {
    pub report: LoadReport,
    /// Errors and warnings, in file order, then by position.
    pub problems: Vec<RuleProblem>,
}

impl Checked {
    /// The valid user rules.
    pub fn user_rules(&self) -> Vec<&Rule> {
        self.report
            .rules
            .iter()
            .filter(|r| !r.origin.builtin)
            .collect()
    }

    pub fn errors(&self) -> usize {
        self.problems.iter().filter(|p| p.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.problems.len() - self.errors()
    }
}

/// Loads `sources` over the built-in pack and checks them: every problem
/// the loader finds, every pattern compiled (one too large for the regex
/// engine is an error here, not a surprise later), and with `lints` the
/// authoring warnings.
pub fn check(sources: &[RuleSource], lints: bool) -> Checked {
    let mut report = load_over_builtin(sources, true);
    let mut problems = std::mem::take(&mut report.problems);
    let user: Vec<Rule> = report
        .rules
        .iter()
        .filter(|r| !r.origin.builtin)
        .cloned()
        .collect();
    problems.extend(RuleSet::new(user, report.providers.clone()).compile_all());
    if lints {
        let builtin: Vec<Rule> = report
            .rules
            .iter()
            .filter(|r| r.origin.builtin)
            .cloned()
            .collect();
        let mut vocabulary = Vocabulary::new(&builtin, &report.providers);
        problems.extend(lint(&report, &mut vocabulary));
    }
    let order: HashMap<&str, usize> = sources
        .iter()
        .enumerate()
        .rev()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    problems.sort_by_key(|p| {
        (
            order.get(p.file.as_str()).copied().unwrap_or(usize::MAX),
            p.offset(),
        )
    });
    Checked { report, problems }
}

/// A problem as JSON: code, severity, message, file, 1-based line and
/// column (of the span's start; null without a place), byte span, label,
/// help, related places.
pub fn problem_json(p: &RuleProblem) -> Value {
    let place = match (&p.source_code, p.span) {
        (Some(src), Some(span)) => {
            let text = src.inner();
            let start = span.offset().min(text.len());
            let line = LineIndex::new(text).line(start);
            let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            let column = text[line_start..start].chars().count() + 1;
            Some((line, column, start, start + span.len()))
        }
        _ => None,
    };
    json!({
        "code": p.code,
        "severity": match p.severity {
            miette::Severity::Error => "error",
            miette::Severity::Warning => "warning",
            miette::Severity::Advice => "advice",
        },
        "message": p.message,
        "file": p.file,
        "line": place.map(|p| p.0),
        "column": place.map(|p| p.1),
        "span": place.map(|p| json!({ "start": p.2, "end": p.3 })),
        "label": (!p.label.is_empty()).then_some(&p.label),
        "help": p.help,
        "related": p.related.iter().map(problem_json).collect::<Vec<_>>(),
    })
}

/// `rules check --format json`: `faultline/rules-check@1`.
pub fn check_json(checked: &Checked, files: usize) -> Value {
    json!({
        "format": "faultline/rules-check@1",
        "files": files,
        "rules": checked.user_rules().len(),
        "errors": checked.errors(),
        "warnings": checked.warnings(),
        "problems": checked.problems.iter().map(problem_json).collect::<Vec<_>>(),
    })
}

/// `rules test --format json`: `faultline/rules-test@1`, one entry per
/// example, with the condition-by-condition explanation of each failure.
pub fn test_json(results: &[ExampleResult], problems: &[RuleProblem]) -> Value {
    let examples: Vec<Value> = results
        .iter()
        .map(|r| {
            let ex = &r.rule.examples[r.index];
            json!({
                "rule": r.rule.id,
                "file": r.rule.origin.file,
                "line": ex.line,
                "name": r.name(),
                "expected": if r.expected { "match" } else { "no-match" },
                "fired": r.fired,
                "passed": r.passed(),
                "explanation": r.explanation,
            })
        })
        .collect();
    let failed = results.iter().filter(|r| !r.passed()).count();
    json!({
        "format": "faultline/rules-test@1",
        "examples": examples,
        "passed": results.len() - failed,
        "failed": failed,
        "problems": problems.iter().map(problem_json).collect::<Vec<_>>(),
    })
}
