//! Stage 4, facts: the named fields rules are written against, and the
//! catalogue of those names (used to validate rules and to document them).
//! The input-wide scan behind `input.*` facts is `rules::scan`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::input::Loc;
use crate::parse::Value;

/// One value of a fact, and where in the user's input it was read.
#[derive(Debug, Clone)]
pub struct FactValue {
    pub value: Value,
    pub loc: Option<Loc>,
}

/// Named, possibly multi-valued facts.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Names are mostly the catalogue's literals: borrowed, not copied.
    map: BTreeMap<Cow<'static, str>, Vec<FactValue>>,
}

impl Facts {
    pub fn push(&mut self, name: impl Into<Cow<'static, str>>, value: Value, loc: Option<Loc>) {
        // Most facts hold one value: room for one, where a first push
        // makes room for four (a kept incident's facts were three parts
        // spare, a megabyte of a big run's peak).
        self.map
            .entry(name.into())
            .or_insert_with(|| Vec::with_capacity(1))
            .push(FactValue { value, loc });
    }

    /// Sets a fact only if it has no value yet.
    pub fn push_default(&mut self, name: &'static str, value: Value, loc: Option<Loc>) {
        if !self.map.contains_key(name) {
            self.push(name, value, loc);
        }
    }

    pub fn get(&self, name: &str) -> &[FactValue] {
        self.map.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn first(&self, name: &str) -> Option<&FactValue> {
        self.get(name).first()
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.first(name).and_then(|v| v.value.as_str())
    }

    pub fn num(&self, name: &str) -> Option<f64> {
        self.first(name).and_then(|v| v.value.as_num())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[FactValue])> {
        self.map.iter().map(|(k, v)| (k.as_ref(), v.as_slice()))
    }

    pub fn remove(&mut self, name: &str) -> Option<Vec<FactValue>> {
        self.map.remove(name)
    }
}

/// Every exact fact name a rule may use: (name, meaning, example value).
pub const FIELDS: &[(&str, &str, &str)] = &[
    ("status", "HTTP status code of the failing response", "403"),
    ("reason", "HTTP reason phrase", "Forbidden"),
    ("method", "HTTP method of the request", "POST"),
    (
        "url",
        "full URL of the request",
        "https://api.mypurecloud.com/oauth/token",
    ),
    ("url.host", "host part of the URL", "api.mypurecloud.com"),
    ("url.path", "path part of the URL", "/oauth/token"),
    ("url.query", "query string, without `?`", "pageSize=100"),
    (
        "url.port",
        "port named by a transport error (`port 9443`, `port=9443`) when there is no URL",
        "9443",
    ),
    (
        "endpoint",
        "`token` for an OAuth access-token endpoint (the `token_paths` of rules/providers.toml: `/oauth/token`, `/oauth2/v2.0/token`, `/oauth2/default/v1/token`, `/protocol/openid-connect/token`, …; not every path ending in `/token`, e.g. not `/api/v2/screenrecording/token`), `api` for another URL, `unknown` without a URL",
        "token",
    ),
    (
        "provider",
        "provider recognised from the host, else from its vocabulary in the incident's lines (error-code shapes such as `AADSTS\\d+`, its documentation host in a message, its path layout, its own error wording: `messages`); see rules/providers.toml",
        "entra",
    ),
    (
        "provider.source",
        "how `provider` was recognised: `host` or `vocabulary`",
        "vocabulary",
    ),
    (
        "region",
        "provider region recognised from the host",
        "us-east-1",
    ),
    (
        "region.domain",
        "the region's domain (hosts are api./login. under it)",
        "mypurecloud.com",
    ),
    (
        "region.sdk",
        "the region's name in the provider SDKs",
        "us_east_1",
    ),
    (
        "error",
        "the primary error code of the response: body `error`, else `code`, else `errorCode` (see `error.code` for all of them)",
        "invalid_grant",
    ),
    (
        "error.code",
        "every error code of the incident, as written: body `error` (a code, not prose), `code`, `error.code`, `error.status`, `error.type`, `errorCode`, `[].errorCode`, `error_codes[]` (Entra numbers also as `AADSTS<n>`), `error.details[].reason`, `errors[].type`/`code`/`extensions.code`, AWS `Code`/`__type` (JSON or XML), `exception.code`, and codes providers' vocabulary finds in messages (`AADSTS50126`, Okta `E0000011` next to `errorCode`, botocore's `An error occurred (ExpiredToken)`)",
        "AADSTS7000215",
    ),
    (
        "message",
        "every human-readable error message of the incident: exception and cause messages; body `message`, `error_description`, `error.message`, `errorSummary`, `errorMessage`, `errors[].message`, `detail`, `title`, `description` (`Description` too), `Message` (AWS XML too), `msg`, `errmsg`, `error.detail`, an `error` written as prose; an HTML page's `<title>` and `<h1>`; a short plain-text body (a sentence after the headers, up to 400 bytes); an error-level JSON-lines record's `msg`/`message`. Rules about wording test this (`contains`, `regex`), not `text`",
        "AADSTS7000215: Invalid client secret provided.",
    ),
    (
        "message.repeated_id",
        "a GUID that one `message` names twice, lower case: the message gives the same value for two identifiers (AADSTS700016's application and directory, when the client id is the tenant id)",
        "c2a7e913-5f40-4b8d-a61e-93d0b7f2c458",
    ),
    (
        "challenge.scheme",
        "auth scheme of each challenge in `WWW-Authenticate` (RFC 7235 §4.1), lower case",
        "bearer",
    ),
    (
        "challenge.error",
        "a challenge's `error` parameter (RFC 6750 §3)",
        "invalid_token",
    ),
    (
        "challenge.error_description",
        "a challenge's `error_description` parameter",
        "The access token expired",
    ),
    (
        "challenge.scope",
        "a challenge's `scope` parameter: the scope the API wants (RFC 6750 §3)",
        "reports:read",
    ),
    (
        "challenge.realm",
        "a challenge's `realm` parameter (RFC 7235 §2.2)",
        "api",
    ),
    (
        "body.format",
        "the response body's format from its first characters: `json`, `xml`, `html` or `text`; without a body, from the response `Content-Type`",
        "html",
    ),
    (
        "html.title",
        "an HTML body's `<title>`, tags dropped and whitespace collapsed",
        "502 Bad Gateway",
    ),
    (
        "html.h1",
        "an HTML body's first `<h1>`, likewise",
        "Bad Gateway",
    ),
    (
        "retry_after.seconds",
        "`Retry-After` in seconds: delay-seconds as given, or an HTTP-date minus the response `Date` (else the incident's `time`), never negative (RFC 9110 §10.2.3)",
        "42",
    ),
    (
        "proxy.status",
        "the status a forward proxy answered the client's `CONNECT` with, as curl, git, Python, .NET and Java report it (`CONNECT tunnel failed, response 407`, `Received HTTP code 403 from proxy after CONNECT`, `Tunnel connection failed: 407 …`, `… failed with status code '504'`, `Proxy returns \"HTTP/1.1 407 …\"`): not the API's status, the tunnel never opened",
        "407",
    ),
    (
        "proxy",
        "the forward proxy a request was sent through, when the client's log names it (urllib3 logs the proxy as its connection pool and the absolute URL as the request target)",
        "http://proxy.corp.example:3128",
    ),
    (
        "ratelimit.reset_seconds",
        "seconds until the rate-limit window resets: `x-ratelimit-reset` (GitHub, Auth0) or `x-rate-limit-reset` (Okta) as UTC epoch seconds minus the response `Date` (else the incident's `time`); not set when the header's value is too small to be an epoch or not after that time",
        "1800",
    ),
    (
        "statement",
        "`true` when the incident is a short text (a paste of at most 4 KiB, the run's only source) in which no parser found a request, status or error line, read whole as one failure's message; it is reported only when a rule explains it as an error",
        "true",
    ),
    (
        "recovered",
        "`true` when the same method and URL later succeeded (2xx) in the same source, after the last occurrence of this failure: it was retried and got through. Such an incident's diagnoses are info and it does not fail the run",
        "true",
    ),
    (
        "body",
        "the raw response body",
        "{\"error\":\"invalid_grant\"}",
    ),
    (
        "request.body",
        "the raw request body",
        "grant_type=client_credentials",
    ),
    (
        "exception.type",
        "exception or client error type",
        "requests.exceptions.HTTPError",
    ),
    (
        "exception.message",
        "exception message",
        "403 Client Error: Forbidden for url: …",
    ),
    (
        "exception.call",
        "the SDK call named by `Exception when calling X: …`, or read from the Genesys Python SDK's traceback frames",
        "AnalyticsApi->post_analytics_conversations_aggregates_query",
    ),
    (
        "exception.cause.type",
        "type of every other exception in the chain (Python `The above exception was the direct cause…`, Java `Caused by:`, .NET ` ---> `, Node `[cause]`), in the order the client printed them",
        "ConnectionRefusedError",
    ),
    (
        "exception.cause.message",
        "message of every other exception in the chain, same order as `exception.cause.type`",
        "[Errno 111] Connection refused",
    ),
    (
        "exception.code",
        "error code the client gave: curl exit code, errno, Node/OpenSSL/axios code, HAR `_error`",
        "ECONNREFUSED",
    ),
    (
        "time",
        "when the failure happened, ISO 8601 UTC: the JSON-lines record's or HAR entry's time, else the response `Date` header, else the timestamp of the incident's first timestamped log line (or the nearest one in the 20 lines before). A log time without an offset is read as UTC",
        "2026-11-24T21:08:22Z",
    ),
    (
        "time.source",
        "where `time` came from: `record` (JSON-lines record or HAR entry), `header.date`, or `log line`",
        "header.date",
    ),
    (
        "jwt.expired_seconds",
        "`time` minus the JWT's `exp`, in seconds: positive means the token had expired that long before the failure, negative means it was still valid for that long. Only when both are known",
        "412",
    ),
    (
        "jwt.expired_at",
        "the JWT's `exp` as ISO 8601 UTC",
        "2026-11-24T20:01:30Z",
    ),
    (
        "jwt.issued_ahead_seconds",
        "the JWT's `iat` minus `time`, in seconds: positive means the token claims to be issued after the failure happened (a clock skew between issuer and this machine). Only when both are known",
        "95",
    ),
    (
        "clock.skew_seconds",
        "how far one clock is off, in seconds: the clock named by `clock.off` minus the clock it was compared with (positive: ahead). From, first found: a message quoting both times (the `clock_quotes` of rules/providers.toml, e.g. a signed request time against the server's), a JWT's `nbf`/`iat` against `time` (an assertion sent to a token endpoint is this host's stamp judged by the server's `Date`; an issued token stamped in the future of the clock reading it), or the response `Date` against the timestamp of the log line for it (a log time without an offset only within 15 minutes; never beyond a day, a replayed response)",
        "-3612",
    ),
    (
        "clock.off_by_seconds",
        "`clock.skew_seconds` without its sign",
        "3612",
    ),
    (
        "clock.direction",
        "`ahead`, `behind` or `in step`: the sign of `clock.skew_seconds`",
        "behind",
    ),
    (
        "clock.off",
        "whose clock `clock.skew_seconds` is about: `host` (the machine that made, signed or logged the request) or `server` (the API, by its `Date` header, against a token issuer)",
        "host",
    ),
    (
        "clock.source",
        "what was compared: `message` (times a message quotes), `jwt.nbf`, `jwt.iat`, or `header.date` (the response `Date` against the log line's time)",
        "message",
    ),
    (
        "clock.allowed_seconds",
        "the tolerance the server quoted with the times (`MaxAllowedSkewMilliseconds`, `- 5 min.`)",
        "900",
    ),
    (
        "region.other",
        "another region of the same provider than `region`, named by a host with a token-endpoint path on its line (its URL, or a debug line's request) in the incident or in the 32 KiB before it: where a token came from; the nearest one",
        "eu-central-1",
    ),
    (
        "region.other.domain",
        "that region's domain",
        "mypurecloud.de",
    ),
    (
        "region.other.host",
        "the host that named it",
        "login.mypurecloud.de",
    ),
    (
        "tenant.issuer",
        "the tenant the JWT names: a claim in the provider's `tenant_claims` (rules/providers.toml), else read from `jwt.iss` with its `tenant_in_url` patterns",
        "72f988bf-86f1-41af-91ab-2d7cd011db47",
    ),
    (
        "tenant",
        "the tenant the call addressed: read from `url` with the provider's `tenant_in_url` patterns, else from the nearest such URL (an authority) in the incident or the 32 KiB before it. Only with `tenant.issuer`",
        "2b1f6c1e-55d4-4b0a-9e1c-7a3f2f0d9e41",
    ),
    (
        "tenant.mismatch",
        "`true` when `tenant` and `tenant.issuer` are both ids (or both names), neither an alias for any tenant (`common`, …), and differ",
        "true",
    ),
    (
        "token.expires_in",
        "`expires_in` of the last token response logged before the failure on a timestamped line (or a few lines under one), in seconds",
        "3599",
    ),
    (
        "token.issued_at",
        "the time of the log line with that token response, ISO 8601 UTC",
        "2026-11-24T20:01:30Z",
    ),
    (
        "token.age_seconds",
        "`time` minus `token.issued_at`: how old the token was when the call failed",
        "4012",
    ),
    (
        "token.expired_seconds",
        "`token.age_seconds` minus `token.expires_in`: positive means the token was used that long after its lifetime ran out",
        "413",
    ),
    (
        "client",
        "HTTP client that produced the log, best effort",
        "python-requests",
    ),
    ("text", "all lines of the incident", "…"),
    (
        "repeats",
        "how many more times the same failure occurs in the input (only when it does)",
        "3",
    ),
    (
        "input.text",
        "the whole input (every source), for symptoms stated anywhere",
        "the machine user is locked",
    ),
    (
        "input.place",
        "a place named in the input that hints at a provider region",
        "Seoul",
    ),
    (
        "input.region",
        "the region that place usually means (AWS naming; a likely guess)",
        "ap-northeast-2",
    ),
    (
        "input.region.domain",
        "that region's domain",
        "apne2.pure.cloud",
    ),
    (
        "input.region.sdk",
        "that region's SDK name",
        "ap_northeast_2",
    ),
];

/// Field families: any name with one of these prefixes is valid.
pub const FIELD_PREFIXES: &[(&str, &str, &str)] = &[
    (
        "body.",
        "a value in the JSON response body, by dotted path (arrays by index)",
        "body.error_description",
    ),
    (
        "header.",
        "a response header, lower-case name",
        "header.retry-after",
    ),
    (
        "request.header.",
        "a request header, lower-case name",
        "request.header.content-type",
    ),
    (
        "form.",
        "a field of a form-encoded request body",
        "form.grant_type",
    ),
    (
        "record.",
        "a key of a JSON-lines log record, by dotted path",
        "record.level",
    ),
    (
        "jwt.",
        "a claim of the JWT the request sent (its Authorization header), else the first JWT in the incident's lines, else the last one before it; decoded offline, never verified; arrays give one value per item (`jwt.aud`, `jwt.roles`); numbers stay numbers (`jwt.exp`, `jwt.nbf`, `jwt.iat` in epoch seconds); `jwt.header.<name>` is a header field (`alg`, `kid`, `typ`)",
        "jwt.exp",
    ),
];

pub fn is_known_field(name: &str) -> bool {
    FIELDS.iter().any(|(n, _, _)| *n == name)
        || FIELD_PREFIXES
            .iter()
            .any(|(p, _, _)| name.len() > p.len() && name.starts_with(p))
}

/// A line of some source kept for rendering.
#[derive(Debug, Clone)]
pub struct Line {
    pub source: usize,
    pub offset: usize,
    pub number: usize,
    pub text: String,
}
