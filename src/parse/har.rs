//! HAR files (HTTP Archive 1.2, as browsers' dev tools and mitmproxy save
//! them): a whole-document format. Every entry becomes one exchange — its
//! events share a group — with the request line, headers, form or JSON
//! request body, status, response headers, the response body (base64
//! decoded when `encoding` says so) and `startedDateTime` as `time`. A
//! request that got no response (`status` 0, Chrome's `_error`) is a failed
//! request. A truncated HAR still yields its complete entries.

use std::borrow::Cow;

use base64::Engine;

use super::json::{Json, Node, detached_body_fields, parse_document};
use super::{Ctx, Event, EventKind, Field, Lines, Value, time};
use crate::input::Chunk;

/// Largest HAR read whole (see [`crate::input`]).
pub const MAX_HAR: usize = 512 << 20;
/// Bodies larger than this are kept as text only, not parsed.
const MAX_BODY: usize = 1 << 20;

/// Whether a source starts like a HAR document: a JSON object whose first
/// key is `log`, with HAR's `version`/`creator`/`entries` close by.
pub fn sniff(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let Some(first) = head.iter().position(|b| !b.is_ascii_whitespace()) else {
        return false;
    };
    if head[first] != b'{' {
        return false;
    }
    let rest = &head[first + 1..];
    let Some(key) = rest.iter().position(|b| !b.is_ascii_whitespace()) else {
        return false;
    };
    let contains = |needle: &[u8]| rest.windows(needle.len()).any(|w| w == needle);
    rest[key..].starts_with(b"\"log\"")
        && (contains(b"\"entries\"") || contains(b"\"creator\"") || contains(b"\"version\""))
}

/// Parses a HAR document; `None` if it is not one (the caller then reads it
/// line by line).
pub fn parse(chunk: &Chunk) -> Option<Vec<Event>> {
    let lines = Lines::new(chunk);
    let text = chunk.text.as_str();
    let entries: Vec<Node> = match parse_document(text, MAX_HAR) {
        Some(root) => match root
            .get("log")
            .and_then(|l| l.get("entries"))
            .map(|e| &e.json)
        {
            Some(Json::Array(items)) => items.clone(),
            _ => return None,
        },
        None => salvage_entries(text)?,
    };
    let mut ctx = Ctx::new();
    for (group, entry) in entries.iter().enumerate() {
        entry_events(&mut ctx, &lines, entry, group);
    }
    Some(ctx.events)
}

/// The complete entries of a truncated HAR, parsed one by one.
fn salvage_entries(text: &str) -> Option<Vec<Node<'_>>> {
    let key = text.find("\"entries\"")?;
    let open = key + text[key..].find('[')?;
    let mut pos = open + 1;
    let mut out = Vec::new();
    loop {
        let rest = &text[pos..];
        let skip = rest.len() - rest.trim_start_matches([' ', '\t', '\r', '\n', ',']).len();
        pos += skip;
        if !text[pos..].starts_with('{') {
            break;
        }
        let Some(node) = parse_document(&text[pos..], MAX_HAR) else {
            break;
        };
        pos += node.raw.len();
        out.push(node);
    }
    Some(out)
}

fn str_of<'n>(node: &'n Node, key: &str) -> Option<&'n Node<'n>> {
    node.get(key).filter(|n| matches!(n.json, Json::Str(_)))
}

fn field(lines: &Lines, name: impl Into<Cow<'static, str>>, node: &Node, value: Value) -> Field {
    Field {
        name: name.into(),
        value,
        span: lines.span_of(node.value_text()),
    }
}

fn headers(ctx: &mut Ctx, lines: &Lines, list: Option<&Node>, prefix: &str, group: usize) {
    let Some(Json::Array(items)) = list.map(|n| &n.json) else {
        return;
    };
    for h in items {
        let (Some(name), Some(value)) = (str_of(h, "name"), str_of(h, "value")) else {
            continue;
        };
        let Json::Str(n) = &name.json else { continue };
        let f = field(
            lines,
            format!("{prefix}{}", n.to_ascii_lowercase()),
            value,
            value.scalar_value(),
        );
        ctx.emit_grouped(EventKind::Header, lines.span_of(h.raw), vec![f], group);
    }
}

fn entry_events(ctx: &mut Ctx, lines: &Lines, entry: &Node, group: usize) {
    let request = entry.get("request");
    let response = entry.get("response");
    if let Some(req) = request {
        let mut fields = Vec::new();
        if let Some(m) = str_of(req, "method") {
            fields.push(field(lines, "method", m, m.scalar_value()));
        }
        if let Some(u) = str_of(req, "url") {
            fields.push(field(lines, "url", u, u.scalar_value()));
        }
        if let Some(t) = str_of(entry, "startedDateTime")
            && let Some(ts) = t.as_str().and_then(time::parse_timestamp)
        {
            fields.push(field(lines, "time", t, Value::Str(time::format(ts).into())));
        }
        // From the entry's start, so `startedDateTime` is in the excerpt.
        let entry_span = lines.span_of(entry.raw);
        let span = request
            .map(|r| entry_span.cover(lines.span_of(r.raw)))
            .unwrap_or(entry_span);
        ctx.emit_grouped(EventKind::Request, span, fields, group);
        headers(ctx, lines, req.get("headers"), "request.header.", group);
        if let Some(text) = req.get("postData").and_then(|p| str_of(p, "text")) {
            let f = field(lines, "request.body", text, text.scalar_value());
            ctx.emit_grouped(
                EventKind::RequestBody,
                lines.span_of(text.raw),
                vec![f],
                group,
            );
        }
    }
    let status = response
        .and_then(|r| r.get("status"))
        .and_then(|s| match s.json {
            Json::Num(n) => Some((s, n)),
            _ => None,
        });
    let error = response
        .and_then(|r| str_of(r, "_error"))
        .or_else(|| str_of(entry, "_error"))
        .filter(|e| e.as_str().is_some_and(|s| !s.is_empty()));
    if let (Some(resp), Some((s, n))) = (response, status)
        && n > 0.0
    {
        let mut fields = vec![field(lines, "status", s, Value::Num(n))];
        if let Some(r) =
            str_of(resp, "statusText").filter(|r| r.as_str().is_some_and(|t| !t.is_empty()))
        {
            fields.push(field(lines, "reason", r, r.scalar_value()));
        }
        ctx.emit_grouped(EventKind::Status, lines.span_of(s.raw), fields, group);
        headers(ctx, lines, resp.get("headers"), "header.", group);
        if let Some(content) = resp.get("content") {
            body_events(ctx, lines, content, n, group);
        }
    }
    let failed = status.is_none_or(|(_, n)| n <= 0.0);
    if failed || error.is_some() {
        let mut fields = Vec::new();
        match error {
            Some(e) => {
                fields.push(field(lines, "exception.message", e, e.scalar_value()));
                fields.push(field(lines, "exception.code", e, e.scalar_value()));
            }
            None => {
                let at = status.map(|(s, _)| s).or(response).unwrap_or(entry);
                fields.push(field(
                    lines,
                    "exception.message",
                    at,
                    Value::Str("no response recorded (HAR status 0)".into()),
                ));
            }
        }
        let at = error.or(status.map(|(s, _)| s)).unwrap_or(entry);
        ctx.emit_grouped(EventKind::Exception, lines.span_of(at.raw), fields, group);
    }
}

/// The response body: JSON fields when it parses (spans point at the HAR
/// string: the decoded text is not in the input), else the text itself.
fn body_events(ctx: &mut Ctx, lines: &Lines, content: &Node, status: f64, group: usize) {
    let Some(text_node) = str_of(content, "text") else {
        return;
    };
    let Some(raw_text) = text_node.as_str() else {
        return;
    };
    if raw_text.is_empty() || (status < 400.0 && raw_text.len() > 64 << 10) {
        return;
    }
    let base64 = str_of(content, "encoding").and_then(|e| e.as_str()) == Some("base64");
    let decoded;
    let text: &str = if base64 {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw_text.trim())
            .unwrap_or_default();
        decoded = String::from_utf8_lossy(&bytes).into_owned();
        &decoded
    } else {
        raw_text
    };
    let span = lines.span_of(text_node.value_text());
    let fields = if text.len() <= MAX_BODY {
        detached_body_fields(text, span)
    } else {
        vec![Field {
            name: "body".into(),
            value: Value::Str(text.into()),
            span,
        }]
    };
    ctx.emit_grouped(EventKind::Body, span, fields, group);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(text: &str) -> Chunk {
        Chunk {
            source: 0,
            offset: 0,
            first_line: 1,
            text: text.to_string(),
        }
    }

    const HAR: &str = r#"{
  "log": {
    "version": "1.2",
    "entries": [
      {
        "startedDateTime": "2026-11-24T21:09:30.560700+00:00",
        "request": {"method": "POST", "url": "https://login.example.com/oauth/token",
          "headers": [{"name": "Content-Type", "value": "application/x-www-form-urlencoded"}],
          "postData": {"mimeType": "application/x-www-form-urlencoded", "text": "grant_type=client_credentials"}},
        "response": {"status": 400, "statusText": "Bad Request",
          "headers": [{"name": "Content-Type", "value": "application/json"}],
          "content": {"mimeType": "application/json", "encoding": "base64",
            "text": "eyJlcnJvciI6ImludmFsaWRfY2xpZW50In0="}}
      },
      {
        "startedDateTime": "2026-11-24T21:09:31Z",
        "request": {"method": "GET", "url": "https://api.example.com/x", "headers": []},
        "response": {"status": 0, "statusText": "", "headers": [], "content": {}, "_error": "net::ERR_CONNECTION_REFUSED"}
      }
    ]
  }
}"#;

    #[test]
    fn entries_become_grouped_events() {
        assert!(sniff(HAR.as_bytes()));
        assert!(!sniff(br#"{"level":"info","log":"x"}"#));
        let events = parse(&chunk(HAR)).unwrap();
        let get = |g: usize, n: &str| {
            events
                .iter()
                .filter(|e| e.group == Some(g))
                .find_map(|e| e.field(n))
                .map(|f| f.value.to_string())
        };
        assert_eq!(get(0, "status").as_deref(), Some("400"));
        assert_eq!(get(0, "body.error").as_deref(), Some("invalid_client"));
        assert_eq!(
            get(0, "request.body").as_deref(),
            Some("grant_type=client_credentials")
        );
        assert_eq!(get(0, "time").as_deref(), Some("2026-11-24T21:09:30.5607Z"));
        assert_eq!(
            get(1, "exception.code").as_deref(),
            Some("net::ERR_CONNECTION_REFUSED")
        );
        assert_eq!(get(1, "status"), None);
    }

    #[test]
    fn truncated_har_keeps_complete_entries() {
        let cut = HAR
            .find("\"startedDateTime\": \"2026-11-24T21:09:31Z\"")
            .unwrap();
        let events = parse(&chunk(&HAR[..cut])).unwrap();
        assert!(events.iter().any(|e| e.field("body.error").is_some()));
        for n in 0..HAR.len() {
            let _ = parse(&chunk(&HAR[..n]));
        }
    }
}
