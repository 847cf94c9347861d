//! Flat memory (issues 10 §5, 12 §2): what a run keeps stays bounded
//! however large the input grows — counted here (incidents kept, facts and
//! places per incident, bytes handed out per chunk), never timed or read
//! from the process's RSS (benches/run.sh measures that).

use faultline::input::{self, MAX_LINE};
use faultline::rules::{RuleSet, load::load};
use faultline::{Analysis, ScanOptions, analyze_text_with};

fn builtin() -> RuleSet {
    let report = load(&faultline::rules::builtin_sources());
    assert!(report.problems.is_empty());
    RuleSet::new(report.rules, report.providers)
}

fn analyse(rules: &RuleSet, text: &str) -> Analysis {
    let opts = ScanOptions {
        threads: 2,
        chunk_size: 64 << 10,
    };
    analyze_text_with("grow", text, rules, opts)
}

/// What the run holds at its end, as counts.
fn held(a: &Analysis) -> (usize, usize, usize, usize) {
    let bytes = a
        .incidents
        .iter()
        .map(faultline::incidents::incident_size)
        .sum();
    let places = a
        .incidents
        .iter()
        .map(|i| i.repeats.len())
        .max()
        .unwrap_or(0);
    let values = a
        .incidents
        .iter()
        .flat_map(|i| i.facts.iter().map(|(_, v)| v.len()))
        .max()
        .unwrap_or(0);
    (a.incidents.len(), bytes, places, values)
}

/// Every line a distinct failure, at 1×, 4× and 16× the size: the kept
/// incidents and their bytes stop growing at the caps, and every failure is
/// still accounted for (kept, or counted in the note).
#[test]
fn distinct_failures_keep_bounded_evidence_as_the_input_grows() {
    let rules = builtin();
    let mut seen = Vec::new();
    for n in [1_000, 4_000, 16_000] {
        let text: String = (0..n)
            .map(|i| format!("POST https://api.example.com/v1/orders/{i} -> 503\n"))
            .collect();
        let a = analyse(&rules, &text);
        let (kept, bytes, _, _) = held(&a);
        assert!(
            kept <= faultline::incidents::MAX_KEPT,
            "{n} lines: {kept} kept"
        );
        // The byte cap is checked before an incident is kept: one over it at most.
        assert!(
            bytes <= faultline::incidents::MAX_KEPT_BYTES + (64 << 10),
            "{n} lines: {bytes} bytes kept"
        );
        assert_eq!(kept + a.not_kept.failures, n, "{n} lines: failures lost");
        seen.push((kept, bytes));
    }
    // The bounds above do not depend on the input's size; and the caps
    // are reached, so the larger inputs did hit them.
    assert_eq!(seen[2].0, faultline::incidents::MAX_KEPT, "{seen:?}");
}

/// A retry storm, at 1×, 4× and 16×: one incident whose count is exact and
/// whose list of places is capped.
#[test]
fn a_retry_storm_is_one_incident_with_bounded_places() {
    let rules = builtin();
    for n in [1_000, 4_000, 16_000] {
        let text = "requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://api.example.com/v2/users/me\n"
            .repeat(n);
        let a = analyse(&rules, &text);
        assert_eq!(a.incidents.len(), 1, "{n} lines");
        let inc = &a.incidents[0];
        assert_eq!(inc.repeat_count, n - 1, "{n} lines");
        assert!(inc.repeats.len() <= faultline::incidents::MAX_REPEAT_PLACES);
        assert_eq!(a.not_kept.failures, 0);
    }
}

/// A body with an ever longer array: the facts flattened from it stop
/// growing, and the incident says its evidence was capped.
#[test]
fn a_big_body_gives_bounded_facts() {
    let rules = builtin();
    let mut counts = Vec::new();
    for n in [300, 1_200, 4_800] {
        let items: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    "{{\"resource\":\"/api/v2/users/{i}\",\"permission\":\"directory:user:view\"}}"
                )
            })
            .collect();
        let text = format!(
            "HTTP/1.1 403 Forbidden\nContent-Type: application/json\n\n{{\"message\":\"You are missing the following permission(s)\",\"code\":\"missing.permissions\",\"status\":403,\"details\":[{}]}}\n",
            items.join(",")
        );
        let a = analyse(&rules, &text);
        let inc = a
            .incidents
            .iter()
            .find(|i| i.facts.str("body.code") == Some("missing.permissions"))
            .expect("the body is read");
        let facts: usize = inc.facts.iter().map(|(_, v)| v.len()).sum();
        counts.push(facts);
        let (_, _, _, values) = held(&a);
        assert!(values <= faultline::incidents::MAX_FACT_VALUES);
    }
    // 16× the items: the facts stay within a few of each other (the text
    // around the array differs), far from growing with it.
    assert!(
        counts[2] <= counts[0] + 16,
        "facts still grow with the body: {counts:?}"
    );
}

/// A line longer than the cap: the reader hands out at most `MAX_LINE`
/// bytes of it, reports the rest as skipped, and goes on with the right
/// offsets and line numbers — for LF, CR LF and CR-only line ends.
#[test]
fn a_long_line_is_read_up_to_the_cap_and_reported() {
    for end in ["\n", "\r\n", "\r"] {
        for extra in [1usize, 3 << 20] {
            let long = "x".repeat(MAX_LINE + extra);
            let text = format!("first{end}{long}{end}HTTP/1.1 500 Internal Server Error{end}");
            let mut chunks = Vec::new();
            let mut cut = Vec::new();
            let total = input::read_chunks_capped(
                0,
                text.as_bytes(),
                input::CHUNK_SIZE,
                |c| chunks.push(c),
                |l| cut.push(l),
            )
            .unwrap();
            assert_eq!(total, text.len() as u64);
            assert!(chunks.iter().all(|c| c.text.len() <= MAX_LINE + (64 << 10)));
            assert_eq!(cut.len(), 1, "{end:?}");
            assert_eq!(cut[0].line, 2);
            assert_eq!(
                cut[0].skipped as usize,
                long.len() - MAX_LINE,
                "{end:?} {extra}"
            );
            let last = chunks.last().unwrap();
            assert!(
                last.text.starts_with("HTTP/1.1 500"),
                "{:?}",
                &last.text[..20.min(last.text.len())]
            );
            assert_eq!(last.first_line, 3, "{end:?}");
            assert_eq!(last.offset, text.find("HTTP/1.1").unwrap(), "{end:?}");
        }
    }
}
