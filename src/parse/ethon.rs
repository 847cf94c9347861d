//! Ethon's debug line, as Ruby programs on Typhoeus (the OpenAPI-generated
//! Ruby SDKs among them) log every libcurl call:
//!
//! ```text
//! ETHON: performed EASY effective_url=https://api.example.com/v3/x?key= response_code=401 return_code=ok total_time=0.270575
//! ```
//!
//! (`Ethon::Easy#perform` logs `"ETHON: performed #{log_inspect}"`, and
//! `log_inspect` is `EASY` and the call's `effective_url`, `response_code`,
//! `return_code` and `total_time`). A response code is the call's status;
//! with none (`response_code=0`), a `return_code` other than `ok` is
//! libcurl's error for a call that got no answer (`couldnt_resolve_host`).

use std::sync::OnceLock;

use super::lean::Regex;
use super::{Ctx, EventKind, LineParser, Lines, Value};

pub struct EthonDebug;

fn performed_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"ETHON: performed EASY effective_url=(?P<url>\S+) response_code=(?P<status>[0-9]{1,3}) return_code=(?P<rc>[a-z_]+)\b",
        )
        .expect("ethon regex")
    })
}

impl LineParser for EthonDebug {
    fn triggers(&self) -> &'static [&'static str] {
        &["ETHON: performed EASY"]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        let c = performed_re().captures(line)?;
        let (url, status, rc) = (c.name("url")?, c.name("status")?, c.name("rc")?);
        let code: f64 = status.as_str().parse().ok()?;
        let url_field = lines.field("url", Value::Str(url.as_str().into()), url.as_str());
        let span = lines.span_of(line.trim_end());
        if code >= 100.0 {
            // As urllib3's access line: request and status on one line,
            // not a closed exchange — the program logs the body and its
            // error after it.
            ctx.emit(EventKind::Request, span, vec![url_field]);
            let status_field = lines.field("status", Value::Num(code), status.as_str());
            ctx.emit(EventKind::Status, span, vec![status_field]);
        } else if rc.as_str() != "ok" {
            let fields = vec![
                url_field,
                lines.str_field("exception.code", rc.as_str()),
                lines.str_field("message", rc.as_str()),
            ];
            ctx.emit(EventKind::Exception, span, fields);
        } else {
            return None;
        }
        Some(1)
    }
}

#[cfg(test)]
mod tests {
    use super::super::EventKind;
    use super::super::parse_chunk;
    use super::super::tests::{chunk, field_value as get};

    #[test]
    fn a_performed_call_is_its_url_and_status() {
        let t = "ETHON: Libcurl initialized\nETHON: performed EASY effective_url=https://api.hubapi.com/crm/v3/objects/contacts?hapikey= response_code=401 return_code=ok total_time=0.270575\n";
        assert_eq!(
            get(t, "url").unwrap(),
            "https://api.hubapi.com/crm/v3/objects/contacts?hapikey="
        );
        assert_eq!(get(t, "status").unwrap(), "401");
        let kinds: Vec<_> = parse_chunk(&chunk(t)).iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [EventKind::Request, EventKind::Status]);
    }

    #[test]
    fn a_call_without_an_answer_is_libcurls_error() {
        let t = "[2025-03-01T09:00:00] DEBUG ETHON: performed EASY effective_url=https://api.example.invalid/v1/x response_code=0 return_code=couldnt_resolve_host total_time=0.004\n";
        assert_eq!(get(t, "exception.code").unwrap(), "couldnt_resolve_host");
        assert_eq!(get(t, "url").unwrap(), "https://api.example.invalid/v1/x");
        assert!(get(t, "status").is_none());
        // Neither a status nor an error: nothing to read.
        let ok = "ETHON: performed EASY effective_url=https://a.example/ response_code=0 return_code=ok total_time=0\n";
        assert!(parse_chunk(&chunk(ok)).is_empty());
    }
}
