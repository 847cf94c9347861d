//! Terraform's diagnostic box, as a terminal or a CI log shows it (with
//! or without its colour codes):
//!
//! ```text
//! ╷
//! │ Error: building account: … received HTTP status 401 with response: {"error":"invalid_client",…}
//! │
//! │   with provider["registry.terraform.io/hashicorp/azurerm"],
//! │   on main.tf line 1, in provider "azurerm":
//! ╵
//! ```
//!
//! An `Error:` box is one failure: its summary is the message, and every
//! line of it is read for statuses, codes, URLs and a body. A `Warning:`
//! box is claimed and dropped. (Without colour Terraform prints a plain
//! `Error: …` line, which the exception parser reads.)

use std::sync::OnceLock;

use regex::Regex;

use super::mapped::Mapped;
use super::{Ctx, EventKind, Field, LineParser, Lines, Value};

/// Lines one box may take.
const MAX_BOX_LINES: usize = 400;

fn csi_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\x1b\[[0-9;?]*[ -/]*[@-~]").expect("csi regex"))
}

/// A line with its terminal escape sequences (colours) removed, mapped
/// back to the input.
fn without_escapes(lines: &Lines, i: usize) -> Mapped {
    let line = lines.line(i);
    let base = lines.span_of(line).start;
    let mut m = Mapped::default();
    let mut last = 0;
    for e in csi_re().find_iter(line) {
        m.push_verbatim(&line[last..e.start()], base + last);
        last = e.end();
    }
    m.push_verbatim(&line[last..], base + last);
    m
}

pub struct TerraformBox;

impl LineParser for TerraformBox {
    fn triggers(&self) -> &'static [&'static str] {
        &["╷"]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        if without_escapes(lines, i).text.trim() != "╷" {
            return None;
        }
        let mut content: Vec<(Mapped, usize)> = Vec::new();
        let mut j = i + 1;
        let mut closed = false;
        while j < lines.len() && j - i <= MAX_BOX_LINES {
            let m = without_escapes(lines, j);
            super::work::add(m.text.len() + 1);
            let t = m.text.trim_end();
            if t.trim_start() == "╵" {
                closed = true;
                j += 1;
                break;
            }
            let Some(rest) = t.trim_start().strip_prefix('│') else {
                break;
            };
            // The content after `│ `, as its own mapped text.
            let at = t.len() - rest.len();
            let offset = at + usize::from(rest.starts_with(' '));
            let mut c = Mapped::default();
            if let Some(span) = m.span(offset, t.len()) {
                let piece = &lines.text[span.start - lines.base..span.end - lines.base];
                if piece.len() == t.len() - offset {
                    c.push_verbatim(piece, span.start);
                } else {
                    // Escapes inside the content: keep the mapped text.
                    c = m.slice(offset, t.len());
                }
            }
            content.push((c, j));
            j += 1;
        }
        if content.is_empty() {
            return None;
        }
        let last = j - 1;
        let span = lines.span_of_lines(i, last);
        let (first, _) = &content[0];
        let Some(summary) = first.text.trim_start().strip_prefix("Error:") else {
            // A warning box (or one we cannot read) is not a failure.
            return closed.then_some(j - i);
        };
        let summary = summary.trim();
        let at = summary.as_ptr() as usize - first.text.as_ptr() as usize;
        let mut fields = vec![Field {
            name: "exception.message".into(),
            value: Value::Str(summary.into()),
            span: first.span(at, at + summary.len()).unwrap_or(span),
        }];
        let mut body = None;
        for (c, _) in &content {
            let whole = c.span(0, c.text.len()).unwrap_or(span);
            let body_at = super::json::find_in_text(&c.text);
            let text_end = body_at.unwrap_or(c.text.len());
            let before = c.slice(0, text_end);
            for f in super::signal::scan_mapped(&before, whole) {
                let repeated = match &*f.name {
                    "exception.code" | "body.error" => fields
                        .iter()
                        .any(|g| g.name == f.name && g.value == f.value),
                    name => fields.iter().any(|g| g.name == name),
                };
                if !repeated {
                    fields.push(f);
                }
            }
            if body.is_none()
                && let Some(b) = body_at.and_then(|a| super::json::mapped_body_fields(c, a, whole))
            {
                body = Some(b);
            }
        }
        ctx.emit(EventKind::Exception, span, fields);
        if let Some(b) = body {
            let s = b.first().map_or(span, |f| f.span);
            ctx.emit(EventKind::Body, s, b);
        }
        Some(j - i)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::chunk;
    use super::super::{EventKind, parse_chunk};

    #[test]
    fn error_box_with_a_body() {
        let t = "╷\n│ Error: building account: could not acquire access token to parse claims: clientCredentialsToken: received HTTP status 401 with response: {\"error\":\"invalid_client\",\"error_description\":\"bad secret\"}\n│ \n│   with provider[\"registry.terraform.io/hashicorp/azurerm\"],\n│   on main.tf line 1, in provider \"azurerm\":\n│    1: provider \"azurerm\" {\n│ \n╵\n";
        let events = parse_chunk(&chunk(t));
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(events[0].kind, EventKind::Exception);
        let status = events[0].field("status").unwrap();
        assert_eq!(&t[status.span.start..status.span.end], "401");
        let e = events[1].field("body.error").unwrap();
        assert_eq!(&t[e.span.start..e.span.end], "invalid_client");
        assert!(
            events[0]
                .field("exception.message")
                .unwrap()
                .value
                .to_string()
                .starts_with("building account:")
        );
    }

    #[test]
    fn coloured_box() {
        let t = "\x1b[31m╷\x1b[0m\x1b[0m\n\x1b[31m│\x1b[0m \x1b[0m\x1b[1m\x1b[31mError: \x1b[0m\x1b[0m\x1b[1mHTTP remote state endpoint requires auth\x1b[0m\n\x1b[31m│\x1b[0m \x1b[0m\n\x1b[31m╵\x1b[0m\x1b[0m\n";
        let events = parse_chunk(&chunk(t));
        assert_eq!(events.len(), 1, "{events:?}");
        let m = events[0].field("exception.message").unwrap();
        assert_eq!(
            m.value.to_string(),
            "HTTP remote state endpoint requires auth"
        );
        assert_eq!(
            &t[m.span.start..m.span.end],
            "HTTP remote state endpoint requires auth"
        );
    }

    #[test]
    fn warning_box_is_not_a_failure() {
        let t = "╷\n│ Warning: Argument is deprecated\n│ \n│ error_rate is deprecated\n╵\n";
        assert!(parse_chunk(&chunk(t)).is_empty());
    }
}
