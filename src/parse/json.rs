//! JSON bodies found anywhere in text: one line or pretty-printed over many,
//! strict JSON or a Python dict repr (`{'error': 'invalid_grant', 'ok': False}`),
//! with the span of every key and value.
//!
//! Hand-written rather than nom: the grammar is tiny, and recording a span for
//! every node is simplest with direct byte positions.

use super::{Ctx, EventKind, Field, LineParser, Lines, Value};

/// Nesting deeper than this is treated as not-JSON, so hostile input cannot
/// exhaust the stack.
const MAX_DEPTH: usize = 64;
/// A body larger than this is not tried: error bodies are small, and a
/// runaway candidate must not make parsing quadratic.
const MAX_BODY: usize = 1 << 20;

#[derive(Debug, Clone)]
pub enum Json<'a> {
    Object(Vec<(Node<'a>, Node<'a>)>),
    Array(Vec<Node<'a>>),
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
}

/// A JSON value with the exact text it was parsed from.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    pub raw: &'a str,
    pub json: Json<'a>,
}

impl<'a> Node<'a> {
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match &self.json {
            Json::Object(entries) => entries.iter().find_map(|(k, v)| match &k.json {
                Json::Str(s) if s.eq_ignore_ascii_case(key) => Some(v),
                _ => None,
            }),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.json {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as a fact: strings and numbers as they are, other scalars
    /// and containers as their source text.
    pub fn scalar_value(&self) -> Value {
        match &self.json {
            Json::Str(s) => Value::Str(s.clone()),
            Json::Num(n) => Value::Num(*n),
            Json::Bool(b) => Value::Str(b.to_string()),
            Json::Null => Value::Str("null".into()),
            _ => Value::Str(self.raw.to_string()),
        }
    }

    /// The span to highlight: a string's content without its quotes.
    pub fn value_text(&self) -> &'a str {
        match self.json {
            Json::Str(_) if self.raw.len() >= 2 => &self.raw[1..self.raw.len() - 1],
            _ => self.raw,
        }
    }
}

/// Parses one JSON value at the start of `input` (after optional whitespace).
pub fn parse_value(input: &str) -> Option<Node<'_>> {
    let mut p = Parser {
        src: input,
        pos: 0,
        depth: 0,
    };
    p.skip_ws();
    p.value()
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            if b.is_ascii_whitespace() {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn value(&mut self) -> Option<Node<'a>> {
        if self.pos > MAX_BODY {
            return None;
        }
        let start = self.pos;
        let json = match self.peek()? {
            b'{' => self.object()?,
            b'[' => self.array()?,
            b'"' | b'\'' => Json::Str(self.string()?),
            b'-' | b'0'..=b'9' => self.number()?,
            _ => self.word()?,
        };
        Some(Node {
            raw: &self.src[start..self.pos],
            json,
        })
    }

    fn container<T>(&mut self, close: u8, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            if self.peek()? == close {
                self.pos += 1;
                break;
            }
            items.push(item(self)?);
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b if b == close => {
                    self.pos += 1;
                    break;
                }
                _ => return None,
            }
        }
        self.depth -= 1;
        Some(items)
    }

    fn object(&mut self) -> Option<Json<'a>> {
        let entries = self.container(b'}', |p| {
            let key_start = p.pos;
            let key = match p.peek()? {
                b'"' | b'\'' => p.string()?,
                _ => return None,
            };
            let key = Node {
                raw: &p.src[key_start..p.pos],
                json: Json::Str(key),
            };
            p.skip_ws();
            if p.peek()? != b':' {
                return None;
            }
            p.pos += 1;
            p.skip_ws();
            let value = p.value()?;
            Some((key, value))
        })?;
        Some(Json::Object(entries))
    }

    fn array(&mut self) -> Option<Json<'a>> {
        Some(Json::Array(self.container(b']', |p| p.value())?))
    }

    fn string(&mut self) -> Option<String> {
        let quote = self.peek()?;
        self.pos += 1;
        let mut out = String::new();
        let bytes = self.src.as_bytes();
        let mut run = self.pos;
        loop {
            let b = *bytes.get(self.pos)?;
            if b == quote {
                out.push_str(&self.src[run..self.pos]);
                self.pos += 1;
                return Some(out);
            }
            if b == b'\n' {
                return None;
            }
            if b == b'\\' {
                out.push_str(&self.src[run..self.pos]);
                let esc = *bytes.get(self.pos + 1)?;
                self.pos += 2;
                match esc {
                    b'n' => out.push('\n'),
                    b't' => out.push('\t'),
                    b'r' => out.push('\r'),
                    b'b' => out.push('\u{8}'),
                    b'f' => out.push('\u{c}'),
                    b'u' => {
                        let hex = self.src.get(self.pos..self.pos + 4)?;
                        let code = u32::from_str_radix(hex, 16).ok()?;
                        out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                        self.pos += 4;
                    }
                    other => out.push(other as char),
                }
                run = self.pos;
                continue;
            }
            self.pos += 1;
        }
    }

    fn number(&mut self) -> Option<Json<'a>> {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E') {
                self.pos += 1;
            } else {
                break;
            }
        }
        self.src[start..self.pos].parse().ok().map(Json::Num)
    }

    fn word(&mut self) -> Option<Json<'a>> {
        let rest = &self.src[self.pos..];
        for (word, json) in [
            ("true", Json::Bool(true)),
            ("false", Json::Bool(false)),
            ("null", Json::Null),
            ("True", Json::Bool(true)),
            ("False", Json::Bool(false)),
            ("None", Json::Null),
        ] {
            if rest.starts_with(word) {
                self.pos += word.len();
                return Some(json);
            }
        }
        None
    }
}

/// Flattens `node` into fields `<prefix>.<dotted.path>`; containers below the
/// root are kept too (as their source text) so `exists` works on them.
pub fn flatten(lines: &Lines, prefix: &str, node: &Node, out: &mut Vec<Field>) {
    fn walk(lines: &Lines, path: &mut String, node: &Node, out: &mut Vec<Field>, root: bool) {
        if !root {
            out.push(Field {
                name: path.clone(),
                value: node.scalar_value(),
                span: lines.span_of(node.value_text()),
            });
        }
        let len = path.len();
        match &node.json {
            Json::Object(entries) => {
                for (k, v) in entries {
                    if let Json::Str(key) = &k.json {
                        path.push('.');
                        path.push_str(key);
                        walk(lines, path, v, out, false);
                        path.truncate(len);
                    }
                }
            }
            Json::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    path.push('.');
                    path.push_str(&i.to_string());
                    walk(lines, path, v, out, false);
                    path.truncate(len);
                }
            }
            _ => {}
        }
    }
    out.push(Field {
        name: prefix.to_string(),
        value: Value::Str(node.raw.to_string()),
        span: lines.span_of(node.raw),
    });
    walk(lines, &mut prefix.to_string(), node, out, true);
}

/// A JSON body starting on this line: at the line start, or after a label
/// such as `HTTP response body: ` or `body=`.
pub struct JsonBody;

impl LineParser for JsonBody {
    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        let start = line.find(['{', '['])?;
        let before = line[..start].trim_end();
        let at_start = before.is_empty();
        // Mid-line, a body follows a label (`body: {`, `data={`) or plainly
        // starts like a JSON object (`… 400 {"error": …`).
        let opens_object = line[start + 1..]
            .trim_start()
            .starts_with(['"', '\'']);
        if !at_start && !(before.ends_with(':') || before.ends_with('=') || opens_object) {
            return None;
        }
        if line.as_bytes()[start] == b'[' && !at_start {
            return None;
        }
        let text = &lines.rest_from(i)[(start)..];
        let node = parse_value(text)?;
        let is_body = match &node.json {
            Json::Object(e) => !e.is_empty(),
            Json::Array(items) => items.iter().any(|n| matches!(n.json, Json::Object(_))),
            _ => false,
        };
        if !is_body {
            return None;
        }
        let mut fields = Vec::new();
        flatten(lines, "body", &node, &mut fields);
        let span = lines.span_of(node.raw);
        ctx.emit(EventKind::Body, span, fields);
        let end_rel = span.end - lines.base;
        let last = lines.line_at(end_rel.saturating_sub(1));
        Some(last - i + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_and_python_repr() {
        let n = parse_value(r#"{"error": "invalid_grant", "n": [1, 2.5], "ok": true}"#).unwrap();
        assert_eq!(n.get("error").unwrap().as_str(), Some("invalid_grant"));
        let n = parse_value("{'error': 'invalid_client', 'ok': False, 'x': None}").unwrap();
        assert_eq!(n.get("error").unwrap().as_str(), Some("invalid_client"));
    }

    #[test]
    fn spans_are_exact() {
        let src = "{\n \"error\": \"invalid_grant\"\n}";
        let n = parse_value(src).unwrap();
        assert_eq!(n.raw, src);
        assert_eq!(n.get("error").unwrap().value_text(), "invalid_grant");
    }

    #[test]
    fn rejects_garbage_and_deep_nesting() {
        assert!(parse_value("{not json}").is_none());
        assert!(parse_value(&"[".repeat(10_000)).is_none());
        assert!(parse_value("{\"a\": \"unterminated").is_none());
    }
}
