//! Statuses that applications state in their own log lines, around the
//! formats of HTTP libraries: axios' `Request failed with status code 401`,
//! `GET /api/v2/users/me -> 400`, `token request failed: 400 Bad Request`,
//! `Token request failed: HTTP 400`. A status found this way opens a response,
//! so `name: value` lines right after it are its headers, and a JSON body on
//! the same line is parsed too.

use std::sync::OnceLock;

use super::lean::Regex;

use super::json::emit_body;
use super::signal::captures;
use super::{Ctx, Direction, EventKind, Field, LineParser, Lines, Value};

fn axios_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?P<msg>Request failed with status code (?P<status>[0-9]{3}))(?: \((?P<method>[A-Z]{3,7}) (?P<url>[^\s)]+)\))?",
        )
        .expect("axios regex")
    })
}

pub(super) fn arrow_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?:^|\s)(?P<method>GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (?P<url>https?://\S+?|/\S*?)(?::\s+| (?:->|=>|→|returned|failed with|failed:|:)\s*)(?:HTTP\s*|status\s*)?(?P<status>[1-5][0-9][0-9])\b",
        )
        .expect("arrow regex")
    })
}

fn code_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"^\s*(?P<code>E(?:CONNREFUSED|CONNRESET|NOTFOUND|AI_AGAIN|TIMEDOUT|HOSTUNREACH|NETUNREACH|PROTO|PIPE|CONNABORTED)|ERR_[A-Z0-9_]+|UNABLE_TO_[A-Z_]+|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID): (?P<msg>\S.*)$",
        )
        .expect("code regex")
    })
}

/// What an [`AppLine`] line contains: axios' message, a method before a
/// target, or a transport error code.
const APPLINE_TRIGGERS: &[&str] = &[
    "Request failed with status code",
    "GET ",
    "POST ",
    "PUT ",
    "PATCH ",
    "DELETE ",
    "HEAD ",
    "OPTIONS ",
    "ECONN",
    "ENOTFOUND",
    "EAI_AGAIN",
    "ETIMEDOUT",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "EPROTO",
    "EPIPE",
    "ERR_",
    "UNABLE_TO_",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "CERT_HAS_EXPIRED",
    "CERT_NOT_YET_VALID",
];

/// Strong forms: axios' message and `METHOD target -> status` (also
/// `METHOD URL: 400 Bad Request`, as Go and hand-written logs print it).
pub struct AppLine;

impl LineParser for AppLine {
    fn triggers(&self) -> &'static [&'static str] {
        APPLINE_TRIGGERS
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        if line.trim_start().starts_with(['{', '[']) {
            return None;
        }
        let span = lines.span_of(line.trim_end());
        let end;
        // Each regex is tried (and compiled, on first need) only on a line
        // that has what every match of it holds: most logs have no axios
        // message and no transport code, and compiling those two was 40 %
        // of this parser's instructions on a 1 MiB log.
        let axios = || {
            line.contains("Request failed with status code")
                .then(|| captures(axios_re(), line))
                .flatten()
        };
        // `^\s*` then a code: `trim_start` trims what `\s` matches.
        let code = || {
            line.trim_start()
                .starts_with(['E', 'U', 'S', 'D', 'C'])
                .then(|| captures(code_re(), line))
                .flatten()
        };
        if let Some(c) = axios() {
            let mut fields = vec![lines.str_field("exception.message", c.name("msg")?.as_str())];
            fields.push(status_field(lines, c.name("status")?.as_str()));
            if let (Some(m), Some(u)) = (c.name("method"), c.name("url")) {
                fields.push(lines.str_field("method", m.as_str()));
                fields.push(lines.str_field("url", u.as_str()));
            }
            ctx.emit(EventKind::Exception, span, fields);
            end = c.get(0)?.end();
        } else if let Some(c) = ctx
            .has_method_before_target(line)
            .then(|| captures(arrow_re(), line))
            .flatten()
        {
            let fields = vec![
                lines.str_field("method", c.name("method")?.as_str()),
                lines.str_field("url", c.name("url")?.as_str()),
            ];
            ctx.emit(EventKind::Request, span, fields);
            ctx.emit(
                EventKind::Status,
                span,
                vec![status_field(lines, c.name("status")?.as_str())],
            );
            end = c.get(0)?.end();
        } else if let Some(c) = code() {
            // `${err.code}: ${err.message}`, as Node apps log transport errors.
            let mut fields = vec![
                lines.str_field("exception.code", c.name("code")?.as_str()),
                lines.str_field("exception.message", c.name("msg")?.as_str().trim_end()),
            ];
            fields.extend(
                super::exception::facts_from_message(lines, c.name("msg")?.as_str())
                    .into_iter()
                    .filter(|f| f.name != "exception.code"),
            );
            ctx.emit(EventKind::Exception, span, fields);
            return Some(1);
        } else {
            return None;
        }
        ctx.open(Direction::Response, true);
        Some(body_after(ctx, lines, i, end).unwrap_or(1))
    }
}

fn status_field(lines: &Lines, digits: &str) -> Field {
    lines.field("status", Value::Num(digits.parse().unwrap_or(0.0)), digits)
}

/// A JSON body later on the same line (`… failed: 400 {"error": …}`).
fn body_after(ctx: &mut Ctx, lines: &Lines, i: usize, from: usize) -> Option<usize> {
    let line = lines.line(i);
    let start = from + line.get(from..)?.find('{')?;
    let n = emit_body(ctx, lines, i, start)?;
    ctx.open_message = None;
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::super::tests::chunk;
    use super::super::{EventKind, parse_chunk};

    fn fields(text: &str) -> Vec<(EventKind, String, String)> {
        parse_chunk(&chunk(text))
            .into_iter()
            .flat_map(|e| {
                e.fields
                    .into_iter()
                    .map(move |f| (e.kind, f.name.into_owned(), f.value.to_string()))
            })
            .collect()
    }

    fn has(text: &str, name: &str, value: &str) -> bool {
        fields(text).iter().any(|(_, n, v)| n == name && v == value)
    }

    #[test]
    fn forms() {
        assert!(has("GET /api/v2/users/me -> 400\n", "status", "400"));
        assert!(has(
            "GET /api/v2/users/me -> 400\n",
            "url",
            "/api/v2/users/me"
        ));
        assert!(has(
            "Request failed with status code 401 (POST https://a.b/c)\n",
            "url",
            "https://a.b/c"
        ));
        assert!(has(
            "Token request failed: HTTP 400\ninin-correlation-id: x\n",
            "header.inin-correlation-id",
            "x"
        ));
        assert!(has(
            "aggregates query: 403 Forbidden\n",
            "reason",
            "Forbidden"
        ));
        assert!(has(
            "ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9443\n",
            "exception.code",
            "ECONNREFUSED"
        ));
        let t = "Token request failed: 400 {\"error\":\"invalid_client\"}\n";
        assert!(has(t, "status", "400") && has(t, "body.error", "invalid_client"));
    }

    #[test]
    fn prose_numbers_are_not_statuses() {
        assert!(fields("processed 403 records in 200 ms\n").is_empty());
        assert!(
            fields("{\"level\":\"error\",\"msg\":\"x\",\"status\":500}\n")
                .iter()
                .all(|(k, _, _)| *k == EventKind::Record)
        );
    }
}
