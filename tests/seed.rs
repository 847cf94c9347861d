//! The seed case (fixtures/seed/): what faultline must conclude from the
//! forum thread, from the traceback plus body, and from the body alone.

use faultline::Analysis;
use faultline::mask::Masker;
use faultline::rank::Diagnosis;
use faultline::report::{HumanStyle, ReportCtx, render_human, render_json};
use faultline::rules::{RuleSet, Severity, load::load};

fn builtin() -> RuleSet {
    let report = load(&faultline::rules::builtin_sources());
    assert!(report.problems.is_empty());
    RuleSet::new(report.rules, report.providers)
}

fn analyze(path: &str, rules: &RuleSet) -> Analysis {
    let text = std::fs::read_to_string(path).unwrap();
    faultline::analyze_text(path, &text, rules)
}

/// Diagnoses of incident 0, best first.
fn incident_ids(a: &Analysis) -> Vec<&str> {
    a.diagnoses
        .iter()
        .filter(|d| d.incident == Some(0))
        .map(|d| d.id.as_str())
        .collect()
}

fn find<'a>(a: &'a Analysis, id: &str) -> &'a Diagnosis {
    a.diagnoses.iter().find(|d| d.id == id).unwrap_or_else(|| {
        panic!(
            "{id} not diagnosed; got {:?}",
            a.diagnoses.iter().map(|d| &d.id).collect::<Vec<_>>()
        )
    })
}

fn evidence_lines(a: &Analysis, d: &Diagnosis) -> Vec<usize> {
    let _ = a;
    d.evidence.iter().map(|e| e.loc.line).collect()
}

fn render(a: &Analysis, rules: &RuleSet) -> (String, String) {
    let ctx = ReportCtx::new(
        a,
        rules,
        Masker {
            show_secrets: false,
        },
    );
    (render_human(&ctx, HumanStyle::plain()), render_json(&ctx))
}

#[test]
fn forum_thread_ranks_the_four_causes() {
    let rules = builtin();
    let a = analyze("fixtures/seed/forum-thread.txt", &rules);
    assert_eq!(
        a.incidents.len(),
        1,
        "the quoted, truncated repeat folds into the first incident"
    );
    assert_eq!(a.incidents[0].repeats.len(), 1);
    let ids = incident_ids(&a);
    assert_eq!(
        &ids[..4],
        &[
            "genesys.token-request-on-api-host",
            "genesys.token-region-mismatch",
            "genesys.token-client-state",
            "genesys.token-locked-user",
        ],
        "got {ids:?}"
    );
    // Each cites the knowledge's sources and points at the user's lines.
    for id in &ids[..4] {
        let d = find(&a, id);
        assert!(!d.evidence.is_empty(), "{id} has no evidence");
        assert!(
            d.docs.iter().any(|u| u.starts_with("https://")),
            "{id} has no docs"
        );
    }
    let host = find(&a, "genesys.token-request-on-api-host");
    assert!(
        host.cause
            .contains("https://login.mypurecloud.com/oauth/token")
    );
    assert!(host.not.iter().any(|n| n.contains("Scopes or roles")));
    assert_eq!(evidence_lines(&a, host), vec![7, 7, 7]);
    let region = find(&a, "genesys.token-region-mismatch");
    assert!(region.cause.contains("ap-northeast-2") && region.cause.contains("apne2.pure.cloud"));
    assert!(region.check.as_deref().unwrap().contains("admin URL"));
    assert!(
        evidence_lines(&a, region).contains(&16),
        "the Seoul mention is evidence"
    );
    let locked = find(&a, "genesys.token-locked-user");
    assert!(
        evidence_lines(&a, locked).contains(&16),
        "the locked-user note is evidence"
    );
    // Forum advice the knowledge shows false: info notes.
    for id in [
        "genesys.claim-oauth2-token-path",
        "genesys.claim-analytics-scope",
        "genesys.claim-nonexistent-sdk-names",
    ] {
        let d = find(&a, id);
        assert_eq!(d.severity, Severity::Info, "{id}");
        assert_eq!(d.incident, None);
    }
    // No diagnosis blames scopes or roles for the token failure.
    assert!(
        !a.diagnoses
            .iter()
            .any(|d| d.id.contains("missing-permissions"))
    );
}

#[test]
fn traceback_and_body_without_context() {
    let rules = builtin();
    let a = analyze("fixtures/seed/traceback-and-body.txt", &rules);
    assert_eq!(a.incidents.len(), 1);
    let ids = incident_ids(&a);
    assert_eq!(
        &ids[..3],
        &[
            "genesys.token-request-on-api-host",
            "genesys.token-region-default",
            "genesys.token-client-state",
        ],
        "got {ids:?}"
    );
    let region = find(&a, "genesys.token-region-default");
    assert!(region.cause.contains("us-east-1"));
}

#[test]
fn body_alone_gets_the_oauth_reading() {
    let rules = builtin();
    let a = analyze("fixtures/seed/body-only.json", &rules);
    assert_eq!(a.incidents.len(), 1);
    let ids = incident_ids(&a);
    assert_eq!(
        ids.first(),
        Some(&"oauth.invalid-grant-client-credentials"),
        "got {ids:?}"
    );
    assert!(
        !ids.contains(&"oauth.invalid-grant"),
        "superseded by the client-credentials reading"
    );
    let d = find(&a, "oauth.invalid-grant-client-credentials");
    assert!(d.not.iter().any(|n| n.contains("locked")));
}

#[test]
fn seed_reports_snapshot() {
    let rules = builtin();
    for (name, path) in [
        ("forum-thread", "fixtures/seed/forum-thread.txt"),
        ("traceback-and-body", "fixtures/seed/traceback-and-body.txt"),
        ("body-only", "fixtures/seed/body-only.json"),
    ] {
        let a = analyze(path, &rules);
        let (human, json) = render(&a, &rules);
        // The pack's size changes with every new rule; it is not what these
        // snapshots are about.
        let n = rules.rules.len();
        let human = human.replace(&format!("{n} rules loaded"), "[N] rules loaded");
        let json = json
            .replace(&format!("\"rules\": {n}"), "\"rules\": \"[N]\"")
            .replace(&format!("\"loaded\": {n}"), "\"loaded\": \"[N]\"")
            .replace(&format!("\"builtin\": {n}"), "\"builtin\": \"[N]\"")
            .replace(
                &format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION")),
                "\"version\": \"[version]\"",
            );
        insta::assert_snapshot!(format!("{name}-human"), human);
        insta::assert_snapshot!(format!("{name}-json"), json);
    }
}
