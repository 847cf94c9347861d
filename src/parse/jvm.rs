//! What Java HTTP clients print, apart from stack traces (see [`super::stack`]):
//!
//! - `java.net.http.HttpResponse.toString()`: `(GET https://…/x) 401`
//!   (jdk.internal.net.http.HttpResponseImpl);
//! - a headers map, as `HttpHeaders.map()` or `HttpHeaders.toString()` print
//!   it: `{content-type=[application/json], www-authenticate=[Bearer error="invalid_token", …]}`
//!   (`:status=[401]` too, over HTTP/2);
//! - OkHttp's `Response.toString()`: `Response{protocol=h2, code=401, message=, url=https://…}`;
//! - OkHttp's `HttpLoggingInterceptor`: `--> POST https://… http/1.1`, headers, the body,
//!   `--> END POST`, then `<-- 401 Unauthorized https://… (123ms)`, headers, body,
//!   `<-- END HTTP (…)`, or `<-- HTTP FAILED: java.net.UnknownHostException: ….`; each line
//!   possibly after the same logger prefix (`D/OkHttp: `, a logcat timestamp).
//!
//! Formats read from square/okhttp at 1682d9b (`Response.kt` toString,
//! `okhttp-logging-interceptor/…/HttpLoggingInterceptor.kt`) and OpenJDK's
//! `HttpResponseImpl.toString` / `HttpHeaders.toString`.

use std::sync::OnceLock;

use regex::Regex;

use super::json::{format_fields, mapped_body_fields};
use super::logprefix::same_prefix;
use super::mapped::Mapped;
use super::{Ctx, Direction, EventKind, Field, LineParser, Lines, Value};

const METHODS: &str = "GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS";

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("jvm regex"))
}

fn jdk_response_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    cell_re(&RE, || {
        format!(r"\((?P<method>{METHODS}) (?P<url>https?://[^\s)]+)\) (?P<status>[0-9]{{3}})\b")
    })
}

fn okhttp_response_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r"Response\{protocol=(?P<proto>[A-Za-z0-9_./-]+), code=(?P<status>[0-9]{3}), message=(?P<reason>[^,]*), url=(?P<url>[^\s}]+)\}",
    )
}

fn okhttp_request_line_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    cell_re(&RE, || {
        format!(
            r"^(?P<pre>.*?)--> (?P<method>{METHODS}) (?P<url>https?://\S+|/\S*)(?: (?:h2|http/1\.[01]|h2_prior_knowledge|quic|h3))?(?: \(-?[0-9]+-byte body\))?\s*$"
        )
    })
}

fn okhttp_response_line_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r"^(?P<pre>.*?)<-- (?P<status>[0-9]{3})(?: (?P<reason>.*?))? (?P<url>https?://\S+) \([0-9]+ms(?:, [^)]*)?\)\s*$",
    )
}

fn okhttp_failed_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r"^(?P<pre>.*?)<-- HTTP FAILED: (?P<type>[A-Za-z0-9_\x{80}-\x{10FFFF}.$]+)(?:: (?P<msg>.*?))?\.?(?: (?P<url>https?://\S+) \([0-9]+ms\))?\s*$",
    )
}

fn cell_re(cell: &'static OnceLock<Regex>, pattern: impl FnOnce() -> String) -> &'static Regex {
    cell.get_or_init(|| Regex::new(&pattern()).expect("jvm regex"))
}

fn status_field(lines: &Lines, digits: &str) -> Field {
    lines.field("status", Value::Num(digits.parse().unwrap_or(0.0)), digits)
}

/// The entries of a Java `Map<String, List<String>>` printed at `at`
/// (`{name=[v1, v2], other=[v]}`): (name, the list's text).
fn header_map(text: &str) -> Option<(Vec<(&str, &str)>, usize)> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'{') {
        return None;
    }
    let mut out = Vec::new();
    let mut pos = 1;
    loop {
        let rest = &text[pos..];
        let eq = rest.find("=[")?;
        let name = &rest[..eq];
        if name.is_empty()
            || !name
                .trim_start_matches(':')
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return None;
        }
        let vstart = pos + eq + 2;
        // The list ends at the `]` that is followed by `, name=[` or `}`.
        let mut search = vstart;
        let vend = loop {
            let close = search + text[search..].find(']')?;
            let after = &text[close + 1..];
            if after.starts_with('}') {
                break close;
            }
            if let Some(next) = after.strip_prefix(", ")
                && next
                    .find("=[")
                    .is_some_and(|e| !next[..e].is_empty() && !next[..e].contains([' ', ',', ']']))
            {
                break close;
            }
            search = close + 1;
        };
        out.push((name, &text[vstart..vend]));
        pos = vend + 1;
        match bytes.get(pos) {
            Some(b'}') => return Some((out, pos + 1)),
            Some(b',') => pos += 2,
            _ => return None,
        }
    }
}

pub struct JavaHttp;

impl LineParser for JavaHttp {
    fn triggers(&self) -> &'static [&'static str] {
        &[
            "=[",
            "Response{protocol=",
            "--> ",
            "<-- ",
            "(GET ",
            "(POST ",
            "(PUT ",
            "(PATCH ",
            "(DELETE ",
            "(HEAD ",
            "(OPTIONS ",
        ]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        let span = lines.span_of(line.trim_end());
        if let Some(n) = okhttp_log(ctx, lines, i) {
            return Some(n);
        }
        if line.contains("Response{protocol=")
            && let Some(c) = okhttp_response_re().captures(line)
        {
            let mut fields = vec![status_field(lines, c.name("status")?.as_str())];
            if let Some(r) = c.name("reason").filter(|r| !r.as_str().is_empty()) {
                fields.push(lines.str_field("reason", r.as_str()));
            }
            fields.push(lines.str_field("url", c.name("url")?.as_str()));
            ctx.emit(EventKind::Status, span, fields);
            return Some(1);
        }
        if line.contains("://")
            && let Some(c) = jdk_response_re().captures(line)
        {
            ctx.emit(
                EventKind::Request,
                span,
                vec![
                    lines.str_field("method", c.name("method")?.as_str()),
                    lines.str_field("url", c.name("url")?.as_str()),
                ],
            );
            ctx.emit(
                EventKind::Status,
                span,
                vec![status_field(lines, c.name("status")?.as_str())],
            );
            return Some(1);
        }
        // A headers map anywhere on the line (`Headers: {…}`,
        // `java.net.http.HttpHeaders@1a2b { {…} }`).
        let at = line.match_indices('{').take(4).map(|(p, _)| p).find(|&p| {
            let rest = &line[p + 1..];
            rest.find("=[").is_some_and(|e| {
                !rest[..e].is_empty()
                    && rest[..e]
                        .trim_start_matches(':')
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
        })?;
        let (entries, _) = header_map(&line[at..])?;
        if !entries
            .iter()
            .any(|(n, _)| n.contains('-') || n.starts_with(':'))
        {
            return None;
        }
        for (name, value) in entries {
            let lower = name.to_ascii_lowercase();
            if lower == ":status" {
                ctx.emit(EventKind::Status, span, vec![status_field(lines, value)]);
                continue;
            }
            ctx.emit(
                EventKind::Header,
                span,
                vec![Field {
                    name: format!("header.{}", lower.trim_start_matches(':')).into(),
                    value: Value::Str(value.into()),
                    span: lines.span_of(value),
                }],
            );
        }
        Some(1)
    }
}

/// Lines one OkHttp log block may take.
const MAX_BLOCK_LINES: usize = 2_000;

/// OkHttp's `HttpLoggingInterceptor` block that starts at line `i`.
fn okhttp_log(ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
    let line = lines.line(i);
    let span = lines.span_of(line.trim_end());
    // Literal checks first: a regex compiles only for a line it may match.
    let (pre, dir) = if line.contains("--> ")
        && let Some(c) = okhttp_request_line_re().captures(line)
    {
        ctx.emit(
            EventKind::Request,
            span,
            vec![
                lines.str_field("method", c.name("method")?.as_str()),
                lines.str_field("url", c.name("url")?.as_str()),
            ],
        );
        (c.name("pre")?.as_str(), Direction::Request)
    } else if line.contains("<-- ")
        && let Some(c) = okhttp_response_line_re().captures(line)
    {
        let mut fields = vec![status_field(lines, c.name("status")?.as_str())];
        if let Some(r) = c.name("reason").filter(|r| !r.as_str().is_empty()) {
            fields.push(lines.str_field("reason", r.as_str()));
        }
        fields.push(lines.str_field("url", c.name("url")?.as_str()));
        ctx.emit(EventKind::Status, span, fields);
        (c.name("pre")?.as_str(), Direction::Response)
    } else if line.contains("<-- HTTP FAILED: ")
        && let Some(c) = okhttp_failed_re().captures(line)
    {
        let mut fields = vec![lines.str_field("exception.type", c.name("type")?.as_str())];
        if let Some(m) = c.name("msg") {
            fields.push(lines.str_field("exception.message", m.as_str()));
            fields.extend(super::exception::facts_from_message(lines, m.as_str()));
        }
        if let Some(u) = c.name("url") {
            fields.retain(|f| f.name != "url");
            fields.push(lines.str_field("url", u.as_str()));
        }
        ctx.emit(EventKind::Exception, span, fields);
        return Some(1);
    } else {
        return None;
    };
    // The block: headers, a blank line, the body, the END line; every line
    // after the same logger prefix.
    let plen = pre.len();
    let mut j = i + 1;
    let mut in_body = false;
    let mut body = Mapped::default();
    let mut body_lines = (0, 0);
    while j < lines.len() && j - i <= MAX_BLOCK_LINES {
        let next = lines.line(j);
        super::work::add(next.len() + 1);
        let Some(content) = next
            .get(..plen)
            .filter(|p| same_prefix(p, pre))
            .and_then(|_| next.get(plen..))
        else {
            break;
        };
        if content.starts_with("--> END") || content.starts_with("<-- END HTTP") {
            j += 1;
            break;
        }
        if content.starts_with("--> ") || content.starts_with("<-- ") {
            break;
        }
        let abs = lines.span_of(next).start + plen;
        if in_body {
            if !body.text.is_empty() {
                body.push_mapped("\n", abs, 0);
            }
            body.push_verbatim(content, abs);
            body_lines.1 = j;
        } else if content.trim().is_empty() {
            in_body = true;
            body_lines = (j + 1, j);
        } else if let Ok((_, (name, value))) = super::http::header_line(content) {
            let prefix = match dir {
                Direction::Request => "request.header.",
                Direction::Response => "header.",
            };
            ctx.emit(
                EventKind::Header,
                lines.span_of(next.trim_end()),
                vec![Field {
                    name: format!("{prefix}{}", name.to_ascii_lowercase()).into(),
                    value: Value::Str(value.into()),
                    span: lines.span_of(value),
                }],
            );
        } else {
            break;
        }
        j += 1;
    }
    if !body.text.trim().is_empty() && body_lines.1 >= body_lines.0 {
        let whole = lines
            .span_of(lines.line(body_lines.0).trim_end())
            .cover(lines.span_of(lines.line(body_lines.1).trim_end()));
        match dir {
            Direction::Request => ctx.emit(
                EventKind::RequestBody,
                whole,
                vec![Field {
                    name: "request.body".into(),
                    value: Value::Str(body.text.clone().into()),
                    span: whole,
                }],
            ),
            Direction::Response => {
                let at = body.text.len() - body.text.trim_start().len();
                let fields = mapped_body_fields(&body, at, whole).unwrap_or_else(|| {
                    let mut f = vec![Field {
                        name: "body".into(),
                        value: Value::Str(body.text.clone().into()),
                        span: whole,
                    }];
                    f.extend(format_fields(
                        super::markup::sniff_format(&body.text),
                        false,
                        whole,
                    ));
                    f
                });
                ctx.emit(EventKind::Body, whole, fields);
            }
        }
    }
    Some(j - i)
}

#[cfg(test)]
mod tests {
    use super::super::tests::chunk;
    use super::super::{EventKind, parse_chunk};
    use super::*;

    use super::super::tests::field_value as get;

    #[test]
    fn jdk_response_and_headers() {
        let t = "Response: (GET https://api.example.com/v1/me) 401\nHeaders: {content-length=[0], www-authenticate=[Bearer realm=\"example\", error=\"invalid_token\", error_description=\"The access token expired\"]}\n";
        assert_eq!(get(t, "status").as_deref(), Some("401"));
        assert_eq!(
            get(t, "url").as_deref(),
            Some("https://api.example.com/v1/me")
        );
        assert_eq!(
            get(t, "header.www-authenticate").as_deref(),
            Some(
                "Bearer realm=\"example\", error=\"invalid_token\", error_description=\"The access token expired\""
            )
        );
        // A header value is not an OAuth body.
        assert!(get(t, "body.error").is_none());
        let h2 =
            "java.net.http.HttpHeaders@1a { {:status=[403], content-type=[application/json]} }\n";
        assert_eq!(get(h2, "status").as_deref(), Some("403"));
    }

    #[test]
    fn header_map_lists() {
        let (entries, end) = header_map("{a-b=[x, y], c=[z]} tail").unwrap();
        assert_eq!(entries, vec![("a-b", "x, y"), ("c", "z")]);
        assert_eq!(end, 19);
        assert!(header_map("{not a map}").is_none());
    }

    #[test]
    fn okhttp_logging_interceptor() {
        let t = "D/OkHttp: --> POST https://login.example.com/oauth2/token http/1.1
D/OkHttp: Content-Type: application/x-www-form-urlencoded
D/OkHttp: 
D/OkHttp: grant_type=client_credentials
D/OkHttp: --> END POST (29-byte body)
D/OkHttp: <-- 401 Unauthorized https://login.example.com/oauth2/token (85ms)
D/OkHttp: content-type: application/json
D/OkHttp: 
D/OkHttp: {\"error\":\"invalid_client\",
D/OkHttp:  \"error_description\":\"bad secret\"}
D/OkHttp: <-- END HTTP (85ms, 61-byte body)
";
        let events = parse_chunk(&chunk(t));
        let get = |n: &str| {
            events
                .iter()
                .find_map(|e| e.field(n))
                .map(|f| (f.value.to_string(), &t[f.span.start..f.span.end]))
        };
        assert_eq!(get("method").unwrap().0, "POST");
        assert_eq!(get("status").unwrap().0, "401");
        assert_eq!(
            get("request.body").unwrap().0,
            "grant_type=client_credentials"
        );
        assert_eq!(
            get("body.error").unwrap(),
            ("invalid_client".into(), "invalid_client")
        );
        assert_eq!(get("body.error_description").unwrap().1, "bad secret");
        assert_eq!(get("header.content-type").unwrap().0, "application/json");
    }

    #[test]
    fn okhttp_failure_and_response_string() {
        let t = "<-- HTTP FAILED: java.net.UnknownHostException: Unable to resolve host \"api.example.com\": No address associated with hostname. https://api.example.com/x (3ms)\n";
        assert_eq!(
            get(t, "exception.type").as_deref(),
            Some("java.net.UnknownHostException")
        );
        assert_eq!(get(t, "url").as_deref(), Some("https://api.example.com/x"));
        let t =
            "response: Response{protocol=h2, code=403, message=, url=https://api.example.com/x}\n";
        assert_eq!(get(t, "status").as_deref(), Some("403"));
        assert!(
            parse_chunk(&chunk(t))
                .iter()
                .all(|e| e.field("reason").is_none())
        );
    }

    #[test]
    fn near_misses() {
        for t in [
            "config: {retries=[3], timeout=[10]}\n",
            "--> END POST\n",
            "see (GET the docs) 404 times\n",
        ] {
            assert!(
                parse_chunk(&chunk(t))
                    .iter()
                    .all(|e| e.kind != EventKind::Status && e.kind != EventKind::Header),
                "{t}"
            );
        }
    }
}
