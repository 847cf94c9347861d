//! Failures written as text: a line that states an error with no request
//! line, status line or URL around it is still a failure. The signals, each
//! defined by its shape (never by one product's wording):
//!
//! - an HTTP status of 400–599 stated in prose: `HTTP Error 401`,
//!   `status: 401`, `StatusCode=400`, `status code 403`, `… 403 (Forbidden)`,
//!   `(401) Unauthorized`, `does not indicate success: 401 (Unauthorized)`,
//!   `returned error: 403`, `received HTTP status 401`, `HTTP 403`,
//!   `403 Forbidden`, `Error 403:`, `… failed: 400`;
//! - an OAuth `error` (RFC 6749 §5.2, RFC 6750 §3.1, OIDC, RFC 8628) in any
//!   notation — `error=invalid_grant&error_description=…`,
//!   `error: invalid_client`, `"error":"…"` in prose — when its value is a
//!   registered OAuth error code, or an `error_description` goes with it;
//! - an error code: `errorCode: X`, `error_code=X`, a message that starts
//!   with an upper-case code with digits (`ABC70008: …`), botocore's
//!   `An error occurred (Code) when calling the Op operation: …`,
//!   aws-sdk-php's `AWS HTTP error: … Code (client): …`, a
//!   gRPC-style `PERMISSION_DENIED: …` or an `(Code) …` after a CLI's
//!   `ERROR:`;
//! - a tool's one-line error: a line that starts with `ERROR:`, `error:` or
//!   `fatal:` (optionally after `<tool>: `).
//!
//! Not signals: `0 errors`, `error_rate=0.0`, `errorHandler registered`,
//! `"error": null`, `"errors": []`, a 1xx–3xx status, a level word alone,
//! and anything on a line logged at INFO/DEBUG/TRACE (normal flow: a retry
//! announced, a response printed — the failure, if it stood, is logged
//! again or raised; a retry that then succeeded is the incident stage's).
//!
//! [`scan`] finds the facts in any text (also exception messages and log
//! record fields); [`TextSignal`] and [`CodeMessage`] make a line that has
//! them an [`EventKind::Exception`].

use std::ops::Range;
use std::sync::OnceLock;

use std::cell::RefCell;

use super::forward::{Caches, Forward};
use super::lean::{Captures, Match, Regex};
use regex_automata::nfa::thompson::{self, NFA, WhichCaptures, pikevm};
use regex_automata::{Input, MatchKind, PatternID, PatternSet, hybrid};

use super::json::find_body;
use super::logprefix;
use super::trigger_dfa::TriggerDfa;
use super::{Ctx, Direction, EventKind, Field, LineParser, Lines, Value};

/// Reason phrases of RFC 9110 (and 429), to recognise `403 Forbidden` in prose,
/// and the one servers put in their place most often: `Rate Limit Exceeded`
/// (Freshdesk's `429 Rate Limit Exceeded`, Google's `403 Rate Limit
/// Exceeded`; the number says which).
pub const REASONS: &[&str] = &[
    "Bad Request",
    "Unauthorized",
    "Payment Required",
    "Forbidden",
    "Not Found",
    "Method Not Allowed",
    "Not Acceptable",
    "Proxy Authentication Required",
    "Request Timeout",
    "Conflict",
    "Gone",
    "Length Required",
    "Precondition Failed",
    "Content Too Large",
    "Payload Too Large",
    "Request Entity Too Large",
    "URI Too Long",
    "Unsupported Media Type",
    "Unprocessable Entity",
    "Unprocessable Content",
    "Too Many Requests",
    "Internal Server Error",
    "Not Implemented",
    "Bad Gateway",
    "Service Unavailable",
    "Gateway Timeout",
    "Rate Limit Exceeded",
];

/// The standard reason phrase of an HTTP status (RFC 9110, and RFC 6585's 429).
pub fn reason_phrase(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => return None,
    })
}

/// Every name a status's reason phrase goes by: RFC 9110's, then the
/// older names of 413 and 422 that servers still send.
pub fn reason_phrases(status: u16) -> impl Iterator<Item = &'static str> {
    let older: &[&str] = match status {
        413 => &["Payload Too Large", "Request Entity Too Large"],
        422 => &["Unprocessable Entity"],
        _ => &[],
    };
    reason_phrase(status)
        .into_iter()
        .chain(older.iter().copied())
}

/// The status a reason phrase names (any ASCII case, any of its names): a
/// body whose error title is `Forbidden` states 403.
pub fn status_of_reason(phrase: &str) -> Option<u16> {
    let phrase = phrase.trim();
    (400..=505).find(|&s| reason_phrases(s).any(|r| r.eq_ignore_ascii_case(phrase)))
}

/// Registered OAuth 2.0 / OpenID Connect error codes: RFC 6749 §4.1.2.1 and
/// §5.2, RFC 6750 §3.1, RFC 8628 §3.5, RFC 7591 §3.2.2, RFC 8693, RFC 9449,
/// OpenID Connect Core §3.1.2.6.
pub const OAUTH_ERRORS: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "access_denied",
    "unsupported_response_type",
    "server_error",
    "temporarily_unavailable",
    "invalid_token",
    "insufficient_scope",
    "authorization_pending",
    "slow_down",
    "expired_token",
    "interaction_required",
    "login_required",
    "account_selection_required",
    "consent_required",
    "invalid_request_uri",
    "invalid_request_object",
    "request_not_supported",
    "request_uri_not_supported",
    "registration_not_supported",
    "invalid_redirect_uri",
    "invalid_client_metadata",
    "invalid_target",
    "unsupported_token_type",
    "invalid_dpop_proof",
    "use_dpop_nonce",
];

/// gRPC canonical status names that are one word (the others have an
/// underscore, which the code shape already takes).
const GRPC_WORDS: &[&str] = &[
    "CANCELLED",
    "UNKNOWN",
    "UNAUTHENTICATED",
    "UNAVAILABLE",
    "ABORTED",
    "INTERNAL",
    "UNIMPLEMENTED",
];

// Patterns here and in the other parsers use ASCII classes ([0-9],
// [A-Za-z0-9_]) for machine-written text (statuses, codes, keys, dates),
// and [A-Za-z0-9_\x{80}-\x{10FFFF}] for identifiers and host names (a
// superset of Unicode \w): Unicode \d and \w made each automaton many times
// larger, and compiling them was a third of a 1 MiB log's time.
fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("signal regex"))
}

/// Status statements, most specific first; `status` (and `reason`) groups.
/// Each is compiled when a text first matches it (see [`status`]): a log
/// holds a few of the sixteen shapes, and compiling all of them was a
/// twentieth of a 1 MiB log's run.
fn status_res() -> &'static [(String, OnceLock<Regex>)] {
    static RES: OnceLock<Vec<(String, OnceLock<Regex>)>> = OnceLock::new();
    RES.get_or_init(|| {
        status_patterns()
            .into_iter()
            .map(|p| (p, OnceLock::new()))
            .collect()
    })
}

/// The patterns of [`status_res`].
fn status_patterns() -> Vec<String> {
    let reasons = REASONS.join("|");
    [
            // A status line quoted in a message (`invalid websocket response
            // from host:443: HTTP/1.1 522 Origin Connection Time-out`).
            r"\bHTTP/[0-9](?:\.[0-9])? (?P<status>[0-9]{3})(?: (?P<reason>[A-Z][A-Za-z '-]*[A-Za-z]))?"
                .to_string(),
            // Guzzle (PHP): ``Client error: `GET https://…` resulted in a
            // `403 Forbidden` response``; older releases `Client error: 403`.
            r"resulted in a `(?P<status>[0-9]{3})(?: (?P<reason>[^`]*))?` response".to_string(),
            r"\b(?:Client|Server) error: (?P<status>[0-9]{3})\b".to_string(),
            r"\bHTTP Error (?P<status>[0-9]{3})(?::[ \t]*(?P<reason>[A-Za-z][A-Za-z '-]*[A-Za-z]))?"
                .to_string(),
            r"does not indicate success: (?P<status>[0-9]{3}) \((?P<reason>[^)]*)\)".to_string(),
            r"\b(?P<status>[0-9]{3}) \((?P<reason>[A-Z][A-Za-z '-]*|)\)".to_string(),
            // `(500) Internal Server Error`; node-zendesk's `Zendesk Error
            // (401): Not Authorized`.
            r"\((?P<status>[0-9]{3})\):? (?P<reason>[A-Z][A-Za-z '-]*[A-Za-z])".to_string(),
            // Also PHP's print_r and Ruby's inspect of a hash or object:
            // `[status] => 403`, `:status=>401`.
            r#"(?i:\b(?:http_)?status(?:[ _-]?code)?)["'\]]?\s*(?:=>|[:=]|\bis\b|\bof\b)?\s*["']?(?P<status>[0-9]{3})\b(?:.*?ReasonPhrase:\s*'(?P<reason>[^']*)')?"#
                .to_string(),
            r"(?i:\b(?:returned|responded with|received|got)\s+(?:an?\s+)?(?:(?:error|http|status|status code|response|response code|error code)\s*:?\s*)+)\(?(?P<status>[0-9]{3})\b\)?".to_string(),
            r"(?i:\b(?:returned|responded with))\s+(?P<status>[0-9]{3})(?:\s*$|\s*[,.;:()]|\s+[A-Z])"
                .to_string(),
            r"\bHTTP (?P<status>[0-9]{3})\b".to_string(),
            // Searched by [`reason_statements`] (see [`REASON_STATEMENT`]).
            // `413 Request Entity Too Large`, `413 - Request Entity Too Large`,
            // `403: Forbidden`.
            format!(r"\b(?P<status>[0-9]{{3}})(?: - |: | )(?P<reason>{reasons})\b"),
            r"\bError (?P<status>[0-9]{3})\b".to_string(),
            // Google front ends' error page as text (a client that strips
            // its markup): `404. That’s an error. The requested URL …`.
            r"\b(?P<status>[45][0-9]{2})\. That(?:\x{2019}|')s an error\.".to_string(),
            // `Over rate limit (error 429)`: lower case in parentheses.
            r"\(error (?P<status>[45][0-9]{2})\)".to_string(),
            // `… failed: 400`, not a port (`failed: Cannot connect to host
            // api.example.com:443 ssl:True`): a colon right after a host
            // name is a port's.
            r"(?i:\b(?:failed|HTTP error)\b)[^{]*?(?::\s+|(?:^|[^A-Za-z0-9_.\-\]]):)(?P<status>[0-9]{3})(?:\s|$|\{)"
                .to_string(),
            r"Request failed with status code (?P<status>[0-9]{3})".to_string(),
            // Apps Script's UrlFetchApp: `Request failed for https://…
            // returned code 401. Truncated server response: …`. A failing
            // status only: a process's exit code is never 400 or more.
            r"\breturned code (?P<status>[45][0-9]{2})\b".to_string(),
            // The subject first: `Response code returned: 410`.
            r"(?i:\b(?:response|status)(?:[ _]code)?\s+returned)\s*:?\s*(?P<status>[0-9]{3})\b"
                .to_string(),
            // Python's repr of an exception raised with several arguments:
            // `Exception: ('Request failed with ', 429, ' - ', '{…}')`, a
            // status as its own element after a string that says so.
            r#"(?i:\b(?:failed|error|status(?:[ _]code)?)\b)[^{'"\n]*['"],\s*(?P<status>[0-9]{3})\s*[,)]"#
                .to_string(),
            // Last, as the indices above are fixed (see [`REASON_STATEMENT`]).
            // requests' HTTPError message, also inside a repr or a logged
            // string: `HTTPError('401 Client Error: Unauthorized for url: …')`;
            // the Singer SDK's (Meltano taps') says `for path: /…`; the URL
            // is empty when the request had none to print (a blank base URL).
            r"\b(?P<status>[45][0-9]{2}) (?:Client|Server) Error: (?P<reason>[A-Z][A-Za-z '-]*[A-Za-z]) for (?:url|path):(?: |$)"
                .to_string(),
            // The repr of a requests Response in a REPL: `<Response [405]>`.
            r"<Response \[(?P<status>[0-9]{3})\]>".to_string(),
            // `Google API error (403 accessNotConfigured): …`.
            r"\bAPI error \((?P<status>[45][0-9]{2})\b".to_string(),
            // huggingface_hub's errors: `401 Client Error. (Request ID: …)`.
            r"\b(?P<status>[45][0-9]{2}) (?:Client|Server) Error\. ".to_string(),
            // Genesys's Terraform provider: `API Error: 400 - The request
            // could not be understood …`.
            r"\bAPI Error: (?P<status>[45][0-9]{2}) - ".to_string(),
            // 400 with RFC 2616's own description of it (§10.4.1), which
            // servers still send: also where a parser split `API Error` off
            // as an exception type.
            r"\b(?P<status>400)[ :-]{1,4}(?:The )?[Rr]equest could not be understood by the server due to malformed syntax"
                .to_string(),
            // The OpenAI and Anthropic Python SDKs' APIStatusError: `Error
            // code: 413 - {'error': …}`.
            r"\bError code: (?P<status>[45][0-9]{2}) - [{\[]".to_string(),
            // python-keycloak's KeycloakError: `403: b'{"error": …}'`, the
            // status and the body's bytes.
            r#"(?:^|: )(?P<status>[45][0-9]{2}): b['"]"#.to_string(),
            // `Response code = 403` (SDK wrappers), `Response code: 401`
            // (Java's HttpURLConnection logs).
            r"(?i:\bresponse[ _]?code)\s*[:=]\s*(?P<status>[1-5][0-9]{2})\b".to_string(),
            // A refused WebSocket upgrade: Node's ws (`Unexpected server
            // response: 401`, wscat's too) and Python's websocket-client
            // (`WebSocketBadStatusException: Handshake status 401`).
            r"\bUnexpected server response: (?P<status>[1-5][0-9]{2})\b".to_string(),
            r"\bHandshake status (?P<status>[1-5][0-9]{2})\b".to_string(),
            // Starscream (Swift): `HTTPUpgradeError.notAnUpgrade(401)` as
            // Swift prints the case (newer releases add the headers:
            // `notAnUpgrade(401, [...])`).
            r"\bnotAnUpgrade\((?P<status>[1-5][0-9]{2})\b".to_string(),
            // Singer taps' errors (tap-github, tap-typeform, tap-intercom…):
            // `HTTP-error-code: 403, Error: <the API's message>`.
            r"\bHTTP-error-code: (?P<status>[1-5][0-9]{2})\b".to_string(),
            // Vault's Go API client (the vault CLI, Terraform's provider,
            // Vault Agent): `Error making API request.` / `URL: GET …` /
            // `Code: 403. Errors:` and the errors as a list below.
            r"\bCode: (?P<status>[45][0-9]{2})\. Errors:".to_string(),
            // A method, an absolute URL and the status after it, as clients
            // log a failed call (ccxt's `binance GET https://… 451 {…}`).
            r"\b(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) https?://[^\s'\x22<>]+ (?P<status>[45][0-9]{2})(?:[ \t]|$)".to_string(),
            // A status named as the HTTP one (`HttpStatus=[401]` in Epic
            // Online Services' logs, `httpStatus: 403`, `HTTPStatusCode=500`):
            // the word glued to a prefix, which the keyed form above wants
            // standing alone.
            r"(?i:\bhttp_?status(?:_?code)?)[ \t]*[:=][ \t]*[\[(]?(?P<status>[1-5][0-9]{2})\b".to_string(),
            // `Invalid response - 400 for https://…` (python-wowapi), `error
            // 401 for https://…`: a status a word about a response or an
            // error goes with, then the URL it came from.
            r"(?i:\b(?:response|error|status|failed|got|code))\b[^\n0-9]{0,12}(?P<status>[45][0-9]{2}) for https?://".to_string(),
            // A quoted status after its name: dbt Cloud's `Failed http
            // request with response code '401' and body:`.
            r#"(?i:\b(?:response|status)[ _]?code)[ \t]+['"](?P<status>[1-5][0-9]{2})['"]"#.to_string(),
            // The number before the word: `got 403 response`, `received a
            // 401 error`.
            r"(?i:\b(?:got|received|returned))[ \t]+(?:an?[ \t]+)?(?P<status>[45][0-9]{2})[ \t]+(?i:response|status|error)\b".to_string(),
            // The OCI Java SDK's BmcException: `(401, NotAuthenticated,
            // false) The required information …` — status, service code,
            // whether the client retried.
            r"\((?P<status>[45][0-9]{2}), [A-Z][A-Za-z]+, (?:true|false)\) ".to_string(),
            // A quoted failing status after the verb: the Zapier CLI's
            // `Error! "https://…" returned "401" saying "…"`.
            r#"(?i:\b(?:returned|responded with))[ \t]+["'](?P<status>[45][0-9]{2})["']"#.to_string(),
            // Erlang's httpc (and Elixir calling it) prints a response as a
            // tuple: `{ok,{{"HTTP/1.1",400,"BAD REQUEST"}, Headers, Body}}`,
            // Elixir `{:ok, {{~c"HTTP/1.1", 401, ~c"Unauthorized"}, …}}`.
            r#"\{[ \t]*(?:~c|')?["']?HTTP/[0-9](?:\.[0-9])?["']?[ \t]*,[ \t]*(?P<status>[1-5][0-9]{2})[ \t]*,[ \t]*(?:~c)?["'](?P<reason>[^"'\n]*)["']"#.to_string(),
    ]
    .to_vec()
}

fn url_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(&RE, r#"https?://[^\s'"<>)\]}`]+"#)
}

fn method_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        // `GET https://…`, and Spring's `401 Unauthorized on POST request for "…"`.
        r"\b(?P<method>GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+(?:https?://|/)|\bon (?P<spring>GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) request\b",
    )
}

/// `error=…` in a query string or form body.
fn form_error_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(&RE, FORM_ERROR)
}

const FORM_ERROR: &str = r#"(?:^|[?&#\s"'(\[])error=(?P<error>[A-Za-z0-9_.-]+)"#;

/// An OAuth error code in parentheses before its description, as Python's
/// oauthlib words its `OAuth2Error` (`'(%s) %s' % (self.error,
/// self.description)`): `InvalidGrantError: (invalid_grant) Bad Request`,
/// which requests-oauthlib and the tools on it (vdirsyncer, gcalcli …)
/// print; and the repr of an exception whose first argument is the code
/// (`OAuthTokenRequestException('invalid_grant', 'AADSTS70000: …')`). Only
/// a registered code counts (see [`oauth`]).
fn paren_error_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(&RE, PAREN_ERROR)
}

const PAREN_ERROR: &str = r#"\((?:(?P<error>[a-z]+(?:_[a-z]+)+)\)[ \t]|["'](?P<quoted>[a-z]+(?:_[a-z]+)+)["'],[ \t]*["'])"#;

fn form_field_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r#"[?&#\s"'(\[]error_(?P<key>description|uri)=(?P<value>[^&\s"')\]]*)"#,
    )
}

/// `error: invalid_client`, `"error":"invalid_grant"`, `error = x`; and
/// `name: invalid_grant`, how the Salesforce CLI prints an OAuth error
/// (`… name: invalid_grant message: user hasn't approved this consumer`),
/// taken only for an OAuth error code: a `name` is any name otherwise.
/// Also as PHP and Ruby print a decoded body on one line: `print_r`'s
/// `[error] => invalid_grant`, `var_dump`'s `["error"]=> string(13)
/// "invalid_grant"`, Ruby's `"error"=>"invalid_grant"`. Not a dump of one
/// member per line (Laravel's `"error" => "invalid_scope"`, its description
/// on the next line): read alone, each line would be a failure of its own.
fn keyed_error_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(&RE, KEYED_ERROR)
}

/// Between a key and its value: `:` or `=`, PHP's `] =>` (`var_dump`'s
/// `]=> string(13) `), Ruby's `=>`. A macro, as [`KEYED_ERROR`] is a
/// constant the signal set is built from.
macro_rules! keyed_separator {
    () => {
        r#"(?:[ \t]*[:=][ \t]*|\][ \t]*=>[ \t]*(?:string\([0-9]+\)[ \t]*)?|=>)"#
    };
}

const KEYED_ERROR: &str = concat!(
    r#"(?i:["']?\b(?P<key>error|name)["']?)"#,
    keyed_separator!(),
    r#"["']?(?P<error>[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*)(?:["']|[ \t]*(?:$|[,;&)}\]]|\s)|:[ \t])"#
);

fn keyed_field_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        concat!(
            r#"(?i:["']?\berror_(?P<key>description|uri)["']?)"#,
            keyed_separator!(),
            r#"(?:"(?P<d1>(?:[^"\\\n]|\\.)*)"|'(?P<d2>(?:[^'\\\n]|\\.)*)'|(?P<d3>[^,&}\r\n]+))"#
        ),
    )
}

/// `errorCode: X`, `error_code=X`, `"errorCode":"X"`, `Error code: X`, and
/// CloudFormation's `(RequestToken: …, HandlerErrorCode: AccessDenied)`
/// after a resource handler's message (CDK and CloudFormation events:
/// often the only code a failed deploy prints, with no status).
fn keyed_code_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(&RE, KEYED_CODE)
}

const KEYED_CODE: &str = r#"(?i:["']?\b(?:(?:handler)?error[ _]?code|error\.code|err_?code)["']?)[ \t]*[:=][ \t]*["']?(?P<code>[A-Za-z0-9][A-Za-z0-9_.:-]*)"#;

/// A message that starts with an upper-case code with digits.
fn code_prefix_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(&RE, CODE_PREFIX)
}

const CODE_PREFIX: &str =
    r#"(?:^|[\s:(\['"])(?P<code>[A-Z]{2,}[0-9]{4,}|[A-Z][0-9]{6,})[ \t]*:[ \t]+\S"#;

/// botocore's ClientError: `An error occurred ({code}) when calling the
/// {op} operation{retry}: {message}`, and the AWS CLI v1's older `A client
/// error ({code}) occurred when calling the {op} operation: …` (botocore
/// before 1.4). The operation may be on the next line, as a terminal wraps
/// it.
fn botocore_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(&RE, BOTOCORE)
}

/// Go's gRPC status error: `rpc error: code = PermissionDenied desc = …`,
/// and .NET's (Grpc.Core, Grpc.Net.Client) in its RpcException message:
/// `Status(StatusCode="PermissionDenied", Detail="…")`, the name quoted or
/// not.
fn go_grpc_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(&RE, GO_GRPC)
}

const GO_GRPC: &str = r"\b(?:rpc error: code = |Status\(StatusCode=\x22?)(?P<code>[A-Z][A-Za-z]+)(?: desc = |\x22?, Detail=)";

/// The HTTP status of an OCI registry's error code, as the distribution
/// spec's error table gives it.
fn registry_status(code: &str) -> Option<f64> {
    Some(match code {
        "UNAUTHORIZED" => 401.0,
        "DENIED" => 403.0,
        "NAME_UNKNOWN" | "MANIFEST_UNKNOWN" | "BLOB_UNKNOWN" => 404.0,
        "TOOMANYREQUESTS" => 429.0,
        _ => return None,
    })
}

/// The HTTP status of a gRPC code, as google/rpc/code.proto maps them.
fn grpc_status(code: &str) -> Option<f64> {
    Some(match code {
        "InvalidArgument" | "FailedPrecondition" | "OutOfRange" => 400.0,
        "Unauthenticated" => 401.0,
        "PermissionDenied" => 403.0,
        "NotFound" => 404.0,
        "AlreadyExists" | "Aborted" => 409.0,
        "ResourceExhausted" => 429.0,
        "Canceled" => 499.0,
        // Not `Unknown`: a status-less error passed on (the kubelet's
        // `rpc error: code = Unknown desc = Error response from daemon: …`),
        // no server failure.
        "Internal" | "DataLoss" => 500.0,
        "Unimplemented" => 501.0,
        "Unavailable" => 503.0,
        "DeadlineExceeded" => 504.0,
        _ => return None,
    })
}

/// The HTTP status of a gRPC canonical code as grpcio and the status
/// protos spell it (`PERMISSION_DENIED`, `CANCELLED`); `None` for `OK` and
/// for names gRPC does not define.
pub(super) fn grpc_canonical_status(code: &str) -> Option<f64> {
    if code == "CANCELLED" {
        return grpc_status("Canceled");
    }
    let camel: String = code
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_string() + &chars.as_str().to_ascii_lowercase()
            })
        })
        .collect();
    grpc_status(&camel)
}

/// grpc-go's own status for a connection it could not make (`code =
/// Unavailable desc = connection error: desc = "transport: …"`): no server
/// answered, so it stands for no HTTP status (the transport error says
/// what failed: DNS, TLS, refused).
fn grpc_client_transport_failure(code: &str, desc: &str) -> bool {
    let desc = desc.trim_start_matches('"');
    code == "Unavailable"
        && (desc.starts_with("connection error")
            || desc.starts_with("transport: ")
            // Grpc.Net.Client's (.NET): `Status(StatusCode="Unavailable",
            // Detail="Error starting gRPC call. HttpRequestException: …")`.
            || desc.starts_with("Error starting gRPC call")
            || desc.starts_with("Error connecting to subchannel"))
}

/// aws-sdk-php's AwsException message: `Error executing "Op" on "url"; AWS
/// HTTP error: {the HTTP client's message} {Code} ({type}): {message} - …`,
/// where `type` is `client` or `server` (its WrappedHttpHandler). The code
/// on the line that says `AWS HTTP error:`.
fn aws_php_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(&RE, AWS_PHP)
}

const AWS_PHP: &str = r"\bAWS HTTP error: (?:[^\n]*?[ (])??(?P<code>[A-Z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)*) \((?:client|server)\): ";

/// wrangler's Cloudflare API errors: `Authentication error [code: 10000]`,
/// the API's message and its numeric code in brackets.
fn bracket_code_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(&RE, BRACKET_CODE)
}

const BRACKET_CODE: &str = r"\[code: (?P<code>[0-9]{3,7})\]";

/// The caller refused, in the words APIs and their clients use for it when
/// they print no status: `Invalid API key`, `Invalid username or password`,
/// `The API key provided is invalid`, `Access Denied.`, `Not authorized to
/// perform …`, `Unauthorized request`, `Authentication failed`. A refusal
/// of credentials or access is a failed call whatever product says it; the
/// rules tell which credential. Its own
/// automaton, not one of [`signal_set`]'s patterns: its case-blind words
/// multiplied the set's states (1.1 MB more at two threads on a log of
/// distinct failures, past goal 5's 64 MiB). Not
/// `Unauthorized` alone: that is a reason phrase, a status's only with the
/// status (prose names it: `the ReasonPhrase: 'Unauthorized' was logged`);
/// nor `Authentication required`, which is also a prompt
/// (`Multi-factor Authentication required.` before a successful login).
const REFUSAL: &str = r"(?i:\b(?:invalid|incorrect|wrong|bad)[ _-](?:user[ _-]?name(?: and | or |/)password|(?:auth(?:entication)? )?credentials|api[ _-]?key|access[ _-]?token|auth(?:entication)?[ _-]?token|client[ _-]credentials|token|password)\b|\b(?:api[ _-]?key|access[ _-]?token|auth(?:entication)? token|credentials)(?: provided| supplied| you provided)? (?:is|are|was|were) (?:invalid|incorrect|wrong|not valid)\b|\baccess[ _-]denied\b|\bnot authori[sz]ed\b|\bunauthori[sz]ed request\b|\bauthentication (?:failed|failure)\b)";

fn refusal_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(&RE, REFUSAL)
}

const BOTOCORE: &str = r"A(?:n error occurred| client error) \((?P<code>[^)\s]+)\)(?: occurred)?(?: \(reached max retries: [0-9]+\))? when calling the(?:(?m:$)| (?P<op>[A-Za-z0-9_]+) operation)";

/// A code at the start of a CLI's message: `(AuthorizationFailed) …`,
/// `PERMISSION_DENIED: …`, after an optional `(gcloud.x.y) ` command.
fn leading_code_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r"^(?:\((?P<cmd>[a-z][A-Za-z0-9_.-]*)\)\s+)?(?:\((?P<paren>[A-Z][A-Za-z0-9.]+)\)\s|(?P<upper>[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{5,})[ \t]*:\s)",
    )
}

/// A transport failure stated in prose: a client that could not connect to
/// a server, host, proxy or named address (`Unable to connect to the
/// server: …`, as kubectl says; not `Failed to connect to the bus`),
/// or Go's net errors, which name their operation (`dial tcp …:`,
/// `proxyconnect tcp:`, `lookup <host> on <dns>: no such host`, `read tcp
/// a->b:`, `x509:`, `: i/o timeout`, `: connection refused`), rustls'
/// `invalid peer certificate: …` (its `Error` Display, as reqwest and
/// hyper-rustls print it), Ruby's Net::HTTP (`Failed to open TCP
/// connection to host:port (Connection refused - connect(2) …)`, the cause
/// in parentheses, as Faraday and rest-client pass it on), and Erlang's ssl
/// alerts, sent or received (`generated CLIENT ALERT: Fatal - …`,
/// `received SERVER ALERT: Fatal - …`, older releases' `SSL: :certify: …:
/// Fatal error: …`). Also aws-sdk-go-v2's `operation error S3: ListBuckets,
/// …`, which states a failed call whatever its cause (often no status: the
/// credential chain failed before any request), and
/// LWP::Protocol::https's `Can't verify SSL peers without knowing which
/// Certificate Authorities to trust` (no CA file), HTTPoison's error
/// (`** (HTTPoison.Error) :nxdomain`, or its struct
/// `%HTTPoison.Error{id: nil, reason: :econnrefused}` ending a line, not an
/// Elixir clause that matches on it, which goes on with ` ->`). Told by
/// [`signal_set`], its first pattern: the
/// set is compiled for every signal line anyway, and this pattern alone
/// cost more to compile than any other here.
pub fn is_transport(text: &str) -> bool {
    signal_set().matches(text).matched(0)
}

const TRANSPORT: &str = r"(?i)\b(?:unable to|could not|couldn't|cannot|can't|failed to) connect to (?:the )?(?:server|host|proxy|remote server|https?://\S+|(?-i:[A-Za-z0-9_\x{80}-\x{10FFFF}-]+(?:\.[A-Za-z0-9_\x{80}-\x{10FFFF}-]+)*\.[A-Za-z]{2,})\b|[0-9]{1,3}(?:\.[0-9]{1,3}){3}\b|\[[0-9a-f:]+\])[^:\n]*:\s*\S|\bproxyconnect tcp: |\bdial (?:tcp|udp)[46]?\b[^:\n]*: |\blookup \S+(?: on \S+)?: no such host\b|\bx509: |\binvalid (?:peer )?certificate: [A-Z][A-Za-z]+|\b(?:read|write) (?:tcp|udp)[46]? \S+: |: i/o timeout\b|: connection (?:refused|reset by peer)\b|\bFailed to open TCP connection to \S+ \(|\bgetaddrinfo: (?:nodename nor servname provided, or not known|Name or service not known|Temporary failure in name resolution|No address associated with hostname)|\bcURL error [0-9]+: |(?:(?m:^)|: )(?:Resolving|Connection|Operation) timed out after [0-9]+ milliseconds\b|\bSSL certificate problem: |\bCould not create SSL/TLS secure channel\b|\bThe SSL connection could not be established\b|\bThe remote certificate is invalid (?:because of errors in the certificate chain|according to the validation procedure)\b|\bself[- ]signed certificate in certificate chain\b|\bunable to (?:get (?:local )?issuer certificate|verify the first certificate)\b|\bCERTIFICATE_VERIFY_FAILED\b|\bSSL_connect returned=[0-9]+ errno=[0-9]+ [^\n]*?\bcertificate verify failed\b|\bPKIX path building failed\b|\bTrust anchor for certification path not found\b|\b(?:generated|received) (?:CLIENT|SERVER) ALERT: Fatal - |\bSSL: :?certify: [^\n]*\bFatal error: |\boperation error [A-Z][A-Za-z0-9 ]*: [A-Z][A-Za-z0-9]*, |\bCan't verify SSL peers without know|\*\* \(HTTPoison\.Error\) :[a-z_]+|%HTTPoison\.Error\{[^}\n]*\breason: (?::[a-z_]+[^}\n]*\}\}?[ \t]*(?:\r?\n|$)|\{:[a-z_]+, )";

/// A tool's one-line error: `ERROR: …`, `[ERROR]: …`, `error: …`, `gh: error: …`,
/// `fatal: …`, gh's GraphQL errors (`GraphQL: Resource not accessible by
/// integration (addComment)`), kubectl's `Error from server (Forbidden): …`
/// (its reason in `kube`), and a CI runner's error annotation
/// (`##[error]…`, `::error file=…::…`).
fn cli_error_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r"^[ \t]*(?:(?:##\[error\]|::error(?:[ \t][^:\n]*)?::)(?:[ \t]*(?:ERROR|Error|error):)?|(?:[a-z][A-Za-z0-9_.-]*:[ \t]+)?(?:\[(?:ERROR|Error|error|FATAL|Fatal|fatal)\]|(?:ERROR|Error|error|FATAL|Fatal|fatal)(?:\[[A-Za-z0-9_-]+\]| from server \((?P<kube>[A-Za-z]+)\))?|GraphQL):)[ \t]*(?P<msg>\S.*)$",
    )
}

/// Whether `text` starts as every match of [`cli_error_re`] does: a
/// lower-case tool name, `[`, `E`, `F`, `G`, `#` or `:` after the indent.
/// Lines that a timestamp or an address starts are told without the regex.
fn may_be_cli_error(text: &str) -> bool {
    text.trim_start_matches([' ', '\t']).starts_with(|c: char| {
        c.is_ascii_lowercase() || matches!(c, '[' | 'E' | 'F' | 'G' | '#' | ':')
    })
}

/// The HTTP status of a Kubernetes API `StatusReason` (kubectl's `Error
/// from server (Forbidden)`), as k8s.io/apimachinery defines them.
fn kube_reason_status(reason: &str) -> Option<f64> {
    Some(match reason {
        "BadRequest" => 400.0,
        "Unauthorized" => 401.0,
        "Forbidden" => 403.0,
        "NotFound" => 404.0,
        "MethodNotAllowed" => 405.0,
        "NotAcceptable" => 406.0,
        "AlreadyExists" | "Conflict" => 409.0,
        "Gone" | "Expired" => 410.0,
        "RequestEntityTooLarge" => 413.0,
        "UnsupportedMediaType" => 415.0,
        "Invalid" => 422.0,
        "TooManyRequests" => 429.0,
        "InternalError" | "ServerTimeout" => 500.0,
        "ServiceUnavailable" => 503.0,
        "Timeout" => 504.0,
        _ => return None,
    })
}

/// The Kubernetes API's message for a 401 (`StatusReasonUnauthorized`),
/// which kubectl, helm and client-go print without the status. A pattern
/// of [`signal_set`] (it has no regex metacharacters), so a line that holds
/// it is a signal.
const KUBE_UNAUTHORIZED: &str = "the server has asked for the client to provide credentials";

/// Wording of a deprecation or end-of-maintenance notice.
pub(super) fn is_maintenance_notice(msg: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r"(?i)\b(?:is|are) no longer maintained\b|\b(?:is|are|has been|have been) deprecated\b|\bwill be (?:removed|deprecated)\b|\breached end[- ]of[- ]life\b",
    )
    .is_match(msg)
}

fn is_failure_status(digits: &str) -> bool {
    digits.parse::<u16>().is_ok_and(|s| (400..600).contains(&s))
}

fn no_value(v: &str) -> bool {
    matches!(
        v.to_ascii_lowercase().as_str(),
        "0" | "null" | "none" | "nil" | "undefined" | "false" | "true" | "ok" | "success" | ""
    )
}

/// Percent-decodes a form value (`+` is a space).
fn form_decode(v: &str) -> String {
    url::form_urlencoded::parse(format!("v={v}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| v.to_string())
}

fn push(fields: &mut Vec<Field>, f: Field) {
    if !fields
        .iter()
        .any(|g| g.name == f.name && g.value == f.value)
    {
        fields.push(f);
    }
}

fn has(fields: &[Field], name: &str) -> bool {
    fields.iter().any(|f| f.name == name)
}

/// The first failing status stated in `text`, with its reason. `matched`:
/// [`signal_set`]'s matches in `text`.
/// Whether the three digits ending at `end` are an SMTP reply, not an HTTP
/// status: an enhanced status code follows them (`535 5.7.3`, `534-5.7.9`,
/// RFC 3463's class.subject.detail).
fn smtp_reply_at(text: &str, end: usize) -> bool {
    let Some(rest) = text[end..].strip_prefix([' ', '-']) else {
        return false;
    };
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let Some(after_class) = rest
        .strip_prefix(['2', '4', '5'])
        .and_then(|r| r.strip_prefix('.'))
    else {
        return false;
    };
    let subject = digits(after_class);
    (1..=3).contains(&subject)
        && after_class[subject..]
            .strip_prefix('.')
            .is_some_and(|detail| (1..=3).contains(&digits(detail)))
}

fn status(lines: &Lines, text: &str, matched: &Matched, fields: &mut Vec<Field>) {
    // Most texts state no status: the signal set tells which statements
    // match (exactly where each alone would), far cheaper than captures,
    // and only those are compiled.
    let first = first_status_pattern();
    for (i, (pattern, cell)) in status_res().iter().enumerate() {
        if !matched.matched(first + i) {
            continue;
        }
        // The first statement of a failing status wins; `status: 200` is
        // not one, but a later `… 401` in the same text may be.
        let found = if i == REASON_STATEMENT {
            reason_statements(text)
                .find(|(s, _)| is_failure_status(&text[s.clone()]) && !smtp_reply_at(text, s.end))
                .map(|(s, r)| (&text[s], Some(&text[r])))
        } else {
            re(cell, pattern)
                .captures_iter(text)
                .find(|c| {
                    c.name("status").is_some_and(|s| {
                        is_failure_status(s.as_str()) && !smtp_reply_at(text, s.end())
                    })
                })
                .map(|c| {
                    let status = c.name("status").expect("status group").as_str();
                    (status, c.name("reason").map(|r| r.as_str()))
                })
        };
        if let Some((status, reason)) = found {
            fields.push(lines.field("status", Value::Num(status.parse().unwrap_or(0.0)), status));
            if let Some(r) = reason.filter(|r| !r.trim().is_empty()) {
                fields.push(lines.str_field("reason", r.trim()));
            }
            return;
        }
    }
}

/// The index in [`status_patterns`] of `\b(?P<status>[0-9]{3})
/// (?P<reason>…)\b`, a status and its reason phrase.
const REASON_STATEMENT: usize = 11;

/// The matches, in order, of the pattern at [`REASON_STATEMENT`], as
/// (status, reason) ranges: what its regex's `captures_iter` gives, found
/// by hand. The regex, the phrases in groups with Unicode word boundaries,
/// took 2.4 M instructions to compile (callgrind), for a search this
/// simple: three ASCII digits after a non-word character, a space, then
/// the first phrase (in [`REASONS`] order, as the alternation tries them)
/// that a non-word character or the end follows.
fn reason_statements(text: &str) -> impl Iterator<Item = (Range<usize>, Range<usize>)> + '_ {
    let bytes = text.as_bytes();
    let word_before = |i: usize| {
        text[..i]
            .chars()
            .next_back()
            .is_some_and(regex_syntax::is_word_character)
    };
    let word_at = |i: usize| {
        text[i..]
            .chars()
            .next()
            .is_some_and(regex_syntax::is_word_character)
    };
    let mut at = 0;
    std::iter::from_fn(move || {
        while at + 4 < bytes.len() {
            let i = at;
            at += 1;
            if !bytes[i..i + 3].iter().all(u8::is_ascii_digit) || word_before(i) {
                continue;
            }
            // The separators in the alternation's order.
            let found = [" - ", ": ", " "].iter().find_map(|sep| {
                let from = i + 3 + sep.len();
                text[i + 3..]
                    .starts_with(sep)
                    .then(|| {
                        REASONS
                            .iter()
                            .find(|r| text[from..].starts_with(**r) && !word_at(from + r.len()))
                    })
                    .flatten()
                    .map(|reason| (from, reason.len()))
            });
            let Some((from, len)) = found else {
                continue;
            };
            let end = from + len;
            at = end;
            return Some((i..i + 3, from..end));
        }
        None
    })
}

fn oauth(lines: &Lines, text: &str, matched: &Matched, fields: &mut Vec<Field>) {
    let form = matched.matched(after_status(Tail::FormError));
    let mut extra: Vec<Field> = Vec::new();
    if form {
        for f in form_field_re().captures_iter(text) {
            let (Some(k), Some(v)) = (f.name("key"), f.name("value")) else {
                continue;
            };
            extra.push(lines.field(
                format!("body.error_{}", k.as_str()),
                Value::Str(form_decode(v.as_str()).into()),
                v.as_str(),
            ));
        }
    } else {
        for f in captures_iter(keyed_field_re(), text) {
            let Some(k) = f.name("key") else { continue };
            let Some(v) = f.name("d1").or(f.name("d2")).or(f.name("d3")) else {
                continue;
            };
            let raw = v.as_str();
            let value = if f.name("d1").is_some() && raw.contains('\\') {
                super::mapped::unescape_literal(&format!("\"{raw}\""), 0)
                    .map_or_else(|| raw.to_string(), |(m, _)| m.text)
            } else {
                raw.trim().to_string()
            };
            let at = if f.name("d3").is_some() {
                raw.trim()
            } else {
                raw
            };
            extra.push(lines.field(
                format!("body.error_{}", k.as_str().to_ascii_lowercase()),
                Value::Str(value.into()),
                at,
            ));
        }
    }
    let described = extra.iter().any(|f| f.name == "body.error_description");
    let valid = |code: &str| !no_value(code) && (OAUTH_ERRORS.contains(&code) || described);
    let error = if form {
        form_error_re()
            .captures_iter(text)
            .filter_map(|c| c.name("error"))
            .find(|e| valid(e.as_str()))
    } else if matched.matched(after_status(Tail::KeyedError)) {
        keyed_error_re()
            .captures_iter(text)
            .filter(|c| {
                // `ERROR:` in capitals is a log level (`ERROR: gcloud crashed
                // …`), not a key: like `name`, only for an OAuth code.
                c.name("key").is_some_and(|k| {
                    k.as_str().eq_ignore_ascii_case("error") && k.as_str() != "ERROR"
                }) || c
                    .name("error")
                    .is_some_and(|e| OAUTH_ERRORS.contains(&e.as_str()))
            })
            .filter_map(|c| c.name("error"))
            .find(|e| valid(e.as_str()))
    } else if matched.matched(after_status(Tail::ParenError)) {
        let found = paren_error_re().captures_iter(text).find_map(|c| {
            let code = c.name("error").or(c.name("quoted"))?;
            OAUTH_ERRORS
                .contains(&code.as_str())
                .then(|| (code, c.name("error").and_then(|_| c.get(0))))
        });
        // oauthlib's `(code) description`: read as the exception reader
        // reads a message that opens with it.
        if let Some((_, Some(whole))) = found
            && !extra.iter().any(|f| f.name == "body.error_description")
            && let Some((_, Some(description))) =
                super::exception::leading_oauth_error(&text[whole.start()..])
        {
            extra.push(lines.str_field("body.error_description", description));
        }
        found.map(|(code, _)| code)
    } else {
        None
    };
    let Some(e) = error else { return };
    push(fields, lines.str_field("body.error", e.as_str()));
    for f in extra {
        push(fields, f);
    }
}

/// `matched`: [`signal_set`]'s matches in `text`; a pattern it did not
/// match is neither compiled nor searched.
fn codes(lines: &Lines, text: &str, matched: &Matched, fields: &mut Vec<Field>) {
    let has = |tail| matched.matched(after_status(tail));
    if has(Tail::Botocore)
        && let Some(code) = botocore_re().captures(text).and_then(|c| c.name("code"))
    {
        push(fields, lines.str_field("exception.code", code.as_str()));
    }
    if has(Tail::AwsPhp)
        && let Some(code) = aws_php_re().captures(text).and_then(|c| c.name("code"))
    {
        push(fields, lines.str_field("exception.code", code.as_str()));
    }
    if has(Tail::BracketCode)
        && let Some(code) = bracket_code_re()
            .captures(text)
            .and_then(|c| c.name("code"))
    {
        push(fields, lines.str_field("exception.code", code.as_str()));
    }
    if has(Tail::KeyedCode) {
        for c in keyed_code_re().captures_iter(text) {
            let Some(code) = c.name("code") else { continue };
            let v = code.as_str().trim_end_matches([':', '.', ',']);
            if !no_value(v) {
                push(fields, lines.str_field("exception.code", v));
            }
        }
    }
    if has(Tail::CodePrefix) {
        for c in code_prefix_re().captures_iter(text) {
            if let Some(code) = c.name("code") {
                push(fields, lines.str_field("exception.code", code.as_str()));
            }
        }
    }
    if has(Tail::GoGrpc)
        && let Some(c) = go_grpc_re().captures(text)
        && let Some(code) = c.name("code")
    {
        push(fields, lines.str_field("exception.code", code.as_str()));
        let desc = &text[c.get(0).map_or(text.len(), |m| m.end())..];
        if !self::has(fields, "status")
            && !grpc_client_transport_failure(code.as_str(), desc)
            && let Some(status) = grpc_status(code.as_str())
        {
            fields.push(lines.field("status", Value::Num(status), code.as_str()));
        }
    }
}

/// A code at the start of a message (`(AuthorizationFailed) …`,
/// `PERMISSION_DENIED: …`).
fn leading_code<'t>(c: &Captures<'t>) -> Option<Match<'t>> {
    c.name("paren").or_else(|| {
        c.name("upper")
            .filter(|u| u.as_str().contains('_') || GRPC_WORDS.contains(&u.as_str()))
    })
}

/// A status a page title states (`502 Bad Gateway`, `example.com | 522:
/// Connection timed out`, `401 Authorization Required`): in a title, a
/// lone 4xx/5xx number is the status.
pub fn page_status(lines: &Lines, text: &str) -> Option<Field> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let m = re(
        &RE,
        r"(?:^|[^A-Za-z0-9_.,:/-])(?P<s>[45][0-9][0-9])(?:$|[^A-Za-z0-9_.,/-])",
    )
    .captures(text)?
    .name("s")?;
    Some(lines.field(
        "status",
        Value::Num(m.as_str().parse().unwrap_or(0.0)),
        m.as_str(),
    ))
}

/// `re.captures(text)`, after a match test: most lines match none of the
/// signal regexes, and the test spares setting up captures for them.
pub(super) fn captures<'t>(re: &Regex, text: &'t str) -> Option<Captures<'t>> {
    if re.is_match(text) {
        re.captures(text)
    } else {
        None
    }
}

/// `re.captures_iter(text)`, after a match test (see [`captures`]).
fn captures_iter<'r, 't>(
    re: &'r Regex,
    text: &'t str,
) -> impl Iterator<Item = Captures<'t>> + use<'r, 't> {
    re.is_match(text)
        .then(|| re.captures_iter(text))
        .into_iter()
        .flatten()
}

/// Every signal fact in `text` (a slice of `lines.text`): `status`,
/// `reason`, `url`, `method`, `exception.code`, `body.error`,
/// `body.error_description`, `body.error_uri`.
pub fn scan(lines: &Lines, text: &str) -> Vec<Field> {
    let mut fields = Vec::new();
    // One pass of the set tells which of its patterns match: only those
    // are compiled (on first need) and searched again for their groups.
    let matched = signal_set().matches(text);
    status(lines, text, &matched, &mut fields);
    if !has(&fields, "status")
        && matched.matched(after_status(Tail::KubeUnauthorized))
        && let Some(at) = text.find(KUBE_UNAUTHORIZED)
    {
        let phrase = &text[at..at + KUBE_UNAUTHORIZED.len()];
        fields.push(lines.field("status", Value::Num(401.0), phrase));
    }
    // A URL with a fragment is a page to read (a docs anchor), not what
    // was requested: clients never send the fragment.
    if let Some(u) = url_re()
        .captures_iter(text)
        .filter_map(|c| c.get(0))
        .find(|u| !u.as_str().contains('#'))
    {
        let url = u.as_str().trim_end_matches(['.', ',', ';', ':', '\'']);
        fields.push(lines.str_field("url", url));
        // A registry's error code right after the URL it answered
        // (go-containerregistry: `GET https://ghcr.io/v2/…: DENIED: …`).
        if !has(&fields, "status")
            && url.contains("/v2/")
            && let Some(rest) = text[u.start() + url.len()..].strip_prefix(": ")
            && let Some((code, _)) = rest.split_once(": ")
            && let Some(status) = registry_status(code)
        {
            fields.push(lines.field("status", Value::Num(status), code));
        }
    }
    if let Some(m) = captures(method_re(), text).and_then(|c| c.name("method").or(c.name("spring")))
    {
        fields.push(lines.str_field("method", m.as_str()));
    }
    oauth(lines, text, &matched, &mut fields);
    codes(lines, text, &matched, &mut fields);
    if let Some(c) = captures(leading_code_re(), text.trim_start())
        && let Some(code) = leading_code(&c)
    {
        push(
            &mut fields,
            lines.str_field("exception.code", code.as_str()),
        );
    }
    if !is_signal(&fields)
        && let Some(m) = refusal_re().find(text)
    {
        fields.push(lines.str_field("refusal", m.as_str()));
    }
    fields
}

/// Whether `line` is a test's title as test runners print it: `should …`
/// (the BDD convention of mocha, Jest, Jasmine and RSpec), after the
/// runner's mark of a pending, passed or failed test (`-`, `✓`, `√`, `✔`,
/// `✗`, `×`, `1)`) if any.
fn is_test_title(line: &str) -> bool {
    let mut rest = line.trim_start();
    for mark in ["- ", "✓ ", "√ ", "✔ ", "✗ ", "× ", "✕ "] {
        if let Some(after) = rest.strip_prefix(mark) {
            rest = after;
            break;
        }
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && rest[digits..].starts_with(") ") {
        rest = &rest[digits + 2..];
    }
    rest.get(..7)
        .is_some_and(|w| w.eq_ignore_ascii_case("should "))
}

/// Whether a refusal in words is all that makes the facts a signal.
fn is_only_refusal(fields: &[Field]) -> bool {
    has(fields, "refusal") && !states_failure(fields)
}

/// Whether `message` states a refusal of the caller ([`REFUSAL`]): an
/// error body's message that says so is a failure.
pub fn states_refusal(message: &str) -> bool {
    refusal_re().is_match(message)
}

/// [`scan`] over a text that is not verbatim in the input (a JSON string
/// unescaped), spans mapped back (`whole` where they cannot be).
pub fn scan_mapped(mapped: &super::mapped::Mapped, whole: crate::input::Span) -> Vec<Field> {
    let tmp = Lines {
        text: &mapped.text,
        base: 0,
        bounds: vec![(0, mapped.text.len())],
        saw_end: Default::default(),
        exception_memo: Default::default(),
    };
    mapped.remap(scan(&tmp, &mapped.text), whole)
}

/// Whether `text` may be a signal: true whenever
/// [`super::exception::facts_from_message`] of it holds a signal fact
/// (see [`is_signal`]) or [`is_transport`] holds, and also for some
/// texts where neither holds. Match tests only, no captures.
fn may_signal(text: &str) -> bool {
    signal_set().is_match(text)
        || (may_lead_with_code(text) && leading_code_re().is_match(text.trim_start()))
        || refusal_re().is_match(text)
}

/// Whether `text` starts as every match of [`leading_code_re`] does, after
/// its indent: with `(` or an ASCII upper-case letter. Lines that a
/// timestamp, an address or a word starts are told without the regex.
fn may_lead_with_code(text: &str) -> bool {
    text.trim_start()
        .starts_with(|c: char| c == '(' || c.is_ascii_uppercase())
}

/// Builds the signal set now, then the regexes that every line taken for
/// a text signal is read with, whatever it states (see [`super::warm_up`]).
pub(super) fn warm_up() {
    signal_set();
    for regex in [cli_error_re, leading_code_re, url_re, method_re, detail_re] {
        regex();
    }
}

/// The patterns that could give a text its signal, as one set: a line goes
/// through them in one pass of one automaton, where testing them one by
/// one took two dozen searches of every healthy line that names a status
/// word (7 % of a 16 MiB log's instructions, measured). A set matches
/// exactly where one of its patterns does.
///
/// Compiled forward only, with regex-automata (as `regex::RegexSet` does,
/// less what a set never uses: its reverse automaton, to find where a match
/// starts, and its literal prefixes): a lazy DFA, and a PikeVM for texts
/// it does not take (a Unicode word boundary next to a non-ASCII byte).
/// As the parsers' own regexes (see `lean::Regex`), the set is compiled
/// twice over, each on need: with its classes narrowed to ASCII for texts
/// all ASCII (nearly every one), as written for the others. Its lazy DFA
/// then has fewer states to fill: on the 1 MiB log the set's searches
/// took 15.9 M instructions, not 18.9 (callgrind, session 61; parsing
/// its patterns costs the same either way).
fn signal_set() -> &'static SignalSet {
    static SET: OnceLock<SignalSet> = OnceLock::new();
    SET.get_or_init(|| {
        let hirs: Vec<regex_syntax::hir::Hir> = signal_patterns()
            .iter()
            .map(|p| regex_syntax::parse(p).expect("signal regexes"))
            .collect();
        let narrowed: Vec<regex_syntax::hir::Hir> = hirs
            .iter()
            .map(|hir| super::lean::narrowed_to_ascii(hir).unwrap_or_else(|| hir.clone()))
            .collect();
        SignalSet {
            ascii: forward_set(&narrowed),
            wide: OnceLock::new(),
            hirs,
        }
    })
}

/// One automaton over `hirs` (see [`signal_set`]).
fn forward_set(hirs: &[regex_syntax::hir::Hir]) -> Forward {
    let nfa = NFA::compiler()
        .configure(thompson::Config::new().which_captures(WhichCaptures::None))
        .build_many_from_hir(hirs)
        .expect("signal regexes");
    Forward {
        dfa: hybrid::dfa::DFA::builder()
            .configure(
                hybrid::dfa::Config::new()
                    .match_kind(MatchKind::All)
                    .unicode_word_boundary(true),
            )
            .build_from_nfa(nfa.clone())
            .expect("signal DFA"),
        pikevm: pikevm::PikeVM::builder()
            .configure(pikevm::Config::new().match_kind(MatchKind::All))
            .build_from_nfa(nfa)
            .expect("signal PikeVM"),
    }
}

/// See [`signal_set`].
struct SignalSet {
    /// For texts all ASCII.
    ascii: Forward,
    /// For the others, compiled at the first.
    wide: OnceLock<Forward>,
    /// The patterns as written, for `wide`.
    hirs: Vec<regex_syntax::hir::Hir>,
}

thread_local! {
    /// The search state of [`signal_set`]'s engines, one per thread and
    /// engine.
    static ASCII_CACHES: Caches = const { RefCell::new(None) };
    static WIDE_CACHES: Caches = const { RefCell::new(None) };
}

impl SignalSet {
    /// The engines for `text`, and their caches.
    fn engines(&self, text: &str) -> (&Forward, &'static std::thread::LocalKey<Caches>) {
        if text.is_ascii() {
            (&self.ascii, &ASCII_CACHES)
        } else {
            (
                self.wide.get_or_init(|| forward_set(&self.hirs)),
                &WIDE_CACHES,
            )
        }
    }

    /// Which of the patterns match `text`.
    fn matches(&self, text: &str) -> Matched {
        let input = Input::new(text);
        let (engines, caches) = self.engines(text);
        let mut set = PatternSet::new(engines.dfa.pattern_len());
        engines.with_caches(caches, |dfa, vm| {
            // The lazy DFA quits on a non-ASCII byte where a pattern has a
            // word boundary; the PikeVM takes every text.
            if engines
                .dfa
                .try_which_overlapping_matches(dfa, &input, &mut set)
                .is_err()
            {
                set.clear();
                engines
                    .pikevm
                    .which_overlapping_matches(vm, &input, &mut set);
            }
        });
        Matched(set)
    }

    /// Whether one of the patterns matches `text`: a search that stops at
    /// the first match (an overlapping one told to stop early missed
    /// matches on some texts with non-ASCII characters: the test below).
    fn is_match(&self, text: &str) -> bool {
        let input = Input::new(text).earliest(true);
        let (engines, caches) = self.engines(text);
        engines.with_caches(caches, |dfa, vm| {
            match engines.dfa.try_search_fwd(dfa, &input) {
                Ok(found) => found.is_some(),
                Err(_) => engines.pikevm.is_match(vm, input),
            }
        })
    }
}

/// Which patterns of [`signal_set`] matched a text.
struct Matched(PatternSet);

impl Matched {
    /// Whether the pattern at `index` matched.
    fn matched(&self, index: usize) -> bool {
        self.0.contains(PatternID::must(index))
    }
}

fn signal_patterns() -> Vec<String> {
    let mut patterns = vec![TRANSPORT.to_string()];
    patterns.extend(super::exception::signal_patterns().map(str::to_string));
    debug_assert_eq!(patterns.len(), first_status_pattern());
    patterns.extend(status_patterns());
    // oauth(): a `body.error` comes from one of these two; codes():
    // `exception.code`. In the order of [`Tail`].
    debug_assert_eq!(patterns.len(), after_status(Tail::FormError));
    patterns.extend(
        [
            FORM_ERROR,
            KEYED_ERROR,
            BOTOCORE,
            KEYED_CODE,
            CODE_PREFIX,
            GO_GRPC,
            KUBE_UNAUTHORIZED,
            AWS_PHP,
            BRACKET_CODE,
            PAREN_ERROR,
        ]
        .map(str::to_string),
    );
    patterns
}

/// The patterns of [`signal_set`] after the status statements, in order.
#[derive(Clone, Copy)]
enum Tail {
    FormError,
    KeyedError,
    Botocore,
    KeyedCode,
    CodePrefix,
    GoGrpc,
    KubeUnauthorized,
    AwsPhp,
    BracketCode,
    ParenError,
}

/// Index in [`signal_set`] of a pattern after the status statements.
fn after_status(tail: Tail) -> usize {
    first_status_pattern() + status_res().len() + tail as usize
}

/// Index in [`signal_set`] of the first of [`status_patterns`].
fn first_status_pattern() -> usize {
    1 + super::exception::signal_patterns().count()
}

/// Whether the scanned facts make the text a failure by themselves.
pub fn is_signal(fields: &[Field]) -> bool {
    states_failure(fields) || has(fields, "refusal")
}

/// A status, an OAuth error or an error code: what makes facts a failure
/// other than refusal words ([`REFUSAL`]).
fn states_failure(fields: &[Field]) -> bool {
    has(fields, "status") || has(fields, "body.error") || has(fields, "exception.code")
}

/// A line that states a failure in prose: see the module docs.
pub struct TextSignal;

/// What a [`TextSignal`] line contains: an error word, a status word, or
/// the words around a status.
const TEXT_TRIGGERS: &[&str] = &[
    "err",
    // Transport error codes a line may give alone (`code: 'ECONNREFUSED'`).
    "ECONN",
    "ENOTFOUND",
    "EAI_AGAIN",
    "ETIMEDOUT",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "EPROTO",
    "EPIPE",
    // undici's (Node's fetch) codes: `UND_ERR_CONNECT_TIMEOUT`.
    "UND_ERR_",
    "UNABLE_TO_",
    "CERT_",
    "fatal",
    // gh's GraphQL errors (see `cli_error_re`).
    "GraphQL: ",
    // wrangler's `… [code: 10000]` (see `BRACKET_CODE`).
    "[code: ",
    // oauthlib's `(invalid_grant) Bad Request` (see `PAREN_ERROR`); its
    // other codes have `err` (`server_error`) or are rare alone.
    "(invalid_",
    "('invalid_",
    "(\"invalid_",
    "(unauthorized_client)",
    "(unsupported_",
    "(access_denied)",
    // Kubernetes' 401 message (see `KUBE_UNAUTHORIZED`).
    "provide credentials",
    // Transport failures in prose (see `is_transport`).
    "connect to",
    "proxyconnect",
    "dial tcp",
    "dial udp",
    "no such host",
    // getaddrinfo's messages as Ruby's SocketError gives them.
    "getaddrinfo: ",
    "x509: ",
    // libcurl's certificate errors as PHP's cURL wrapper and Guzzle print
    // them (`cURL error 60: SSL certificate problem: …`).
    "SSL certificate problem",
    // .NET Framework's refused handshake, often alone on a line, and .NET's
    // (its HttpRequestException's message, which NuGet and MSBuild print
    // without the type).
    "SSL/TLS secure channel",
    "SSL connection could not",
    "remote certificate is invalid",
    // OpenSSL's (Node's, Python's) and the JDK's verification failures in
    // prose (`message=self signed certificate in certificate chain`).
    "signed certificate in",
    "unable to get local issuer",
    // OpenSSL's X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, which Node prints
    // alone (`Error: unable to get issuer certificate`).
    "unable to get issuer",
    "unable to verify the first",
    "CERTIFICATE_VERIFY_FAILED",
    "PKIX path building",
    // Android's, and rustls' (`invalid peer certificate: UnknownIssuer`;
    // older releases' `invalid certificate: …` has `invalid`, below).
    "Trust anchor for certification",
    "peer certificate",
    // Erlang's ssl (hackney, HTTPoison, Req, Hex): an alert sent or
    // received (`generated CLIENT ALERT: Fatal - Unknown CA`; older
    // releases' `SSL: :certify: …: Fatal error: unknown ca` has `err`).
    "ALERT: Fatal",
    // Perl's LWP::Protocol::https without a CA file (see `is_transport`).
    "verify SSL peers",
    // Go's gRPC status errors (see `go_grpc_re`).
    "rpc error: code = ",
    // A requests Response's repr (`<Response [405]>`).
    "<Response [",
    // aws-sdk-go-v2's OperationError (see `is_transport`).
    "operation error ",
    "read tcp",
    "write tcp",
    "i/o timeout",
    "connection refused",
    "reset by peer",
    "status",
    // The OCI Java SDK's `(401, NotAuthenticated, false)`.
    ", false) ",
    ", true) ",
    // A status before the URL it came from (see `status_patterns`).
    " for http",
    // A method and absolute URL before a status (see `status_patterns`).
    "GET http",
    "POST http",
    "PUT http",
    "PATCH http",
    "DELETE http",
    "response code",
    "server response",
    "Handshake status",
    "notAnUpgrade(",
    "HTTP",
    "returned",
    "responded",
    "received",
    "got ",
    "failed",
    "Unauthorized",
    "Forbidden",
    "Not Found",
    "Bad Request",
    "Payment Required",
    "Method Not Allowed",
    "Not Acceptable",
    "Proxy Authentication Required",
    "Request Timeout",
    "Conflict",
    "Gone",
    "Length Required",
    "Precondition Failed",
    "Too Large",
    "Too Long",
    "Unsupported Media Type",
    "Unprocessable",
    "Too Many Requests",
    "Rate Limit Exceeded",
    "Not Implemented",
    "Bad Gateway",
    "Service Unavailable",
    "Gateway Timeout",
    // A refusal in words (see `REFUSAL`).
    "invalid",
    "incorrect",
    "wrong",
    "bad ",
    "bad_",
    "bad-",
    "denied",
    "authori",
    "authentication",
];

/// Whether `line` holds one of [`TEXT_TRIGGERS`] (as [`super::has_trigger`]
/// tells, in one pass rather than a pass per trigger), ASCII
/// case-insensitively. The parse triggers' DFA over these few dozen builds
/// in microseconds; a literal set searched by a table of two-byte prefixes
/// and then built aho-corasick's DFA (4 M instructions, as much as
/// searching a 1 MiB log's lines with it).
fn has_text_trigger(line: &str) -> bool {
    static DFA: OnceLock<TriggerDfa> = OnceLock::new();
    DFA.get_or_init(|| {
        let triggers: Vec<String> = TEXT_TRIGGERS.iter().map(|t| t.to_string()).collect();
        TriggerDfa::new(&triggers).expect("text triggers' DFA")
    })
    .is_match(line.as_bytes())
}

/// Detail lines a CLI prints under its error (Azure CLI: `Code:`,
/// `Message:`, `Trace ID:` …): part of the same failure.
fn detail_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r"^(?P<key>Code|Message|Target|Status|Status code|Error code|Trace ID|Correlation ID|Timestamp|Request ID|RequestId|Inner error|Exception Details):[ \t]*(?P<value>.*)$",
    )
}

/// Detail lines read under one error at most.
const MAX_DETAILS: usize = 16;

impl LineParser for TextSignal {
    fn triggers(&self) -> &'static [&'static str] {
        TEXT_TRIGGERS
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        // JSON and markup at the line start are the body parsers'; a line
        // that merely starts with a bracket (`[INFO]`) is not, nor an
        // Elixir tuple (`{:error, %HTTPoison.Error{reason: :nxdomain}}`).
        if line.trim_start().starts_with('{') && !line.trim_start().starts_with("{:") {
            return None;
        }
        // A line logged at INFO/DEBUG reports normal flow (a retry being
        // made, a response printed); whether a failure it mentions stood
        // is the incident stage's to tell from what follows. Told before
        // the trigger walk, which such a line then is spared: both tests
        // reject a line with no other effect, so their order changes no
        // answer.
        if logprefix::is_informational(line) {
            return None;
        }
        // A code-only line (`Message: AADSTS50011: …`) has none of this
        // parser's triggers; it is CodeMessage's, as the prefilter will decide.
        // The dispatcher's prefilter has found one on a line it chose this
        // parser for (which has no shapes and reads no blocks): only a
        // line from elsewhere ([`remainder`]) is searched here.
        let triggered = ctx.prefiltered(lines, i) || has_text_trigger(line);
        if !triggered || super::markup::starts_document(line) {
            return None;
        }
        // A JSON body later on the line is read as a body; the signal is
        // what comes before it.
        let body = find_body(lines, i);
        // A body that starts the line, or follows only a `docker compose`
        // tag (a JSON-lines record), is the JSON parsers'.
        if body.is_some_and(|(at, _)| at == super::record::record_start(line)) {
            return None;
        }
        let text = &line[..body.map_or(line.len(), |(at, _)| at)];
        let cli = may_be_cli_error(text)
            .then(|| captures(cli_error_re(), text))
            .flatten()
            .filter(|c| c.name("msg").is_some_and(|m| !no_value(m.as_str().trim())));
        // A tool's notice printed as an error annotation (`Error: The v0
        // series of … is no longer maintained.`) reports no failed call
        // unless the line also states one.
        if let Some(msg) = cli.as_ref().and_then(|c| c.name("msg"))
            && is_maintenance_notice(msg.as_str())
            && !is_signal(&super::exception::facts_from_message(lines, text))
        {
            return None;
        }
        // Without a CLI error and a body after it, the line is a signal only
        // if its facts hold one: the regexes that could give one are tested
        // for a match before every fact is read (most such lines are not).
        if cli.is_none() && body.is_none() && !may_signal(text) {
            return None;
        }
        // Everything a client's message would reveal (URLs of connection
        // pools, errno and TLS codes), plus the text signals.
        let mut fields = super::exception::facts_from_message(lines, text);
        if cli.is_none()
            && body.is_none()
            && is_coded_advisory(text, logprefix::message(text), &fields)
        {
            return None;
        }
        if !has(&fields, "status") {
            let kube = cli.as_ref().and_then(|c| c.name("kube"));
            if let Some((reason, status)) =
                kube.and_then(|r| Some((r.as_str(), kube_reason_status(r.as_str())?)))
            {
                fields.push(lines.field("status", Value::Num(status), reason));
            }
        }
        if let Some(msg) = cli.as_ref().and_then(|c| c.name("msg"))
            && let Some(c) = leading_code_re().captures(msg.as_str())
            && let Some(code) = leading_code(&c)
        {
            push(
                &mut fields,
                lines.str_field("exception.code", code.as_str()),
            );
        }
        // A response's body line is the body, whatever refusal it states
        // (a plain-text `Your IP … is not authorized to use this API key`).
        if ctx.body_line && is_only_refusal(&fields) {
            return None;
        }
        // A test's title names a refusal it tests for (mocha's `- should
        // not allow provisioning with bad credentials`): no call failed.
        if is_only_refusal(&fields) && is_test_title(line) {
            return None;
        }
        // A line that a code starts (`16 UNAUTHENTICATED: Request had
        // invalid authentication credentials.`) is [`CodeMessage`]'s, which
        // keeps the code, when refusal words are all that is here.
        if is_only_refusal(&fields)
            && (code_prefix_re().is_match(line) || grpc_status_re().is_match(line))
        {
            return None;
        }
        if cli.is_none() && !is_signal(&fields) && !is_transport(text) {
            // The failure may be stated only inside the body printed after
            // the prefix (`Login failed: {'_error': [{'message': "…
            // CERTIFICATE_VERIFY_FAILED …"}]}`): then the line is one.
            body.as_ref()?;
            let whole = super::exception::facts_from_message(lines, line);
            // A refusal in the body's own words is the body's to tell (its
            // message fails it): the line is a body after a prefix.
            if !((is_signal(&whole) && !is_only_refusal(&whole)) || is_transport(line)) {
                return None;
            }
        }
        let message = match cli.as_ref().and_then(|c| c.name("msg")) {
            Some(m) => m.as_str().trim_end(),
            None => logprefix::message(line),
        };
        // aws-sdk-go (v1) prints a failed request as `<Code>: <message>`,
        // then `\tstatus code: 403, request id: …` on a line of its own:
        // the line before says what failed.
        let aws_v1 = (i > 0 && cli.is_none())
            .then(|| aws_go_v1_statement(lines.line(i - 1), text))
            .flatten();
        let mut starts = line;
        if let Some((code, said)) = aws_v1 {
            starts = lines.line(i - 1);
            push(&mut fields, lines.str_field("exception.code", code));
            fields.insert(0, lines.str_field("exception.message", said));
        } else if !message.is_empty() {
            fields.insert(0, lines.str_field("exception.message", message));
        }
        let mut consumed = 1;
        while consumed <= MAX_DETAILS && i + consumed < lines.len() {
            let Some(d) = detail_re().captures(lines.line(i + consumed)) else {
                break;
            };
            if let (Some(k), Some(v)) = (d.name("key"), d.name("value"))
                && matches!(k.as_str(), "Code" | "Error code")
                && !v.as_str().trim().is_empty()
            {
                push(
                    &mut fields,
                    lines.str_field("exception.code", v.as_str().trim()),
                );
            }
            consumed += 1;
        }
        let span = lines.span_of(starts.trim_end());
        let last = lines.line(i + consumed - 1);
        let span = span.cover(lines.span_of(last.trim_end()));
        let opens = has(&fields, "status");
        ctx.emit(EventKind::Exception, span, fields);
        if let Some((at, how)) = body
            && consumed == 1
            && let Some(n) = super::json::emit_found(ctx, lines, i, at, how)
        {
            return Some(n);
        }
        if opens {
            ctx.open(Direction::Response, true);
        }
        Some(consumed)
    }
}

/// The code and message of aws-sdk-go (v1)'s `<Code>: <message>` line
/// (after any prefix: `aws_instance.web: AuthFailure: AWS was not able …`)
/// when `text`, the line after it, is its `status code: …, request id: …`.
fn aws_go_v1_statement<'t>(before: &'t str, text: &str) -> Option<(&'t str, &'t str)> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let rest = text.trim_start().strip_prefix("status code: ")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits != 3 || !rest[3..].starts_with(", request id: ") {
        return None;
    }
    // A code is CamelCase of two words or more (`AccessDenied`,
    // `ExpiredTokenException`), or one of the query protocol's dotted
    // codes (SQS: `AWS.SimpleQueueService.NonExistentQueue`), then a colon
    // and the message.
    let c = re(
        &RE,
        r"(?:^|[\s:])(?P<code>AWS\.[A-Za-z]+\.[A-Za-z]+|[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+): \S[^\n]*$",
    )
    .captures(before.trim_end())?;
    let code = c.name("code")?.as_str();
    let message = before[c.name("code")?.start()..].trim_end();
    Some((code, message))
}

/// The rest of line `i` after byte `from` (output glued after a body:
/// `{…}gh: Bad credentials (HTTP 401)`), read as a line of its own.
pub fn remainder(ctx: &mut Ctx, lines: &Lines, i: usize, from: usize) -> bool {
    let (start, end) = lines.bounds[i];
    if start + from >= end || !lines.text.is_char_boundary(start + from) {
        return false;
    }
    let sub = Lines {
        text: lines.text,
        base: lines.base,
        bounds: vec![(start + from, end)],
        saw_end: Default::default(),
        exception_memo: Default::default(),
    };
    if sub.line(0).trim().is_empty() {
        return false;
    }
    TextSignal.parse(ctx, &sub, 0).is_some() || CodeMessage.parse(ctx, &sub, 0).is_some()
}

/// A line that starts with a gRPC status name and its details, as gRPC
/// clients print a failed call (`RESOURCE_EXHAUSTED: Quota exceeded …`;
/// grpc-js: `8 RESOURCE_EXHAUSTED: …`). The names are gRPC's closed list of
/// canonical codes (grpc-js src/constants.ts), so an upper-case key such as
/// `DATABASE_URL: …` in a config dump is not taken for one; `OK` is left out.
fn grpc_status_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r"^[ \t]*(?:[0-9]{1,2}[ \t]+)?(?P<code>CANCELLED|UNKNOWN|INVALID_ARGUMENT|DEADLINE_EXCEEDED|NOT_FOUND|ALREADY_EXISTS|PERMISSION_DENIED|RESOURCE_EXHAUSTED|FAILED_PRECONDITION|ABORTED|OUT_OF_RANGE|UNIMPLEMENTED|INTERNAL|UNAVAILABLE|DATA_LOSS|UNAUTHENTICATED):[ \t]+\S",
    )
}

/// A line whose message starts with an upper-case error code with digits
/// (`ABC50076: Due to a configuration change …`) or with a gRPC status name,
/// when nothing else on it is a signal. Its only literal is the colon, so it
/// is kept apart from [`TextSignal`], whose triggers are words.
pub struct CodeMessage;

impl LineParser for CodeMessage {
    fn triggers(&self) -> &'static [&'static str] {
        &[]
    }

    /// The colon after the code: too common a literal to prefilter on.
    fn shapes(&self) -> &'static [super::Shape] {
        &[super::Shape {
            byte: b':',
            near: super::Near::CodeEnd,
            before: ends_with_code,
        }]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        if line.trim_start().starts_with(['{', '[', '<']) || logprefix::is_informational(line) {
            return None;
        }
        let c = code_prefix_re()
            .captures(line)
            .or_else(|| grpc_status_re().captures(line))?;
        let code = c.name("code")?;
        let message = line[code.start()..].trim_end();
        let mut fields = vec![lines.str_field("exception.message", message)];
        for f in scan(lines, line) {
            push(&mut fields, f);
        }
        if is_coded_advisory(line, message, &fields) {
            return None;
        }
        push(
            &mut fields,
            lines.str_field("exception.code", code.as_str()),
        );
        ctx.emit(EventKind::Exception, lines.span_of(line.trim_end()), fields);
        Some(1)
    }
}

/// Stems that make an identifier an error name (`SignatureDoesNotMatch`,
/// `AuthorizationHeaderMalformed`, `ExpiredToken`, `API_DISABLED_FOR_ORG`):
/// an error code says what went wrong, a component name (`TokenManager`,
/// `HttpClient`) does not.
const ERROR_STEMS: &[&str] = &[
    "invalid",
    "malformed",
    "denied",
    "doesnotmatch",
    "mismatch",
    "notfound",
    "nosuch",
    "expired",
    "missing",
    "failed",
    "failure",
    "forbidden",
    "unauthorized",
    "unauthenticated",
    "throttl",
    "toomany",
    "toolarge",
    "skewed",
    "exceeded",
    "unavailable",
    "conflict",
    "unsupported",
    "insufficient",
    "unrecognized",
    "timeout",
    "disabled",
    "blocked",
    "locked",
    "rejected",
    "revoked",
    "illegal",
    "restricted",
    "error",
    "exception",
];

/// A message that starts with an error name and a sentence: `NoSuchKey:
/// The specified key does not exist.`, `InvalidAccessKeyId, Message:The …`,
/// `API_DISABLED_FOR_ORG: The REST API is not enabled …`.
fn named_code_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r"^(?:[-*+][ \t]+)?(?P<code>(?:[A-Z][a-z0-9]+){2,}|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?::|, Message:)[ \t]*(?P<msg>[A-Za-z'`\x22][^ \t]*(?:[ \t]+\S+)+)$",
    )
}

/// A code and a message printed as a pair of fields in a struct or map
/// that is not JSON (Rust's `Debug`, Go's `%+v`, Ruby's `inspect`): `code:
/// "X", message: "Y"`.
fn code_pair_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r#"\b(?i:code)["']?\s*(?::|=>?)\s*"(?P<code>[A-Za-z][A-Za-z0-9_.]*)",\s*["']?(?i:message)["']?\s*(?::|=>?)\s*"(?P<msg>(?:[^"\\]|\\.)+)""#,
    )
}

/// A coded advisory: a record logged at WARN, or a compiler's `warning
/// CS0612: 'X' is obsolete`, whose only signal is a code before its
/// message (`RESTEASY004687: Closing … for you. Please close clients
/// yourself.`) and whose words state no failure. No failed call.
fn is_coded_advisory(line: &str, message: &str, fields: &[Field]) -> bool {
    // The scan takes the code itself for `exception.code`: what else
    // would make the line a failure? (A line with no code is no advisory
    // of this kind, and is spared the tests.)
    if !has(fields, "exception.code") {
        return false;
    }
    let stated = ["status", "body.error", "refusal"]
        .iter()
        .any(|key| has(fields, key));
    if stated || is_transport(line) || states_failure_in_words(message) {
        return false;
    }
    let compiler_warning = || {
        code_prefix_re()
            .captures(line)
            .and_then(|c| c.name("code"))
            .is_some_and(|code| {
                line[..code.start()]
                    .trim_end()
                    .to_ascii_lowercase()
                    .ends_with("warning")
            })
    };
    logprefix::is_warning(line) || compiler_warning()
}

/// Whether a message's words state that something failed: an error stem
/// ([`ERROR_STEMS`]) or a refusal to act.
fn states_failure_in_words(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    ERROR_STEMS.iter().any(|s| lower.contains(s))
        || [
            "unable",
            "cannot",
            "can't",
            "could not",
            "couldn't",
            "refused",
            "not allowed",
        ]
        .iter()
        .any(|w| lower.contains(w))
}

fn is_error_name(code: &str) -> bool {
    let lower = code.to_ascii_lowercase().replace('_', "");
    ERROR_STEMS.iter().any(|s| lower.contains(s))
}

/// Lines a wrapped message may go on over.
const MAX_WRAP_LINES: usize = 4;

/// A message that starts with an error name ([`named_code_re`]), or a code
/// and message pair ([`code_pair_re`]), anywhere a log writes it. The error
/// name alone is not enough: the words after it must be a sentence, and the
/// name must say what failed ([`ERROR_STEMS`]). A message wrapped onto lines
/// that start lower-case goes on there.
pub struct NamedCode;

impl LineParser for NamedCode {
    fn triggers(&self) -> &'static [&'static str] {
        &[
            "invalid",
            "malformed",
            "denied",
            "match",
            "notfound",
            "nosuch",
            "expired",
            "missing",
            "failed",
            "failure",
            "forbidden",
            "unauthorized",
            "unauthenticated",
            "throttl",
            "toomany",
            "toolarge",
            "skewed",
            "exceeded",
            "unavailable",
            "conflict",
            "unsupported",
            "insufficient",
            "unrecognized",
            "timeout",
            "disabled",
            "blocked",
            "locked",
            "rejected",
            "revoked",
            "illegal",
            "restricted",
            "not_found",
            "no_such",
            "too_many",
            "code",
        ]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        if line.trim_start().starts_with(['{', '[', '<']) || logprefix::is_informational(line) {
            return None;
        }
        let message = logprefix::message(line);
        if let Some(c) = named_code_re().captures(message)
            && let Some(code) = c.name("code").filter(|c| is_error_name(c.as_str()))
            // A name whose only stem is `error` or `exception` (not
            // triggers: nearly every log line has one) is claimed only
            // with a trigger on its line, as the prefilter admits it:
            // `ErrorResponse: Message: {…}` alone is not.
            && super::has_trigger(line, self.triggers())
        {
            let msg = c.name("msg")?;
            let mut text = msg.as_str().trim_end().to_string();
            let mut span = lines.span_of(msg.as_str().trim_end());
            let mut consumed = 1;
            while consumed <= MAX_WRAP_LINES && i + consumed < lines.len() {
                let next = lines.line(i + consumed).trim();
                if !next.starts_with(|c: char| c.is_ascii_lowercase()) {
                    break;
                }
                text.push(' ');
                text.push_str(next);
                span = span.cover(lines.span_of(next));
                consumed += 1;
            }
            let mut fields = vec![
                Field {
                    name: "exception.message".into(),
                    value: Value::Str(text.into()),
                    span,
                },
                lines.str_field("exception.code", code.as_str()),
            ];
            for f in scan(lines, msg.as_str()) {
                push(&mut fields, f);
            }
            let whole = lines.span_of(line.trim_end()).cover(span);
            ctx.emit(EventKind::Exception, whole, fields);
            return Some(consumed);
        }
        let c = code_pair_re().captures(line)?;
        let (code, msg) = (c.name("code")?, c.name("msg")?);
        let mut fields = vec![
            lines.str_field("exception.message", msg.as_str()),
            lines.str_field("exception.code", code.as_str()),
        ];
        for f in scan(lines, msg.as_str()) {
            push(&mut fields, f);
        }
        ctx.emit(EventKind::Exception, lines.span_of(line.trim_end()), fields);
        Some(1)
    }
}

/// `text` without its trailing spaces and tabs.
fn without_trailing_blanks(text: &[u8]) -> &[u8] {
    let mut end = text.len();
    while end > 0 && matches!(text[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    &text[..end]
}

/// Whether `text` ends with what [`cli_error_re`] takes for an upper-case
/// code before its colon (`NOT_FOUND`, `ERROR`), then blanks. A superset.
pub(super) fn ends_with_upper_code(text: &[u8]) -> bool {
    let text = without_trailing_blanks(text);
    // Read in place, back from the end, in one loop: this runs at every
    // colon of the lines looked at.
    let (mut start, mut upper, mut underscore) = (text.len(), false, false);
    while start > 0 {
        match text[start - 1] {
            b'A'..=b'Z' => upper = true,
            b'_' => underscore = true,
            b'0'..=b'9' => {}
            _ => break,
        }
        start -= 1;
    }
    upper && (underscore || text.len() - start >= 5)
}

/// Whether `text` ends with what [`code_prefix_re`] takes for a code
/// before its colon: upper-case letters then digits (at least two and four,
/// or one and six), then blanks. A superset of the regex (any numeric
/// character counts as a digit), for the prefilter.
fn ends_with_code(text: &[u8]) -> bool {
    !cannot_end_with_code(text) && code_at_end(text)
}

/// The bytes before a colon that [`code_at_end`] decodes: only the end
/// matters, as this runs at every colon of a line, and decoding all that
/// comes before each colon of a long line (a JSON body has thousands)
/// made it quadratic.
const CODE_WINDOW: usize = 256;

/// [`ends_with_code`] without its quick test.
fn code_at_end(text: &[u8]) -> bool {
    let mut start = text.len().saturating_sub(CODE_WINDOW);
    while start < text.len() && (text[start] & 0xC0) == 0x80 {
        start += 1;
    }
    let cut = start > 0;
    let Ok(text) = std::str::from_utf8(&text[start..]) else {
        return true;
    };
    let trimmed = text.trim_end_matches([' ', '\t']);
    // A code that may run past the window: admit the line (a superset).
    if cut
        && trimmed
            .chars()
            .all(|c| c.is_numeric() || c.is_ascii_uppercase() || c == '_')
    {
        return true;
    }
    let mut rev = trimmed.chars().rev().peekable();
    let mut digits = 0;
    while rev.next_if(|c| c.is_numeric()).is_some() {
        digits += 1;
    }
    let mut letters = 0;
    while rev.next_if(char::is_ascii_uppercase).is_some() {
        letters += 1;
    }
    (letters >= 2 && digits >= 4) || (letters >= 1 && digits >= 6) || ends_with_grpc_name(text)
}

/// What most colons of a log line follow (a quote, a word in lower case,
/// the hour of a timestamp) rules a code out from the last bytes alone:
/// [`ends_with_code`] runs at every colon of every line the prefilter
/// looks at, and decoding its window each time was a tenth of a healthy
/// log's parse. True only where [`code_at_end`] is false: the blanks'
/// last non-blank byte is ASCII and neither a digit, an upper-case letter
/// nor `_` (no digits, no gRPC name, no code cut by the window), or ends
/// a run of ASCII digits after such a byte (no letters before the digits),
/// or ends a run of fewer than four ASCII digits after an upper-case
/// letter in a text the window holds whole (too few digits for a code,
/// and a name ends with a letter: the `T00` of an ISO time).
fn cannot_end_with_code(text: &[u8]) -> bool {
    let whole = text.len() <= CODE_WINDOW;
    let text = without_trailing_blanks(text);
    let not_code_byte =
        |b: u8| b.is_ascii() && !(b.is_ascii_digit() || b.is_ascii_uppercase() || b == b'_');
    match text.last() {
        None => false,
        Some(&b) if b.is_ascii_digit() => {
            let digits = text.iter().rev().take_while(|b| b.is_ascii_digit()).count();
            match text[..text.len() - digits].last() {
                // Within the window, which admits a code it cuts.
                Some(&b) if not_code_byte(b) => digits < 128,
                Some(b) if b.is_ascii_uppercase() => whole && digits < 4,
                _ => false,
            }
        }
        Some(&b) => not_code_byte(b),
    }
}

/// Whether `text` ends with a gRPC canonical status name (the colon after
/// it is what [`grpc_status_re`] takes), so the shape admits those lines too.
fn ends_with_grpc_name(text: &str) -> bool {
    const NAMES: &[&str] = &[
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    let text = text.trim_end_matches([' ', '\t']);
    NAMES.iter().any(|n| text.ends_with(n))
}

#[cfg(test)]
mod tests {
    use super::super::tests::chunk;

    /// [`super::may_be_cli_error`] holds for every line [`super::cli_error_re`]
    /// matches (fixtures, field cases, and made edges).
    #[test]
    fn cli_error_check_passes_every_match() {
        let edges = [
            "error: x",
            " \tFATAL: x",
            "[Error]: x",
            "gh: error: x",
            "Error[E0277]: x",
            "fatal: x",
            "\u{a0}error: x",
            "GraphQL: x",
            "Error from server (Forbidden): x",
            "##[error]x",
            "::error::x",
            "::error file=.github/workflows/ci.yml,line=3::x",
        ];
        let matches = |text: &str| super::cli_error_re().is_match(text);
        assert_check_passes_every_match(&edges, matches, super::may_be_cli_error);
    }

    /// [`super::may_lead_with_code`] holds for every text
    /// [`super::leading_code_re`] matches (fixtures, field cases, and made
    /// edges), so [`super::may_signal`] admits what it did without it.
    #[test]
    fn leading_code_check_passes_every_match() {
        let edges = [
            "PERMISSION_DENIED: x",
            " \t(AuthorizationFailed) x",
            "(gcloud.run.deploy) PERMISSION_DENIED: x",
            "(gcloud.x) (Denied) x",
            "\u{a0}ABORTED: x",
            "\u{3000}UNAVAILABLE : x",
        ];
        let matches = |text: &str| super::leading_code_re().is_match(text.trim_start());
        assert_check_passes_every_match(&edges, matches, super::may_lead_with_code);
    }

    /// Asserts `check` holds on every line of the fixtures and field cases,
    /// and on `edges`, that `matches`; and that more than ten match.
    fn assert_check_passes_every_match(
        edges: &[&str],
        matches: impl Fn(&str) -> bool,
        check: impl Fn(&str) -> bool,
    ) {
        let mut texts = crate::test_corpus::fixture_and_field_lines();
        texts.extend(edges.iter().map(|edge| edge.to_string()));
        let mut matched = 0;
        for text in &texts {
            let is = matches(text);
            assert!(check(text) || !is, "{text}");
            matched += usize::from(is);
        }
        assert!(matched > 10, "{matched}");
    }

    /// TextSignal skips its trigger search on a line the prefilter chose
    /// it for: right only while its triggers alone admit it.
    #[test]
    fn text_signal_is_admitted_by_its_triggers_alone() {
        use super::super::LineParser;
        assert!(super::TextSignal.shapes().is_empty());
        assert!(!super::TextSignal.inside_block_only());
        assert!(!super::TextSignal.uses_provider_words());
    }

    /// [`super::may_signal`] answers as its two regexes alone did, on every
    /// line of the fixtures and field cases; the ignored test below does
    /// the same over a benchmark log, run by hand:
    /// `FAULTLINE_SIGNAL_LOG=/tmp/h8.log cargo test --release -- --ignored may_signal_`.
    #[test]
    fn may_signal_answers_as_its_regexes() {
        let texts = crate::test_corpus::fixture_and_field_texts();
        let lines: Vec<&str> = texts.iter().flat_map(|t| t.lines()).collect();
        let admitted = may_signal_as_regexes(&lines);
        assert!(admitted > 100, "{admitted} of {} lines", lines.len());
    }

    #[test]
    #[ignore = "reads a log named by FAULTLINE_SIGNAL_LOG"]
    fn may_signal_answers_as_its_regexes_on_a_log() {
        let path = std::env::var("FAULTLINE_SIGNAL_LOG").expect("FAULTLINE_SIGNAL_LOG");
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let admitted = may_signal_as_regexes(&lines);
        eprintln!("{admitted} of {} lines may signal", lines.len());
    }

    /// Asserts [`super::may_signal`] of each line is what the signal set,
    /// [`super::leading_code_re`] and [`super::refusal_re`] tell; returns
    /// how many it admits.
    fn may_signal_as_regexes(lines: &[&str]) -> usize {
        let mut admitted = 0;
        for line in lines {
            let by_regexes = super::signal_set().is_match(line)
                || super::leading_code_re().is_match(line.trim_start())
                || super::refusal_re().is_match(line);
            assert_eq!(super::may_signal(line), by_regexes, "{line}");
            admitted += usize::from(by_regexes);
        }
        admitted
    }

    /// `Rate Limit Exceeded` in a status's place: the number gives the status.
    #[test]
    fn rate_limit_exceeded_as_a_reason_phrase() {
        for (line, status) in [
            (
                "freshdesk.v2.errors.FreshdeskRateLimited: 429 Rate Limit Exceeded: API rate-limit has been reached until 9 seconds.\n",
                "429",
            ),
            (
                "googleapiclient.errors.HttpError: 403 Rate Limit Exceeded\n",
                "403",
            ),
        ] {
            let f = facts(line);
            let got = f
                .iter()
                .find(|(n, _)| n == "status")
                .map(|(_, v)| v.as_str());
            assert_eq!(got, Some(status), "{line}: {f:?}");
        }
        // Prose about a limit is not a status.
        assert!(
            facts("the 100 Rate Limit Exceeded alerts were muted\n")
                .iter()
                .all(|(n, _)| n != "status")
        );
    }

    /// [`super::reason_statements`] finds what its pattern's regex finds:
    /// every match and both groups, on every line of the fixtures and field
    /// cases and on lines made to test its edges (word characters, ASCII or
    /// not, on either side; a phrase cut short or run on; a phrase that is
    /// a prefix of a later one; several statements in a line).
    #[test]
    fn reason_statements_match_their_regex() {
        let pattern = &super::status_patterns()[super::REASON_STATEMENT];
        assert!(pattern.contains("(?P<reason>Bad Request|"), "{pattern}");
        let re = regex::Regex::new(pattern).unwrap();
        let mut lines: Vec<String> = crate::test_corpus::fixture_and_field_lines();
        for reason in super::REASONS {
            for (before, after) in [
                ("", ""),
                ("x", ""),
                ("é", ""),
                ("1", ""),
                ("_", ""),
                (" ", "s"),
                ("(", "é"),
                ("-", "_"),
                ("\u{a0}", "."),
                ("\u{3000}", "\u{a0}"),
            ] {
                lines.push(format!("{before}404 {reason}{after}"));
                lines.push(format!("got {before}503 {reason}{after} then 429 {reason}"));
            }
            let cut = &reason[..reason.len() - 1];
            lines.push(format!("401 {cut}"));
            lines.push(format!(
                "x 413 - {reason}, 502: {reason} 404 -{reason} 400 -  {reason}"
            ));
            lines.push(format!("4011 {reason}, 40 {reason}, 401  {reason}"));
        }
        lines.push("503 Service Unavailable402 Payment Required 409 Conflict".to_string());
        let mut matches = 0;
        for line in &lines {
            let theirs: Vec<_> = re
                .captures_iter(line)
                .map(|c| (c["status"].to_string(), c["reason"].to_string()))
                .collect();
            let ours: Vec<_> = super::reason_statements(line)
                .map(|(s, r)| (line[s].to_string(), line[r].to_string()))
                .collect();
            assert_eq!(ours, theirs, "{line:?}");
            matches += ours.len();
        }
        assert!(matches > 400, "{matches} matches");
    }

    /// The triggers' DFA finds a trigger exactly where a text holds one,
    /// ignoring ASCII case: on every line of the fixtures and field cases,
    /// and on each trigger cut short, upper-cased and written in a line.
    #[test]
    fn text_triggers_found_where_a_line_holds_one() {
        let holds = |line: &str| {
            let lower = line.to_ascii_lowercase();
            super::TEXT_TRIGGERS
                .iter()
                .any(|t| lower.contains(&t.to_ascii_lowercase()))
        };
        let mut texts: Vec<String> = Vec::new();
        for t in super::TEXT_TRIGGERS {
            texts.push(format!("x {} y", t.to_ascii_uppercase()));
            texts.push(format!("x {}", &t[..t.len() - 1]));
        }
        let (mut lines, mut found) = (0, 0);
        for text in crate::test_corpus::fixture_and_field_texts()
            .iter()
            .chain(&texts)
        {
            for line in text.lines() {
                lines += 1;
                assert_eq!(super::has_text_trigger(line), holds(line), "{line:?}");
                found += usize::from(holds(line));
            }
        }
        assert!(lines > 5000 && found > 1000, "{lines} lines, {found} found");
    }

    /// The set answers as its patterns one by one do (whether any matches,
    /// and which), on every line of the fixtures and field cases and on the
    /// first half of each.
    #[test]
    fn signal_set_matches_where_one_of_its_patterns_does() {
        let one_by_one: Vec<regex::Regex> = super::signal_patterns()
            .iter()
            .map(|p| regex::Regex::new(p).unwrap())
            .collect();
        let (mut lines, mut signals) = (0, 0);
        // Non-ASCII beside a word boundary: the lazy DFA's fallback.
        let edges = [
            "HTTP Error 401: Unauthorized für ü",
            "é status: 401",
            "ünable to connect to the server: x",
            "Échec : Error 403é",
            "réturned 503 é",
        ];
        let texts = crate::test_corpus::fixture_and_field_texts();
        for line in texts.iter().flat_map(|t| t.lines()).chain(edges) {
            let half = &line[..line.floor_char_boundary(line.len() / 2)];
            for text in [line, half] {
                let any = one_by_one.iter().any(|r| r.is_match(text));
                assert_eq!(super::signal_set().is_match(text), any, "{text}");
                let matched = super::signal_set().matches(text);
                for (i, r) in one_by_one.iter().enumerate() {
                    assert_eq!(matched.matched(i), r.is_match(text), "{i} {text}");
                }
                lines += 1;
                signals += usize::from(any);
            }
        }
        assert!(
            signals > 300 && lines > 10 * signals,
            "{signals} of {lines}"
        );
    }

    /// The quick test rules out only what the full one does, at every
    /// colon of a varied set of lines.
    #[test]
    fn cannot_end_with_code_only_where_no_code_ends() {
        let long_digits = format!("x{}", "1".repeat(300));
        let long_upper = format!("{}123: x", "A".repeat(300));
        let lines = [
            "2026-11-24 00:00:02,487 DEBUG urllib3: x",
            "{\"ts\":\"2026-11-24T00:00:01.008Z\"}",
            "AB123: x",
            "AB1234: x",
            "UNAVAILABLE_1: x",
            long_upper.as_str(),
            "{\"ts\":\"2026\",\"status\":200}",
            "AADSTS50076: Due to a configuration change",
            "error E0000011 : Invalid token",
            "x AB1234 \t: y",
            "UNAVAILABLE: down",
            "code_1234567: x",
            "é123456: x",
            "ÉA123456: x",
            "A٣٣٣٣: x",
            "_123456: y",
            long_digits.as_str(),
            "lower123456: x",
            "  : x",
            "",
        ];
        for line in lines {
            let b = line.as_bytes();
            for p in (0..=b.len()).filter(|&p| p == b.len() || b[p] == b':') {
                if super::cannot_end_with_code(&b[..p]) {
                    assert!(!super::code_at_end(&b[..p]), "{line:?} at {p}");
                }
            }
        }
        assert!(super::cannot_end_with_code(b"{\"status\""));
        assert!(super::cannot_end_with_code(b"2026-11-24 00"));
        assert!(super::cannot_end_with_code(b"{\"ts\":\"2026-11-24T00"));
    }
    use super::super::{EventKind, parse_chunk};

    fn facts(text: &str) -> Vec<(String, String)> {
        parse_chunk(&chunk(text))
            .into_iter()
            .flat_map(|e| e.fields.into_iter())
            .map(|f| (f.name.into_owned(), f.value.to_string()))
            .collect()
    }

    fn get(text: &str, name: &str) -> Option<String> {
        facts(text)
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    fn exceptions(text: &str) -> usize {
        parse_chunk(&chunk(text))
            .iter()
            .filter(|e| e.kind == EventKind::Exception)
            .count()
    }

    #[test]
    fn transport_failures_in_prose() {
        let f = facts("Unable to connect to the server: Gateway Timeout\n");
        assert!(
            f.iter().any(|(n, v)| n == "exception.message"
                && v == "Unable to connect to the server: Gateway Timeout"),
            "{f:?}"
        );
        let f = facts(
            "E1130 10:02:03.000 sync.go:88] proxyconnect tcp: dial tcp: lookup proxy.corp.example on 10.0.0.2:53: no such host\n",
        );
        assert!(f.iter().any(|(n, _)| n == "exception.message"), "{f:?}");
        let f = facts(
            "2026/01/02 03:04:05 upload: read tcp 10.1.1.2:51000->10.9.9.9:443: read: connection reset by peer\n",
        );
        assert!(f.iter().any(|(n, _)| n == "exception.message"), "{f:?}");
        // Prose about connecting is not a failure, nor is a local IPC's
        // error, nor an INFO line.
        assert!(facts("Connected to the server at 10.0.0.1\n").is_empty());
        assert!(facts("[12:12:1130/1:ERROR:bus.cc(407)] Failed to connect to the bus: Failed to connect to socket /run/dbus/system_bus_socket: No such file or directory\n").iter().all(|(n, _)| n != "exception.message"));
        let f =
            facts("deploy: could not connect to registry.example.io:5000: connection timed out\n");
        assert!(f.iter().any(|(n, _)| n == "exception.message"), "{f:?}");
        assert!(
            facts("INFO retrying: dial tcp 10.0.0.1:443: connect: connection refused\n").is_empty()
        );
        // .NET's handshake failures as NuGet and MSBuild print them, with
        // no exception type before them.
        for line in [
            "/usr/share/dotnet/sdk/8.0.100/NuGet.targets(156,5): error :   The remote certificate is invalid because of errors in the certificate chain: UntrustedRoot [/src/App/App.csproj]\n",
            "  The SSL connection could not be established, see inner exception.\n",
            "warn : The remote certificate is invalid according to the validation procedure.\n",
        ] {
            let f = facts(line);
            assert!(
                f.iter().any(|(n, _)| n == "exception.message"),
                "{line}: {f:?}"
            );
        }
        // Ruby's OpenSSL binding, with and without the reason.
        for line in [
            "SSL_connect returned=1 errno=0 state=SSLv3 read server certificate B: certificate verify failed\n",
            "SSL_connect returned=1 errno=0 peeraddr=203.0.113.9:443 state=error: certificate verify failed (unable to get local issuer certificate)\n",
        ] {
            let f = facts(line);
            assert!(f.iter().any(|(n, _)| n == "exception.message"), "{f:?}");
        }
    }

    /// aws-sdk-go (v1): the code and message on one line, the status and
    /// request id on the next, tab-indented.
    #[test]
    fn aws_go_v1_two_line_error() {
        let f = facts(
            "aws_instance.web: AuthFailure: AWS was not able to validate the provided access credentials\n\tstatus code: 401, request id: 3b7e21c4-8d2f-4a61-9c0e-5f1a7d9b2e84\n",
        );
        let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("exception.code"), Some("AuthFailure"), "{f:?}");
        assert_eq!(get("status"), Some("401"), "{f:?}");
        assert_eq!(
            get("exception.message"),
            Some("AuthFailure: AWS was not able to validate the provided access credentials")
        );
        // SQS's codes are dotted, after the caller's own words.
        let f = facts(
            "2024/03/11 07:42:19 receive failed: AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist for this wsdl version.\n\tstatus code: 400, request id: 5f1d0b3e-1c9a-5a7e-9b7e-2f0e4d6c8a11\n",
        );
        let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(
            get("exception.code"),
            Some("AWS.SimpleQueueService.NonExistentQueue"),
            "{f:?}"
        );
        assert_eq!(get("status"), Some("400"), "{f:?}");
        // The line before states no code: only the status is read.
        let f = facts("upload went wrong\n\tstatus code: 403, request id: 0a1b\n");
        assert!(f.iter().all(|(n, _)| n != "exception.code"), "{f:?}");
        assert!(f.iter().any(|(n, v)| n == "status" && v == "403"), "{f:?}");
    }

    #[test]
    fn messages_that_start_with_an_error_name() {
        let code = |t: &str| {
            facts(t)
                .into_iter()
                .find(|(n, _)| n == "exception.code")
                .map(|(_, v)| v)
        };
        let msg = |t: &str| {
            facts(t)
                .into_iter()
                .find(|(n, _)| n == "exception.message")
                .map(|(_, v)| v)
        };
        assert_eq!(
            code("- NoSuchBucket: The specified bucket does not exist\n").as_deref(),
            Some("NoSuchBucket")
        );
        assert_eq!(
            code("InvalidAccessKeyId, Message:The AWS Access Key Id you provided does not exist in our records.\n").as_deref(),
            Some("InvalidAccessKeyId")
        );
        assert_eq!(
            code("2021/03/04 05:06:07 API_DISABLED_FOR_ORG: The REST API is not enabled for this Organization.\n").as_deref(),
            Some("API_DISABLED_FOR_ORG")
        );
        // Wrapped onto a line that starts lower-case.
        assert_eq!(
            msg("AuthorizationHeaderMalformed: The authorization header is malformed;\nthe region 'us-east-1' is wrong; expecting 'eu-west-3'\nNext: line\n").as_deref(),
            Some("The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-3'")
        );
        // A code and message pair in a non-JSON struct dump.
        assert_eq!(
            code("0: Error { code: \"ExpiredToken\", message: \"The security token included in the request is expired\", request_id: \"X1\" }\n").as_deref(),
            Some("ExpiredToken")
        );
        // A component name is not an error name; a config key is not either.
        assert!(code("TokenManager: refreshed the token for tenant 4 in 20 ms\n").is_none());
        assert!(code("DataCenter: East US\n").is_none());
    }

    #[test]
    fn statuses_quoted_in_messages() {
        let status = |t: &str| {
            facts(t)
                .into_iter()
                .find(|(n, _)| n == "status")
                .map(|(_, v)| v)
        };
        assert_eq!(
            status("ERROR dial failed: bad handshake from edge.example.net:443: HTTP/1.1 521 Web Server Is Down\n").as_deref(),
            Some("521")
        );
        assert_eq!(
            status("PHP Fatal error: Uncaught GuzzleHttp\\Exception\\ClientException: Client error: `POST https://api.example.com/v1/x` resulted in a `401 Unauthorized` response\n").as_deref(),
            Some("401")
        );
        // The body alone says it failed.
        let f = facts(
            "Login failed, please try again: {'_error': [{'message': \"HTTPSConnectionPool(host='api.example.io', port=443): Max retries exceeded (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed')))\"}]}\n",
        );
        assert!(f.iter().any(|(n, _)| n == "exception.message"), "{f:?}");
        assert!(f.iter().any(|(n, _)| n.starts_with("body.")), "{f:?}");
        // `[ERROR]:` is a tool's error line too.
        let f = facts("[ERROR]: Token not valid. Upstream said: invalid_auth\n");
        assert!(
            f.iter()
                .any(|(n, v)| n == "exception.message" && v.starts_with("Token not valid")),
            "{f:?}"
        );
    }

    #[test]
    fn a_registry_error_code_after_its_url_is_the_status() {
        let line = "Error: GET https://ghcr.io/v2/acme/app/manifests/v1: DENIED: requested access to the resource is denied\n";
        assert_eq!(get(line, "status").as_deref(), Some("403"));
        let line = "Error: HEAD https://registry.example.net/v2/team/api/manifests/2.1: MANIFEST_UNKNOWN: manifest unknown\n";
        assert_eq!(get(line, "status").as_deref(), Some("404"));
        // Not after a registry's URL, a capitalised word is no code.
        let line = "Error: GET https://api.example.com/items: DENIED: see the audit log\n";
        assert_eq!(get(line, "status"), None);
    }

    #[test]
    fn grpc_status_lines_are_failures() {
        for (line, code) in [
            (
                "RESOURCE_EXHAUSTED: Quota exceeded for quota metric 'All requests' and limit 'All requests per day' of service 'photoslibrary.googleapis.com'.",
                "RESOURCE_EXHAUSTED",
            ),
            (
                "16 UNAUTHENTICATED: Request had invalid authentication credentials.",
                "UNAUTHENTICATED",
            ),
        ] {
            assert_eq!(exceptions(line), 1, "{line}");
            assert_eq!(get(line, "exception.code").as_deref(), Some(code), "{line}");
        }
        // Upper-case keys of a config dump are not gRPC statuses.
        assert_eq!(
            exceptions("DATABASE_URL: postgres://db.internal:5432/app"),
            0
        );
        assert_eq!(exceptions("NOT_FOUND_PAGE: /404.html"), 0);
    }

    /// grpc-go's Unavailable for a connection it never made states no
    /// status; a server's Unavailable does (503).
    #[test]
    fn grpc_client_connection_errors_have_no_status() {
        let client = "rpc error: code = Unavailable desc = connection error: desc = \"transport: authentication handshake failed: x509: certificate signed by unknown authority\"";
        assert_eq!(
            get(client, "exception.code").as_deref(),
            Some("Unavailable")
        );
        assert_eq!(get(client, "status"), None);
        let server = "rpc error: code = Unavailable desc = The service is currently unavailable.";
        assert_eq!(get(server, "status").as_deref(), Some("503"));
    }

    #[test]
    fn statuses_in_prose() {
        for (line, status) in [
            ("HTTP Error 401: Unauthorized", "401"),
            ("sync failed, status: 401", "401"),
            ("Request failed: StatusCode=400", "400"),
            ("upload rejected with status code 403", "403"),
            (
                "Failed. Response code = 403. Response message = Forbidden",
                "403",
            ),
            ("Server returned Response code: 401", "401"),
            (
                "NASA APOD extension error: Over rate limit (error 429): Get your API key",
                "429",
            ),
            (
                "Exception: Request failed for https://api.example.com/v2/clients returned code 401. Truncated server response: {}",
                "401",
            ),
            ("error: Unexpected server response: 401", "401"),
            // A quoted status after the verb (the Zapier CLI).
            (
                r#"Error! "https://zapier.com/api/platform/cli/keys" returned "401" saying "Could not authenticate you.""#,
                "401",
            ),
            // Erlang's httpc response tuple; Elixir's, with charlists.
            (
                r#"Response: {ok,{{"HTTP/1.1",400,"BAD REQUEST"},[{"connection","close"}],"<xml/>"}}"#,
                "400",
            ),
            (
                r#"{:ok, {{~c"HTTP/1.1", 403, ~c"Forbidden"}, [], ~c"denied"}}"#,
                "403",
            ),
            (
                "{:ok, {{'HTTP/1.1', 401, 'Unauthorized'}, [], 'no'}}",
                "401",
            ),
            // PHP's print_r of an object, Ruby's hash inspect.
            (
                "stdClass Object ( [status] => 403 [errorCode] => 010 [message] => Not allowed )",
                "403",
            ),
            ("Faraday::UnauthorizedError: response {:status=>401}", "401"),
            (
                "websocket._exceptions.WebSocketBadStatusException: Handshake status 403 Forbidden",
                "403",
            ),
            ("the server responded with a status of 401 ()", "401"),
            ("GET https://a.example/x 403 (Forbidden)", "403"),
            (
                "The remote server returned an error: (401) Unauthorized.",
                "401",
            ),
            (
                "Response status code does not indicate success: 401 (Unauthorized).",
                "401",
            ),
            (
                "clientCredentialsToken: received HTTP status 401 with response",
                "401",
            ),
            ("Request `List` returned error: 403 forbidden", "403"),
            (
                "HTTP 401: Bad credentials (https://api.example.com/graphql)",
                "401",
            ),
            ("googleapi: Error 403: Permission denied, forbidden", "403"),
            (
                "2024-05-01 10:00:00 WARN fetch users: 429 Too Many Requests",
                "429",
            ),
            ("API error: 402 {", "402"),
            (
                "NCBI Entrez returned error code 429, are ID(s) X valid?",
                "429",
            ),
            (
                "Error [PostHogFetchHttpError]: HTTP error while fetching PostHog: 400",
                "400",
            ),
            (
                "Err: 404. That\u{2019}s an error. The requested URL /v1beta/1:run was not found on this server.",
                "404",
            ),
            (
                "Grpc.Core.RpcException: Status(StatusCode=\"PermissionDenied\", Detail=\"Missing or insufficient permissions.\")",
                "403",
            ),
            (
                "Grpc.Core.RpcException: \x27Status(StatusCode=InvalidArgument, Detail=\"Inline audio exceeds duration limit.\")\x27",
                "400",
            ),
            ("API error: 402 {\"errors\": []}", "402"),
            (
                "Exception when calling OrdersV0Api->getOrderDetail: [429] { \"errors\": [] }",
                "429",
            ),
        ] {
            assert_eq!(get(line, "status").as_deref(), Some(status), "{line}");
        }
        assert_eq!(
            get("HTTP Error 401: Unauthorized", "reason").as_deref(),
            Some("Unauthorized")
        );
        assert_eq!(
            get(
                "HTTP 401: Bad credentials (https://api.example.com/graphql)",
                "url"
            )
            .as_deref(),
            Some("https://api.example.com/graphql")
        );
        // A port after a host is not a status.
        for line in [
            "Activation failed: Cannot connect to host pay.example.net:443 ssl:True",
            "upload failed: dial tcp api.example.com:502 refused",
        ] {
            assert_eq!(get(line, "status"), None, "{line}");
        }
        // A process's exit code is no status.
        assert_eq!(get("ssh: build step returned code 255", "status"), None);
        // An SMTP reply (an enhanced status code after it) is no HTTP status.
        for line in [
            "server smtp.example.net[52.97.146.18] said: 535 5.7.3 Authentication unsuccessful",
            "Error: Invalid login: 534-5.7.9 Application-specific password required.",
            "MailKit.Net.Smtp.SmtpCommandException: 550 5.7.1 Unauthorized",
        ] {
            assert_eq!(get(line, "status"), None, "{line}");
        }
        assert_eq!(get("sync failed: 503", "status").as_deref(), Some("503"));
        assert_eq!(
            get("Error: Zendesk Error (401): Not Authorized", "status").as_deref(),
            Some("401")
        );
        assert_eq!(
            get(
                "[ warn] [output:splunk:splunk.16] http_status=401:",
                "status"
            )
            .as_deref(),
            Some("401")
        );
        assert_eq!(
            get(
                "huggingface_hub.errors.GatedRepoError: 403 Client Error. (Request ID: Root=1-6650a1b2)",
                "status"
            )
            .as_deref(),
            Some("403")
        );
        assert_eq!(
            get(
                "Error: API Error: 400 - The request could not be understood by the server due to malformed syntax.",
                "status"
            )
            .as_deref(),
            Some("400")
        );
        assert_eq!(get("500 - 3 retries left", "status"), None);
        // An API's own error code, not a status (tweepy's Twitter errors).
        assert_eq!(
            get(
                "453 - You currently have access to a subset of Twitter API v2 endpoints",
                "status"
            ),
            None
        );
    }

    #[test]
    fn oauth_pairs_in_any_notation() {
        let form = "2024-05-01 ERROR Token request failed: error=invalid_grant&error_description=The+code+has+expired%2E";
        assert_eq!(get(form, "body.error").as_deref(), Some("invalid_grant"));
        assert_eq!(
            get(form, "body.error_description").as_deref(),
            Some("The code has expired.")
        );
        let prose =
            "token refresh failed: error: invalid_client, error_description: client secret expired";
        assert_eq!(get(prose, "body.error").as_deref(), Some("invalid_client"));
        assert_eq!(
            get(prose, "body.error_description").as_deref(),
            Some("client secret expired")
        );
        let quoted = r#"auth said "error":"unauthorized_client","error_description":"The client is \"disabled\"" and stopped"#;
        assert_eq!(
            get(quoted, "body.error_description").as_deref(),
            Some("The client is \"disabled\"")
        );
        // A custom code counts only with its description.
        assert_eq!(
            get(
                "error=bad_verification_code&error_description=The+code+is+wrong",
                "body.error"
            )
            .as_deref(),
            Some("bad_verification_code")
        );
        assert!(get("retry loop saw error=timeout", "body.error").is_none());
        // oauthlib's wording: a registered code in parentheses, alone.
        for (text, code) in [
            (
                "error: Unknown error occurred: (invalid_grant) Bad Request",
                Some("invalid_grant"),
            ),
            (
                "InvalidClientError: (invalid_client) Client authentication failed.",
                Some("invalid_client"),
            ),
            ("sync stopped (missing_scope) for now", None),
            ("handled (invalid_grant)", None),
            (
                "OAuthTokenRequestException('invalid_grant', 'AADSTS70000: The grant is expired.')",
                Some("invalid_grant"),
            ),
            ("KeyError('invalid_grant')", None),
        ] {
            assert_eq!(get(text, "body.error").as_deref(), code, "{text}");
        }
        // The Salesforce CLI names the OAuth error `name`; any other name
        // is a name, even beside a description.
        // A decoded body as PHP's var_dump and print_r and Ruby's inspect
        // print it.
        let var_dump = r#"object(stdClass)#5 (2) { ["error"]=> string(13) "invalid_grant" ["error_description"]=> string(12) "Code expired" }"#;
        assert_eq!(
            get(var_dump, "body.error").as_deref(),
            Some("invalid_grant")
        );
        assert_eq!(
            get(var_dump, "body.error_description").as_deref(),
            Some("Code expired")
        );
        let print_r = "Token failed: Array ( [error] => invalid_client [error_description] => Client authentication failed )";
        assert_eq!(
            get(print_r, "body.error").as_deref(),
            Some("invalid_client")
        );
        // A code with its own colon after it (Node's google-auth-library
        // through gRPC: `… failed with error: invalid_grant: Invalid JWT: …`).
        let grpc = "400 undefined: Getting metadata from plugin failed with error: invalid_grant: Invalid JWT: Token must be a short-lived token (60 minutes)";
        assert_eq!(get(grpc, "body.error").as_deref(), Some("invalid_grant"));
        let ruby = r#"OAuth error: {"error"=>"invalid_grant", "error_description"=>"Bad Request"}"#;
        assert_eq!(get(ruby, "body.error").as_deref(), Some("invalid_grant"));
        let sfdx = "An error occurred authorizing this org. name: invalid_grant message: user hasn't approved this consumer";
        assert_eq!(get(sfdx, "body.error").as_deref(), Some("invalid_grant"));
        let named = r#"refresh error: {"name":"svc_sync","error":"invalid_grant","error_description":"expired"}"#;
        assert_eq!(get(named, "body.error").as_deref(), Some("invalid_grant"));
        assert!(
            get(
                r#"error: {"name":"nightly_sync","error_description":"stopped"}"#,
                "body.error"
            )
            .is_none()
        );
        // A log level in capitals is no key, even beside a description.
        let gcloud = r#"ERROR: gcloud crashed (OAuthError): ('x', '{"error":"invalid_request","error_description":"Invalid value for audience."}')"#;
        assert_eq!(
            get(gcloud, "body.error").as_deref(),
            Some("invalid_request")
        );
    }

    #[test]
    fn statuses_of_session_42_shapes() {
        for (text, status) in [
            // ccxt: the exchange, the method and URL, then the status.
            (
                "binance GET https://api.binance.com/api/v3/exchangeInfo 451 {\"code\":0}",
                "451",
            ),
            // Vault's API client.
            (
                "URL: GET https://vault.example:8200/v1/kv/data/x\nCode: 403. Errors:\n",
                "403",
            ),
            // Epic Online Services' backend errors.
            (
                "Error response received from backend. ServiceName=[EOSAuth], HttpStatus=[401], ErrorCode=[x]",
                "401",
            ),
            ("request failed httpStatus: 503", "503"),
            (
                "Invalid response - 400 for https://eu.battle.net/oauth/token?grant_type=client_credentials",
                "400",
            ),
        ] {
            assert_eq!(get(text, "status").as_deref(), Some(status), "{text}");
        }
        // A method and URL with a number after it that is no status.
        assert!(get("GET https://api.example.com/v1/items 200 12ms", "status").is_none());
        assert!(get("fetched 2 pages for https://api.example.com/v1", "status").is_none());
        assert!(get("got 404 results in 3 pages", "status").is_none());
        assert!(get("Job (500, Nightly, true)", "status").is_none());
    }

    #[test]
    fn wrangler_codes_and_getaddrinfo_messages() {
        assert_eq!(
            get("  Authentication error [code: 10000]", "exception.code").as_deref(),
            Some("10000")
        );
        let ruby = "SocketError\ngetaddrinfo: nodename nor servname provided, or not known (token.example-bank.com:443)\n";
        assert!(super::is_transport(ruby));
        assert!(super::is_transport(
            "getaddrinfo: Name or service not known"
        ));
        assert!(!super::is_transport("getaddrinfo is the resolver call"));
        // libcurl's timeouts as PHP and other bindings print them, without
        // curl's `(28)`: the message itself, or after its exception's name.
        assert!(super::is_transport(
            "cURL error: Resolving timed out after 2512 milliseconds"
        ));
        assert!(super::is_transport(
            "Operation timed out after 30001 milliseconds with 0 bytes received"
        ));
        assert!(!super::is_transport("the batch timed out after 3 retries"));
        // Older rustls releases said `invalid certificate`, not `invalid peer
        // certificate`.
        assert!(super::is_transport(
            "error trying to connect: invalid certificate: UnknownIssuer"
        ));
        // OpenSSL's missing issuer, without `local` (Node prints it alone).
        assert!(super::is_transport(
            "API Error: Error: unable to get issuer certificate"
        ));
        // curl -v's own note of it, at the end of a progress meter line:
        // the failure is curl's `(28)` line that follows.
        assert!(!super::is_transport(
            "100    29    0     0  100    29      0     13  0:00:02  0:00:02 --:--:--    13* Operation timed out after 3000 milliseconds with 0 bytes received"
        ));
    }

    /// A refusal in words is a failure with no status, code or OAuth pair
    /// beside it; the same words as a debug note, or without a refusal's
    /// shape, are not.
    #[test]
    fn a_refusal_in_words_is_a_signal() {
        for line in [
            "Invalid API key. Please make sure to use the secret key from the dashboard\n",
            "create backend at s3:s3.amazonaws.com/b/restic failed: client.BucketExists: Access Denied.\n",
            "Could not assume role with OIDC: Not authorized to perform sts:AssumeRoleWithWebIdentity.\n",
            "{\"message\": \"Invalid username or password\"}\n",
            "Error Invalid token\n",
            "Unauthorized request.\n",
            "{\"message\":\"Invalid authentication credentials\"}\n",
            "The API key provided is invalid. Please use the secret key\n",
        ] {
            let events = parse_chunk(&chunk(line));
            assert!(!events.is_empty(), "{line}");
        }
        for line in [
            "2024-05-01 10:00:00 DEBUG auth: Invalid token cache entry dropped\n",
            "validated 40 tokens, 0 invalid\n",
            "Multi-factor Authentication required.\n",
            "Authorization header set for api.example.com\n",
        ] {
            let events = parse_chunk(&chunk(line));
            assert!(
                events.iter().all(|e| e.kind != EventKind::Exception),
                "{line}: {events:?}"
            );
        }
    }

    #[test]
    fn a_test_title_naming_a_refusal_is_no_failure() {
        for title in [
            "    - should not allow provisioning with bad credentials\n",
            "  \u{2713} should reject an invalid API key (12ms)\n",
            "  1) should return 401 for wrong password\n",
        ] {
            assert_eq!(exceptions(title), 0, "{title}");
        }
        // A refusal said after a test's title is still one.
        assert_eq!(exceptions("Error: Invalid API key\n"), 1);
    }

    #[test]
    fn codes_and_tool_errors() {
        let aws = "An error occurred (SignatureDoesNotMatch) when calling the ListBuckets operation: The request signature we calculated does not match";
        assert_eq!(
            get(aws, "exception.code").as_deref(),
            Some("SignatureDoesNotMatch")
        );
        // The AWS CLI v1's older wording, and an operation a terminal wrapped.
        for old in [
            "A client error (InvalidClientTokenId) occurred when calling the GetCallerIdentity operation: The security token included in the request is invalid.\n",
            "A client error (SignatureDoesNotMatch) occurred when calling the\nGetUser operation: The request signature we calculated does not match\n",
            "An error occurred (AccessDenied) when calling the\nListBuckets operation: Access Denied\n",
        ] {
            let code = old[old.find('(').unwrap() + 1..old.find(')').unwrap()].to_string();
            assert_eq!(get(old, "exception.code"), Some(code), "{old}");
        }
        assert_eq!(
            get(
                "A client error (x) was logged when calling home\n",
                "exception.code"
            ),
            None
        );
        let az = "ERROR: (AuthorizationFailed) The client 'x' does not have authorization\nCode: AuthorizationFailed\nMessage: The client 'x' does not have authorization\n";
        let events = parse_chunk(&chunk(az));
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(
            events[0].field("exception.code").unwrap().value.to_string(),
            "AuthorizationFailed"
        );
        assert_eq!(
            get(
                "ERROR: (gcloud.run.deploy) PERMISSION_DENIED: Permission denied",
                "exception.code"
            )
            .as_deref(),
            Some("PERMISSION_DENIED")
        );
        assert_eq!(
            get(
                "ABC7000215: Invalid client secret provided.",
                "exception.code"
            )
            .as_deref(),
            Some("ABC7000215")
        );
        assert_eq!(
            get(
                "login failed, errorCode: E0000004, errorSummary: Authentication failed",
                "exception.code"
            )
            .as_deref(),
            Some("E0000004")
        );
        // CloudFormation's resource handler (CDK deploys print it too).
        assert_eq!(
            get(
                "MyFn | CREATE_FAILED | AWS::Lambda::Function | Resource handler returned message: \"Function not found\" (RequestToken: 9f8e7d6c, HandlerErrorCode: NotFound)",
                "exception.code"
            )
            .as_deref(),
            Some("NotFound")
        );
        assert_eq!(
            get(
                "fatal: Authentication failed for 'https://git.example.com/r.git/'",
                "exception.message"
            )
            .as_deref(),
            Some("Authentication failed for 'https://git.example.com/r.git/'")
        );
        // gh's GraphQL error, path in parentheses after the message.
        assert_eq!(
            get(
                "GraphQL: Could not resolve to a Repository with the name 'octo/gone'. (repository)",
                "exception.message"
            )
            .as_deref(),
            Some("Could not resolve to a Repository with the name 'octo/gone'. (repository)")
        );
    }

    #[test]
    fn body_after_the_signal_is_a_body() {
        let t = r#"terraform: received HTTP status 401 with response: {"error":"invalid_client","error_description":"bad secret"}"#;
        let events = parse_chunk(&chunk(t));
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(events[0].kind, EventKind::Exception);
        assert_eq!(events[1].kind, EventKind::Body);
        assert_eq!(
            events[1].field("body.error").unwrap().value.to_string(),
            "invalid_client"
        );
        // The pair inside the JSON is the body's, not read twice.
        assert!(events[0].field("body.error").is_none());
    }

    #[test]
    fn near_misses_are_not_failures() {
        for line in [
            "INFO server started, 0 errors",
            "metrics: error_rate=0.0 p99=12ms",
            "DEBUG errorHandler registered",
            "2024-05-01 INFO retrying after error",
            "INFO:sdk.client:A retry handler found for POST https://api.example.com/x - HTTP Error 429: Too Many Requests",
            "2024-05-01 10:00:00 DEBUG http: response status: 401 (will refresh the token)",
            "GET /api/v2/users -> status: 200",
            "request ok, status code 204",
            r#"result: "error": null, "errors": []"#,
            "processed 403 records in 200 ms",
            "received 500 rows from the replica",
            "the call returned 404 rows",
            "error: none",
            "SHA256: 3f1c2d9e0000",
            "see RFC6749 section 5.2 for error codes",
            "Note: the admin console shows the user is locked",
            "GraphQL:",
            "Error: The v0 series of google-github-actions/auth is no longer maintained. Please upgrade to v2.",
            "warning: error: the `set-output` command is deprecated and will be removed",
        ] {
            assert_eq!(exceptions(line), 0, "{line}: {:?}", facts(line));
        }
    }
}
