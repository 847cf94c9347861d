//! PowerShell's error records for `Invoke-RestMethod` / `Invoke-WebRequest`:
//!
//! Windows PowerShell 5.1 (NormalView):
//! ```text
//! Invoke-RestMethod : {"error":"invalid_client","error_description":"…"}
//! At line:1 char:1
//! + Invoke-RestMethod -Method Post -Uri "https://login.example.com/token" -Body $b
//! + ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
//!     + CategoryInfo          : InvalidOperation: (System.Net.HttpWebRequest:HttpWebRequest) [Invoke-RestMethod], WebException
//!     + FullyQualifiedErrorId : WebCmdletWebResponseException,Microsoft.PowerShell.Commands.InvokeRestMethodCommand
//! ```
//! PowerShell 7 (ConciseView; the message after `| `, wrapped at the
//! window width at a space, is the response body or the exception's text):
//! ```text
//! Invoke-RestMethod: C:\scripts\token.ps1:12
//! Line |
//!   12 |  $t = Invoke-RestMethod -Method Post -Uri $uri -Body $body
//!      |       ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
//!      | {"error":"invalid_client",…
//! ```
//! Format from PowerShell/PowerShell `PowerShellCore_format_ps1xml.cs`
//! (Get-ConciseViewPositionMessage) at 9299036; no pwsh here to capture.

use std::sync::OnceLock;

use regex::Regex;

use super::mapped::Mapped;
use super::{Ctx, EventKind, Field, LineParser, Lines};

/// Lines one error record may take.
const MAX_RECORD_LINES: usize = 60;

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("pwsh regex"))
}

fn header_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        // PowerShell's names are case-insensitive, and scripts (so the error
        // records, which quote the command as typed) use any casing.
        r"(?i)^\s*(?P<cmd>Invoke-RestMethod|Invoke-WebRequest) ?: ?(?P<rest>.*)$",
    )
}

fn uri_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r#"(?i)(?:-Uri\s+|Invoke-(?:RestMethod|WebRequest)\s+)['"]?(?P<url>https?://[^\s'"`]+)"#,
    )
}

fn method_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r"(?i)-Method\s+['\x22]?(?P<m>get|post|put|patch|delete|head|options)\b",
    )
}

fn category_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r"^\s*\+ CategoryInfo\s*: .*\], (?P<exc>[A-Za-z][A-Za-z0-9_\x{80}-\x{10FFFF}.]*)\s*$",
    )
}

/// PowerShell 7's gutter: `Line |`, `  12 |  code`, `     | text`.
fn gutter_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(&RE, r"^\s*(?:Line|[0-9]+)? ?\| ?(?P<text>.*)$")
}

pub struct PowerShellError;

impl LineParser for PowerShellError {
    fn triggers(&self) -> &'static [&'static str] {
        &["Invoke-RestMethod", "Invoke-WebRequest"]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        let head = header_re().captures(line)?;
        let rest = head.name("rest")?;
        let mut fields: Vec<Field> = Vec::new();
        let mut code: Option<&str> = None;
        let mut message = Mapped::default();
        let mut j = i + 1;
        let concise = j < lines.len() && lines.line(j).trim_start().starts_with("Line |");
        if concise {
            // PS 7: the code line, the underline, then the message lines.
            let mut after_underline = false;
            while j < lines.len() && j - i <= MAX_RECORD_LINES {
                let l = lines.line(j);
                let Some(c) = gutter_re().captures(l) else {
                    break;
                };
                let text = c.name("text")?;
                let t = text.as_str().trim();
                if l.trim_start().starts_with(|ch: char| ch.is_ascii_digit()) {
                    code = Some(t);
                } else if !t.is_empty() && t.chars().all(|ch| ch == '~') {
                    after_underline = true;
                } else if after_underline && !t.is_empty() {
                    // Wrapped at a space, which the wrap dropped.
                    if !message.text.is_empty() {
                        message.push_mapped(" ", lines.span_of(text.as_str()).start, 0);
                    }
                    message.push_verbatim(t, lines.span_of(t).start);
                }
                j += 1;
            }
        }
        if message.text.is_empty() {
            let t = rest.as_str().trim_start();
            // A script position (`C:\x.ps1:12`) is not the message.
            let position = concise && t.trim_end().ends_with(|c: char| c.is_ascii_digit());
            if !t.trim().is_empty() && !position {
                message.push_verbatim(t, lines.span_of(t).start);
                if !concise {
                    // Windows PowerShell wraps a long message at the console
                    // width, mid-word: the pieces join with nothing between.
                    while j < lines.len() && j - i <= MAX_RECORD_LINES {
                        let l = lines.line(j);
                        if l.starts_with("At ")
                            || l.trim_start().starts_with('+')
                            || l.trim().is_empty()
                        {
                            break;
                        }
                        message.push_verbatim(l, lines.span_of(l).start);
                        j += 1;
                    }
                }
                let trimmed = message.text.trim_end().len();
                message = message.slice(0, trimmed);
            }
        }
        if !concise {
            // PS 5.1: position, code, underline, category lines.
            while j < lines.len() && j - i <= MAX_RECORD_LINES {
                let l = lines.line(j);
                let t = l.trim();
                if let Some(c) = category_re().captures(l) {
                    fields.push(lines.str_field("exception.type", c.name("exc")?.as_str()));
                } else if let Some(src) = t.strip_prefix("+ ") {
                    if code.is_none() && !src.trim_start().starts_with('~') {
                        code = Some(src.trim());
                    }
                } else if !(t.starts_with("At ") || t == "+") {
                    break;
                }
                j += 1;
            }
        }
        if message.text.is_empty() && fields.is_empty() {
            return None;
        }
        let whole = lines.span_of_lines(i, j - 1);
        if let Some(code) = code {
            if let Some(u) = uri_re().captures(code).and_then(|c| c.name("url")) {
                fields.push(lines.str_field("url", u.as_str()));
            }
            if let Some(m) = method_re().captures(code).and_then(|c| c.name("m")) {
                fields.push(lines.field(
                    "method",
                    super::Value::Str(m.as_str().to_ascii_uppercase().into()),
                    m.as_str(),
                ));
            }
        }
        let mut body = None;
        if !message.text.is_empty() {
            let mspan = message.span(0, message.text.len()).unwrap_or(whole);
            fields.push(Field {
                name: "exception.message".into(),
                value: super::Value::Str(message.text.clone().into()),
                span: mspan,
            });
            let at = super::json::find_in_text(&message.text);
            let before = message.slice(0, at.unwrap_or(message.text.len()));
            for f in super::signal::scan_mapped(&before, mspan) {
                if !fields.iter().any(|g| g.name == f.name) {
                    fields.push(f);
                }
            }
            body = at.and_then(|a| super::json::mapped_body_fields(&message, a, mspan));
        }
        ctx.emit(EventKind::Exception, whole, fields);
        if let Some(b) = body {
            let s = b.first().map_or(whole, |f| f.span);
            ctx.emit(EventKind::Body, s, b);
        }
        Some(j - i)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::chunk;
    use super::super::{EventKind, parse_chunk};

    fn get(text: &str, name: &str) -> Option<(String, String)> {
        parse_chunk(&chunk(text)).iter().find_map(|e| {
            e.field(name).map(|f| {
                (
                    f.value.to_string(),
                    text[f.span.start..f.span.end].to_string(),
                )
            })
        })
    }

    const PS51: &str = "Invoke-RestMethod : {\"error\":\"invalid_client\",\"error_description\":\"bad secret\"}
At line:1 char:1
+ Invoke-RestMethod -Method Post -Uri \"https://login.example.com/oauth2/token\" -Body $b
+ ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    + CategoryInfo          : InvalidOperation: (System.Net.HttpWebRequest:HttpWebRequest) [Invoke-RestMethod], WebException
    + FullyQualifiedErrorId : WebCmdletWebResponseException,Microsoft.PowerShell.Commands.InvokeRestMethodCommand
";

    const PS7: &str = "Invoke-RestMethod: C:\\scripts\\token.ps1:12
Line |
  12 |  $t = Invoke-RestMethod -Method Post -Uri 'https://login.example.com/oauth2/token' -Body $body
     |       ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
     | {\"error\":\"invalid_client\",\"error_description\":\"The client secret is
     | invalid.\"}
";

    #[test]
    fn windows_powershell_record() {
        let events = parse_chunk(&chunk(PS51));
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(events[0].kind, EventKind::Exception);
        assert_eq!(get(PS51, "exception.type").unwrap().0, "WebException");
        assert_eq!(get(PS51, "method").unwrap().0, "POST");
        assert_eq!(
            get(PS51, "url").unwrap().0,
            "https://login.example.com/oauth2/token"
        );
        let e = get(PS51, "body.error").unwrap();
        assert_eq!(
            (e.0.as_str(), e.1.as_str()),
            ("invalid_client", "invalid_client")
        );
    }

    #[test]
    fn powershell_7_wrapped_body() {
        let d = get(PS7, "body.error_description").unwrap();
        assert_eq!(d.0, "The client secret is invalid.");
        assert!(d.1.starts_with("The client secret is"));
        assert_eq!(get(PS7, "method").unwrap().0, "POST");
        let t = "Invoke-RestMethod: Response status code does not indicate success: 401 (Unauthorized).\n";
        assert_eq!(get(t, "status").unwrap().0, "401");
    }

    #[test]
    fn windows_powershell_wrapped_message() {
        let t = "Invoke-RestMethod : {\"error\":\"invalid_client\",\"error_description\":\"The request body must contain the following \nparameter: 'client_secret'.\",\"error_uri\":\"https://login.m\nicrosoftonline.com/error?code=7000218\"}\nAt line:1 char:1\n+ Invoke-RestMethod @params\n+ ~~~~~~~~~~~~~~~~~~~~~~~~~\n";
        let d = get(t, "body.error_description").unwrap();
        assert_eq!(
            d.0,
            "The request body must contain the following parameter: 'client_secret'."
        );
        assert_eq!(
            get(t, "body.error_uri").unwrap().0,
            "https://login.microsoftonline.com/error?code=7000218"
        );
    }

    #[test]
    fn command_names_in_any_case() {
        // The record quotes the command as the script typed it.
        let t = "invoke-webrequest : The remote server returned an error: (403) Forbidden.\nAt C:\\jobs\\sync.ps1:7 char:3\n+   invoke-webrequest -uri https://api.example.net/v1/export -Method GET\n+   ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n    + CategoryInfo          : InvalidOperation: (System.Net.HttpWebRequest:HttpWebRequest) [Invoke-WebRequest], WebException\n";
        assert_eq!(get(t, "status").unwrap().0, "403");
        assert_eq!(
            get(t, "url").unwrap().0,
            "https://api.example.net/v1/export"
        );
        assert_eq!(get(t, "exception.type").unwrap().0, "WebException");
        let t = "Invoke-Restmethod : The request was aborted: Could not create SSL/TLS secure channel.\nAt line:1 char:9\n";
        assert_eq!(
            get(t, "exception.message").unwrap().0,
            "The request was aborted: Could not create SSL/TLS secure channel."
        );
    }

    #[test]
    fn a_command_line_is_not_an_error() {
        assert!(
            parse_chunk(&chunk("PS> Invoke-RestMethod -Uri https://x.example.com\n")).is_empty()
        );
    }
}
