//! Lines that web servers and load balancers write about a request they
//! could not serve, read by their documented field layout:
//!
//! - nginx's error log (`ngx_log_error`: `YYYY/MM/DD HH:MM:SS [level]
//!   pid#tid: *conn message, client: …, server: …, request: "GET /p
//!   HTTP/1.1", upstream: "…", host: "…"`); a record at `error` or above is
//!   a failure, `warn` and below are not;
//! - an AWS Application Load Balancer's access log (space-separated fields:
//!   type, time, balancer, client:port, target:port, three processing times,
//!   `elb_status_code`, `target_status_code`, bytes, then the quoted request
//!   line); a record whose balancer status is 4xx/5xx is a failure, and its
//!   status is the balancer's (what the client saw);
//! - the access log of nginx, Apache httpd and most servers and proxies,
//!   in the Common or Combined Log Format (`host ident user [time]
//!   "METHOD target HTTP/x" status bytes`, then `"referer" "user-agent"`):
//!   a 4xx/5xx record is a failure; any other is a request served, claimed
//!   so that no other parser reads it for a failure it does not state.

use std::sync::OnceLock;

use regex::Regex;

use super::{Ctx, EventKind, Field, LineParser, Lines, Value};

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("server log regex"))
}

/// The head of an nginx error-log record, up to its message.
fn nginx_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r"^(?:[0-9]{4}/[0-9][0-9]/[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] )?\[(?P<level>emerg|alert|crit|error|warn|notice|info|debug)\] [0-9]+#[0-9]+: (?:\*[0-9]+ )?(?P<msg>\S.*)$",
    )
}

/// The context nginx appends to a record, each `, name: value`.
fn nginx_request_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r#", request: "(?P<method>[A-Z]{3,10}) (?P<path>\S+) HTTP/[0-9.]+""#,
    )
}

/// The Host header of the client's request (`r->headers_in.host`).
fn nginx_host_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(&RE, r#", host: "(?P<host>[^"]+)""#)
}

/// The upstream nginx was talking to when the error came: its scheme,
/// address and URI (`u->schema`, `u->peer.name`, `u->uri`; a Unix socket
/// as `http://unix:/run/app.sock:/path`).
fn nginx_upstream_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(&RE, r#", upstream: "(?P<upstream>[^"]+)""#)
}

/// An ALB access-log record, up to its request line.
fn alb_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r#"^(?:https?|h2|grpcs|wss?) [0-9]{4}-[0-9][0-9]-[0-9][0-9]T[0-9:.]+Z \S+ \S+ \S+ -?[0-9.]+ -?[0-9.]+ -?[0-9.]+ (?P<elb>[0-9]{3}|-) (?:[0-9]{3}|-) [0-9]+ [0-9]+ "(?P<method>[A-Z-]+) (?P<url>\S+) [^"]*""#,
    )
}

pub struct ServerLog;

impl LineParser for ServerLog {
    fn triggers(&self) -> &'static [&'static str] {
        &["[error] ", "[crit] ", "[alert] ", "[emerg] ", "Z app/"]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        let fields = if line.contains("] ") && line.contains('#') {
            nginx(lines, line)?
        } else {
            alb(lines, line)?
        };
        ctx.emit(EventKind::Exception, lines.span_of(line.trim_end()), fields);
        Some(1)
    }
}

/// An access-log record in the Common or Combined Log Format (nginx's
/// default `combined`, Apache httpd's `%h %l %u %t "%r" %>s %b`).
pub struct AccessLog;

impl LineParser for AccessLog {
    fn triggers(&self) -> &'static [&'static str] {
        &["] \""]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i).trim_end();
        let record = access_record(line)?;
        let status: u16 = record.status.parse().ok()?;
        if status < 400 {
            return Some(1);
        }
        // A request and its status on one line, as urllib3's access lines
        // tell them: each record is an exchange of its own.
        let span = lines.span_of(line);
        let mut request = vec![
            lines.str_field("method", record.method),
            lines.str_field("url", record.target),
        ];
        if let Some(agent) = record.user_agent {
            request.push(lines.str_field("request.header.user-agent", agent));
        }
        // The record's own time (`[24/Nov/2026:21:08:22 +0000]`), as a JSON
        // record's: a log prefix's is sought only near the line's start.
        if let Some(time) = super::time::normalized(record.time) {
            request.push(lines.field("time", Value::Str(time.into_owned().into()), record.time));
        }
        ctx.emit(EventKind::Request, span, request);
        let status = lines.field("status", Value::Num(f64::from(status)), record.status);
        ctx.emit(EventKind::Status, span, vec![status]);
        Some(1)
    }
}

/// What an access-log record says of the request (slices of its line).
#[derive(Debug, PartialEq)]
struct AccessRecord<'a> {
    /// Between the brackets: `24/Nov/2026:21:08:22 +0000`.
    time: &'a str,
    method: &'a str,
    target: &'a str,
    /// Three digits, 100 to 599.
    status: &'a str,
    user_agent: Option<&'a str>,
}

/// `line` read as an access-log record: `host ident user [time]
/// "METHOD target HTTP/version" status bytes`, optionally followed by
/// `"referer" "user-agent"` and more. A request nginx could not read
/// (`"-"`, a TLS hello sent to a plain port) is none: no call to explain.
/// Read by byte searches, not `str::split_once` (whose substring searcher
/// cost more to set up per line than the rest): every line of an access
/// log is read here.
fn access_record(line: &str) -> Option<AccessRecord<'_>> {
    let b = line.as_bytes();
    // Host, identity and user: three fields, none empty or quoted.
    let open = memchr::memchr(b'[', b)?;
    let head = b[..open].strip_suffix(b" ")?;
    let (mut fields, mut after_space) = (1, true);
    for &c in head {
        match c {
            b' ' if after_space => return None,
            b' ' => fields += 1,
            b'"' => return None,
            _ => {}
        }
        after_space = c == b' ';
    }
    if after_space || fields != 3 {
        return None;
    }
    let close = open + memchr::memchr(b']', &b[open..])?;
    let time = &line[open + 1..close];
    if time.is_empty() || memchr::memchr2(b'[', b'"', time.as_bytes()).is_some() {
        return None;
    }
    // The request line, quoted.
    let from = close + 3;
    if b.get(close + 1..from)? != b" \"" {
        return None;
    }
    let end = from + memchr::memchr(b'"', b.get(from..)?)?;
    let request = &line[from..end];
    let method_end = memchr::memchr(b' ', request.as_bytes())?;
    let version_at = memchr::memrchr(b' ', request.as_bytes())?;
    let (method, target) = (
        &request[..method_end],
        request.get(method_end + 1..version_at)?,
    );
    let version = &request[version_at + 1..];
    let method_ok =
        (3..=10).contains(&method.len()) && method.bytes().all(|c| c.is_ascii_uppercase());
    let version_ok = version
        .strip_prefix("HTTP/")
        .is_some_and(|v| !v.is_empty() && v.bytes().all(|c| c.is_ascii_digit() || c == b'.'));
    if !method_ok || target.is_empty() || target.contains(' ') || !version_ok {
        return None;
    }
    // Status and size: three digits, then a count or `-`.
    let rest = line.get(end + 1..)?.strip_prefix(' ')?;
    let status = rest.get(..3)?;
    let status_ok = matches!(status.as_bytes(), [b'1'..=b'5', b'0'..=b'9', b'0'..=b'9']);
    let after_status = rest[3..].strip_prefix(' ')?;
    let size_end = memchr::memchr(b' ', after_status.as_bytes()).unwrap_or(after_status.len());
    let size = &after_status[..size_end];
    let size_ok = size == "-" || (!size.is_empty() && size.bytes().all(|c| c.is_ascii_digit()));
    if !status_ok || !size_ok {
        return None;
    }
    // The Combined format's referer and user agent, each quoted (nginx
    // writes a quote inside one as `\x22`).
    let user_agent = after_status[size_end..]
        .strip_prefix(" \"")
        .and_then(|r| Some(&r[memchr::memchr(b'"', r.as_bytes())? + 1..]))
        .and_then(|r| r.strip_prefix(" \""))
        .and_then(|r| Some(&r[..memchr::memchr(b'"', r.as_bytes())?]))
        .filter(|a| !a.is_empty() && *a != "-");
    Some(AccessRecord {
        time,
        method,
        target,
        status,
        user_agent,
    })
}

fn nginx(lines: &Lines, line: &str) -> Option<Vec<Field>> {
    let c = nginx_re().captures(line)?;
    if !matches!(
        c.name("level")?.as_str(),
        "error" | "crit" | "alert" | "emerg"
    ) {
        return None;
    }
    let rest = c.name("msg")?.as_str().trim_end();
    // The message ends where nginx's context starts.
    let msg = rest.split(", client: ").next().unwrap_or(rest);
    let mut fields = vec![lines.str_field("exception.message", msg)];
    let request = nginx_request_re().captures(rest);
    if let Some(r) = &request {
        fields.push(lines.str_field("method", r.name("method")?.as_str()));
    }
    let host = nginx_host_re().captures(rest);
    // The call that failed is nginx's to its upstream when it names one
    // (a refused or timed-out connection is that address's, not the one
    // the client asked nginx for); else the client's request to nginx.
    match nginx_upstream_re().captures(rest) {
        Some(u) => {
            fields.push(lines.str_field("url", u.name("upstream")?.as_str()));
            if let Some(h) = &host {
                fields.push(lines.str_field("request.header.host", h.name("host")?.as_str()));
            }
        }
        None => {
            if let Some(r) = &request {
                fields.push(lines.str_field("url.path", r.name("path")?.as_str()));
            }
            if let Some(h) = &host {
                fields.push(lines.str_field("url.host", h.name("host")?.as_str()));
            }
        }
    }
    Some(fields)
}

fn alb(lines: &Lines, line: &str) -> Option<Vec<Field>> {
    let c = alb_re().captures(line)?;
    let elb = c.name("elb")?;
    let status: u16 = elb.as_str().parse().ok()?;
    if status < 400 {
        return None;
    }
    Some(vec![
        lines.field("status", Value::Num(f64::from(status)), elb.as_str()),
        lines.str_field("method", c.name("method")?.as_str()),
        lines.str_field("url", c.name("url")?.as_str()),
    ])
}

#[cfg(test)]
mod tests {
    use super::super::parse_chunk;
    use super::super::tests::{chunk, field_value as get};

    #[test]
    fn nginx_error_records() {
        let t = "2024/03/09 22:01:17 [error] 31#31: *8812 upstream timed out (110: Operation timed out) while reading upstream, client: 10.1.2.3, server: api.example.org, request: \"POST /v2/reports HTTP/2.0\", upstream: \"http://127.0.0.1:8081/v2/reports\", host: \"api.example.org\"\n";
        assert_eq!(
            get(t, "exception.message").unwrap(),
            "upstream timed out (110: Operation timed out) while reading upstream"
        );
        assert_eq!(get(t, "method").unwrap(), "POST");
        // The call that timed out is nginx's to its upstream; the host the
        // client asked for is its Host header.
        assert_eq!(get(t, "url").unwrap(), "http://127.0.0.1:8081/v2/reports");
        assert_eq!(get(t, "request.header.host").unwrap(), "api.example.org");
        assert!(get(t, "url.host").is_none());
        // An upstream over a Unix socket, as nginx writes it.
        let t = "2024/03/09 22:01:17 [error] 31#31: *9 connect() to unix:/run/app.sock failed (111: Connection refused) while connecting to upstream, client: 10.1.2.3, server: _, request: \"GET /v1/items?page=2 HTTP/1.1\", upstream: \"http://unix:/run/app.sock:/v1/items?page=2\", host: \"shop.example.org\"\n";
        assert_eq!(
            get(t, "url").unwrap(),
            "http://unix:/run/app.sock:/v1/items?page=2"
        );
        // No upstream named (nginx refused the request itself): the
        // client's request to nginx.
        let t = "2024/03/09 22:01:17 [error] 31#31: *8813 client intended to send too large body: 10485761 bytes, client: 10.1.2.3, server: api.example.org, request: \"POST /v2/uploads HTTP/1.1\", host: \"api.example.org\"\n";
        assert_eq!(get(t, "url.path").unwrap(), "/v2/uploads");
        assert_eq!(get(t, "url.host").unwrap(), "api.example.org");
        assert!(get(t, "url").is_none());
        // Without a date, without context, at crit.
        let t = "[crit] 7#7: *1 connect() to unix:/run/php/php8.2-fpm.sock failed (2: No such file or directory) while connecting to upstream\n";
        assert!(get(t, "exception.message").is_some());
        // A warning is not a failure.
        let t = "2024/03/09 22:01:17 [warn] 31#31: *8812 an upstream response is buffered to a temporary file /var/cache/nginx/1/00/0000000001 while reading upstream, client: 10.1.2.3, server: x, request: \"GET /a HTTP/1.1\"\n";
        assert!(parse_chunk(&chunk(t)).is_empty());
    }

    /// nginx's `combined` and Apache's common format, as servers write them
    /// (HTTP/1.0 to 2.0, IPv6 clients, users, absolute targets).
    #[test]
    fn access_log_records() {
        let t = "203.0.113.7 - - [24/Nov/2026:03:00:01 +0000] \"POST /oauth/token HTTP/1.1\" 401 96 \"-\" \"python-requests/2.31.0\"\n";
        assert_eq!(get(t, "status").unwrap(), "401");
        assert_eq!(get(t, "method").unwrap(), "POST");
        assert_eq!(get(t, "url").unwrap(), "/oauth/token");
        assert_eq!(
            get(t, "request.header.user-agent").unwrap(),
            "python-requests/2.31.0"
        );
        assert_eq!(get(t, "time").unwrap(), "2026-11-24T03:00:01Z");
        let t = "2001:db8::1 - svc-sync [03/Dec/2026:10:15:32 -0500] \"GET https://api.example.org/v2/users?page=2 HTTP/2.0\" 503 0\n";
        assert_eq!(get(t, "status").unwrap(), "503");
        assert_eq!(
            get(t, "url").unwrap(),
            "https://api.example.org/v2/users?page=2"
        );
        assert!(get(t, "request.header.user-agent").is_none());
        assert_eq!(get(t, "time").unwrap(), "2026-12-03T15:15:32Z");
        let t = "10.0.0.5 - - [24/Nov/2026:03:00:01 +0000] \"DELETE /v1/jobs/7 HTTP/1.0\" 429 - \"https://app.example.com/\" \"-\" \"10.1.1.1\"\n";
        assert_eq!(get(t, "status").unwrap(), "429");
        assert!(get(t, "request.header.user-agent").is_none());
    }

    /// A request served is claimed with no event; lines that only look
    /// like a record are left to the other parsers.
    #[test]
    fn access_log_lines_that_are_no_failure() {
        for served in [
            "10.77.200.97 - - [24/Nov/2026:00:00:01 +0000] \"GET /v2/customers/search HTTP/1.1\" 304 26165 \"-\" \"python-requests/2.31.0\"",
            "10.77.200.97 - - [24/Nov/2026:00:00:01 +0000] \"GET /api/errors?level=error HTTP/1.1\" 200 512",
        ] {
            let record = super::access_record(served).unwrap();
            assert!(record.status < "400");
            assert!(parse_chunk(&chunk(&format!("{served}\n"))).is_empty());
        }
        for not_a_record in [
            // nginx's record of a request it could not read.
            "10.0.0.9 - - [24/Nov/2026:00:00:01 +0000] \"-\" 400 0 \"-\" \"-\"",
            "10.0.0.9 - - [24/Nov/2026:00:00:01 +0000] \"\\x16\\x03\\x01\" 400 157 \"-\" \"-\"",
            // Not the format: a fourth field, a status too short, no bytes.
            "a b c d [24/Nov/2026:00:00:01 +0000] \"GET / HTTP/1.1\" 500 1",
            "a b c [24/Nov/2026:00:00:01 +0000] \"GET / HTTP/1.1\" 50 1",
            "a b c [24/Nov/2026:00:00:01 +0000] \"GET / HTTP/1.1\" 500",
            "a b c [24/Nov/2026:00:00:01 +0000] \"get / HTTP/1.1\" 500 1",
            "[INFO] \"GET / HTTP/1.1\" 500 1",
        ] {
            assert_eq!(super::access_record(not_a_record), None, "{not_a_record}");
        }
    }

    #[test]
    fn alb_access_records() {
        let t = "https 2025-01-07T09:13:02.118342Z app/edge-prod/6f1e2d3c4b5a6978 203.0.113.9:51234 10.1.4.7:8443 0.000 30.002 -1 504 - 412 610 \"POST https://api.example.net:443/v1/orders HTTP/1.1\" \"okhttp/4.12.0\" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/orders/0a1b2c3d4e5f6071 \"Root=1-6790f1a2-0123456789abcdef01234567\"\n";
        assert_eq!(get(t, "status").unwrap(), "504");
        assert_eq!(get(t, "method").unwrap(), "POST");
        assert_eq!(
            get(t, "url").unwrap(),
            "https://api.example.net:443/v1/orders"
        );
        // A served request is not a failure.
        let t = "http 2025-01-07T09:13:02.118342Z app/edge-prod/6f1e2d3c4b5a6978 203.0.113.9:51234 10.1.4.7:80 0.000 0.012 0.000 200 200 412 610 \"GET http://api.example.net:80/health HTTP/1.1\" \"curl/8.5.0\" - - arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/orders/0a1b2c3d4e5f6071 \"Root=1-6790f1a2-0123456789abcdef01234567\"\n";
        assert!(get(t, "status").is_none());
    }
}
