//! JSON-lines application logs: one JSON object per line with log-ish keys
//! (`msg`, `level`, `ts`, …). Well-known keys are mapped to the common fact
//! names; every key is also kept as `record.<path>`.

use super::json::{Json, Node, detached_body_fields, flatten, parse_value};
use super::{Ctx, EventKind, Field, LineParser, Lines, Value};

/// A JSON line is a log record only with one of these: `message` alone is
/// not enough, API error bodies have it too.
const LOG_KEYS: [&str; 8] = [
    "level",
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

const BODY_KEYS: [&str; 5] = ["response_body", "body", "response", "data", "response.data"];

fn lookup<'n, 'a>(node: &'n Node<'a>, dotted: &str) -> Option<&'n Node<'a>> {
    dotted.split('.').try_fold(node, |n, key| n.get(key))
}

pub struct JsonRecord;

impl LineParser for JsonRecord {
    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i).trim();
        if !(line.starts_with('{') && line.ends_with('}')) {
            return None;
        }
        let node = parse_value(line)?;
        if node.raw.len() != line.len() || LOG_KEYS.iter().all(|k| node.get(k).is_none()) {
            return None;
        }
        let mut fields: Vec<Field> = Vec::new();
        for (fact, keys) in MAPPING {
            let Some(value) = keys.iter().find_map(|k| lookup(&node, k)) else {
                continue;
            };
            // An `error` object is a body, not an error code.
            if matches!(value.json, Json::Object(_) | Json::Array(_)) {
                continue;
            }
            let mut v = value.scalar_value();
            if fact == "status"
                && let Some(n) = v.as_num()
            {
                v = Value::Num(n);
            }
            fields.push(Field {
                name: fact.to_string(),
                value: v,
                span: lines.span_of(value.value_text()),
            });
        }
        for key in BODY_KEYS {
            let Some(body) = lookup(&node, key) else {
                continue;
            };
            match &body.json {
                Json::Object(_) | Json::Array(_) => flatten(lines, "body", body, &mut fields),
                // A body logged as a JSON string: parse what is inside it.
                // Spans inside an escaped string cannot be mapped back
                // exactly; the fields point at the whole string instead.
                Json::Str(s) if s.trim_start().starts_with('{') => {
                    fields.extend(detached_body_fields(s, lines.span_of(body.value_text())))
                }
                _ => continue,
            }
            break;
        }
        // The record's time, normalised (ISO 8601 or epoch seconds/ms).
        let time_key = ["@timestamp", "timestamp", "time", "ts", "datetime", "date"]
            .iter()
            .find_map(|k| node.get(k));
        if let Some(t) = time_key {
            let parsed = match &t.json {
                Json::Num(n) => super::time::from_epoch(*n),
                Json::Str(s) => super::time::parse_timestamp(s),
                _ => None,
            };
            if let Some(ts) = parsed {
                fields.push(Field {
                    name: "time".into(),
                    value: Value::Str(super::time::format(ts)),
                    span: lines.span_of(t.value_text()),
                });
            }
        }
        let mut all = Vec::new();
        flatten(lines, "record", &node, &mut all);
        fields.extend(all.into_iter().skip(1));
        ctx.emit(EventKind::Record, lines.span_of(line), fields);
        Some(1)
    }
}
