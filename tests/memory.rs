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

/// Every line a distinct failure, from 10³ to 1.6·10⁴: what the run keeps
/// (incidents listed, their bytes, the summed-up groups) stops growing at
/// the caps, and every failure is still analysed: listed with its
/// diagnoses, or summed up under its first diagnosis, the counts adding up.
#[test]
fn distinct_failures_keep_bounded_evidence_as_the_input_grows() {
    use faultline::incidents::{MAX_KEPT, MAX_KEPT_BYTES, MAX_REDUCED, MAX_REDUCED_BYTES};
    let rules = builtin();
    let mut seen = Vec::new();
    for n in [1_000, 4_000, 16_000] {
        let text: String = (0..n)
            .map(|i| match i % 3 {
                0 => format!("POST https://api.example.com/v1/orders/{i} -> 503\n"),
                1 => format!("GET https://api.example.com/v1/users/{i} -> 401\n"),
                _ => format!("DELETE https://api.example.com/v1/items/{i} -> 404\n"),
            })
            .collect();
        let a = analyse(&rules, &text);
        let (listed, bytes, _, _) = held(&a);
        assert!(
            listed <= MAX_KEPT + MAX_REDUCED,
            "{n} lines: {listed} listed"
        );
        // The byte caps are checked before an incident is kept: one over
        // each at most.
        assert!(
            bytes <= MAX_KEPT_BYTES + MAX_REDUCED_BYTES + (128 << 10),
            "{n} lines: {bytes} bytes kept"
        );
        let groups = a.not_kept.by_diagnosis.len();
        assert!(
            groups <= rules.rules.len() + 1,
            "{n} lines: {groups} groups"
        );
        let counted: usize = a.incidents.iter().map(|i| 1 + i.repeat_count).sum();
        let summed: usize = a.not_kept.by_diagnosis.iter().map(|g| g.failures).sum();
        assert_eq!(counted + summed, n, "{n} lines: failures lost");
        assert_eq!(summed, a.not_kept.failures);
        for (i, _) in a.incidents.iter().enumerate() {
            assert!(
                a.diagnoses.iter().any(|d| d.incident == Some(i)),
                "{n}: {i}"
            );
        }
        assert!(
            a.not_kept.by_diagnosis.iter().all(|g| g.top.is_some()),
            "{n} lines: a failure summed up undiagnosed"
        );
        seen.push((listed, bytes, groups));
    }
    // The bounds above do not depend on the input's size; and the caps
    // are reached, so the larger inputs did hit them.
    assert!(seen[2].0 > MAX_KEPT, "{seen:?}");
    assert_eq!(seen[1].0, seen[2].0, "{seen:?}");
    assert_eq!(seen[1].2, seen[2].2, "{seen:?}");
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

/// 10⁴ distinct failures through the command line, in every report format:
/// the report lists some, and says of the others how many each first
/// diagnosis explains (`input::failures-summed-up`); the two add up to every
/// failure. The JSON report carries the same notes as its problems.
#[test]
fn every_format_accounts_for_every_distinct_failure() {
    let n = 10_000;
    let dir = std::env::temp_dir().join(format!("faultline-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("distinct.log");
    let text: String = (0..n)
        .map(|i| format!("GET https://api.example.com/v1/users/{i} -> 401\n"))
        .collect();
    std::fs::write(&log, text).unwrap();
    let run = |format: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args(["--format", format, "-j2"])
            .arg(&log)
            .env("FAULTLINE_NO_CACHE", "1")
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // "faultline: PATH:LINE: N more failure(s) …": the N of each note.
    let summed = |stderr: &str| -> usize {
        stderr
            .lines()
            .filter(|l| l.contains("are summed up, not listed"))
            .filter_map(|l| l.split(": ").nth(2))
            .map(|m| m.split(' ').next().unwrap().parse::<usize>().unwrap())
            .sum()
    };
    let (json, _) = run("json");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let incidents = report["incidents"].as_array().unwrap();
    let listed: usize = incidents
        .iter()
        .map(|i| 1 + i["repeats"].as_u64().unwrap() as usize)
        .sum();
    assert!(incidents.len() < n / 10, "{} listed", incidents.len());
    let notes: usize = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "input::failures-summed-up")
        .map(|p| {
            let m = p["message"].as_str().unwrap();
            assert!(m.contains("diagnosed http."), "{m}");
            m.split(' ').next().unwrap().parse::<usize>().unwrap()
        })
        .sum();
    assert_eq!(listed + notes, n, "json");
    for format in ["short", "human"] {
        let (_, stderr) = run(format);
        assert_eq!(summed(&stderr), notes, "{format}: {stderr}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A diagnosis keeps no copy of its rule's texts when there is nothing to
/// fill in: with thousands of rules matching thousands of failures, the
/// texts are held once, by the rules (a rule's cause is hundreds of bytes).
#[test]
fn diagnoses_share_the_texts_of_their_rules() {
    use std::sync::Arc;
    let rules = builtin();
    let log: String = [400, 401, 403, 404, 429, 500, 502, 503, 504]
        .iter()
        .map(|s| format!("GET https://api{s}.example.com/v1/items\nHTTP/1.1 {s} Failed\n\n"))
        .collect();
    let a = analyse(&rules, &log);
    let mut shared = 0;
    for d in &a.diagnoses {
        let rule = &rules.rules[d.rule];
        for (text, of_rule) in [
            (&d.title, &rule.prose().title),
            (&d.cause, &rule.prose().cause),
            (&d.fix, &rule.prose().fix),
        ] {
            if faultline::rules::placeholders(of_rule).next().is_none() {
                assert!(Arc::ptr_eq(text, of_rule), "{}: a copy of its text", d.id);
                shared += 1;
            }
        }
        assert!(
            Arc::ptr_eq(&d.docs, &rule.prose().docs),
            "{}: a copy of its docs",
            d.id
        );
    }
    assert!(shared >= 9, "only {shared} texts without placeholders");
}
