//! JSON-lines application logs: one JSON object per line with log-ish keys
//! (`msg`, `level`, `ts`, …). Well-known keys are mapped to the common fact
//! names; every key is also kept as `record.<path>`.

use super::json::{
    FieldsOf, Flat, FlatNode, KeyBits, Kind, body_in_string, format_fields, parse_value, root_bits,
    string_content,
};
use super::{Ctx, Event, EventKind, Field, LineParser, Lines, SharedText, Value};
use crate::input::Chunk;

/// A JSON line is a log record only with one of these: `message` alone is
/// not enough, API error bodies have it too.
const LOG_KEYS: [&str; 9] = [
    "level",
    "@level",
    "severity",
    "ts",
    "time",
    "timestamp",
    "@timestamp",
    "logger",
    "msg",
];

/// (fact name, candidate keys in the record, first match wins)
const MAPPING: [(&str, &[&str]); 5] = [
    (
        "method",
        &[
            "method",
            "http_method",
            "verb",
            "http.method",
            "request.method",
        ],
    ),
    (
        "url",
        &["url", "uri", "http.url", "request.url", "endpoint", "path"],
    ),
    (
        "status",
        &[
            "status",
            "status_code",
            "statusCode",
            "http_status",
            "http.status_code",
            "response.status",
        ],
    ),
    ("error", &["error", "err", "error_code", "errorCode"]),
    (
        "exception.message",
        &["exception", "exc_info", "stack", "stack_trace"],
    ),
];

/// Per list of keys, the root keys' bits: most records hold none of a
/// list, and the bits say so at once.
const LOG_BITS: KeyBits = root_bits(&LOG_KEYS);
const MAPPING_BITS: [KeyBits; MAPPING.len()] = {
    let mut bits = [[0; 2]; MAPPING.len()];
    let mut i = 0;
    while i < MAPPING.len() {
        bits[i] = root_bits(MAPPING[i].1);
        i += 1;
    }
    bits
};
const BODY_KEYS: [&str; 5] = ["response_body", "body", "response", "data", "response.data"];
const BODY_BITS: KeyBits = root_bits(&BODY_KEYS);

/// String fields whose text may state the failure (a message with a status,
/// an OAuth pair, an error code) or carry the body after a prefix.
const MESSAGE_KEYS: [&str; 12] = [
    "msg",
    "message",
    // structlog-based apps' exception text (authentik's `exc`).
    "exc",
    // Terraform's `-json` output (and other `@`-prefixed loggers, hclog's).
    "@message",
    "diagnostic.summary",
    "diagnostic.detail",
    "error",
    "err",
    "error_message",
    "errorMessage",
    "detail",
    "exception",
];
const MESSAGE_BITS: KeyBits = root_bits(&MESSAGE_KEYS);

/// Level words of a record its program logged as a failure, and of one
/// that reports normal flow: what [`level_word`] matches.
#[cfg(test)]
const ERROR_LEVELS: [&str; 8] = [
    "error",
    "err",
    "fatal",
    "critical",
    "crit",
    "panic",
    "alert",
    "emergency",
];
#[cfg(test)]
const INFO_LEVELS: [&str; 4] = ["info", "debug", "trace", "notice"];

#[derive(Debug, PartialEq)]
enum Level {
    Error,
    Info,
    Other,
}

/// Which of [`ERROR_LEVELS`] and [`INFO_LEVELS`] (ASCII case ignored) a
/// level word is in: one `match` on it lower-cased, where comparing it
/// with each word of the two lists took 180 instructions a record.
fn level_word(level: &str) -> Level {
    let mut lower = [0u8; 9];
    let Some(lower) = lower.get_mut(..level.len()) else {
        return Level::Other;
    };
    lower.copy_from_slice(level.as_bytes());
    lower.make_ascii_lowercase();
    match &*lower {
        b"error" | b"err" | b"fatal" | b"critical" | b"crit" | b"panic" | b"alert"
        | b"emergency" => Level::Error,
        b"info" | b"debug" | b"trace" | b"notice" => Level::Info,
        _ => Level::Other,
    }
}

pub struct JsonRecord;

impl LineParser for JsonRecord {
    fn triggers(&self) -> &'static [&'static str] {
        &["{"]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        // Right after a response's headers, JSON is that response's body.
        if ctx.body_line {
            return None;
        }
        let first = lines.line(i).trim_end();
        let first = &first[record_start(first)..];
        // A record pretty-printed over lines (`jq .` of a log line, a
        // logger's indented output) is read as the line it was.
        let (line, consumed) = if first == "{" {
            pretty_printed(lines, i)?
        } else {
            (first, 1)
        };
        if !(line.starts_with('{') && line.ends_with('}')) {
            return None;
        }
        // Most records are strict JSON, read flat without a tree; the
        // lenient parser reads the rest (single quotes, bare keys, …).
        let flat = match Flat::strict(line) {
            Some(flat) => flat,
            None => {
                let node = parse_value(line)?;
                if node.raw.len() != line.len() {
                    return None;
                }
                Flat::of(&node)
            }
        };
        let node = flat.root();
        if !node.may_hold(LOG_BITS) || LOG_KEYS.iter().all(|k| node.get(k).is_none()) {
            return None;
        }
        // Over lines, a time alone does not make a record: a pasted API
        // error body has one too (Spring's `{"timestamp": …, "status": 401,
        // …}`), and its members are the body's.
        if consumed > 1 && PRETTY_LOG_KEYS.iter().all(|k| node.get(k).is_none()) {
            return None;
        }
        // Its text values are pieces of one copy of the line, not a copy each.
        let texts = SharedText::of(line);
        // Room for the members (all values but the root), three mapped
        // facts (method, URL, status) and the time: a healthy record needs
        // no more, and its vector stays within the 1 KiB that glibc's
        // per-thread cache serves (room for all five mapped facts took it
        // past, 400 instructions a record more).
        let mut fields: Vec<Field> = Vec::with_capacity(flat.values() - 1 + 3 + 1);
        // By reference: a loop over the constant by value copied it per record.
        for (&(fact, keys), &bits) in MAPPING.iter().zip(&MAPPING_BITS) {
            if !node.may_hold(bits) {
                continue;
            }
            let Some(value) = keys.iter().find_map(|k| node.lookup(k)) else {
                continue;
            };
            // An `error` object is a body, not an error code; `null` is no value.
            if matches!(value.kind(), Kind::Object | Kind::Array | Kind::Null) {
                continue;
            }
            let mut v = value.scalar_value(&texts);
            if fact == "status"
                && let Some(n) = v.as_num()
            {
                v = Value::Num(n);
            }
            fields.push(Field {
                name: fact.into(),
                value: v,
                span: lines.span_of(value.value_text()),
            });
        }
        let mut has_body = false;
        let body_keys = if node.may_hold(BODY_BITS) {
            &BODY_KEYS[..]
        } else {
            &[]
        };
        for &key in body_keys {
            let Some(body) = node.lookup(key) else {
                continue;
            };
            match body.kind() {
                Kind::Object | Kind::Array => {
                    let to = &mut FieldsOf {
                        lines,
                        texts: &texts,
                        out: &mut fields,
                    };
                    body.flatten(to, "body");
                    let span = lines.span_of(body.raw());
                    fields.extend(format_fields("json", false, span));
                }
                // A body logged as a JSON string: parse what is inside it,
                // spans mapped back through the escapes.
                Kind::Str(_) => match body_in_string(lines, body.raw()) {
                    Some(found) => fields.extend(found),
                    None => continue,
                },
                _ => continue,
            }
            has_body = true;
            break;
        }
        // A record its program logged at error level is a failure even when
        // its message states no status or code (a tool's diagnostic); an
        // informational record reports normal flow (see signal.rs).
        let (mut error_level, mut informational) = (false, false);
        for key in ["level", "severity", "lvl", "@level"] {
            match node.get(key).and_then(FlatNode::as_str).map(level_word) {
                Some(Level::Error) => error_level = true,
                Some(Level::Info) => informational = true,
                _ => {}
            }
        }
        let mut messages = Vec::new();
        for &key in &MESSAGE_KEYS {
            if informational || !node.may_hold(MESSAGE_BITS) {
                break;
            }
            let Some((value, literal)) = node.lookup(key).and_then(|v| Some((v, v.literal()?)))
            else {
                continue;
            };
            let Some(mapped) = string_content(lines, literal) else {
                continue;
            };
            let whole = lines.span_of(value.value_text());
            if !has_body && let Some(found) = body_in_string(lines, literal) {
                fields.extend(found);
                has_body = true;
            }
            let signals = super::signal::scan_mapped(&mapped, whole);
            if !mapped.text.trim().is_empty() && !messages.iter().any(|(t, _)| *t == mapped.text) {
                messages.push((mapped.text.clone(), whole));
            }
            // A message stating a transport failure is one, as on a text
            // line (see signal.rs), whatever fields it gave.
            if super::signal::is_signal(&signals) || super::signal::is_transport(&mapped.text) {
                fields.push(Field {
                    name: "exception.message".into(),
                    value: Value::Str(mapped.text.clone().into()),
                    span: whole,
                });
                for f in signals {
                    if !fields.iter().any(|g| g.name == f.name) {
                        fields.push(f);
                    }
                }
                break;
            }
        }
        if error_level && !fields.iter().any(|f| f.name == "exception.message") {
            let mut texts = messages.into_iter();
            if let Some((text, span)) = texts.next() {
                fields.push(Field {
                    name: "exception.message".into(),
                    value: Value::Str(text.into()),
                    span,
                });
            }
            // A diagnostic's summary and detail say more than its headline.
            for (text, span) in texts {
                fields.push(Field {
                    name: "exception.cause.message".into(),
                    value: Value::Str(text.into()),
                    span,
                });
            }
        }
        // The record's time, normalised (ISO 8601 or epoch seconds/ms).
        let time_key = ["@timestamp", "timestamp", "time", "ts", "datetime", "date"]
            .iter()
            .find_map(|k| node.get(k));
        if let Some(t) = time_key {
            let normalized = match t.kind() {
                Kind::Num(n) => super::time::from_epoch(*n).map(|t| super::time::format(t).into()),
                Kind::Str(s) => super::time::normalized(s).map(|t| texts.cow(t)),
                _ => None,
            };
            if let Some(time) = normalized {
                fields.push(Field {
                    name: "time".into(),
                    value: Value::Str(time),
                    span: lines.span_of(t.value_text()),
                });
            }
        }
        // A record that states no failure (most of a JSON-lines log) keeps
        // only its members that tie, when the parse asks (see
        // [`Ctx::record_ties`]); one that does is read whole now, as the
        // builder would read it again.
        let states_failure = has_body
            || error_level
            || fields.iter().any(|f| {
                f.name == "exception.message"
                    || (f.name == "status" && f.value.as_num().is_some_and(|n| n >= 400.0))
            });
        let to = &mut FieldsOf {
            lines,
            texts: &texts,
            out: &mut fields,
        };
        let left_out = match &ctx.record_ties {
            Some(ties) if !states_failure => node.flatten_ties(to, "record", ties),
            _ => false,
        };
        if !left_out {
            node.flatten_members(to, "record");
        }
        ctx.emit(EventKind::Record, lines.span_of(line), fields);
        if left_out && let Some(event) = ctx.events.last_mut() {
            event.members_left_out = true;
        }
        Some(consumed)
    }
}

/// Where a record would start on `line`: after its indent and the tag
/// `docker compose logs` puts before each line (`api-1  | `), if any.
pub(super) fn record_start(line: &str) -> usize {
    let indent = line.len() - line.trim_start().len();
    let rest = &line[indent..];
    let tag = container_tag_len(rest);
    let after = &rest[tag..];
    indent + tag + (after.len() - after.trim_start().len())
}

/// The length of a `docker compose logs` tag (`api-1  | `) at the start of
/// `line`, or 0: a service name, spaces, a bar (the container tag of
/// logprefix.rs's `PREFIX`, alone: a record is read after nothing else).
fn container_tag_len(line: &str) -> usize {
    let b = line.as_bytes();
    let name = b
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
        .count();
    let spaces = b[name..].iter().take_while(|&&c| c == b' ').count();
    if name == 0 || spaces == 0 || b.get(name + spaces) != Some(&b'|') {
        return 0;
    }
    name + spaces + 1
}

/// Keys of which a pretty-printed record needs one (see [`LOG_KEYS`]).
const PRETTY_LOG_KEYS: [&str; 5] = ["level", "@level", "severity", "logger", "msg"];

/// Lines one pretty-printed record may take at most.
const MAX_PRETTY_LINES: usize = 256;

/// The object opened alone on line `i` (`{`) and closed by `}` at the same
/// indent, every line between indented deeper: its text (one piece of the
/// input, so spans stay exact) and its number of lines.
fn pretty_printed<'a>(lines: &Lines<'a>, i: usize) -> Option<(&'a str, usize)> {
    let open = lines.line(i);
    let indent = &open[..open.len() - open.trim_start().len()];
    let mut j = i + 1;
    while j < lines.len() && j - i < MAX_PRETTY_LINES {
        let next = lines.line(j);
        if next.trim_end().strip_prefix(indent) == Some("}") {
            let start = lines.bounds[i].0 + indent.len();
            let end = lines.bounds[j].0 + next.trim_end().len();
            return Some((&lines.text[start..end], j - i + 1));
        }
        let deeper = next
            .strip_prefix(indent)
            .is_some_and(|rest| rest.starts_with([' ', '\t']) && !rest.trim().is_empty());
        if !deeper {
            return None;
        }
        j += 1;
    }
    None
}

/// Every field of the record `event`, whose members were left out (see
/// [`Ctx::record_ties`]): its line in `chunk` parsed again, as a parse
/// that keeps them all gives it. `None` when the span is not a record of
/// `chunk` (never for an event parsed from it).
pub fn all_fields(chunk: &Chunk, event: &Event) -> Option<Vec<Field>> {
    let (from, to) = (event.span.start, event.span.end);
    let line = chunk
        .text
        .get(from.checked_sub(chunk.offset)?..to.checked_sub(chunk.offset)?)?;
    // The line alone, where it was: spans come out the same.
    let alone = Chunk {
        source: chunk.source,
        offset: from,
        first_line: 1,
        text: line.to_string(),
    };
    let lines = Lines::new(&alone);
    let mut ctx = Ctx::new();
    JsonRecord.parse(&mut ctx, &lines, 0)?;
    ctx.events.pop().map(|e| e.fields)
}

#[cfg(test)]
mod tests {
    use super::super::tests::chunk;
    use super::super::{EventKind, parse_chunk};

    fn field_text<'t>(text: &'t str, name: &str) -> Option<(String, &'t str)> {
        parse_chunk(&chunk(text)).iter().find_map(|e| {
            e.field(name)
                .map(|f| (f.value.to_string(), &text[f.span.start..f.span.end]))
        })
    }

    #[test]
    fn level_words_as_the_lists_say() {
        use super::{ERROR_LEVELS, INFO_LEVELS, Level, level_word};
        let mut words: Vec<String> = ["", "e", "warn", "warning", "Info ", "emergency!", "infos"]
            .map(String::from)
            .to_vec();
        for w in ERROR_LEVELS.iter().chain(&INFO_LEVELS) {
            words.extend([
                w.to_string(),
                w.to_uppercase(),
                format!("{}{}", w[..1].to_uppercase(), &w[1..]),
                w[1..].to_string(),
                format!("{w}x"),
            ]);
        }
        for w in &words {
            let by_lists = |list: &[&str]| list.iter().any(|l| w.eq_ignore_ascii_case(l));
            let want = if by_lists(&ERROR_LEVELS) {
                Level::Error
            } else if by_lists(&INFO_LEVELS) {
                Level::Info
            } else {
                Level::Other
            };
            assert_eq!(level_word(w), want, "{w}");
        }
    }

    #[test]
    fn lenient_and_hostile_records() {
        // Not strict JSON: the lenient parser reads it, as before.
        let t = "{'level': 'error', 'msg': 'call failed', 'status': 503, 'ok': False}";
        assert_eq!(field_text(t, "status").unwrap(), ("503".into(), "503"));
        assert_eq!(
            field_text(t, "record.msg").unwrap(),
            ("call failed".into(), "call failed")
        );
        assert_eq!(field_text(t, "record.ok").unwrap().0, "false");
        // Nesting past the cap, a cut line, trailing text: no record, no panic.
        let deep = format!(
            r#"{{"level":"error","a":{}{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        let cut = r#"{"level":"error","msg":"cut"#;
        for t in [deep.as_str(), cut, r#"{"level":"error"} {"x":1}"#] {
            assert!(
                parse_chunk(&chunk(t))
                    .iter()
                    .all(|e| e.kind != EventKind::Record),
                "{t}"
            );
        }
    }

    #[test]
    fn escaped_body_points_at_its_own_bytes() {
        let t = r#"{"level":"error","msg":"request failed","body":"{\"error\":\"invalid_client\",\"error_description\":\"Client \\\"x\\\" disabled\"}"}"#;
        let (v, at) = field_text(t, "body.error").unwrap();
        assert_eq!((v.as_str(), at), ("invalid_client", "invalid_client"));
        let (v, at) = field_text(t, "body.error_description").unwrap();
        assert_eq!(v, "Client \"x\" disabled");
        assert_eq!(at, r#"Client \\\"x\\\" disabled"#);
    }

    #[test]
    fn message_with_prefix_and_signal() {
        let t = r#"{"ts":"2024-05-01T10:00:00Z","level":"error","message":"Error calling GetUser: {\"message\":\"Authorization has been denied\",\"code\":\"unauthorized\"}"}"#;
        let (v, at) = field_text(t, "body.code").unwrap();
        assert_eq!((v.as_str(), at), ("unauthorized", "unauthorized"));
        let t = r#"{"level":"warn","msg":"token refresh failed: status code 401 from https://login.example.com/token"}"#;
        assert_eq!(field_text(t, "status").unwrap().0, "401");
        assert_eq!(
            field_text(t, "url").unwrap().1,
            "https://login.example.com/token"
        );
        // A record that states no failure gains nothing; nor does one
        // logged at an informational level.
        let t = r#"{"level":"warn","msg":"fetched 401 users"}"#;
        assert!(field_text(t, "exception.message").is_none());
        let t = r#"{"level":"info","msg":"retrying after status code 429"}"#;
        assert!(field_text(t, "status").is_none());
    }

    #[test]
    fn error_level_record_is_a_failure_with_its_message() {
        // Terraform `-json`: the headline, then the diagnostic's detail.
        let t = r#"{"@level":"error","@message":"Error: creating widget: unexpected response","@module":"terraform.ui","@timestamp":"2025-02-03T10:11:12.000000Z","diagnostic":{"severity":"error","summary":"creating widget: unexpected response","detail":"The provider returned an empty token for the configured client.","address":"example_widget.a"},"type":"diagnostic"}"#;
        assert_eq!(
            field_text(t, "exception.message").unwrap().0,
            "Error: creating widget: unexpected response"
        );
        let (detail, at) = parse_chunk(&chunk(t))
            .iter()
            .flat_map(|e| e.fields.iter())
            .filter(|f| f.name == "exception.cause.message")
            .map(|f| (f.value.to_string(), &t[f.span.start..f.span.end]))
            .next_back()
            .unwrap();
        assert_eq!(
            detail,
            "The provider returned an empty token for the configured client."
        );
        assert_eq!(at, detail);
        // Other loggers' level words; a status in the message still counts.
        let t = r#"{"severity":"CRITICAL","time":"2025-02-03T10:11:12Z","msg":"cannot reach the config service"}"#;
        assert_eq!(
            field_text(t, "exception.message").unwrap().0,
            "cannot reach the config service"
        );
        // Warnings and informational records without a signal are not failures.
        for t in [
            r#"{"@level":"warn","@message":"Warning: deprecated attribute","type":"diagnostic"}"#,
            r#"{"@level":"info","@message":"Apply complete! Resources: 1 added","type":"change_summary"}"#,
        ] {
            assert!(field_text(t, "exception.message").is_none(), "{t}");
        }
    }

    #[test]
    fn compose_tagged_record_is_a_record() {
        let t = "oikb-1  | {\"ts\": \"2026-06-03T11:05:04Z\", \"level\": \"ERROR\", \"msg\": \"Sync failed: Client error '410 Gone' for url 'https://acme.atlassian.net/rest/api/3/search?jql=x'\"}\n";
        let events = parse_chunk(&chunk(t));
        let record = events.iter().find(|e| e.kind == EventKind::Record).unwrap();
        assert!(t[record.span.start..record.span.end].starts_with('{'));
        assert_eq!(field_text(t, "status").unwrap().0, "410");
        // Where a record would start: after the indent and a tag, and only
        // a name, spaces and a bar make a tag.
        use super::record_start;
        assert_eq!(record_start("  api-1  |   {}"), 13);
        assert_eq!(record_start("x |y"), 3);
        assert_eq!(record_start("  {}"), 2);
        assert_eq!(record_start("|{}"), 0);
        assert_eq!(record_start("api-1|{}"), 0);
        assert_eq!(record_start("a b | {}"), 0);
    }

    #[test]
    fn a_message_stating_a_transport_failure_makes_the_record_one() {
        // No level, no status: the message alone says the call failed.
        let t = "{\"time\":\"2024-11-08T15:36:40Z\",\"message\":\"request failed: self-signed certificate in certificate chain\"}\n";
        assert!(
            field_text(t, "exception.message")
                .unwrap()
                .0
                .ends_with("certificate chain")
        );
        // Informational records report normal flow, whatever they mention.
        let t = "{\"level\":\"info\",\"msg\":\"retry after dial tcp 10.0.0.5:443: connect: connection refused\"}\n";
        assert!(field_text(t, "exception.message").is_none());
    }

    #[test]
    fn pretty_printed_record_is_read_as_its_line() {
        // `jq .` of a structlog record: the exception text names the
        // status and URL; spans point into the user's lines.
        let t = "{\n  \"event\": \"Unable to fetch access token\",\n  \"exc\": \"HTTPError('401 Client Error: Unauthorized for url: https://acme.okta.com/oauth2/v1/token')\",\n  \"level\": \"warning\",\n  \"logger\": \"app.sources.oauth\"\n}\nnext line\n";
        let events = parse_chunk(&chunk(t));
        let record = events.iter().find(|e| e.kind == EventKind::Record).unwrap();
        assert_eq!(
            &t[record.span.start..record.span.end],
            &t[..t.find("}\n").unwrap() + 1]
        );
        assert_eq!(field_text(t, "status").unwrap().0, "401");
        assert_eq!(
            field_text(t, "url").unwrap(),
            (
                "https://acme.okta.com/oauth2/v1/token".into(),
                "https://acme.okta.com/oauth2/v1/token"
            )
        );
        // An API error body over lines stays a body: a time alone is no
        // log record's; so does an object whose lines are not indented.
        let body = "{\n  \"timestamp\": \"2026-01-12T08:14:03.511+00:00\",\n  \"status\": 401,\n  \"error\": \"Unauthorized\",\n  \"path\": \"/api/orders\"\n}\n";
        assert!(
            parse_chunk(&chunk(body))
                .iter()
                .all(|e| e.kind != EventKind::Record)
        );
        assert_eq!(field_text(body, "body.error").unwrap().0, "Unauthorized");
        let flat = "{\n\"level\": \"error\",\n\"msg\": \"x\"\n}\n";
        assert!(
            parse_chunk(&chunk(flat))
                .iter()
                .all(|e| e.kind != EventKind::Record)
        );
    }
}
