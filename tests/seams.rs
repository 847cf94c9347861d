//! A failure cut by a chunk seam is read as one: a log of distinct
//! failures gives the same failures, each with the same first diagnosis,
//! read in one chunk and in chunks above and below the longest tail a seam
//! carries (256 KiB), with one thread and two. Logs with curl `-v`
//! exchanges matter most: before an exchange's state was carried across
//! restart points, no restart came after the first one, and every later
//! seam cut the failure across it in two.

use std::collections::BTreeMap;

use faultline::rules::{RuleSet, load::load};
use faultline::{Analysis, ScanOptions, analyze_text_with};

fn builtin() -> RuleSet {
    let report = load(&faultline::rules::builtin_sources());
    assert!(report.problems.is_empty());
    RuleSet::new(report.rules, report.providers)
}

/// Rounds of five different failures, with ids, paths and codes that
/// never repeat: a Genesys rate limit logged by urllib3 and the SDK (with
/// its correlation id, which keeps it open for a later line with the same
/// id, so some exchange is always open in this log), a
/// `requests` traceback with its body, an axios one-liner, a curl `-v`
/// exchange and a JSON log record.
fn distinct_failures(rounds: usize) -> String {
    distinct_failures_with(rounds, |_, _| {})
}

/// [`distinct_failures`], with `after(i, out)` writing after round `i`.
fn distinct_failures_with(rounds: usize, after: impl Fn(usize, &mut String)) -> String {
    let mut out = String::new();
    for i in 0..rounds {
        let wait = i % 60 + 1;
        out.push_str(&format!(
            "2026-11-24 00:00:01,736 DEBUG urllib3.connectionpool: https://api.mypurecloud.com:443 \"POST /api/v2/analytics/conversations/details/query/{i} HTTP/1.1\" 429 None\n\
             PureCloudPlatformClientV2.rest.ApiException: (429)\n\
             Reason: Too Many Requests\n\
             HTTP response headers: HTTPHeaderDict({{'Content-Type': 'application/json', 'Retry-After': '{wait}', 'inin-correlation-id': 'c-{i}'}})\n\
             HTTP response body: {{\"message\":\"Rate limit exceeded the maximum. Retry the request in [{wait}] seconds\",\"code\":\"too.many.requests.retry.after\",\"status\":429}}\n\
             Traceback (most recent call last):\n  \
             File \"/srv/etl/sync.py\", line {}, in fetch\n    \
             resp.raise_for_status()\n\
             requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://api.mypurecloud.com/api/v2/analytics/conversations/aggregates/query/{i}\n\
             {{\"message\":\"You are missing the following permission(s): analytics:conversationDetail{i}:view\",\"code\":\"missing.permissions\",\"status\":403}}\n\
             2026-11-24 00:00:02,041 ERROR auth.cache: Request failed with status code 401 (GET https://api.example.com/api/v2/users/{i})\n\
             > GET /v1/items/{i} HTTP/1.1\n> Host: api.example.com\n< HTTP/1.1 500 Internal Server Error\n< Content-Type: application/json\n<\n{{\"error\":\"internal_{i}\"}}\n\
             {{\"level\":\"error\",\"status\":404,\"url\":\"https://api.example.com/v1/orders/{i}\",\"response\":{{\"error\":\"order_{i}_not_found\"}}}}\n",
            i % 900 + 10,
        ));
        after(i, &mut out);
    }
    out
}

/// Rounds of two curl `-v` exchanges over one TLS connection to Genesys
/// Cloud (one `curl -v` run each round), with other failures logged
/// between them and inside one (between the request and its response).
/// The request's URL (the host from the connection) is what tells a
/// missing analytics permission from any other: an exchange cut in two is
/// read as a different failure.
fn interleaved_curl(rounds: usize) -> String {
    let mut out = String::new();
    for i in 0..rounds {
        out.push_str(&format!(
            "* Connected to api.mypurecloud.com (10.0.0.7) port 443 (#0)\n* SSL connection using TLSv1.3 / TLS_AES_256_GCM_SHA384\n\
             > POST /api/v2/analytics/conversations/aggregates/query/{i} HTTP/1.1\n> Host: api.mypurecloud.com\n> Accept: */*\n>\n\
             2026-11-24 00:00:02,041 ERROR auth.cache: Request failed with status code 401 (GET https://api.example.com/api/v2/users/{i})\n\
             < HTTP/1.1 403 Forbidden\n< Content-Type: application/json\n<\n\
             {{\"message\":\"You are missing the following permission(s): analytics:conversationAggregate{i}:view\",\"code\":\"missing.permissions\",\"status\":403}}\n\
             {{\"level\":\"error\",\"status\":404,\"url\":\"https://api.example.com/v1/orders/{i}\",\"response\":{{\"error\":\"order_{i}_not_found\"}}}}\n\
             > GET /api/v2/users/{i} HTTP/1.1\n> Host: api.mypurecloud.com\n>\n\
             < HTTP/1.1 500 Internal Server Error\n<\n\
             {{\"message\":\"internal {i}\",\"code\":\"internal.server.error\",\"status\":500}}\n",
        ));
    }
    out
}

/// Failures (each with its repeats) per first diagnosis, listed or summed
/// up past the caps.
fn totals(a: &Analysis) -> BTreeMap<String, usize> {
    let mut by_rule = BTreeMap::new();
    for (k, incident) in a.incidents.iter().enumerate() {
        let id = a
            .diagnoses
            .iter()
            .find(|d| d.incident == Some(k))
            .map_or("-".to_string(), |d| d.id.clone());
        *by_rule.entry(id).or_default() += 1 + incident.repeat_count;
    }
    for g in &a.not_kept.by_diagnosis {
        let id = g.top.as_ref().map_or("-".to_string(), |t| t.rule.clone());
        *by_rule.entry(id).or_default() += g.failures;
    }
    by_rule
}

fn assert_seams_change_nothing(name: &str, text: &str, failures: usize) {
    let rules = builtin();
    let run = |threads, chunk_size| {
        totals(&analyze_text_with(
            name,
            text,
            &rules,
            ScanOptions {
                threads,
                chunk_size,
            },
        ))
    };
    let whole = run(1, usize::MAX);
    assert_eq!(whole.values().sum::<usize>(), failures, "{name}: {whole:?}");
    assert!(!whole.contains_key("-"), "{name}: {whole:?}");
    // Below and above the longest tail a seam carries (256 KiB).
    for chunk_size in [48 << 10, 200 << 10, 300 << 10] {
        assert!(text.len() > 2 * chunk_size, "{name}: too short to cut");
        for threads in [1, 2] {
            assert_eq!(
                run(threads, chunk_size),
                whole,
                "{name}: chunks of {chunk_size} bytes, {threads} threads"
            );
        }
    }
}

#[test]
fn a_seam_cuts_no_failure_in_a_log_of_distinct_failures() {
    let rounds = 600;
    let text = distinct_failures(rounds);
    assert_seams_change_nothing("distinct.log", &text, 5 * rounds);
}

/// A line carrying the id of a rate limit a dozen rounds back (about 200
/// lines, within the 500 an exchange with an id stays open for) joins it.
/// A scan that sealed that exchange early to make a restart point has to
/// find out and read the text again: the late line is no failure of its
/// own in any read.
#[test]
fn a_seam_cuts_no_failure_when_a_late_line_joins_a_tied_exchange() {
    let rounds = 600;
    let text = distinct_failures_with(rounds, |i, out| {
        if i % 25 == 24 {
            let j = i - 12;
            out.push_str(&format!(
                "{{\"level\":\"error\",\"status\":429,\"correlationId\":\"c-{j}\",\"msg\":\"gave up\"}}\n"
            ));
        }
    });
    assert_seams_change_nothing("late-ids.log", &text, 5 * rounds);
}

#[test]
fn a_seam_cuts_no_failure_in_curl_exchanges_interleaved_with_others() {
    let rounds = 1_500;
    let text = interleaved_curl(rounds);
    assert_seams_change_nothing("interleaved.log", &text, 4 * rounds);
}
