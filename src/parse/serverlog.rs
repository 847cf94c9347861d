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
//!   status is the balancer's (what the client saw).

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

fn nginx_host_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(&RE, r#", host: "(?P<host>[^"]+)""#)
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
    if let Some(r) = nginx_request_re().captures(rest) {
        fields.push(lines.str_field("method", r.name("method")?.as_str()));
        fields.push(lines.str_field("url.path", r.name("path")?.as_str()));
    }
    if let Some(h) = nginx_host_re().captures(rest) {
        fields.push(lines.str_field("url.host", h.name("host")?.as_str()));
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
        assert_eq!(get(t, "url.path").unwrap(), "/v2/reports");
        assert_eq!(get(t, "url.host").unwrap(), "api.example.org");
        // Without a date, without context, at crit.
        let t = "[crit] 7#7: *1 connect() to unix:/run/php/php8.2-fpm.sock failed (2: No such file or directory) while connecting to upstream\n";
        assert!(get(t, "exception.message").is_some());
        // A warning is not a failure.
        let t = "2024/03/09 22:01:17 [warn] 31#31: *8812 an upstream response is buffered to a temporary file /var/cache/nginx/1/00/0000000001 while reading upstream, client: 10.1.2.3, server: x, request: \"GET /a HTTP/1.1\"\n";
        assert!(parse_chunk(&chunk(t)).is_empty());
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
