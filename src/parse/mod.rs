//! Stage 2, parse: turns a chunk of text into events (request lines, status
//! lines, headers, bodies, exceptions, log records), each field carrying the
//! byte span it came from.
//!
//! Every format is a small [`LineParser`] tried in order at each line; the
//! first that recognises the line emits events and says how many lines it
//! consumed. Lines nobody claims are free text (rules still see them through
//! the `text` and `input.text` facts). Whole-document formats (HAR) are
//! sniffed per source and parsed by their own document parser instead.
//!
//! Formats, one file each: [`http`] (raw HTTP, curl `-v`, urllib3 DEBUG, curl
//! command lines), [`curl_trace`] (`--trace-ascii`), [`pyhttp`] (http.client
//! debuglevel), [`reqwest`] (Rust reqwest's `Debug` prints), [`authjs`]
//! (NextAuth.js / Auth.js error logs), [`traceback`] (Python chained
//! tracebacks), [`stack`] (Java and .NET stack traces with `Caused by:`),
//! [`node`] (Node/undici/axios errors and `util.inspect` dumps), [`go`],
//! [`logfmt`] (records at an error level), [`tool`] (Terraform's box),
//! [`pwsh`] (PowerShell error records), [`dotnet`] (`HttpResponseMessage`
//! dumps), [`browser`] (console lines), [`jvm`] (Java/OkHttp response and
//! header dumps, OkHttp logging), [`exception`] (one-line client errors, SDK
//! `ApiException`), [`appline`] (status stated in app log prose), [`markup`]
//! (XML and HTML bodies), [`signal`] (failures written as text), [`record`]
//! (JSON-lines logs), [`json`] (bodies anywhere), [`har`] (HAR documents),
//! plus [`mapped`] (text with a map back to the input), [`logprefix`],
//! [`jwt`] and [`time`].
//!
//! What the incident stage gets: a failure stated as text is an
//! [`EventKind::Exception`] (`exception.message`, `exception.type` when
//! known, and whatever it reveals: `status`, `reason`, `url`, `method`,
//! `exception.code`, and an OAuth pair as `body.error` /
//! `body.error_description`); a body is an [`EventKind::Body`] whose fields
//! are `body`, `body.<path>`, `body.format` (`json`, `xml`, `html`, `text`),
//! `body.truncated` when it was cut, and for an HTML page `html.title`,
//! `html.h1` and the `status`/`reason` its title states. Spans always point
//! at the user's bytes (through escapes and stripped prefixes, see
//! [`mapped`]).

mod appline;
mod authjs;
mod browser;
mod curl_trace;
mod dotnet;
mod ethon;
mod exception;
mod forward;
mod go;
pub mod har;
mod http;
pub(crate) use http::is_status_code;
pub mod json;
mod jvm;
pub mod jwt;
pub(crate) mod lean;
mod logfmt;
pub(crate) mod logprefix;
pub mod mapped;
mod markup;
mod node;
pub mod provider_words;
mod pwsh;
mod pygrpc;
mod pyhttp;
pub(crate) mod record;
mod reqwest;
mod serverlog;
mod signal;
mod stack;
pub mod statement;
mod text;
pub mod time;
mod tool;
mod traceback;
pub(crate) mod trigger_dfa;
mod vault;

pub use signal::{is_transport, reason_phrase, reason_phrases, states_refusal, status_of_reason};
pub use text::{SharedText, Text};

use std::borrow::Cow;
use std::ops::ControlFlow;
use std::sync::OnceLock;

use crate::input::{Chunk, Span};
use crate::rules::literal_set::LiteralSet;

/// A fact value as parsed: text (owned, or a piece of a text several
/// values share, see [`Text`]) or a number.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(Text),
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
    /// Nearly every name is a literal (`status`, `url`): borrowed, so a
    /// field costs no allocation for its name.
    pub name: Cow<'static, str>,
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
    /// A response body (JSON, a Python repr, XML, an HTML page): fields
    /// `body`, `body.<path>`, `body.format`, and see the module docs.
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
    /// A JSON record's members that neither tie nor fail were left out of
    /// `fields` (a parse asked for it: see [`Ctx::record_ties`]);
    /// [`record::all_fields`] reads them back from its span.
    pub members_left_out: bool,
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
    /// Set once a parser may have read up to the end of the text: what it
    /// decided may change with more text after it (a chunk's seam).
    pub saw_end: std::cell::Cell<bool>,
    /// The exception parser's last result for a line that it read alone
    /// (see `exception::exception_at`): a retry storm repeats one line.
    pub exception_memo: std::cell::RefCell<Option<exception::Memo>>,
}

impl<'a> Lines<'a> {
    pub fn new(chunk: &'a Chunk) -> Self {
        let text = chunk.text.as_str();
        let mut bounds = Vec::new();
        let mut start = 0;
        crate::byte_positions::each_of(text.as_bytes(), [b'\n'], |i| {
            let end = if i > start && text.as_bytes()[i - 1] == b'\r' {
                i - 1
            } else {
                i
            };
            bounds.push((start, end));
            start = i + 1;
        });
        if start < text.len() {
            bounds.push((start, text.len()));
        }
        Lines {
            text,
            base: chunk.offset,
            bounds,
            saw_end: std::cell::Cell::new(false),
            exception_memo: Default::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.bounds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bounds.is_empty()
    }

    pub fn line(&self, i: usize) -> &'a str {
        if i + 1 >= self.bounds.len() {
            self.saw_end.set(true);
        }
        let (s, e) = self.bounds[i];
        &self.text[s..e]
    }

    /// Line `i` for a test's look, which decides nothing about where the
    /// chunk ends, so it does not count as reading to the end.
    #[cfg(test)]
    fn line_quiet(&self, i: usize) -> &'a str {
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

    /// Text from relative byte `rel` to the end of the chunk, for a value
    /// that may run over many lines (same caution as [`Lines::rest_from`]).
    pub fn rest_at(&self, rel: usize) -> &'a str {
        &self.text[rel..]
    }

    /// Tells what a value read from `rest` (a tail of the text) took:
    /// `raw`, or nothing when it did not parse. A value that failed or ran
    /// to the end of the text, within reach of the body cap, may read
    /// differently with more text after it (see `saw_end`).
    pub fn value_read(&self, rest: &str, raw: Option<&str>) {
        let to_end = raw
            .is_none_or(|r| r.as_ptr() as usize + r.len() >= rest.as_ptr() as usize + rest.len());
        if to_end && rest.len() <= 2 * json::MAX_BODY {
            self.saw_end.set(true);
        }
    }

    /// Index of the line containing relative byte `pos`.
    pub fn line_at(&self, pos: usize) -> usize {
        match self.bounds.binary_search_by(|&(s, _)| s.cmp(&pos)) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    pub fn field(&self, name: impl Into<Cow<'static, str>>, value: Value, sub: &str) -> Field {
        Field {
            name: name.into(),
            value,
            span: self.span_of(sub),
        }
    }

    pub fn str_field(&self, name: impl Into<Cow<'static, str>>, sub: &'a str) -> Field {
        self.field(name, Value::Str(sub.into()), sub)
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
    /// The open message was stated in prose (an app's `request failed:
    /// HTTP 400`), not printed as HTTP: only header-like names follow it.
    pub message_from_text: bool,
    /// Headers seen in the open message.
    pub headers_seen: usize,
    /// Set by a blank line that ends a request's headers: the next line may
    /// be the request body.
    pub request_body_next: bool,
    /// Set where a response's headers ended (a blank line after them,
    /// curl's `<`): the next line, past curl's `* ` notes, is its body
    /// even when it looks like a JSON log record (an Entra or Spring error
    /// body has a `timestamp`).
    pub response_body_next: bool,
    /// [`Ctx::response_body_next`] as it was for the line being parsed.
    pub body_line: bool,
    /// A markup document opened at some line found no closing tag for its
    /// root up to this line: a later opener of the same root need not
    /// look at those lines again.
    pub markup_unclosed: Option<(String, usize)>,
    /// The exchange a line format that interleaves noise (curl
    /// `--trace-ascii`: TLS records between request and response) is in,
    /// and whether it has seen its request yet.
    pub exchange: Option<usize>,
    pub exchange_has_request: bool,
    /// The exchange whose response headers just ended: the next body
    /// belongs to it (curl prints the body after `* ` lines).
    pub body_group: Option<usize>,
    /// What curl `-v` said about the current connection.
    pub curl: Option<http::CurlConnection>,
    /// A curl command line told an exchange whose answer has not come yet:
    /// a raw response next (`curl -i`, `-D -`) is that command's.
    pub command_awaits_answer: bool,
    /// The exchange the open message's headers (and, once they end, its
    /// body) belong to: a response `curl -i` printed after its command.
    pub message_group: Option<usize>,
    /// The line (index in this parse's [`Lines`]) from which the exchange
    /// state above is forgotten, unless a line that tells it comes first
    /// (see [`EXCHANGE_QUIET_LINES`]).
    exchange_kept_until: usize,
    next_group: usize,
    /// The providers' error wording of the rule set in use.
    pub words: std::sync::Arc<provider_words::Words>,
    /// The text [`Ctx::has_method_before_target`] was last asked about
    /// (where it starts, its length) and the answer.
    method_before_target: Option<(usize, usize, bool)>,
    /// Where (in the input) the line starts that the dispatcher is trying
    /// the parsers its prefilter chose on: each holds one of its triggers
    /// there, or one of its shapes, or reads inside blocks. `None` while
    /// every parser is tried (the prefilter off, in tests).
    prefiltered_line: Option<usize>,
    /// Set by a parse whose events go to the incident builder: a JSON
    /// record that states no failure keeps, of its members, only those
    /// that tie (by these keys), and says so
    /// ([`Event::members_left_out`]). Most lines of a JSON-lines log are
    /// such records, and spelling out each member was a fifth of what one
    /// cost; the builder reads them back for a record that joins a failure.
    pub record_ties: Option<std::sync::Arc<crate::providers::RecordTies>>,
}

impl Ctx {
    /// A context with the built-in providers' wording.
    pub fn new() -> Self {
        Self::with_words(provider_words::builtin())
    }

    pub fn with_words(words: std::sync::Arc<provider_words::Words>) -> Self {
        Ctx {
            events: Vec::new(),
            open_message: None,
            message_from_text: false,
            headers_seen: 0,
            request_body_next: false,
            response_body_next: false,
            body_line: false,
            markup_unclosed: None,
            exchange: None,
            exchange_has_request: false,
            body_group: None,
            curl: None,
            command_awaits_answer: false,
            message_group: None,
            exchange_kept_until: 0,
            next_group: 0,
            words,
            method_before_target: None,
            prefiltered_line: None,
            record_ties: None,
        }
    }

    /// Whether line `i` of `lines` is the one the dispatcher tries the
    /// parsers its prefilter chose on (see [`Ctx::prefiltered_line`]).
    pub fn prefiltered(&self, lines: &Lines, i: usize) -> bool {
        self.prefiltered_line == Some(lines.base + lines.bounds[i].0)
    }

    /// [`has_method_before_target`] of `text`, a slice of the text being
    /// parsed (which outlives the context), remembered for the last text
    /// asked about: the browser-console and app-line parsers both ask it
    /// of every line with a method in it that neither claims (an access
    /// log's), and its searches cost more than the rest of either's look.
    pub fn has_method_before_target(&mut self, text: &str) -> bool {
        let key = (text.as_ptr() as usize, text.len());
        if let Some((at, len, answer)) = self.method_before_target
            && (at, len) == key
        {
            return answer;
        }
        let answer = has_method_before_target(text);
        self.method_before_target = Some((key.0, key.1, answer));
        answer
    }

    /// Opens a message: headers may follow. `from_text` when the status
    /// was stated in prose rather than printed as HTTP.
    pub fn open(&mut self, dir: Direction, from_text: bool) {
        self.open_message = Some(dir);
        self.message_group = None;
        self.message_from_text = from_text;
        self.headers_seen = 0;
    }

    /// A context that begins at line `first` where a parse that got to a
    /// line in `resume` was (the exchange under fresh ids: only which
    /// events share one matters).
    fn resumed(
        words: std::sync::Arc<provider_words::Words>,
        resume: &Resume,
        first: usize,
    ) -> Self {
        let mut ctx = Ctx::with_words(words);
        ctx.exchange_kept_until = first + resume.kept_for;
        if let Some(has_request) = resume.exchange {
            ctx.new_exchange();
            ctx.exchange_has_request = has_request;
        }
        ctx.body_group = match resume.body {
            BodyTo::Nowhere => None,
            BodyTo::Exchange => ctx.exchange,
            BodyTo::Earlier => Some(ctx.next_id()),
        };
        ctx.curl = resume.curl.as_ref().map(http::CurlConnection::resumed);
        ctx
    }

    /// What a parse that starts at line `i` must begin in to read it as
    /// this one will, if it can start there: no block is open and every
    /// event read so far is final (none waits to be amended), so all but
    /// the exchange curl is telling and its connection is behind.
    fn resume(&self, i: usize) -> Option<Resume> {
        if self.block_open()
            || self.command_awaits_answer
            || self.curl.as_ref().is_some_and(|c| c.holds_event())
        {
            return None;
        }
        let body = match self.body_group {
            None => BodyTo::Nowhere,
            Some(g) if self.exchange == Some(g) => BodyTo::Exchange,
            Some(_) => BodyTo::Earlier,
        };
        Some(Resume {
            exchange: self.exchange.map(|_| self.exchange_has_request),
            body,
            curl: self.curl.as_ref().map(|c| c.link().clone()),
            kept_for: match self.holds_exchange() {
                true => self.exchange_kept_until.saturating_sub(i),
                false => 0,
            },
        })
    }

    /// Whether later lines may join an exchange or connection told before.
    fn holds_exchange(&self) -> bool {
        self.exchange.is_some() || self.body_group.is_some() || self.curl.is_some()
    }

    /// Forgets the exchange state at line `i` if no line has told it for
    /// [`EXCHANGE_QUIET_LINES`]: a curl transcript or a .NET response is
    /// told in adjacent lines, so a `< ` line far after one is not its
    /// continuation. Kept for ever, the state would also make every later
    /// restart point differ from that of a scan begun after the exchange,
    /// and a chunk seam after it would never be stitched.
    fn expire_exchange(&mut self, i: usize) {
        if i >= self.exchange_kept_until && self.holds_exchange() {
            self.exchange = None;
            self.exchange_has_request = false;
            self.body_group = None;
            self.curl = None;
            self.command_awaits_answer = false;
        }
    }

    /// Whether a block is open whose lines only a block parser (see
    /// [`LineParser::inside_block_only`]) may claim, or whose end (a
    /// blank line, a non-header) changes this state.
    fn block_open(&self) -> bool {
        self.open_message.is_some() || self.request_body_next || self.response_body_next
    }

    /// Starts a new exchange group and returns its id.
    pub fn new_exchange(&mut self) -> usize {
        let id = self.next_id();
        self.exchange = Some(id);
        self.exchange_has_request = false;
        id
    }

    fn next_id(&mut self) -> usize {
        let id = self.next_group;
        self.next_group += 1;
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
        let group = match kind {
            EventKind::Body => self.body_group.take(),
            _ => None,
        };
        self.events.push(Event {
            kind,
            span,
            fields,
            group,
            members_left_out: false,
        });
    }

    pub fn emit_grouped(&mut self, kind: EventKind, span: Span, fields: Vec<Field>, group: usize) {
        self.events.push(Event {
            kind,
            span,
            fields,
            group: Some(group),
            members_left_out: false,
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
    /// Literals (ASCII, matched case-insensitively) of which a line must
    /// contain at least one for this parser to claim it, so a prefilter can
    /// skip the parser on lines that have none. A parser that claims lines
    /// only inside a message it opened (headers, a request body) still
    /// declares what those lines always contain (`:`, `=`, `{`). A test
    /// holds every parser to its list over every fixture and rule example.
    fn triggers(&self) -> &'static [&'static str];

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize>;

    /// True for a parser that claims lines only while a block another line
    /// opened is still open (headers after a status line, a request body
    /// after the blank line that ends its headers): while no block is open
    /// the prefilter need not look for its (very common) triggers.
    fn inside_block_only(&self) -> bool {
        false
    }

    /// Shapes with no literal of their own (an error code such as
    /// `XYZ50076:`): a line the parser claims without any of its triggers
    /// has some shape's `byte` where [`Shape::before`] holds for the text
    /// before it. For forms whose only literal is too common.
    fn shapes(&self) -> &'static [Shape] {
        &[]
    }

    /// True for the parser whose triggers are the providers' wording
    /// ([`provider_words::Words`]), which comes with the rule set rather
    /// than being fixed: its [`LineParser::triggers`] are empty, and the
    /// prefilter takes the words' literals in their place.
    fn uses_provider_words(&self) -> bool {
        false
    }

    /// True for a parser whose lines tell an exchange or connection that
    /// later lines join (curl `-v`, curl's trace, a .NET response): the
    /// state is kept [`EXCHANGE_QUIET_LINES`] past its last such line.
    fn tells_exchange(&self) -> bool {
        false
    }

    /// The parser's name, for test messages.
    fn name(&self) -> &'static str {
        std::any::type_name::<Self>()
    }
}

/// A trigger that is a shape rather than a literal: the line has `byte` at
/// some position `p` with `before(&line[..p])` true. Cheap to find (one
/// memchr per occurrence of the byte, a few byte checks each).
#[derive(Clone, Copy)]
pub struct Shape {
    pub byte: u8,
    /// What the text right before `byte` is wherever `before` holds: tested
    /// inline first, so `before` is called only where it may hold.
    pub near: Near,
    pub before: fn(&[u8]) -> bool,
}

/// A cheap necessary condition of a [`Shape`]'s `before`, on the last
/// bytes of the text before the shape's byte. Most occurrences of a common
/// byte (a timestamp's colons, a logger name's) fail it in a few byte
/// checks: calling each shape's `before` at each of them was 4.5 % of a
/// healthy log's instructions (callgrind, 8 MB).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Near {
    /// Any text.
    Any,
    /// The text ends, after spaces and tabs and then ASCII digits, with an
    /// ASCII upper-case letter, `_` or a non-ASCII byte; or with 128 or more
    /// digits, or has nothing else: where an upper-case code (`ABC50076`,
    /// `NOT_FOUND`) may end. Not the end of `12:34` or `export:`.
    CodeEnd,
    /// The text is a name and all of the line before the byte: 2 to 64
    /// ASCII letters and digits, the first upper-case and the last
    /// lower-case (`PermanentRedirect`, `AccessDenied`), where an error
    /// named after an API code starts a line. Not a timestamp, a JSON key,
    /// `Content-Type`, an upper-case level (`WARNING`) or prose.
    LineStartName,
}

impl Near {
    /// Whether `text` (all that comes before the shape's byte on its line)
    /// is as this says.
    #[inline]
    pub fn admits(self, text: &[u8]) -> bool {
        match self {
            Near::Any => true,
            Near::CodeEnd => Self::code_end_before(text, text.len()),
            Near::LineStartName => Self::is_line_start_name(text),
        }
    }

    /// [`Near::admits`] of the text before `p` on its line, told from
    /// `text`, a whole chunk whose lines start after a line feed: the
    /// prefilter tests it at each occurrence of a shape's byte before
    /// finding the line, which most (a timestamp's colons, a JSON key's)
    /// fail.
    #[inline]
    pub fn admits_at(self, text: &[u8], p: usize) -> bool {
        match self {
            Near::Any => true,
            // A code's walk back stops at a line feed, which is neither a
            // blank nor a digit, as at the start of the line.
            Near::CodeEnd => Self::code_end_before(text, p),
            // The name ends in a lower-case letter: a timestamp's colon, a
            // quote's and a bracket's fail at once, in place.
            Near::LineStartName => {
                p > 0 && text[p - 1].is_ascii_lowercase() && Self::line_start_name_at(text, p)
            }
        }
    }

    /// [`Near::LineStartName`] at `p`, walked back to the line's start (at
    /// most a name's length).
    #[inline(never)]
    fn line_start_name_at(text: &[u8], p: usize) -> bool {
        let mut start = p;
        while start > 0 && p - start <= 64 && text[start - 1].is_ascii_alphanumeric() {
            start -= 1;
        }
        (start == 0 || text[start - 1] == b'\n') && Self::is_line_start_name(&text[start..p])
    }

    /// Whether `text` is a name as [`Near::LineStartName`] says.
    #[inline]
    pub fn is_line_start_name(text: &[u8]) -> bool {
        (2..=64).contains(&text.len())
            && text[0].is_ascii_uppercase()
            && text[text.len() - 1].is_ascii_lowercase()
            && text.iter().all(u8::is_ascii_alphanumeric)
    }

    /// Whether `text[..end]` ends as [`Near::CodeEnd`] says, a line feed
    /// counting as the start of a line.
    #[inline(always)]
    fn code_end_before(text: &[u8], mut end: usize) -> bool {
        while end > 0 && matches!(text[end - 1], b' ' | b'\t') {
            end -= 1;
        }
        // Runs of blanks and digits before one colon end at the colon
        // before it: the walks back stay linear in the line.
        let mut digits = 0;
        while end > 0 && text[end - 1].is_ascii_digit() {
            end -= 1;
            digits += 1;
        }
        match end.checked_sub(1).map(|last| text[last]) {
            None | Some(b'\n') => true,
            Some(b) => b.is_ascii_uppercase() || b == b'_' || !b.is_ascii() || digits >= 128,
        }
    }
}

impl Shape {
    pub fn matches(&self, line: &str) -> bool {
        let b = line.as_bytes();
        memchr::memchr_iter(self.byte, b).any(|p| (self.before)(&b[..p]))
    }
}

/// Whether a parser's prefilter (literal triggers or shape) admits `line`.
pub fn admits(parser: &dyn LineParser, words: &provider_words::Words, line: &str) -> bool {
    has_trigger(line, parser.triggers())
        || (parser.uses_provider_words()
            && words
                .literals()
                .iter()
                .any(|w| has_trigger(line, &[w.as_str()])))
        || parser.shapes().iter().any(|s| s.matches(line))
}

/// Whether `line` contains one of `triggers` (ASCII case-insensitively).
pub fn has_trigger(line: &str, triggers: &[&str]) -> bool {
    triggers.iter().any(|t| {
        let t = t.as_bytes();
        t.is_empty()
            || line
                .as_bytes()
                .windows(t.len())
                .any(|w| w.eq_ignore_ascii_case(t))
    })
}

/// Methods that console and app-log lines put before a request's target.
const LOGGED_METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// Whether `text` has one of [`LOGGED_METHODS`] as a word of its own (at
/// the start or after whitespace) followed by a space and a target
/// (`https?://` or `/`): every match of the regexes that read
/// `(?:^|\s)(?:GET|…|OPTIONS) (?:https?://…|/…)` has it. Access-log lines
/// quote the method (`"GET /x HTTP/1.1"`): most lines with a method in
/// them are told here without a regex search. The rare ` /` and ` http`
/// are searched for, then the word before them read.
pub(crate) fn has_method_before_target(text: &str) -> bool {
    static FINDERS: OnceLock<[memchr::memmem::Finder<'static>; 2]> = OnceLock::new();
    let bytes = text.as_bytes();
    // The upper-case word before the space, whole: a method only when
    // whitespace or the start is before it (`\s` is Unicode whitespace, as
    // `char::is_whitespace`), which a quote or a letter is not.
    let method_ends_at = |space: usize| {
        let word = bytes[..space]
            .iter()
            .rposition(|b| !b.is_ascii_uppercase())
            .map_or(0, |before| before + 1);
        text[..word]
            .chars()
            .next_back()
            .is_none_or(char::is_whitespace)
            && LOGGED_METHODS.contains(&&text[word..space])
    };
    let [slash, http] = FINDERS.get_or_init(|| [" /", " http"].map(memchr::memmem::Finder::new));
    slash.find_iter(bytes).any(method_ends_at)
        || http.find_iter(bytes).any(|space| {
            let scheme = &bytes[space + " http".len()..];
            (scheme.starts_with(b"://") || scheme.starts_with(b"s://")) && method_ends_at(space)
        })
}

/// Work counter for tests: parsers add the bytes they examine beyond the
/// line they were given (look-ahead, body scans), so a test can show that
/// parsing stays linear on hostile input without timing it.
pub(crate) mod work {
    #[cfg(test)]
    thread_local! {
        static WORK: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    #[inline]
    pub fn add(n: usize) {
        #[cfg(test)]
        WORK.with(|w| w.set(w.get() + n));
        let _ = n;
    }

    /// The work counted on this thread since the last call.
    #[cfg(test)]
    pub fn take() -> usize {
        WORK.with(|w| w.replace(0))
    }
}

/// The formats, most specific first.
fn parsers() -> [&'static dyn LineParser; 35] {
    [
        &http::RequestBody,
        &curl_trace::CurlTrace,
        &http::CurlCommand,
        &http::Curl,
        &pyhttp::HttpClientDebug,
        &reqwest::ReqwestDebug,
        &ethon::EthonDebug,
        &authjs::AuthJsLog,
        // Before the parsers that read a request line, a method or a
        // bracket for a failure: an access log's served request is claimed
        // here, unread by them (no other claims a record of this format).
        &serverlog::AccessLog,
        &http::Urllib3Debug,
        &traceback::PythonTraceback,
        &node::NodeError,
        &logfmt::LogfmtError,
        &go::GoError,
        &stack::StackTrace,
        &tool::TerraformBox,
        &vault::VaultApiError,
        &pwsh::PowerShellError,
        &dotnet::DotnetResponse,
        &browser::BrowserConsole,
        &serverlog::ServerLog,
        &jvm::JavaHttp,
        &exception::Exceptions,
        &pygrpc::PythonGrpcStatus,
        &appline::AppLine,
        &http::HttpMessage,
        &http::HttpHeader,
        &markup::MarkupBody,
        &signal::TextSignal,
        &signal::CodeMessage,
        &signal::NamedCode,
        &provider_words::ProviderMessage,
        &record::JsonRecord,
        &json::JsonBody,
        // Last: a body line no other format claims is plain text.
        &http::TextBody,
    ]
}

/// The literal prefilter: one Aho-Corasick automaton over the triggers of
/// every parser that can open a block (built from [`parsers`], so a new
/// parser cannot be left out), plus the shapes of those without a usable
/// literal. One pass over the whole chunk tells, for each line, which
/// parsers' triggers it holds: a parser is tried only on those lines (no
/// parser claims a line without its triggers), and a line with none is
/// skipped for the cost of the search while no block is open.
struct Prefilter {
    /// `None` when some parser admits every line (an empty trigger).
    literals: Option<Triggers>,
    /// For each literal (by pattern id), the parsers that declare it, as
    /// bits by index in [`parsers`].
    owners: Vec<ParserSet>,
    /// Each shape with the parser that declares it, by the byte it looks
    /// for.
    shapes: Vec<(u8, Vec<(Shape, ParserSet)>)>,
    /// Shapes whose `near` is [`Near::LineStartName`], with their parser:
    /// told once per line from its start (a byte or two on most lines), not
    /// at every occurrence of their byte.
    line_start: Vec<(Shape, ParserSet)>,
    /// Parsers tried on every line a block is open on: those that claim
    /// lines only inside a block, whose triggers (`:`, `=`) are too common
    /// to search for.
    in_block: ParserSet,
}

/// A set of parsers, as bits by index in [`parsers`].
type ParserSet = u64;

/// A search for the prefilter's triggers done by the caller, in a walk of
/// the text that finds what other stages look for too (see
/// [`provider_words::Words::triggers`]): it calls the function it is given
/// with each match's trigger (its index among those) and start, in order
/// of their end.
pub type TriggerWalk<'w> = dyn FnMut(&str, &mut dyn FnMut(usize, usize)) + 'w;

/// The parsers each line's triggers admit, marked match by match.
struct Marks<'l> {
    bounds: &'l [(usize, usize)],
    out: Vec<ParserSet>,
    /// The line of the last match.
    line: usize,
}

impl<'l> Marks<'l> {
    fn new(lines: &'l Lines) -> Self {
        Marks {
            bounds: &lines.bounds,
            out: vec![0; lines.len()],
            line: 0,
        }
    }

    /// Matches come in the order of their lines, so the line one is on is
    /// found by walking forward, not by a search per match.
    #[inline]
    fn mark(&mut self, owners: ParserSet, start: usize) {
        while self.line + 1 < self.bounds.len() && self.bounds[self.line + 1].0 <= start {
            self.line += 1;
        }
        // A match that runs into the line break (never, for literals
        // without one) still only marks its own line.
        if let Some(set) = self.out.get_mut(self.line) {
            *set |= owners;
        }
    }
}

/// The parsers' triggers, searched two ways with the same matches: a DFA
/// ([`trigger_dfa`]) for chunks of a real log, which every line goes
/// through (an NFA was several times slower there), and for small texts a
/// [`LiteralSet`], which searches by a table of two-byte prefixes until
/// enough text has gone through it to pay for its automaton: building even
/// a contiguous NFA of the triggers and provider words was a sixth of a
/// one-line paste's run.
struct Triggers {
    patterns: Vec<String>,
    small: std::sync::OnceLock<LiteralSet>,
    big: std::sync::OnceLock<Option<trigger_dfa::TriggerDfa>>,
}

impl Triggers {
    /// Texts from this size on use the DFA.
    const BIG_TEXT: usize = 64 << 10;

    fn small(&self) -> &LiteralSet {
        self.small.get_or_init(|| {
            LiteralSet::new(&self.patterns, aho_corasick::AhoCorasickKind::ContiguousNFA)
        })
    }

    fn big(&self) -> Option<&trigger_dfa::TriggerDfa> {
        self.big
            .get_or_init(|| trigger_dfa::TriggerDfa::new(&self.patterns))
            .as_ref()
    }

    /// Calls `found` with the pattern and start of each trigger match in
    /// `text`, in the order of their lines, with the DFA when `big` (and
    /// it could be built).
    fn find(&self, text: &str, big: bool, mut found: impl FnMut(usize, usize)) {
        match big.then(|| self.big()).flatten() {
            Some(dfa) => dfa.find(text.as_bytes(), |pattern, start| {
                found(pattern, start);
                true
            }),
            None => self.small().find_with_start(text, |pattern, start| {
                found(pattern, start);
                true
            }),
        }
    }
}

impl Prefilter {
    /// Built once per set of provider words ([`provider_words::Words::prefilter`]).
    fn new(parsers: &[&dyn LineParser], words: &provider_words::Words) -> Self {
        assert!(
            parsers.len() <= ParserSet::BITS as usize,
            "too many parsers"
        );
        let mut owned: std::collections::BTreeMap<&str, ParserSet> = Default::default();
        let mut shapes: Vec<(u8, Vec<(Shape, ParserSet)>)> = Vec::new();
        let mut line_start: Vec<(Shape, ParserSet)> = Vec::new();
        let mut in_block = 0;
        let mut every_line = false;
        for (k, p) in parsers.iter().enumerate() {
            let bit = 1 << k;
            if p.inside_block_only() {
                in_block |= bit;
                continue;
            }
            let words = p
                .uses_provider_words()
                .then(|| words.literals().iter().map(String::as_str))
                .into_iter()
                .flatten();
            for t in p.triggers().iter().copied().chain(words) {
                *owned.entry(t).or_default() |= bit;
                every_line |= t.is_empty();
            }
            for shape in p.shapes() {
                if shape.near == Near::LineStartName {
                    line_start.push((*shape, bit));
                    continue;
                }
                match shapes.iter_mut().find(|(b, _)| *b == shape.byte) {
                    Some((_, of_byte)) => of_byte.push((*shape, bit)),
                    None => shapes.push((shape.byte, vec![(*shape, bit)])),
                }
            }
        }
        let literals = (!every_line).then(|| Triggers {
            patterns: owned.keys().map(|k| k.to_string()).collect(),
            small: std::sync::OnceLock::new(),
            big: std::sync::OnceLock::new(),
        });
        Prefilter {
            literals,
            owners: owned.into_values().collect(),
            shapes,
            line_start,
            in_block,
        }
    }

    /// For each line of `lines`, the opening parsers that may claim it
    /// (empty: none); its triggers found by `walk` when given.
    fn candidates(&self, lines: &Lines, walk: Option<&mut TriggerWalk>) -> Vec<ParserSet> {
        if let (Some(walk), Some(_)) = (walk, &self.literals) {
            let mut marks = Marks::new(lines);
            walk(lines.text, &mut |pattern, start| {
                marks.mark(self.owners[pattern], start)
            });
            return self.shaped(lines, marks.out);
        }
        // A small text after a big one (a seam's rescan) goes through the
        // DFA the big one built: the literal set would build its own
        // automaton too (17 M instructions in an 8 MB log's three
        // rescans), for the same matches.
        let built = self
            .literals
            .as_ref()
            .is_some_and(|t| t.big.get().is_some());
        self.candidates_by(lines, built || lines.text.len() >= Triggers::BIG_TEXT)
    }

    /// [`Prefilter::candidates`] with the DFA when `big` (tests compare
    /// both).
    fn candidates_by(&self, lines: &Lines, big: bool) -> Vec<ParserSet> {
        let Some(triggers) = &self.literals else {
            return vec![ParserSet::MAX; lines.len()];
        };
        let mut marks = Marks::new(lines);
        triggers.find(lines.text, big, |pattern, start| {
            marks.mark(self.owners[pattern], start)
        });
        self.shaped(lines, marks.out)
    }

    /// `out` (the parsers each line's triggers admit) with those whose
    /// shapes the line has.
    fn shaped(&self, lines: &Lines, mut out: Vec<ParserSet>) -> Vec<ParserSet> {
        let text = lines.text.as_bytes();
        // Per byte the shapes look for, the parsers its shapes admit and
        // the `near` they all give (both at a colon give a code's end),
        // tested once at each of its occurrences.
        struct ByteShapes<'s> {
            byte: u8,
            shapes: &'s [(Shape, ParserSet)],
            wanted: ParserSet,
            shared: Option<Near>,
        }
        /// The line of the last occurrence marked, and its bounds.
        #[derive(Default)]
        struct OnLine {
            line: usize,
            start: usize,
            end: usize,
        }
        impl ByteShapes<'_> {
            /// Marks the parsers whose shapes hold at `p`, a place of this
            /// byte where the shared `near` (if any) holds. Out of the
            /// walk's loop, which most places leave before this.
            #[inline(never)]
            fn mark(&self, lines: &Lines, p: usize, on: &mut OnLine, out: &mut [ParserSet]) {
                if p >= on.end {
                    while on.line + 1 < lines.bounds.len() && lines.bounds[on.line + 1].0 <= p {
                        on.line += 1;
                    }
                    (on.start, on.end) = lines.bounds[on.line];
                    // Not on a line (a line break): no shape's byte is one.
                    if p >= on.end {
                        return;
                    }
                }
                let set = &mut out[on.line];
                // A line whose parsers are all in is tested no further.
                if *set & self.wanted == self.wanted {
                    return;
                }
                let before = &lines.text.as_bytes()[on.start..p];
                for (shape, bit) in self.shapes {
                    if *set & bit == 0
                        && (self.shared.is_some() || shape.near.admits(before))
                        && (shape.before)(before)
                    {
                        *set |= bit;
                    }
                }
            }
        }
        let bytes: Vec<ByteShapes> = (self.shapes.iter())
            .map(|(byte, shapes)| ByteShapes {
                byte: *byte,
                shapes,
                wanted: shapes.iter().fold(0, |all, (_, bit)| all | bit),
                shared: (shapes.iter())
                    .all(|(s, _)| s.near == shapes[0].0.near)
                    .then(|| shapes[0].0.near),
            })
            .collect();
        // One pass over the whole text for two of the bytes at once (today
        // the colon alone), not one search per line or per byte.
        for pair in bytes.chunks(2) {
            let (first, last) = (&pair[0], &pair[pair.len() - 1]);
            let mut on = OnLine::default();
            crate::byte_positions::each_of(text, [first.byte, last.byte], |p| {
                let at = if text[p] == first.byte { first } else { last };
                // Told in the walk, before the line is found: most
                // occurrences (a timestamp's colons, a JSON key's) fail it.
                if at.shared.is_none_or(|near| near.admits_at(text, p)) {
                    at.mark(lines, p, &mut on, &mut out);
                }
            });
        }
        if !self.line_start.is_empty() {
            for (k, &(start, end)) in lines.bounds.iter().enumerate() {
                let line = &text[start..end];
                // Most lines end the test at their first byte.
                if !line.first().is_some_and(u8::is_ascii_uppercase) {
                    continue;
                }
                let name = line
                    .iter()
                    .take(65)
                    .take_while(|b| b.is_ascii_alphanumeric())
                    .count();
                for (shape, bit) in &self.line_start {
                    if line.get(name) == Some(&shape.byte)
                        && Near::is_line_start_name(&line[..name])
                        && (shape.before)(&line[..name])
                    {
                        out[k] |= bit;
                    }
                }
            }
        }
        out
    }
}

/// Parses one chunk into events, in input order. A chunk that is a whole
/// HAR document (see [`crate::input`]) goes to the HAR parser.
pub fn parse_chunk(chunk: &Chunk) -> Vec<Event> {
    let mut events = Vec::new();
    parse_chunk_into(chunk, &mut |e| events.push(e));
    events
}

/// Like [`parse_chunk`], handing events to `sink` as they are complete, so
/// a chunk of a million failing lines never holds a million events.
pub fn parse_chunk_into(chunk: &Chunk, sink: &mut dyn FnMut(Event)) {
    if chunk.offset == 0
        && har::sniff(chunk.text.as_bytes())
        && let Some(events) = har::parse(chunk)
    {
        events.into_iter().for_each(sink);
        return;
    }
    let ctx = Ctx::new();
    parse_lines_into(chunk, 0, ctx, true, None, &mut |_, _| {}, &mut |p| {
        if let Parsed::Event(e) = p {
            sink(e)
        }
        ControlFlow::Continue(())
    });
}

/// What [`parse_chunk_from`] hands out: events, and marks before a line
/// that a parser starts reading with no block open and no event waiting
/// to be amended, so parsing could restart there.
#[derive(Debug)]
pub enum Parsed {
    Event(Event),
    /// Absolute offset of the start of such a line, and the state a parse
    /// that restarts there begins in; every event before it has been
    /// handed out.
    Fresh(usize, Resume),
}

/// The state a parse is in at a line where it could restart: the curl
/// exchange still being told (its `< ` lines may come after other lines)
/// and the connection it went over. Most lines of most logs begin in the
/// default: nothing at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resume {
    /// The exchange later lines of it join, and whether it has its request.
    exchange: Option<bool>,
    body: BodyTo,
    curl: Option<http::Link>,
    /// Lines, from this one, for which that state is kept (0 when there is
    /// none).
    kept_for: usize,
}

/// Lines after the last line that told an exchange (see
/// [`LineParser::tells_exchange`]) for which later lines may still join it:
/// a transcript's lines are adjacent, bar a few of other output between
/// them. Well under a seam's rescan window in lines, so that a rescan
/// begun inside a transcript meets the restarts of a scan begun after it.
pub const EXCHANGE_QUIET_LINES: usize = 100;

/// Which exchange the next body goes with (curl prints it after `* `
/// lines): none, the current one, or one before it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum BodyTo {
    #[default]
    Nowhere,
    Exchange,
    Earlier,
}

/// Compiles the automata nearly every log's parse needs (the log prefix
/// and the signal set, about 17 M instructions, then the regexes its
/// failure lines and their times are read with, about 5 M): called on
/// another thread at the start of a big text's parse, so that they are
/// ready when its first lines need them, instead of compiled by the parse
/// itself. Either side compiles each once; the other waits for it or finds
/// it built.
pub fn warm_up() {
    logprefix::warm_up();
    signal::warm_up();
    exception::warm_up();
    time::warm_up();
}

/// Parses a chunk from its line `first` on (the lines before it are only
/// context a parser may look back at), beginning in `resume` (the state
/// a mark at that line gave; the default at a chunk's start), and marking
/// where parsing could restart: what lets a scan that begins at such a
/// mark give exactly the events of one that began earlier (stitching
/// chunks at their seams). `words`: the providers' error wording of the
/// rule set in use. Parsing stops early when `sink` breaks: a rescan that
/// met its restart needs no more of its window.
pub fn parse_chunk_from(
    chunk: &Chunk,
    first: usize,
    resume: &Resume,
    words: &std::sync::Arc<provider_words::Words>,
    sink: &mut dyn FnMut(Parsed) -> ControlFlow<()>,
) {
    parse_chunk_walked(chunk, first, resume, words, None, None, sink)
}

/// [`parse_chunk_from`], the prefilter's triggers found by `walk` when
/// given (one walk of a big text for them and what the input-wide scan
/// looks for); with `record_ties`, JSON records that state no failure keep
/// only their members that tie (see [`Ctx::record_ties`]).
pub fn parse_chunk_walked(
    chunk: &Chunk,
    first: usize,
    resume: &Resume,
    words: &std::sync::Arc<provider_words::Words>,
    walk: Option<&mut TriggerWalk>,
    record_ties: Option<std::sync::Arc<crate::providers::RecordTies>>,
    sink: &mut dyn FnMut(Parsed) -> ControlFlow<()>,
) {
    if chunk.offset == 0
        && first == 0
        && har::sniff(chunk.text.as_bytes())
        && let Some(events) = har::parse(chunk)
    {
        for e in events {
            if sink(Parsed::Event(e)).is_break() {
                return;
            }
        }
        return;
    }
    let mut ctx = Ctx::resumed(words.clone(), resume, first);
    ctx.record_ties = record_ties;
    parse_lines_into(chunk, first, ctx, true, walk, &mut |_, _| {}, sink);
}

/// Parses a chunk line by line with every [`LineParser`], telling
/// `on_claim` which parser (by index in [`parsers`]) claimed which line;
/// `prefilter` off only to prove, in tests, that it changes nothing.
#[cfg(test)]
fn parse_lines_with(
    chunk: &Chunk,
    prefilter: bool,
    on_claim: &mut dyn FnMut(usize, usize),
) -> Vec<Event> {
    let mut events = Vec::new();
    parse_lines_into(chunk, 0, Ctx::new(), prefilter, None, on_claim, &mut |p| {
        if let Parsed::Event(e) = p {
            events.push(e)
        }
        ControlFlow::Continue(())
    });
    events
}

/// Events handed out at once, when none is still referred to by index.
const EVENT_BATCH: usize = 64;

fn parse_lines_into(
    chunk: &Chunk,
    first: usize,
    mut ctx: Ctx,
    prefilter: bool,
    walk: Option<&mut TriggerWalk>,
    on_claim: &mut dyn FnMut(usize, usize),
    sink: &mut dyn FnMut(Parsed) -> ControlFlow<()>,
) {
    let lines = Lines::new(chunk);
    // Every event is handed out, and the parse ends at the next line once
    // `sink` has had enough.
    let more = std::cell::Cell::new(true);
    let mut hand = |p: Parsed| {
        if sink(p).is_break() {
            more.set(false);
        }
    };
    // Bodies nested past the depth cap are skipped over at most twice the
    // chunk in all, so trying every line inside one stays linear.
    let _deep_skips = json::DeepSkipBudget::set(2 * chunk.text.len());
    let parsers = parsers();
    let words = ctx.words.clone();
    let filter = words.prefilter();
    let candidates = prefilter.then(|| filter.candidates(&lines, walk));
    let in_block = filter.in_block;
    let mut i = first;
    while more.get() && i < lines.len() {
        // With no block open, a blank line changes nothing and a line
        // without an opening trigger is claimed by nobody: skip it.
        let admitted = match &candidates {
            Some(c) if c[i] == 0 && !ctx.block_open() => {
                i += 1;
                continue;
            }
            Some(c) => c[i] | in_block,
            None => ParserSet::MAX,
        };
        let line = lines.line(i);
        work::add(line.len() + 1);
        if line.trim().is_empty() {
            ctx.request_body_next = ctx.open_message == Some(Direction::Request);
            // Kept over further blank lines before the body.
            ctx.response_body_next |= ctx.open_message == Some(Direction::Response);
            if let Some(g) = ctx.message_group.take()
                && ctx.open_message == Some(Direction::Response)
            {
                ctx.body_group = Some(g);
            }
            ctx.open_message = None;
            i += 1;
            continue;
        }
        ctx.expire_exchange(i);
        if !lines.saw_end.get()
            && let Some(resume) = ctx.resume(i)
        {
            ctx.events.drain(..).for_each(|e| hand(Parsed::Event(e)));
            hand(Parsed::Fresh(lines.base + lines.bounds[i].0, resume));
        }
        // Only the parsers whose triggers the line holds: the others
        // would not claim it.
        ctx.prefiltered_line = candidates.is_some().then(|| lines.base + lines.bounds[i].0);
        ctx.body_line = std::mem::take(&mut ctx.response_body_next);
        let consumed = parsers
            .iter()
            .enumerate()
            .filter(|(k, _)| admitted & (1 << k) != 0)
            .find_map(|(k, p)| p.parse(&mut ctx, &lines, i).map(|n| (k, n)));
        ctx.request_body_next = false;
        ctx.body_line = false;
        match consumed {
            Some((k, n)) => {
                on_claim(k, i);
                i += n.max(1);
                if parsers[k].tells_exchange() {
                    ctx.exchange_kept_until = i + EXCHANGE_QUIET_LINES;
                }
            }
            None => {
                // Free text ends a header block only if it is not a header.
                i += 1;
            }
        }
        // curl's request event is amended by index until its exchange ends.
        if ctx.events.len() >= EVENT_BATCH && !ctx.curl.as_ref().is_some_and(|c| c.holds_event()) {
            ctx.events.drain(..).for_each(|e| hand(Parsed::Event(e)));
        }
    }
    ctx.events.into_iter().for_each(|e| hand(Parsed::Event(e)));
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

    /// The first value of field `name` in the events of `text`.
    pub fn field_value(text: &str, name: &str) -> Option<String> {
        parse_chunk(&chunk(text))
            .iter()
            .find_map(|e| e.field(name).map(|f| f.value.to_string()))
    }

    fn kinds(text: &str) -> Vec<EventKind> {
        parse_chunk(&chunk(text)).iter().map(|e| e.kind).collect()
    }

    /// zap's console record at info ends with its fields as JSON: no body.
    /// The same fields at error level, or a body after an INFO line of
    /// another logger, still are.
    #[test]
    fn a_zap_info_record_s_fields_are_no_body() {
        let info = "2023-06-06T21:10:45.983Z\tinfo\tgohai/gohai.go:36\tFailed to retrieve filesystem metadata\t{\"kind\": \"exporter\", \"error\": \"df failed\"}\n";
        assert!(!kinds(info).contains(&EventKind::Body), "{info}");
        let docker = format!("2023-06-06 16:10:45 {info}");
        assert!(!kinds(&docker).contains(&EventKind::Body), "{docker}");
        let error = info.replace("\tinfo\t", "\terror\t");
        assert!(kinds(&error).contains(&EventKind::Body), "{error}");
        let other =
            "2026-11-24 00:00:01,000 INFO app.client: response {\"error\": \"invalid_grant\"}\n";
        assert!(kinds(other).contains(&EventKind::Body), "{other}");
    }

    /// A curl `-v` exchange, `gap` lines of other output, then a response
    /// line (and a line after it, so that the parse is not at its text's
    /// end): the restart state at the response line, and whether the
    /// response joined the transcript's exchange.
    fn after_curl_and_gap(gap: usize) -> (Resume, bool) {
        let noise: String = (0..gap)
            .map(|k| {
                format!("2026-11-24 00:00:01,000 ERROR app.worker: step {k} failed, retrying\n")
            })
            .collect();
        let text = format!(
            "* Connected to api.mypurecloud.com (10.0.0.7) port 443 (#0)\n\
             > GET /api/v2/users HTTP/1.1\n> Host: api.mypurecloud.com\n>\n\
             < HTTP/1.1 200 OK\n<\n{noise}< HTTP/1.1 503 Service Unavailable\n<\n\
             2026-11-24 00:00:02,000 ERROR app.worker: gave up\n"
        );
        let last_line = text.rfind("< HTTP").unwrap();
        let (mut events, mut resume) = (Vec::new(), None);
        parse_chunk_from(
            &chunk(&text),
            0,
            &Resume::default(),
            &provider_words::builtin(),
            &mut |p| {
                match p {
                    Parsed::Event(e) => events.push(e),
                    Parsed::Fresh(at, r) if at == last_line => resume = Some(r),
                    Parsed::Fresh(..) => {}
                }
                ControlFlow::Continue(())
            },
        );
        let group_of = |kind| {
            events
                .iter()
                .rfind(|e| e.kind == kind)
                .and_then(|e| e.group)
        };
        let joined = group_of(EventKind::Request) == group_of(EventKind::Status);
        (resume.expect("a restart at the response line"), joined)
    }

    /// curl's exchange and connection are kept while its transcript goes
    /// on, bar a few lines of other output, and forgotten after
    /// `EXCHANGE_QUIET_LINES`: a parse begun after the transcript (at a
    /// chunk seam) then meets the same restart state as one begun before.
    #[test]
    fn curl_exchange_is_forgotten_after_quiet_lines() {
        let (resume, joined) = after_curl_and_gap(3);
        assert!(joined && resume != Resume::default(), "{resume:?}");
        let (resume, joined) = after_curl_and_gap(EXCHANGE_QUIET_LINES + 1);
        assert!(!joined, "a response far after the transcript joined it");
        assert_eq!(resume, Resume::default());
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

    /// Every text the tests know: fixtures (not the capture scripts) and
    /// every built-in rule example.
    fn corpus() -> Vec<(String, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        for entry in walkdir::WalkDir::new(root.join("fixtures"))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
        {
            let path = entry.path();
            if path.components().any(|c| c.as_os_str() == "capture") {
                continue;
            }
            let bytes = std::fs::read(path).unwrap();
            out.push((
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
        let report = crate::rules::load::load(&crate::rules::builtin_sources());
        for rule in &report.rules {
            for (k, ex) in rule.examples.iter().enumerate() {
                out.push((format!("{} example {}", rule.id, k + 1), ex.input.clone()));
            }
        }
        assert!(out.len() > 100, "corpus too small: {}", out.len());
        out
    }

    /// The field corpus's inputs (tests/field/cases/*/*/input.*).
    fn field_inputs() -> Vec<(String, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/field/cases");
        walkdir::WalkDir::new(root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_type().is_file() && e.file_name().to_string_lossy().starts_with("input.")
            })
            .map(|e| {
                let bytes = std::fs::read(e.path()).unwrap();
                (
                    e.path().display().to_string(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                )
            })
            .collect()
    }

    /// The prefilter only skips work: the events (hence every report) are
    /// the same with it and without it, over every fixture, rule example
    /// and field case.
    #[test]
    fn prefilter_changes_no_event() {
        let mut inputs = corpus();
        let field = field_inputs();
        assert!(field.len() > 100, "field corpus missing: {}", field.len());
        inputs.extend(field);
        let mut differ = Vec::new();
        let mut skipped = 0;
        for (name, text) in &inputs {
            let c = chunk(text);
            let with = format!("{:?}", parse_lines_with(&c, true, &mut |_, _| {}));
            let without = format!("{:?}", parse_lines_with(&c, false, &mut |_, _| {}));
            if with != without {
                differ.push(name.clone());
            }
            let lines = Lines::new(&c);
            skipped += provider_words::builtin()
                .prefilter()
                .candidates(&lines, None)
                .iter()
                .filter(|c| **c == 0)
                .count();
        }
        assert!(
            differ.is_empty(),
            "prefilter changed events of: {differ:#?}"
        );
        // And it does skip lines (free text, frames, prose).
        assert!(skipped > 1000, "prefilter skipped only {skipped} lines");
    }

    /// A big text's triggers are found lower-cased by a DFA, a small
    /// one's by a case-folding NFA: over every fixture, rule example and
    /// field case as one text (with a copy upper-cased, as case varies in
    /// logs), both admit the same parsers on every line, and so does a
    /// walk outside the parse that finds its triggers (see
    /// [`TriggerWalk`]).
    #[test]
    fn big_and_small_prefilters_admit_the_same_parsers() {
        let mut text = String::new();
        for (_, t) in corpus().into_iter().chain(field_inputs()) {
            text.push_str(&t);
            text.push('\n');
        }
        text.push_str(&text.to_ascii_uppercase());
        assert!(text.len() >= 4 * Triggers::BIG_TEXT, "{}", text.len());
        let c = chunk(&text);
        let lines = Lines::new(&c);
        let filter = provider_words::builtin();
        let filter = filter.prefilter();
        let big = filter.candidates_by(&lines, true);
        let small = filter.candidates_by(&lines, false);
        // The triggers found by a walk outside for other literals too (a
        // list before them, some the same as theirs): what a scan walks.
        let others: Vec<String> = ["error", "quota", "http/", "x"].map(String::from).to_vec();
        let triggers = filter.literals.as_ref().unwrap().patterns.as_slice();
        let shared = crate::shared_walk::SharedWalk::new(&[&others, triggers]).unwrap();
        let mut walk = |text: &str, found: &mut dyn FnMut(usize, usize)| {
            shared.find(text.as_bytes(), |list, id, start| {
                if list == 1 {
                    found(id, start);
                    crate::shared_walk::Wanted::More
                } else {
                    crate::shared_walk::Wanted::NoMoreOfThis
                }
            })
        };
        let walked = filter.candidates(&lines, Some(&mut walk));
        for other in [&small, &walked] {
            let differ: Vec<&str> = (0..lines.len())
                .filter(|&i| big[i] != other[i])
                .map(|i| lines.line_quiet(i))
                .take(5)
                .collect();
            assert!(differ.is_empty(), "lines admitted differently: {differ:#?}");
        }
        assert!(big.iter().filter(|c| **c != 0).count() > 1000);
    }

    /// The big-text DFA finds each trigger where aho-corasick does (start
    /// and trigger, overlapping ones included), over every fixture and
    /// field case with a copy upper-cased.
    #[test]
    fn trigger_dfa_finds_what_aho_corasick_finds() {
        let mut text = String::new();
        for (_, t) in corpus().into_iter().chain(field_inputs()) {
            text.push_str(&t);
            text.push('\n');
        }
        text.push_str(&text.to_ascii_uppercase());
        let words = provider_words::builtin();
        let triggers = &words.prefilter().literals.as_ref().unwrap().patterns;
        let mut by_dfa = Vec::new();
        trigger_dfa::TriggerDfa::new(triggers)
            .unwrap()
            .find(text.as_bytes(), |pattern, start| {
                by_dfa.push((pattern, start));
                true
            });
        let mut by_aho_corasick: Vec<(usize, usize)> = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(triggers)
            .unwrap()
            .find_overlapping_iter(&text)
            .map(|m| (m.pattern().as_usize(), m.start()))
            .collect();
        by_dfa.sort_unstable();
        by_aho_corasick.sort_unstable();
        assert!(by_dfa.len() > 10_000, "{}", by_dfa.len());
        assert!(by_dfa == by_aho_corasick, "the DFA's matches differ");
    }

    /// Texts the shape tests look at: every line of the fixtures, rule
    /// examples and field cases, and made edges of the code shapes (long
    /// runs of digits, blanks and letters that the code window cuts).
    fn shape_test_lines() -> Vec<String> {
        let mut lines: Vec<String> = corpus()
            .into_iter()
            .chain(field_inputs())
            .flat_map(|(_, text)| text.lines().map(String::from).collect::<Vec<_>>())
            .collect();
        for made in [
            format!("x{}: y", "1".repeat(300)),
            format!("{}: y", "1".repeat(300)),
            format!("{}: y", " ".repeat(300)),
            format!("x{}: y", " ".repeat(300)),
            format!("{}123: x", "A".repeat(300)),
            format!("{}123456: x", "é".repeat(200)),
            "AB123: x (y) z".to_string(),
            "  (Denied) x".to_string(),
            "\t(Denied) x".to_string(),
            "(Denied) x".to_string(),
            "code_1234567 \t: x".to_string(),
            "ÉA123456: x".to_string(),
            "A٣٣٣٣: x".to_string(),
            "_123456: y".to_string(),
            ": x".to_string(),
            "UNAVAILABLE: down".to_string(),
            "x NOT_FOUND : y".to_string(),
        ] {
            lines.push(made);
        }
        lines
    }

    /// Each shape's `near` holds wherever its `before` does, at every
    /// occurrence of its byte in every line the tests know (the prefilter
    /// calls `before` only where `near` holds); a code's end rules out most.
    #[test]
    fn shape_near_holds_wherever_before_does() {
        let lines = shape_test_lines();
        for parser in parsers() {
            for shape in parser.shapes() {
                let (mut held, mut near, mut all) = (0, 0, 0);
                for line in &lines {
                    let b = line.as_bytes();
                    for p in memchr::memchr_iter(shape.byte, b) {
                        let before = (shape.before)(&b[..p]);
                        let admitted = shape.near.admits(&b[..p]);
                        assert!(
                            admitted || !before,
                            "{}: {:?} rules out {line:?} at {p}",
                            parser.name(),
                            shape.near
                        );
                        (held, near, all) = (
                            held + usize::from(before),
                            near + usize::from(admitted),
                            all + 1,
                        );
                    }
                }
                assert!(held > 0, "{}: no line has the shape", parser.name());
                if shape.near == Near::CodeEnd {
                    assert!(near * 4 < all, "{}: {near} of {all} near", parser.name());
                }
            }
        }
    }

    /// [`Near::admits_at`] of a place in a whole text is [`Near::admits`]
    /// of what comes before it on its line, at each colon, parenthesis and
    /// blank of every fixture and field case (and of the logs named in
    /// `FAULTLINE_TEST_LOGS`, `:`-separated, when set).
    #[test]
    fn near_at_a_place_is_near_on_its_line() {
        let mut texts: Vec<String> = corpus()
            .into_iter()
            .chain(field_inputs())
            .map(|(_, text)| text)
            .collect();
        texts.push(shape_test_lines().join("\r\n"));
        texts.extend(crate::test_corpus::named_test_logs());
        let mut tested = 0;
        for text in &texts {
            let c = chunk(text);
            let lines = Lines::new(&c);
            let bytes = text.as_bytes();
            for &(start, end) in &lines.bounds {
                for p in start..end {
                    if !matches!(bytes[p], b':' | b'(' | b' ') {
                        continue;
                    }
                    for near in [Near::Any, Near::CodeEnd, Near::LineStartName] {
                        let want = near.admits(&bytes[start..p]);
                        assert_eq!(
                            near.admits_at(bytes, p),
                            want,
                            "{near:?} at {p} of {:?}",
                            &text[start..end]
                        );
                    }
                    tested += 1;
                }
            }
        }
        assert!(tested > 100_000, "{tested}");
    }

    /// The prefilter's search for shapes (the whole text at once, `near`
    /// first) admits on each line what the line's own shapes do.
    #[test]
    fn shaped_admits_what_each_line_has() {
        let mut text = shape_test_lines().join("\n");
        text.push_str("\r\n(x)\r\nAB123: y\r\n");
        let c = chunk(&text);
        let lines = Lines::new(&c);
        let filter = provider_words::builtin();
        let filter = filter.prefilter();
        let parsers = parsers();
        // From nothing admitted, and from all admitted but one with shapes.
        let with_shapes = (0..parsers.len()).filter(|&k| !parsers[k].shapes().is_empty());
        let starts = std::iter::once(0).chain(with_shapes.map(|k| ParserSet::MAX & !(1 << k)));
        for start in starts {
            let got = filter.shaped(&lines, vec![start; lines.len()]);
            for (i, got) in got.iter().enumerate() {
                let line = lines.line_quiet(i);
                let mut want = start;
                for (j, p) in parsers.iter().enumerate() {
                    if p.shapes().iter().any(|s| s.matches(line)) {
                        want |= 1 << j;
                    }
                }
                assert_eq!(*got, want, "line {line:?}");
            }
        }
    }

    #[test]
    fn code_shape_admits_codes_only() {
        let code = CodeShapeProbe::get();
        assert!(code.matches("AADSTS50076: Due to a configuration change"));
        assert!(code.matches("error E0000011 : Invalid token"));
        assert!(!code.matches("2026-11-24 03:00:05,123 INFO etl.loader: wrote batch 7"));
        assert!(!code.matches("2026-11-24T03:00:05Z ok"));
    }

    struct CodeShapeProbe;
    impl CodeShapeProbe {
        fn get() -> Shape {
            signal::CodeMessage.shapes()[0]
        }
    }

    #[test]
    fn no_parser_claims_a_line_without_its_triggers() {
        let parsers = parsers();
        let mut wrong = Vec::new();
        for (name, text) in corpus().into_iter().chain(field_inputs()) {
            let c = chunk(&text);
            let lines = Lines::new(&c);
            parse_lines_with(&c, false, &mut |k, i| {
                let line = lines.line(i);
                if !admits(parsers[k], &provider_words::builtin(), line) {
                    wrong.push(format!(
                        "{name}:{}: {} claimed {line:?}",
                        i + 1,
                        parsers[k].name()
                    ));
                }
            });
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    /// Work to parse `text` (bytes examined, look-ahead included).
    fn work_for(text: &str) -> usize {
        work::take();
        let events = parse_chunk(&chunk(text));
        std::hint::black_box(events);
        work::take()
    }

    /// Hostile inputs, each at a full size and a quarter of it: the work
    /// must grow in proportion (a quadratic parser would do 16 times the
    /// work, not 4). Counted, never timed.
    #[test]
    fn hostile_inputs_take_linear_work() {
        let cases: [(&str, &str, usize); 22] = [
            ("open braces", "{\n", 40_000),
            // Past the depth cap, every line tried skips to the end: the
            // chunk's skip budget keeps that linear.
            ("open arrays", "[\n", 40_000),
            ("open members", "\"a\": {\n", 40_000),
            ("unclosed members", "{\"a\":\"x\",\n", 20_000),
            ("tracebacks", "Traceback (most recent call last):\n", 80_000),
            ("curl continuations", "curl \\\n", 40_000),
            ("headers", "X-Header-Name: some value\n", 100_000),
            ("prefixed openers", "10:00:00 ERROR body: {\n", 4_000),
            ("prefixed arrays", "10:00:00 ERROR x: [\n", 4_000),
            ("html openers", "<html>\n", 20_000),
            ("xml openers", "<Error>\n", 20_000),
            (
                "brace runs",
                "{\"a{\"a{\"a{\"a{\"a{\"a{\"a{\"a{\"a{\"a\n",
                10_000,
            ),
            ("escaped openers", "msg=\"{\\\"a\\\": \\\"b\n", 10_000),
            (
                "java frames",
                "Exception in thread \"main\" java.lang.RuntimeException: x\n\tat a.B.c(B.java:1)\n",
                10_000,
            ),
            (
                "node frames",
                "TypeError: x\n    at f (/a.js:1:2) {\n",
                10_000,
            ),
            ("cli details", "ERROR: (Denied) no\nCode: Denied\n", 10_000),
            ("terraform box tops", "╷\n", 10_000),
            ("unclosed terraform boxes", "╷\n│ Error: x\n", 10_000),
            (
                "powershell records",
                "Invoke-RestMethod : {\"error\":\n",
                10_000,
            ),
            (
                "okhttp request lines",
                "D/OkHttp: --> GET https://a.example/b\n",
                10_000,
            ),
            ("error lines without frames", "Error: boom\n", 10_000),
            (
                "dotnet dumps",
                "StatusCode: 401, ReasonPhrase: 'x', Version: 1.1, Content: C, Headers:\n{\n",
                10_000,
            ),
        ];
        for (name, unit, n) in cases {
            let mut text = String::new();
            if name == "headers" {
                text.push_str("HTTP/1.1 401 Unauthorized\n");
            }
            let quarter = text.clone() + &unit.repeat(n / 4);
            let full = text + &unit.repeat(n);
            let (small, large) = (work_for(&quarter), work_for(&full));
            assert!(
                large <= 5 * small + 4096,
                "{name}: work grew from {small} to {large} for 4x the input"
            );
        }
    }

    #[test]
    fn a_body_over_the_cap_is_read_up_to_it_and_flagged() {
        let mut text = String::from(
            "{\"message\":\"missing permissions\",\"code\":\"missing.permissions\",\"status\":403,\"details\":[",
        );
        while text.len() < 3 * json::MAX_BODY {
            text.push_str("{\"entityId\":\"0f6d1a52-6c2b-4d7e-9a51-3c2f7b1e8d90\"},");
        }
        text.push_str("{}]}\n");
        let events = parse_chunk(&chunk(&text));
        let body = events.iter().find(|e| e.kind == EventKind::Body).unwrap();
        let get = |n: &str| body.field(n).map(|f| f.value.to_string());
        assert_eq!(get("body.code").as_deref(), Some("missing.permissions"));
        assert_eq!(get("body.truncated").as_deref(), Some("true"));
    }

    /// Multi-byte characters next to every byte of every format's sample:
    /// no parser may slice inside one.
    #[test]
    fn multibyte_characters_anywhere_never_panic() {
        let samples = [
            "HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Bearer error=\"invalid_token\"\n\n{\"error\":\"x\"}\n",
            "> GET /x HTTP/1.1\n> Host: a.example\n< HTTP/1.1 502 Bad Gateway\n<\n<html><title>502</title></html>\n",
            "error=invalid_grant&error_description=The+code%20expired\n",
            "msg=\"{\\\"error\\\":\\\"invalid_client\\\"}\"\n",
            "10:00 ERROR x: {\n10:00 ERROR x:   \"a\": 1\n10:00 ERROR x: }\n",
            "╷\n│ Error: failed: received HTTP status 401 with response: {\"error\":\"x\"}\n╵\n",
            "Invoke-RestMethod : {\"error\":\"x\"}\nAt line:1 char:1\n+ Invoke-RestMethod -Uri https://a.example/t -Method Post\n",
            "D/OkHttp: <-- 401 Unauthorized https://a.example/x (3ms)\nD/OkHttp: a: b\nD/OkHttp: \nD/OkHttp: {\"e\":1}\nD/OkHttp: <-- END HTTP\n",
            "Headers: {www-authenticate=[Bearer error=\"x\"], :status=[401]}\n",
            "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>&amp;&#x27;</Message></Error>\n",
            "<!DOCTYPE html><html><head><title>403 Forbidden</title></head></html>\n",
            "[1:1:1130/1.1:INFO:CONSOLE(0)] \"Failed to load resource: the server responded with a status of 401 ()\", source: http://a.example/x (0)\n",
            "StatusCode: 401, ReasonPhrase: 'x', Version: 1.1, Content: C, Headers:\n{\n  A: b\n}\n",
            "{\"level\":\"error\",\"msg\":\"failed: {\\\"error\\\":\\\"x\\\"} status code 401\"}\n",
        ];
        for sample in samples {
            let boundaries: Vec<usize> = (0..=sample.len())
                .filter(|&k| sample.is_char_boundary(k))
                .collect();
            for &k in &boundaries {
                for ch in ["é", "€", "😀", "\\é"] {
                    let text = format!("{}{ch}{}", &sample[..k], &sample[k..]);
                    let _ = parse_chunk(&chunk(&text));
                }
            }
        }
    }

    #[test]
    fn triggers_are_matched_without_case() {
        assert!(has_trigger(
            "requests.exceptions.HTTPError: x",
            &["exception"]
        ));
        assert!(!has_trigger("all good", &["error", "HTTP/"]));
    }

    #[test]
    fn free_text_with_colons_is_not_a_header() {
        assert!(kinds("Note: the admin console shows the user is locked\n").is_empty());
    }
}
