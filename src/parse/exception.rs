//! Exceptions and client error lines: Python tracebacks' final lines
//! (`requests.exceptions.HTTPError: 403 Client Error: … for url: …`), the
//! Genesys Python SDK's multi-line `ApiException` text, and the one-line
//! errors other clients print (curl, Java, .NET, Node).

use std::sync::OnceLock;

use super::lean::Regex;
use super::trigger_dfa::TriggerDfa;

use super::json::{
    Json, Node, find_in_text, flatten, format_fields, mapped_body_fields, parse_body, parse_value,
};
use super::{Ctx, EventKind, Field, LineParser, Lines, Value};
use crate::rules::literals::{self, Factors};

// Identifier characters: ASCII word characters or any non-ASCII one (a
// superset of Unicode \w, far cheaper to compile). Namespaces are joined by
// `.` (Python, Java, .NET, JS), `::` (Ruby's `Restforce::AuthenticationError`)
// or `\` (PHP's `League\OAuth2\Client\…\IdentityProviderException`).
fn exception_line() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // The status-named classes' last parts, from their triggers.
        let status_classes: Vec<&str> = STATUS_CLASSES.iter().map(|c| &c[2..]).collect();
        Regex::new(
            &r"(?x)
            (?:^|[\s\[(:>])
            (?:Caused\ by:\s+|raise\s+)?
            (?P<type>(?:[A-Za-z_$][A-Za-z0-9_\x{80}-\x{10FFFF}$]*(?:\.|::|\\))*(?:[A-Z][A-Za-z0-9_\x{80}-\x{10FFFF}$]*(?:Error|Exception|Fault)(?:\$[A-Z][A-Za-z0-9_\x{80}-\x{10FFFF}]*)?|Error)
              | (?:[A-Za-z_$][A-Za-z0-9_\x{80}-\x{10FFFF}$]*(?:\.|::|\\))+Exception
              | (?:[A-Za-z_][A-Za-z0-9_\x{80}-\x{10FFFF}]*\.)+exceptions\.[A-Z][A-Za-z0-9_\x{80}-\x{10FFFF}]*
              | (?:[A-Z][A-Za-z0-9_]*::)+(?:STATUS_CLASSES)
              # Ruby SDKs' classes of a module of errors, named for the
              # API's error code (`Slack::Web::Api::Errors::InvalidAuth`,
              # `Aws::S3::Errors::AccessDenied`).
              | (?:[A-Z][A-Za-z0-9_]*::)+Errors::[A-Z][A-Za-z0-9_]*)
            # .NET's generic exception types, as C# writes them
            # (`FaultException<OrganizationServiceFault>`) and as the type
            # prints itself (`FaultException`1[Microsoft.Xrm.Sdk.…]`). ASCII
            # classes and no counted repetition: `[^<>\n]{1,200}` here grew
            # the regex's lazy DFA so that the distinct-failures log peaked
            # 7.7 MiB higher at two threads (72.1 against 64.4 MiB).
            (?:<[A-Za-z0-9_.,\ ]+>|`[0-9]\[[A-Za-z0-9_.,=\ \[]+\]+)?
            (?:
                :\s*(?P<msg>.*)
              | \s*$
            )"
            .replace("STATUS_CLASSES", &status_classes.join("|")),
        )
        .expect("exception regex")
    })
}

/// Whether `line` is a JSON object on its own: `{` first and `}` last.
fn is_json_object_line(line: &str) -> bool {
    let line = line.trim();
    line.starts_with('{')
        && line.ends_with('}')
        && serde_json::from_str::<serde::de::IgnoredAny>(line).is_ok()
}

/// An Elixir exception module: `MatchError`, `Mint.TransportError`.
fn is_elixir_module(ty: &str) -> bool {
    ty.split('.').all(|part| {
        part.starts_with(|c: char| c.is_ascii_uppercase())
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    }) && (ty.ends_with("Error") || ty.ends_with("Exception"))
}

/// Ruby's report of an uncaught exception: the raising frame, then the
/// message, then the class in parentheses (`client.rb:226:in
/// `connect_and_send': Authenticate (Twilio::REST::RequestError)`; Ruby 3.4
/// quotes the method with `'` on both sides). A namespaced class need not
/// end in `Error` (`Slack::Web::Api::Errors::MissingScope`,
/// `Net::ReadTimeout`); a bare one must (not `Interrupt`).
fn ruby_uncaught_line() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^\s*(?:from\s+)?\S+?:[0-9]+:in [`'][^'`]*': (?P<msg>.*?) \((?P<type>(?:[A-Z][A-Za-z0-9_]*::)+[A-Z][A-Za-z0-9_]*|[A-Z][A-Za-z0-9_]*(?:Error|Exception))\)\s*$",
        )
        .expect("ruby exception regex")
    })
}

/// PHP 5's report of an uncaught exception: `Fatal error: Uncaught
/// exception 'Mollie_API_Exception' with message 'Error executing API call
/// (request): Unauthorized request.' in /srv/…/Base.php:234` (PHP 7 and
/// later write `Uncaught Class: message in …`, which the exception line
/// reads). The message ends at the last `' in ` of the line.
fn php5_uncaught_line() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"Uncaught exception '(?P<type>[A-Za-z_\\][A-Za-z0-9_\\]*)' with message '(?P<msg>.*)' in \S+?(?::[0-9]+| on line [0-9]+)?\s*$",
        )
        .expect("PHP 5 exception regex")
    })
}

/// PHP's `SoapFault` (ext/soap) as its `__toString` prints it, after
/// `Uncaught ` when nothing caught it: `SoapFault exception:
/// [soapenv:Server.userException] Invalid login attempt in /srv/…:12`. The
/// bracket holds the fault code: a SOAP one (`soapenv:Server…`, `Client`,
/// `WSDL`), or `HTTP` for a transport failure, whose message is then the
/// answer's reason phrase (`[HTTP] Unauthorized`). Read apart from the
/// exception line, whose classes end in `Error` or `Exception`.
fn php_soap_fault_line() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"\b(?P<type>SoapFault) exception: \[(?P<code>[^\]\s]+)\] (?P<msg>.+?)(?: in \S+?(?::[0-9]+| on line [0-9]+))?\s*$",
        )
        .expect("SoapFault regex")
    })
}

/// Python's `sys.exc_info()` printed whole (the tutorial's `print("Unexpected
/// error:", sys.exc_info())`): `(<class 'requests.exceptions.SSLError'>,
/// SSLError(…), <traceback object at 0x…>)`. The type is the class's name;
/// the message, the exception's repr.
fn exc_info_tuple() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"\(<class '(?P<type>[A-Za-z_][A-Za-z0-9_.]*)'>, (?P<msg>.+?)(?:, <traceback object at 0x[0-9a-fA-F]+>\))?\s*$",
        )
        .expect("exc_info regex")
    })
}

/// Builds the exception line's regex now (see [`super::warm_up`]): every
/// line with an `Error` or `Exception` is tried with it.
pub(super) fn warm_up() {
    exception_line();
}

/// Statuses and URLs that client messages reveal: each pattern with the
/// facts its groups give.
const MESSAGE_FACTS: [(&str, &[&str]); 21] = [
    // python-gitlab's GitlabError: "403: insufficient_scope", the status
    // before the server's message.
    (r"^(?P<status>[45][0-9]{2}): \S", &["status"]),
    // aiohttp ClientResponseError: "401, message='Unauthorized', url='https://…'"
    (
        r"^(?P<status>[0-9]{3}), message='(?P<reason>[^']*)'",
        &["status", "reason"],
    ),
    // requests: "403 Client Error: Forbidden for url: https://…", also as
    // the exception's repr (`HTTPError('403 Client Error: …')`).
    (
        r"(?:^|[\s'\x22])(?P<status>[0-9]{3}) (?:Client|Server) Error: (?P<reason>.*?) for url:(?: (?P<url>[^\s'\x22]+)|[ \t]*$)",
        &["status", "reason", "url"],
    ),
    // aws-sdk-go-v2 (smithy-go): "operation error STS: AssumeRoleWithWebIdentity,
    // https response error StatusCode: 400, RequestID: …, InvalidIdentityToken:
    // …" — a modelled error prints "Code: message", others "api error Code: …".
    (
        r"https response error StatusCode: (?P<status>[0-9]{3}), RequestID: [^,\s]*, (?:HostID: [^,\s]*, )?(?:api error )?(?P<error_code>[A-Za-z][A-Za-z0-9.]*): ",
        &["status", "error_code"],
    ),
    // google-api-core's HTTP errors: "403 GET https://…: Access Denied: …"
    // (`{code} {message}`, the message opening with the request).
    (
        r"^(?P<status>[45][0-9]{2}) (?P<method>GET|POST|PUT|PATCH|DELETE|HEAD) https?://",
        &["status", "method"],
    ),
    // Genesys SDK ApiException: "(403)"
    (r"^\((?P<status>[0-9]{3})\)", &["status"]),
    // urllib: "HTTP Error 403: Forbidden"
    (
        r"^HTTP Error (?P<status>[0-9]{3}): (?P<reason>.*)",
        &["status", "reason"],
    ),
    // The OpenAI and Anthropic Python SDKs' APIStatusError: "Error code:
    // 413 - {'error': …}" (read with the body cut off, or still on).
    (
        r"^Error code: (?P<status>[45][0-9]{2}) -(?: [{\[]| ?$)",
        &["status"],
    ),
    // A status right before the body it came with (the body itself may be
    // cut off the text read): `API error: 402 {` (a Node script's log),
    // OpenAPI Generator's PHP clients' ApiException message `[429] {…}`.
    (
        r"(?:^\[|\b[Ee]rror:?[ \t]+)(?P<status>[45][0-9]{2})\]?:?[ \t]*(?:\{|$)",
        &["status"],
    ),
    // axios: "Request failed with status code 401"
    (
        r"Request failed with status code (?P<status>[0-9]{3})",
        &["status"],
    ),
    // .NET: "Response status code does not indicate success: 401 (Unauthorized)."
    (
        r"does not indicate success: (?P<status>[0-9]{3}) \((?P<reason>[^)]*)\)",
        &["status", "reason"],
    ),
    // Java HttpURLConnection: "Server returned HTTP response code: 401 for URL: …"
    (
        r"HTTP response code: (?P<status>[0-9]{3}) for URL: (?P<url>\S+)",
        &["status", "url"],
    ),
    // urllib3: "HTTPSConnectionPool(host='x', port=443): Max retries exceeded with url: /p"
    (
        r"(?P<scheme>HTTPS?)ConnectionPool\(host='(?P<host>[^']+)', port=(?P<port>[0-9]+)\): .*?with url: (?P<path>\S+)",
        &[],
    ),
    // Any other absolute URL in the message.
    (r#"(?P<url>https?://[^\s'"<>)`]+)"#, &["url"]),
    // Hosts and ports of transport errors.
    (
        r"Could not resolve (?:host|proxy): (?P<host>[^\s:/]+)",
        &["host"],
    ),
    (
        r"Failed to connect to (?P<host>\S+) port (?P<port>[0-9]+)",
        &["host", "port"],
    ),
    (
        r"Connection(?:Pool)?\(host='(?P<host>[^']+)', port=(?P<port>[0-9]+)\)",
        &["host", "port"],
    ),
    (
        r"getaddrinfo (?:ENOTFOUND|EAI_AGAIN) (?P<host>[^\s,'\x22]+)",
        &["host"],
    ),
    // Error codes: errno, Node/OpenSSL codes.
    (r"\[Errno (?P<code>-?[0-9]+)\]", &["code"]),
    (
        r"\b(?P<code>E(?:CONNREFUSED|CONNRESET|NOTFOUND|AI_AGAIN|TIMEDOUT|HOSTUNREACH|NETUNREACH|PROTO|PIPE)|ERR_[A-Z_]+|UND_ERR_[A-Z_]+|UNABLE_TO_[A-Z_]+|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_HAS_EXPIRED|CERTIFICATE_VERIFY_FAILED|WRONG_VERSION_NUMBER)\b",
        &["code"],
    ),
    (r"ConnectionResetError\((?P<code>[0-9]+),", &["code"]),
];

/// One of [`MESSAGE_FACTS`], compiled when a message first may match it:
/// the messages of a log need a few of the sixteen, and compiling them
/// all was most of the cost of the first failing line of a 1 MiB log.
struct MessageFact {
    pattern: &'static str,
    names: &'static [&'static str],
    /// The literals every match contains (see `rules::literals`), found
    /// only while the regex is not compiled.
    factors: OnceLock<Option<Factors>>,
    re: OnceLock<Regex>,
}

impl MessageFact {
    /// The regex, unless it is not compiled yet and `text` lacks a literal
    /// every match of it contains (then it cannot match). Once compiled,
    /// the regex is the test: one pass of its lazy DFA.
    fn for_text(&self, text: &str) -> Option<&Regex> {
        if let Some(re) = self.re.get() {
            return Some(re);
        }
        let factors = self
            .factors
            .get_or_init(|| literals::pattern_factors(self.pattern, 2));
        if factors
            .as_ref()
            .is_some_and(|f| !literals::may_match(text, f))
        {
            return None;
        }
        Some(
            self.re
                .get_or_init(|| Regex::new(self.pattern).expect("message regex")),
        )
    }
}

fn message_facts() -> &'static [MessageFact] {
    static RES: OnceLock<Vec<MessageFact>> = OnceLock::new();
    RES.get_or_init(|| {
        MESSAGE_FACTS
            .into_iter()
            .map(|(pattern, names)| MessageFact {
                pattern,
                names,
                factors: OnceLock::new(),
                re: OnceLock::new(),
            })
            .collect()
    })
}

/// The patterns of [`MESSAGE_FACTS`] that give a status or an error code:
/// [`facts_from_message`] finds a signal in a message only if one matches.
pub fn signal_patterns() -> impl Iterator<Item = &'static str> {
    MESSAGE_FACTS
        .into_iter()
        .filter(|(_, names)| names.iter().any(|n| matches!(*n, "status" | "code")))
        .map(|(pattern, _)| pattern)
}

/// requests' `HTTPError` message (`401 Client Error: Unauthorized for url:
/// https://…`, also `Server Error`) as apps log it: after their own prefix,
/// without the exception type in front.
fn requests_status() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?:^|[\s:>\[('\x22])(?P<msg>(?P<status>[45][0-9][0-9]) (?:Client|Server) Error: (?P<reason>.*?) for url:(?: (?P<url>[^\s'\x22]+)|[ \t]*$))",
        )
        .expect("requests status regex")
    })
}

/// googleapiclient's `HttpError` repr, usually inside a log line: `<HttpError
/// 429 when requesting https://… returned "message". Details: "[…]">`
/// (older releases: `… returned "message">`).
fn http_error_repr() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"<(?P<type>(?:[A-Za-z_][A-Za-z0-9_\x{80}-\x{10FFFF}]*\.)*[A-Z][A-Za-z0-9_\x{80}-\x{10FFFF}]*Error) (?P<status>[1-5][0-9][0-9]) when requesting (?P<url>\S+) returned "(?P<msg>.*?)"(?:\. Details: "(?P<details>.*?)")?>"#,
        )
        .expect("http error repr regex")
    })
}

/// `'reason': 'rateLimitExceeded'` in the details a client printed as a
/// Python or JSON literal: each one is an error code.
fn detail_reason() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"['"]reason['"]\s*:\s*['"](?P<code>[A-Za-z][A-Za-z0-9_.]*)['"]"#)
            .expect("reason regex")
    })
}

/// A client's status line or error repr standing alone in a line (see
/// [`requests_status`], [`http_error_repr`]).
fn client_status_line(lines: &Lines, line: &str) -> Option<Vec<Field>> {
    // Each regex is tried (and compiled, on first need) only on a line
    // with a literal every match of it holds: most logs have neither.
    if line.contains(" when requesting ")
        && let Some(c) = http_error_repr().captures(line)
    {
        let msg = c.name("msg")?.as_str();
        let url = c.name("url")?.as_str();
        let status = c.name("status")?.as_str();
        let mut fields = vec![
            lines.str_field("exception.type", c.name("type")?.as_str()),
            lines.str_field("exception.message", msg),
            lines.field("status", Value::Num(status.parse().unwrap_or(0.0)), status),
            lines.str_field("url", url),
        ];
        if let Some(details) = c.name("details") {
            for r in detail_reason().captures_iter(details.as_str()) {
                if let Some(code) = r.name("code")
                    && !fields
                        .iter()
                        .any(|f| f.name == "exception.code" && f.value.to_string() == code.as_str())
                {
                    fields.push(lines.str_field("exception.code", code.as_str()));
                }
            }
        }
        for f in facts_from_message(lines, msg) {
            if !fields.iter().any(|g| g.name == f.name) {
                fields.push(f);
            }
        }
        return Some(fields);
    }
    // The URL is empty when the request had none to print (a blank base
    // URL read from an unset setting).
    if !line.contains(" for url:") {
        return None;
    }
    let c = requests_status().captures(line)?;
    // Behind an exception type (`requests.exceptions.HTTPError: 401 …`) the
    // exception path reads it, type included.
    if let Some(t) = exception_line().captures(line).and_then(|t| t.name("type"))
        && t.end() <= c.name("status")?.start()
    {
        return None;
    }
    let status = c.name("status")?.as_str();
    let mut fields = vec![
        lines.str_field("exception.message", c.name("msg")?.as_str().trim_end()),
        lines.field("status", Value::Num(status.parse().unwrap_or(0.0)), status),
        lines.str_field("reason", c.name("reason")?.as_str()),
    ];
    if let Some(url) = c.name("url") {
        let url = url.as_str().trim_end_matches(['.', ',', ';', ':']);
        fields.push(lines.str_field("url", url));
    }
    Some(fields)
}

fn curl_error() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?P<type>curl: \((?P<code>[0-9]+)\)) (?P<msg>.*)$").expect("curl regex")
    })
}

/// What an exception or client error line contains.
pub const TRIGGERS: &[&str] = &[
    "Error",
    "Exception",
    "Fault",
    "curl: (",
    // Ruby API gems' classes named after a status (see `STATUS_CLASSES`).
    "::Unauthorized",
    "::Forbidden",
    "::NotFound",
    "::BadRequest",
    "::Conflict",
    "::Gone",
    "::MethodNotAllowed",
    "::PaymentRequired",
    "::UnprocessableEntity",
    "::TooManyRequests",
    "::ServiceUnavailable",
    "::BadGateway",
    "::GatewayTimeout",
];

/// The triggers of Ruby API gems' exception classes named after a status
/// (`Contentful::Unauthorized`, `Bigcommerce::Forbidden`): a class per
/// status, whose message often states no number ([`status_of_type_name`]
/// reads the status from the name). `::InternalServerError` holds `Error`
/// and is found as any `…Error` is.
const STATUS_CLASSES: &[&str] = TRIGGERS.split_at(4).1;

pub struct Exceptions;

impl LineParser for Exceptions {
    fn triggers(&self) -> &'static [&'static str] {
        TRIGGERS
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let (fields, consumed) = exception_at(lines, i)?;
        let line = lines.line(i);
        let mut span = lines.span_of(line.trim_end());
        // A message wrapped over lines (see `wrapped_message`) is all the
        // exception's text.
        if let Some(msg) = fields
            .iter()
            .find(|f| f.name == "exception.message" && f.span.end > span.end)
        {
            span = span.cover(msg.span);
        }
        ctx.emit(EventKind::Exception, span, fields);
        Some(consumed)
    }
}

/// The exception or client error on line `i`, with what its message reveals
/// and, for the Genesys SDK, the detail lines after it. Returns the fields
/// and how many lines they took.
pub fn exception_at(lines: &Lines, i: usize) -> Option<(Vec<Field>, usize)> {
    let line = lines.line(i);
    // A retry storm logs the same line thousands of times: an exact repeat
    // of the last line read alone gives the same fields, moved to its place.
    let start = lines.bounds[i].0;
    if let Some(memo) = lines.exception_memo.borrow().as_ref()
        && lines.text[memo.start..memo.end] == *line
    {
        return memo.found.as_ref().map(|fields| {
            let shift = |at: usize| lines.base + at - memo.start + start;
            let moved = fields
                .iter()
                .map(|f| Field {
                    span: crate::input::Span::new(shift(f.span.start), shift(f.span.end)),
                    ..f.clone()
                })
                .collect();
            (moved, 1)
        });
    }
    let mut alone = true;
    let found = exception_in_line(lines, i, line, &mut alone);
    // Only a result read from this line alone, with every span in it, is
    // kept (the SDK's detail lines after it make it another result).
    let (from, to) = (lines.base + start, lines.base + lines.bounds[i].1);
    let inside = |fields: &Vec<Field>| {
        fields
            .iter()
            .all(|f| f.span.start >= from && f.span.end <= to)
    };
    if alone && found.as_ref().is_none_or(|(f, n)| *n == 1 && inside(f)) {
        *lines.exception_memo.borrow_mut() = Some(Memo {
            start,
            end: lines.bounds[i].1,
            found: found.as_ref().map(|(f, _)| {
                f.iter()
                    .map(|f| Field {
                        span: crate::input::Span::new(
                            f.span.start - lines.base,
                            f.span.end - lines.base,
                        ),
                        ..f.clone()
                    })
                    .collect()
            }),
        });
    }
    found
}

/// Whether `line` holds a literal that each form [`exception_in_line`]
/// reads has (matched case-sensitively), in one pass: the parser is tried
/// on every line whose triggers it holds in any case (`error_count=0`), and
/// asking for each literal in turn set up a searcher per literal per line.
fn has_exception_literal(line: &str) -> bool {
    static LITERALS: OnceLock<TriggerDfa> = OnceLock::new();
    LITERALS
        .get_or_init(|| {
            let literals: Vec<&str> = exception_literals().collect();
            TriggerDfa::case_sensitive(&literals).expect("exception literals")
        })
        .is_match(line.as_bytes())
}

/// What [`has_exception_literal`] looks for: the triggers (`Exception`
/// also finds `Exception when calling `, the SDK's form) and the words
/// of the forms that name no exception (a requests error's ` for url: `).
fn exception_literals() -> impl Iterator<Item = &'static str> {
    TRIGGERS
        .iter()
        .copied()
        .chain(["exceptions.", " when requesting ", " for url: "])
}

/// The exception parser's result for one line, for its exact repeats:
/// spans relative to the chunk's text.
pub struct Memo {
    start: usize,
    end: usize,
    found: Option<Vec<Field>>,
}

fn exception_in_line(
    lines: &Lines,
    i: usize,
    line: &str,
    alone: &mut bool,
) -> Option<(Vec<Field>, usize)> {
    if !has_exception_literal(line) {
        return None;
    }
    // curl's own errors, possibly after a progress meter on the same line.
    if line.contains("curl: (")
        && let Some(c) = curl_error().captures(line)
    {
        let ty = c.name("type")?.as_str();
        let msg = c.name("msg")?.as_str().trim_end();
        let mut fields = vec![
            lines.str_field("exception.type", ty),
            lines.str_field("exception.message", msg),
            lines.str_field("exception.code", c.name("code")?.as_str()),
        ];
        fields.extend(facts_from_message(lines, msg));
        return Some((fields, 1));
    }
    if let Some(rest) = line.trim_start().strip_prefix("Exception when calling ") {
        // Genesys SDK docs style: "Exception when calling AnalyticsApi->post_x: (403)"
        let (call, msg) = rest.split_once(": ")?;
        let mut fields = vec![
            lines.str_field("exception.call", call),
            lines.str_field("exception.message", msg.trim_end()),
        ];
        fields.extend(facts_from_message(lines, msg));
        *alone = false;
        let extra = sdk_details(lines, i + 1, &mut fields);
        return Some((fields, 1 + extra));
    }
    if let Some(fields) = client_status_line(lines, line) {
        return Some((fields, 1));
    }
    if !(line.contains("Error")
        || line.contains("Exception")
        || line.contains("Fault")
        || line.contains("exceptions.")
        || STATUS_CLASSES.iter().any(|c| line.contains(c)))
    {
        return None;
    }
    if let Some(rest) = line.trim_start().strip_prefix("** (")
        && let Some((ty, msg)) = rest.split_once(") ")
        && is_elixir_module(ty)
    {
        // Elixir's report of an exception: `** (MatchError) no match of
        // right hand side value: …`.
        return Some((typed_exception(lines, ty, msg.trim_end()), 1));
    }
    if line.contains(":in ")
        && line.trim_end().ends_with(')')
        && let Some(c) = ruby_uncaught_line().captures(line)
    {
        let (ty, msg) = (c.name("type")?.as_str(), c.name("msg")?.as_str());
        return Some((typed_exception(lines, ty, msg), 1));
    }
    if line.contains("(<class '")
        && let Some(c) = exc_info_tuple().captures(line)
    {
        let (ty, msg) = (c.name("type")?.as_str(), c.name("msg")?.as_str());
        return Some((typed_exception(lines, ty, msg), 1));
    }
    if line.contains("Uncaught exception '")
        && let Some(c) = php5_uncaught_line().captures(line)
    {
        let (ty, msg) = (c.name("type")?.as_str(), c.name("msg")?.as_str());
        return Some((typed_exception(lines, ty, msg), 1));
    }
    if line.contains("SoapFault exception: [")
        && let Some(c) = php_soap_fault_line().captures(line)
    {
        // Fields are slices of the line (their spans are found from them).
        let (ty, code, msg) = (c.name("type")?, c.name("code")?, c.name("msg")?);
        let mut fields = typed_exception(lines, ty.as_str(), msg.as_str());
        if code.as_str() == "HTTP" {
            if !fields.iter().any(|f| f.name == "status")
                && let Some(status) =
                    crate::parse::status_of_reason(msg.as_str().trim_end_matches('.'))
            {
                fields.push(lines.field("status", Value::Num(f64::from(status)), msg.as_str()));
            }
        } else {
            fields.push(lines.str_field("exception.code", code.as_str()));
        }
        return Some((fields, 1));
    }
    if line.contains("Controller#")
        && let Some((ty, _)) = line.trim().split_once(' ')
        && ty.contains("::")
        && (ty.ends_with("Error") || ty.ends_with("Exception"))
        && is_rails_action(&line.trim()[ty.len()..])
    {
        // Rails' error page: `Eventbrite::AuthenticationError in
        // WelcomeController#index`, the message on the next line.
        let (msg_text, taken) = message_below(lines, i)?;
        return Some((typed_exception(lines, ty, msg_text), 1 + taken));
    }
    let caps = exception_line().captures(line)?;
    let ty = caps.name("type")?;
    let ty_text = ty.as_str();
    // A bare word ("Error") is only an exception when a message follows,
    // and not when that message is a tool's deprecation notice (see
    // `signal::is_maintenance_notice`) stating no failure.
    let msg = caps.name("msg");
    if msg.is_none() && ty_text.contains('\\') && line.trim() == ty_text {
        // Laravel's console (Collision) puts a PHP exception's class alone
        // on its line and the message on the next one that is not blank.
        let (msg_text, taken) = message_below(lines, i)?;
        return Some((typed_exception(lines, ty_text, msg_text), 1 + taken));
    }
    if msg.is_none() && !ty_text.contains('.') {
        return None;
    }
    // A bare `Error` after a word, inside a one-line JSON object, is a
    // phrase of one of its values (`{"status":500,"message":"Internal
    // Error: …"}`): the body is read as JSON, its error code and message
    // with it. One that starts a message is still read (a JSON log record's
    // `"message":"… Details: Error: connect ETIMEDOUT …"`).
    if ty_text == "Error"
        && line[..ty.start()]
            .strip_suffix(' ')
            .is_some_and(|before| before.ends_with(|c: char| c.is_ascii_alphabetic()))
        && is_json_object_line(line)
    {
        return None;
    }
    if ty_text == "Error"
        && let Some(m) = msg
        && super::signal::is_maintenance_notice(m.as_str())
        && !super::signal::is_signal(&facts_from_message(lines, m.as_str()))
    {
        return None;
    }
    // A qualified type that ends its line with `:` has its message on the
    // line below (.NET's `System.ServiceModel.FaultException<…>:` over the
    // fault's message).
    if msg.is_some_and(|m| m.as_str().trim().is_empty())
        && ty_text.contains('.')
        && let Some((msg_text, taken)) = message_below(lines, i)
    {
        return Some((typed_exception(lines, ty_text, msg_text), 1 + taken));
    }
    let mut fields = vec![lines.str_field("exception.type", ty_text)];
    let mut extra = 0;
    if let Some(msg) = msg {
        let (msg_text, wrapped) = wrapped_message(lines, i, msg.as_str().trim_end());
        let (msg_text, wrapped) = match wrapped {
            0 => multierror_message(lines, i, msg_text),
            _ => (msg_text, wrapped),
        };
        let (msg_text, wrapped) = match wrapped {
            0 => json_below_message(lines, i, msg_text),
            _ => (msg_text, wrapped),
        };
        fields.push(lines.str_field("exception.message", msg_text));
        fields.extend(message_fields(lines, msg_text));
        extra = wrapped;
        if msg_text.starts_with('(') {
            *alone = false;
            extra += sdk_details(lines, i + 1 + wrapped, &mut fields);
        }
    }
    // A status stated before the type on the same line (Singer taps'
    // `CRITICAL HTTP-error-code: 403, Error: <the API's message>`) is the
    // call's, as much as one in the message.
    if !fields.iter().any(|f| f.name == "status") && ty.start() > 0 {
        let before = &line[..ty.start()];
        fields.extend(
            super::signal::scan(lines, before)
                .into_iter()
                .filter(|f| f.name == "status" || f.name == "reason"),
        );
    }
    if !fields.iter().any(|f| f.name == "status")
        && let Some(status) = status_of_type_name(ty_text)
    {
        fields.push(lines.field("status", Value::Num(f64::from(status)), ty_text));
    }
    Some((fields, 1 + extra))
}

/// The status an HTTP library's exception class is named after
/// (`hvac.exceptions.Forbidden`, `google.api_core.exceptions.NotFound`,
/// `javax.ws.rs.ForbiddenException`, Spring's and Feign's nested
/// `HttpClientErrorException$Unauthorized`): the last part of a qualified
/// name is a reason phrase without its spaces, alone or before `Error` or
/// `Exception` (`InternalServerError` is one whole). Only qualified names:
/// a bare `NotFoundError` is as often a browser's DOM error.
fn status_of_type_name(ty: &str) -> Option<u16> {
    let (_, last) = ty.rsplit_once(['.', ':', '\\', '$'])?;
    let name = last
        .strip_suffix("Exception")
        .or_else(|| last.strip_suffix("Error"))
        .unwrap_or(last);
    if !name.starts_with(|c: char| c.is_ascii_uppercase()) {
        return None;
    }
    let phrase_of = |name: &str| {
        let words: Vec<&str> = split_camel(name).collect();
        (400..=505).find(|&s| {
            crate::parse::reason_phrases(s).any(|r| r.split(' ').eq(words.iter().copied()))
        })
    };
    phrase_of(name).or_else(|| (name != last).then(|| phrase_of(last)).flatten())
}

/// `TooManyRequests` → `Too`, `Many`, `Requests`.
fn split_camel(name: &str) -> impl Iterator<Item = &str> {
    let mut starts: Vec<usize> = name
        .char_indices()
        .filter(|&(_, c)| c.is_ascii_uppercase())
        .map(|(i, _)| i)
        .collect();
    if starts.first() != Some(&0) {
        starts.insert(0, 0);
    }
    let ends: Vec<usize> = starts.iter().skip(1).copied().chain([name.len()]).collect();
    starts.into_iter().zip(ends).map(move |(a, b)| &name[a..b])
}

/// An exception's type and message, and what the message reveals: the
/// fields of a one-line report whose shape put them in other places.
fn typed_exception(lines: &Lines, ty: &str, msg: &str) -> Vec<Field> {
    let mut fields = vec![
        lines.str_field("exception.type", ty),
        lines.str_field("exception.message", msg),
    ];
    fields.extend(message_fields(lines, msg));
    fields
}

/// Lines a quoted argument may wrap over in a paste.
const MAX_WRAPPED_LINES: usize = 3;

/// A message whose quoted argument a line break cut (a wrapped paste:
/// `[SSLCertVerificationError: (1, '[SSL: CERTIFICATE_VERIFY_FAILED]
/// certificate verify failed:` on one line, `unable to get local issuer
/// certificate (_ssl.c:1010)')]` on the next) runs on to the line that
/// closes the quote. Returns the message (a slice of the text, so spans
/// stay the user's) and how many lines it took after line `i`.
fn wrapped_message<'a>(lines: &Lines<'a>, i: usize, msg: &'a str) -> (&'a str, usize) {
    // A Python repr quotes its arguments: an odd count of `'` left open.
    if !msg.starts_with('(') || msg.matches('\'').count().is_multiple_of(2) {
        return (msg, 0);
    }
    let mut quotes = msg.matches('\'').count();
    for k in 1..=MAX_WRAPPED_LINES {
        let j = i + k;
        if j >= lines.len() {
            break;
        }
        let next = lines.line(j);
        if next.trim().is_empty() {
            break;
        }
        quotes += next.matches('\'').count();
        if quotes.is_multiple_of(2) {
            let start = msg.as_ptr() as usize - lines.text.as_ptr() as usize;
            let end = next.trim_end().as_ptr() as usize - lines.text.as_ptr() as usize
                + next.trim_end().len();
            return (&lines.text[start..end], k);
        }
    }
    (msg, 0)
}

/// ` in WelcomeController#index`: the controller action a Rails error page
/// names after the exception's class.
fn is_rails_action(rest: &str) -> bool {
    rest.strip_prefix(" in ").is_some_and(|action| {
        action.split_once('#').is_some_and(|(controller, method)| {
            controller.ends_with("Controller")
                && !method.is_empty()
                && method
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    })
}

/// The message under a class line (Laravel's console form, Collision, and
/// Rails' error page): the next line that is not blank, at most one blank
/// line below, unless it is already the `at file:line` frame. Returns it
/// and how many lines it took after line `i`.
fn message_below<'a>(lines: &Lines<'a>, i: usize) -> Option<(&'a str, usize)> {
    for k in 1..=2 {
        let j = i + k;
        if j >= lines.len() {
            return None;
        }
        let next = lines.line(j).trim();
        if next.is_empty() {
            continue;
        }
        if next.starts_with("at ") {
            return None;
        }
        return Some((next, k));
    }
    None
}

/// A message that is only the first line of a JSON document (`{` or `[`:
/// Google's PHP client throws `Google\Service\Exception: {` with the
/// API's error body pretty-printed below) runs on to the document's end.
/// Returns the message (a slice of the text) and how many lines it took
/// after line `i`.
fn json_below_message<'a>(lines: &Lines<'a>, i: usize, msg: &'a str) -> (&'a str, usize) {
    if !matches!(msg.trim(), "{" | "[") {
        return (msg, 0);
    }
    let at =
        msg.as_ptr() as usize - lines.text.as_ptr() as usize + (msg.len() - msg.trim_start().len());
    match json_document_at(lines, at) {
        Some((node, last)) => (node.raw, last.saturating_sub(i)),
        None => (msg, 0),
    }
}

/// The JSON object or array that starts at byte `at` of the text and may
/// run over lines, and the index of its last line. Tells the chunk reader
/// how far the parse read (see [`Lines::value_read`]).
fn json_document_at<'a>(lines: &Lines<'a>, at: usize) -> Option<(Node<'a>, usize)> {
    let rest = lines.rest_at(at);
    let parsed = parse_value(rest);
    lines.value_read(rest, parsed.as_ref().map(|n| n.raw));
    let node = parsed.filter(|n| matches!(n.json, Json::Object(_) | Json::Array(_)))?;
    let end = node.raw.as_ptr() as usize - lines.text.as_ptr() as usize + node.raw.len();
    let last = lines.line_at(end.saturating_sub(1));
    Some((node, last))
}

/// Lines a multi-error list may take after its first line.
const MAX_MULTIERROR_LINES: usize = 12;

/// A message in hashicorp/go-multierror's form, which Vault's and other
/// HashiCorp tools' errors take (`1 error occurred:`, then `\t* permission
/// denied` lines and a blank), runs on over its list, and over the `, on
/// get URL` hvac appends after it: the reasons and the URL are the
/// message's. Returns the message (a slice of the text) and how many lines
/// it took after line `i`.
fn multierror_message<'a>(lines: &Lines<'a>, i: usize, msg: &'a str) -> (&'a str, usize) {
    if !(msg.ends_with(" error occurred:") || msg.ends_with(" errors occurred:")) {
        return (msg, 0);
    }
    let mut last = 0;
    for k in 1..=MAX_MULTIERROR_LINES {
        let j = i + k;
        if j >= lines.len() {
            break;
        }
        let next = lines.line(j);
        if next.starts_with("\t* ") || next.starts_with(", on ") {
            last = k;
        } else if !next.trim().is_empty() {
            break;
        }
    }
    if last == 0 {
        return (msg, 0);
    }
    let next = lines.line(i + last).trim_end();
    let start = msg.as_ptr() as usize - lines.text.as_ptr() as usize;
    let end = next.as_ptr() as usize - lines.text.as_ptr() as usize + next.len();
    (&lines.text[start..end], last)
}

/// One exception chain as one set of fields: the exception the client
/// reported last (Python) or first (Java, .NET, Node) is `exception.*`; the
/// others become `exception.cause.type` / `exception.cause.message`, in the
/// order given. What only a cause reveals (URL, host, code) is kept.
pub fn merge_chain(outer: Vec<Field>, causes: Vec<Vec<Field>>) -> Vec<Field> {
    let mut fields = outer;
    for cause in causes {
        for f in cause {
            let name = match &*f.name {
                "exception.type" => "exception.cause.type".into(),
                "exception.message" => "exception.cause.message".into(),
                "exception.code" => f.name.clone(),
                other if fields.iter().any(|g| g.name == other) => continue,
                _ => f.name.clone(),
            };
            fields.push(Field { name, ..f });
        }
    }
    fields
}

/// What a message reveals: its facts (status, reason, URL, codes, an OAuth
/// pair) and a body printed in it — JSON (google-auth's `RefreshError('…',
/// {'error': …})`, Spring's `401 Unauthorized: "{…}"`), or the HTML page
/// or XML a server sent. `msg` is a slice of `lines.text`; it may span
/// lines.
pub fn message_fields(lines: &Lines, msg: &str) -> Vec<Field> {
    let body = body_in_message(lines, msg);
    let before = &msg[..body.as_ref().map_or(msg.len(), |(at, _)| *at)];
    let mut fields = facts_from_message(lines, before);
    if let Some((_, found)) = body {
        fields.extend(found);
    }
    fields
}

/// Where a body starts in a message, and its fields.
fn body_in_message(lines: &Lines, msg: &str) -> Option<(usize, Vec<Field>)> {
    if msg.contains("<EOL>") && msg.contains('{') {
        // Spring's LogFormatUtils writes the body's line breaks as `<EOL>`.
        let base = lines.span_of(msg).start;
        let mut mapped = super::mapped::Mapped::default();
        let mut last = 0;
        for (at, _) in msg.match_indices("<EOL>") {
            mapped.push_verbatim(&msg[last..at], base + last);
            mapped.push_mapped("\n", base + at, "<EOL>".len());
            last = at + "<EOL>".len();
        }
        mapped.push_verbatim(&msg[last..], base + last);
        if let Some(at) = find_in_text(&mapped.text)
            && let Some(fields) = mapped_body_fields(&mapped, at, lines.span_of(msg))
        {
            let start = fields
                .first()
                .map_or(0, |f| f.span.start.saturating_sub(base));
            return Some((msg.floor_char_boundary(start), fields));
        }
    }
    if let Some(at) = find_in_text(msg)
        && let Some((node, truncated)) = parse_body(&msg[at..])
    {
        let mut fields = Vec::new();
        flatten(lines, "body", &node, &mut fields);
        fields.extend(format_fields("json", truncated, lines.span_of(node.raw)));
        return Some((at, fields));
    }
    super::markup::body_in_text(lines, msg)
}

/// Extracts status, reason and URL from an exception message.
pub fn facts_from_message(lines: &Lines, msg: &str) -> Vec<Field> {
    let mut fields: Vec<Field> = Vec::new();
    let has = |fields: &Vec<Field>, n: &str| fields.iter().any(|f| f.name == n);
    for fact in message_facts() {
        // Most messages match none of these: a match test first spares
        // setting up captures for each.
        let Some(re) = fact.for_text(msg).filter(|re| re.is_match(msg)) else {
            continue;
        };
        let names = fact.names;
        let Some(c) = re.captures(msg) else { continue };
        for &capture in names.iter() {
            let name = match capture {
                "host" => "url.host",
                "port" => "url.port",
                "code" => "exception.code",
                "error_code" => "error.code",
                other => other,
            };
            if has(&fields, name) {
                continue;
            }
            if let Some(m) = c.name(capture) {
                // A URL at the end of a sentence: the punctuation is not part
                // of it, nor the backslash of an escaped closing quote.
                let text = match name {
                    "url" => m.as_str().trim_end_matches(['.', ',', ';', ':', '\\']),
                    _ => m.as_str(),
                };
                // A URL with a fragment is a page to read (a docs anchor,
                // `…/stripe-node#webhook-signing`), not what was requested:
                // clients never send the fragment.
                if name == "url" && text.contains('#') {
                    continue;
                }
                let value = if name == "status" || name == "url.port" {
                    Value::Num(text.parse().unwrap_or(0.0))
                } else {
                    Value::Str(text.into())
                };
                fields.push(lines.field(name, value, text));
            }
        }
        if let (Some(scheme), Some(host), Some(port), Some(path)) = (
            c.name("scheme"),
            c.name("host"),
            c.name("port"),
            c.name("path"),
        ) && !has(&fields, "url")
        {
            let scheme = scheme.as_str().to_ascii_lowercase();
            let default = if scheme == "https" { "443" } else { "80" };
            let port = if port.as_str() == default {
                String::new()
            } else {
                format!(":{}", port.as_str())
            };
            let url = format!("{scheme}://{}{port}{}", host.as_str(), path.as_str());
            let span = lines
                .span_of(host.as_str())
                .cover(lines.span_of(path.as_str()));
            fields.push(Field {
                name: "url".into(),
                value: Value::Str(url.into()),
                span,
            });
        }
    }
    // What a free-text line would reveal too (statuses in prose, OAuth
    // pairs, error codes), where the client formats above said nothing.
    for f in super::signal::scan(lines, msg) {
        let repeated = match &*f.name {
            "exception.code" | "body.error" => fields.iter().any(|g| g.value == f.value),
            name => has(&fields, name),
        };
        if !repeated {
            fields.push(f);
        }
    }
    if !has(&fields, "body.error")
        && let Some((code, description)) = leading_oauth_error(msg)
    {
        fields.push(lines.str_field("body.error", code));
        if let Some(d) = description.filter(|_| !has(&fields, "body.error_description")) {
            fields.push(lines.str_field("body.error_description", d));
        }
    }
    if !has(&fields, "header.www-authenticate")
        && let Some(challenge) = quoted_challenge(msg)
    {
        fields.push(lines.str_field("header.www-authenticate", challenge));
    }
    fields
}

/// A `WWW-Authenticate` challenge quoted outside an HTTP transcript: an API
/// tool's response pane copied (Postman's `WWW-Authenticate →Bearer …`), a
/// header dump in a log line (`WWW-Authenticate: Bearer error=…`). The
/// challenge is the same header whatever printed it.
fn quoted_challenge(msg: &str) -> Option<&str> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let at = msg
        .find("WWW-Authenticate")
        .or_else(|| msg.find("www-authenticate"))?;
    RE.get_or_init(|| {
        Regex::new(
            r#"^(?i:www-authenticate)['"]?[ \t]*(?:[:=→]|=>|->)?[ \t]*['"]?(?P<challenge>(?i:Bearer|Basic|Digest|Negotiate|DPoP)(?:[ \t]+[^\r\n]*)?)$"#,
        )
        .expect("quoted challenge regex")
    })
    .captures(&msg[at..])
    .and_then(|c| c.name("challenge"))
    .map(|m| m.as_str().trim_end().trim_end_matches(','))
}

/// A registered OAuth error code that a client's message opens with, as
/// clients put the token endpoint's `error` in their exceptions: oauthlib's
/// `(invalid_grant) Bad Request`, Restforce's `invalid_grant: authentication
/// failure`, league/oauth2-client's bare `invalid_grant` (PHP then adds
/// ` in /path/file.php on line 222`). Only the codes themselves: a message
/// opening with another word is prose. The text after `code: ` or
/// `(code) ` is the server's `error_description` in those clients.
pub(super) fn leading_oauth_error(msg: &str) -> Option<(&str, Option<&str>)> {
    let rest = msg.trim_start();
    // After a status, as python-gitlab writes it (`403: insufficient_scope`).
    let rest = match rest.as_bytes() {
        [b'4'..=b'5', b'0'..=b'9', b'0'..=b'9', b':', b' ', ..] => &rest[5..],
        _ => rest,
    };
    let bracket = rest.starts_with(['(', '[']);
    let rest = if bracket { &rest[1..] } else { rest };
    let end = rest
        .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
        .unwrap_or(rest.len());
    let (code, after) = rest.split_at(end);
    if !super::signal::OAUTH_ERRORS.contains(&code) {
        return None;
    }
    let description = if bracket {
        after.strip_prefix([')', ']'])
    } else {
        after.strip_prefix(':')
    };
    let ends_well = description.is_some() || after.is_empty() || after.starts_with([',', ';', ' ']);
    let description = description.map(str::trim).filter(|d| !d.is_empty());
    ends_well.then_some((code, description))
}

/// The lines the Genesys Python SDK prints after `ApiException: (403)`:
/// `Reason:`, `HTTP response headers: HTTPHeaderDict({…})`, `HTTP response body: …`.
/// Returns how many lines were consumed.
fn sdk_details(lines: &Lines, mut i: usize, fields: &mut Vec<Field>) -> usize {
    let start = i;
    while i < lines.len() {
        let line = lines.line(i);
        if let Some(reason) = line.strip_prefix("Reason: ") {
            fields.push(lines.str_field("reason", reason.trim_end()));
        } else if let Some(rest) = line.strip_prefix("HTTP response headers: ") {
            let dict = rest.find('{').map(|p| &rest[p..]);
            if let Some(node) = dict.and_then(parse_value)
                && let Json::Object(entries) = &node.json
            {
                for (k, v) in entries {
                    if let Json::Str(name) = &k.json {
                        fields.push(Field {
                            name: format!("header.{}", name.to_ascii_lowercase()).into(),
                            value: v.scalar_value(),
                            span: lines.span_of(v.value_text()),
                        });
                    }
                }
            }
        } else if let Some(rest) = line.strip_prefix("HTTP response body: ") {
            // Python 3 SDKs may print the body as bytes: `b'{"error":…}'`.
            let rest = match rest.strip_prefix("b'").or_else(|| rest.strip_prefix("b\"")) {
                Some(inner) if inner.starts_with(['{', '[']) => inner,
                _ => rest,
            };
            let offset = rest.as_ptr() as usize - lines.text.as_ptr() as usize;
            match json_document_at(lines, offset) {
                Some((node, last)) => {
                    flatten(lines, "body", &node, fields);
                    i = last;
                }
                None => fields.push(lines.str_field("body", rest.trim_end())),
            }
        } else {
            break;
        }
        i += 1;
    }
    i - start
}

#[cfg(test)]
mod tests {
    use super::super::tests::chunk;
    use super::super::{EventKind, parse_chunk};
    use super::{MESSAGE_FACTS, literals, status_of_type_name};

    /// `Exception` itself is a type when qualified (`System.Exception`,
    /// `java.lang.Exception`): the outer exception of a .NET chain on one
    /// line keeps its message (here the API's JSON body) rather than
    /// giving way to the inner one. Unqualified it stays a word
    /// (`Unhandled Exception: System.Net.WebException: …`).
    /// .NET's generic exception types, in either spelling, with the
    /// message on the type's line or, after a closing `:`, below it.
    #[test]
    fn a_generic_dotnet_exception_and_its_message_below() {
        let field = exception_fact;
        for text in [
            "System.ServiceModel.FaultException<Microsoft.Xrm.Sdk.OrganizationServiceFault>: Principal user is missing prvReadAccount privilege\n",
            "System.ServiceModel.FaultException`1[Microsoft.Xrm.Sdk.OrganizationServiceFault]: Principal user is missing prvReadAccount privilege\n",
            "System.ServiceModel.FaultException<Microsoft.Xrm.Sdk.OrganizationServiceFault>:\nPrincipal user is missing prvReadAccount privilege\n   at System.ServiceModel.Channels.ServiceChannel.HandleReply()\n",
        ] {
            assert_eq!(
                field(text, "exception.type").as_deref(),
                Some("System.ServiceModel.FaultException"),
                "{text}"
            );
            assert_eq!(
                field(text, "exception.message").as_deref(),
                Some("Principal user is missing prvReadAccount privilege"),
                "{text}"
            );
        }
        // The frame under an emptied message is no message.
        let framed = "System.InvalidOperationException:\n   at Foo.Bar()\n";
        assert_ne!(
            field(framed, "exception.message").as_deref(),
            Some("at Foo.Bar()")
        );
    }

    #[test]
    fn a_qualified_bare_exception_is_a_type() {
        let field = exception_fact;
        let chained = "System.Exception: {\"message\":\"Missing or invalid User Agent string.\"} ---> System.Net.WebException: The remote server returned an error: (403) Forbidden.\n";
        assert_eq!(
            field(chained, "exception.type").as_deref(),
            Some("System.Exception")
        );
        assert_eq!(
            field(chained, "body.message").as_deref(),
            Some("Missing or invalid User Agent string.")
        );
        let java = "java.lang.Exception: HTTP 401 Unauthorized\n";
        assert_eq!(
            field(java, "exception.type").as_deref(),
            Some("java.lang.Exception")
        );
        let unhandled = "Unhandled Exception: System.Net.WebException: The remote server returned an error: (401) Unauthorized.\n";
        assert_eq!(
            field(unhandled, "exception.type").as_deref(),
            Some("System.Net.WebException")
        );
    }

    /// A message that only opens a JSON document (Google's PHP client:
    /// `Google\Service\Exception: {` and the body pretty-printed below)
    /// takes the document: its fields are the body's.
    #[test]
    fn a_message_opening_json_takes_the_document_below() {
        let text = "PHP Fatal error:  Uncaught Google\\Service\\Exception: {\n  \"error\": \"unauthorized_client\",\n  \"error_description\": \"Unauthorized client or scope in request.\"\n}\nnext line\n";
        let get = |name: &str| exception_fact(text, name);
        assert_eq!(
            get("exception.type").as_deref(),
            Some("Google\\Service\\Exception")
        );
        assert_eq!(get("body.error").as_deref(), Some("unauthorized_client"));
        let events = parse_chunk(&chunk(text));
        let ex = events.iter().find(|e| e.kind == EventKind::Exception);
        assert!(ex.is_some_and(|e| !text[e.span.start..e.span.end].contains("next line")));
    }

    /// `sys.exc_info()` printed whole is an exception: the class's name,
    /// and the exception's repr as the message.
    #[test]
    fn a_printed_exc_info_tuple_is_an_exception() {
        let text = "Unexpected error: (<class 'requests.exceptions.SSLError'>, SSLError(SSLError(1, u'[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed (_ssl.c:590)'),), <traceback object at 0x10e957a28>)\n";
        let get = |name: &str| exception_fact(text, name);
        assert_eq!(
            get("exception.type").as_deref(),
            Some("requests.exceptions.SSLError")
        );
        assert_eq!(
            get("exception.message").as_deref(),
            Some(
                "SSLError(SSLError(1, u'[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed (_ssl.c:590)'),)"
            )
        );
    }

    #[test]
    fn an_exception_class_named_after_a_status_states_it() {
        for (ty, want) in [
            ("hvac.exceptions.Forbidden", Some(403)),
            ("google.api_core.exceptions.TooManyRequests", Some(429)),
            ("javax.ws.rs.NotFoundException", Some(404)),
            ("App\\Http\\UnauthorizedError", Some(401)),
            ("docker.errors.NotFound", Some(404)),
            ("werkzeug.exceptions.RequestEntityTooLarge", Some(413)),
            // Java's nested classes, as Spring and Feign name them.
            (
                "org.springframework.web.client.HttpClientErrorException$Unauthorized",
                Some(401),
            ),
            ("feign.FeignException$TooManyRequests", Some(429)),
            (
                "org.springframework.web.client.HttpServerErrorException$InternalServerError",
                Some(500),
            ),
            (
                "org.springframework.web.client.HttpServerErrorException$BadGateway",
                Some(502),
            ),
            // Not a reason phrase, or not qualified.
            ("System.UnauthorizedAccessException", None),
            ("botocore.errorfactory.ResourceNotFoundException", None),
            ("NotFoundError", None),
            ("requests.exceptions.HTTPError", None),
        ] {
            assert_eq!(status_of_type_name(ty), want, "{ty}");
        }
    }

    /// [`super::has_exception_literal`] holds exactly where a line contains
    /// one of its literals: every line of the fixtures and field cases (and
    /// of the logs in `FAULTLINE_TEST_LOGS`, `:`-separated, when set).
    #[test]
    fn exception_literals_found_in_one_pass() {
        let mut texts = crate::test_corpus::fixture_and_field_texts();
        texts.extend(crate::test_corpus::named_test_logs());
        let (mut lines, mut found) = (0, 0);
        for line in texts.iter().flat_map(|t| t.lines()) {
            let has = super::exception_literals().any(|l| line.contains(l));
            assert_eq!(super::has_exception_literal(line), has, "{line}");
            (lines, found) = (lines + 1, found + usize::from(has));
        }
        assert!(lines > 10_000 && found > 300, "{found} of {lines}");
    }

    /// Skipping a message pattern whose literals a text lacks changes no
    /// match: over every line of the fixtures and field cases (and each
    /// line's message after its log prefix), every match of a pattern is
    /// on a text its literals admit.
    #[test]
    fn message_fact_literals_admit_every_match() {
        let facts: Vec<_> = MESSAGE_FACTS
            .iter()
            .map(|(p, _)| {
                (
                    regex::Regex::new(p).unwrap(),
                    literals::pattern_factors(p, 2),
                )
            })
            .collect();
        assert!(facts.iter().filter(|(_, f)| f.is_some()).count() >= 12);
        let mut matches = 0;
        for text in crate::test_corpus::fixture_and_field_texts() {
            for line in text.lines() {
                for text in [line, super::super::logprefix::message(line)] {
                    for (re, factors) in &facts {
                        if re.is_match(text) {
                            matches += 1;
                            assert!(
                                factors
                                    .as_ref()
                                    .is_none_or(|f| literals::may_match(text, f)),
                                "{re} matches {text:?}"
                            );
                        }
                    }
                }
            }
        }
        assert!(matches > 500, "{matches} matches");
    }

    #[test]
    fn requests_http_error() {
        let text = "requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://api.mypurecloud.com/oauth/token\n";
        let events = parse_chunk(&chunk(text));
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!(e.kind, EventKind::Exception);
        assert_eq!(e.field("status").unwrap().value.to_string(), "403");
        assert_eq!(
            e.field("url").unwrap().value.to_string(),
            "https://api.mypurecloud.com/oauth/token"
        );
        assert_eq!(
            e.field("exception.type").unwrap().value.to_string(),
            "requests.exceptions.HTTPError"
        );
    }

    #[test]
    fn sdk_api_exception_block() {
        let text = "PureCloudPlatformClientV2.rest.ApiException: (403)\nReason: Forbidden\nHTTP response headers: HTTPHeaderDict({'Content-Type': 'application/json', 'ININ-Correlation-Id': 'abc'})\nHTTP response body: {\"message\":\"m\",\"code\":\"missing.permissions\",\"status\":403}\n";
        let events = parse_chunk(&chunk(text));
        assert_eq!(events.len(), 1, "{events:?}");
        let e = &events[0];
        assert_eq!(e.field("status").unwrap().value.to_string(), "403");
        assert_eq!(
            e.field("header.inin-correlation-id")
                .unwrap()
                .value
                .to_string(),
            "abc"
        );
        assert_eq!(
            e.field("body.code").unwrap().value.to_string(),
            "missing.permissions"
        );
    }

    #[test]
    fn urllib3_max_retries() {
        let text = "urllib3.exceptions.MaxRetryError: HTTPSConnectionPool(host='login.mypurecloud.com', port=443): Max retries exceeded with url: /oauth/token (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED]')))\n";
        let events = parse_chunk(&chunk(text));
        assert_eq!(
            events[0].field("url").unwrap().value.to_string(),
            "https://login.mypurecloud.com/oauth/token"
        );
    }

    fn fact(e: &super::super::Event, name: &str) -> Option<String> {
        e.field(name).map(|f| f.value.to_string())
    }

    /// Field `name` of the first exception read from `text`.
    fn exception_fact(text: &str, name: &str) -> Option<String> {
        parse_chunk(&chunk(text))
            .iter()
            .find(|e| e.kind == EventKind::Exception)
            .and_then(|e| fact(e, name))
    }

    #[test]
    fn a_message_opening_with_an_oauth_code_gives_the_error_and_description() {
        let cases = [
            (
                "oauthlib.oauth2.rfc6749.errors.InvalidGrantError: (invalid_grant) Bad Request\n",
                "oauthlib.oauth2.rfc6749.errors.InvalidGrantError",
                "invalid_grant",
                Some("Bad Request"),
            ),
            (
                "Restforce::AuthenticationError: invalid_grant: authentication failure\n",
                "Restforce::AuthenticationError",
                "invalid_grant",
                Some("authentication failure"),
            ),
            (
                "PHP Fatal error:  Uncaught League\\OAuth2\\Client\\Provider\\Exception\\IdentityProviderException: invalid_client in /srv/vendor/league/oauth2-client/src/Provider/GenericProvider.php on line 222\n",
                "League\\OAuth2\\Client\\Provider\\Exception\\IdentityProviderException",
                "invalid_client",
                None,
            ),
            (
                "com.acme.auth.TokenException: [unauthorized_client] client not allowed\n",
                "com.acme.auth.TokenException",
                "unauthorized_client",
                Some("client not allowed"),
            ),
            // python-gitlab: the status first.
            (
                "gitlab.exceptions.GitlabHttpError: 403: insufficient_scope\n",
                "gitlab.exceptions.GitlabHttpError",
                "insufficient_scope",
                None,
            ),
        ];
        for (text, ty, code, description) in cases {
            let events = parse_chunk(&chunk(text));
            assert_eq!(events.len(), 1, "{text}: {events:?}");
            let e = &events[0];
            assert_eq!(fact(e, "exception.type").as_deref(), Some(ty), "{text}");
            assert_eq!(fact(e, "body.error").as_deref(), Some(code), "{text}");
            assert_eq!(
                fact(e, "body.error_description").as_deref(),
                description,
                "{text}"
            );
        }
        // Prose that mentions a code, or opens with a longer word: no error.
        for text in [
            "app.SyncError: refresh failed after invalid_grant was handled\n",
            "app.SyncError: invalid_grants_table missing\n",
        ] {
            let events = parse_chunk(&chunk(text));
            assert!(
                events.iter().all(|e| fact(e, "body.error").is_none()),
                "{text}: {events:?}"
            );
        }
    }

    #[test]
    fn elixir_exception_line() {
        let text = "** (Mint.TransportError) connection refused\n    (req 0.4.14) lib/req.ex:1092: Req.request!/2\n";
        let events = parse_chunk(&chunk(text));
        let e = events.first().unwrap_or_else(|| panic!("{events:?}"));
        assert_eq!(
            fact(e, "exception.type").as_deref(),
            Some("Mint.TransportError")
        );
        assert_eq!(
            fact(e, "exception.message").as_deref(),
            Some("connection refused")
        );
        // Not a module: a Markdown bold parenthesis.
        let events = parse_chunk(&chunk("** (see the Error log) below\n"));
        assert!(
            events
                .iter()
                .all(|e| fact(e, "exception.type").as_deref() != Some("see the Error log")),
            "{events:?}"
        );
    }

    /// Whether the parse of `text` reads no exception in it.
    fn no_exception(text: &str) -> bool {
        parse_chunk(&chunk(text))
            .iter()
            .all(|e| e.kind != EventKind::Exception)
    }

    /// The type and message of the one exception the parse reads in `text`.
    fn the_exception(text: &str) -> (Option<String>, Option<String>) {
        let events = parse_chunk(&chunk(text));
        let e = events
            .iter()
            .find(|e| e.kind == EventKind::Exception)
            .unwrap_or_else(|| panic!("{events:?}"));
        (fact(e, "exception.type"), fact(e, "exception.message"))
    }

    #[test]
    fn laravel_console_exception_takes_the_message_below_its_class() {
        let (ty, message) = the_exception(
            "\n   Meilisearch\\Exceptions\\ApiException \n\n  The provided API key is invalid.\n\n  at vendor/meilisearch/meilisearch-php/src/Http/Client.php:220\n",
        );
        assert_eq!(ty.as_deref(), Some("Meilisearch\\Exceptions\\ApiException"));
        assert_eq!(message.as_deref(), Some("The provided API key is invalid."));
        // Collision's newer layout: no blank line between class and message.
        let (_, message) = the_exception(
            "  Illuminate\\Http\\Client\\RequestException \n  HTTP request returned status code 401\n",
        );
        assert_eq!(
            message.as_deref(),
            Some("HTTP request returned status code 401")
        );
        // A class line followed at once by its frame states no message.
        let events = parse_chunk(&chunk(
            "   App\\Exceptions\\SyncException \n\n  at app/Sync.php:40\n",
        ));
        assert!(
            events.iter().all(|e| e.kind != EventKind::Exception),
            "{events:?}"
        );
    }

    #[test]
    fn rails_error_page_takes_the_message_below_the_action() {
        let (ty, message) = the_exception(
            "Stripe::AuthenticationError in CheckoutController#create\nInvalid API Key provided: sk_test_****1234\n",
        );
        assert_eq!(ty.as_deref(), Some("Stripe::AuthenticationError"));
        assert_eq!(
            message.as_deref(),
            Some("Invalid API Key provided: sk_test_****1234")
        );
        // Prose that names a controller is not a Rails error page.
        let events = parse_chunk(&chunk(
            "Deploy notes: Routing::Error in the UsersController#index path was fixed\nall good\n",
        ));
        assert!(
            events.iter().all(|e| e.kind != EventKind::Exception),
            "{events:?}"
        );
    }

    /// The event of `text` that states a status.
    fn the_event_with_a_status(text: &str) -> super::super::Event {
        parse_chunk(&chunk(text))
            .into_iter()
            .find(|e| fact(e, "status").is_some())
            .unwrap_or_else(|| panic!("no status read in {text}"))
    }

    #[test]
    fn google_api_core_errors_give_status_and_method() {
        let text = "google.api_core.exceptions.Forbidden: 403 GET https://bigquery.googleapis.com/bigquery/v2/projects/p/datasets/d/tables/t?prettyPrint=false: Access Denied: Table p:d.t\n";
        let e = the_event_with_a_status(text);
        assert_eq!(fact(&e, "status").as_deref(), Some("403"));
        assert_eq!(fact(&e, "method").as_deref(), Some("GET"));
    }

    #[test]
    fn aws_sdk_go_v2_operation_errors_give_status_and_code() {
        for (text, status, code) in [
            (
                "2022/07/25 13:14:05 failed to retrieve credentials: operation error STS: AssumeRoleWithWebIdentity, https response error StatusCode: 400, RequestID: 4b7e21c9-0a3d-4f6e-9c52-7d18e6a0f3b4, InvalidIdentityToken: No OpenIDConnect provider found in your account for https://oidc.eks.us-east-1.amazonaws.com/id/7C1D\n",
                "400",
                "InvalidIdentityToken",
            ),
            (
                "Error: reading S3 Bucket (logs): operation error S3: HeadBucket, https response error StatusCode: 403, RequestID: 9Q2, HostID: aGVsbG8=, api error Forbidden: Forbidden\n",
                "403",
                "Forbidden",
            ),
        ] {
            let e = the_event_with_a_status(text);
            assert_eq!(fact(&e, "status").as_deref(), Some(status), "{text}");
            assert_eq!(fact(&e, "error.code").as_deref(), Some(code), "{text}");
        }
    }

    #[test]
    fn php_soap_fault_line() {
        let text = "PHP Fatal error:  Uncaught SoapFault exception: [soapenv:Server.userException] Invalid login attempt in /srv/app/NetSuiteService.php:120\n";
        let (ty, message) = the_exception(text);
        assert_eq!(ty.as_deref(), Some("SoapFault"));
        assert_eq!(message.as_deref(), Some("Invalid login attempt"));
        let events = parse_chunk(&chunk(text));
        let code = events.iter().find_map(|e| fact(e, "exception.code"));
        assert_eq!(code.as_deref(), Some("soapenv:Server.userException"));
        // `[HTTP]`: a transport fault, its message the reason phrase.
        let event = the_event_with_a_status(
            "SoapFault exception: [HTTP] Forbidden in /srv/app/Soap.php on line 40\n",
        );
        assert_eq!(fact(&event, "status").as_deref(), Some("403"));
    }

    #[test]
    fn php5_uncaught_exception_line() {
        let (ty, message) = the_exception(
            "Fatal error: Uncaught exception 'Mollie_API_Exception' with message 'Error executing API call (request): Unauthorized request.' in /srv/shop/Mollie/API/Resource/Base.php:234\n",
        );
        assert_eq!(ty.as_deref(), Some("Mollie_API_Exception"));
        assert_eq!(
            message.as_deref(),
            Some("Error executing API call (request): Unauthorized request.")
        );
        // A namespaced class, the file given as `on line N`.
        let (ty, _) = the_exception(
            "PHP Fatal error:  Uncaught exception 'GuzzleHttp\\Exception\\ClientException' with message 'Client error response [status code] 401' in /srv/app/index.php on line 40\n",
        );
        assert_eq!(
            ty.as_deref(),
            Some("GuzzleHttp\\Exception\\ClientException")
        );
    }

    /// Ruby API gems' classes named after a status, in a console's
    /// `Class: message` form: an exception though the name has no `Error`.
    #[test]
    fn ruby_status_named_classes() {
        let (ty, message) = the_exception("Contentful::Unauthorized: Contentful::Unauthorized\n");
        assert_eq!(ty.as_deref(), Some("Contentful::Unauthorized"));
        assert_eq!(message.as_deref(), Some("Contentful::Unauthorized"));
        let (ty, _) = the_exception(
            "Bigcommerce::Forbidden: {\"error\":\"You are authorized but your scope does not include this resource.\"}\n",
        );
        assert_eq!(ty.as_deref(), Some("Bigcommerce::Forbidden"));
        let (ty, _) =
            the_exception("Faraday::TooManyRequestsError: the server responded with status 429\n");
        assert_eq!(ty.as_deref(), Some("Faraday::TooManyRequestsError"));
    }

    /// A one-line JSON body whose message holds `<word> Error: …` is a
    /// body, not a bare `Error` exception.
    #[test]
    fn a_bare_error_inside_a_json_object_line_is_not_an_exception() {
        let text =
            "{\"status\":500,\"errorCode\":\"701\",\"message\":\"Internal Error: try later\"}\n";
        assert!(no_exception(text));
        // Not an object on its own line: the bare `Error` is read.
        let (ty, _) = the_exception("Internal Error: {\"status\":500}\n");
        assert_eq!(ty.as_deref(), Some("Error"));
        // An `Error:` that starts a client's message in a log record is.
        let (ty, message) = the_exception(
            "{\"level\":\"WARN\",\"message\":\"fail-open. Details: Error: connect ETIMEDOUT\"}\n",
        );
        assert_eq!(ty.as_deref(), Some("Error"));
        assert!(message.is_some_and(|m| m.starts_with("connect ETIMEDOUT")));
    }

    /// Ruby SDKs' classes in a module of errors, named for the API's error
    /// code, in a console's `Class: message` form; a namespaced constant
    /// outside such a module is not one.
    #[test]
    fn ruby_classes_of_an_errors_module() {
        let (ty, message) =
            the_exception("Slack::Web::Api::Errors::NotAllowedTokenType: not_allowed_token_type\n");
        assert_eq!(
            ty.as_deref(),
            Some("Slack::Web::Api::Errors::NotAllowedTokenType")
        );
        assert_eq!(message.as_deref(), Some("not_allowed_token_type"));
        let (ty, message) = the_exception("Aws::S3::Errors::AccessDenied: Access Denied\n");
        assert_eq!(ty.as_deref(), Some("Aws::S3::Errors::AccessDenied"));
        assert_eq!(message.as_deref(), Some("Access Denied"));
        let text = "Rails::Application::Configuration: loaded from config/app.rb\n";
        assert!(no_exception(text));
    }

    #[test]
    fn ruby_uncaught_exception_line() {
        let (ty, message) = the_exception(
            "/gems/twilio-ruby-3.8.0/lib/twilio-ruby/rest/client.rb:226:in `connect_and_send': Authenticate (Twilio::REST::RequestError)\n\tfrom /gems/twilio-ruby-3.8.0/lib/twilio-ruby/rest/list_resource.rb:29:in `list'\n",
        );
        assert_eq!(ty.as_deref(), Some("Twilio::REST::RequestError"));
        assert_eq!(message.as_deref(), Some("Authenticate"));
        // A namespaced class that does not end in `Error`.
        let (ty, message) = the_exception(
            "gems/slack-ruby-client-2.5.0/lib/slack/web/faraday/response/raise_error.rb:19:in 'Slack::Web::Faraday::Response::RaiseError#on_complete': channel_not_found (Slack::Web::Api::Errors::ChannelNotFound)\n",
        );
        assert_eq!(
            ty.as_deref(),
            Some("Slack::Web::Api::Errors::ChannelNotFound")
        );
        assert_eq!(message.as_deref(), Some("channel_not_found"));
        // A bare class without `Error` is not an API failure (Ctrl-C).
        let text = "app.rb:9:in 'Kernel#sleep': Interrupt (Interrupt)\n";
        assert!(no_exception(text));
        // Ruby 3.4 quotes the method with ' on both sides.
        let text = "app.rb:3:in 'Integer#/': divided by 0 (ZeroDivisionError)\n";
        let events = parse_chunk(&chunk(text));
        assert_eq!(
            events
                .first()
                .and_then(|e| fact(e, "exception.type"))
                .as_deref(),
            Some("ZeroDivisionError"),
            "{events:?}"
        );
    }

    #[test]
    fn requests_status_line_without_its_exception_type() {
        let cases = [
            (
                "401 Client Error: Unauthorized for url: https://api.example.com.au/api/v2/users?pageSize=500\n",
                "401",
                "Unauthorized",
                "https://api.example.com.au/api/v2/users?pageSize=500",
            ),
            (
                "2024-03-01 12:00:01 ERROR sync: fetch failed: 503 Server Error: Service Unavailable for url: http://10.0.0.7:8080/v1/items.\n",
                "503",
                "Service Unavailable",
                "http://10.0.0.7:8080/v1/items",
            ),
            (
                "[worker-3] ValueError: upstream said 403 Client Error: Forbidden for url: https://h.example/x\n",
                "403",
                "Forbidden",
                "https://h.example/x",
            ),
            // The exception's repr, as a logger's `exc` field holds it.
            (
                "sync failed: HTTPError('429 Client Error: Too Many Requests for url: https://api.example.org/v2/items')\n",
                "429",
                "Too Many Requests",
                "https://api.example.org/v2/items",
            ),
        ];
        for (text, status, reason, url) in cases {
            let events = parse_chunk(&chunk(text));
            let e = events
                .iter()
                .find(|e| e.kind == EventKind::Exception)
                .unwrap_or_else(|| panic!("no exception in {text:?}: {events:?}"));
            assert_eq!(fact(e, "status").as_deref(), Some(status), "{text}");
            assert_eq!(fact(e, "reason").as_deref(), Some(reason), "{text}");
            assert_eq!(fact(e, "url").as_deref(), Some(url), "{text}");
        }
        // A number followed by words is not a status line.
        assert!(parse_chunk(&chunk("Processed 401 Client records for url list\n")).is_empty());
        // The URL is empty when the request had none to print (its base URL
        // read from an unset setting): the status still stands.
        let text = "ERROR:app.images:*** Error occurred while adding an image: 401 Client Error: Unauthorized for url:\n";
        let events = parse_chunk(&chunk(text));
        let e = events
            .iter()
            .find(|e| e.kind == EventKind::Exception)
            .unwrap_or_else(|| panic!("no exception in {text:?}: {events:?}"));
        assert_eq!(fact(e, "status").as_deref(), Some("401"), "{events:?}");
        assert_eq!(fact(e, "url"), None);
    }

    /// A `WWW-Authenticate` challenge copied out of an API tool or a header
    /// dump is the header's value wherever it was printed.
    #[test]
    fn a_quoted_challenge_is_the_header() {
        for (text, want) in [
            (
                "WWW-Authenticate \u{2192}Bearer error=\"invalid_token\", error_description=\"The audience is invalid\"\n",
                "Bearer error=\"invalid_token\", error_description=\"The audience is invalid\"",
            ),
            (
                "2024-02-01 ERROR api call failed: 401, WWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\"\n",
                "Bearer realm=\"api\", error=\"invalid_token\"",
            ),
        ] {
            let events = parse_chunk(&chunk(text));
            assert!(
                events
                    .iter()
                    .any(|e| fact(e, "header.www-authenticate").as_deref() == Some(want)),
                "{text}: {events:?}"
            );
        }
        assert_eq!(
            super::quoted_challenge("WWW-Authenticate header missing"),
            None
        );
    }

    #[test]
    fn http_error_repr_in_a_log_line() {
        let text = "An error occurred during batch processing: <HttpError 429 when requesting https://www.example.googleapis.com/v1/items/a1?alt=json returned \"Resource has been exhausted (e.g. check quota).\". Details: \"[{'message': 'Resource has been exhausted', 'domain': 'global', 'reason': 'rateLimitExceeded'}]\">\n";
        let events = parse_chunk(&chunk(text));
        let e = &events[0];
        assert_eq!(e.kind, EventKind::Exception);
        assert_eq!(fact(e, "status").as_deref(), Some("429"));
        assert_eq!(
            fact(e, "url").as_deref(),
            Some("https://www.example.googleapis.com/v1/items/a1?alt=json")
        );
        assert_eq!(
            fact(e, "exception.message").as_deref(),
            Some("Resource has been exhausted (e.g. check quota).")
        );
        assert_eq!(
            fact(e, "exception.code").as_deref(),
            Some("rateLimitExceeded")
        );
        // Older releases end after the message; a dotted type is kept.
        let old = "WARNING:root:googleapiclient.errors.HttpError: <googleapiclient.errors.HttpError 404 when requesting https://api.example.com/drive/v3/files/x returned \"File not found: x.\">\n";
        let events = parse_chunk(&chunk(old));
        let e = &events[0];
        assert_eq!(fact(e, "status").as_deref(), Some("404"));
        assert_eq!(
            fact(e, "exception.message").as_deref(),
            Some("File not found: x.")
        );
        assert_eq!(
            fact(e, "exception.type").as_deref(),
            Some("googleapiclient.errors.HttpError")
        );
    }

    #[test]
    fn a_quoted_argument_wrapped_over_lines_is_one_message() {
        let text = "Activation failed: Cannot connect to host pay.example.net:443 ssl:True\n[SSLCertVerificationError: (1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed:\nunable to get local issuer certificate (_ssl.c:1010)')]\n";
        let events = super::super::parse_chunk(&super::super::tests::chunk(text));
        let messages: Vec<String> = events
            .iter()
            .filter_map(|e| fact(e, "exception.message"))
            .collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains("unable to get local issuer certificate (_ssl.c:1010)')")),
            "{messages:?}"
        );
        // A closed quote stays on its line.
        let one = "ValueError: ('bad value', 'x')\nnext line 'with a quote\n";
        let events = super::super::parse_chunk(&super::super::tests::chunk(one));
        assert_eq!(
            fact(&events[0], "exception.message").as_deref(),
            Some("('bad value', 'x')")
        );
    }

    #[test]
    fn prose_is_not_an_exception() {
        assert!(parse_chunk(&chunk("The Error was mine, sorry.\nNo Exception here\n")).is_empty());
    }
}
