//! HTTP messages as clients print them: raw request and status lines with
//! headers, curl `-v` transcripts (`> `, `< `, `* ` prefixes) and urllib3's
//! DEBUG access lines (`https://host:443 "POST /path HTTP/1.1" 403 95`).

use nom::bytes::complete::{take_while_m_n, take_while1};
use nom::character::complete::{char, space0, space1};
use nom::combinator::{opt, rest};
use nom::{IResult, Parser};

use super::{Ctx, Direction, EventKind, Field, LineParser, Lines, Value};

const METHODS: [&str; 9] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE",
];

/// One of [`METHODS`]: the run of up to 7 upper-case letters, at least 3
/// (nom's `take_while_m_n(3, 7, …)`), read by byte (see the test against
/// nom's reading): it runs on every access line of a big log.
fn method(i: &str) -> IResult<&str, &str> {
    let n = i.bytes().take(7).take_while(u8::is_ascii_uppercase).count();
    let m = &i[..n];
    if n >= 3 && METHODS.contains(&m) {
        Ok((&i[n..], m))
    } else {
        Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Tag,
        )))
    }
}

/// `HTTP/1.1` → the version's digits and dots, read by byte (as
/// [`method`]).
fn http_version(i: &str) -> IResult<&str, &str> {
    let Some(digits) = i.strip_prefix("HTTP/") else {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Tag,
        )));
    };
    let n = digits
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count();
    if n == 0 {
        return Err(nom::Err::Error(nom::error::Error::new(
            digits,
            nom::error::ErrorKind::TakeWhile1,
        )));
    }
    Ok((&digits[n..], &digits[..n]))
}

/// `POST /oauth/token HTTP/1.1` → (method, target)
pub fn request_line(i: &str) -> IResult<&str, (&str, &str)> {
    let (i, (m, _, target, _, _)) = (
        method,
        space1,
        take_while1(|c: char| !c.is_whitespace()),
        space1,
        http_version,
    )
        .parse(i)?;
    let (i, _) = space0.parse(i)?;
    if !i.is_empty() {
        return Err(nom::Err::Error(nom::error::Error::new(
            i,
            nom::error::ErrorKind::Eof,
        )));
    }
    Ok((i, (m, target)))
}

/// `HTTP/1.1 403 Forbidden` → (status digits, reason)
pub fn status_line(i: &str) -> IResult<&str, (&str, &str)> {
    let (i, (_, _, code)) = (
        http_version,
        space1,
        take_while_m_n(3, 3, |c: char| c.is_ascii_digit()),
    )
        .parse(i)?;
    let (i, reason) = opt((space1, rest).map(|(_, r): (&str, &str)| r.trim_end())).parse(i)?;
    Ok((i, (code, reason.unwrap_or(""))))
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// `Content-Type: application/json` → (name, value)
pub fn header_line(i: &str) -> IResult<&str, (&str, &str)> {
    let (i, (name, _, _)) = (take_while1(is_token_char), char(':'), space0).parse(i)?;
    let value = i.trim_end();
    Ok(("", (name, value)))
}

/// urllib3: `https://api.x.com:443 "POST /oauth/token HTTP/1.1" 400 95`
/// → (scheme, origin, method, target, status digits). Read by hand, as
/// nom's per-char combinators read it (the same grammar: see the test
/// against them), for half their instructions on every access line of a
/// big log.
fn urllib3_access(i: &str) -> Option<(&str, &str, &str, &str, &str)> {
    let scheme = ["https://", "http://"]
        .into_iter()
        .find(|s| i.starts_with(s))?;
    let (origin, rest) = split_run(&i[scheme.len()..], false)?;
    let rest = spaces1(rest)?.strip_prefix('"')?;
    let (rest, m) = method(rest).ok()?;
    let (target, rest) = split_run(spaces1(rest)?, true)?;
    let (rest, _) = http_version(spaces1(rest)?).ok()?;
    let rest = spaces1(rest.strip_prefix('"')?)?;
    let status = rest.get(..3)?;
    status
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then_some((scheme, origin, m, target, status))
}

/// `s` split before its first whitespace, or `"` too when `quote_ends`;
/// `None` when that is the first (nom's `take_while1` of the others).
/// ASCII is tested without decoding, eight bytes at a time while none can
/// end the run: an access line's host and path are most of its bytes.
fn split_run(s: &str, quote_ends: bool) -> Option<(&str, &str)> {
    let stop = |c: char| c.is_whitespace() || (quote_ends && c == '"');
    let bytes = s.as_bytes();
    // Every ASCII char that can end the run is at most `"` (0x22): a word
    // whose bytes are all in 0x23..0x80 holds none, nor a non-ASCII one.
    let mut from = 0;
    while let Some(Ok(word)) = bytes.get(from..from + 8).map(<[u8; 8]>::try_from) {
        let x = u64::from_le_bytes(word);
        // Per byte, bit 7 of `high` is set for those whose low seven bits
        // are at least 0x23 (no carry: 0x7f + 0x5d < 0x100).
        let high = (x & 0x7f7f_7f7f_7f7f_7f7f) + 0x5d5d_5d5d_5d5d_5d5d;
        if (!high | x) & 0x8080_8080_8080_8080 != 0 {
            break;
        }
        from += 8;
    }
    let ascii = (bytes[from..].iter())
        .position(|&b| !b.is_ascii() || stop(char::from(b)))
        .map(|at| from + at);
    let at = match ascii {
        Some(at) if !s.as_bytes()[at].is_ascii() => at + s[at..].find(stop).unwrap_or(s.len() - at),
        Some(at) => at,
        None => s.len(),
    };
    (at > 0).then(|| s.split_at(at))
}

/// `s` after its leading spaces and tabs, of which it needs one (nom's
/// `space1`).
fn spaces1(s: &str) -> Option<&str> {
    let n = s.bytes().take_while(|&b| b == b' ' || b == b'\t').count();
    (n > 0).then(|| &s[n..])
}

/// An HTTP status code: three digits, 1xx to 5xx.
pub(crate) fn is_status_code(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && b.iter().all(u8::is_ascii_digit)
}

fn status_value(code: &str) -> Value {
    // Three digits (every caller's), read without the float parser, which
    // cost more than the rest of an access line's status.
    if let &[a, b, c] = code.as_bytes()
        && [a, b, c].iter().all(u8::is_ascii_digit)
    {
        return Value::Num(f64::from(
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'),
        ));
    }
    Value::Num(code.parse::<f64>().unwrap_or(0.0))
}

/// Emits a request-line event. `target` may be a path or an absolute URL.
fn emit_request(ctx: &mut Ctx, lines: &Lines, line: &str, m: &str, target: &str) {
    ctx.emit(
        EventKind::Request,
        lines.span_of(line),
        vec![lines.str_field("method", m), lines.str_field("url", target)],
    );
}

fn emit_status(ctx: &mut Ctx, lines: &Lines, line: &str, code: &str, reason: &str) {
    let fields = status_fields(lines, code, reason);
    ctx.emit(EventKind::Status, lines.span_of(line), fields);
}

fn status_fields(lines: &Lines, code: &str, reason: &str) -> Vec<Field> {
    let mut fields = vec![lines.field("status", status_value(code), code)];
    if !reason.is_empty() {
        fields.push(lines.str_field("reason", reason));
    }
    fields
}

fn emit_header(ctx: &mut Ctx, lines: &Lines, line: &str, dir: Direction, name: &str, value: &str) {
    let prefix = match dir {
        Direction::Request => "request.header.",
        Direction::Response => "header.",
    };
    let field = Field {
        name: format!("{prefix}{}", name.to_ascii_lowercase()).into(),
        value: Value::Str(value.into()),
        span: lines.span_of(value),
    };
    match ctx.message_group {
        Some(g) => ctx.emit_grouped(EventKind::Header, lines.span_of(line), vec![field], g),
        None => ctx.emit(EventKind::Header, lines.span_of(line), vec![field]),
    }
}

/// curl `-v` transcripts. One exchange (connection, request, response and
/// the body after it) is one group, so curl's informational `* ` lines
/// between response headers (`* Added cookie …`) do not split it; the
/// scheme of a relative request target comes from the connection (TLS seen
/// or not), so a plain-HTTP exchange is `http://`.
pub struct Curl;

/// What curl said about the connection the next request goes over.
#[derive(Debug, Default)]
pub struct CurlConnection {
    link: Link,
    /// The last request event, whose URL a `Host:` header may correct
    /// until its response begins.
    request: Option<usize>,
}

/// Where a connection goes: what the relative target of a request sent
/// over it is read against. It outlasts the exchange (curl reuses the
/// connection), so a scan that restarts after the exchange begins with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Link {
    host: std::sync::Arc<str>,
    port: Option<u16>,
    tls: bool,
}

impl CurlConnection {
    /// Whether an event is referred to by its index (see `request`).
    pub(super) fn holds_event(&self) -> bool {
        self.request.is_some()
    }

    pub(super) fn link(&self) -> &Link {
        &self.link
    }

    pub(super) fn resumed(link: &Link) -> Self {
        CurlConnection {
            link: link.clone(),
            request: None,
        }
    }

    /// The request is told whole once its response begins: a `Host:`
    /// header after that is not its own.
    fn answered(&mut self) {
        self.request = None;
    }
}

impl Link {
    fn url(&self, host: &str, target: &str) -> String {
        let scheme = if self.tls || self.port == Some(443) {
            "https"
        } else {
            "http"
        };
        let default = if scheme == "https" { 443 } else { 80 };
        // A Host header names its port itself; the connection's port
        // applies to the connection's own host name.
        let port = match self.port {
            Some(p) if p != default && !host.contains(':') => format!(":{p}"),
            _ => String::new(),
        };
        let host = host.strip_suffix(&format!(":{default}")).unwrap_or(host);
        format!("{scheme}://{host}{port}{target}")
    }
}

/// curl's info lines that mean the connection is TLS.
const TLS_INFO: [&str; 6] = [
    "SSL connection using",
    "TLSv1",
    "ALPN",
    "Server certificate:",
    "SSL certificate verify",
    "CAfile:",
];

impl LineParser for Curl {
    fn tells_exchange(&self) -> bool {
        true
    }

    fn triggers(&self) -> &'static [&'static str] {
        &["> ", "< ", "* ", ">", "<"]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        if line == ">" {
            return Some(1);
        }
        if ctx.body_line && line.starts_with("* ") {
            // curl's notes between the headers and the body.
            ctx.response_body_next = true;
        }
        if line == "<" {
            // The end of the response headers: the body comes next.
            ctx.response_body_next = true;
            ctx.body_group = ctx.exchange;
            if let Some(c) = ctx.curl.as_mut() {
                c.answered();
            }
            return Some(1);
        }
        let (marker, body) = (line.get(..2)?, line.get(2..).unwrap_or(""));
        match marker {
            "> " => {
                if let Ok((_, (m, target))) = request_line(body) {
                    if ctx.exchange_has_request || ctx.exchange.is_none() {
                        ctx.new_exchange();
                    }
                    let g = ctx.current_exchange();
                    ctx.exchange_has_request = true;
                    ctx.body_group = None;
                    let url = match &ctx.curl {
                        Some(c) if target.starts_with('/') && !c.link.host.is_empty() => {
                            c.link.url(&c.link.host, target)
                        }
                        _ => target.to_string(),
                    };
                    ctx.emit_grouped(
                        EventKind::Request,
                        lines.span_of(line),
                        vec![
                            lines.str_field("method", m),
                            lines.field("url", Value::Str(url.into()), target),
                        ],
                        g,
                    );
                    let at = ctx.events.len() - 1;
                    ctx.curl.get_or_insert_with(Default::default).request = Some(at);
                } else if ctx.curl.is_none() {
                    // No connection or request line before it: a quoted
                    // line (`> AADSTS650057: …` in a pasted forum post or
                    // e-mail), which the other parsers read.
                    return None;
                } else if let Ok((_, (name, value))) = header_line(body) {
                    if name.eq_ignore_ascii_case("host") {
                        correct_host(ctx, value);
                    }
                    let g = ctx.current_exchange();
                    emit_header_grouped(ctx, lines, line, Direction::Request, name, value, g);
                }
                Some(1)
            }
            "< " => {
                let g = ctx.current_exchange();
                if let Some(c) = ctx.curl.as_mut() {
                    c.answered();
                }
                if let Ok((_, (code, reason))) = status_line(body) {
                    let mut fields = vec![lines.field("status", status_value(code), code)];
                    if !reason.is_empty() {
                        fields.push(lines.str_field("reason", reason));
                    }
                    ctx.emit_grouped(EventKind::Status, lines.span_of(line), fields, g);
                } else if let Ok((_, (name, value))) = header_line(body) {
                    emit_header_grouped(ctx, lines, line, Direction::Response, name, value, g);
                } else if body.trim().is_empty() {
                    // The end of the response headers: the body comes next.
                    ctx.body_group = Some(g);
                }
                Some(1)
            }
            // Terraform's (0.11 and older) list of errors, `* aws_instance.web:
            // Error launching source instance: …`, is no curl note: the
            // other parsers read it.
            "* " if ctx.curl.is_none() && is_terraform_item(body) => None,
            "* " => {
                // `* Connected to api.example.com (127.0.0.1) port 443 (#0)`
                if let Some(rest) = body.strip_prefix("Connected to ")
                    && let Some(host) = rest.split_whitespace().next()
                {
                    let port = rest
                        .split_once(" port ")
                        .and_then(|(_, p)| p.split_whitespace().next());
                    // A connection opened for the command already seen
                    // (its URL, its body) belongs to that command.
                    if ctx.exchange.is_none() || ctx.exchange_has_request {
                        ctx.new_exchange();
                    }
                    ctx.body_group = None;
                    ctx.curl = Some(CurlConnection {
                        link: Link {
                            host: host.into(),
                            port: port.and_then(|p| p.parse().ok()),
                            tls: false,
                        },
                        request: None,
                    });
                    let mut fields = vec![lines.str_field("url.host", host)];
                    if let Some(p) = port.filter(|p| !matches!(*p, "443" | "80"))
                        && let Ok(n) = p.parse::<f64>()
                    {
                        fields.push(lines.field("url.port", Value::Num(n), p));
                    }
                    // Not part of the exchange group: the request's URL
                    // already names the host, and the incident starts at
                    // the request. Alone (a TLS failure before any request)
                    // it still goes with curl's error after it.
                    ctx.emit(EventKind::Host, lines.span_of(line), fields);
                } else if let Some(rest) = body.strip_prefix("The requested URL returned error: ")
                    && let Some(code) = rest.split_whitespace().next().filter(|c| is_status_code(c))
                    && let Some(g) = ctx.exchange
                    && !ctx
                        .events
                        .iter()
                        .rev()
                        .take(64)
                        .any(|e| e.group == Some(g) && e.kind == EventKind::Status)
                {
                    // `--fail` (libcurl's CURLOPT_FAILONERROR) stops at an
                    // error status before printing the response: this note
                    // is the only place the status shows, as in a client
                    // that prints curl's verbose output but not its exit
                    // message (`… error: 401 Unauthorized` before 7.77,
                    // the number alone since).
                    let mut fields = vec![lines.field("status", status_value(code), code)];
                    let reason = rest[code.len()..].trim();
                    if !reason.is_empty() {
                        fields.push(lines.str_field("reason", reason));
                    }
                    ctx.emit_grouped(EventKind::Status, lines.span_of(line), fields, g);
                } else if TLS_INFO.iter().any(|t| body.trim_start().starts_with(t))
                    && let Some(c) = ctx.curl.as_mut()
                {
                    c.link.tls = true;
                }
                Some(1)
            }
            _ => None,
        }
    }
}

/// Whether a `* ` line's text starts with a Terraform address and a colon
/// (`aws_instance.web: `, `module.net.google_x.y: `, `provider.aws: `), as
/// no curl note does.
fn is_terraform_item(text: &str) -> bool {
    let Some((address, _)) = text.split_once(": ") else {
        return false;
    };
    address.starts_with(|c: char| c.is_ascii_lowercase())
        && address.contains('.')
        && address
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-[]\"".contains(&b))
}

/// A request's `Host:` header names the host its relative target is on
/// (through a proxy it differs from the connection's).
fn correct_host(ctx: &mut Ctx, host: &str) {
    let Some(conn) = ctx.curl.as_ref() else {
        return;
    };
    let Some(at) = conn.request else { return };
    let Some(event) = ctx.events.get(at) else {
        return;
    };
    let Some(f) = event.fields.iter().position(|f| f.name == "url") else {
        return;
    };
    let target = match &event.fields[f].value {
        Value::Str(u) => u
            .split_once("://")
            .and_then(|(_, r)| r.find('/').map(|p| r[p..].to_string())),
        _ => None,
    };
    if let Some(target) = target {
        let url = conn.link.url(host.trim(), &target);
        if let Some(event) = ctx.events.get_mut(at) {
            event.fields[f].value = Value::Str(url.into());
        }
    }
}

fn emit_header_grouped(
    ctx: &mut Ctx,
    lines: &Lines,
    line: &str,
    dir: Direction,
    name: &str,
    value: &str,
    group: usize,
) {
    let prefix = match dir {
        Direction::Request => "request.header.",
        Direction::Response => "header.",
    };
    let field = Field {
        name: format!("{prefix}{}", name.to_ascii_lowercase()).into(),
        value: Value::Str(value.into()),
        span: lines.span_of(value),
    };
    ctx.emit_grouped(EventKind::Header, lines.span_of(line), vec![field], group);
}

/// urllib3 / requests DEBUG access lines, wherever they sit in a log line.
pub struct Urllib3Debug;

impl LineParser for Urllib3Debug {
    fn triggers(&self) -> &'static [&'static str] {
        &["Starting new HTTP", " HTTP/"]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        // Finders built once: `str::find` sets up a searcher per call, which
        // cost more than the search on every ` HTTP/` line of a big log.
        static FINDERS: std::sync::OnceLock<[memchr::memmem::Finder<'static>; 4]> =
            std::sync::OnceLock::new();
        let [starting, version, scheme_end, closing] = FINDERS.get_or_init(|| {
            ["Starting new HTTP", " HTTP/", "://", "): "].map(memchr::memmem::Finder::new)
        });
        let bytes = line.as_bytes();
        // `Starting new HTTPS connection (1): login.mypurecloud.com:443`
        if let Some(at) = starting.find(bytes) {
            let rest = &line[at..];
            let target = &rest[closing.find(rest.as_bytes())? + "): ".len()..];
            let target = target.trim();
            let (host, port) = memchr::memrchr(b':', target.as_bytes())
                .map_or((target, ""), |c| (&target[..c], &target[c + 1..]));
            let mut fields = vec![lines.str_field("url.host", host)];
            let https = rest.starts_with("Starting new HTTPS");
            let default = (https && port == "443") || (!https && port == "80");
            // The default port is not told, nor read.
            if !default && let Ok(p) = port.parse::<f64>() {
                fields.push(lines.field("url.port", Value::Num(p), port));
            }
            ctx.emit(EventKind::Host, lines.span_of(line), fields);
            return Some(1);
        }
        // The first `https://`, else the first `http://`, from one search:
        // each ends in a `://` (which cannot overlap another).
        let (mut https, mut http) = (None, None);
        for p in scheme_end.find_iter(bytes) {
            if bytes[..p].ends_with(b"https") {
                https = Some(p - "https".len());
                break;
            }
            if http.is_none() && bytes[..p].ends_with(b"http") {
                http = Some(p - "http".len());
            }
        }
        // The first `https://` may sit inside the target's query
        // (`?resource=https://…`) after the `http://` the line starts at.
        let (start, (scheme, origin, m, target, status)) = [https, http]
            .into_iter()
            .flatten()
            .find_map(|start| Some((start, urllib3_access(&line[start..])?)))?;
        // The line must hold ` HTTP/`: it does when the version read is
        // after a space (not only tabs), else it is searched for.
        let after_target =
            &line[target.as_ptr() as usize - line.as_ptr() as usize + target.len()..];
        let blanks = after_target
            .bytes()
            .take_while(|&b| b == b' ' || b == b'\t')
            .count();
        let spaced = blanks > 0 && after_target.as_bytes()[blanks - 1] == b' ';
        if !spaced && version.find(bytes).is_none() {
            return None;
        }
        emit_urllib3_access(ctx, lines, line, start, [scheme, origin, m, target, status]);
        Some(1)
    }
}

/// The request and status events of a urllib3 access line read at `start`
/// of `line` as `[scheme, origin, method, target, status]`.
fn emit_urllib3_access(ctx: &mut Ctx, lines: &Lines, line: &str, start: usize, read: [&str; 5]) {
    let [scheme, origin, m, target, status] = read;
    let pool = &line[start..start + scheme.len() + origin.len()];
    // Sized for the proxied form's three: this runs on every access line.
    let mut fields = Vec::with_capacity(3);
    fields.push(lines.str_field("method", m));
    // Through a forward proxy urllib3's pool is the proxy's, and the
    // target the absolute URL (`http://proxy:3128 "GET http://… HTTP/1.1"`).
    if target.starts_with("http://") || target.starts_with("https://") {
        fields.push(lines.str_field("url", target));
        fields.push(lines.str_field("proxy", pool));
    } else {
        let host = origin
            .strip_suffix(":443")
            .or_else(|| origin.strip_suffix(":80"))
            .unwrap_or(origin);
        // One allocation of the exact size (`format!` grows it in steps,
        // `concat` costs more in its generic sums and copies).
        let mut url = String::with_capacity(scheme.len() + host.len() + target.len());
        url.push_str(scheme);
        url.push_str(host);
        url.push_str(target);
        fields.push(Field {
            name: "url".into(),
            value: Value::Str(url.into()),
            span: lines.span_of(pool).cover(lines.span_of(target)),
        });
    }
    ctx.emit(EventKind::Request, lines.span_of(line), fields);
    ctx.emit(
        EventKind::Status,
        lines.span_of(line),
        vec![lines.field("status", status_value(status), status)],
    );
}

/// Whether curl, run with these words, prints the response body and
/// nothing else: no verbose or trace output, no headers, no output file.
fn prints_body_alone(words: &[String]) -> bool {
    !words.iter().skip(1).any(|w| {
        matches!(
            w.as_str(),
            "-v" | "--verbose"
                | "-i"
                | "--include"
                | "-I"
                | "--head"
                | "-D"
                | "--dump-header"
                | "-o"
                | "--output"
                | "-O"
                | "--remote-name"
                | "--trace"
                | "--trace-ascii"
        ) || (w.starts_with('-')
            && !w.starts_with("--")
            && w.len() > 2
            && w[1..]
                .chars()
                .any(|c| matches!(c, 'v' | 'i' | 'I' | 'D' | 'o' | 'O')))
    })
}

/// Lines one `\`-continued curl command may take.
const MAX_CONTINUED_LINES: usize = 256;

/// A curl command line (`$ curl -v -X POST URL -d '…'`), possibly continued
/// with `\` over several lines: it tells the URL, method and request body
/// that curl's `-v` output does not show.
pub struct CurlCommand;

impl LineParser for CurlCommand {
    fn tells_exchange(&self) -> bool {
        true
    }

    fn triggers(&self) -> &'static [&'static str] {
        &["curl "]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let first = lines.line(i);
        let trimmed = first
            .trim_start()
            .trim_start_matches(['$', '%', '>'])
            .trim_start();
        if !trimmed.starts_with("curl ") {
            return None;
        }
        let mut last = i;
        while lines.line(last).trim_end().ends_with('\\')
            && last + 1 < lines.len()
            && last - i < MAX_CONTINUED_LINES
        {
            last += 1;
            super::work::add(lines.line(last).len() + 1);
        }
        // A continued command that cannot be read is still this command's
        // lines: claiming them keeps the next line from rescanning them.
        let unreadable = (last > i).then_some(last - i + 1);
        let span = lines.span_of_lines(i, last);
        let text = &lines.text[span.start - lines.base..span.end - lines.base];
        let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
        let Some(start) = joined.find("curl ") else {
            return unreadable;
        };
        let Some(words) = shlex::split(&joined[start..]) else {
            return unreadable;
        };
        let mut url = None;
        let mut method = None;
        let mut data: Vec<String> = Vec::new();
        let mut headers: Vec<String> = Vec::new();
        let mut it = words.iter().skip(1);
        while let Some(w) = it.next() {
            match w.as_str() {
                "-X" | "--request" => method = it.next().cloned(),
                "-d" | "--data" | "--data-raw" | "--data-binary" | "--data-urlencode" => {
                    data.extend(it.next().cloned())
                }
                "-H" | "--header" => headers.extend(it.next().cloned()),
                "-u" | "--user" | "-o" | "--output" | "-m" | "--max-time" | "--connect-timeout"
                | "--resolve" | "--cacert" | "-A" | "--user-agent" | "-w" | "--write-out"
                | "-x" | "--proxy" => {
                    it.next();
                }
                w if w.starts_with("http://") || w.starts_with("https://") => {
                    url = Some(w.to_string())
                }
                _ => {}
            }
        }
        let Some(url) = url else {
            return unreadable;
        };
        let method = method.unwrap_or_else(|| {
            if data.is_empty() {
                "GET".into()
            } else {
                "POST".into()
            }
        });
        let locate = |needle: &str| {
            text.find(needle)
                .map(|p| crate::input::Span::new(span.start + p, span.start + p + needle.len()))
                .unwrap_or(span)
        };
        let mut fields = vec![
            Field {
                name: "url".into(),
                value: Value::Str(url.clone().into()),
                span: locate(&url),
            },
            Field {
                name: "method".into(),
                value: Value::Str(method.clone().into()),
                span: locate(&method),
            },
            Field {
                name: "client".into(),
                value: Value::Str("curl".into()),
                span: locate("curl"),
            },
        ];
        for h in &headers {
            if let Some((name, value)) = h.split_once(':') {
                fields.push(Field {
                    name: format!("request.header.{}", name.trim().to_ascii_lowercase()).into(),
                    value: Value::Str(value.trim().into()),
                    span: locate(value.trim()),
                });
            }
        }
        // The command starts an exchange: its `-v` output joins it. A
        // command that prints the body alone (no `-v`, `-i`, `-D`, `-o`,
        // as `curl -s URL` does) is answered by the body that comes next.
        let g = ctx.new_exchange();
        ctx.curl = None;
        ctx.body_group = prints_body_alone(&words).then_some(g);
        ctx.command_awaits_answer = true;
        ctx.emit_grouped(EventKind::Host, span, fields, g);
        if !data.is_empty() {
            let body = data.join("&");
            let body_span = locate(&data[0]);
            ctx.emit_grouped(
                EventKind::RequestBody,
                body_span,
                vec![Field {
                    name: "request.body".into(),
                    value: Value::Str(body.into()),
                    span: body_span,
                }],
                g,
            );
        }
        Some(last - i + 1)
    }
}

/// The body after a raw request's headers: a form (`grant_type=…&…`) or JSON.
pub struct RequestBody;

impl LineParser for RequestBody {
    fn triggers(&self) -> &'static [&'static str] {
        &["=", "{"]
    }

    fn inside_block_only(&self) -> bool {
        true
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        if !ctx.request_body_next {
            return None;
        }
        let line = lines.line(i).trim();
        let is_form = !line.contains(' ')
            && line.split('&').all(|pair| {
                pair.split_once('=').is_some_and(|(k, _)| {
                    !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "_-.[]".contains(c))
                })
            });
        if is_form {
            ctx.emit(
                EventKind::RequestBody,
                lines.span_of(line),
                vec![lines.str_field("request.body", line)],
            );
            return Some(1);
        }
        if line.starts_with('{') {
            let rest = lines.rest_from(i).trim_start();
            let node = super::json::parse_value(rest);
            lines.value_read(rest, node.as_ref().map(|n| n.raw));
            let node = node?;
            let span = lines.span_of(node.raw);
            ctx.emit(
                EventKind::RequestBody,
                span,
                vec![lines.str_field("request.body", node.raw)],
            );
            let last = lines.line_at(span.end - lines.base - 1);
            return Some(last - i + 1);
        }
        None
    }
}

/// A plain-text response body right after the headers (`Your IP (…) is
/// not authorized to use this API key`, Go's `404 page not found`): its
/// lines up to a blank line, a curl marker or a line that starts another
/// record, at most [`MAX_TEXT_BODY_LINES`]. JSON and markup bodies are
/// their own parsers'.
pub struct TextBody;

/// Lines a plain-text body may take: an error sentence or two, not a page.
const MAX_TEXT_BODY_LINES: usize = 6;

/// Bytes a plain-text body may take.
const MAX_TEXT_BODY_BYTES: usize = 1024;

impl LineParser for TextBody {
    fn triggers(&self) -> &'static [&'static str] {
        // Any line: it is tried only right after a response's headers.
        &[""]
    }

    fn inside_block_only(&self) -> bool {
        true
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        if !ctx.body_line || !could_be_text_body(lines.line(i)) {
            return None;
        }
        let mut last = i;
        let mut bytes = lines.line(i).trim().len();
        while last + 1 < lines.len() && last + 1 - i < MAX_TEXT_BODY_LINES {
            let next = lines.line(last + 1);
            bytes += next.trim().len() + 1;
            if next.trim().is_empty()
                || !could_be_text_body(next)
                || bytes > MAX_TEXT_BODY_BYTES
                || another_format_may_claim(next)
            {
                break;
            }
            last += 1;
        }
        let text = lines.text[lines.bounds[i].0..lines.bounds[last].1].trim();
        ctx.emit(
            EventKind::Body,
            lines.span_of(text),
            vec![
                lines.str_field("body", text),
                lines.field("body.format", Value::Str("text".into()), text),
            ],
        );
        Some(last - i + 1)
    }
}

/// Whether a parser other than [`TextBody`] has a trigger in `line`: a
/// line after a body's first is the body's only if no other format could
/// start there (`npm ERR! …`, `goroutine 1 [running]:`).
fn another_format_may_claim(line: &str) -> bool {
    let words = super::provider_words::builtin();
    super::parsers()
        .iter()
        .filter(|p| p.name() != TextBody.name())
        .any(|p| super::admits(*p, &words, line))
}

/// Whether `line` may be (part of) a plain-text body: not a JSON or markup
/// body, a curl marker, an HTTP message, a shell prompt or a log record of
/// its own.
fn could_be_text_body(line: &str) -> bool {
    let t = line.trim();
    if t.is_empty()
        || t.starts_with(['{', '[', '<', '>', '*', '$', '#', '%', '\u{276f}'])
        || t.starts_with("HTTP/")
        || t.starts_with("curl")
        // A label for what follows (`Content:`, `Headers:`), not a body.
        || t.ends_with(':')
        || t.len() > MAX_TEXT_BODY_BYTES
    {
        return false;
    }
    // A record with a time (`2024-05-01 …`, `12:03:44 …`) or a level first.
    let b = t.as_bytes();
    let digits = |n: usize| b.len() > n && b[..n].iter().all(u8::is_ascii_digit);
    let timed = (digits(2) && matches!(b[2], b':' | b'-' | b'/' | b'.'))
        || (digits(4) && matches!(b[4], b'-' | b'/'));
    let word = t.split([' ', ':', ']', '|']).next().unwrap_or("");
    let level = matches!(
        word.to_ascii_uppercase().as_str(),
        "TRACE" | "DEBUG" | "INFO" | "NOTICE" | "WARN" | "WARNING" | "ERROR" | "FATAL" | "CRITICAL"
    );
    // `user@host:~/dir$ next command`: the next thing typed, not output.
    let prompt = t.split_whitespace().next().is_some_and(|w| {
        w.contains('@') && (w.ends_with('$') || w.ends_with('#') || w.contains(":~"))
    });
    !(timed || level || prompt)
}

/// Raw HTTP messages: a request or status line; the headers after it are
/// [`HttpHeader`]'s.
pub struct HttpMessage;

impl LineParser for HttpMessage {
    fn triggers(&self) -> &'static [&'static str] {
        &["HTTP/"]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        let trimmed = line.trim();
        if let Ok((_, (m, target))) = request_line(trimmed) {
            ctx.command_awaits_answer = false;
            emit_request(ctx, lines, trimmed, m, target);
            ctx.open(Direction::Request, false);
            return Some(1);
        }
        if let Ok((_, (code, reason))) = status_line(trimmed) {
            // `curl -i` (or `-D -`) prints the response raw after its
            // command: the command's exchange, with its headers and body.
            let awaited = std::mem::take(&mut ctx.command_awaits_answer);
            let command = ctx.exchange.filter(|_| awaited && ctx.curl.is_none());
            match command {
                Some(g) => {
                    let fields = status_fields(lines, code, reason);
                    ctx.emit_grouped(EventKind::Status, lines.span_of(trimmed), fields, g);
                    ctx.open(Direction::Response, false);
                    ctx.message_group = Some(g);
                }
                None => {
                    emit_status(ctx, lines, trimmed, code, reason);
                    ctx.open(Direction::Response, false);
                }
            }
            return Some(1);
        }
        None
    }
}

/// `Name: value` lines inside an HTTP message, up to a blank line or the
/// first line that is not a header. Only there: a log line such as
/// `ERROR:core.utils: …` elsewhere is not a header.
pub struct HttpHeader;

/// Log levels and exception types are never header names, though
/// `ERROR:root:…` and `TypeError: …` look like headers.
fn never_a_header(name: &str) -> bool {
    const LEVELS: [&str; 11] = [
        "TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "FATAL", "CRITICAL",
        "SEVERE", "ERR",
    ];
    LEVELS.iter().any(|l| l.eq_ignore_ascii_case(name))
        || (!name.contains('-') && (name.ends_with("Error") || name.ends_with("Exception")))
}

/// After a status stated in prose (`Token request failed: HTTP 400`), the
/// lines that follow are headers only if they are named like headers.
fn looks_like_header_name(name: &str) -> bool {
    const SINGLE: [&str; 30] = [
        "accept",
        "age",
        "allow",
        "authorization",
        "connection",
        "cookie",
        "date",
        "digest",
        "etag",
        "expect",
        "expires",
        "forwarded",
        "from",
        "host",
        "link",
        "location",
        "origin",
        "pragma",
        "prefer",
        "range",
        "referer",
        "refresh",
        "server",
        "status",
        "te",
        "trailer",
        "upgrade",
        "vary",
        "via",
        "warning",
    ];
    name.contains('-') || SINGLE.iter().any(|h| h.eq_ignore_ascii_case(name))
}

impl LineParser for HttpHeader {
    fn triggers(&self) -> &'static [&'static str] {
        &[":"]
    }

    fn inside_block_only(&self) -> bool {
        true
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let dir = ctx.open_message?;
        let trimmed = lines.line(i).trim();
        match header_line(trimmed) {
            Ok((_, (name, value)))
                if !never_a_header(name)
                    && (!ctx.message_from_text || looks_like_header_name(name)) =>
            {
                if ctx.headers_seen < MAX_HEADERS {
                    emit_header(ctx, lines, trimmed, dir, name, value);
                } else {
                    // Not kept, but told: the exchange goes on (its body
                    // after them stays part of it), and the builder counts
                    // what was left out.
                    ctx.emit(EventKind::Header, lines.span_of(trimmed), Vec::new());
                }
                ctx.headers_seen += 1;
                Some(1)
            }
            _ => {
                ctx.open_message = None;
                None
            }
        }
    }
}

/// Headers kept per message: real messages have a few dozen; a hostile
/// input with 100 000 must not make one exchange that large. The rest are
/// still claimed (they are headers) and told as header events without a
/// value (the incident builder keeps fewer still, and notes the rest).
const MAX_HEADERS: usize = 500;

impl crate::input::Span {
    /// The smallest span covering both.
    pub fn cover(self, other: Self) -> Self {
        Self::new(self.start.min(other.start), self.end.max(other.end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Terraform's bullet list of errors is read as errors, not skipped
    /// as curl's notes; curl's own notes stay curl's.
    #[test]
    fn terraform_error_items_are_not_curl_notes() {
        assert!(is_terraform_item(
            "google_project_services.service: Error creating services: googleapi: Error 403: x"
        ));
        assert!(is_terraform_item("module.net.aws_vpc.main: Error: x"));
        for note in [
            "Connected to api.example.com (127.0.0.1) port 443 (#0)",
            "subjectAltName: host \"api.example.com\" matched cert's \"*.example.com\"",
            "connect to 10.0.0.1 port 443 failed: Connection refused",
            "TLSv1.3 (OUT), TLS alert, unknown CA (560):",
            "schannel: CertGetNameString() failed to match connection hostname",
        ] {
            assert!(!is_terraform_item(note), "{note}");
        }
        use super::super::parse_chunk;
        use super::super::tests::chunk;
        let text = "Error: Error applying plan:\n\n1 error(s) occurred:\n\n* google_project_services.service: Error creating services: googleapi: Error 403: Service Usage API has not been used in project 764086051850 before or it is disabled., accessNotConfigured\n";
        let events = parse_chunk(&chunk(text));
        assert!(
            events.iter().any(|e| e
                .field("status")
                .is_some_and(|f| f.value.to_string() == "403")),
            "{events:?}"
        );
    }

    #[test]
    fn curl_prints_the_body_alone_without_verbose_or_header_flags() {
        let words = |c: &str| -> Vec<String> { c.split(' ').map(str::to_string).collect() };
        assert!(prints_body_alone(&words(
            "curl -s https://api.example.com/x"
        )));
        assert!(prints_body_alone(&words(
            "curl -sS -X POST -H Accept:application/json https://api.example.com/x"
        )));
        assert!(!prints_body_alone(&words(
            "curl -v https://api.example.com/x"
        )));
        assert!(!prints_body_alone(&words(
            "curl -si https://api.example.com/x"
        )));
        assert!(!prints_body_alone(&words(
            "curl -o out.json https://api.example.com/x"
        )));
        assert!(!prints_body_alone(&words(
            "curl --dump-header - https://api.example.com/x"
        )));
    }

    /// A quoted line (`> ` in a forum post or an e-mail) before any curl
    /// connection or request line is no request header: the other
    /// parsers read it. After a request line, `> Name: value` stays one.
    #[test]
    fn quoted_lines_are_no_curl_request_headers() {
        use super::super::parse_chunk;
        use super::super::tests::chunk;
        let headers = |text: &str| -> Vec<String> {
            parse_chunk(&chunk(text))
                .iter()
                .filter(|e| e.kind == EventKind::Header)
                .flat_map(|e| e.fields.iter().map(|f| f.name.to_string()))
                .collect()
        };
        let quoted = "> Sign in\n>\n> AADSTS650057: Invalid resource. The client has requested access to a resource which is not listed.\n";
        assert_eq!(headers(quoted), Vec::<String>::new());
        let curl = "> GET /v1/items HTTP/1.1\n> Host: api.example.com\n> Authorization: Bearer x\n>\n< HTTP/1.1 401 Unauthorized\n";
        let got = headers(curl);
        assert!(got.iter().any(|n| n == "request.header.host"), "{got:?}");
    }

    /// With `--fail` (libcurl's CURLOPT_FAILONERROR) curl's verbose note
    /// is where the status shows; after a status line it adds none.
    #[test]
    fn curl_fail_note_states_the_status_once() {
        use super::super::parse_chunk;
        use super::super::tests::chunk;
        let statuses = |text: &str| -> Vec<String> {
            parse_chunk(&chunk(text))
                .iter()
                .filter(|e| e.kind == EventKind::Status)
                .filter_map(|e| e.field("status").map(|f| f.value.to_string()))
                .collect()
        };
        let failed = "* Connected to api.example.com (192.0.2.7) port 80 (#0)\n> GET /database/search?q=x HTTP/1.1\nHost: api.example.com\n\n* The requested URL returned error: 401 Unauthorized\n* Closing connection 0\n";
        assert_eq!(statuses(failed), ["401"]);
        let both = "> GET /v1/x HTTP/1.1\n> Host: api.example.com\n>\n< HTTP/1.1 403 Forbidden\n* The requested URL returned error: 403\n";
        assert_eq!(statuses(both), ["403"]);
    }

    /// The plain-text `body` read from `text`, if any.
    fn text_body(text: &str) -> Option<String> {
        use super::super::parse_chunk;
        use super::super::tests::chunk;
        parse_chunk(&chunk(text))
            .iter()
            .filter(|e| e.kind == EventKind::Body)
            .filter(|e| {
                e.field("body.format")
                    .is_some_and(|f| f.value.to_string() == "text")
            })
            .find_map(|e| e.field("body").map(|f| f.value.to_string()))
    }

    #[test]
    fn a_plain_text_body_is_read_after_the_headers() {
        // curl -v, with its connection note between headers and body.
        assert_eq!(
            text_body(
                "< HTTP/1.1 403 Forbidden\n< Content-Type: text/html\n<\n* Connection #0 to host api.example.com left intact\nYour IP (203.0.113.58) is not authorized to use this API key\n"
            )
            .as_deref(),
            Some("Your IP (203.0.113.58) is not authorized to use this API key")
        );
        // A raw response, two lines of body, then the shell's prompt.
        assert_eq!(
            text_body(
                "HTTP/1.1 401 Unauthorized\nContent-Type: text/plain\n\nInvalid API key.\nSee the dashboard for your key.\nops@build-01:~$ exit\n"
            )
            .as_deref(),
            Some("Invalid API key.\nSee the dashboard for your key.")
        );
        // The next log record after a body-less response is not its body.
        assert_eq!(
            text_body(
                "HTTP/1.1 204 No Content\nServer: nginx\n\n2026-04-01 10:22:03 INFO sync finished\n"
            ),
            None
        );
        assert_eq!(
            text_body("HTTP/1.1 500 Internal Server Error\n\nERROR: upstream went away\n"),
            None
        );
        // JSON and markup bodies stay their own parsers'.
        assert_eq!(
            text_body("HTTP/1.1 401 Unauthorized\n\n{\"error\":\"invalid_token\"}\n"),
            None
        );
    }

    #[test]
    fn parses_lines() {
        assert_eq!(
            request_line("POST /oauth/token HTTP/1.1").unwrap().1,
            ("POST", "/oauth/token")
        );
        assert!(request_line("POST the form HTTP/1.1 please").is_err());
        assert_eq!(status_line("HTTP/2 403 ").unwrap().1, ("403", ""));
        assert_eq!(
            status_line("HTTP/1.1 429 Too Many Requests").unwrap().1,
            ("429", "Too Many Requests")
        );
        assert_eq!(
            header_line("Retry-After: 42").unwrap().1,
            ("Retry-After", "42")
        );
        assert!(header_line("the user: locked").is_err());
    }

    #[test]
    fn log_lines_are_not_headers() {
        use super::super::parse_chunk;
        use super::super::tests::chunk;
        for t in [
            "HTTP/1.1 401 Unauthorized\nERROR:core.utils:API error in sync_users\n",
            "sync failed: HTTP 400\nERROR core.utils: API error in sync_users\n",
            "HTTP/1.1 500 Internal Server Error\nTypeError: Cannot read properties of undefined\n",
            "token request failed: 401 Unauthorized\nNote: the admin console shows the user is locked\n",
        ] {
            let events = parse_chunk(&chunk(t));
            assert!(
                events.iter().all(|e| e.kind != EventKind::Header),
                "{t}: {events:?}"
            );
        }
        // Inside a message, headers are still read.
        let t = "HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Bearer\nServer: nginx\n";
        let events = parse_chunk(&chunk(t));
        assert_eq!(
            events
                .iter()
                .filter(|e| e.kind == EventKind::Header)
                .count(),
            2
        );
    }

    use nom::bytes::complete::tag;

    /// The run read eight bytes at a time ends where one read by char
    /// ends: each stop and edge byte at each place of runs up to 40 long.
    #[test]
    fn split_run_ends_where_a_char_scan_does() {
        fn reference(s: &str, quote_ends: bool) -> Option<(&str, &str)> {
            let at = s
                .char_indices()
                .find(|&(_, c)| c.is_whitespace() || (quote_ends && c == '"'))
                .map_or(s.len(), |(at, _)| at);
            (at > 0).then(|| s.split_at(at))
        }
        let mut runs = 0;
        for len in 0..40 {
            for at in 0..=len {
                for odd in [
                    " ", "\t", "\n", "\r", "\u{b}", "\u{c}", "\"", "!", "#", "\u{1}", "\u{7f}",
                    "\u{a0}", "\u{2003}", "\u{85}", "é", "~",
                ] {
                    let s = format!("{}{odd}{}", "a".repeat(at), "b".repeat(len - at));
                    for quote_ends in [false, true] {
                        assert_eq!(
                            split_run(&s, quote_ends),
                            reference(&s, quote_ends),
                            "{s:?} {quote_ends}"
                        );
                        runs += 1;
                    }
                }
            }
        }
        assert!(runs > 10_000, "{runs}");
    }

    /// A status read by digits is what the float parser read.
    #[test]
    fn status_value_reads_as_the_float_parser() {
        let mut codes: Vec<String> = (0..1000).map(|n| format!("{n:03}")).collect();
        codes.extend(["20", "2000", "2a0", " 20", "", "1e2", "+12", "é1"].map(String::from));
        for code in &codes {
            assert_eq!(
                status_value(code),
                Value::Num(code.parse::<f64>().unwrap_or(0.0)),
                "{code}"
            );
        }
    }

    /// nom's readings that [`method`] and [`http_version`] replaced.
    fn method_nom(i: &str) -> IResult<&str, &str> {
        let (rest, m) = take_while_m_n(3, 7, |c: char| c.is_ascii_uppercase()).parse(i)?;
        if METHODS.contains(&m) {
            Ok((rest, m))
        } else {
            Err(nom::Err::Error(nom::error::Error::new(
                i,
                nom::error::ErrorKind::Tag,
            )))
        }
    }

    fn http_version_nom(i: &str) -> IResult<&str, &str> {
        let (i, _) = tag("HTTP/").parse(i)?;
        take_while1(|c: char| c.is_ascii_digit() || c == '.').parse(i)
    }

    /// The byte readings of a method and a version take what nom's took,
    /// from every place of every line of the fixtures and field cases.
    #[test]
    fn method_and_version_read_as_nom_did() {
        let mut texts: Vec<String> = crate::test_corpus::fixture_and_field_lines();
        for edge in [
            "GET", "GE", "OPTIONS", "OPTIONSX", "CONNECTS", "GETé", "Gé", "HTTP/", "HTTP/1.1",
            "HTTP/.", "HTTP/2é", "HTTP", "HTTP/x", "",
        ] {
            texts.push(edge.to_string());
        }
        let (mut methods, mut versions) = (0, 0);
        for text in &texts {
            for (at, _) in text.char_indices() {
                let t = &text[at..];
                let m = method(t).ok();
                assert_eq!(m, method_nom(t).ok(), "{t}");
                let v = http_version(t).ok();
                assert_eq!(v, http_version_nom(t).ok(), "{t}");
                methods += usize::from(m.is_some());
                versions += usize::from(v.is_some());
            }
        }
        assert!(methods > 20 && versions > 20, "{methods} {versions}");
    }

    /// [`Urllib3Debug`]'s reading before its searches were merged: the
    /// one-line parser reads what it read, on every line of the fixtures
    /// and field cases and on edges.
    fn urllib3_debug_before(ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        if let Some(at) = line.find("Starting new HTTP") {
            let rest = &line[at..];
            let target = rest.split_once("): ")?.1.trim();
            let (host, port) = target.rsplit_once(':').unwrap_or((target, ""));
            let mut fields = vec![lines.str_field("url.host", host)];
            let https = rest.starts_with("Starting new HTTPS");
            let default = (https && port == "443") || (!https && port == "80");
            if let (Ok(p), false) = (port.parse::<f64>(), default) {
                fields.push(lines.field("url.port", Value::Num(p), port));
            }
            ctx.emit(EventKind::Host, lines.span_of(line), fields);
            return Some(1);
        }
        if !line.contains(" HTTP/") || !line.contains("://") {
            return None;
        }
        let start = line.find("https://").or_else(|| line.find("http://"))?;
        let (_, (scheme, origin, m, target, status)) = urllib3_access_nom(&line[start..]).ok()?;
        // The events are built alike: what is compared is the reading.
        super::emit_urllib3_access(ctx, lines, line, start, [scheme, origin, m, target, status]);
        Some(1)
    }

    #[test]
    fn urllib3_debug_reads_as_before() {
        let mut texts: Vec<String> = crate::test_corpus::fixture_and_field_lines();
        let line = "2026-11-24 00:01:01,197 DEBUG urllib3.connectionpool: https://h.example:443 \"GET /p?q=1 HTTP/1.1\" 200 12";
        let starting = "DEBUG Starting new HTTPS connection (1): h.example:8443";
        for edge in [
            line.to_string(),
            line.replace(" HTTP/", "\tHTTP/"),
            line.replace(" HTTP/", "\tHTTP/") + " HTTP/",
            line.replace(" HTTP/", " \tHTTP/"),
            line.replace(" HTTP/", "\t HTTP/"),
            line.replace("https", "http"),
            line.replace("https://h", "http://g https://h"),
            line.replace("https://h", "https://g http://h"),
            line.replace("https://h", "ftp://g https://h"),
            line.replace("https://h", "xhttps://h"),
            line.replace("https://", "https:///"),
            line.replace("https://", "https:"),
            line.replace("https://h", "http://g \"GET / HTTP/1.0\" 500 1 https://h"),
            line.replace(":443", ""),
            line.replace(":443", ":80"),
            line.replace("GET", "OPTIONSX"),
            line.to_string() + " Starting new HTTP connection (2): x:80",
            starting.to_string(),
            starting.replace("HTTPS", "HTTP"),
            starting.replace(":8443", ":443"),
            starting.replace(":8443", ":80"),
            starting.replace("HTTPS", "HTTP").replace(":8443", ":80"),
            starting.replace("HTTPS", "HTTP").replace(":8443", ":443"),
            starting.replace(":8443", ":x"),
            starting.replace(":8443", ":"),
            starting.replace(":8443", ":1e3"),
            starting.replace(":8443", ":[::1]:8443"),
            starting.replace(":8443", ""),
            line.replace(" 200 ", " 099 "),
            line.replace(" 200 ", " 999 "),
            starting.replace("): ", ")"),
            starting.replace("): ", "):  "),
            "https://".to_string(),
            "://".to_string(),
            "x HTTP/ https://".to_string(),
        ] {
            texts.push(edge);
        }
        let mut read = 0;
        for text in &texts {
            let chunk = super::super::tests::chunk(text);
            let lines = Lines::new(&chunk);
            for i in 0..lines.len() {
                let (mut now, mut before) = (Ctx::new(), Ctx::new());
                let n = Urllib3Debug.parse(&mut now, &lines, i);
                assert_eq!(n, urllib3_debug_before(&mut before, &lines, i), "{text}");
                assert_eq!(
                    format!("{:?}", now.events),
                    format!("{:?}", before.events),
                    "{text}"
                );
                read += usize::from(n.is_some());
            }
        }
        assert!(read > 20, "{read}");
    }

    /// The nom reading that [`urllib3_access`] replaced.
    fn urllib3_access_nom(i: &str) -> IResult<&str, (&str, &str, &str, &str, &str)> {
        use nom::branch::alt;
        use nom::bytes::complete::take_while;
        let (i, (origin, _, _, m, _, target, _, _, _, _, status)) = (
            alt((
                (tag("https://"), take_while1(|c: char| !c.is_whitespace())),
                (tag("http://"), take_while1(|c: char| !c.is_whitespace())),
            )),
            space1,
            char('"'),
            method_nom,
            space1,
            take_while1(|c: char| !c.is_whitespace() && c != '"'),
            space1,
            http_version_nom,
            char('"'),
            space1,
            take_while_m_n(3, 3, |c: char| c.is_ascii_digit()),
        )
            .parse(i)?;
        let (i, _) = take_while(|_| true).parse(i)?;
        Ok((i, (origin.0, origin.1, m, target, status)))
    }

    /// The hand reading gives what nom's gave, on every line of the
    /// fixtures and field cases from each `http` in it, and on edges.
    #[test]
    fn urllib3_access_reads_as_nom_did() {
        let mut texts: Vec<String> = crate::test_corpus::fixture_and_field_lines();
        let line = "https://h.example:443 \"GET /p?q=1 HTTP/1.1\" 200 12";
        for edge in [
            line.to_string(),
            line.replace(' ', "\t"),
            line.replace(' ', " \t "),
            line.replace(" 200", " 2001"),
            line.replace(" 200", " 20"),
            line.replace(" 200", " 2a0"),
            line.replace(" 200 12", " 200"),
            line.replace(" 200 12", " 200\u{e9}"),
            line.replace("GET", "GETS"),
            line.replace("GET", "OPTIONSX"),
            line.replace("GET", "get"),
            line.replace("/p?q=1", "/p\u{e9}\u{a0}x"),
            line.replace("/p?q=1", "/\u{e9}"),
            line.replace("/p?q=1", ""),
            line.replace("h.example:443", "h\u{e9}.example"),
            line.replace("h.example:443", "h\u{2003}x"),
            line.replace("h.example:443", ""),
            line.replace("HTTP/1.1", "HTTP/"),
            line.replace("HTTP/1.1", "HTTP/2"),
            line.replace("HTTP/1.1\"", "HTTP/1.1 \""),
            line.replace("https", "http"),
            line.replace("https", "ftp"),
            "https://".to_string(),
            "http://x \"".to_string(),
        ] {
            texts.push(edge);
        }
        let mut read = 0;
        for text in &texts {
            for (at, _) in text.match_indices("http") {
                let hand = urllib3_access(&text[at..]);
                assert_eq!(
                    hand,
                    urllib3_access_nom(&text[at..]).ok().map(|r| r.1),
                    "{text}"
                );
                read += usize::from(hand.is_some());
            }
        }
        assert!(read > 20, "{read}");
    }

    #[test]
    fn urllib3_line() {
        let (scheme, origin, m, target, status) = urllib3_access(
            "https://api.mypurecloud.com:443 \"POST /api/v2/analytics/x HTTP/1.1\" 403 215",
        )
        .unwrap();
        assert_eq!(
            (scheme, origin, m, target, status),
            (
                "https://",
                "api.mypurecloud.com:443",
                "POST",
                "/api/v2/analytics/x",
                "403"
            )
        );
    }
}
