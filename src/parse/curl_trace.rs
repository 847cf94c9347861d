//! curl `--trace-ascii` dumps: `== Info:` lines, `=> Send header` /
//! `<= Recv header` / `=> Send data` / `<= Recv data` blocks of
//! `0000: text` lines. A line wrapped at 64 bytes is joined back (the next
//! offset tells: it follows without the CRLF), so a header value or JSON body
//! split over two dump lines is read whole. SSL data blocks are skipped.

use super::http::{header_line, request_line, status_line};
use super::json::detached_body_fields;
use super::{Ctx, Direction, EventKind, Field, LineParser, Lines, Value};
use crate::input::Span;

pub struct CurlTrace;

/// `007a: text` → (offset, text).
fn dump_line(line: &str) -> Option<(usize, &str)> {
    let (hex, rest) = line
        .split_once(": ")
        .or_else(|| line.strip_suffix(':').map(|h| (h, "")))?;
    if hex.len() < 4 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((usize::from_str_radix(hex, 16).ok()?, rest))
}

/// A logical line of a dump block: its text and the pieces it was read from.
struct Logical<'a> {
    text: String,
    pieces: Vec<&'a str>,
}

impl Logical<'_> {
    fn span(&self, lines: &Lines) -> Span {
        let first = lines.span_of(self.pieces[0]);
        let last = lines.span_of(self.pieces[self.pieces.len() - 1]);
        first.cover(last)
    }
    /// Span of `sub` (a slice of `text`): exact when it lies in one piece.
    fn span_of(&self, lines: &Lines, sub: &str) -> Span {
        let start = sub.as_ptr() as usize - self.text.as_ptr() as usize;
        let mut pos = 0;
        for p in &self.pieces {
            if start >= pos && start + sub.len() <= pos + p.len() {
                let s = lines.span_of(p);
                return Span::new(s.start + start - pos, s.start + start - pos + sub.len());
            }
            pos += p.len();
        }
        self.span(lines)
    }
}

/// Reads the dump lines after a block header; returns logical lines and the
/// number of dump lines.
fn read_block<'a>(lines: &Lines<'a>, first: usize) -> (Vec<Logical<'a>>, usize) {
    let mut out: Vec<Logical<'a>> = Vec::new();
    let mut j = first;
    let mut expected: Option<usize> = None;
    while j < lines.len() {
        let Some((offset, text)) = dump_line(lines.line(j)) else {
            break;
        };
        let continues = expected == Some(offset) && !out.is_empty();
        if continues {
            let last = out.last_mut().expect("non-empty");
            last.text.push_str(text);
            last.pieces.push(text);
        } else {
            out.push(Logical {
                text: text.to_string(),
                pieces: vec![text],
            });
        }
        expected = Some(offset + text.len());
        j += 1;
    }
    (out, j - first)
}

impl LineParser for CurlTrace {
    fn tells_exchange(&self) -> bool {
        true
    }

    fn triggers(&self) -> &'static [&'static str] {
        &["== Info: ", "=> Send", "<= Recv"]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        if let Some(info) = line.strip_prefix("== Info: ") {
            if let Some(host) = info
                .strip_prefix("Connected to ")
                .and_then(|r| r.split_whitespace().next())
            {
                // One exchange per connection and request: the TLS records
                // between request and response do not split it.
                let g = ctx.new_exchange();
                ctx.emit_grouped(
                    EventKind::Host,
                    lines.span_of(line),
                    vec![lines.str_field("url.host", host)],
                    g,
                );
            }
            return Some(1);
        }
        let dir = if line.starts_with("=> ") {
            Direction::Request
        } else if line.starts_with("<= ") {
            Direction::Response
        } else {
            // curl's stdout (the body again) glued to the next trace line.
            if !line.starts_with(' ')
                && (line.contains("== Info: ")
                    || line.contains("<= Recv ")
                    || line.contains("=> Send "))
            {
                return Some(1);
            }
            return None;
        };
        let what = &line[3..];
        // Only curl's own records (`=> Send header`, `<= Recv data`, …):
        // Ruby's console prints a value as `=> {…}`.
        if !(what.starts_with("Send ") || what.starts_with("Recv ")) {
            return None;
        }
        let (block, n) = read_block(lines, i + 1);
        let mut g = ctx.current_exchange();
        if what.starts_with("Send header") || what.starts_with("Recv header") {
            for l in &block {
                let text = l.text.as_str();
                if text.is_empty() {
                    continue;
                }
                let span = l.span(lines);
                if let Ok((_, (m, target))) = request_line(text) {
                    if ctx.exchange_has_request {
                        g = ctx.new_exchange();
                    }
                    ctx.exchange_has_request = true;
                    ctx.emit_grouped(
                        EventKind::Request,
                        span,
                        vec![
                            Field {
                                name: "method".into(),
                                value: Value::Str(m.into()),
                                span: l.span_of(lines, m),
                            },
                            Field {
                                name: "url".into(),
                                value: Value::Str(target.into()),
                                span: l.span_of(lines, target),
                            },
                        ],
                        g,
                    );
                } else if let Ok((_, (code, reason))) = status_line(text) {
                    let mut fields = vec![Field {
                        name: "status".into(),
                        value: Value::Num(code.parse().unwrap_or(0.0)),
                        span: l.span_of(lines, code),
                    }];
                    if !reason.is_empty() {
                        fields.push(Field {
                            name: "reason".into(),
                            value: Value::Str(reason.into()),
                            span: l.span_of(lines, reason),
                        });
                    }
                    ctx.emit_grouped(EventKind::Status, span, fields, g);
                } else if let Ok((_, (name, value))) = header_line(text) {
                    let prefix = if dir == Direction::Request {
                        "request.header."
                    } else {
                        "header."
                    };
                    ctx.emit_grouped(
                        EventKind::Header,
                        span,
                        vec![Field {
                            name: format!("{prefix}{}", name.to_ascii_lowercase()).into(),
                            value: Value::Str(value.into()),
                            span: l.span_of(lines, value),
                        }],
                        g,
                    );
                }
            }
        } else if what.starts_with("Send data") || what.starts_with("Recv data") {
            if block.is_empty() {
                return Some(1);
            }
            let text: String = block
                .iter()
                .map(|l| l.text.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            let span = block[0]
                .span(lines)
                .cover(block[block.len() - 1].span(lines));
            if dir == Direction::Request {
                ctx.emit_grouped(
                    EventKind::RequestBody,
                    span,
                    vec![Field {
                        name: "request.body".into(),
                        value: Value::Str(text.into()),
                        span,
                    }],
                    g,
                );
            } else {
                body_fields(ctx, &text, span, g);
            }
        }
        Some(1 + n)
    }
}

/// A response body read from a dump: JSON fields when it parses, all
/// pointing at the dump lines (the joined text is not in the input).
fn body_fields(ctx: &mut Ctx, text: &str, span: Span, group: usize) {
    ctx.emit_grouped(
        EventKind::Body,
        span,
        detached_body_fields(text, span),
        group,
    );
}

#[cfg(test)]
mod tests {
    use super::super::parse_chunk;
    use super::super::tests::chunk;

    const TRACE: &str = "== Info: Connected to login.apne2.pure.cloud (127.0.0.1) port 443 (#0)
=> Send SSL data, 5 bytes (0x5)
0000: .....
=> Send header, 278 bytes (0x116)
0000: POST /oauth/token HTTP/1.1
001c: Host: login.apne2.pure.cloud
003a: Authorization: Basic M2YxYzJkOWUtMDAwMC00MDAwLTgwMDAtcGxhbnRlZDA
007a: wMDAxOkZMVFBMQU5URURTRUNSRVQtOXE4dzdlNnI1dDR5
00a9: User-Agent: curl/7.88.1
0114: 
=> Send data, 29 bytes (0x1d)
0000: grant_type=client_credentials
<= Recv header, 26 bytes (0x1a)
0000: HTTP/1.1 400 Bad Request
<= Recv data, 98 bytes (0x62)
0000: {\"error\":\"invalid_client\",\"description\":\"client not found\",\"erro
0040: r_description\":\"client not found\"}
{\"error\":\"invalid_client\"}== Info: Connection #0 to host login.apne2.pure.cloud left intact
";

    #[test]
    fn trace_ascii_joins_wrapped_lines() {
        let events = parse_chunk(&chunk(TRACE));
        let get = |n: &str| {
            events
                .iter()
                .find_map(|e| e.field(n))
                .map(|f| f.value.to_string())
        };
        assert_eq!(get("url").as_deref(), Some("/oauth/token"));
        assert_eq!(get("url.host").as_deref(), Some("login.apne2.pure.cloud"));
        assert_eq!(
            get("request.header.authorization").as_deref(),
            Some(
                "Basic M2YxYzJkOWUtMDAwMC00MDAwLTgwMDAtcGxhbnRlZDAwMDAxOkZMVFBMQU5URURTRUNSRVQtOXE4dzdlNnI1dDR5"
            )
        );
        assert_eq!(
            get("request.body").as_deref(),
            Some("grant_type=client_credentials")
        );
        assert_eq!(get("status").as_deref(), Some("400"));
        assert_eq!(
            get("body.error_description").as_deref(),
            Some("client not found")
        );
        assert_eq!(
            events.iter().filter(|e| e.field("body").is_some()).count(),
            1
        );
    }
}
