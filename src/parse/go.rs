//! Go HTTP client errors: net/http's `*url.Error` (`Post "https://…": dial
//! tcp: lookup host: no such host`) and golang.org/x/oauth2's token errors
//! (`oauth2: cannot fetch token: 401 Unauthorized` + `Response: {…}`, and the
//! newer `oauth2: "invalid_client" "description"`).

use std::sync::OnceLock;

use regex::Regex;

use super::json::detached_body_fields;
use super::{Ctx, EventKind, LineParser, Lines, Value};

/// net/url: `fmt.Sprintf("%s %q: %s", e.Op, e.URL, e.Err)`; net/http's Op is
/// the method with only its first letter upper-case.
fn url_error() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?:^|\s)(?P<op>Get|Post|Put|Patch|Delete|Head|Options) "(?P<url>https?://[^"]+)": (?P<msg>.+)$"#)
            .expect("go url.Error regex")
    })
}

/// x/oauth2 RetrieveError: `oauth2: cannot fetch token: <status>` and, newer,
/// `oauth2: "<error>" "<description>"`.
fn oauth2_error() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"oauth2: (?:cannot fetch token: (?P<status>\d{3})(?: (?P<reason>[^\n]*))?$|"(?P<error>[a-z_]+)"(?: "(?P<description>[^"]*)")?)"#,
        )
        .expect("go oauth2 regex")
    })
}

pub struct GoError;

impl LineParser for GoError {
    fn triggers(&self) -> &'static [&'static str] {
        &["\": ", "oauth2: "]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        if !line.contains("\": ") && !line.contains("oauth2: ") {
            return None;
        }
        let mut fields = vec![lines.field("client", Value::Str("go".into()), line.trim_end())];
        let mut consumed = 1;
        let start;
        // The URL is quoted after the op: checked first, the regex compiles
        // only for a line it may match.
        if line.contains(" \"http")
            && let Some(c) = url_error().captures(line)
        {
            let (op, url, msg) = (c.name("op")?, c.name("url")?, c.name("msg")?);
            start = op.start();
            fields.push(lines.field(
                "exception.type",
                Value::Str("*url.Error".into()),
                op.as_str(),
            ));
            fields.push(lines.field(
                "method",
                Value::Str(op.as_str().to_ascii_uppercase()),
                op.as_str(),
            ));
            fields.push(lines.str_field("url", url.as_str()));
            fields.push(lines.str_field("exception.message", msg.as_str().trim_end()));
        } else if line.contains("oauth2: ")
            && let Some(c) = oauth2_error().captures(line)
        {
            let whole = c.get(0)?;
            start = whole.start();
            fields.push(lines.field(
                "exception.type",
                Value::Str("oauth2.RetrieveError".into()),
                whole.as_str(),
            ));
            fields.push(lines.str_field("exception.message", whole.as_str().trim_end()));
            if let Some(s) = c.name("status") {
                fields.push(lines.field(
                    "status",
                    Value::Num(s.as_str().parse().unwrap_or(0.0)),
                    s.as_str(),
                ));
            }
            if let Some(r) = c.name("reason") {
                fields.push(lines.str_field("reason", r.as_str().trim_end()));
            }
            if let Some(e) = c.name("error") {
                fields.push(lines.str_field("body.error", e.as_str()));
            }
            if let Some(d) = c.name("description") {
                fields.push(lines.str_field("body.error_description", d.as_str()));
            }
            // The older format prints the body on the next line.
            if i + 1 < lines.len()
                && let Some(body) = lines.line(i + 1).strip_prefix("Response: ")
            {
                fields.extend(detached_body_fields(body, lines.span_of(body.trim_end())));
                consumed = 2;
            }
        } else {
            return None;
        }
        let end = lines.line(i + consumed - 1);
        let span = lines
            .span_of(&line[start..])
            .cover(lines.span_of(end.trim_end()));
        ctx.emit(EventKind::Exception, span, fields);
        Some(consumed)
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_chunk;
    use super::super::tests::chunk;

    #[test]
    fn url_error_with_dns_failure() {
        let text = "2026/11/24 03:00:01 token: Post \"https://login.mypurecloud.com/oauth/token\": dial tcp: lookup login.mypurecloud.com on 127.0.0.53:53: no such host\n";
        let events = parse_chunk(&chunk(text));
        assert_eq!(events.len(), 1, "{events:?}");
        let e = &events[0];
        assert_eq!(e.field("method").unwrap().value.to_string(), "POST");
        assert_eq!(
            e.field("url").unwrap().value.to_string(),
            "https://login.mypurecloud.com/oauth/token"
        );
        assert!(
            e.field("exception.message")
                .unwrap()
                .value
                .to_string()
                .ends_with("no such host")
        );
    }

    #[test]
    fn oauth2_retrieve_error_with_body() {
        let text = "oauth2: cannot fetch token: 401 Unauthorized\nResponse: {\"error\":\"invalid_client\",\"description\":\"authentication failed\",\"error_description\":\"authentication failed\"}\n";
        let events = parse_chunk(&chunk(text));
        assert_eq!(events.len(), 1, "{events:?}");
        let e = &events[0];
        assert_eq!(e.field("status").unwrap().value.to_string(), "401");
        assert_eq!(
            e.field("body.error").unwrap().value.to_string(),
            "invalid_client"
        );
    }

    #[test]
    fn oauth2_new_format() {
        let events = parse_chunk(&chunk("oauth2: \"invalid_client\" \"client not found\"\n"));
        assert_eq!(
            events[0]
                .field("body.error_description")
                .unwrap()
                .value
                .to_string(),
            "client not found"
        );
    }
}
