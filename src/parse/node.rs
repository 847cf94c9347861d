//! Node.js errors as `console.error(err)` and uncaught errors print them:
//! `TypeError: fetch failed` + `    at …` frames + `{ [cause]: Error: … }`
//! (undici), `AxiosError: Request failed with status code 400` + the huge
//! `util.inspect` dump of the error (status, config.url, config.method,
//! response.headers, response.data), `DOMException [TimeoutError]: …`.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::Regex;

use super::exception::{facts_from_message, message_fields};
use super::json::{Json, Node, detached_body_fields, flatten, parse_inspect};
use super::{Ctx, EventKind, Field, LineParser, Lines, Value};

pub struct NodeError;

/// Lines an error message may take before its first frame.
const MAX_MESSAGE_LINES: usize = 64;

fn header_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            // Identifier characters: ASCII word characters or any non-ASCII one (a
            // superset of Unicode \w, far cheaper to compile).
            r"^(?:Uncaught )?(?P<class>[A-Z][A-Za-z0-9_\x{80}-\x{10FFFF}$]*(?:Error|Exception)|Error|(?P<code>[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+))(?: \[(?P<name>[A-Za-z0-9_\x{80}-\x{10FFFF}$]+)\])?(?:: (?P<msg>.*))?$",
        )
        .expect("node header regex")
    })
}

/// `    at fn (file:1:2)`, `    at file:///x.mjs:8:18 {`, `    at async main (…)`.
fn is_node_frame(line: &str) -> bool {
    let t = line.trim();
    if !t.starts_with("at ") {
        return false;
    }
    let t = t.trim_end_matches('{').trim_end().trim_end_matches(')');
    let mut parts = t.rsplit(':');
    matches!((parts.next(), parts.next()), (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() && a.chars().all(|c| c.is_ascii_digit()) && b.chars().all(|c| c.is_ascii_digit()))
        || t.ends_with("(<anonymous>")
        || t.ends_with("<anonymous>")
}

impl LineParser for NodeError {
    fn triggers(&self) -> &'static [&'static str] {
        // undici's codes head its errors alone (`UND_ERR_CONNECT_TIMEOUT`).
        &["Error", "Exception", "UND_ERR_"]
    }

    /// An error named after an upper-case code (`INVALID_FIELD: …`, see
    /// `header_re`) has no literal of its own: `_` would admit most log
    /// lines, so the prefilter looks for a code before a colon instead.
    ///
    /// An error named after an API code in CamelCase (aws-sdk-js:
    /// `PermanentRedirect: …`, `AccessDenied: …`) has neither: the line
    /// opens with that name before its colon.
    fn shapes(&self) -> &'static [super::Shape] {
        &[
            super::Shape {
                byte: b':',
                near: super::Near::CodeEnd,
                before: super::signal::ends_with_upper_code,
            },
            super::Shape {
                byte: b':',
                near: super::Near::LineStartName,
                before: super::Near::is_line_start_name,
            },
        ]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i).trim_end();
        // A paste may indent the header a little (` RequestError …`); the
        // frames' own indent (4) is not a header's.
        let indent = line.len() - line.trim_start_matches(' ').len();
        let line = if indent <= 3 { &line[indent..] } else { line };
        // The class starts upper-case and ends in `Error` or `Exception`,
        // or is an upper-case code (`INVALID_FIELD`): checked first, the
        // regex compiles only for a line it may match.
        let t = line.strip_prefix("Uncaught ").unwrap_or(line);
        if !t.starts_with(|c: char| c.is_ascii_uppercase()) {
            return None;
        }
        if !(t.contains("Error") || t.contains("Exception") || t.contains('_')) {
            return named_after_code(ctx, lines, i);
        }
        let caps = header_re().captures(line)?;
        // The message may run over several lines (a body or page put in
        // it); the frames come after it.
        let mut first_frame = i + 1;
        while first_frame < lines.len()
            && first_frame - i <= MAX_MESSAGE_LINES
            && !is_node_frame(lines.line(first_frame))
        {
            super::work::add(lines.line(first_frame).len() + 1);
            first_frame += 1;
        }
        if !(first_frame < lines.len() && is_node_frame(lines.line(first_frame))) {
            return None;
        }
        let class = caps.name("class")?;
        let ty = caps.name("name").unwrap_or(class);
        let mut fields = vec![lines.str_field("exception.type", ty.as_str())];
        // Clients that name an error after the API's error code (jsforce:
        // `err.name = errorCode`, so `REQUEST_LIMIT_EXCEEDED: …` + frames)
        // state that code as the name; a frame must follow, so an
        // upper-case key in a config dump is no error.
        if let Some(code) = caps.name("code") {
            fields.push(lines.str_field("exception.code", code.as_str()));
        }
        if let Some(msg) = caps.name("msg") {
            // The whole message, verbatim: from its start on the first line
            // to the end of its last line — short of a line that prints an
            // error of its own (a logger's `✖ fatal HttpError: …` under
            // the runner's `Error: …`, both for one error).
            let end_msg = (i + 1..first_frame)
                .find(|&k| another_error_header(lines.line(k)))
                .unwrap_or(first_frame);
            let last_msg = (i..end_msg)
                .rev()
                .find(|&k| !lines.line(k).trim().is_empty())
                .unwrap_or(i);
            let start = lines.span_of(msg.as_str()).start - lines.base;
            let end = lines.bounds[last_msg].1;
            let whole = lines.text[start..end].trim_end();
            fields.push(lines.str_field("exception.message", whole));
            fields.extend(message_fields(lines, whole));
        }
        let last = frames_and_props(lines, first_frame, &mut fields);
        ctx.emit(EventKind::Exception, lines.span_of_lines(i, last), fields);
        Some(last - i + 1)
    }
}

/// The frames from `first_frame` on and the properties `util.inspect`
/// prints after the last one (`    at … {` + `  code: …, response: … }`),
/// read into `fields`; returns the error's last line.
fn frames_and_props(lines: &Lines, first_frame: usize, fields: &mut Vec<Field>) -> usize {
    let mut j = first_frame;
    loop {
        while j < lines.len() && is_node_frame(lines.line(j)) {
            j += 1;
        }
        // stripe-node prints the caller's frames under their own heading,
        // and the error's properties after them.
        if j + 1 < lines.len()
            && lines.line(j).trim_end() == "Originating from:"
            && is_node_frame(lines.line(j + 1))
        {
            j += 1;
            continue;
        }
        break;
    }
    let mut last = j - 1;
    let frame = lines.line(last).trim_end();
    if frame.ends_with('{') {
        let (start, _) = lines.bounds[last];
        let rel = start + frame.len() - 1;
        let rest = lines.rest_at(rel);
        let parsed = parse_inspect(rest);
        lines.value_read(rest, parsed.as_ref().map(|p| p.raw));
        if let Some(props) = parsed {
            from_props(lines, &props, fields);
            let end = props.raw.as_ptr() as usize - lines.text.as_ptr() as usize + props.raw.len();
            last = lines.line_at(end.saturating_sub(1));
        }
    }
    last
}

/// A line that prints a named error after a logger's prefix: `✖  fatal
/// HttpError: Bad credentials`, `[error] TypeError: fetch failed`. Not
/// words inside a quoted body (`"message": "Internal Server Error: …"`).
fn another_error_header(line: &str) -> bool {
    line.match_indices("Error: ")
        .chain(line.match_indices("Exception: "))
        .any(|(at, _)| {
            let before = &line[..at];
            let name = before
                .rsplit(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
                .next()
                .unwrap_or("");
            name.starts_with(|c: char| c.is_ascii_uppercase()) && !before.contains(['"', '\''])
        })
}

/// An error named after the API's error code in CamelCase, as aws-sdk-js
/// names them (`err.name = code`): `PermanentRedirect: The bucket you are
/// attempting to access must be addressed using the specified endpoint.`
/// straight above its first frame. The frame must follow at once, so a
/// `Host: …` header or a `Note: …` line is never one.
fn named_after_code(ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
    let line = lines.line(i).trim_end();
    let (name, msg) = line.split_once(": ")?;
    // `console.trace()` prints `Trace: …` above frames, and warnings with
    // `--trace-warnings` their `…Warning: …`: no failure either.
    if !super::Near::is_line_start_name(name.as_bytes())
        || name == "Trace"
        || name.ends_with("Warning")
        || msg.trim().is_empty()
        || !(i + 1 < lines.len() && is_node_frame(lines.line(i + 1)))
    {
        return None;
    }
    let msg = msg.trim();
    let mut fields = vec![
        lines.str_field("exception.type", name),
        lines.str_field("exception.code", name),
        lines.str_field("exception.message", msg),
    ];
    fields.extend(message_fields(lines, msg));
    let last = frames_and_props(lines, i + 1, &mut fields);
    ctx.emit(EventKind::Exception, lines.span_of_lines(i, last), fields);
    Some(last - i + 1)
}

fn lookup<'n, 'a>(node: &'n Node<'a>, dotted: &str) -> Option<&'n Node<'a>> {
    dotted.split('.').try_fold(node, |n, key| n.get(key))
}

fn push(
    lines: &Lines,
    fields: &mut Vec<Field>,
    name: impl Into<Cow<'static, str>>,
    node: &Node,
    value: Value,
) {
    let name = name.into();
    if fields.iter().any(|f| f.name == name) {
        return;
    }
    fields.push(Field {
        name,
        value,
        span: lines.span_of(node.value_text()),
    });
}

/// What the error's properties tell: axios' config and response, a system
/// error's code and host, a wrapped `[cause]`.
fn from_props(lines: &Lines, props: &Node, fields: &mut Vec<Field>) {
    let scalar = |n: &Node| !matches!(n.json, Json::Object(_) | Json::Array(_));
    let mut url_from_props = false;
    for (path, name) in [
        ("response.status", "status"),
        ("status", "status"),
        // stripe-node's errors; got's `response.statusCode`.
        ("statusCode", "status"),
        ("response.statusCode", "status"),
        // aws-sdk-js v3's service exceptions.
        ("$metadata.httpStatusCode", "status"),
        ("response.statusText", "reason"),
        ("config.url", "url"),
        // @octokit/request's RequestError.
        ("request.url", "url"),
        ("response.url", "url"),
        ("code", "exception.code"),
        ("hostname", "url.host"),
        ("config.data", "request.body"),
    ] {
        if let Some(n) = lookup(props, path).filter(|n| scalar(n)) {
            // The request's own URL over one the message names (octokit
            // ends its message with the documentation URL); the first of
            // the properties' wins.
            if name == "url" && !url_from_props {
                fields.retain(|f| f.name != "url");
                url_from_props = true;
            }
            let value = match (name, n.scalar_value()) {
                ("status", v) => match v.as_num() {
                    Some(x) => Value::Num(x),
                    None => continue,
                },
                (_, Value::Str(s)) if s == "null" => continue,
                (_, v) => v,
            };
            push(lines, fields, name, n, value);
        }
    }
    if let Some(m) = ["config.method", "request.method"]
        .iter()
        .find_map(|p| lookup(props, p))
        .and_then(|n| n.as_str().map(|s| (n, s)))
    {
        push(
            lines,
            fields,
            "method",
            m.0,
            Value::Str(m.1.to_ascii_uppercase().into()),
        );
    }
    for (path, prefix) in [
        ("config.headers", "request.header."),
        ("response.headers", "header."),
    ] {
        if let Some(Json::Object(entries)) = lookup(props, path).map(|n| &n.json) {
            for (k, v) in entries {
                if let (Json::Str(key), true) = (&k.json, scalar(v)) {
                    push(
                        lines,
                        fields,
                        format!("{prefix}{}", key.to_ascii_lowercase()),
                        v,
                        v.scalar_value(),
                    );
                }
            }
        }
    }
    if let Some(data) = lookup(props, "response.data") {
        match &data.json {
            Json::Object(_) | Json::Array(_) => flatten(lines, "body", data, fields),
            Json::Str(s) => {
                fields.extend(detached_body_fields(s, lines.span_of(data.value_text())))
            }
            _ => {}
        }
    }
    let cause = props.get("cause");
    if let Some(cause) = cause {
        if let Some(t) = cause.get("name") {
            push(lines, fields, "exception.cause.type", t, t.scalar_value());
        }
        if let Some(m) = cause.get("message") {
            push(
                lines,
                fields,
                "exception.cause.message",
                m,
                m.scalar_value(),
            );
            if m.as_str().is_some() {
                // The raw text, not the decoded string: spans must point into `lines`.
                let found = facts_from_message(lines, m.value_text());
                for f in found {
                    if !fields.iter().any(|g| g.name == f.name) {
                        fields.push(f);
                    }
                }
            }
        }
        for (key, name) in [("code", "exception.code"), ("hostname", "url.host")] {
            if let Some(n) = cause.get(key).filter(|n| scalar(n)) {
                push(lines, fields, name, n, n.scalar_value());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::chunk;
    use super::super::{EventKind, parse_chunk};

    #[test]
    fn fetch_failed_with_cause() {
        let text = "TypeError: fetch failed
    at node:internal/deps/undici/undici:14976:13
    at async file:///app/fetch_app.mjs:8:18 {
  [cause]: Error: connect ECONNREFUSED 127.0.0.1:9443
      at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1611:16) {
    errno: -111,
    code: 'ECONNREFUSED',
    syscall: 'connect',
    address: '127.0.0.1',
    port: 9443
  }
}

Node.js v20.20.2
";
        let events = parse_chunk(&chunk(text));
        assert_eq!(events.len(), 1, "{events:?}");
        let e = &events[0];
        assert_eq!(e.kind, EventKind::Exception);
        let get = |n: &str| e.field(n).map(|f| f.value.to_string());
        assert_eq!(get("exception.type").as_deref(), Some("TypeError"));
        assert_eq!(get("exception.message").as_deref(), Some("fetch failed"));
        assert_eq!(get("exception.cause.type").as_deref(), Some("Error"));
        assert_eq!(
            get("exception.cause.message").as_deref(),
            Some("connect ECONNREFUSED 127.0.0.1:9443")
        );
        assert_eq!(get("exception.code").as_deref(), Some("ECONNREFUSED"));
        assert!(text[e.span.start..e.span.end].ends_with("}\n}"));
    }

    /// The message ends above a line that prints a named error of its own
    /// (a logger's line for the same error), not at quoted words of a body.
    #[test]
    fn message_ends_above_another_error_line() {
        let message = |text: &str| {
            let events = parse_chunk(&chunk(text));
            assert_eq!(events.len(), 1, "{text}: {events:?}");
            events[0]
                .field("exception.message")
                .map(|f| f.value.to_string())
        };
        assert_eq!(
            message("Error: Bad credentials\n✖  fatal     HttpError: Bad credentials \n    at /w/node_modules/@octokit/request/dist-node/index.js:86:21\n").as_deref(),
            Some("Bad credentials")
        );
        assert_eq!(
            message("Error: upstream said\n{\"message\": \"Internal Server Error: db down\"}\n    at run (/w/job.js:3:9)\n").as_deref(),
            Some("upstream said\n{\"message\": \"Internal Server Error: db down\"}")
        );
    }

    /// aws-sdk-js v3 prints the exception's properties after its frames:
    /// they are the error's, and `$metadata.httpStatusCode` is its status.
    #[test]
    fn error_named_after_a_code_keeps_its_inspected_properties() {
        let text = "AccessDenied: Access Denied
    at de_AccessDeniedRes (/app/node_modules/@aws-sdk/client-s3/dist-cjs/index.js:4581:21)
    at async /app/node_modules/@smithy/middleware-serde/dist-cjs/index.js:35:20 {
  '$fault': 'client',
  '$metadata': {
    httpStatusCode: 403,
    requestId: 'J2Q1K7ZC0XBW4M8N',
    attempts: 1
  },
  Code: 'AccessDenied'
}
";
        let events = parse_chunk(&chunk(text));
        assert_eq!(events.len(), 1, "{events:?}");
        let e = &events[0];
        assert_eq!(&text[e.span.start..e.span.end], text.trim_end());
        let get = |n: &str| e.field(n).map(|f| f.value.to_string());
        assert_eq!(get("exception.code").as_deref(), Some("AccessDenied"));
        assert_eq!(get("status").as_deref(), Some("403"));
    }

    #[test]
    fn caller_frames_under_their_heading_keep_the_properties() {
        // stripe-node: the library's frames, then the caller's under
        // `Originating from:`, then the inspected properties.
        let text = "StripeAuthenticationError: Invalid API Key provided: sk_test_****1234
    at generateV1Error (file:///app/node_modules/stripe/esm/Error.js:17:16)
    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)
Originating from:
    at CustomerResource.list (file:///app/node_modules/stripe/esm/resources/Customers.js:148:21)
    at async main (file:///app/billing.mjs:6:42) {
  type: 'StripeAuthenticationError',
  raw: {
    message: 'Invalid API Key provided: sk_test_****1234',
    statusCode: 401
  },
  statusCode: 401
}
";
        let events = parse_chunk(&chunk(text));
        assert_eq!(events.len(), 1, "{events:?}");
        let e = &events[0];
        assert_eq!(&text[e.span.start..e.span.end], text.trim_end());
        assert_eq!(
            e.field("status").map(|f| f.value.to_string()).as_deref(),
            Some("401")
        );
        // The heading alone, with no frame after it, ends the error.
        let cut = "TypeError: x is not a function\n    at main (/app/a.js:1:1)\nOriginating from:\nnext\n";
        let events = parse_chunk(&chunk(cut));
        let e = events
            .iter()
            .find(|e| e.field("exception.type").is_some())
            .unwrap();
        assert_eq!(
            &cut[e.span.start..e.span.end],
            "TypeError: x is not a function\n    at main (/app/a.js:1:1)"
        );
    }

    #[test]
    fn octokit_request_url_over_the_documentation_url() {
        let text = "RequestError [HttpError]: Bad credentials - https://docs.github.com/rest
    at fetchWrapper (file:///app/node_modules/@octokit/request/dist-bundle/index.js:124:11)
    at async main (file:///app/sync.mjs:6:18) {
  status: 401,
  request: {
    method: 'GET',
    url: 'https://api.github.com/user/repos?per_page=100',
    headers: { accept: 'application/vnd.github.v3+json' }
  },
  response: {
    url: 'https://api.github.com/user/repos?per_page=100',
    status: 401,
    data: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' }
  }
}
";
        let events = parse_chunk(&chunk(text));
        assert_eq!(events.len(), 1, "{events:?}");
        let get = |n: &str| events[0].field(n).map(|f| f.value.to_string());
        assert_eq!(
            get("url").as_deref(),
            Some("https://api.github.com/user/repos?per_page=100")
        );
        assert_eq!(get("method").as_deref(), Some("GET"));
        assert_eq!(get("status").as_deref(), Some("401"));
    }

    #[test]
    fn error_named_after_an_api_code() {
        for (text, code, message) in [
            (
                "INVALID_FIELD: No such column 'Foo__c' on entity 'Account'.\n    at HttpApi.getError (/srv/app/node_modules/jsforce/lib/http-api.js:250:13)\n",
                "INVALID_FIELD",
                "No such column 'Foo__c' on entity 'Account'.",
            ),
            (
                "Uncaught QUOTA_EXCEEDED_2: daily quota used\n    at async run (file:///w/job.mjs:3:9)\n",
                "QUOTA_EXCEEDED_2",
                "daily quota used",
            ),
            // aws-sdk-js names its errors after the service's code in
            // CamelCase (v2 and v3 alike).
            (
                "PermanentRedirect: The bucket you are attempting to access must be addressed using the specified endpoint.\n    at Request.extractError (/srv/node_modules/aws-sdk/lib/services/s3.js:257:35)\n    at Request.emit (/srv/node_modules/aws-sdk/lib/request.js:578:14)\n",
                "PermanentRedirect",
                "The bucket you are attempting to access must be addressed using the specified endpoint.",
            ),
            (
                "AccessDenied: Access Denied\n    at de_AccessDeniedRes (/app/node_modules/@aws-sdk/client-s3/dist-cjs/index.js:4581:21)\n    at async /app/node_modules/@smithy/middleware-serde/dist-cjs/index.js:35:20\n",
                "AccessDenied",
                "Access Denied",
            ),
        ] {
            let events = parse_chunk(&chunk(text));
            assert_eq!(events.len(), 1, "{text}: {events:?}");
            let e = &events[0];
            assert_eq!(e.kind, EventKind::Exception);
            let get = |n: &str| e.field(n).map(|f| f.value.to_string());
            assert_eq!(get("exception.code").as_deref(), Some(code));
            assert_eq!(get("exception.type").as_deref(), Some(code));
            assert_eq!(get("exception.message").as_deref(), Some(message));
        }
        // Near misses: an upper-case key with no frame after it is a
        // setting, and a lower-case name is no code.
        for text in [
            "DATABASE_URL: postgres://db.internal:5432/app\nNEXT_KEY: 1\n",
            "max_retries: 3\n    at some (place.js:1:2)\n",
            // console.trace() and a traced warning print frames too; a
            // header or a name with no frame right under it is no error.
            "Trace: cache warmed\n    at warm (/srv/cache.js:12:11)\n",
            "DeprecationWarning: Buffer() is deprecated\n    at showFlaggedDeprecation (node:buffer:178:11)\n",
            "Host: api.example.com\nAccept: */*\n",
            "Status: retrying\nnext\n    at some (place.js:1:2)\n",
        ] {
            let events = parse_chunk(&chunk(text));
            assert!(
                events.iter().all(|e| e.field("exception.code").is_none()),
                "{text}: {events:?}"
            );
        }
    }

    #[test]
    fn axios_dump() {
        let text = "AxiosError: Request failed with status code 400
    at settle (/n/axios.cjs:2671:12)
    at async main (/app/axios_app.cjs:10:20) {
  isAxiosError: true,
  code: 'ERR_BAD_REQUEST',
  config: [Object: null prototype] {
    adapter: [ 'xhr', 'http', 'fetch' ],
    transformRequest: [ [Function: transformRequest] ],
    env: { FormData: [Function], Blob: [class Blob] },
    headers: Object [AxiosHeaders] {
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    auth: { username: 'id', password: 'FLTPLANTEDSECRET-x' },
    method: 'post',
    url: 'https://login.mypurecloud.com/oauth/token',
    data: 'grant_type=client_credentials'
  },
  request: <ref *1> ClientRequest {
    _header: 'POST /oauth/token HTTP/1.1\\r\\n' +
      'Host: login.mypurecloud.com\\r\\n' +
      '\\r\\n',
    maxSockets: Infinity,
    _headerFilter: /^(?:Authorization|Cookie)$/i,
    [Symbol(kCapture)]: false,
    res: IncomingMessage { req: [Circular *1], n: 5n }
  },
  response: {
    status: 400,
    statusText: 'Bad Request',
    headers: Object [AxiosHeaders] {
      'inin-correlation-id': 'cda7f244'
    },
    data: {
      error: 'invalid_client',
      error_description: 'authentication failed'
    }
  },
  status: 400
}
";
        let events = parse_chunk(&chunk(text));
        assert_eq!(events.len(), 1, "{events:?}");
        let e = &events[0];
        let get = |n: &str| e.field(n).map(|f| f.value.to_string());
        assert_eq!(get("status").as_deref(), Some("400"));
        assert_eq!(get("method").as_deref(), Some("POST"));
        assert_eq!(
            get("url").as_deref(),
            Some("https://login.mypurecloud.com/oauth/token")
        );
        assert_eq!(get("body.error").as_deref(), Some("invalid_client"));
        assert_eq!(
            get("header.inin-correlation-id").as_deref(),
            Some("cda7f244")
        );
        assert_eq!(
            get("request.header.content-type").as_deref(),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(get("exception.code").as_deref(), Some("ERR_BAD_REQUEST"));
        assert_eq!(
            get("request.body").as_deref(),
            Some("grant_type=client_credentials")
        );
    }

    #[test]
    fn dom_exception_timeout() {
        let text = "DOMException [TimeoutError]: The operation was aborted due to timeout
    at node:internal/deps/undici/undici:14976:13
    at async file:///app/fetch_app.mjs:8:18
";
        let events = parse_chunk(&chunk(text));
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(
            events[0].field("exception.type").unwrap().value.to_string(),
            "TimeoutError"
        );
    }
}
