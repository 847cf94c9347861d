//! The field corpus (tests/field/README.md): real public failure reports with
//! a confirmed cause. Every case runs; the figures must stay at or above
//! tests/field/floor.toml, and negatives must stay clean.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use faultline::Analysis;
use faultline::rules::{RuleSet, Severity, load::load};

fn builtin() -> RuleSet {
    let report = load(&faultline::rules::builtin_sources());
    assert!(report.problems.is_empty());
    RuleSet::new(report.rules, report.providers)
}

#[derive(serde::Deserialize)]
struct Case {
    provider: String,
    shape: String,
    #[serde(default)]
    expect: Vec<String>,
    #[serde(default)]
    expect_top3: Vec<String>,
    #[serde(default)]
    negative: bool,
    source: String,
    cause: String,
}

#[derive(serde::Deserialize)]
struct Floor {
    top1: f64,
    top3: f64,
    false_alarms: usize,
}

fn cases() -> Vec<(PathBuf, PathBuf, Case)> {
    let root = Path::new("tests/field/cases");
    let mut out = Vec::new();
    let Ok(providers) = std::fs::read_dir(root) else {
        return out;
    };
    let mut dirs: Vec<PathBuf> = providers
        .flatten()
        .filter(|e| e.path().is_dir())
        .flat_map(|e| std::fs::read_dir(e.path()).into_iter().flatten().flatten())
        .map(|e| e.path())
        .filter(|p| p.join("case.toml").is_file())
        .collect();
    dirs.sort();
    for dir in dirs {
        let meta = std::fs::read_to_string(dir.join("case.toml")).unwrap();
        let case: Case = toml::from_str(&meta)
            .unwrap_or_else(|e| panic!("{}: bad case.toml: {e}", dir.display()));
        let inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("input."))
            })
            .collect();
        assert_eq!(
            inputs.len(),
            1,
            "{}: a case has exactly one input.* file",
            dir.display()
        );
        out.push((dir, inputs[0].clone(), case));
    }
    out
}

/// Error and warning diagnoses, best first, each rule once.
fn answers(a: &Analysis) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for d in &a.diagnoses {
        if d.severity != Severity::Info && !ids.contains(&d.id) {
            ids.push(d.id.clone());
        }
    }
    ids
}

/// A failing exchange that was not retried successfully makes the run fail.
fn has_unrecovered_failure(a: &Analysis) -> bool {
    a.incidents
        .iter()
        .any(|i| i.facts.str("recovered") != Some("true"))
}

#[test]
fn field_corpus_holds_its_floor() {
    let rules = builtin();
    let floor: Floor =
        toml::from_str(&std::fs::read_to_string("tests/field/floor.toml").unwrap()).unwrap();
    let (mut pos, mut top1, mut top3, mut neg) = (0usize, 0usize, 0usize, 0usize);
    let mut false_alarms = Vec::new();
    let mut misses = Vec::new();
    let mut by_provider: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (dir, input, case) in cases() {
        assert!(
            case.source.starts_with("http") || case.negative,
            "{}: a positive case cites the public report it comes from",
            dir.display()
        );
        assert!(!case.cause.trim().is_empty(), "{}: no cause", dir.display());
        assert!(!case.shape.is_empty());
        let bytes = std::fs::read(&input).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let a = faultline::analyze_text(&input.to_string_lossy(), &text, &rules);
        let ids = answers(&a);
        if case.negative {
            neg += 1;
            if !ids.is_empty() || has_unrecovered_failure(&a) {
                false_alarms.push(format!("{}: {:?}", dir.display(), ids));
            }
            continue;
        }
        assert!(
            !case.expect.is_empty(),
            "{}: a positive case names the rule ids it expects",
            dir.display()
        );
        pos += 1;
        let first = ids.first().is_some_and(|id| case.expect.contains(id));
        let within = ids
            .iter()
            .take(3)
            .any(|id| case.expect.contains(id) || case.expect_top3.contains(id));
        top1 += first as usize;
        top3 += within as usize;
        let tally = by_provider.entry(case.provider.clone()).or_default();
        tally.0 += 1;
        tally.1 += first as usize;
        if !first {
            misses.push(format!(
                "{}: got {:?}, expected {:?}",
                dir.display(),
                &ids[..ids.len().min(3)],
                case.expect
            ));
        }
    }
    let frac = |n: usize| if pos == 0 { 1.0 } else { n as f64 / pos as f64 };
    eprintln!(
        "field corpus: {pos} positives, top-1 {top1} ({:.1}%), top-3 {top3} ({:.1}%); {neg} negatives, {} false alarms",
        100.0 * frac(top1),
        100.0 * frac(top3),
        false_alarms.len()
    );
    for (p, (n, t)) in &by_provider {
        eprintln!("  {p}: {t}/{n}");
    }
    assert!(
        false_alarms.len() <= floor.false_alarms,
        "false alarms on negatives:\n{}",
        false_alarms.join("\n")
    );
    assert!(
        frac(top1) + 1e-9 >= floor.top1 && frac(top3) + 1e-9 >= floor.top3,
        "field corpus below its floor (top-1 {:.3} < {}, or top-3 {:.3} < {}); misses:\n{}",
        frac(top1),
        floor.top1,
        frac(top3),
        floor.top3,
        misses.join("\n")
    );
}
