//! The field corpus (tests/field/README.md), read and graded the same way for
//! the floor test (tests/field.rs) and the README's coverage table
//! (tests/docs_generated.rs).

// Each test binary that includes this module uses a different part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use faultline::Analysis;
use faultline::rules::{RuleSet, Severity, load::load};

pub fn builtin() -> RuleSet {
    let report = load(&faultline::rules::builtin_sources());
    assert!(report.problems.is_empty());
    RuleSet::new(report.rules, report.providers)
}

#[derive(serde::Deserialize)]
pub struct Case {
    pub provider: String,
    pub shape: String,
    #[serde(default)]
    pub expect: Vec<String>,
    #[serde(default)]
    pub expect_top3: Vec<String>,
    #[serde(default)]
    pub negative: bool,
    pub source: String,
    pub cause: String,
}

/// Every case: its folder, its one input file and its case.toml, in path order.
pub fn cases() -> Vec<(PathBuf, PathBuf, Case)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/field/cases");
    let mut out = Vec::new();
    let Ok(providers) = std::fs::read_dir(&root) else {
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
pub fn answers(a: &Analysis) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for d in &a.diagnoses {
        if d.severity != Severity::Info && !ids.contains(&d.id) {
            ids.push(d.id.clone());
        }
    }
    ids
}

/// A failing exchange that was not retried successfully makes the run fail.
pub fn has_unrecovered_failure(a: &Analysis) -> bool {
    a.incidents
        .iter()
        .any(|i| i.facts.str("recovered") != Some("true"))
}

/// How one case went.
pub struct Outcome {
    pub top1: bool,
    pub top3: bool,
    pub false_alarm: bool,
    pub ids: Vec<String>,
}

pub fn grade(case: &Case, a: &Analysis) -> Outcome {
    let ids = answers(a);
    if case.negative {
        let false_alarm = !ids.is_empty() || has_unrecovered_failure(a);
        return Outcome {
            top1: false,
            top3: false,
            false_alarm,
            ids,
        };
    }
    let top1 = ids.first().is_some_and(|id| case.expect.contains(id));
    let top3 = ids
        .iter()
        .take(3)
        .any(|id| case.expect.contains(id) || case.expect_top3.contains(id));
    Outcome {
        top1,
        top3,
        false_alarm: false,
        ids,
    }
}

/// Counts for one group of cases (a provider, a shape, or all).
#[derive(Default, Clone)]
pub struct Tally {
    pub positives: usize,
    pub top1: usize,
    pub top3: usize,
    pub negatives: usize,
    pub false_alarms: usize,
}

impl Tally {
    pub fn add(&mut self, case: &Case, outcome: &Outcome) {
        if case.negative {
            self.negatives += 1;
            self.false_alarms += outcome.false_alarm as usize;
        } else {
            self.positives += 1;
            self.top1 += outcome.top1 as usize;
            self.top3 += outcome.top3 as usize;
        }
    }
}

/// The whole corpus graded: overall, by provider and by shape.
pub struct Figures {
    pub overall: Tally,
    pub by_provider: BTreeMap<String, Tally>,
    pub by_shape: BTreeMap<String, Tally>,
    pub shapes_by_provider: BTreeMap<String, std::collections::BTreeSet<String>>,
}

pub fn figures(rules: &RuleSet) -> Figures {
    let mut f = Figures {
        overall: Tally::default(),
        by_provider: BTreeMap::new(),
        by_shape: BTreeMap::new(),
        shapes_by_provider: BTreeMap::new(),
    };
    for (_, input, case) in cases() {
        let bytes = std::fs::read(&input).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let a = faultline::analyze_text(&input.to_string_lossy(), &text, rules);
        let outcome = grade(&case, &a);
        f.overall.add(&case, &outcome);
        f.by_provider
            .entry(case.provider.clone())
            .or_default()
            .add(&case, &outcome);
        f.by_shape
            .entry(case.shape.clone())
            .or_default()
            .add(&case, &outcome);
        f.shapes_by_provider
            .entry(case.provider.clone())
            .or_default()
            .insert(case.shape.clone());
    }
    f
}
