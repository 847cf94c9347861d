//! The error of Vault's Go API client (`github.com/hashicorp/vault/api`'s
//! `ResponseError`), which the vault CLI, Vault Agent, consul-template and
//! Terraform's Vault provider print as they get it:
//!
//! ```text
//! Error reading kv/data/app/db: Error making API request.
//!
//! URL: GET https://vault.example:8200/v1/kv/data/app/db
//! Code: 403. Errors:
//!
//! * 1 error occurred:
//!         * permission denied
//! ```
//!
//! One failure: the request, its status and Vault's errors (the bullets)
//! as the message. The lines are read only after the header line.

use std::sync::OnceLock;

use super::lean::Regex;
use super::{Ctx, EventKind, LineParser, Lines, Value};

pub struct VaultApiError;

/// Lines the block may take after its header (the list of errors can be
/// long when Vault wraps several).
const MAX_BLOCK_LINES: usize = 24;

fn url_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^[ \t]*URL: (?P<method>[A-Z]+) (?P<url>https?://\S+)[ \t]*\r?$")
            .expect("vault url regex")
    })
}

fn code_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^[ \t]*Code: (?P<status>[0-9]{3})\. Errors:[ \t]*\r?$")
            .expect("vault code regex")
    })
}

impl LineParser for VaultApiError {
    fn triggers(&self) -> &'static [&'static str] {
        &["Error making API request."]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let header = lines.line(i);
        if !header.contains("Error making API request.") {
            return None;
        }
        let mut request = None;
        let mut status = None;
        let mut errors: Vec<&str> = Vec::new();
        let mut j = i + 1;
        while j < lines.len() && j - i <= MAX_BLOCK_LINES {
            let line = lines.line(j);
            let t = line.trim();
            if t.is_empty() {
                // Blank lines separate the parts; one after the errors ends it.
                if !errors.is_empty() {
                    break;
                }
            } else if let Some(c) = url_re().captures(line) {
                request = Some((c.name("method")?.as_str(), c.name("url")?.as_str()));
            } else if let Some(c) = code_re().captures(line) {
                status = Some(c.name("status")?.as_str());
            } else if let Some(item) = t.strip_prefix("* ").filter(|_| status.is_some()) {
                errors.push(item.trim_end());
            } else {
                break;
            }
            j += 1;
        }
        let status = status?;
        let span = lines.span_of_lines(i, j - 1);
        if let Some((method, url)) = request {
            ctx.emit(
                EventKind::Request,
                span,
                vec![
                    lines.str_field("method", method),
                    lines.str_field("url", url),
                ],
            );
        }
        let mut fields =
            vec![lines.field("status", Value::Num(status.parse().unwrap_or(0.0)), status)];
        // `1 error occurred:` only announces the list below it.
        let said: Vec<&str> = errors
            .iter()
            .copied()
            .filter(|e| !(e.ends_with("occurred:") && e.contains(" error")))
            .collect();
        if let (Some(first), Some(last)) = (said.first(), said.last()) {
            let start = lines.span_of(first).start;
            let end = lines.span_of(last).end;
            let text = said.join("; ");
            fields.push(super::Field {
                name: "exception.message".into(),
                value: Value::Str(text.into()),
                span: crate::input::Span::new(start, end),
            });
        }
        ctx.emit(EventKind::Exception, span, fields);
        Some(j - i)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::field_value as get;

    const DENIED: &str = "Error reading kv/data/app/db: Error making API request.\n\nURL: GET https://vault.example:8200/v1/kv/data/app/db\nCode: 403. Errors:\n\n* 1 error occurred:\n\t* permission denied\n\n";

    #[test]
    fn request_status_and_errors_of_a_cli_error() {
        assert_eq!(get(DENIED, "status").as_deref(), Some("403"));
        assert_eq!(get(DENIED, "method").as_deref(), Some("GET"));
        assert_eq!(
            get(DENIED, "url").as_deref(),
            Some("https://vault.example:8200/v1/kv/data/app/db")
        );
        assert_eq!(
            get(DENIED, "exception.message").as_deref(),
            Some("permission denied")
        );
    }

    #[test]
    fn several_errors_and_a_route_error() {
        let t = "Error writing data to auth/approle/login: Error making API request.\n\nURL: PUT https://127.0.0.1:8200/v1/auth/approle/login\nCode: 400. Errors:\n\n* invalid role or secret ID\n";
        assert_eq!(get(t, "status").as_deref(), Some("400"));
        assert_eq!(
            get(t, "exception.message").as_deref(),
            Some("invalid role or secret ID")
        );
    }

    #[test]
    fn a_header_without_a_code_is_not_this_block() {
        let t = "Error making API request.\nsomething else entirely\n";
        assert!(get(t, "status").is_none());
    }
}
