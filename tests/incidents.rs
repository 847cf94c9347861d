//! How failing exchanges are cut out of a log: boundaries in busy logs,
//! repeats folded and counted, retried failures recovered, interleaved
//! requests told apart, and a builder whose work grows with the input, not
//! with its square.

use faultline::incidents::{self, Builder, Finished};
use faultline::input::{Chunk, LineIndex, Origin, SourceRef};
use faultline::parse::{Event, EventKind, Field, Value};
use faultline::rules::{RuleSet, Severity, load::load};

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
    assert_eq!(a.incidents[0].repeat_count, 49);
    assert_eq!(a.incidents[0].facts.num("repeats"), Some(49.0));
}

#[test]
fn distinct_urls_stay_distinct() {
    let log: String = (0..20)
        .map(|i| rate_limited(i, &format!("/api/v2/users/{i}")))
        .collect();
    let a = faultline::analyze_text("many.log", &log, &builtin());
    assert_eq!(a.incidents.len(), 20);
    assert!(a.incidents.iter().all(|i| i.repeat_count == 0));
}

/// Three pages of one listing, each refused, told by three clients' logs:
/// each page is a call of its own (not one exchange told three times), and
/// the three fold into the first as the same failure repeated.
#[test]
fn pages_of_a_listing_that_failed_are_repeats_of_one_failure() {
    let logs = [
        // nginx's access log, a line of another client between.
        "127.0.0.1 - - [03/Dec/2026:10:07:14 +0000] \"GET /api/v2/users?pageSize=100&pageNumber=1 HTTP/1.1\" 429 282 \"-\" \"python-requests/2.34.2\"\n\
         127.0.0.1 - - [03/Dec/2026:10:07:14 +0000] \"GET /api/v2/users?pageSize=100&pageNumber=2 HTTP/1.1\" 429 282 \"-\" \"python-requests/2.34.2\"\n\
         10.0.0.9 - - [03/Dec/2026:10:07:15 +0000] \"GET /healthz HTTP/1.1\" 200 2 \"-\" \"kube-probe/1.29\"\n\
         127.0.0.1 - - [03/Dec/2026:10:07:15 +0000] \"GET /api/v2/users?pageSize=100&pageNumber=3 HTTP/1.1\" 429 282 \"-\" \"python-requests/2.34.2\"\n",
        // urllib3's debug lines, an app line between.
        "2026-12-03 10:07:14,101 DEBUG urllib3.connectionpool: https://api.mypurecloud.de:443 \"GET /api/v2/users?pageNumber=1 HTTP/1.1\" 429 78\n\
         2026-12-03 10:07:14,208 DEBUG urllib3.connectionpool: https://api.mypurecloud.de:443 \"GET /api/v2/users?pageNumber=2 HTTP/1.1\" 429 78\n\
         2026-12-03 10:07:14,300 INFO sync.users: fetched 0 users\n\
         2026-12-03 10:07:14,412 DEBUG urllib3.connectionpool: https://api.mypurecloud.de:443 \"GET /api/v2/users?pageNumber=3 HTTP/1.1\" 429 78\n",
    ];
    for log in logs {
        let a = faultline::analyze_text("pages.log", log, &builtin());
        assert_eq!(a.incidents.len(), 1, "{log}");
        let inc = &a.incidents[0];
        assert_eq!(inc.loc.line, 1);
        assert!(inc.facts.str("url").unwrap().ends_with("pageNumber=1"));
        assert_eq!(inc.repeat_count, 2);
        let lines: Vec<usize> = inc.repeats.iter().map(|l| l.line).collect();
        assert_eq!(lines, [2, 4]);
    }
}

/// Past the failures kept in full, a failure is folded by its key alone:
/// the pages of a listing still fold into the first.
#[test]
fn pages_of_a_listing_fold_past_the_cap_of_full_incidents() {
    let access = |path: String, status: u16| {
        format!(
            "10.1.2.3 - - [03/Dec/2026:10:07:14 +0000] \"GET {path} HTTP/1.1\" {status} 282 \"-\" \"python-requests/2.34.2\"\n"
        )
    };
    let mut log: String = (0..faultline::incidents::MAX_KEPT + 20)
        .map(|i| access(format!("/api/v2/items/{i}"), 404))
        .collect();
    for page in 1..=3 {
        log.push_str(&access(format!("/api/v2/users?pageNumber={page}"), 429));
    }
    let a = faultline::analyze_text("capped.log", &log, &builtin());
    let pages: Vec<_> = (a.incidents.iter())
        .filter(|i| i.facts.str("url").is_some_and(|u| u.contains("/users")))
        .collect();
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].repeat_count, 2);
}

/// Other queries fold only as the same failure: another status, or
/// another path with the same query, is another failure.
#[test]
fn other_queries_of_other_failures_stay_apart() {
    let line = |path: &str, status: u16| {
        format!(
            "2026-12-03 10:07:14,101 DEBUG urllib3.connectionpool: https://api.example.com:443 \"GET {path} HTTP/1.1\" {status} 78\n"
        )
    };
    let log = [
        line("/v1/users?page=1", 429),
        line("/v1/users?page=2", 503),
        line("/v1/groups?page=2", 429),
        line("/v1/users/7?page=2", 429),
    ]
    .concat();
    let a = faultline::analyze_text("apart.log", &log, &builtin());
    assert_eq!(a.incidents.len(), 4);
    assert!(a.incidents.iter().all(|i| i.repeat_count == 0));
}

const HTTP_403: &str = "requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://api.example.com/v1/reports\n";

#[test]
fn ten_identical_adjacent_failures_are_one_with_nine_repeats() {
    let a = faultline::analyze_text("ten.log", &HTTP_403.repeat(10), &builtin());
    assert_eq!(a.incidents.len(), 1);
    let inc = &a.incidents[0];
    assert_eq!(inc.loc.line, 1);
    assert_eq!(inc.repeat_count, 9);
    let lines: Vec<usize> = inc.repeats.iter().map(|l| l.line).collect();
    assert_eq!(lines, (2..=10).collect::<Vec<_>>());
}

#[test]
fn repeats_in_another_file_are_listed_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let a_path = dir.path().join("a.log");
    let b_path = dir.path().join("b.log");
    std::fs::write(&a_path, HTTP_403).unwrap();
    std::fs::write(&b_path, format!("INFO starting\n{HTTP_403}")).unwrap();
    let sources: Vec<SourceRef> = [("a.log", a_path), ("b.log", b_path)]
        .into_iter()
        .map(|(name, path)| SourceRef {
            name: name.into(),
            origin: Origin::File(path),
        })
        .collect();
    let a = faultline::analyze(&sources, &builtin());
    assert_eq!(a.incidents.len(), 1);
    let inc = &a.incidents[0];
    assert_eq!(inc.repeat_count, 1);
    assert_eq!((inc.repeats[0].source, inc.repeats[0].line), (1, 2));
    let names = |s: usize| if s == 0 { "a.log" } else { "b.log" };
    assert_eq!(inc.repeat_places(names, 5), "line b.log:2");
}

#[test]
fn an_error_line_after_successful_calls_is_its_own_incident() {
    let mut log = String::new();
    for i in 0..30 {
        log.push_str(&format!(
            "2026-01-01T00:00:{i:02}Z DEBUG:urllib3.connectionpool:https://api.example.com:443 \"GET /v1/items/{i} HTTP/1.1\" 200 512\n"
        ));
    }
    log.push_str("curl: (6) Could not resolve host: api.example.invalid\n");
    let a = faultline::analyze_text("busy.log", &log, &builtin());
    assert_eq!(a.incidents.len(), 1, "the 200s are not failures");
    let inc = &a.incidents[0];
    assert_eq!(inc.loc.line, 31);
    assert!(
        inc.facts.get("status").is_empty(),
        "no status of a 200 glued on"
    );
    assert!(inc.facts.get("url").is_empty());
    assert!(
        a.diagnoses.iter().any(|d| d.id == "http.dns-failure"),
        "got {:?}",
        a.diagnoses.iter().map(|d| &d.id).collect::<Vec<_>>()
    );
}

#[test]
fn a_success_never_takes_in_a_later_failure() {
    let log = "DEBUG:urllib3.connectionpool:https://api.example.com:443 \"GET /v1/a HTTP/1.1\" 200 12\n\
               requests.exceptions.HTTPError: 500 Server Error: Internal Server Error for url: https://api.example.com/v1/b\n";
    let a = faultline::analyze_text("s.log", log, &builtin());
    assert_eq!(a.incidents.len(), 1);
    assert_eq!(a.incidents[0].facts.num("status"), Some(500.0));
    assert_eq!(
        a.incidents[0].facts.str("url"),
        Some("https://api.example.com/v1/b")
    );
}

/// A call that was never answered (refused, unresolved) is not about the
/// answer of a success just before it, even from the same URL's path.
#[test]
fn a_refused_connection_after_a_200_is_its_own_failure() {
    let log = "2026-11-24 03:21:09,132 DEBUG urllib3.connectionpool: https://reports.example.io:443 \"GET /v1/orders?pageSize=100&pageNumber=56 HTTP/1.1\" 200 48376\n\
               2026-11-24 03:21:09,855 ERROR web.request: requests.exceptions.ConnectionError: HTTPSConnectionPool(host='reports.example.io', port=443): Max retries exceeded with url: /v1/orders (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f3a2c1e4d90>: Failed to establish a new connection: [Errno 111] Connection refused'))\n";
    let a = faultline::analyze_text("s.log", log, &builtin());
    assert_eq!(a.incidents.len(), 1);
    assert_eq!(a.incidents[0].facts.num("status"), None);
    assert_eq!(tops(&a), vec![(2, Some("http.connection-refused"))]);
}

#[test]
fn a_body_and_its_error_after_a_200_stay_with_it() {
    // Slack answers 200 with ok:false; the SDK raises on it.
    let log = "< HTTP/2 200\n< content-type: application/json\n<\n{\"ok\":false,\"error\":\"invalid_auth\"}\n";
    let a = faultline::analyze_text("slack.log", log, &builtin());
    assert_eq!(a.incidents.len(), 1);
    assert_eq!(a.incidents[0].facts.num("status"), Some(200.0));
    assert_eq!(a.incidents[0].facts.str("error"), Some("invalid_auth"));
}

/// The rules that diagnosed each incident, first line and top rule.
fn tops(a: &faultline::Analysis) -> Vec<(usize, Option<&str>)> {
    a.incidents
        .iter()
        .enumerate()
        .map(|(i, inc)| {
            let top = a
                .diagnoses
                .iter()
                .find(|d| d.incident == Some(i))
                .map(|d| d.id.as_str());
            (inc.loc.line, top)
        })
        .collect()
}

/// A failure logged next to another one that states a different error
/// code is another failure: its code does not become the first's.
#[test]
fn an_error_code_of_another_failure_starts_its_own_incident() {
    let cases = [
        // A JSON-lines record of Okta's, then MSAL's error logged as text.
        (
            "{\"ts\":\"2026-11-24T00:00:01.424Z\",\"level\":\"error\",\"msg\":\"okta call failed\",\"method\":\"GET\",\"url\":\"https://dev-450900.okta.com/api/v1/users/19\",\"status\":401,\"response\":{\"errorCode\":\"E0000011\",\"errorSummary\":\"Invalid token provided\",\"errorLink\":\"E0000011\",\"errorId\":\"oae9cf44aa1ea739595bb2\",\"errorCauses\":[]}}\n\
             2026-11-24 00:00:01,537 ERROR msal.token_cache: token acquisition failed: {\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000222: The provided client secret keys for app 'af92a2ae-f78b-36a3-1644-b00b46c462a7' are expired.\",\"error_codes\":[7000222]}\n",
            [
                Some("okta.api-token-invalid"),
                Some("entra.client-secret-expired"),
            ],
        ),
        // An axios-style error with Genesys's body, then google-auth's.
        (
            "2026-11-24 00:00:06,083 ERROR web.request: Request failed with status code 401 (GET https://api.mypurecloud.com/api/v2/routing/wrapupcodes)\n\
             { message: 'Invalid login credentials.', code: 'bad.credentials', status: 401, contextId: '0d1e2c3f-0021-040c-ecd6-e2b092161cc5', details: [], errors: [] }\n\
             2026-11-24 00:00:06,522 ERROR google.auth.transport: refresh failed: google.auth.exceptions.RefreshError: ('invalid_grant: Token has been expired or revoked.', {'error': 'invalid_grant', 'error_description': 'Token has been expired or revoked.'})\n",
            [
                Some("genesys.bad-credentials"),
                Some("google.refresh-token-expired-or-revoked"),
            ],
        ),
        // curl's trace of an S3 403, then botocore raising for STS.
        (
            "> PUT /exports/224 HTTP/1.1\n\
             > Host: contoso-544ad8.s3.amazonaws.com\n\
             > User-Agent: curl/7.88.1\n\
             >\n\
             < HTTP/1.1 403 Forbidden\n\
             < Content-Type: application/xml\n\
             <\n\
             <Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>5278B2FC5CB3A01E</RequestId></Error>\n\
             botocore.exceptions.ClientError: An error occurred (ExpiredToken) when calling the AssumeRole operation: The security token included in the request is expired\n",
            [
                Some("aws.access-denied"),
                Some("aws.session-credentials-expired"),
            ],
        ),
    ];
    for (log, want) in cases {
        let a = faultline::analyze_text("two.log", log, &builtin());
        let got = tops(&a);
        assert_eq!(got.len(), 2, "{log}\n{got:?}");
        assert_eq!(
            got.iter().map(|(_, t)| *t).collect::<Vec<_>>(),
            want,
            "{log}"
        );
    }
}

/// An exception that names no URL but names another provider than the
/// URL of the failure before it is another failure.
#[test]
fn an_exception_naming_another_provider_is_another_failure() {
    let traceback = |status: &str, url: &str| {
        format!(
            "2026-11-24 00:00:43,100 ERROR etl.extract: sync failed\n\
             Traceback (most recent call last):\n\
             \x20 File \"/srv/app/client.py\", line 167, in get\n\
             \x20   r.raise_for_status()\n\
             requests.exceptions.HTTPError: {status} for url: {url}\n"
        )
    };
    let cases = [
        (
            traceback(
                "500 Server Error: Internal Server Error",
                "https://api.mypurecloud.com/api/v2/users",
            ),
            "2026-11-24 00:00:43,466 ERROR s3sync: botocore.exceptions.ClientError: An error occurred (ExpiredToken) when calling the GetObject operation: The provided token has expired.\n",
            "aws.session-credentials-expired",
        ),
        (
            traceback(
                "401 Client Error: Unauthorized",
                "https://dev-450900.okta.com/api/v1/users",
            ),
            "2026-11-24 00:00:44,592 ERROR google.auth.transport: refresh failed: google.auth.exceptions.RefreshError: ('invalid_grant: Token has been expired or revoked.', {'error': 'invalid_grant', 'error_description': 'Token has been expired or revoked.'})\n",
            "google.refresh-token-expired-or-revoked",
        ),
    ];
    for (first, second, rule) in cases {
        let log = format!("{first}{second}");
        let a = faultline::analyze_text("two.log", &log, &builtin());
        let got = tops(&a);
        assert_eq!(got.len(), 2, "{log}\n{got:?}");
        assert_eq!(got[1], (6, Some(rule)), "{log}");
        assert_ne!(got[0].1, Some(rule), "{log}");
    }
    // The other way round: STS's XML, then a traceback for a Genesys URL.
    let sts = "2026-11-24 00:00:44,381 ERROR sts: AssumeRole failed (region eu-central-1):\n\
               <ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n\
               \x20 <Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error>\n\
               </ErrorResponse>\n";
    let log = format!(
        "{sts}{}",
        traceback(
            "401 Client Error: Unauthorized",
            "https://api.mypurecloud.ie/api/v2/users"
        )
    );
    let a = faultline::analyze_text("two.log", &log, &builtin());
    let got = tops(&a);
    assert_eq!(got.len(), 2, "{log}\n{got:?}");
    assert_eq!(got[0], (2, Some("aws.invalid-access-key-id")), "{log}");
    // And a body that an error record of its own logs after a call of
    // another provider that had no body yet.
    let log = format!(
        "2026-11-24 00:00:45,330 DEBUG urllib3.connectionpool: https://api.euw2.pure.cloud:443 \"GET /api/v2/routing/wrapupcodes HTTP/1.1\" 400 71\n{sts}"
    );
    let a = faultline::analyze_text("two.log", &log, &builtin());
    let got = tops(&a);
    assert_eq!(got.len(), 2, "{log}\n{got:?}");
    assert_eq!(got[1], (3, Some("aws.invalid-access-key-id")), "{log}");
    // A body its own call's record introduces, or one that quotes another
    // service right after its call, stays with the call.
    for log in [
        "2026-11-24 00:00:45,330 DEBUG urllib3.connectionpool: https://login.mypurecloud.com:443 \"POST /oauth/token HTTP/1.1\" 400 108\n\
         2026-11-24 00:00:45,331 ERROR app.auth: token request failed:\n\
         {\"error\":\"invalid_client\",\"description\":\"authentication failed\",\"error_description\":\"authentication failed\"}\n",
        "2026-11-24 00:00:45,330 ERROR app.actions: POST https://api.mypurecloud.com/api/v2/integrations/actions/abc/execute -> 400\n\
         {\"message\":\"REST call for action execute failed. Message: Request to backend service failed. Response from web service: <Error><Code>AccessDenied</Code></Error> from https://bucket-1.s3.amazonaws.com/x\",\"code\":\"bad.request\",\"status\":400}\n",
    ] {
        let a = faultline::analyze_text("one.log", log, &builtin());
        assert_eq!(a.incidents.len(), 1, "{log}\n{:?}", tops(&a));
    }
    // The same provider's error after its call's traceback: one failure.
    let log = format!(
        "{}{}",
        traceback(
            "401 Client Error: Unauthorized",
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        ),
        "2026-11-24 00:00:43,467 ERROR etl.extract: AADSTS7000215: Invalid client secret provided.\n"
    );
    let a = faultline::analyze_text("one.log", &log, &builtin());
    assert_eq!(a.incidents.len(), 1, "{log}\n{:?}", tops(&a));
}

/// urllib3's line opening a connection belongs to the call on that host:
/// another call's exception, for a URL on another host or stating a status
/// with no request between, starts its own incident.
#[test]
fn a_connection_line_is_joined_only_by_its_own_call() {
    let connect = "2026-11-24 00:00:34,489 DEBUG urllib3.connectionpool: Starting new HTTPS connection (1): api.internal.example.com:443\n";
    let cases = [
        (
            "2026-11-24 00:00:34,207 ERROR web.request: Request failed with status code 401 (GET https://api.mypurecloud.de/api/v2/users)\n\
             { message: 'Invalid login credentials.', code: 'bad.credentials', status: 401, contextId: 'f8727d21-6017-b12f-bf4f-b9e2e2f6896c', details: [], errors: [] }\n",
            Some("api.mypurecloud.de"),
        ),
        (
            "2026-11-24 00:00:34,673 WARNING googleapiclient.http: Encountered 403 Forbidden with reason \"accessNotConfigured\"\n\
             2026-11-24 00:00:34,673 ERROR core.utils: API error: <HttpError 403 when requesting https://www.googleapis.com/calendar/v3/calendars/primary/events?alt=json returned \"Google Calendar API has not been used in project 255063336405 before or it is disabled.\">\n",
            Some("www.googleapis.com"),
        ),
    ];
    for (failure, host) in cases {
        let log = format!("{connect}{failure}");
        let a = faultline::analyze_text("busy.log", &log, &builtin());
        assert_eq!(a.incidents.len(), 1, "{log}");
        let inc = &a.incidents[0];
        assert_eq!(inc.loc.line, 2, "{log}");
        assert_eq!(inc.facts.str("url.host"), host, "{log}");
    }
    // Nor a body after it: its status line is missing.
    let log = format!(
        "{connect}2026-11-24 00:00:34,647 ERROR gcs.client: {{\"error\":{{\"code\":403,\"message\":\"The caller does not have permission\",\"status\":\"PERMISSION_DENIED\"}}}}\n"
    );
    let a = faultline::analyze_text("busy.log", &log, &builtin());
    assert_eq!(a.incidents.len(), 1, "{log}");
    assert_eq!(a.incidents[0].loc.line, 2, "{log}");
    assert!(a.incidents[0].facts.get("url.host").is_empty(), "{log}");
    // Its own call's transport error joins it.
    let log = format!(
        "{connect}requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.internal.example.com', port=443): Max retries exceeded with url: /v1/orders (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f>: Failed to establish a new connection: [Errno 111] Connection refused'))\n"
    );
    let a = faultline::analyze_text("own.log", &log, &builtin());
    assert_eq!(a.incidents.len(), 1, "{log}");
    assert_eq!(a.incidents[0].loc.line, 1, "{log}");
}

/// Two bodies alone with no primary error code are told apart by their
/// codes: STS's `<Code>` and Google's `status` are two failures, not one
/// repeated.
#[test]
fn bodies_alone_with_other_codes_are_not_repeats() {
    let log = "2026-11-24 00:00:05,676 ERROR sts: AssumeRole failed:\n\
               <ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>\n\
               2026-11-24 00:00:06,001 INFO app.worker: processed 12 events\n\
               2026-11-24 00:00:06,197 ERROR gcs.client: {\"error\":{\"code\":403,\"message\":\"The caller does not have permission\",\"status\":\"PERMISSION_DENIED\"}}\n\
               2026-11-24 00:00:07,001 INFO app.worker: processed 12 events\n\
               2026-11-24 00:00:07,197 ERROR gcs.client: {\"error\":{\"code\":403,\"message\":\"The caller does not have permission\",\"status\":\"PERMISSION_DENIED\"}}\n";
    let a = faultline::analyze_text("bodies.log", log, &builtin());
    let got = tops(&a);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].1, Some("aws.invalid-access-key-id"));
    assert_eq!(a.incidents[0].repeat_count, 0);
    assert_eq!(
        a.incidents[1].repeat_count, 1,
        "the second GCS error repeats the first"
    );
}

/// An SDK's one wrapper exception, each time with another cause: two
/// failures, not one repeated (a DNS failure under it must not be folded
/// into an earlier wrapper that said nothing, and lost with it); the same
/// cause again folds.
#[test]
fn one_wrapper_type_with_other_causes_is_not_a_repeat() {
    let log = "2026-11-24 00:00:05 ERROR Client:164 - Error occurred on channel A : software.amazon.awssdk.core.exception.SdkClientException\n\n\
               Caused by: software.amazon.awssdk.core.exception.SdkClientException\n\
               Caused by: java.net.UnknownHostException: stream.example-voice.net\n\n\
               Caused by: software.amazon.awssdk.core.exception.SdkClientException\n\
               Caused by: java.net.UnknownHostException: stream.example-voice.net\n";
    let a = faultline::analyze_text("wrapper.log", log, &builtin());
    let got = tops(&a);
    // The wrapper alone (no message, no cause) is no failure of its own.
    assert_eq!(got, [(3, Some("http.dns-failure"))]);
    assert_eq!(a.incidents[0].repeat_count, 1, "the same cause again folds");
}

/// One failure told by several layers keeps their codes together, in any
/// of the forms they write it.
#[test]
fn layers_that_name_the_same_error_stay_one_failure() {
    let logs = [
        // Entra's body, then the code alone in a message.
        "2026-11-24 00:00:01,537 ERROR app.auth: token request failed: 401 {\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client secret provided.\",\"error_codes\":[7000215]}\n\
         2026-11-24 00:00:01,538 ERROR app.auth: AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.\n",
        // S3's XML, then botocore's exception naming the same code.
        "2026-11-24 00:00:04,964 ERROR upload: PUT https://contoso-544ad8.s3.amazonaws.com/exports/224 -> 403\n\
         <Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>5278B2FC5CB3A01E</RequestId></Error>\n\
         botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the PutObject operation: Access Denied\n",
        // A body without a code, then an exception with one.
        "2026-11-24 00:00:01,537 ERROR app.api: POST https://login.mypurecloud.com/oauth/token -> 400\n\
         {\"description\":\"The client credentials are invalid\"}\n\
         2026-11-24 00:00:01,538 ERROR app.api: error: invalid_client\n",
    ];
    for log in logs {
        let a = faultline::analyze_text("one.log", log, &builtin());
        assert_eq!(a.incidents.len(), 1, "{log}\n{:?}", tops(&a));
    }
}

/// A body that a warning or error record logs after the access line of
/// another call that succeeded is that record's failure; the success keeps
/// only a body logged with it.
#[test]
fn a_body_an_error_record_logs_after_a_success_is_not_the_success_s() {
    let sts = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n\
               \x20 <Error>\n\
               \x20   <Type>Sender</Type>\n\
               \x20   <Code>InvalidClientTokenId</Code>\n\
               \x20   <Message>The security token included in the request is invalid.</Message>\n\
               \x20 </Error>\n\
               \x20 <RequestId>ea258c65-1da5-d22d-1641-acc11b4409c9</RequestId>\n\
               </ErrorResponse>\n";
    for (access, intro) in [
        (
            "2026-11-24 00:00:05,935 DEBUG urllib3.connectionpool: https://api.mypurecloud.de:443 \"GET /api/v2/users/me HTTP/1.1\" 200 85124\n",
            "2026-11-24 00:00:05,936 ERROR sts: AssumeRole failed (region us-east-1):\n",
        ),
        (
            "127.0.0.1 - - [03/Dec/2026:10:07:14 +0000] \"GET /api/v2/users/me HTTP/1.1\" 200 85124 \"-\" \"python-requests/2.34.2\"\n",
            "[2026-12-03T10:07:14.210Z] WARN  c.e.aws.Sts - AssumeRole failed:\n",
        ),
    ] {
        let log = format!("{access}{intro}{sts}");
        let a = faultline::analyze_text("sts.log", &log, &builtin());
        assert_eq!(a.incidents.len(), 1, "{log}\n{:?}", tops(&a));
        let inc = &a.incidents[0];
        assert_eq!(inc.loc.line, 3, "{log}");
        assert!(inc.facts.get("status").is_empty(), "no 200 glued on: {log}");
        assert!(inc.recovered.is_none(), "{log}");
        assert_eq!(tops(&a)[0].1, Some("aws.invalid-access-key-id"));
    }
    // Nor one that states a failing status of its own, on an error
    // record's line.
    let log = "2026-11-24 00:00:05,935 DEBUG urllib3.connectionpool: https://api.mypurecloud.de:443 \"GET /api/v2/users/me HTTP/1.1\" 200 85124\n\
               2026-11-24 00:00:05,936 ERROR gcs.client: {\"error\":{\"code\":403,\"message\":\"The caller does not have permission\",\"status\":\"PERMISSION_DENIED\"}}\n";
    let a = faultline::analyze_text("gcs.log", log, &builtin());
    assert_eq!(a.incidents.len(), 1, "{log}");
    // Its own status (Google's `error.code`), not the success's 200.
    assert_eq!(a.incidents[0].facts.num("status"), Some(403.0), "{log}");
    assert_eq!(a.incidents[0].loc.line, 2);
    // Logged at DEBUG, the body may be the success's own (Slack's 200 with
    // `ok: false`): it stays with it.
    let log = "2026-11-24 00:00:05,935 DEBUG urllib3.connectionpool: https://slack.com:443 \"POST /api/chat.postMessage HTTP/1.1\" 200 37\n\
               2026-11-24 00:00:05,936 DEBUG slack.web: response:\n\
               {\"ok\":false,\"error\":\"not_in_channel\"}\n";
    let a = faultline::analyze_text("slack.log", log, &builtin());
    assert_eq!(a.incidents.len(), 1);
    assert_eq!(a.incidents[0].facts.num("status"), Some(200.0));
    assert_eq!(a.incidents[0].facts.str("error"), Some("not_in_channel"));
    // So may one an error record logs on its own line (Slack's exporter).
    let log = "DEBUG:urllib3.connectionpool:https://slack.com:443 \"GET /api/users.list?limit=200 HTTP/1.1\" 200 44\n\
               ERROR exporter: {'ok': False, 'error': 'invalid_auth'}\n";
    let a = faultline::analyze_text("slack.log", log, &builtin());
    assert_eq!(a.incidents.len(), 1);
    assert_eq!(a.incidents[0].facts.num("status"), Some(200.0));
    assert_eq!(a.incidents[0].facts.str("error"), Some("invalid_auth"));
}

#[test]
fn urllib3_retries_are_repeats_and_a_later_success_recovers_them() {
    let log = "DEBUG:urllib3.connectionpool:https://api.example.com:443 \"GET /v1/report HTTP/1.1\" 503 None\n\
               DEBUG:urllib3.util.retry:Incremented Retry for (url='/v1/report'): Retry(total=2)\n\
               DEBUG:urllib3.connectionpool:https://api.example.com:443 \"GET /v1/report HTTP/1.1\" 503 None\n\
               DEBUG:urllib3.connectionpool:https://api.example.com:443 \"GET /v1/report HTTP/1.1\" 200 5120\n";
    let a = faultline::analyze_text("retry.log", log, &builtin());
    assert_eq!(a.incidents.len(), 1);
    let inc = &a.incidents[0];
    assert_eq!(inc.repeat_count, 1);
    assert_eq!(inc.recovered.map(|l| l.line), Some(4));
    assert_eq!(inc.facts.str("recovered"), Some("true"));
    assert!(inc.headline().contains("recovered"));
    assert!(
        a.diagnoses
            .iter()
            .filter(|d| d.incident == Some(0))
            .all(|d| d.severity == Severity::Info),
        "a recovered failure's diagnoses are info"
    );
}

#[test]
fn a_clean_body_after_a_body_only_failure_recovers_it() {
    // A debug log that prints response bodies but no statuses: an error
    // body, a retry, then a body with no error in it.
    let log = "12:00:01 DEBUG Response body:\n\
               b'{\"__type\":\"ServiceUnavailable\",\"message\":\"try again\"}'\n\
               12:00:01 DEBUG Retry needed, sleeping 0.5 seconds\n\
               12:00:02 DEBUG Response body:\n\
               b'{\"items\":[{\"id\":\"a1\"}]}'\n";
    let a = faultline::analyze_text("bodies.log", log, &builtin());
    assert_eq!(a.incidents.len(), 1);
    assert_eq!(a.incidents[0].recovered.map(|l| l.line), Some(5));
}

#[test]
fn a_clean_body_recovers_no_failure_that_named_its_status_or_url() {
    // The JSON after a failure with a status and URL is not its retry: a
    // body recovers only a failure told by a body alone.
    let log = "DEBUG:urllib3.connectionpool:https://api.example.com:443 \"GET /v1/report HTTP/1.1\" 503 None\n\
               {\"error\":\"unavailable\"}\n\
               INFO loaded config {\"region\":\"eu-west-1\",\"retries\":3}\n";
    let a = faultline::analyze_text("other.log", log, &builtin());
    assert_eq!(a.incidents.len(), 1);
    assert!(a.incidents[0].recovered.is_none());
}

#[test]
fn a_failure_after_the_success_is_not_recovered() {
    let log = "DEBUG:urllib3.connectionpool:https://api.example.com:443 \"GET /v1/report HTTP/1.1\" 503 None\n\
               DEBUG:urllib3.connectionpool:https://api.example.com:443 \"GET /v1/report HTTP/1.1\" 200 5120\n\
               DEBUG:urllib3.connectionpool:https://api.example.com:443 \"GET /v1/report HTTP/1.1\" 503 None\n";
    let a = faultline::analyze_text("flap.log", log, &builtin());
    assert_eq!(a.incidents.len(), 1);
    assert_eq!(a.incidents[0].repeat_count, 1);
    assert!(a.incidents[0].recovered.is_none());
}

#[test]
fn a_success_of_another_url_or_method_recovers_nothing() {
    let log = "DEBUG:urllib3.connectionpool:https://api.example.com:443 \"POST /v1/report HTTP/1.1\" 503 None\n\
               DEBUG:urllib3.connectionpool:https://api.example.com:443 \"GET /v1/report HTTP/1.1\" 200 10\n\
               DEBUG:urllib3.connectionpool:https://api.example.com:443 \"POST /v1/other HTTP/1.1\" 200 10\n";
    let a = faultline::analyze_text("other.log", log, &builtin());
    assert_eq!(a.incidents.len(), 1);
    assert!(a.incidents[0].recovered.is_none());
}

#[test]
fn debug_lines_and_the_access_line_of_one_exchange_are_one_incident() {
    let log = "send: b'GET /v1/me HTTP/1.1\\r\\nHost: api.example.com\\r\\n\\r\\n'\n\
               reply: 'HTTP/1.1 401 Unauthorized\\r\\n'\n\
               header: WWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\"\n\
               DEBUG:urllib3.connectionpool:https://api.example.com:443 \"GET /v1/me HTTP/1.1\" 401 0\n\
               GET /v1/me -> 401\n";
    let a = faultline::analyze_text("debug.log", log, &builtin());
    assert_eq!(a.incidents.len(), 1, "{:#?}", a.incidents);
    let f = &a.incidents[0].facts;
    assert_eq!(f.str("challenge.scheme"), Some("bearer"));
    assert_eq!(f.str("challenge.error"), Some("invalid_token"));
    assert_eq!(f.str("challenge.realm"), Some("api"));
}

#[test]
fn interleaved_records_are_tied_by_request_id() {
    let log = r#"{"ts":"2026-01-01T00:00:01Z","level":"info","request_id":"r-1","msg":"calling","method":"POST","url":"https://api.example.com/v1/a"}
{"ts":"2026-01-01T00:00:01Z","level":"info","request_id":"r-2","msg":"calling","method":"GET","url":"https://api.example.com/v1/b"}
{"ts":"2026-01-01T00:00:02Z","level":"info","request_id":"r-2","msg":"done","status":200}
{"ts":"2026-01-01T00:00:03Z","level":"error","request_id":"r-1","msg":"request failed","status":409,"response":{"code":"conflict","message":"already exists"}}
"#;
    let a = conflict_tied_to_the_first_call(log);
    let f = &a.incidents[0].facts;
    assert!(
        f.get("message")
            .iter()
            .any(|m| m.value.to_string() == "already exists")
    );
}

#[test]
fn interleaved_records_are_tied_by_a_numeric_id_or_an_id_told_twice() {
    // A number is no text in its field: the draft keeps a copy of it. An
    // id told twice in one record counts once.
    let log = r#"{"ts":"2026-01-01T00:00:01Z","level":"info","request_id":101,"msg":"calling","method":"POST","url":"https://api.example.com/v1/a"}
{"ts":"2026-01-01T00:00:01Z","level":"info","request_id":"r-2","requestId":"r-2","msg":"calling","method":"GET","url":"https://api.example.com/v1/b"}
{"ts":"2026-01-01T00:00:02Z","level":"info","request_id":"r-2","msg":"done","status":200}
{"ts":"2026-01-01T00:00:03Z","level":"error","request_id":101,"msg":"request failed","status":409,"response":{"code":"conflict","message":"already exists"}}
"#;
    conflict_tied_to_the_first_call(log);
}

/// Asserts that `log` gives one incident: the 409 of the first call
/// (`POST https://api.example.com/v1/a`), tied to it across the records
/// of the other one.
fn conflict_tied_to_the_first_call(log: &str) -> faultline::Analysis {
    let a = faultline::analyze_text("app.jsonl", log, &builtin());
    assert_eq!(a.incidents.len(), 1, "{:#?}", a.incidents);
    let f = &a.incidents[0].facts;
    assert_eq!(f.num("status"), Some(409.0));
    assert_eq!(f.str("url"), Some("https://api.example.com/v1/a"));
    assert_eq!(f.str("method"), Some("POST"));
    a
}

#[test]
fn interleaved_requests_are_tied_by_url() {
    let log = "> POST /v1/a HTTP/1.1\n> Host: api.example.com\n>\n\
               10:00:01 GET https://api.example.com/v1/b -> 200\n\
               requests.exceptions.HTTPError: 409 Client Error: Conflict for url: https://api.example.com/v1/a\n";
    let a = faultline::analyze_text("mixed.log", log, &builtin());
    assert_eq!(a.incidents.len(), 1, "{:#?}", a.incidents);
    let f = &a.incidents[0].facts;
    assert_eq!(f.num("status"), Some(409.0));
    assert_eq!(f.str("method"), Some("POST"), "the request line is its own");
}

#[test]
fn text_first_signals_are_incidents_with_messages_codes_and_provider() {
    let a = faultline::analyze_text(
        "entra.txt",
        r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.","error_codes":[7000215]}"#,
        &builtin(),
    );
    assert_eq!(a.incidents.len(), 1);
    let f = &a.incidents[0].facts;
    assert_eq!(f.str("provider"), Some("entra"));
    assert_eq!(f.str("provider.source"), Some("vocabulary"));
    let codes: Vec<String> = f
        .get("error.code")
        .iter()
        .map(|v| v.value.to_string())
        .collect();
    assert!(codes.contains(&"invalid_client".to_string()), "{codes:?}");
    assert!(codes.contains(&"AADSTS7000215".to_string()), "{codes:?}");
    assert!(f.get("message").iter().any(|m| {
        m.value
            .to_string()
            .starts_with("AADSTS7000215: Invalid client secret")
    }));
}

/// The finished exchanges of one Body event holding `body` (as the parser
/// gives HTML found anywhere).
fn body_alone(body: &str) -> Vec<Finished> {
    let chunk = Chunk {
        source: 0,
        offset: 0,
        first_line: 1,
        text: body.to_string(),
    };
    let event = Event {
        kind: EventKind::Body,
        span: faultline::input::Span::new(0, body.len()),
        fields: vec![field("body", Value::Str(body.into()), 0, body.len())],
        group: None,
        members_left_out: false,
    };
    drive(&chunk, vec![event]).1
}

#[test]
fn an_html_error_page_alone_is_a_failure_with_its_title() {
    let page = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n";
    let out = body_alone(page);
    assert_eq!(out.len(), 1);
    let Finished::Failure(inc) = &out[0] else {
        panic!("not a failure")
    };
    assert_eq!(inc.facts.str("body.format"), Some("html"));
    assert_eq!(inc.facts.str("html.title"), Some("502 Bad Gateway"));
    assert!(
        inc.facts
            .get("message")
            .iter()
            .any(|m| m.value.to_string() == "502 Bad Gateway")
    );
    let welcome = "<html><head><title>Welcome</title></head><body>hi</body></html>\n";
    // A page that reports no error is no failure (a bare body without an
    // error may count as a success: it can recover a failure before it).
    assert!(
        !body_alone(welcome)
            .iter()
            .any(|f| matches!(f, Finished::Failure(_))),
        "a page that reports no error is no failure"
    );
}

#[test]
fn retry_after_as_seconds_and_as_a_date() {
    let log =
        "HTTP/1.1 429 Too Many Requests\nDate: Tue, 24 Nov 2026 21:08:22 GMT\nRetry-After: 42\n\n";
    let a = faultline::analyze_text("r.log", log, &builtin());
    assert_eq!(a.incidents[0].facts.num("retry_after.seconds"), Some(42.0));
    let log = "HTTP/1.1 503 Service Unavailable\nDate: Tue, 24 Nov 2026 21:08:22 GMT\nRetry-After: Tue, 24 Nov 2026 21:10:22 GMT\n\n";
    let a = faultline::analyze_text("r.log", log, &builtin());
    assert_eq!(a.incidents[0].facts.num("retry_after.seconds"), Some(120.0));
}

#[test]
fn a_huge_header_block_keeps_bounded_evidence_and_says_so() {
    let mut log = String::from("HTTP/1.1 403 Forbidden\n");
    for i in 0..20_000 {
        log.push_str(&format!("X-Header-{i}: v\n"));
    }
    let a = faultline::analyze_text("h.log", &log, &builtin());
    assert_eq!(a.incidents.len(), 1);
    let inc = &a.incidents[0];
    let headers = inc
        .facts
        .iter()
        .filter(|(n, _)| n.starts_with("header."))
        .count();
    assert!(headers < 300, "{headers} headers kept");
    // Said, and what was capped is named.
    assert!(
        inc.notes
            .iter()
            .any(|n| n.contains("headers capped") && n.contains("19872 more left out")),
        "{:?}",
        inc.notes
    );
}

// The builder itself, driven with events directly (as a parallel scanner
// would), so inputs of 10^4–10^6 lines stay fast in a debug build.

fn providers() -> faultline::providers::Providers {
    load(&faultline::rules::builtin_sources()).providers
}

/// A chunk of `n` lines and one event per line made by `event`.
fn synthetic(n: usize, line: &str, event: impl Fn(usize, usize) -> Event) -> (Chunk, Vec<Event>) {
    let text = format!("{line}\n").repeat(n);
    let events = (0..n)
        .map(|i| event(i, i * (line.len() + 1)))
        .collect::<Vec<_>>();
    let chunk = Chunk {
        source: 0,
        offset: 0,
        first_line: 1,
        text,
    };
    (chunk, events)
}

fn field(name: &'static str, value: Value, start: usize, len: usize) -> Field {
    Field {
        name: name.into(),
        value,
        span: faultline::input::Span::new(start, start + len),
    }
}

/// (work, finished exchanges) for `n` events.
fn drive(chunk: &Chunk, events: Vec<Event>) -> (u64, Vec<Finished>) {
    let p = providers();
    let index = LineIndex::new(chunk);
    let mut b = Builder::new(chunk, &index, &p);
    let mut out = Vec::new();
    for e in events {
        b.push(e, &mut out);
    }
    b.finish(&mut out);
    (b.work(), out)
}

fn exception_lines(n: usize) -> (Chunk, Vec<Event>) {
    synthetic(n, HTTP_403.trim_end(), |_, at| Event {
        kind: EventKind::Exception,
        span: faultline::input::Span::new(at, at + HTTP_403.len() - 1),
        fields: vec![
            field(
                "exception.type",
                Value::Str("requests.exceptions.HTTPError".into()),
                at,
                29,
            ),
            field("status", Value::Num(403.0), at + 31, 3),
            field(
                "url",
                Value::Str("https://api.example.com/v1/reports".into()),
                at + 69,
                34,
            ),
        ],
        group: None,
        members_left_out: false,
    })
}

fn header_lines(n: usize) -> (Chunk, Vec<Event>) {
    synthetic(n, "X-Header: v", |i, at| {
        if i == 0 {
            Event {
                kind: EventKind::Status,
                span: faultline::input::Span::new(at, at + 11),
                fields: vec![field("status", Value::Num(403.0), at, 3)],
                group: None,
                members_left_out: false,
            }
        } else {
            Event {
                kind: EventKind::Header,
                span: faultline::input::Span::new(at, at + 11),
                fields: vec![field("header.x-header", Value::Str("v".into()), at + 10, 1)],
                group: None,
                members_left_out: false,
            }
        }
    })
}

#[test]
fn identical_failures_cost_linear_work_and_fold_as_they_come() {
    let (c1, e1) = exception_lines(10_000);
    let (w1, out1) = drive(&c1, e1);
    let (c2, e2) = exception_lines(100_000);
    let (w2, out2) = drive(&c2, e2);
    // Folded inside the builder: one incident carrying every repeat.
    for (out, n) in [(&out1, 10_000), (&out2, 100_000)] {
        assert_eq!(out.len(), 1);
        let Finished::Failure(inc) = &out[0] else {
            panic!("not a failure")
        };
        assert_eq!(inc.repeat_count, n - 1);
    }
    assert!(
        w2 < w1 * 10 * 2,
        "10x the lines took {}x the work",
        w2 as f64 / w1 as f64
    );
    assert!(
        w2 < 100_000 * 40,
        "work {w2} is not linear in 100000 events"
    );
}

/// Successes each with a request id of its own, as a JSON-lines app log
/// writes them.
fn successes_with_ids(n: usize) -> (Chunk, Vec<Event>) {
    let line = r#"{"status":200,"request_id":"r-000000"}"#;
    synthetic(n, line, |i, at| Event {
        kind: EventKind::Record,
        span: faultline::input::Span::new(at, at + line.len()),
        fields: vec![
            field("status", Value::Num(200.0), at + 10, 3),
            field(
                "record.request_id",
                Value::Str(format!("r-{i:06}").into()),
                at + 28,
                8,
            ),
        ],
        group: None,
        members_left_out: false,
    })
}

#[test]
fn successes_with_ids_are_let_go_at_once() {
    // A success takes only its own headers by id, which come with it: kept
    // open for a tie's whole window instead, each event of such a log was
    // weighed against a full set of open drafts.
    let n = 10_000;
    let (chunk, events) = successes_with_ids(n);
    let (work, out) = drive(&chunk, events);
    assert_eq!(out.len(), n);
    assert!(out.iter().all(|f| matches!(f, Finished::Success(_))));
    // About 5 per event; each success held for its window made it 20.
    assert!(work < 8 * n as u64, "work {work} for {n} successes");
}

#[test]
fn a_long_header_block_costs_linear_work() {
    let (c1, e1) = header_lines(10_000);
    let (w1, out1) = drive(&c1, e1);
    let (c2, e2) = header_lines(300_000);
    let (w2, out2) = drive(&c2, e2);
    assert_eq!(out1.len(), 1);
    assert_eq!(out2.len(), 1);
    assert!(
        w2 < w1 * 30 * 2,
        "30x the lines took {}x the work",
        w2 as f64 / w1 as f64
    );
    let Finished::Failure(inc) = &out2[0] else {
        panic!("not a failure")
    };
    assert!(!inc.notes.is_empty(), "the cap is noted");
}

#[test]
fn the_builder_hands_out_exchanges_in_input_order() {
    let text = "HTTP/1.1 500 A\n\nHTTP/1.1 502 B\n\nHTTP/1.1 200 C\n";
    let a = faultline::analyze_text("order.log", text, &builtin());
    let lines: Vec<usize> = a.incidents.iter().map(|i| i.loc.line).collect();
    assert_eq!(lines, vec![1, 3]);
    let chunk = Chunk {
        source: 0,
        offset: 0,
        first_line: 1,
        text: text.into(),
    };
    let index = LineIndex::new(&chunk);
    let events = faultline::parse::parse_chunk(&chunk);
    let out = incidents::build(&chunk, events, &index, &providers());
    let starts: Vec<usize> = out.iter().map(|f| f.start().1).collect();
    let mut sorted = starts.clone();
    sorted.sort();
    assert_eq!(starts, sorted);
    assert_eq!(out.len(), 3, "two failures and a success");
}

#[test]
fn an_api_path_ending_in_token_is_not_the_token_endpoint() {
    let rules = builtin();
    for path in [
        "/api/v2/screenrecording/token",
        "/api/v2/backgroundassistant/token",
        "/api/v2/webdeployments/token/refresh",
    ] {
        let log = format!(
            "DEBUG:urllib3.connectionpool:https://api.mypurecloud.com:443 \"POST {path} HTTP/1.1\" 400 120\n\
             {{\"message\":\"bad request\",\"code\":\"bad.request\",\"status\":400}}\n"
        );
        let a = faultline::analyze_text("api.log", &log, &rules);
        assert_eq!(a.incidents[0].facts.str("endpoint"), Some("api"), "{path}");
        let token_rules: Vec<&str> = a
            .diagnoses
            .iter()
            .map(|d| d.id.as_str())
            .filter(|id| id.starts_with("genesys.token") || id.starts_with("oauth."))
            .collect();
        assert!(token_rules.is_empty(), "{path}: {token_rules:?}");
    }
    let a = faultline::analyze_text(
        "oauth2.log",
        "DEBUG:urllib3.connectionpool:https://api.mypurecloud.com:443 \"POST /api/v2/oauth2/token HTTP/1.1\" 404 97\n",
        &rules,
    );
    assert!(
        a.diagnoses
            .iter()
            .any(|d| d.id == "genesys.token-wrong-path"),
        "the invented OAuth path still is"
    );
}

#[test]
fn a_program_error_that_is_no_api_call_is_no_incident() {
    let log = "Traceback (most recent call last):\n  File \"/app/export.py\", line 7, in <module>\n    w.writerow(row[\"department\"])\nKeyError: 'department'\n";
    let a = faultline::analyze_text("app.log", log, &builtin());
    assert!(a.incidents.is_empty(), "{:#?}", a.incidents);
    assert!(!a.fails(faultline::outcome::FailOn::Error));
}

#[test]
fn names_quoted_in_a_program_error_are_not_exchange_words() {
    // `'API'` and `'google.auth'` are names in the program; the words of an
    // exchange outside quotes still count (`AttributeError: … 'token' …`
    // is code, a KeyError's bare message is too).
    for log in [
        "Traceback (most recent call last):\n  File \"bot.py\", line 15, in <module>\n    for tweet in tweepy.Cursor(api.search, q=QUERY).items():\nAttributeError: 'API' object has no attribute 'search'\n",
        "Traceback (most recent call last):\n  File \"main.py\", line 2, in <module>\n    import google.auth\nModuleNotFoundError: No module named 'google.auth'\n",
        "app.rb:12:in `sync': undefined method `token' for nil:NilClass (NoMethodError)\n",
    ] {
        let a = faultline::analyze_text("app.log", log, &builtin());
        assert!(a.incidents.is_empty(), "{log}: {:#?}", a.incidents);
    }
    // A body logged just before is what the program read, not a failure.
    let log = "DEBUG Response body:\n{\"ChallengeName\":\"NEW_PASSWORD_REQUIRED\",\"Session\":\"AYABeVvRHPSAQGRr\"}\nTraceback (most recent call last):\n  File \"auth.py\", line 213, in authenticate\n    self.id_token = tokens['AuthenticationResult']['IdToken']\nKeyError: 'AuthenticationResult'\n";
    let a = faultline::analyze_text("app.log", log, &builtin());
    assert!(a.incidents.is_empty(), "{:#?}", a.incidents);
    let log = "Traceback (most recent call last):\n  File \"sync.py\", line 9, in <module>\n    client.fetch()\nAttributeError: token request failed for 'svc'\n";
    let a = faultline::analyze_text("app.log", log, &builtin());
    assert_eq!(a.incidents.len(), 1, "words outside quotes still count");
}

#[test]
fn a_java_program_error_is_no_exchange_but_its_network_errors_are() {
    // `java.lang.` errors are the program's (Android's logcat prints an
    // optional dependency's absence as a warning with a stack).
    for log in [
        "W/AWSMobileClient(4242): java.lang.NoClassDefFoundError: Failed resolution of: Lcom/example/mobile/auth/UserPoolsSignInProvider;\nW/AWSMobileClient(4242): \tat com.example.client.MobileClient.register(MobileClient.java:3536)\n",
        "Exception in thread \"main\" java.lang.IllegalStateException: queue is closed\n\tat com.acme.sync.Worker.run(Worker.java:88)\n",
    ] {
        let a = faultline::analyze_text("app.log", log, &builtin());
        assert!(a.incidents.is_empty(), "{log}: {:#?}", a.incidents);
    }
    for log in [
        "Exception in thread \"main\" java.net.SocketTimeoutException: Read timed out\n\tat java.base/java.net.SocketInputStream.socketRead0(Native Method)\n",
        "javax.net.ssl.SSLHandshakeException: PKIX path building failed\n\tat java.base/sun.security.ssl.Alert.createSSLException(Alert.java:131)\n",
        "java.io.IOException: unexpected end of stream on Connection{api.example.com:443}\n\tat okhttp3.internal.http1.Http1ExchangeCodec.readResponseHeaders(Http1ExchangeCodec.kt:205)\n",
    ] {
        let a = faultline::analyze_text("app.log", log, &builtin());
        assert_eq!(a.incidents.len(), 1, "{log}: {:#?}", a.incidents);
    }
}

#[test]
fn the_source_files_an_exception_names_are_no_exchange_words() {
    // PHP names the file that threw: `sp-api` there is a directory.
    let log = "PHP Fatal error:  Uncaught InvalidArgumentException: Invalid value 'Other' for 'model', must be one of 'Marketplace' in /srv/app/vendor/acme/selling-partner-api/lib/Model/Orders/TaxCollection.php:308\n";
    let a = faultline::analyze_text("php.log", log, &builtin());
    assert!(a.incidents.is_empty(), "{:#?}", a.incidents);
    // The message's own words still count.
    let log = "PHP Fatal error:  Uncaught RuntimeException: token request failed in /srv/app/src/Client.php:41\n";
    let a = faultline::analyze_text("php.log", log, &builtin());
    assert_eq!(a.incidents.len(), 1, "{:#?}", a.incidents);
}

#[test]
fn an_elixir_clause_error_on_a_successful_response_is_no_exchange() {
    // The value the program could not match is printed whole: the words
    // of a 200 response in it are data, not a failed call.
    let log = "** (CaseClauseError) no case clause matching: %HTTPoison.Response{body: \"<html>\", headers: [{\"Content-Type\", \"text/html\"}], request_url: \"https://shop.example.com/\", status_code: 200}\n    (shop 0.1.0) lib/shop/client.ex:18: Shop.Client.fetch/1\n";
    let a = faultline::analyze_text("iex.log", log, &builtin());
    assert!(a.incidents.is_empty(), "{:#?}", a.incidents);
    // A failing status or a transport error in the value still is one.
    for log in [
        "** (MatchError) no match of right hand side value: {:ok, %HTTPoison.Response{body: \"{}\", status_code: 401}}\n",
        "** (MatchError) no match of right hand side value: {:error, %HTTPoison.Error{id: nil, reason: :econnrefused}}\n",
    ] {
        let a = faultline::analyze_text("iex.log", log, &builtin());
        assert_eq!(a.incidents.len(), 1, "{log}: {:#?}", a.incidents);
    }
}

#[test]
fn a_retry_right_after_a_failure_without_url_recovers_it() {
    let log = "attempt 1 failed, retrying in 500 ms: TypeError: fetch failed\n  [cause]: Error: connect ECONNRESET 10.0.0.7:443\nattempt 2: GET https://api.example.com/v1/status -> 200 OK\n";
    let a = faultline::analyze_text("retry.log", log, &builtin());
    assert_eq!(a.incidents.len(), 1, "{:#?}", a.incidents);
    assert!(a.incidents[0].recovered.is_some());
    assert!(!a.fails(faultline::outcome::FailOn::Error));
}

#[test]
fn a_later_success_elsewhere_recovers_nothing() {
    // Another host, or too far away: not a retry of this failure.
    let log = "curl: (6) Could not resolve host: api.example.invalid\n\
               DEBUG:urllib3.connectionpool:https://other.example.com:443 \"GET /v1/x HTTP/1.1\" 200 12\n";
    let a = faultline::analyze_text("dns.log", log, &builtin());
    assert_eq!(a.incidents.len(), 1);
    assert!(a.incidents[0].recovered.is_none());
    let far = format!(
        "requests.exceptions.ConnectionError: ('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))\n{}GET https://api.example.com/v1/x -> 200\n",
        "INFO working\n".repeat(40)
    );
    let a = faultline::analyze_text("far.log", &far, &builtin());
    assert_eq!(a.incidents.len(), 1);
    assert!(a.incidents[0].recovered.is_none());
}

/// A failure that names its provider but no URL (botocore's, google-auth's,
/// an Entra error) is recovered by a success on that provider's hosts, not
/// by the next success of another API (in a busy log, most often another
/// call's).
#[test]
fn a_retry_of_a_failure_without_url_is_on_its_provider_s_hosts() {
    let failures = [
        "2026-11-24 00:00:43,466 ERROR s3sync: botocore.exceptions.ClientError: An error occurred (ExpiredToken) when calling the GetObject operation: The provided token has expired.\n",
        "2026-11-24 00:00:44,592 ERROR google.auth.transport: refresh failed: google.auth.exceptions.RefreshError: ('invalid_grant: Token has been expired or revoked.', {'error': 'invalid_grant', 'error_description': 'Token has been expired or revoked.'})\n",
    ];
    let genesys = "2026-11-24 00:00:44,600 DEBUG urllib3.connectionpool: https://api.mypurecloud.de:443 \"GET /api/v2/users/me HTTP/1.1\" 200 85124\n";
    for failure in failures {
        let log = format!("{failure}{genesys}");
        let a = faultline::analyze_text("busy.log", &log, &builtin());
        assert_eq!(a.incidents.len(), 1, "{log}");
        assert!(a.incidents[0].recovered.is_none(), "{log}");
    }
    let own = [
        "2026-11-24 00:00:44,600 DEBUG urllib3.connectionpool: https://s3.eu-west-1.amazonaws.com:443 \"GET /exports/1 HTTP/1.1\" 200 512\n",
        "2026-11-24 00:00:44,600 DEBUG urllib3.connectionpool: https://oauth2.googleapis.com:443 \"POST /token HTTP/1.1\" 200 1024\n",
    ];
    for (failure, retry) in failures.iter().zip(own) {
        let log = format!("{failure}{retry}");
        let a = faultline::analyze_text("retry.log", &log, &builtin());
        assert_eq!(a.incidents.len(), 1, "{log}");
        assert!(a.incidents[0].recovered.is_some(), "{log}");
    }
}

/// The events of `chunk` as a scan parses them for the builder: with
/// `ties`, JSON records that state no failure keep only their members that
/// tie (`Event::members_left_out`).
fn parsed(
    chunk: &Chunk,
    ties: Option<std::sync::Arc<faultline::providers::RecordTies>>,
) -> Vec<Event> {
    let words = faultline::parse::provider_words::for_providers(&providers());
    let mut events = Vec::new();
    let resume = faultline::parse::Resume::default();
    faultline::parse::parse_chunk_walked(chunk, 0, &resume, &words, None, ties, &mut |p| {
        if let faultline::parse::Parsed::Event(e) = p {
            events.push(e);
        }
        std::ops::ControlFlow::Continue(())
    });
    events
}

/// Records whose members were left out build exactly the exchanges their
/// whole events do: a success that a body and an error then join becomes a
/// failure with every member (read again), ids still tie, and records that
/// may hold an id below a member, or state a failure, are kept whole.
#[test]
fn records_with_members_left_out_build_the_same_exchanges() {
    let record = |ts: &str, rest: &str| {
        format!(
            r#"{{"ts":"2026-11-24T03:00:{ts}Z","level":"info","logger":"sync.jobs","msg":"request completed",{rest}}}"#
        )
    };
    let lines = [
        // A success, then its body and an error about it: one failure.
        record("01.100", r#""method":"GET","url":"https://api.example.com/v1/orders","status":200,"duration_ms":84,"request_id":"r-100","user":{"id":7,"tags":["a",null]}"#),
        "<html><head><title>Maintenance</title></head></html>".to_string(),
        "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)".to_string(),
        // The same again (a repeat, compared field by field).
        record("02.100", r#""method":"GET","url":"https://api.example.com/v1/orders","status":200,"duration_ms":84,"request_id":"r-100","user":{"id":7,"tags":["a",null]}"#),
        "<html><head><title>Maintenance</title></head></html>".to_string(),
        "json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)".to_string(),
        // Successes: ids at the top, under a dotted key, and below a
        // member (kept whole), with nulls, arrays and escapes.
        record("03.000", r#""method":"POST","url":"https://api.example.com/v2/jobs","status":201,"correlationId":"c-9","http.request_id":"h-1","note":null,"k\"ey":"v\u00e9""#),
        record("04.000", r#""url":"https://api.example.com/v2/jobs/9","status":204,"http":{"request_id":"h-2","status_code":204}"#),
        record("05.000", r#""url":"https://api.example.com/v2/jobs/9","status":200,"request":{"id":"q-1"},"sizes":[1,2,3]"#),
        // Failures stated by the record itself are read whole.
        record("06.000", r#""method":"GET","url":"https://api.example.com/v1/users","status":503,"request_id":"r-200""#),
        r#"{"ts":"2026-11-24T03:00:07Z","level":"error","msg":"token refresh failed","error":"invalid_grant","request_id":"r-300"}"#.to_string(),
        // A success whose id a later failure's record shares.
        record("08.000", r#""method":"GET","url":"https://api.example.com/v1/teams","status":200,"trace_id":"t-1""#),
        r#"{"ts":"2026-11-24T03:00:09Z","level":"error","msg":"upstream said 401","status":401,"trace_id":"t-1"}"#.to_string(),
    ];
    let chunk = Chunk {
        source: 0,
        offset: 0,
        first_line: 1,
        text: lines.join("\n") + "\n",
    };
    let whole_events = parsed(&chunk, None);
    let lean_events = parsed(&chunk, Some(providers().record_ties()));
    assert!(whole_events.iter().all(|e| !e.members_left_out));
    let left_out = lean_events.iter().filter(|e| e.members_left_out).count();
    // The successes of lines 1, 4, 7 and 12; those of lines 8 and 9 may
    // hold ids below `http` and `request` (`http.request_id`, `request.id`).
    assert_eq!(left_out, 4, "{lean_events:#?}");
    let whole = drive(&chunk, whole_events).1;
    let lean = drive(&chunk, lean_events).1;
    assert_eq!(format!("{whole:#?}"), format!("{lean:#?}"));
    // The failures the left-out records joined carry their every member.
    let failures: Vec<_> = whole
        .iter()
        .filter_map(|f| match f {
            Finished::Failure(inc) => Some(inc),
            Finished::Success(_) => None,
        })
        .collect();
    assert!(
        failures
            .iter()
            .any(|inc| !inc.facts.get("record.duration_ms").is_empty()
                && inc.facts.str("record.user.tags.0") == Some("a")),
        "{failures:#?}"
    );
}

#[test]
fn a_proxied_urllib3_line_names_the_target_url_and_the_proxy() {
    // Through a forward proxy urllib3's pool is the proxy and its target the
    // absolute URL; a query that holds another URL must not hide the line.
    let log = "2025-02-18 13:49:29,201 DEBUG urllib3.connectionpool: Starting new HTTP connection (1): proxy.corp.example:3128\n\
               2025-02-18 13:49:29,597 DEBUG urllib3.connectionpool: http://proxy.corp.example:3128 \"GET http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/ HTTP/1.1\" 400 367\n";
    let a = faultline::analyze_text("mi.log", log, &builtin());
    assert_eq!(a.incidents.len(), 1);
    let facts = &a.incidents[0].facts;
    assert_eq!(facts.num("status"), Some(400.0));
    assert_eq!(facts.str("url.host"), Some("169.254.169.254"));
    assert_eq!(
        facts.str("url.path"),
        Some("/metadata/identity/oauth2/token")
    );
    assert_eq!(facts.str("proxy"), Some("http://proxy.corp.example:3128"));
    assert_eq!(
        facts.num("url.port"),
        None,
        "the proxy's port is not the URL's"
    );
    // A direct line whose query holds an https URL reads as before.
    let direct = "DEBUG:urllib3.connectionpool:http://169.254.169.254:80 \"GET /metadata/identity/oauth2/token?resource=https://vault.azure.net HTTP/1.1\" 400 68\n";
    let a = faultline::analyze_text("mi.log", direct, &builtin());
    assert_eq!(a.incidents.len(), 1);
    let facts = &a.incidents[0].facts;
    assert_eq!(facts.str("url.host"), Some("169.254.169.254"));
    assert_eq!(facts.str("proxy"), None);
}

#[test]
fn a_certificate_failure_told_in_prose_is_a_failure() {
    // OpenSSL's and the JDK's verification failures inside a log line, not
    // only after `Error:`.
    for line in [
        "ERROR 2025-07-03T09:54:58 +1546ms service=default name=Error message=self signed certificate in certificate chain",
        "2025-07-03 09:54:58 ERROR sync: request failed: unable to get local issuer certificate",
        "[main] WARN  c.a.Client - TLS: PKIX path building failed: unable to find valid certification path to requested target",
    ] {
        let a = faultline::analyze_text("tls.log", &format!("{line}\n"), &builtin());
        assert_eq!(a.incidents.len(), 1, "{line}");
        assert!(
            a.diagnoses.iter().any(|d| d.id.starts_with("http.tls-")),
            "{line}: {:?}",
            a.diagnoses.iter().map(|d| &d.id).collect::<Vec<_>>()
        );
    }
    // Without the reason the failure is still one; which reason is unsaid.
    let bare =
        "urlopen error [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed (_ssl.c:1006)\n";
    assert_eq!(
        faultline::analyze_text("tls.log", bare, &builtin())
            .incidents
            .len(),
        1
    );
    let quiet = "2025-07-03 09:54:58 INFO tls: loaded 142 certificates from /etc/ssl/certs\n";
    assert!(
        faultline::analyze_text("tls.log", quiet, &builtin())
            .incidents
            .is_empty()
    );
}

/// The one incident `log` holds (asserted), read with the built-in pack.
fn only_incident(log: &str) -> faultline::incidents::Incident {
    let mut a = faultline::analyze_text("one.log", log, &builtin());
    assert_eq!(a.incidents.len(), 1, "{log}");
    a.incidents.remove(0)
}

fn status(log: &str) -> Option<f64> {
    only_incident(log).facts.num("status")
}

#[test]
fn ci_annotations_and_kubectl_errors_state_their_failure() {
    let error = |log: &str| {
        only_incident(log)
            .facts
            .str("error.code")
            .map(str::to_string)
    };
    // A runner's error annotation, in both spellings, around a Slack error.
    for line in [
        "##[error]An API error occurred: not_in_channel\n",
        "::error file=.github/workflows/notify.yml,line=12::An API error occurred: not_in_channel\n",
    ] {
        assert_eq!(error(line).as_deref(), Some("not_in_channel"), "{line}");
    }
    // kubectl's StatusReason, and the API server's 401 message alone.
    assert_eq!(
        status(
            "Error from server (Forbidden): secrets is forbidden: User \"system:serviceaccount:ci:deploy\" cannot get resource \"secrets\" in API group \"\" in the namespace \"prod\"\n"
        ),
        Some(403.0)
    );
    assert_eq!(
        status("Error from server (NotFound): deployments.apps \"web\" not found\n"),
        Some(404.0)
    );
    assert_eq!(
        status(
            "Error: Kubernetes cluster unreachable: the server has asked for the client to provide credentials\n"
        ),
        Some(401.0)
    );
    // A runner's closing line states no failed call.
    let done = "##[error]Process completed with exit code 1.\n";
    assert!(
        faultline::analyze_text("ci.log", done, &builtin())
            .incidents
            .is_empty()
    );
}

#[test]
fn undici_codes_and_firefox_console_objects_are_read() {
    let a = faultline::analyze_text(
        "node.log",
        "UND_ERR_CONNECT_TIMEOUT\n    at Immediate._onImmediate (/srv/app/node_modules/undici/lib/core/connect.js:148:11)\n",
        &builtin(),
    );
    assert_eq!(a.incidents.len(), 1);
    assert!(a.diagnoses.iter().any(|d| d.id == "http.timeout"));
    // Firefox prints an object as `Object { … }`.
    let a = faultline::analyze_text(
        "console.txt",
        "Uncaught (in promise) \nObject { success: false, status: 403, message: \"Forbidden\" }\n",
        &builtin(),
    );
    assert_eq!(a.incidents.len(), 1);
    assert_eq!(a.incidents[0].facts.num("status"), Some(403.0));
}

#[test]
fn grpc_statuses_response_reprs_and_more_tls_wordings_are_read() {
    // Go's gRPC status error: the code, and its HTTP status (code.proto).
    let log =
        "Error: rpc error: code = PermissionDenied desc = The caller does not have permission\n";
    assert_eq!(status(log), Some(403.0));
    let a = faultline::analyze_text("x.log", log, &builtin());
    assert_eq!(
        a.incidents[0].facts.str("exception.code"),
        Some("PermissionDenied")
    );
    // A requests Response's repr in a REPL, alone on its line.
    assert_eq!(
        status(">>> requests.post(url, json=body)\n<Response [405]>\n"),
        Some(405.0)
    );
    // Google's Go client: `Google API error (403 reason): …`.
    assert_eq!(
        status(
            "Google API error (403 accessNotConfigured): Google Drive API has not been used in project 583920174466 before or it is disabled.\n"
        ),
        Some(403.0)
    );
    // aws-sdk-go-v2's OperationError states a failed call with no status.
    let a = faultline::analyze_text(
        "x.log",
        "E0311 09:20:41.118204       1 controller.go:121] reconcile failed: operation error S3: ListBuckets, get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found\n",
        &builtin(),
    );
    assert_eq!(a.incidents.len(), 1);
    assert!(a.diagnoses.iter().any(|d| d.id == "aws.no-credentials"));
    // Not a status: a count in parentheses after `error`.
    assert!(
        faultline::analyze_text("x.log", "I/O error (404 lines)\n", &builtin())
            .incidents
            .is_empty()
    );
    // Android's and rustls' untrusted chains.
    for line in [
        "E/OkHttp: javax.net.ssl.SSLHandshakeException: java.security.cert.CertPathValidatorException: Trust anchor for certification path not found.\n",
        "    4: invalid peer certificate: UnknownIssuer\n",
    ] {
        let a = faultline::analyze_text("tls.log", line, &builtin());
        assert!(
            a.diagnoses.iter().any(|d| d.id == "http.tls-untrusted-ca"),
            "{line}: {:?}",
            a.diagnoses.iter().map(|d| &d.id).collect::<Vec<_>>()
        );
    }
}

#[test]
fn a_body_code_in_the_failure_range_stands_in_for_the_status() {
    // Genesys Messenger's WebSocket answer, logged by the mobile SDK.
    let log = "onMessage(text = {\"type\":\"response\",\"class\":\"TooManyRequestsErrorMessage\",\"code\":429,\"body\":{\"errorCode\":429,\"errorMessage\":\"ConfigureSession rate too high for this session\",\"retryAfter\":3}})\n";
    assert_eq!(status(log), Some(429.0));
    // An application's own numeric code is not a status.
    let a = faultline::analyze_text("x.log", "{\"code\":1001,\"message\":\"bad\"}\n", &builtin());
    assert!(a.incidents.iter().all(|i| i.facts.num("status").is_none()));
    // WordPress's REST errors name it in `data`, Strapi's in `error`.
    assert_eq!(
        status(
            "{\"code\":\"rest_not_logged_in\",\"message\":\"You are not currently logged in.\",\"data\":{\"status\":401}}\n"
        ),
        Some(401.0)
    );
    assert_eq!(
        status(
            "{\"data\":null,\"error\":{\"status\":403,\"name\":\"ForbiddenError\",\"message\":\"Forbidden\",\"details\":{}}}\n"
        ),
        Some(403.0)
    );
    // A numeric `error.status` is no Google status name: an `error.code`
    // beside it stays an application's code.
    assert_eq!(
        status("{\"error\":{\"status\":403,\"code\":409,\"message\":\"Forbidden\"}}\n"),
        Some(403.0)
    );
}

#[test]
fn google_nested_codes_aws_php_errors_and_erlang_alerts_are_read() {
    // Google's JSON error model: `error.code` is the status when
    // `error.status` names the canonical code beside it.
    assert_eq!(
        status(
            "{\"error\": {\"code\": 403, \"message\": \"Requests from referer <empty> are blocked.\", \"status\": \"PERMISSION_DENIED\"}}\n"
        ),
        Some(403.0)
    );
    // Without that name a nested numeric code is an application's own
    // (Facebook's Graph API numbers its errors: 506 is a duplicate post).
    assert_eq!(
        status(
            "{\"error\": {\"code\": 506, \"message\": \"Duplicate status message\", \"type\": \"OAuthException\"}}\n"
        ),
        None
    );
    // aws-sdk-php: `AWS HTTP error: … {Code} ({client|server}): …`.
    let a = faultline::analyze_text(
        "x.log",
        "PHP Fatal error:  Uncaught Aws\\Sqs\\Exception\\SqsException: Error executing \"SendMessage\" on \"https://sqs.eu-central-1.amazonaws.com/123456789012/orders\"; AWS HTTP error: Client error: 400 InvalidParameterValue (client): Value for parameter MessageBody is invalid.\n",
        &builtin(),
    );
    assert_eq!(a.incidents.len(), 1);
    assert_eq!(
        a.incidents[0].facts.str("exception.code"),
        Some("InvalidParameterValue")
    );
    // A cURL failure in the same wrapper has no code of the service.
    let a = faultline::analyze_text(
        "x.log",
        "Error executing \"SendRawEmail\" on \"https://email.us-east-1.amazonaws.com\"; AWS HTTP error: cURL error 56: SSL read: error:00000000:lib(0):func(0):reason(0), errno 104 (server): 100 Continue\n",
        &builtin(),
    );
    assert!(
        a.incidents
            .iter()
            .all(|i| i.facts.str("exception.code").is_none())
    );
    // Erlang's ssl: an alert the client generated or received, and older
    // releases' log line.
    for log in [
        "** (Mint.TransportError) TLS client: In state certify at ssl_handshake.erl:2111 generated CLIENT ALERT: Fatal - Unknown CA\n",
        "2024-05-02 11:20:17.051 [error] <0.812.0> reason: {tls_alert,{unknown_ca,\"TLS client: In state connection received SERVER ALERT: Fatal - Unknown CA\\n\"}}\n",
        "[error] SSL: :certify: ssl_handshake.erl:1401:Fatal error: unknown ca\n",
    ] {
        let a = faultline::analyze_text("x.log", log, &builtin());
        assert_eq!(a.incidents.len(), 1, "{log}");
    }
}

#[test]
fn go_oauth2s_token_fetch_failure_is_a_token_endpoint_answer() {
    // golang.org/x/oauth2 fetches the token inside the API call and states
    // its failure under the API's URL: the answer is the token endpoint's.
    let a = faultline::analyze_text(
        "drive.log",
        "Get https://www.googleapis.com/drive/v3/files?alt=json: oauth2: cannot fetch token: 400 Bad Request\nResponse: {\n  \"error\" : \"invalid_grant\"\n}\n",
        &builtin(),
    );
    assert_eq!(a.incidents.len(), 1);
    assert_eq!(a.incidents[0].facts.str("endpoint"), Some("token"));
    assert!(a.diagnoses.iter().any(|d| d.id == "oauth.invalid-grant"));
    // An API call's own failure stays the API's.
    let a = faultline::analyze_text(
        "drive.log",
        "Get https://www.googleapis.com/drive/v3/files?alt=json: 403 Forbidden\n",
        &builtin(),
    );
    assert_eq!(a.incidents[0].facts.str("endpoint"), Some("api"));
}

#[test]
fn a_curl_command_and_the_raw_response_it_printed_are_one_exchange() {
    // `curl -i` prints the response raw after the command: the command's
    // method, URL and request headers belong to that response and body.
    let log = "$ curl -i -X POST https://login.example.org/oauth2/token -H 'Content-Type: application/x-www-form-urlencoded' -d 'grant_type=client_credentials'\n\
HTTP/2 400\n\
content-type: application/json\n\
\n\
{\"error\":\"invalid_client\"}\n";
    let a = faultline::analyze_text("curl.txt", log, &builtin());
    assert_eq!(a.incidents.len(), 1, "{:?}", a.incidents);
    let facts = &a.incidents[0].facts;
    assert_eq!(facts.str("method"), Some("POST"));
    assert_eq!(facts.num("status"), Some(400.0));
    assert_eq!(facts.str("error"), Some("invalid_client"));
    assert_eq!(facts.str("header.content-type"), Some("application/json"));
    // A response printed by something else long after the command (and
    // once curl's own trace told its answer) is not the command's.
    let traced = "$ curl -v https://api.example.org/v1/items\n\
> GET /v1/items HTTP/1.1\n\
> Host: api.example.org\n\
>\n\
< HTTP/1.1 200 OK\n\
<\n\
[]\n\
HTTP/1.1 503 Service Unavailable\n";
    let a = faultline::analyze_text("curl.txt", traced, &builtin());
    let failing: Vec<_> = a
        .incidents
        .iter()
        .filter(|i| i.facts.num("status") == Some(503.0))
        .collect();
    assert_eq!(failing.len(), 1, "{:?}", a.incidents);
    assert!(
        failing[0].facts.str("url").is_none(),
        "{:?}",
        failing[0].facts
    );
}

#[test]
fn json_right_after_a_response_s_headers_is_its_body_even_with_a_timestamp() {
    // Entra's and Spring's error bodies carry a `timestamp`, as JSON log
    // records do: after a response's headers they are the body.
    let body = r#"{"error":"unauthorized_client","error_description":"AADSTS700016: Application with identifier 'abc' was not found in the directory 'Contoso'.","error_codes":[700016],"timestamp":"2024-07-29 13:45:10Z","trace_id":"0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c00"}"#;
    for log in [
        format!("HTTP/2 400\ncontent-type: application/json\n\n{body}\n"),
        format!(
            "> POST /contoso.onmicrosoft.com/oauth2/v2.0/token HTTP/2\n> Host: login.microsoftonline.com\n>\n< HTTP/2 400\n< content-type: application/json\n<\n* Connection #0 to host login.microsoftonline.com left intact\n{body}\n"
        ),
    ] {
        let a = faultline::analyze_text("t.txt", &log, &builtin());
        assert_eq!(a.incidents.len(), 1, "{log}\n{:?}", a.incidents);
        let facts = &a.incidents[0].facts;
        assert_eq!(facts.num("status"), Some(400.0), "{log}");
        assert_eq!(facts.str("error"), Some("unauthorized_client"));
    }
    // A JSON log record elsewhere stays a record.
    let records = "{\"timestamp\":\"2024-07-29T13:45:10Z\",\"level\":\"error\",\"msg\":\"sync failed\",\"status\":503}\n";
    let a = faultline::analyze_text("t.jsonl", records, &builtin());
    assert_eq!(a.incidents.len(), 1);
    assert!(
        a.incidents[0].facts.str("record.level").is_some(),
        "{:?}",
        a.incidents[0].facts
    );
}

#[test]
fn a_json_api_error_object_states_its_status_as_a_string() {
    // jsonapi.org's error objects (App Store Connect, Amadeus).
    let body = "{\n  \"errors\": [\n    {\n      \"code\": \"38194\",\n      \"title\": \"Too many requests\",\n      \"status\": \"429\"\n    }\n  ]\n}\n";
    let a = faultline::analyze_text("body.json", body, &builtin());
    assert_eq!(a.incidents.len(), 1, "{:#?}", a.incidents);
    assert_eq!(a.incidents[0].facts.num("status"), Some(429.0));
    // Not a status: an application's own code in that member.
    let body = "{\"errors\": [{\"status\": \"38194\", \"title\": \"Too many requests\"}]}\n";
    let a = faultline::analyze_text("body.json", body, &builtin());
    assert!(
        a.incidents.iter().all(|i| i.facts.num("status").is_none()),
        "{:#?}",
        a.incidents
    );
}

#[test]
fn a_curl_command_keeps_its_connection_and_its_answer() {
    // `* Connected to` after the command is the command's connection: the
    // headers and body only the command line shows stay with the answer.
    let log = "$ curl -v -X PATCH -H 'X-Api-Key: k-123' -d '{\"a\":1}' https://cases.example-soc.net:9000/api/case/7\n\
               * Connected to cases.example-soc.net (203.0.113.20) port 9000 (#0)\n\
               * upload completely sent off: 7 out of 7 bytes\n\
               < HTTP/1.1 401 Unauthorized\n\
               < Content-Type: application/json\n";
    let a = faultline::analyze_text("curl.log", log, &builtin());
    assert_eq!(a.incidents.len(), 1, "{:#?}", a.incidents);
    let f = &a.incidents[0].facts;
    assert_eq!(a.incidents[0].loc.line, 1);
    assert_eq!(f.str("method"), Some("PATCH"));
    assert_eq!(f.str("request.header.x-api-key"), Some("k-123"));
    assert_eq!(f.num("status"), Some(401.0));
    // Through a proxy (`-x`), curl connects to the proxy: the same call.
    let log = log.replace(
        "Connected to cases.example-soc.net (203.0.113.20) port 9000",
        "Connected to proxy.example.net (10.0.0.3) port 3128",
    );
    let a = faultline::analyze_text("curl.log", &log, &builtin());
    assert_eq!(a.incidents.len(), 1, "{:#?}", a.incidents);
    assert_eq!(
        a.incidents[0].facts.str("request.header.x-api-key"),
        Some("k-123")
    );
}

#[test]
fn a_status_object_in_a_body_states_the_status() {
    // Riot Games: `{"status": {"message": …, "status_code": 403}}`.
    let body = "{\n    \"status\": {\n        \"message\": \"Forbidden\",\n        \"status_code\": 403\n    }\n}\n";
    let a = faultline::analyze_text("body.json", body, &builtin());
    assert_eq!(a.incidents.len(), 1, "{:#?}", a.incidents);
    assert_eq!(a.incidents[0].facts.num("status"), Some(403.0));
    let ok = "{\"status\": {\"message\": \"OK\", \"status_code\": 200}}\n";
    let a = faultline::analyze_text("body.json", ok, &builtin());
    assert!(a.incidents.is_empty(), "{:#?}", a.incidents);
}
