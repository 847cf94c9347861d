//! Loads rule files: TOML → validated [`Rule`]s. Every problem in a file is
//! collected with the exact span it concerns, like a compiler, and the valid
//! rules (of this file and of the others) still load.

mod catalogue;
mod problems;
mod validate;
mod walk;

use std::ops::Range;

use miette::NamedSource;
use toml::Spanned;

pub use catalogue::{EXAMPLE_KEYS, OPERATORS, RULE_KEYS, is_valid_id};
pub use problems::{RuleProblem, did_you_mean};
use validate::FileLoader;
pub use walk::{RuleSource, rule_files};

use crate::providers::Providers;
use crate::rules::Rule;

/// Everything loaded from a set of rule files.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub rules: Vec<Rule>,
    pub providers: Providers,
    pub problems: Vec<RuleProblem>,
}

/// Loads every source in order. Later sources may override earlier built-in
/// rules by id; any other duplicate id is a problem. Problems come back in
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
                if first_source.builtin && !source.builtin {
                    report.rules.retain(|r| r.id != rule.id);
                    let mut rule = rule;
                    rule.origin.overrides_builtin = true;
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
