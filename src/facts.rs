//! Stage 4, facts: the named fields rules are written against, the catalogue
//! of those names (used to validate rules and to document them), and the
//! input-wide scan behind `input.*` facts.

use std::collections::BTreeMap;

use regex::{Regex, RegexSet};

use crate::input::{Chunk, LineIndex, Loc, Span};
use crate::parse::Value;
use crate::providers::Providers;

/// One value of a fact, and where in the user's input it was read.
#[derive(Debug, Clone)]
pub struct FactValue {
    pub value: Value,
    pub loc: Option<Loc>,
}

/// Named, possibly multi-valued facts.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    map: BTreeMap<String, Vec<FactValue>>,
}

impl Facts {
    pub fn push(&mut self, name: impl Into<String>, value: Value, loc: Option<Loc>) {
        self.map
            .entry(name.into())
            .or_default()
            .push(FactValue { value, loc });
    }

    /// Sets a fact only if it has no value yet.
    pub fn push_default(&mut self, name: &str, value: Value, loc: Option<Loc>) {
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
        self.map.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
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
        "provider recognised from the host, else from its vocabulary in the incident's lines (error-code shapes such as `AADSTS\\d+`, its documentation host in a message, its path layout); see rules/providers.toml",
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
        "every human-readable error message of the incident: exception and cause messages; body `message`, `error_description`, `error.message`, `errorSummary`, `errorMessage`, `errors[].message`, `detail`, `title`, `description`, `Message` (AWS XML too), an `error` written as prose; an HTML page's `<title>` and `<h1>`; an error-level JSON-lines record's `msg`/`message`. Rules about wording test this (`contains`, `regex`), not `text`",
        "AADSTS7000215: Invalid client secret provided.",
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

/// A pattern searched over the whole input, and what it is for.
#[derive(Debug, Clone)]
pub enum InputPattern {
    /// A rule condition on `input.text`, by condition id.
    Condition(usize),
    /// A place name that hints at a region, by region id.
    Place(String),
}

/// Where one input pattern matched.
#[derive(Debug, Clone)]
pub struct Hit {
    pub loc: Loc,
    pub matched: String,
    pub captures: Vec<(String, String)>,
    /// The whole line, for rendering the evidence without the source.
    pub line: Line,
}

/// A line of some source kept for rendering.
#[derive(Debug, Clone)]
pub struct Line {
    pub source: usize,
    pub offset: usize,
    pub number: usize,
    pub text: String,
}

/// Hits kept per pattern: enough to show evidence, bounded for huge inputs.
pub const HITS_PER_PATTERN: usize = 8;
/// Longest line kept for rendering evidence.
const MAX_LINE: usize = 2000;

/// Rewrites `\b` as the ASCII word boundary `(?-u:\b)`. A Unicode `\b`
/// keeps the regex engine off its fast lazy DFA, which made the input-wide
/// scan run at well under 1 MiB/s; an ASCII boundary differs only next to
/// non-ASCII letters, which patterns about logs do not rely on.
fn ascii_word_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push_str("(?-u:\\b)"),
            Some(next) => {
                out.push('\\');
                out.push(next);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Compiled input-wide patterns. One `RegexSet` pass per chunk decides which
/// patterns occur at all; only those are searched for positions.
pub struct InputScanner {
    set: RegexSet,
    regexes: Vec<Regex>,
    pub purposes: Vec<InputPattern>,
}

impl InputScanner {
    pub fn new(patterns: Vec<(String, InputPattern)>) -> Result<Self, regex::Error> {
        let ascii: Vec<String> = patterns
            .iter()
            .map(|(p, _)| ascii_word_boundaries(p))
            .collect();
        let set = regex::RegexSetBuilder::new(&ascii)
            .dfa_size_limit(64 << 20)
            .build()?;
        let regexes = ascii
            .iter()
            .map(|p| Regex::new(p))
            .collect::<Result<_, _>>()?;
        Ok(InputScanner {
            set,
            regexes,
            purposes: patterns.into_iter().map(|(_, k)| k).collect(),
        })
    }

    /// The place-name patterns for the providers' regions.
    pub fn place_patterns(providers: &Providers) -> Vec<(String, InputPattern)> {
        providers
            .places()
            .map(|(place, _, region)| {
                (
                    format!(r"(?i)\b{}\b", regex::escape(place)),
                    InputPattern::Place(region.id.clone()),
                )
            })
            .collect()
    }

    pub fn scan(&self, chunk: &Chunk, index: &LineIndex, hits: &mut InputHits) {
        if hits.by_pattern.len() < self.regexes.len() {
            hits.by_pattern.resize(self.regexes.len(), Vec::new());
        }
        for id in self.set.matches(&chunk.text).iter() {
            let kept = &mut hits.by_pattern[id];
            if kept.len() >= HITS_PER_PATTERN {
                continue;
            }
            let re = &self.regexes[id];
            for caps in re.captures_iter(&chunk.text) {
                if kept.len() >= HITS_PER_PATTERN {
                    break;
                }
                let m = caps.get(0).expect("group 0");
                let span = Span::new(chunk.offset + m.start(), chunk.offset + m.end());
                let loc = index.loc(chunk.source, span);
                let line_start = chunk.text[..m.start()].rfind('\n').map_or(0, |p| p + 1);
                let line_end = chunk.text[m.start()..]
                    .find('\n')
                    .map_or(chunk.text.len(), |p| m.start() + p);
                let mut text = chunk.text[line_start..line_end].trim_end_matches('\r');
                if text.len() > MAX_LINE {
                    text = &text[..text.floor_char_boundary(MAX_LINE.max(m.end() - line_start))];
                }
                let captures = re
                    .capture_names()
                    .flatten()
                    .filter_map(|n| {
                        caps.name(n)
                            .map(|c| (n.to_string(), c.as_str().to_string()))
                    })
                    .collect();
                kept.push(Hit {
                    loc,
                    matched: m.as_str().to_string(),
                    captures,
                    line: Line {
                        source: chunk.source,
                        offset: chunk.offset + line_start,
                        number: loc.line,
                        text: text.to_string(),
                    },
                });
            }
        }
    }
}

/// What the input-wide scan found, across every source of the run.
#[derive(Debug, Default)]
pub struct InputHits {
    pub by_pattern: Vec<Vec<Hit>>,
}

/// Input-wide facts derived from the hits (the region hint), plus the hits.
#[derive(Debug, Default)]
pub struct InputFacts {
    pub facts: Facts,
    pub hits: InputHits,
    /// Lines behind `facts` values, for rendering.
    pub lines: Vec<Line>,
}

impl InputFacts {
    pub fn new(hits: InputHits, purposes: &[InputPattern], providers: &Providers) -> Self {
        let mut facts = Facts::default();
        let mut lines = Vec::new();
        // The earliest place mention wins: people name where they are early.
        let first_place = purposes
            .iter()
            .enumerate()
            .filter_map(|(id, p)| match p {
                InputPattern::Place(region) => hits
                    .by_pattern
                    .get(id)
                    .and_then(|h| h.first())
                    .map(|h| (h, region)),
                _ => None,
            })
            .min_by_key(|(h, _)| (h.loc.source, h.loc.span.start));
        if let Some((hit, region_id)) = first_place
            && let Some((_, region)) = providers.region(region_id)
        {
            let loc = Some(hit.loc);
            facts.push("input.place", Value::Str(hit.matched.clone()), loc);
            facts.push("input.region", Value::Str(region.id.clone()), loc);
            facts.push(
                "input.region.domain",
                Value::Str(region.domain.clone()),
                loc,
            );
            if let Some(sdk) = &region.sdk {
                facts.push("input.region.sdk", Value::Str(sdk.clone()), loc);
            }
            lines.push(hit.line.clone());
        }
        InputFacts { facts, hits, lines }
    }
}
