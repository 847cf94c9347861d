//! Runs rules' own examples: each example is analysed with only its rule
//! loaded (so other rules cannot mask a failure), and must match or not as
//! it says. `faultline rules test` (user rules and `--builtin`) and the
//! built-in pack's tests share this, including the summary text.

use super::scan::InputFacts;
use super::{Condition, LazyLogic, Logic, Op, Rule, RuleSet, Scope};
use crate::facts::{FactValue, Facts};
use crate::providers::Providers;

/// The outcome of one example.
#[derive(Debug)]
pub struct ExampleResult<'r> {
    pub rule: &'r Rule,
    pub index: usize,
    pub expected: bool,
    pub fired: bool,
    /// For a failure: why, condition by condition.
    pub explanation: Vec<String>,
}

impl ExampleResult<'_> {
    pub fn passed(&self) -> bool {
        self.expected == self.fired
    }

    pub fn name(&self) -> String {
        let ex = &self.rule.examples[self.index];
        ex.name
            .clone()
            .unwrap_or_else(|| format!("example {} (line {})", self.index + 1, ex.line))
    }
}

pub fn run_examples<'r>(rules: &'r [Rule], providers: &Providers) -> Vec<ExampleResult<'r>> {
    let mut out = Vec::new();
    for rule in rules {
        let set = RuleSet::new(vec![rule.clone()], providers.clone());
        for (index, ex) in rule.examples.iter().enumerate() {
            let analysis = crate::analyze_text("example", &ex.input, &set);
            let fired = !analysis.diagnoses.is_empty();
            let explanation = if fired == ex.matches {
                Vec::new()
            } else {
                explain(&set, &analysis, fired)
            };
            out.push(ExampleResult {
                rule,
                index,
                expected: ex.matches,
                fired,
                explanation,
            });
        }
    }
    out
}

/// The summary `faultline rules test` prints: one line per rule, then each
/// failure with the conditions that did (not) hold and the facts' values,
/// then a closing `N passed, N failed` line.
pub fn report(results: &[ExampleResult]) -> String {
    let mut out = String::new();
    let mut rules: Vec<&Rule> = Vec::new();
    for r in results {
        if !rules.iter().any(|k| std::ptr::eq(*k, r.rule)) {
            rules.push(r.rule);
        }
    }
    let width = rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for rule in &rules {
        let mine: Vec<&ExampleResult> = results
            .iter()
            .filter(|r| std::ptr::eq(r.rule, *rule))
            .collect();
        let failed = mine.iter().filter(|r| !r.passed()).count();
        let marks: String = mine
            .iter()
            .map(|r| match (r.passed(), r.expected) {
                (true, _) => '.',
                (false, true) => 'M',
                (false, false) => 'N',
            })
            .collect();
        let verdict = if failed == 0 {
            format!("ok ({} examples)", mine.len())
        } else {
            format!("FAILED ({failed} of {} examples)", mine.len())
        };
        out.push_str(&format!(
            "{:<width$}  {marks:<6} {verdict:<24} {}\n",
            rule.id, rule.origin.file
        ));
    }
    let failed: Vec<&ExampleResult> = results.iter().filter(|r| !r.passed()).collect();
    for f in &failed {
        let ex = &f.rule.examples[f.index];
        out.push_str(&format!(
            "\n--- {} › {} ({}:{})\n",
            f.rule.id,
            f.name(),
            f.rule.origin.file,
            ex.line
        ));
        if f.expected {
            out.push_str("expected a match (`matches = true`), but the rule did not fire\n");
        } else {
            out.push_str("expected no match (`matches = false`), but the rule fired\n");
        }
        for l in &f.explanation {
            out.push_str(&format!("  {l}\n"));
        }
    }
    if !failed.is_empty() {
        out.push_str("\n(. passed  M: positive example missed  N: negative example matched)\n");
    }
    let examples = results.len();
    out.push_str(&format!(
        "\n{examples} example{} of {} rule{}\n{} passed, {} failed\n",
        if examples == 1 { "" } else { "s" },
        rules.len(),
        if rules.len() == 1 { "" } else { "s" },
        examples - failed.len(),
        failed.len()
    ));
    out
}

fn show_value(v: &FactValue) -> String {
    let s = v.value.to_string();
    let s = if s.len() > 80 {
        format!("{}…", &s[..s.floor_char_boundary(80)])
    } else {
        s
    };
    format!("{s:?}")
}

fn show_values(values: &[FactValue]) -> String {
    match values {
        [] => "no value".into(),
        [one] => format!("value {}", show_value(one)),
        many => {
            let shown: Vec<String> = many.iter().take(3).map(show_value).collect();
            let more = if many.len() > 3 { ", …" } else { "" };
            format!("values {}{more}", shown.join(", "))
        }
    }
}

/// Whether the compiled condition `cond` holds, and what the fact was.
fn describe(
    cond: &Condition,
    written: &str,
    facts: &Facts,
    input: &InputFacts,
    set: &RuleSet,
    hint: bool,
) -> (bool, String) {
    let rule = &set.rules[0];
    if cond.field == "input.text" {
        // The input-wide scan already ran with the rule's patterns: read
        // its hits for this condition's pattern(s).
        let hits: Vec<_> = cond
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::Input(id) => Some(input.hits.by_pattern.get(*id).and_then(|h| h.first())),
                _ => None,
            })
            .collect();
        let held = !hits.is_empty() && hits.iter().all(Option::is_some);
        let detail = match hits.iter().flatten().next() {
            Some(hit) if held => format!(" (found on line {}: {:?})", hit.line.number, hit.matched),
            _ => " (found nowhere in the input)".into(),
        };
        return (held, format!("`{}`{detail}", written));
    }
    let single = Rule {
        logic: LazyLogic::new(Logic {
            when: vec![cond.clone()],
            ..Logic::default()
        }),
        ..rule.clone()
    };
    let one = RuleSet::new(vec![single], set.providers.clone());
    // Re-evaluating with a one-condition rule reuses the engine's semantics.
    let held = !one.evaluate(rule.scope, facts, input).is_empty();
    let values = if cond.field.starts_with("input.") {
        input.facts.get(&cond.field)
    } else {
        facts.get(&cond.field)
    };
    let mut detail = format!(" ({})", show_values(values));
    if hint && values.is_empty() && !held && !cond.field.starts_with("input.") {
        let present: Vec<&str> = facts
            .iter()
            .map(|(k, _)| k)
            .filter(|k| !matches!(*k, "text" | "body"))
            .collect();
        if !present.is_empty() {
            let shown: Vec<&str> = present.iter().take(12).copied().collect();
            let more = if present.len() > 12 { ", …" } else { "" };
            detail = format!(" (no value; this incident has: {}{more})", shown.join(", "));
        }
    }
    (held, format!("`{}`{detail}", written))
}

/// Which conditions held, per incident (or for the input as a whole).
fn explain(set: &RuleSet, analysis: &crate::Analysis, fired: bool) -> Vec<String> {
    let rule = &set.rules[0];
    let mut lines = Vec::new();
    let targets: Vec<(String, &Facts)> = match rule.scope {
        Scope::Input => vec![("the input as a whole".into(), &EMPTY)],
        Scope::Incident => analysis
            .incidents
            .iter()
            .map(|i| {
                (
                    format!("failing exchange at line {} ({})", i.loc.line, i.headline()),
                    &i.facts,
                )
            })
            .collect(),
    };
    if targets.is_empty() {
        lines.push(
            "faultline found no failing exchange in this input (no HTTP error status, error body or exception), so there was nothing for the rule to match"
                .into(),
        );
        lines
            .push("check that the example is a complete log excerpt, response or traceback".into());
    }
    for (name, facts) in targets {
        lines.push(format!("{name}:"));
        // In the order of `Rule::conditions`: `when`, `any`, `unless`.
        let mut written = rule.condition_texts().iter();
        let mut next_written = || written.next().map_or("", String::as_str);
        let logic = rule.logic();
        for c in &logic.when {
            let (held, text) = describe(c, next_written(), facts, &analysis.input, set, true);
            lines.push(format!("  {} when {text}", mark(held)));
        }
        for (i, table) in logic.any.iter().enumerate() {
            let mut all = true;
            let mut parts = Vec::new();
            for c in table {
                let (held, text) = describe(c, next_written(), facts, &analysis.input, set, true);
                all &= held;
                parts.push(format!("  {} any[{i}] {text}", mark(held)));
            }
            lines.extend(parts);
            if all {
                lines.push(format!("    (any[{i}] held as a whole)"));
            }
        }
        for c in logic.unless.iter().flatten() {
            let (held, text) = describe(c, next_written(), facts, &analysis.input, set, false);
            let tag = if held {
                "✗ unless held, which blocks the rule:"
            } else {
                "✓ unless did not hold:"
            };
            lines.push(format!("  {tag} {text}"));
        }
    }
    if fired {
        lines.push(
            "the rule fired: make `when` narrower, or add an `unless` that this near miss meets"
                .into(),
        );
    }
    lines
}

fn mark(held: bool) -> &'static str {
    if held { "✓" } else { "✗" }
}

static EMPTY: std::sync::LazyLock<Facts> = std::sync::LazyLock::new(Facts::default);
