//! Runs rules' own examples: each example is analysed with only its rule
//! loaded (so other rules cannot mask a failure), and must match or not as
//! it says. `faultline rules test` and the built-in pack's tests share this.

use super::{Condition, Rule, RuleSet, Scope};
use crate::facts::{FactValue, Facts, InputFacts};
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
                explain(&set, &analysis)
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

fn show_values(values: &[FactValue]) -> String {
    if values.is_empty() {
        return "no value".into();
    }
    let shown: Vec<String> = values
        .iter()
        .take(3)
        .map(|v| {
            let s = v.value.to_string();
            let s = if s.len() > 80 { format!("{}…", &s[..s.floor_char_boundary(80)]) } else { s };
            format!("{s:?}")
        })
        .collect();
    shown.join(", ")
}

fn describe(cond: &Condition, facts: &Facts, input: &InputFacts, set: &RuleSet) -> (bool, String) {
    let rule = &set.rules[0];
    let single = Rule {
        when: vec![cond.clone()],
        any: Vec::new(),
        unless: Vec::new(),
        ..rule.clone()
    };
    let one = RuleSet::new(vec![single], set.providers.clone());
    // Re-evaluating with a one-condition rule reuses the engine's semantics.
    let held = !one.evaluate(rule.scope, facts, input).is_empty() || {
        // input.text patterns are numbered per rule set; answer from the hits.
        cond.field == "input.text" && !set.evaluate(rule.scope, facts, input).is_empty()
    };
    let values = if cond.field.starts_with("input.") {
        input.facts.get(&cond.field)
    } else {
        facts.get(&cond.field)
    };
    let detail = if cond.field == "input.text" {
        String::new()
    } else {
        format!(" (value: {})", show_values(values))
    };
    (held, format!("`{}`{detail}", cond.source_text))
}

/// Which conditions held, per incident (or for the input as a whole).
fn explain(set: &RuleSet, analysis: &crate::Analysis) -> Vec<String> {
    let rule = &set.rules[0];
    let mut lines = Vec::new();
    let targets: Vec<(String, &Facts)> = match rule.scope {
        Scope::Input => vec![("the input".into(), &EMPTY)],
        Scope::Incident => analysis
            .incidents
            .iter()
            .map(|i| (format!("incident at line {} ({})", i.loc.line, i.headline()), &i.facts))
            .collect(),
    };
    if targets.is_empty() {
        lines.push("no failing exchange was found in the input (nothing for the rule to match)".into());
    }
    for (name, facts) in targets {
        lines.push(format!("{name}:"));
        for c in &rule.when {
            let (held, text) = describe(c, facts, &analysis.input, set);
            lines.push(format!("  when {} {text}", if held { "held" } else { "FAILED" }));
        }
        for (i, table) in rule.any.iter().enumerate() {
            for c in table {
                let (held, text) = describe(c, facts, &analysis.input, set);
                lines.push(format!("  any[{i}] {} {text}", if held { "held" } else { "failed" }));
            }
        }
        for c in &rule.unless {
            let (held, text) = describe(c, facts, &analysis.input, set);
            lines.push(format!("  unless {} {text}", if held { "HELD (blocks the rule)" } else { "did not hold" }));
        }
    }
    lines
}

static EMPTY: std::sync::LazyLock<Facts> = std::sync::LazyLock::new(Facts::default);
