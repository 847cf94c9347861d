//! Limits at their edge (issue 12 §2; docs/security.md's limits table):
//! what is kept up to a limit, and the note that says when one was reached.
//! The decompressed-size cap is tested next to it, in `src/input.rs`.

use faultline::incidents::MAX_HEADERS;
use faultline::rules::{RuleSet, load::load};
use faultline::{Analysis, analyze_text};

fn builtin() -> RuleSet {
    let report = load(&faultline::rules::builtin_sources());
    assert!(report.problems.is_empty());
    RuleSet::new(report.rules, report.providers)
}

/// A failing response with `headers` headers of its own and a JSON body.
fn response(headers: usize) -> String {
    let mut text =
        String::from("GET https://api.example.com/v2/users/me\nHTTP/1.1 403 Forbidden\n");
    for i in 0..headers {
        text.push_str(&format!("X-Trace-{i}: {i}\n"));
    }
    text.push_str(
        "\n{\"error\": \"insufficient_scope\", \"message\": \"missing scope users:read\"}\n",
    );
    text
}

fn the_incident(a: &Analysis) -> &faultline::incidents::Incident {
    assert_eq!(a.incidents.len(), 1, "{:#?}", a.incidents);
    &a.incidents[0]
}

fn trace_headers(inc: &faultline::incidents::Incident) -> usize {
    inc.facts
        .iter()
        .filter(|(name, _)| name.starts_with("header.x-trace-"))
        .count()
}

#[test]
fn headers_up_to_the_cap_are_all_kept_without_a_note() {
    let rules = builtin();
    let a = analyze_text("at-cap.log", &response(MAX_HEADERS), &rules);
    let inc = the_incident(&a);
    assert_eq!(trace_headers(inc), MAX_HEADERS);
    assert!(
        inc.notes.iter().all(|n| !n.contains("headers capped")),
        "{:?}",
        inc.notes
    );
    assert_eq!(inc.facts.str("body.error"), Some("insufficient_scope"));
}

#[test]
fn headers_past_the_cap_are_left_out_with_a_note_and_the_body_is_kept() {
    let rules = builtin();
    // Past the cap, and past the events an exchange keeps (256): the body
    // after them must still be read.
    let a = analyze_text("past-cap.log", &response(MAX_HEADERS + 500), &rules);
    let inc = the_incident(&a);
    assert_eq!(trace_headers(inc), MAX_HEADERS);
    assert!(
        inc.notes
            .iter()
            .any(|n| n.contains("headers capped") && n.contains("500 more")),
        "{:?}",
        inc.notes
    );
    assert_eq!(inc.facts.str("body.error"), Some("insufficient_scope"));
}

/// `s` as the content of a JSON string literal.
fn escaped(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// A JSON string holding JSON holding JSON…: a body escaped inside a string
/// is unescaped (copied) to be read, but a copy is never searched for
/// another escaped body, so each line costs at most two copies per place a
/// body may start (see `parse::json::unescaped_at`), however deep the
/// nesting, and what a run keeps stays a small multiple of the line.
#[test]
fn a_body_nested_in_strings_is_unescaped_a_bounded_number_of_times() {
    let rules = builtin();
    let mut body = String::from(r#"{"error": "invalid_grant", "error_description": "expired"}"#);
    for depth in 1..=12 {
        body = escaped(&body);
        let line = format!("ERROR refresh failed: upstream said \"{body}\"\n");
        let a = analyze_text("nested.log", &line, &rules);
        let read = a
            .incidents
            .iter()
            .any(|i| i.facts.str("body.error") == Some("invalid_grant"));
        // Escaped once (the usual log of a body in a string): read.
        assert_eq!(read, depth == 1, "depth {depth}");
        let kept: usize = a
            .incidents
            .iter()
            .map(faultline::incidents::incident_size)
            .sum();
        assert!(
            kept <= 4096 + 8 * line.len(),
            "depth {depth}: {kept} bytes kept for a line of {}",
            line.len()
        );
    }
}

/// A small valid user rule (with the examples every rule needs).
fn tiny_rule(id: &str) -> String {
    format!(
        "[[rule]]\nid = \"{id}\"\ntitle = \"t\"\nseverity = \"error\"\nconfidence = 0.5\n\
         when = {{ status = 599 }}\ncause = \"c\"\nfix = \"f\"\ndocs = [\"https://example.com/\"]\n\n\
         [[rule.example]]\nname = \"hit\"\ninput = \"HTTP/1.1 599 Odd\"\nmatches = true\n\n\
         [[rule.example]]\nname = \"miss\"\ninput = \"HTTP/1.1 200 OK\"\nmatches = false\n\n"
    )
}

#[test]
fn rule_files_past_the_count_limit_are_reported_not_loaded() {
    use faultline::rules::load::{RuleSource, limits::MAX_FILES};
    let mut sources: Vec<RuleSource> = (0..=MAX_FILES)
        .map(|i| RuleSource::new(format!("empty-{i}.toml"), "", false))
        .collect();
    sources[MAX_FILES - 1] =
        RuleSource::new("last-read.toml", tiny_rule("limits.last-read"), false);
    sources[MAX_FILES] = RuleSource::new("first-dropped.toml", tiny_rule("limits.dropped"), false);
    let report = load(&sources);
    let ids: Vec<&str> = report.rules.iter().map(|r| r.id.as_str()).collect();
    assert!(
        ids.contains(&"limits.last-read"),
        "file {MAX_FILES} is read"
    );
    assert!(
        !ids.contains(&"limits.dropped"),
        "file {} is not",
        MAX_FILES + 1
    );
    let limit: Vec<_> = report
        .problems
        .iter()
        .filter(|p| p.message.contains("too many rule files"))
        .collect();
    assert_eq!(limit.len(), 1, "{:#?}", report.problems);
    assert!(
        limit[0].message.contains("first-dropped.toml"),
        "{}",
        limit[0].message
    );
}

#[test]
fn rules_past_the_count_limit_are_reported_not_loaded() {
    use faultline::rules::load::{RuleSource, limits::MAX_RULES};
    const PER_FILE: usize = 1_000;
    let total = MAX_RULES + 1;
    let sources: Vec<RuleSource> = (0..total.div_ceil(PER_FILE))
        .map(|f| {
            let text: String = (f * PER_FILE..((f + 1) * PER_FILE).min(total))
                .map(|i| tiny_rule(&format!("limits.rule-{i}")))
                .collect();
            RuleSource::new(format!("rules-{f}.toml"), text, false)
        })
        .collect();
    let report = load(&sources);
    assert_eq!(report.rules.len(), MAX_RULES, "rules up to the limit load");
    assert!(
        !report
            .rules
            .iter()
            .any(|r| r.id == format!("limits.rule-{MAX_RULES}")),
        "the rule past the limit does not"
    );
    let limit: Vec<_> = report
        .problems
        .iter()
        .filter(|p| p.message.contains("too many rules"))
        .collect();
    assert_eq!(
        limit.len(),
        1,
        "reported once: {:#?}",
        &limit[..limit.len().min(3)]
    );
}

/// A body past the 1 MiB cap is read up to it, diagnosed from what was
/// read, and its incident says it was cut short; a body within the cap says
/// nothing of the kind.
#[test]
fn a_body_past_the_cap_is_read_up_to_it_with_a_note() {
    let rules = builtin();
    let body = |items: usize| {
        let mut b = String::from(
            "HTTP/1.1 400 Bad Request\nContent-Type: application/json\n\n{\n \"error\": \"invalid_grant\",\n \"items\": [\n",
        );
        for i in 0..items {
            b.push_str(&format!("  {{\"k\": \"{}\"}},\n", "v".repeat(100 + i % 7)));
        }
        b.push_str("  {}\n ]\n}\n");
        b
    };
    let note = |a: &Analysis| {
        a.incidents
            .iter()
            .any(|i| i.notes.iter().any(|n| n.contains("body cut short")))
    };
    let small = analyze_text("small.log", &body(100), &rules);
    assert!(!note(&small), "{:?}", small.incidents);
    let big = analyze_text("big.log", &body(12_000), &rules);
    assert!(big.incidents[0].facts.str("error") == Some("invalid_grant"));
    assert!(note(&big), "{:?}", big.incidents[0].notes);
}

/// A body with one branch nested past the depth cap (64 levels) keeps what
/// lies within the cap — the error the diagnosis reads — and says it was
/// cut short; one within the cap says nothing of the kind.
#[test]
fn a_body_nested_past_the_depth_cap_is_read_within_it_with_a_note() {
    use faultline::parse::json::MAX_DEPTH;
    let rules = builtin();
    let body = |depth: usize| {
        format!(
            "POST https://oauth2.googleapis.com/token\nHTTP/1.1 400 Bad Request\n\
             Content-Type: application/json\n\n{{\"error\": \"invalid_grant\", \
             \"error_description\": \"Token has been expired or revoked.\", \"details\": {}\"v\"{}}}\n",
            "{\"k\": ".repeat(depth),
            "}".repeat(depth)
        )
    };
    let diagnosis_and_note = |a: &Analysis| {
        let inc = the_incident(a);
        let diagnosed = a
            .diagnoses
            .iter()
            .any(|d| d.id == "google.refresh-token-expired-or-revoked");
        let noted = inc.notes.iter().any(|n| n.contains("body cut short"));
        (
            inc.facts.str("body.error").map(str::to_owned),
            diagnosed,
            noted,
        )
    };
    // The root object is one level: `details` and its branch fill the rest.
    let within = analyze_text("within.log", &body(MAX_DEPTH - 2), &rules);
    assert_eq!(
        diagnosis_and_note(&within),
        (Some("invalid_grant".into()), true, false)
    );
    let deep = analyze_text("deep.log", &body(100), &rules);
    assert_eq!(
        diagnosis_and_note(&deep),
        (Some("invalid_grant".into()), true, true)
    );
}

/// Past the body cap and the 1 MiB chunk, the rest of a pretty-printed
/// body is read as bodies of their own; with no error in them they must not
/// count as a retry that succeeded: the failure stays a failure.
#[test]
fn the_rest_of_a_body_cut_short_does_not_recover_its_failure() {
    let rules = builtin();
    let mut text = String::from("{\n \"error\": \"invalid_grant\",\n \"items\": [\n");
    while text.len() < 2_400_000 {
        text.push_str(&format!("  {{\"k\": \"{}\"}},\n", "v".repeat(100)));
    }
    text.push_str("  {}\n ]\n}\n");
    let a = analyze_text("cut.log", &text, &rules);
    let failing: Vec<_> = a
        .incidents
        .iter()
        .filter(|i| i.facts.str("error") == Some("invalid_grant"))
        .collect();
    assert_eq!(failing.len(), 1, "{:#?}", a.incidents);
    assert!(failing[0].recovered.is_none(), "{:?}", failing[0].recovered);
    assert!(
        a.diagnoses
            .iter()
            .any(|d| d.id == "oauth.invalid-grant"
                && d.severity == faultline::rules::Severity::Error),
        "{:?}",
        a.diagnoses
            .iter()
            .map(|d| (&d.id, d.severity))
            .collect::<Vec<_>>()
    );
}
