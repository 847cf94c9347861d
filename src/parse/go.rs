//! Go HTTP client errors: net/http's `*url.Error` (`Post "https://…": dial
//! tcp: lookup host: no such host`) and golang.org/x/oauth2's token errors
//! (`oauth2: cannot fetch token: 401 Unauthorized` + `Response: {…}`, and the
//! newer `oauth2: "invalid_client" "description"`).

use std::sync::OnceLock;

use regex::Regex;

use super::json::detached_body_fields;
use super::mapped::Mapped;
use super::{Ctx, EventKind, Field, LineParser, Lines, Value};

/// net/url: `fmt.Sprintf("%s %q: %s", e.Op, e.URL, e.Err)` since Go 1.14,
/// `"%s %s: %s"` (URL unquoted) before; net/http's Op is the method with
/// only its first letter upper-case. Logged inside a quoted logfmt value the
/// quotes are escaped (`error="Get \"https://…\": …"`).
fn url_error() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?:^|[\s"'=(\[])(?P<op>Get|Post|Put|Patch|Delete|Head|Options) (?:\\?"(?P<url>https?://[^"\\\s]+)\\?"|(?P<bare>https?://\S+?)): (?P<msg>.+)$"#)
            .expect("go url.Error regex")
    })
}

/// The op at the end of a line, its URL at the start of the next: the error
/// wrapped at a terminal's width (Terraform wraps its diagnostics at 78).
fn op_at_end() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?:^|\s)(?:Get|Post|Put|Patch|Delete|Head|Options)$"#).expect("go op regex")
    })
}

/// Lines a wrapped error may take.
const MAX_WRAPPED_LINES: usize = 8;

/// The error that starts on line `i` and goes on over the next lines up to
/// a blank one, as one text with the line breaks read as spaces (the wrap
/// replaced them), mapped to the input. `None` when it is not wrapped.
fn unwrapped(lines: &Lines, i: usize) -> Option<Mapped> {
    let line = lines.line(i).trim_end();
    if !op_at_end().is_match(line)
        || !lines
            .bounds
            .get(i + 1)
            .is_some_and(|_| lines.line(i + 1).trim_start().starts_with("\"http"))
    {
        return None;
    }
    let mut m = Mapped::default();
    m.push_verbatim(line, lines.span_of(line).start);
    let mut j = i + 1;
    while j < lines.len() && j - i <= MAX_WRAPPED_LINES {
        let next = lines.line(j).trim();
        if next.is_empty() {
            break;
        }
        let at = lines.span_of(next).start;
        m.push_mapped(" ", at, 0);
        m.push_verbatim(next, at);
        j += 1;
    }
    Some(m)
}

/// x/oauth2 RetrieveError: `oauth2: cannot fetch token: <status>` and, newer,
/// `oauth2: "<error>" "<description>" "<uri>"` (description and URI when
/// the server gave them).
fn oauth2_error() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"oauth2: (?:cannot fetch token: (?P<status>[0-9]{3})(?: (?P<reason>[^\n]*))?$|"(?P<error>[a-z_]+)"(?: "(?P<description>[^"]*)")?(?: "(?P<uri>[^"\s]*)")?)"#,
        )
        .expect("go oauth2 regex")
    })
}

/// The facts of an x/oauth2 RetrieveError match beyond its type and
/// message: the status, or the error, its description and URI; (name,
/// value, byte range in the text matched).
fn oauth2_fields(c: &regex::Captures) -> Vec<(&'static str, Value, (usize, usize))> {
    let range = |m: regex::Match| (m.start(), m.end());
    let mut out = Vec::new();
    if let Some(s) = c.name("status") {
        out.push((
            "status",
            Value::Num(s.as_str().parse().unwrap_or(0.0)),
            range(s),
        ));
    }
    let texts = [
        ("reason", "reason"),
        ("error", "body.error"),
        ("description", "body.error_description"),
        ("uri", "body.error_uri"),
    ];
    for (group, name) in texts {
        if let Some(m) = c.name(group) {
            let text = m.as_str().trim_end();
            out.push((
                name,
                Value::Str(text.into()),
                (m.start(), m.start() + text.len()),
            ));
        }
    }
    out
}

/// The facts of a `*url.Error` match over `text`: (name, value, byte range
/// in `text`). A message logged inside a quoted value loses that value's
/// closing quote.
fn url_error_fields(c: &regex::Captures, text: &str) -> Vec<(&'static str, Value, (usize, usize))> {
    let mut out = Vec::new();
    let (Some(op), Some(msg)) = (c.name("op"), c.name("msg")) else {
        return out;
    };
    let Some(url) = c.name("url").or(c.name("bare")) else {
        return out;
    };
    let range = |m: regex::Match| (m.start(), m.end());
    out.push(("exception.type", Value::Str("*url.Error".into()), range(op)));
    out.push((
        "method",
        Value::Str(op.as_str().to_ascii_uppercase().into()),
        range(op),
    ));
    out.push(("url", Value::Str(url.as_str().into()), range(url)));
    let quoted_value = op.start() > 0 && text[..op.start()].ends_with('"');
    let mut m = msg.as_str().trim_end();
    if quoted_value && m.ends_with('"') && !m.ends_with("\\\"") {
        m = &m[..m.len() - 1];
    }
    out.push((
        "exception.message",
        Value::Str(m.into()),
        (msg.start(), msg.start() + m.len()),
    ));
    out
}

pub struct GoError;

impl LineParser for GoError {
    fn triggers(&self) -> &'static [&'static str] {
        &[
            "\": ",
            "oauth2: ",
            // Before Go 1.14 the URL was not quoted; and the op may end a
            // wrapped line.
            "Get http",
            "Post http",
            "Put http",
            "Patch http",
            "Delete http",
            "Head http",
            "Options http",
            " Get",
            " Post",
            " Put",
            " Patch",
            " Delete",
            " Head",
            " Options",
        ]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        // A client that logs the error at INFO/DEBUG went on (docker and
        // helm log `INFO[0000] Error logging in to v2 endpoint, trying next
        // endpoint: Get "https://…": …` before trying plain HTTP).
        if super::logprefix::is_informational(line) {
            return None;
        }
        if let Some(m) = unwrapped(lines, i) {
            let whole = lines.span_of_lines(i, i);
            let c = url_error().captures(&m.text)?;
            let op = c.name("op")?;
            let mut fields = vec![Field {
                name: "client".into(),
                value: Value::Str("go".into()),
                span: whole,
            }];
            let mut found = url_error_fields(&c, &m.text);
            // A token source's failure inside a request's (an
            // oauth2.Transport): `Get "…": oauth2: "invalid_grant" …`.
            if let Some(o) = oauth2_error().captures_at(&m.text, op.start()) {
                found.extend(oauth2_fields(&o));
            }
            fields.extend(found.into_iter().map(|(name, value, at)| Field {
                name: name.into(),
                value,
                span: m.span(at.0, at.1).unwrap_or(whole),
            }));
            let last = m.span(m.text.len() - 1, m.text.len())?;
            let span = m.span(op.start(), op.end())?.cover(last);
            let consumed = lines.line_at(last.start - lines.base) - i + 1;
            ctx.emit(EventKind::Exception, span, fields);
            return Some(consumed);
        }
        let unquoted = line.contains(" http") && url_error().is_match(line);
        if !line.contains("\": ") && !line.contains("oauth2: ") && !unquoted {
            return None;
        }
        let mut fields = vec![lines.field("client", Value::Str("go".into()), line.trim_end())];
        let mut consumed = 1;
        let start;
        // The URL follows the op: checked first, the regex compiles only for
        // a line it may match. Not a `*url.Error` when the quoted URL is
        // another value (the error URI of an x/oauth2 error).
        let url_capture = (line.contains(" \"http") || line.contains(" \\\"http") || unquoted)
            .then(|| url_error().captures(line))
            .flatten();
        if let Some(c) = url_capture {
            start = c.name("op")?.start();
            fields.extend(
                url_error_fields(&c, line)
                    .into_iter()
                    .map(|(name, value, at)| lines.field(name, value, &line[at.0..at.1])),
            );
            // A token source's failure inside a request's (an
            // oauth2.Transport): `Get "…": oauth2: "invalid_grant" …`.
            if let Some(o) = oauth2_error().captures_at(line, start) {
                fields.extend(
                    oauth2_fields(&o)
                        .into_iter()
                        .map(|(name, value, at)| lines.field(name, value, &line[at.0..at.1])),
                );
            }
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
            fields.extend(
                oauth2_fields(&c)
                    .into_iter()
                    .map(|(name, value, at)| lines.field(name, value, &line[at.0..at.1])),
            );
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
    fn url_error_unquoted_escaped_and_wrapped() {
        use super::super::tests::field_value as get;
        // Before Go 1.14 the URL was not quoted; a port's colon is not the end.
        let t = "caused by: Put https://bucket.example-store.com:8443/a/b.csv: x509: certificate signed by unknown authority\n";
        assert_eq!(get(t, "method").as_deref(), Some("PUT"));
        assert_eq!(
            get(t, "url").as_deref(),
            Some("https://bucket.example-store.com:8443/a/b.csv")
        );
        assert_eq!(
            get(t, "exception.message").as_deref(),
            Some("x509: certificate signed by unknown authority")
        );
        // Inside a quoted logfmt value: quotes escaped, the value's closing quote dropped.
        let t = "WARN sync error=\"Delete \\\"https://api.example.org/v1/items/7\\\": context deadline exceeded\"\n";
        assert_eq!(
            get(t, "url").as_deref(),
            Some("https://api.example.org/v1/items/7")
        );
        assert_eq!(
            get(t, "exception.message").as_deref(),
            Some("context deadline exceeded")
        );
        // Wrapped at a terminal's width: the op ends one line, the URL starts the next.
        let t = "could not connect to registry.example.io: Failed to request\ndiscovery document: Post\n\"https://registry.example.io/v1/x\": dial tcp: lookup\nregistry.example.io: no such host\n\nnext paragraph\n";
        let events = parse_chunk(&chunk(t));
        let go = events
            .iter()
            .find(|e| e.field("client").is_some())
            .expect("the wrapped error is read");
        assert_eq!(
            go.field("url").unwrap().value.to_string(),
            "https://registry.example.io/v1/x"
        );
        assert_eq!(
            go.field("exception.message").unwrap().value.to_string(),
            "dial tcp: lookup registry.example.io: no such host"
        );
        // A sentence that ends with a verb is not an op.
        assert!(get("Nothing to Get\n\"quoted\": text\n", "url").is_none());
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
        // With the error URI: a quoted URL that is no `*url.Error`'s.
        let text = "oauth2: \"bad_verification_code\" \"The code passed is incorrect or expired.\" \"https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code\"\n";
        let events = parse_chunk(&chunk(text));
        let value = |name: &str| events[0].field(name).map(|f| f.value.to_string());
        assert_eq!(
            value("body.error").as_deref(),
            Some("bad_verification_code")
        );
        assert!(
            value("body.error_uri")
                .unwrap()
                .starts_with("https://docs.github.com/")
        );
        // Inside a request's `*url.Error`.
        let text = "Get \"https://api.example.com/v1/items\": oauth2: \"invalid_grant\" \"Token has been expired or revoked.\"\n";
        let events = parse_chunk(&chunk(text));
        let value = |name: &str| events[0].field(name).map(|f| f.value.to_string());
        assert_eq!(
            value("url").as_deref(),
            Some("https://api.example.com/v1/items")
        );
        assert_eq!(value("body.error").as_deref(), Some("invalid_grant"));
        assert_eq!(
            value("body.error_description").as_deref(),
            Some("Token has been expired or revoked.")
        );
    }
}
