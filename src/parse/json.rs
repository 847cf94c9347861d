//! JSON bodies found anywhere in text: one line or pretty-printed over many,
//! strict JSON, a Python dict repr (`{'error': 'invalid_grant', 'ok': False}`)
//! or Node's `util.inspect` output (`{ error: 'invalid_client', n: undefined }`),
//! with the span of every key and value.
//!
//! Hand-written rather than nom: the grammar is tiny, and recording a span for
//! every node is simplest with direct byte positions.

use crate::input::Span;

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
            Json::Str(_)
                if self.raw.len() >= 2
                    && self.raw.starts_with(['"', '\'', '`'])
                    && self.raw.ends_with(['"', '\'', '`']) =>
            {
                &self.raw[1..self.raw.len() - 1]
            }
            _ => self.raw,
        }
    }
}

/// Parses one JSON value at the start of `input` (after optional whitespace).
/// Bare keys, `undefined` and `'a' + 'b'` concatenation (Node's console
/// output) are accepted too.
pub fn parse_value(input: &str) -> Option<Node<'_>> {
    parse_with(input, MAX_BODY, false)
}

/// Like [`parse_value`], for whole documents up to `max` bytes (HAR files).
pub fn parse_document(input: &str, max: usize) -> Option<Node<'_>> {
    parse_with(input, max, false)
}

/// Node's `util.inspect` of whole objects (`console.error(err)`): also class
/// prefixes (`Object [AxiosHeaders] {`), placeholders (`[Object]`,
/// `[Function: x]`, `[Circular *1]`), `<ref *1>` and nested errors with stack
/// lines (`[cause]: Error: connect ECONNREFUSED …`).
pub fn parse_inspect(input: &str) -> Option<Node<'_>> {
    parse_with(input, MAX_BODY, true)
}

fn parse_with(input: &str, max: usize, inspect: bool) -> Option<Node<'_>> {
    let mut p = Parser {
        src: input,
        pos: 0,
        depth: 0,
        max,
        inspect,
    };
    p.skip_ws();
    p.value()
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
    max: usize,
    inspect: bool,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'$'
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
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
        if self.pos > self.max {
            return None;
        }
        let start = self.pos;
        let json = match self.peek()? {
            b'{' => self.object()?,
            b'[' if self.inspect
                && self
                    .src
                    .as_bytes()
                    .get(self.pos + 1)
                    .is_some_and(|b| b.is_ascii_alphabetic()) =>
            {
                // `[Object]`, `[Function: x]`, or a prefix: `[Object: null prototype] {`.
                let tag = self.bracketed()?;
                if let Some(node) = self.after_prefix() {
                    return Some(node);
                }
                Json::Str(tag.to_string())
            }
            b'[' => self.array()?,
            b'<' if self.inspect => {
                // `<ref *1> ClientRequest {`
                let close = self.src[self.pos..].find('>')?;
                self.pos += close + 1;
                self.skip_spaces();
                return self.value();
            }
            b'"' | b'\'' | b'`' => Json::Str(self.strings()?),
            b'-' | b'0'..=b'9' => self.number()?,
            b'/' if self.inspect => self.regex_literal()?,
            b if self.inspect && is_ident_start(b) => return self.inspect_word(start),
            _ => self.word()?,
        };
        Some(Node {
            raw: &self.src[start..self.pos],
            json,
        })
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    /// `[…]` with nesting, returning the text inside.
    fn bracketed(&mut self) -> Option<&'a str> {
        let start = self.pos;
        let mut depth = 0usize;
        let bytes = self.src.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            match b {
                b'[' => depth += 1,
                b']' => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos += 1;
                        return Some(&self.src[start + 1..self.pos - 1]);
                    }
                }
                b'\n' => return None,
                _ => {}
            }
            self.pos += 1;
        }
        None
    }

    /// After a class prefix: the container it labels, if one follows.
    fn after_prefix(&mut self) -> Option<Node<'a>> {
        let save = self.pos;
        self.skip_spaces();
        if self.peek() == Some(b'[')
            && self
                .src
                .as_bytes()
                .get(self.pos + 1)
                .is_some_and(|b| b.is_ascii_alphabetic())
        {
            // `Object [AxiosHeaders] {`
            if self.bracketed().is_none() {
                self.pos = save;
                return None;
            }
            self.skip_spaces();
        }
        match self.peek() {
            Some(b'{') | Some(b'[') => {
                let start = self.pos;
                let json = if self.peek() == Some(b'{') {
                    self.object()
                } else {
                    self.array()
                };
                // A failed container leaves `pos` anywhere (even past the end).
                let Some(json) = json else {
                    self.pos = save;
                    return None;
                };
                Some(Node {
                    raw: &self.src[start..self.pos],
                    json,
                })
            }
            _ => {
                self.pos = save;
                None
            }
        }
    }

    fn regex_literal(&mut self) -> Option<Json<'a>> {
        let start = self.pos;
        self.pos += 1;
        let bytes = self.src.as_bytes();
        loop {
            match *bytes.get(self.pos)? {
                b'\\' => self.pos += 2,
                b'/' => break,
                b'\n' => return None,
                _ => self.pos += 1,
            }
        }
        self.pos += 1;
        while self.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
            self.pos += 1;
        }
        Some(Json::Str(self.src.get(start..self.pos)?.to_string()))
    }

    /// A bare word in inspect output: a literal, a class-prefixed container
    /// (`ClientRequest {`, `Map(2) {`), a symbol, or a nested error
    /// (`Error: message` + stack lines + optional `{ props }`).
    fn inspect_word(&mut self, start: usize) -> Option<Node<'a>> {
        let bytes = self.src.as_bytes();
        while self.peek().is_some_and(is_ident) {
            self.pos += 1;
        }
        let word = &self.src[start..self.pos];
        let literal = match word {
            "true" | "True" => Some(Json::Bool(true)),
            "false" | "False" => Some(Json::Bool(false)),
            "null" | "None" | "undefined" => Some(Json::Null),
            "Infinity" | "NaN" => Some(Json::Str(word.to_string())),
            _ => None,
        };
        if let Some(json) = literal {
            return Some(Node { raw: word, json });
        }
        // `Symbol(x)`, `Map(2)`
        if self.peek() == Some(b'(') {
            let close = self.src[self.pos..].find(')')?;
            if self.src[self.pos..self.pos + close].contains('\n') {
                return None;
            }
            self.pos += close + 1;
        }
        if let Some(node) = self.after_prefix() {
            return Some(node);
        }
        let save = self.pos;
        self.skip_spaces();
        if self.peek() == Some(b'[') {
            // `DOMException [TimeoutError]: …`
            self.bracketed()?;
        }
        if self.peek() != Some(b':') {
            self.pos = save;
            return Some(Node {
                raw: &self.src[start..self.pos],
                json: Json::Str(self.src[start..self.pos].to_string()),
            });
        }
        // A nested error: the rest of the line is its message.
        let type_end = self.pos;
        let line_end = self.src[self.pos..]
            .find('\n')
            .map_or(self.src.len(), |p| self.pos + p);
        let message = self.src[self.pos + 1..line_end].trim();
        let mut entries = vec![
            (
                synthetic(&self.src[start..type_end], "name"),
                Node {
                    raw: &self.src[start..type_end],
                    json: Json::Str(self.src[start..type_end].to_string()),
                },
            ),
            (
                synthetic(message, "message"),
                Node {
                    raw: message,
                    json: Json::Str(message.to_string()),
                },
            ),
        ];
        self.pos = line_end;
        // Stack lines, the last of which may open the error's own properties.
        loop {
            let next_start = self.pos + 1;
            if next_start >= self.src.len() || bytes[self.pos] != b'\n' {
                break;
            }
            let next_end = self.src[next_start..]
                .find('\n')
                .map_or(self.src.len(), |p| next_start + p);
            let line = &self.src[next_start..next_end];
            if !line.trim_start().starts_with("at ") {
                break;
            }
            self.pos = next_end;
            if line.trim_end().ends_with('{') {
                self.pos = next_start + line.trim_end().len() - 1;
                let Json::Object(props) = self.object()? else {
                    return None;
                };
                entries.extend(props);
                break;
            }
        }
        Some(Node {
            raw: &self.src[start..self.pos],
            json: Json::Object(entries),
        })
    }

    fn container<T>(
        &mut self,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Vec<T>> {
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
                // Node's bare keys (`error:`), and `[Symbol(x)]:` / `[cause]:`.
                b if is_ident_start(b) => {
                    while p.peek().is_some_and(is_ident) {
                        p.pos += 1;
                    }
                    p.src[key_start..p.pos].to_string()
                }
                b'[' if p.inspect => p.bracketed()?.to_string(),
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

    /// A string, or Node's `'a' +\n  'b'` concatenation of several.
    fn strings(&mut self) -> Option<String> {
        let mut out = self.string()?;
        loop {
            let save = self.pos;
            self.skip_ws();
            if self.peek() != Some(b'+') {
                self.pos = save;
                return Some(out);
            }
            self.pos += 1;
            self.skip_ws();
            if !matches!(self.peek(), Some(b'"' | b'\'' | b'`')) {
                self.pos = save;
                return Some(out);
            }
            out.push_str(&self.string()?);
        }
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
                if !esc.is_ascii() {
                    // `\é`: keep the whole character; stepping two bytes
                    // would land inside it.
                    let c = self.src[self.pos + 1..].chars().next()?;
                    out.push(c);
                    self.pos += 1 + c.len_utf8();
                    run = self.pos;
                    continue;
                }
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
        let n = self.src[start..self.pos].parse().ok().map(Json::Num);
        if self.inspect && self.peek() == Some(b'n') {
            self.pos += 1; // BigInt
        }
        n
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
            ("undefined", Json::Null),
        ] {
            if rest.starts_with(word) {
                self.pos += word.len();
                return Some(json);
            }
        }
        None
    }
}

/// A key that is not in the text (a nested error's `name` and `message`),
/// located at the text it stands for.
fn synthetic<'a>(raw: &'a str, key: &str) -> Node<'a> {
    Node {
        raw,
        json: Json::Str(key.to_string()),
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

/// Fields of a body whose text is not verbatim in the input (a JSON string
/// inside a log record, a base64 HAR body, a dump joined from wrapped
/// lines): parsed when it is JSON, else kept raw, every field pointing at
/// `span`, the place in the input the text came from.
pub fn detached_body_fields(text: &str, span: Span) -> Vec<Field> {
    let trimmed = text.trim_start();
    match parse_value(trimmed) {
        Some(node) if matches!(node.json, Json::Object(_) | Json::Array(_)) => {
            let tmp = Lines {
                text: trimmed,
                base: 0,
                bounds: vec![(0, trimmed.len())],
            };
            let mut fields = Vec::new();
            flatten(&tmp, "body", &node, &mut fields);
            fields.into_iter().map(|f| Field { span, ..f }).collect()
        }
        _ => vec![Field {
            name: "body".into(),
            value: Value::Str(text.to_string()),
            span,
        }],
    }
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
        let opens_object = line[start + 1..].trim_start().starts_with(['"', '\'']);
        if !(at_start || before.ends_with(':') || before.ends_with('=') || opens_object) {
            return None;
        }
        if line.as_bytes()[start] == b'[' && !at_start {
            return None;
        }
        emit_body(ctx, lines, i, start)
    }
}

/// Parses a body starting at byte `start` of line `i` and emits it; returns
/// how many lines it took, or `None` when no body object starts there.
pub fn emit_body(ctx: &mut Ctx, lines: &Lines, i: usize, start: usize) -> Option<usize> {
    let text = lines.rest_from(i).get(start..)?;
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
    fn escaped_non_ascii_character() {
        // A Windows path with non-ASCII folder names, escaped as `\\` would
        // be but with one backslash: used to panic (byte index not on a char boundary).
        let n = parse_value("{\"a\\é\": 1, \"p\": \"C:\\日本\\x\"}").unwrap();
        assert!(n.get("aé").is_some());
        assert_eq!(n.get("p").unwrap().as_str(), Some("C:日本x"));
    }

    #[test]
    fn rejects_garbage_and_deep_nesting() {
        assert!(parse_value("{not json}").is_none());
        assert!(parse_value(&"[".repeat(10_000)).is_none());
        assert!(parse_value("{\"a\": \"unterminated").is_none());
    }
}
