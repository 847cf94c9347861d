//! logfmt records logged at an error level (`time=… level=error msg="…"
//! error="…"`, as logrus, go-kit, zap's logfmt encoder and log15 write
//! them): the record states a failure. Its `msg` is the message, its
//! `error`/`err` value the cause; a quoted value may go on over the next
//! lines when the error it holds has line breaks.

use std::sync::OnceLock;

use regex::Regex;

use super::{Ctx, EventKind, Field, LineParser, Lines};

/// Lines one quoted value may take.
const MAX_VALUE_LINES: usize = 20;

fn level_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // log15 abbreviates the level to four letters (`eror`, `crit`).
        Regex::new(r#"(?i)(?:^|\s)(?:level|lvl)="?(?:error|eror|err|fatal|panic|crit|critical)\b"#)
            .expect("logfmt level regex")
    })
}

/// `key=` at a pair boundary.
fn key_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?:^|\s)(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)=").expect("logfmt key regex")
    })
}

/// One value: its text (a slice of `lines.text`, quotes excluded) and the
/// line it ends on.
struct Pair<'a> {
    key: &'a str,
    value: &'a str,
    last_line: usize,
}

/// The pairs of the record that starts on line `i`, a quoted value running
/// on over later lines until its closing quote.
fn pairs<'a>(lines: &Lines<'a>, i: usize) -> Vec<Pair<'a>> {
    let mut out = Vec::new();
    let (start, _) = lines.bounds[i];
    let mut line_no = i;
    let mut pos = start;
    loop {
        let (_, end) = lines.bounds[line_no];
        let rest = &lines.text[pos..end];
        let Some(k) = key_re().captures(rest) else {
            break;
        };
        let key_m = k.name("key").expect("key group");
        let value_at = pos + k.get(0).expect("match").end();
        let key = &lines.text[pos + key_m.start()..pos + key_m.end()];
        if lines.text[value_at..].starts_with('"') {
            // A quoted value: to the first unescaped quote, maybe lines later.
            let body = value_at + 1;
            let mut j = body;
            let bytes = lines.text.as_bytes();
            let mut close = None;
            let limit = lines
                .bounds
                .get(line_no + MAX_VALUE_LINES)
                .map_or(lines.text.len(), |b| b.1);
            while j < limit {
                match bytes[j] {
                    b'\\' => j += 2,
                    b'"' => {
                        close = Some(j);
                        break;
                    }
                    _ => j += 1,
                }
            }
            let Some(close) = close else { break };
            super::work::add(close - body);
            line_no = lines.line_at(close);
            out.push(Pair {
                key,
                value: &lines.text[body..close],
                last_line: line_no,
            });
            pos = close + 1;
        } else {
            let mut len = lines.text[value_at..end]
                .find(char::is_whitespace)
                .unwrap_or(end - value_at);
            // Python logging formatted as pairs (`name=%(name)s
            // level=%(levelname)s message=%(message)s`, as Meltano and the
            // Singer SDK log) leaves the message unquoted, last on the
            // line: words after it that start no pair are its own.
            let after = lines.text[value_at + len..end].trim_start();
            if matches!(key, "msg" | "message") && !after.is_empty() && !starts_pair(after) {
                len = lines.text[value_at..end].trim_end().len();
            }
            out.push(Pair {
                key,
                value: &lines.text[value_at..value_at + len],
                last_line: line_no,
            });
            pos = value_at + len;
        }
        if pos >= lines.bounds[line_no].1 {
            break;
        }
    }
    out
}

/// Whether `text` starts with a `key=` pair.
fn starts_pair(text: &str) -> bool {
    let key = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
        .unwrap_or(text.len());
    key > 0
        && text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && text[key..].starts_with('=')
}

pub struct LogfmtError;

impl LineParser for LogfmtError {
    fn triggers(&self) -> &'static [&'static str] {
        &["level=", "lvl="]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        if !level_re().is_match(line) {
            return None;
        }
        let pairs = pairs(lines, i);
        let value = |names: &[&str]| {
            pairs
                .iter()
                .find(|p| names.contains(&p.key) && !p.value.trim().is_empty())
        };
        let msg = value(&["msg", "message"]);
        // `stack`: go-kit loggers that log the error chain under it
        // (`level=error message=… stack="Get \"https://…\": oauth2: …"`).
        let err = value(&["error", "err", "error.message", "stack"]);
        let (first, cause) = match (msg, err) {
            (Some(m), Some(e)) => (m, Some(e)),
            (Some(m), None) => (m, None),
            (None, Some(e)) => (e, None),
            (None, None) => return None,
        };
        let mut fields: Vec<Field> = vec![lines.str_field("exception.message", first.value.trim())];
        if let Some(e) = cause {
            fields.push(lines.str_field("exception.cause.message", e.value.trim()));
        }
        for p in [Some(first), cause].into_iter().flatten() {
            for f in super::exception::message_fields(lines, p.value) {
                if !fields
                    .iter()
                    .any(|g| g.name == f.name && g.value == f.value)
                {
                    fields.push(f);
                }
            }
        }
        let last = pairs.iter().map(|p| p.last_line).max().unwrap_or(i).max(i);
        ctx.emit(EventKind::Exception, lines.span_of_lines(i, last), fields);
        Some(last - i + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_chunk;
    use super::super::tests::{chunk, field_value as get};

    #[test]
    fn error_record_with_a_value_over_lines() {
        let t = "time=\"2025-02-01T10:00:00Z\" level=error msg=\"token exchange failed\" error=\"oauth2: cannot fetch token: 401 Unauthorized\nResponse: {\\\"error\\\":\\\"invalid_client\\\"}\" component=auth\nlevel=info msg=\"next\"\n";
        let events = parse_chunk(&chunk(t));
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(
            get(t, "exception.message").unwrap(),
            "token exchange failed"
        );
        assert!(
            get(t, "exception.cause.message")
                .unwrap()
                .ends_with("{\\\"error\\\":\\\"invalid_client\\\"}")
        );
        assert_eq!(get(t, "status").unwrap(), "401");
        // go-kit's `stack` holds the error chain where others say `error`.
        let t = "ts=2021-09-30T08:41:39Z level=error message=\"Failed collecting data\" stack=\"Get \\\"https://api.example.org/v1/devices\\\": oauth2: cannot fetch token: 400 Bad Request\"\n";
        assert_eq!(
            get(t, "exception.message").unwrap(),
            "Failed collecting data"
        );
        assert_eq!(get(t, "status").unwrap(), "400");
        // A Go client's error inside the value, its quotes escaped.
        let t = "level=error msg=\"sync failed\" error=\"Get \\\"https://api.example.org/v1/x\\\": dial tcp: i/o timeout\"\n";
        assert_eq!(get(t, "url").unwrap(), "https://api.example.org/v1/x");
    }

    #[test]
    fn python_logging_as_pairs_leaves_the_message_unquoted_to_the_line_end() {
        let t = "time=2023-05-02 10:00:00 name=backoff level=ERROR message=Giving up _request(...) after 5 tries (RetriableAPIError: 403 Client Error: Forbidden for path: /repos/a/b)\n";
        assert!(
            get(t, "exception.message")
                .unwrap()
                .ends_with("for path: /repos/a/b)")
        );
        assert_eq!(get(t, "status").unwrap(), "403");
        // logfmt's own unquoted values stop at the next pair.
        let t = "level=error msg=failed error=\"dial tcp: i/o timeout\" component=sync\n";
        assert_eq!(get(t, "exception.message").unwrap(), "failed");
    }

    #[test]
    fn levels_and_keys_vary() {
        let t = "t=2025-02-01T10:00:00+0100 lvl=eror msg=\"Failed to get user\" logger=auth err=\"context deadline exceeded calling https://id.example.com/token\"\n";
        assert_eq!(get(t, "exception.message").unwrap(), "Failed to get user");
        assert_eq!(get(t, "url").unwrap(), "https://id.example.com/token");
        let t = "level=ERROR error=\"upstream connect error\"\n";
        assert_eq!(
            get(t, "exception.message").unwrap(),
            "upstream connect error"
        );
        // Not at an error level: not a failure.
        assert!(
            parse_chunk(&chunk(
                "level=warn msg=\"slow request\" error=\"timeout\"\n"
            ))
            .is_empty()
        );
        // An unterminated value is not read past the record.
        assert!(get("level=error msg=\"broken\n", "exception.message").is_none());
    }
}
