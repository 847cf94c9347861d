//! The field corpus (tests/field/README.md): real public failure reports with
//! a confirmed cause. Every case runs; the figures must stay at or above
//! tests/field/floor.toml, and negatives must stay clean.

#[path = "support/field_corpus.rs"]
mod field_corpus;

use std::collections::BTreeMap;

use field_corpus::{builtin, cases, grade};

#[derive(serde::Deserialize)]
struct Floor {
    top1: f64,
    top3: f64,
    false_alarms: usize,
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
        let outcome = grade(&case, &a);
        if case.negative {
            neg += 1;
            if outcome.false_alarm {
                false_alarms.push(format!("{}: {:?}", dir.display(), outcome.ids));
            }
            continue;
        }
        assert!(
            !case.expect.is_empty(),
            "{}: a positive case names the rule ids it expects",
            dir.display()
        );
        pos += 1;
        top1 += outcome.top1 as usize;
        top3 += outcome.top3 as usize;
        let tally = by_provider.entry(case.provider.clone()).or_default();
        tally.0 += 1;
        tally.1 += outcome.top1 as usize;
        if !outcome.top1 {
            misses.push(format!(
                "{}: got {:?}, expected {:?}",
                dir.display(),
                &outcome.ids[..outcome.ids.len().min(3)],
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
