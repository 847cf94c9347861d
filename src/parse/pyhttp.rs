//! Python `http.client` debug output (`HTTPConnection.debuglevel = 1`, which
//! requests' users turn on to see the wire): `send: b'POST /p HTTP/1.1\r\n
//! Host: …\r\n\r\n'`, `send: b'<body>'`, `reply: 'HTTP/1.1 403 Forbidden\r\n'`
//! and `header: Name: value` lines.

use super::http::{header_line, request_line, status_line};
use super::{Ctx, Direction, EventKind, Field, LineParser, Lines, Value};

pub struct HttpClientDebug;

/// The inside of a Python string or bytes literal (`b'…'`, `'…'`).
fn literal(rest: &str) -> Option<&str> {
    let rest = rest.strip_prefix('b').unwrap_or(rest);
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = &rest[1..];
    let end = inner.rfind(quote)?;
    Some(&inner[..end])
}

/// Decodes Python escapes (`\r`, `\n`, `\t`, `\\`, `\'`, `\xNN`).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                match u8::from_str_radix(&hex, 16) {
                    Ok(b) if b.is_ascii() => out.push(b as char),
                    _ => out.push('\u{FFFD}'),
                }
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

impl LineParser for HttpClientDebug {
    fn triggers(&self) -> &'static [&'static str] {
        &["send: ", "reply: ", "header: "]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        if let Some(rest) = line.strip_prefix("send: ") {
            let raw = literal(rest)?;
            // Pieces of the raw literal between escaped CRLFs keep exact spans.
            let pieces: Vec<&str> = raw.split("\\r\\n").collect();
            if let Ok((_, (m, target))) = request_line(&unescape(pieces[0])) {
                let first = pieces[0];
                let m_at = first.find(m).unwrap_or(0);
                let t_at = first.find(target).unwrap_or(0);
                ctx.emit(
                    EventKind::Request,
                    lines.span_of(line),
                    vec![
                        // `m`/`target` come from the unescaped text: when an
                        // escape made them differ, fall back to the whole
                        // literal rather than cut inside a character.
                        lines.str_field("method", first.get(m_at..m_at + m.len()).unwrap_or(first)),
                        lines.field(
                            "url",
                            Value::Str(target.into()),
                            first.get(t_at..t_at + target.len()).unwrap_or(first),
                        ),
                    ],
                );
                let mut body = None;
                for (k, piece) in pieces.iter().enumerate().skip(1) {
                    if piece.is_empty() {
                        body = pieces.get(k + 1).filter(|b| !b.is_empty()).copied();
                        break;
                    }
                    if let Ok((_, (name, _))) = header_line(piece) {
                        let value = piece[name.len() + 1..].trim();
                        ctx.emit(
                            EventKind::Header,
                            lines.span_of(piece),
                            vec![Field {
                                name: format!("request.header.{}", name.to_ascii_lowercase())
                                    .into(),
                                value: Value::Str(unescape(value).into()),
                                span: lines.span_of(value),
                            }],
                        );
                    }
                }
                if let Some(b) = body {
                    ctx.emit(
                        EventKind::RequestBody,
                        lines.span_of(b),
                        vec![lines.field("request.body", Value::Str(unescape(b).into()), b)],
                    );
                }
            } else if !raw.is_empty() {
                ctx.emit(
                    EventKind::RequestBody,
                    lines.span_of(raw),
                    vec![lines.field("request.body", Value::Str(unescape(raw).into()), raw)],
                );
            }
            return Some(1);
        }
        if let Some(rest) = line.strip_prefix("reply: ") {
            let raw = literal(rest)?;
            let first = raw.split("\\r\\n").next().unwrap_or(raw);
            let (_, (code, reason)) = status_line(first).ok()?;
            let mut fields =
                vec![lines.field("status", Value::Num(code.parse().unwrap_or(0.0)), code)];
            if !reason.is_empty() {
                fields.push(lines.str_field("reason", reason));
            }
            ctx.emit(EventKind::Status, lines.span_of(line), fields);
            ctx.open(Direction::Response, false);
            return Some(1);
        }
        if let Some(rest) = line.strip_prefix("header: ") {
            let (_, (name, value)) = header_line(rest).ok()?;
            ctx.emit(
                EventKind::Header,
                lines.span_of(line),
                vec![Field {
                    name: format!("header.{}", name.to_ascii_lowercase()).into(),
                    value: Value::Str(value.into()),
                    span: lines.span_of(value),
                }],
            );
            return Some(1);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_chunk;
    use super::super::tests::chunk;

    #[test]
    fn debuglevel_exchange() {
        let text = "send: b'POST /api/v2/x HTTP/1.1\\r\\nHost: api.mypurecloud.com\\r\\nContent-Length: 2\\r\\n\\r\\n'
send: b'{}'
reply: 'HTTP/1.1 403 Forbidden\\r\\n'
header: Content-Type: application/json
";
        let events = parse_chunk(&chunk(text));
        let get = |n: &str| {
            events
                .iter()
                .find_map(|e| e.field(n))
                .map(|f| f.value.to_string())
        };
        assert_eq!(get("method").as_deref(), Some("POST"));
        assert_eq!(get("url").as_deref(), Some("/api/v2/x"));
        assert_eq!(
            get("request.header.host").as_deref(),
            Some("api.mypurecloud.com")
        );
        assert_eq!(get("request.body").as_deref(), Some("{}"));
        assert_eq!(get("status").as_deref(), Some("403"));
        assert_eq!(
            get("header.content-type").as_deref(),
            Some("application/json")
        );
    }
}
