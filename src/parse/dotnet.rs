//! .NET's `HttpResponseMessage.ToString()`, as apps log a failed response:
//!
//! ```text
//! StatusCode: 401, ReasonPhrase: 'Unauthorized', Version: 1.1, Content: System.Net.Http.HttpConnectionResponseContent, Headers:
//! {
//!   WWW-Authenticate: Bearer error="invalid_token"
//!   Content-Length: 0
//! }
//! ```
//! Format from dotnet/runtime `HttpResponseMessage.ToString` and
//! `HeaderUtilities.DumpHeaders` (04da5a1). (`HttpRequestException`'s
//! `Response status code does not indicate success: 401 (Unauthorized).`
//! is read by the exception parser.)

use std::sync::OnceLock;

use regex::Regex;

use super::{Ctx, Direction, EventKind, Field, LineParser, Lines, Value};

fn head_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"StatusCode: (?P<status>[0-9]{3}), ReasonPhrase: '(?P<reason>[^']*)', Version: [0-9.]+, Content: \S+?, Headers:\s*$",
        )
        .expect("dotnet regex")
    })
}

/// Header lines one dump may take.
const MAX_HEADERS: usize = 200;

pub struct DotnetResponse;

impl LineParser for DotnetResponse {
    fn tells_exchange(&self) -> bool {
        true
    }

    fn triggers(&self) -> &'static [&'static str] {
        &["ReasonPhrase: '"]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        // A literal check first: the regex compiles only for a line it may match.
        if !line.contains("StatusCode: ") {
            return None;
        }
        let c = head_re().captures(line)?;
        let status = c.name("status")?.as_str();
        let mut fields =
            vec![lines.field("status", Value::Num(status.parse().unwrap_or(0.0)), status)];
        if let Some(r) = c
            .name("reason")
            .filter(|r| !r.as_str().is_empty() && r.as_str() != "<null>")
        {
            fields.push(lines.str_field("reason", r.as_str()));
        }
        let at = c.get(0)?.start();
        let before = line[..at].trim().trim_end_matches(':').trim();
        if !before.is_empty() {
            fields.push(lines.str_field("exception.message", before));
        }
        // One group: the `{` line between the status and the headers must
        // not part them.
        let g = ctx.new_exchange();
        ctx.emit_grouped(EventKind::Status, lines.span_of(line.trim_end()), fields, g);
        let mut j = i + 1;
        if j < lines.len() && lines.line(j).trim() == "{" {
            j += 1;
            while j < lines.len() && j - i <= MAX_HEADERS {
                let l = lines.line(j);
                if l.trim() == "}" {
                    j += 1;
                    break;
                }
                let Ok((_, (name, value))) = super::http::header_line(l.trim()) else {
                    break;
                };
                ctx.emit_grouped(
                    EventKind::Header,
                    lines.span_of(l.trim_end()),
                    vec![Field {
                        name: format!("header.{}", name.to_ascii_lowercase()).into(),
                        value: Value::Str(value.into()),
                        span: lines.span_of(value),
                    }],
                    g,
                );
                j += 1;
            }
        } else {
            ctx.open(Direction::Response, false);
        }
        Some(j - i)
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_chunk;
    use super::super::tests::chunk;

    #[test]
    fn response_dump() {
        let t = "Graph call failed: StatusCode: 401, ReasonPhrase: 'Unauthorized', Version: 1.1, Content: System.Net.Http.HttpConnectionResponseContent, Headers:\n{\n  WWW-Authenticate: Bearer error=\"invalid_token\"\n  Content-Length: 0\n}\n";
        let events = parse_chunk(&chunk(t));
        let get = |n: &str| {
            events
                .iter()
                .find_map(|e| e.field(n))
                .map(|f| f.value.to_string())
        };
        assert_eq!(get("status").as_deref(), Some("401"));
        assert_eq!(get("reason").as_deref(), Some("Unauthorized"));
        assert_eq!(
            get("header.www-authenticate").as_deref(),
            Some("Bearer error=\"invalid_token\"")
        );
        assert_eq!(
            get("exception.message").as_deref(),
            Some("Graph call failed")
        );
        assert!(get("body.error").is_none());
    }

    #[test]
    fn a_success_is_no_failure_and_prose_is_not_a_dump() {
        let ok = "StatusCode: 200, ReasonPhrase: 'OK', Version: 1.1, Content: System.Net.Http.HttpConnectionResponseContent, Headers:\n{\n  Date: x\n}\n";
        let events = parse_chunk(&chunk(ok));
        assert!(
            events
                .iter()
                .filter_map(|e| e.field("status"))
                .all(|f| f.value.to_string() == "200")
        );
        assert!(parse_chunk(&chunk("the ReasonPhrase: 'Unauthorized' was logged\n")).is_empty());
    }
}
