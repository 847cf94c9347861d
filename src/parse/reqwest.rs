//! Rust reqwest's `Debug` output, as programs print a response or an error
//! with `{:?}`, `{:#?}` or `dbg!`:
//!
//! ```text
//! Response { url: Url { scheme: "https", cannot_be_a_base: false, username: "", password: None, host: Some(Domain("api.github.com")), port: None, path: "/user", query: None, fragment: None }, status: 403, headers: {"content-type": "text/html"} }
//! reqwest::Error { kind: Status(403), url: "https://api.github.com/user" }
//! ```
//!
//! either on one line or pretty-printed over many. Formats from reqwest's
//! `impl Debug for Response` (url, status, headers: never the body) and
//! `impl Debug for Error` (kind, then the URL as a string; older releases
//! print the `Url` struct, 0.12 adds the reason: `Status(403, None)`), and
//! url's `impl Debug for Url`. Only a print that states a status is read
//! here: reqwest's other error kinds (`Request`, `Connect`, `Decode`) carry
//! their cause as text the signal readers take.

use std::sync::OnceLock;

use regex::Regex;

use super::{Ctx, EventKind, Field, LineParser, Lines, Value};

/// The type an error print names (`reqwest::Error { … }`).
const ERROR_TYPE: &str = "reqwest::Error";

/// Lines and bytes one pretty-printed value may take.
const MAX_LINES: usize = 200;
const MAX_BYTES: usize = 64 << 10;

pub struct ReqwestDebug;

/// The text of one printed value, its lines trimmed and joined by a space,
/// with where each piece came from so a match maps back to the input.
struct Joined<'a> {
    text: String,
    pieces: Vec<(usize, &'a str)>,
}

impl<'a> Joined<'a> {
    fn new() -> Self {
        Joined {
            text: String::new(),
            pieces: Vec::new(),
        }
    }

    fn push(&mut self, piece: &'a str) {
        if !self.text.is_empty() {
            self.text.push(' ');
        }
        self.pieces.push((self.text.len(), piece));
        self.text.push_str(piece);
    }

    /// The input's bytes for `start..end` of the joined text, when they lie
    /// in one piece.
    fn source(&self, start: usize, end: usize) -> Option<&'a str> {
        let k = self.pieces.partition_point(|(at, _)| *at <= start);
        let (at, piece) = *self.pieces.get(k.checked_sub(1)?)?;
        piece.get(start - at..end - at)
    }
}

/// Brace depth after `s`, from `depth`: braces inside string literals
/// (`"…"`, with `\"` escapes) do not count.
fn depth_after(s: &str, mut depth: usize) -> usize {
    let mut in_string = false;
    let mut escaped = false;
    for b in s.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    depth
}

fn status_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // `status: 403` is the response's own field; a header named
        // `status` is quoted (`"status": "403"`) and not read.
        Regex::new(r#"(?:^|[\s{,])(?:kind: Status\(\s*|status: )(?P<status>[1-5][0-9]{2})\b"#)
            .expect("reqwest status regex")
    })
}

fn url_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"(?:^|[\s{,])url: (?:"(?P<text>[^"]+)"|(?:Some\(\s*)?Url \{(?P<parts>[^{}]*)\})"#,
        )
        .expect("reqwest url regex")
    })
}

fn url_part_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"(?P<name>scheme|path): "(?P<text>[^"]*)"|host: Some\(\s*(?:Domain\(\s*"(?P<domain>[^"]+)"|Ipv4\(\s*(?P<v4>[0-9.]+)|Ipv6\(\s*(?P<v6>[0-9A-Fa-f:.]+))|port: Some\(\s*(?P<port>[0-9]+)|query: Some\(\s*"(?P<query>[^"]*)""#,
        )
        .expect("reqwest url part regex")
    })
}

fn header_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#""(?P<name>[A-Za-z0-9!#$%&'*+.^_`|~-]+)": "(?P<value>(?:[^"\\]|\\.)*)""#)
            .expect("reqwest header regex")
    })
}

/// The URL a `Url { … }` print describes, and the input's bytes of its
/// host (where it is shown).
fn url_of_parts<'a>(joined: &Joined<'a>, start: usize, parts: &str) -> Option<(String, &'a str)> {
    let (mut scheme, mut host, mut port, mut path, mut query) = (None, None, None, None, None);
    let mut host_at = None;
    for c in url_part_re().captures_iter(parts) {
        if let (Some(name), Some(text)) = (c.name("name"), c.name("text")) {
            match name.as_str() {
                "scheme" => scheme = Some(text.as_str()),
                _ => path = Some(text.as_str()),
            }
        } else if let Some(h) = c.name("domain").or(c.name("v4")) {
            host = Some(h.as_str().to_string());
            host_at = Some(h.range());
        } else if let Some(h) = c.name("v6") {
            host = Some(format!("[{}]", h.as_str()));
            host_at = Some(h.range());
        } else if let Some(p) = c.name("port") {
            port = Some(p.as_str());
        } else if let Some(q) = c.name("query") {
            query = Some(q.as_str());
        }
    }
    let (scheme, host, range) = (scheme?, host?, host_at?);
    let mut url = format!("{scheme}://{host}");
    if let Some(p) = port {
        url.push(':');
        url.push_str(p);
    }
    url.push_str(path.unwrap_or("/"));
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    let shown = joined.source(start + range.start, start + range.end)?;
    Some((url, shown))
}

impl LineParser for ReqwestDebug {
    fn tells_exchange(&self) -> bool {
        true
    }

    fn triggers(&self) -> &'static [&'static str] {
        &["reqwest::Error {", "Response {"]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        let (at, is_error) = match line.find("reqwest::Error {") {
            Some(at) => (at, true),
            None => (line.find("Response {")?, false),
        };
        let head = &line[at..];
        // A response's print starts with its URL (one line) or ends the
        // line (pretty); other text with `Response {` is not one.
        if !is_error {
            let after = head["Response {".len()..].trim_start();
            if !(after.is_empty() || after.starts_with("url: ")) {
                return None;
            }
        }
        let mut joined = Joined::new();
        joined.push(head.trim_end());
        let mut depth = depth_after(head, 0);
        let mut j = i + 1;
        while depth > 0 && j < lines.len() && j - i < MAX_LINES && joined.text.len() < MAX_BYTES {
            let l = lines.line(j);
            joined.push(l.trim());
            depth = depth_after(l, depth);
            j += 1;
        }
        // Lines taken only when the value closed in them: an unclosed
        // pretty print is not claimed past its first line.
        let taken = if depth == 0 { j - i } else { 1 };
        if depth > 0 {
            joined.pieces.truncate(1);
            joined.text.truncate(head.trim_end().len());
        }
        let text = joined.text.as_str();
        let status = status_re().captures(text)?.name("status")?;
        let status_shown = joined.source(status.start(), status.end())?;
        let url = url_re().captures(text).and_then(|c| {
            if let Some(t) = c.name("text") {
                let shown = joined.source(t.start(), t.end())?;
                Some((t.as_str().to_string(), shown))
            } else {
                let parts = c.name("parts")?;
                url_of_parts(&joined, parts.start(), parts.as_str())
            }
        });
        let g = ctx.new_exchange();
        let status_field = lines.field(
            "status",
            Value::Num(status.as_str().parse().unwrap_or(0.0)),
            status_shown,
        );
        let span = lines.span_of_lines(i, i + taken - 1);
        if is_error {
            let mut fields = vec![
                lines.field(
                    "exception.type",
                    Value::Str(ERROR_TYPE.into()),
                    &head[..ERROR_TYPE.len()],
                ),
                status_field,
            ];
            if let Some((url, shown)) = url {
                fields.push(lines.field("url", Value::Str(url.into()), shown));
            }
            ctx.emit_grouped(EventKind::Exception, span, fields, g);
            return Some(taken);
        }
        if let Some((url, shown)) = url {
            ctx.emit_grouped(
                EventKind::Request,
                lines.span_of(shown),
                vec![lines.field("url", Value::Str(url.into()), shown)],
                g,
            );
        }
        ctx.emit_grouped(EventKind::Status, span, vec![status_field], g);
        if let Some(open) = text.find("headers: {") {
            let from = open + "headers: {".len();
            let close = text[from..].find("} ").or_else(|| text[from..].rfind('}'));
            let block = &text[from..from + close.unwrap_or(text.len() - from)];
            for c in header_re().captures_iter(block) {
                let (Some(name), Some(value)) = (c.name("name"), c.name("value")) else {
                    continue;
                };
                let Some(shown) = joined.source(from + value.start(), from + value.end()) else {
                    continue;
                };
                let whole = joined
                    .source(from + name.start() - 1, from + value.end() + 1)
                    .unwrap_or(shown);
                ctx.emit_grouped(
                    EventKind::Header,
                    lines.span_of(whole),
                    vec![Field {
                        name: format!("header.{}", name.as_str().to_ascii_lowercase()).into(),
                        value: Value::Str(value.as_str().into()),
                        span: lines.span_of(shown),
                    }],
                    g,
                );
            }
        }
        Some(taken)
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_chunk;
    use super::super::tests::{chunk, field_value as get};

    #[test]
    fn pretty_response_gives_url_status_and_headers() {
        let t = r#"[src/bin/client.rs:19] &response = Response {
    url: Url {
        scheme: "https",
        cannot_be_a_base: false,
        username: "",
        password: None,
        host: Some(
            Domain(
                "api.github.com",
            ),
        ),
        port: None,
        path: "/repos/acme/tools/stargazers",
        query: Some(
            "per_page=100",
        ),
        fragment: None,
    },
    status: 403,
    headers: {
        "cache-control": "no-cache",
        "content-type": "text/html; charset=utf-8",
    },
}
Error: reqwest::Error { kind: Decode, source: Error("expected value", line: 2, column: 1) }
"#;
        assert_eq!(get(t, "status").as_deref(), Some("403"));
        assert_eq!(
            get(t, "url").as_deref(),
            Some("https://api.github.com/repos/acme/tools/stargazers?per_page=100")
        );
        assert_eq!(
            get(t, "header.content-type").as_deref(),
            Some("text/html; charset=utf-8")
        );
        // The decode error is left to the other readers.
        assert!(parse_chunk(&chunk(t)).iter().all(|e| {
            e.field("exception.type")
                .is_none_or(|f| f.value.to_string() != "reqwest::Error")
        }));
    }

    #[test]
    fn one_line_response_with_port_and_ip() {
        let t = r#"got Response { url: Url { scheme: "http", cannot_be_a_base: false, username: "", password: None, host: Some(Ipv4(127.0.0.1)), port: Some(8080), path: "/v1/items", query: None, fragment: None }, status: 502, headers: {"server": "nginx", "content-length": "0"} }"#;
        assert_eq!(get(t, "status").as_deref(), Some("502"));
        assert_eq!(
            get(t, "url").as_deref(),
            Some("http://127.0.0.1:8080/v1/items")
        );
        assert_eq!(get(t, "header.server").as_deref(), Some("nginx"));
    }

    #[test]
    fn error_for_status_in_each_release_form() {
        for t in [
            r#"Error: reqwest::Error { kind: Status(401), url: "https://api.example.com/v2/me" }"#,
            r#"Error: reqwest::Error { kind: Status(401, None), url: "https://api.example.com/v2/me" }"#,
            "Error: reqwest::Error {\n    kind: Status(\n        401,\n    ),\n    url: \"https://api.example.com/v2/me\",\n}\n",
            r#"called `Result::unwrap()` on an `Err` value: reqwest::Error { kind: Status(401), url: Url { scheme: "https", cannot_be_a_base: false, username: "", password: None, host: Some(Domain("api.example.com")), port: None, path: "/v2/me", query: None, fragment: None } }"#,
        ] {
            assert_eq!(get(t, "status").as_deref(), Some("401"), "{t}");
            assert_eq!(
                get(t, "url").as_deref(),
                Some("https://api.example.com/v2/me"),
                "{t}"
            );
            assert_eq!(
                get(t, "exception.type").as_deref(),
                Some("reqwest::Error"),
                "{t}"
            );
        }
    }

    #[test]
    fn other_kinds_and_prose_are_not_claimed_here() {
        let t = r#"Error: reqwest::Error { kind: Request, url: "https://api.example.com/", source: hyper_util::client::legacy::Error(Connect, ConnectError("tcp connect error", Os { code: 111, kind: ConnectionRefused, message: "Connection refused" })) }"#;
        assert_ne!(get(t, "exception.type").as_deref(), Some("reqwest::Error"));
        assert!(get("the Response { is built } later\n", "status").is_none());
    }
}
