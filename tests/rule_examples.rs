//! Every built-in rule loads cleanly and passes its own examples, run through
//! the same code path as `faultline rules test`.

use faultline::rules::load::load;
use faultline::rules::selftest::run_examples;

#[test]
fn builtin_rules_load_without_problems() {
    let report = load(&faultline::rules::builtin_sources());
    let problems: Vec<String> = report
        .problems
        .iter()
        .map(|p| format!("{}:{}: {} [{}]", p.file, p.line(), p.message, p.code))
        .collect();
    assert!(problems.is_empty(), "problems in the built-in pack:\n{}", problems.join("\n"));
    assert!(report.rules.len() >= 20, "only {} rules", report.rules.len());
}

#[test]
fn builtin_rule_examples_pass() {
    let report = load(&faultline::rules::builtin_sources());
    let results = run_examples(&report.rules, &report.providers);
    let failures: Vec<String> = results
        .iter()
        .filter(|r| !r.passed())
        .map(|r| {
            format!(
                "{} — {} ({}:{}): expected {}, got {}\n    {}",
                r.rule.id,
                r.name(),
                r.rule.origin.file,
                r.rule.examples[r.index].line,
                if r.expected { "match" } else { "no match" },
                if r.fired { "match" } else { "no match" },
                r.explanation.join("\n    ")
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} examples failed:\n{}",
        failures.len(),
        results.len(),
        failures.join("\n")
    );
    // Every rule has at least one positive and one negative example.
    for rule in &report.rules {
        assert!(rule.examples.iter().any(|e| e.matches), "{} has no positive example", rule.id);
        assert!(rule.examples.iter().any(|e| !e.matches), "{} has no negative example", rule.id);
    }
}
