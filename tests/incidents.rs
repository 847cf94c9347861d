//! Folding repeated failures: a retry loop is one incident with repeats,
//! distinct failures stay distinct.

use faultline::rules::{RuleSet, load::load};

fn builtin() -> RuleSet {
    let report = load(&faultline::rules::builtin_sources());
    RuleSet::new(report.rules, report.providers)
}

fn rate_limited(context: usize, path: &str) -> String {
    format!(
        "DEBUG:urllib3.connectionpool:https://api.mypurecloud.com:443 \"POST {path} HTTP/1.1\" 429 None\n\
         {{\"message\":\"Rate limit exceeded the maximum. Retry the request in [42] seconds\",\"code\":\"too.many.requests.retry.after\",\"status\":429,\"contextId\":\"c0ffee00-0000-4000-8000-{context:012}\"}}\n\n"
    )
}

#[test]
fn a_retry_loop_folds_even_though_each_body_differs() {
    let log: String = (0..50).map(|i| rate_limited(i, "/api/v2/users")).collect();
    let a = faultline::analyze_text("loop.log", &log, &builtin());
    assert_eq!(a.incidents.len(), 1);
    assert_eq!(a.incidents[0].repeats.len(), 49);
}

#[test]
fn distinct_urls_stay_distinct() {
    let log: String = (0..20)
        .map(|i| rate_limited(i, &format!("/api/v2/users/{i}")))
        .collect();
    let a = faultline::analyze_text("many.log", &log, &builtin());
    assert_eq!(a.incidents.len(), 20);
    assert!(a.incidents.iter().all(|i| i.repeats.is_empty()));
}
