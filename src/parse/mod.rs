//! Stage 2, parse: turns a chunk of text into events (request lines, status
//! lines, headers, JSON bodies, exceptions, log records), each field carrying
//! the byte span it came from.
//!
//! Every format is a small [`LineParser`] tried in order at each line; the
//! first that recognises the line emits events and says how many lines it
//! consumed. Lines nobody claims are free text (rules still see them through
//! the `text` and `input.text` facts). Whole-document formats (HAR) are
//! sniffed per source and parsed by their own document parser instead.
//!
//! Formats, one file each: [`http`] (raw HTTP, curl `-v`, urllib3 DEBUG, curl
//! command lines), [`curl_trace`] (`--trace-ascii`), [`pyhttp`] (http.client
//! debuglevel), [`traceback`] (Python chained tracebacks), [`stack`] (Java and .NET stack
//! traces with `Caused by:`), [`node`] (Node/undici/axios errors and
//! `util.inspect` dumps), [`exception`] (one-line client errors, SDK
//! `ApiException`), [`appline`] (status stated in app log prose), [`record`]
//! (JSON-lines logs), [`json`] (bodies), [`har`] (HAR documents), plus
//! [`jwt`] and [`time`] used by the incident stage.

mod appline;
mod curl_trace;
mod exception;
mod go;
pub mod har;
mod http;
pub mod json;
pub mod jwt;
mod node;
mod pyhttp;
mod record;
mod stack;
pub mod time;
mod traceback;

use crate::input::{Chunk, Span};

/// A fact value as parsed: text or a number.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Num(f64),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            Value::Num(_) => None,
        }
    }
    pub fn as_num(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Str(s) => s.trim().parse().ok(),
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            Value::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => write!(f, "{}", *n as i64),
            Value::Num(n) => write!(f, "{n}"),
        }
    }
}

/// One named value with the span of the text it was read from.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub value: Value,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// `POST /oauth/token HTTP/1.1`: fields `method`, `url`.
    Request,
    /// `HTTP/1.1 403 Forbidden`: fields `status`, `reason`.
    Status,
    /// One header: field `header.<name>` or `request.header.<name>`.
    Header,
    /// A JSON (or Python-repr) response body: fields `body`, `body.<path>`.
    Body,
    /// A request body: fields `request.body`, `form.<key>`.
    RequestBody,
    /// An exception or client error line: `exception.type`, `exception.message`,
    /// and whatever it reveals (`status`, `url`, `method`).
    Exception,
    /// A structured log record (JSON lines): mapped fields.
    Record,
    /// Connection information that names the host (curl `* Connected to …`).
    Host,
}

#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    /// Bytes of the whole event (absolute offsets).
    pub span: Span,
    pub fields: Vec<Field>,
    /// Events a document parser knows belong to one exchange (a HAR entry)
    /// share a group; such events are grouped by it, not by adjacency.
    pub group: Option<usize>,
}

impl Event {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// The lines of a chunk, with helpers to turn slices into absolute spans.
pub struct Lines<'a> {
    pub text: &'a str,
    pub base: usize,
    /// (start, end) of each line relative to `text`, without the line break.
    pub bounds: Vec<(usize, usize)>,
}

impl<'a> Lines<'a> {
    pub fn new(chunk: &'a Chunk) -> Self {
        let text = chunk.text.as_str();
        let mut bounds = Vec::new();
        let mut start = 0;
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                let end = if i > start && text.as_bytes()[i - 1] == b'\r' {
                    i - 1
                } else {
                    i
                };
                bounds.push((start, end));
                start = i + 1;
            }
        }
        if start < text.len() {
            bounds.push((start, text.len()));
        }
        Lines {
            text,
            base: chunk.offset,
            bounds,
        }
    }

    pub fn len(&self) -> usize {
        self.bounds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bounds.is_empty()
    }

    pub fn line(&self, i: usize) -> &'a str {
        let (s, e) = self.bounds[i];
        &self.text[s..e]
    }

    /// Absolute span of a subslice of this chunk's text.
    pub fn span_of(&self, sub: &str) -> Span {
        let start = sub.as_ptr() as usize - self.text.as_ptr() as usize;
        Span::new(self.base + start, self.base + start + sub.len())
    }

    /// Absolute span covering lines `first..=last`.
    pub fn span_of_lines(&self, first: usize, last: usize) -> Span {
        Span::new(
            self.base + self.bounds[first].0,
            self.base + self.bounds[last].1,
        )
    }

    /// Text from the start of line `i` to the end of the chunk.
    pub fn rest_from(&self, i: usize) -> &'a str {
        &self.text[self.bounds[i].0..]
    }

    /// Index of the line containing relative byte `pos`.
    pub fn line_at(&self, pos: usize) -> usize {
        match self.bounds.binary_search_by(|&(s, _)| s.cmp(&pos)) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    pub fn field(&self, name: impl Into<String>, value: Value, sub: &str) -> Field {
        Field {
            name: name.into(),
            value,
            span: self.span_of(sub),
        }
    }

    pub fn str_field(&self, name: impl Into<String>, sub: &'a str) -> Field {
        self.field(name, Value::Str(sub.to_string()), sub)
    }
}

/// Whether headers seen next belong to a request or a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Request,
    Response,
}

/// Parse state shared by the line parsers of one chunk.
pub struct Ctx {
    pub events: Vec<Event>,
    /// Set after a request or status line: `Name: value` lines that follow
    /// are headers until a blank line.
    pub open_message: Option<Direction>,
    /// Set by a blank line that ends a request's headers: the next line may
    /// be the request body.
    pub request_body_next: bool,
    /// The exchange a line format that interleaves noise (curl
    /// `--trace-ascii`: TLS records between request and response) is in,
    /// and whether it has seen its request yet.
    pub exchange: Option<usize>,
    pub exchange_has_request: bool,
    next_group: usize,
}

impl Ctx {
    pub fn new() -> Self {
        Ctx {
            events: Vec::new(),
            open_message: None,
            request_body_next: false,
            exchange: None,
            exchange_has_request: false,
            next_group: 0,
        }
    }

    /// Starts a new exchange group and returns its id.
    pub fn new_exchange(&mut self) -> usize {
        let id = self.next_group;
        self.next_group += 1;
        self.exchange = Some(id);
        self.exchange_has_request = false;
        id
    }

    /// The current exchange group, started if there is none.
    pub fn current_exchange(&mut self) -> usize {
        match self.exchange {
            Some(id) => id,
            None => self.new_exchange(),
        }
    }

    pub fn emit(&mut self, kind: EventKind, span: Span, fields: Vec<Field>) {
        self.events.push(Event {
            kind,
            span,
            fields,
            group: None,
        });
    }

    pub fn emit_grouped(&mut self, kind: EventKind, span: Span, fields: Vec<Field>, group: usize) {
        self.events.push(Event {
            kind,
            span,
            fields,
            group: Some(group),
        });
    }
}

impl Default for Ctx {
    fn default() -> Self {
        Self::new()
    }
}

/// One input format. `parse` looks at line `i` and, if it recognises it,
/// emits events and returns how many lines it consumed (at least 1).
pub trait LineParser {
    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize>;
}

/// The formats, most specific first.
fn parsers() -> [&'static dyn LineParser; 16] {
    [
        &http::RequestBody,
        &curl_trace::CurlTrace,
        &http::CurlCommand,
        &http::Curl,
        &pyhttp::HttpClientDebug,
        &http::Urllib3Debug,
        &traceback::PythonTraceback,
        &node::NodeError,
        &go::GoError,
        &stack::StackTrace,
        &exception::Exceptions,
        &appline::AppLine,
        &http::HttpMessage,
        &appline::StatusPhrase,
        &record::JsonRecord,
        &json::JsonBody,
    ]
}

/// Parses one chunk into events, in input order. A chunk that is a whole
/// HAR document (see [`crate::input`]) goes to the HAR parser.
pub fn parse_chunk(chunk: &Chunk) -> Vec<Event> {
    if chunk.offset == 0
        && har::sniff(chunk.text.as_bytes())
        && let Some(events) = har::parse(chunk)
    {
        return events;
    }
    parse_lines(chunk)
}

/// Parses a chunk line by line with every [`LineParser`].
fn parse_lines(chunk: &Chunk) -> Vec<Event> {
    let lines = Lines::new(chunk);
    let mut ctx = Ctx::new();
    let parsers = parsers();
    let mut i = 0;
    while i < lines.len() {
        let line = lines.line(i);
        if line.trim().is_empty() {
            ctx.request_body_next = ctx.open_message == Some(Direction::Request);
            ctx.open_message = None;
            i += 1;
            continue;
        }
        let consumed = parsers.iter().find_map(|p| p.parse(&mut ctx, &lines, i));
        ctx.request_body_next = false;
        match consumed {
            Some(n) => i += n.max(1),
            None => {
                // Free text ends a header block only if it is not a header.
                i += 1;
            }
        }
    }
    ctx.events
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn chunk(text: &str) -> Chunk {
        Chunk {
            source: 0,
            offset: 0,
            first_line: 1,
            text: text.to_string(),
        }
    }

    fn kinds(text: &str) -> Vec<EventKind> {
        parse_chunk(&chunk(text)).iter().map(|e| e.kind).collect()
    }

    #[test]
    fn raw_http_response_with_body() {
        let text = "HTTP/1.1 429 Too Many Requests\nRetry-After: 42\nContent-Type: application/json\n\n{\"code\":\"too.many.requests.retry.after\",\"status\":429}\n";
        assert_eq!(
            kinds(text),
            vec![
                EventKind::Status,
                EventKind::Header,
                EventKind::Header,
                EventKind::Body
            ]
        );
        let events = parse_chunk(&chunk(text));
        let retry = events[1].field("header.retry-after").unwrap();
        assert_eq!(&text[retry.span.start..retry.span.end], "42");
    }

    #[test]
    fn free_text_with_colons_is_not_a_header() {
        assert!(kinds("Note: the admin console shows the user is locked\n").is_empty());
    }
}
