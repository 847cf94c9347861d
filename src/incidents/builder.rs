//! The incident builder: a state machine fed one chunk's events in input
//! order that hands out finished exchanges.
//!
//! It keeps a few open drafts. Each draft carries a summary (status, URL,
//! method, the kinds of events in it, its ties, whether anything in it
//! failed), so deciding where an event belongs looks at the summaries only,
//! never back at the events: the work per event is bounded, and a run of a
//! million adjacent lines costs a million small steps. A draft keeps at most
//! [`MAX_EVENTS`] events as evidence and notes when more were left out.
//!
//! Where an event goes, first match wins:
//! 1. a document parser's exchange (HAR entry) by its group;
//! 2. a draft it is tied to: the same request or correlation id (names in
//!    `rules/providers.toml`), or the same URL of a request still waiting
//!    for its outcome (concurrent requests interleaved in one log);
//! 3. the draft the previous event went to, when the event continues it;
//! 4. else a new draft.
//!
//! Boundaries: a successful exchange never takes in a later failure (only
//! its own headers and body, and an error about that body); an error line
//! that repeats one the draft already has is a new occurrence (so repeats
//! are counted, then folded); a new request after a complete one is a new
//! exchange (a retry), unless it restates the same exchange on one line
//! (urllib3's access line after http.client's debug lines).

use std::borrow::Cow;
use std::cell::RefCell;

use foldhash::HashMap;

use crate::facts::{Facts, Line};
use crate::incidents::{Incident, MAX_REPEAT_PLACES, classify, compare, context};
use crate::input::{Chunk, LineIndex, Loc, SourceId, Span};
use crate::parse::{Event, EventKind, Text, Value, jwt, logprefix};
use crate::providers::{Provider, Providers};

/// Events further apart than this many lines are not one exchange, unless
/// something ties them. Generous enough to span a Python traceback between
/// a printed body and its exception.
const MAX_GAP: usize = 15;
/// A body or an error joins a successful exchange only this close to it.
const SUCCESS_GAP: usize = 3;
/// How long a tied draft or a request still waiting for its outcome stays
/// open for events tied to it, in lines.
const TIE_WINDOW: usize = 500;
// `Builder::expire` skips drafts within `MAX_GAP` lines, none of which
// may expire.
const _: () = assert!(TIE_WINDOW >= MAX_GAP);
/// Open drafts at once; the oldest is finished when there would be more.
const MAX_OPEN: usize = 16;
/// Events kept per draft as evidence (the summary still sees every event).
pub const MAX_EVENTS: usize = 256;
/// Lines and bytes of an incident's excerpt.
const MAX_EXCERPT_LINES: usize = 2_000;
const MAX_EXCERPT_BYTES: usize = 1 << 20;
/// Values kept per fact name: a big body's array (thousands of
/// `body.details[].…`) would otherwise make one incident tens of MiB.
pub const MAX_FACT_VALUES: usize = 256;
/// Headers kept per message (the request's and the response's each): a
/// message with thousands of headers would otherwise fill the exchange's
/// [`MAX_EVENTS`] and push out its body. Later ones are counted, with a note.
pub const MAX_HEADERS: usize = 128;
/// Ties kept per draft.
const MAX_TIES: usize = 8;
/// Error codes kept per draft (a body lists a few forms of its error).
const MAX_CODES: usize = 16;
/// Capacity of a finished draft's vector of events kept for reuse.
const MAX_SPARE_EVENTS: usize = 16;

/// Whether a builder seals drafts kept open only for a later line with
/// their correlation id, to make a restart point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealTied {
    /// Wherever a restart is wanted; a line joining one later spoils the
    /// scan, which is then done again with [`SealTied::IdsNotAhead`].
    Always,
    /// Only when none of their ids is written in the lines that could
    /// join them (the search costs, so it is done only after a spoil).
    IdsNotAhead,
    Never,
}

/// What the builder hands out.
#[derive(Debug)]
pub enum Finished {
    Failure(Box<Incident>),
    Success(Success),
}

impl Finished {
    pub fn start(&self) -> (SourceId, usize) {
        match self {
            Finished::Failure(i) => (i.source, i.loc.span.start),
            Finished::Success(s) => (s.loc.source, s.loc.span.start),
        }
    }
}

/// A successful (2xx) exchange: what a retried failure is recovered by.
#[derive(Debug, Clone)]
pub struct Success {
    pub loc: Loc,
    /// As told (a JSON record's are pieces of its line: not copied).
    pub method: Option<Text>,
    /// Not every log names the URL of a success (`attempt 2 -> 200 OK`).
    pub url: Option<Text>,
    /// False for a response body with no error in it and no status told:
    /// some debug logs print bodies but never statuses (botocore's).
    pub status_known: bool,
}

/// Kinds of events present in a draft, as a bit set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Kinds(u16);

impl Kinds {
    fn bit(kind: EventKind) -> u16 {
        1 << match kind {
            EventKind::Request => 0,
            EventKind::Status => 1,
            EventKind::Header => 2,
            EventKind::Body => 3,
            EventKind::RequestBody => 4,
            EventKind::Exception => 5,
            EventKind::Record => 6,
            EventKind::Host => 7,
        }
    }
    fn add(&mut self, kind: EventKind) {
        self.0 |= Self::bit(kind);
    }
    fn has(self, kind: EventKind) -> bool {
        self.0 & Self::bit(kind) != 0
    }
    /// Every kind present is one of `kinds`.
    fn only(self, kinds: &[EventKind]) -> bool {
        let mask: u16 = kinds.iter().map(|k| Self::bit(*k)).fold(0, |a, b| a | b);
        self.0 & !mask == 0
    }
}

/// What one event says, read once. Its URL, method and ids are borrowed
/// from the event: a draft reads them where they are ([`Told`]), and
/// copies only what it keeps of an event it does not keep.
#[derive(Debug, Default)]
struct Summary<'e> {
    status: Option<f64>,
    url: Option<&'e str>,
    method: Option<&'e str>,
    /// Which of the event's fields tell the URL and the method.
    url_field: usize,
    method_field: usize,
    exception_type: Option<String>,
    exception_code: Option<String>,
    /// The error codes it states (see [`error_code_of`]).
    codes: Vec<Cow<'e, str>>,
    /// The providers it names, for an exception that names no URL or
    /// status.
    naming: Naming<'e>,
    /// It is an exception.
    exception: bool,
    /// The failing HTTP status (400–599) a body states in it (`status`,
    /// `statusCode`, Google's `error.code`).
    body_status: Option<f64>,
    ties: EventTies<'e>,
    failing: bool,
}

/// An event's ids (field index, value): most events carry none or one (a
/// JSON record's `request_id`), kept without a vector (its allocation was
/// most of what a record's id cost).
#[derive(Debug, Default)]
struct EventTies<'e> {
    first: Option<(usize, Cow<'e, str>)>,
    more: Vec<(usize, Cow<'e, str>)>,
}

impl<'e> EventTies<'e> {
    fn push(&mut self, tie: (usize, Cow<'e, str>)) {
        match self.first {
            None => self.first = Some(tie),
            Some(_) => self.more.push(tie),
        }
    }

    fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    fn iter(&self) -> impl Iterator<Item = &(usize, Cow<'e, str>)> {
        self.first.iter().chain(&self.more)
    }
}

impl<'e> Summary<'e> {
    fn of(event: &'e Event, providers: &Providers) -> Self {
        let mut s = Summary::default();
        if event.kind == EventKind::Exception {
            s.failing = true;
            s.exception = true;
        }
        for (i, f) in event.fields.iter().enumerate() {
            // A record's own keys (most fields of a JSON line) can only tie
            // the record: none is a name below, nor fails on its own
            // ([`field_fails`]), so they skip those comparisons.
            if let Some(key) = f.name.strip_prefix("record.") {
                if providers.is_tie_record_key(key) {
                    s.add_tie(i, &f.value);
                }
                continue;
            }
            match &*f.name {
                "status" => s.status = s.status.or(f.value.as_num()),
                "url" if s.url.is_none() => {
                    s.url = f.value.as_str();
                    s.url_field = i;
                }
                "method" if s.method.is_none() => {
                    s.method = f.value.as_str();
                    s.method_field = i;
                }
                "url" | "method" => {}
                "exception.type" => s.exception_type = Some(f.value.to_string()),
                "exception.code" => {
                    s.exception_code = Some(f.value.to_string());
                    s.add_code(&f.name, &f.value, providers);
                }
                name => {
                    if providers.is_tie(name) {
                        s.add_tie(i, &f.value);
                    }
                    // Codes are in a body's fields or a record's `error`
                    // (see [`error_code_of`]); headers and the rest are not.
                    if name.starts_with("body.") || name == "error" {
                        s.add_code(name, &f.value, providers);
                    }
                    if name == "body.error.code" || BODY_STATUS_FIELDS.contains(&name) {
                        s.body_status = s
                            .body_status
                            .or(f.value.as_num().filter(|n| (400.0..600.0).contains(n)));
                    }
                }
            }
            if !s.failing && field_fails(&f.name, &f.value, providers) {
                s.failing = true;
            }
        }
        // An exception that states the status of the call before it is
        // that call's own (an SDK's `ApiException: (401)` after urllib3's
        // line): only one without decides by the providers it names.
        if event.kind == EventKind::Exception && s.url.is_none() && s.status.is_none() {
            s.naming = Naming::of(event);
        }
        s
    }

    /// Takes the value of field `name` as an error code if it is one.
    fn add_code(&mut self, name: &str, value: &'e Value, providers: &Providers) {
        if let Some(code) = error_code_of(name, value, providers)
            && !self.codes.iter().any(|c| c.eq_ignore_ascii_case(&code))
        {
            self.codes.push(code);
        }
    }

    /// Takes the value of the event's field `field` as an id.
    fn add_tie(&mut self, field: usize, value: &'e Value) {
        let v = match value {
            Value::Str(v) => Cow::Borrowed(v.as_str()),
            number => Cow::Owned(number.to_string()),
        };
        if !v.is_empty() && v.len() <= 200 {
            self.ties.push((field, v));
        }
    }

    /// Whether it carries one of the ids of `d`.
    fn tied_to(&self, d: &Draft) -> bool {
        d.ties().any(|t| self.ties.iter().any(|(_, s)| s == t))
    }
}

/// The provider an absolute URL's host belongs to ([`Providers::index_of_host`]).
fn provider_of_url(url: &str, providers: &Providers) -> Option<usize> {
    super::fold::host_of(url).and_then(|host| providers.index_of_host(&host))
}

/// The providers an event names in its text ([`Providers::named_in`]),
/// read when a decision needs them: most events never meet a draft they
/// could conflict with that way.
#[derive(Debug, Default)]
struct Naming<'e> {
    texts: [Option<&'e str>; 2],
    named: std::cell::OnceCell<Vec<usize>>,
}

impl<'e> Naming<'e> {
    /// An exception's type (`google.auth.exceptions.RefreshError` names
    /// Google) and message, or a body.
    fn of(event: &'e Event) -> Self {
        let text = |name| event.field(name).and_then(|f| f.value.as_str());
        Naming {
            texts: match event.kind {
                EventKind::Exception => [text("exception.type"), text("exception.message")],
                EventKind::Body => [text("body"), None],
                _ => [None, None],
            },
            named: std::cell::OnceCell::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.texts.iter().all(Option::is_none)
    }

    fn named(&self, providers: &Providers) -> &[usize] {
        self.named.get_or_init(|| {
            let mut named = Vec::new();
            for text in self.texts.iter().flatten() {
                for p in providers.named_in(text) {
                    if !named.contains(&p) {
                        named.push(p);
                    }
                }
            }
            named
        })
    }

    /// Whether it names providers and `provider` is none of them.
    fn names_only_others(&self, provider: usize, providers: &Providers) -> bool {
        let named = self.named(providers);
        !named.is_empty() && !named.contains(&provider)
    }
}

/// The error code a field states, if it is one: an exception's or a
/// record's code, a body's at the paths whose values the incident's
/// `error.code` takes ([`classify::is_code_path`]), and a number under a
/// provider's prefix (Entra's `error_codes: [7000215]` as `AADSTS7000215`,
/// from `rules/providers.toml`). Only a token is a code: a number is a
/// status, and prose or an object is not a code.
fn error_code_of<'e>(name: &str, value: &'e Value, providers: &Providers) -> Option<Cow<'e, str>> {
    if let Value::Num(n) = value {
        let path = name.strip_prefix("body.")?;
        let (_, prefix) = providers
            .prefixed_codes()
            .find(|(pattern, _)| classify::has_shape(path, pattern))?;
        return Some(Cow::Owned(format!("{prefix}{}", Value::Num(*n))));
    }
    let code = value.as_str()?.trim();
    let is_code = !code.is_empty()
        && !code.starts_with(['{', '['])
        && !code.contains(char::is_whitespace)
        && code.parse::<f64>().is_err();
    let stated = match name {
        "exception.code" | "error" => true,
        _ => name
            .strip_prefix("body.")
            .is_some_and(classify::is_code_path),
    };
    // `com.amazon.coral.service#ExpiredTokenException`: botocore names the
    // code after `#`.
    (is_code && stated).then(|| Cow::Borrowed(code.rsplit('#').next().unwrap_or(code)))
}

/// The body fields that state the call's HTTP status as a number (Riot
/// Games nests it: `{"status": {"status_code": 403, …}}`; Todoist and
/// Supabase Auth say `http_code`; SDKs that log the response they got,
/// such as smartsheet-python-sdk, `{"response": {"statusCode": 429, …}}`);
/// a failing one makes the body a failure ([`field_fails`]) and its status
/// the draft's.
const BODY_STATUS_FIELDS: [&str; 7] = [
    "body.status",
    "body.statusCode",
    "body.status_code",
    "body.status.status_code",
    "body.http_code",
    "body.error.http_code",
    "body.response.statusCode",
];

/// Whether one field, on its own, says that something failed.
pub(crate) fn field_fails(name: &str, value: &Value, providers: &Providers) -> bool {
    let num_fails = || value.as_num().is_some_and(|n| (400.0..600.0).contains(&n));
    let text = || match value {
        Value::Str(s) => {
            let t = s.trim();
            !t.is_empty()
                && !matches!(t, "null" | "None" | "false" | "False" | "0")
                && !is_empty_container(t)
        }
        Value::Num(n) => *n != 0.0,
    };
    match name {
        "status" => num_fails(),
        name if BODY_STATUS_FIELDS.contains(&name) => num_fails(),
        // `code` is a status number in some bodies and an error code in others.
        "body.code" => match value {
            Value::Num(_) => num_fails(),
            Value::Str(s) if s.trim().parse::<f64>().is_ok() => num_fails(),
            Value::Str(_) => text(),
        },
        "body.ok" => matches!(value.to_string().as_str(), "false" | "False"),
        "exception.type" | "exception.message" | "error" => text(),
        // A message in some provider's own error wording, one stating a
        // transport failure (`self-signed certificate in certificate
        // chain`, `dial tcp …: connection refused`), a refusal of the
        // caller (`Invalid API key`, `Access denied`) or that is an error
        // status's reason phrase and nothing else (API Gateway's and
        // GitHub's `{"message": "Forbidden"}`, `{"message": "Not Found",
        // "documentation_url": …}`): no success says any. Django REST
        // framework and FastAPI say theirs as `detail`.
        "body.message" | "body.Message" | "body.detail" => value.as_str().is_some_and(|m| {
            providers.is_error_message(m)
                || crate::parse::is_transport(m)
                || crate::parse::states_refusal(m)
                || crate::parse::status_of_reason(m).is_some()
        }),
        // Read in place (a body may be big); a number is no HTML page.
        "body" => value
            .as_str()
            .is_some_and(|body| providers.is_html_error_page(body)),
        _ => {
            let Some(key) = name.strip_prefix("body.") else {
                return false;
            };
            let head = key.split('.').next().unwrap_or(key);
            (matches!(
                head,
                "error"
                    | "errors"
                    | "error_description"
                    | "errorCode"
                    | "errorSummary"
                    // An AWS Lambda function's error result (`{"errorType":
                    // …, "errorMessage": …}`), as invoke and its log print it.
                    | "errorType"
                    // Jira's ErrorCollection: `{"errorMessages": […], "errors": {}}`.
                    | "errorMessages"
                    // Google Maps web services' refusals (`{"error_message":
                    // …, "status": "REQUEST_DENIED"}`, sent with HTTP 200)
                    // and other bodies that name their error so.
                    | "error_message"
                    | "errorMessage"
                    | "error_codes"
                    | "fault"
                    | "__type"
                    | "Error"
                    | "Errors"
                    // Moodle's web service errors (`{"exception":
                    // "moodle_exception", "errorcode": "invalidtoken", …}`,
                    // sent with HTTP 200).
                    | "errorcode"
                    | "exception"
            ) || key.starts_with("Response.Error."))
                // Tencent Cloud API 3.0 wraps every answer in `Response`,
                // an error as `{"Response": {"Error": {"Code": …,
                // "Message": …}, "RequestId": …}}`.
                && text()
        }
    }
}

/// Whether `t` is an empty JSON array or object, however spaced
/// (Salesforce's successful create answers `"errors" : [ ]`).
fn is_empty_container(t: &str) -> bool {
    let inner = |open: char, close: char| {
        t.strip_prefix(open)
            .and_then(|t| t.strip_suffix(close))
            .is_some_and(|t| t.trim().is_empty())
    };
    inner('[', ']') || inner('{', '}')
}

/// Where a draft's URL, method or id is told: in one of its events, read
/// there (and the URL and method moved out when the draft finishes: most
/// drafts are successes, which need them only then), or a copy when that
/// event is not kept or the value is not text.
#[derive(Debug, Clone)]
enum Told {
    At { event: usize, field: usize },
    Copied(String),
}

#[derive(Debug, Default)]
struct Draft {
    events: Vec<Event>,
    /// Events seen but not kept (over [`MAX_EVENTS`]).
    dropped: usize,
    /// Header events kept, of the request and of the response, and those
    /// past [`MAX_HEADERS`] left out.
    headers: [usize; 2],
    headers_dropped: usize,
    kinds: Kinds,
    /// The line its first event starts on, from which its place is found.
    first_line: usize,
    last_line: usize,
    /// Where its last event starts, plus one (kept or not).
    reach: usize,
    status: Option<f64>,
    url: Option<Told>,
    method: Option<Told>,
    /// (type, code) of each exception event, to tell a repeat from a layer.
    exceptions: Vec<(Option<String>, Option<String>)>,
    /// The error codes its events state, to tell another failure's
    /// events from this one's (see [`Draft::conflicts`]).
    codes: Vec<String>,
    /// Its ids (read with [`Draft::ties`]); the vector is reused like
    /// `events`.
    ties: Vec<Told>,
    failing: bool,
    /// A request and its status were told on one line (an access log
    /// line): the index of that request in `events` (its URL is read there,
    /// not copied for every access line).
    access_request: Option<usize>,
    /// The document parser's exchange (HAR entry) this draft is.
    group: Option<usize>,
    /// Order of the last event added, to find the draft events continue.
    touched: u64,
}

impl Draft {
    fn has(&self, kind: EventKind) -> bool {
        self.kinds.has(kind)
    }

    fn url(&self) -> Option<&str> {
        self.told(self.url.as_ref())
    }

    fn method(&self) -> Option<&str> {
        self.told(self.method.as_ref())
    }

    /// Its ids.
    fn ties(&self) -> impl Iterator<Item = &str> {
        self.ties.iter().filter_map(|t| self.told(Some(t)))
    }

    fn told<'d>(&'d self, told: Option<&'d Told>) -> Option<&'d str> {
        match told? {
            Told::At { event, field } => {
                self.events.get(*event)?.fields.get(*field)?.value.as_str()
            }
            Told::Copied(text) => Some(text),
        }
    }

    /// Moves a told text out of its event: the draft is being finished.
    fn take_told(&mut self, told: Option<Told>) -> Option<Text> {
        match told? {
            Told::At { event, field } => {
                let f = self.events.get_mut(event)?.fields.get_mut(field)?;
                match std::mem::replace(&mut f.value, Value::Num(0.0)) {
                    Value::Str(text) => Some(text),
                    Value::Num(_) => None,
                }
            }
            Told::Copied(text) => Some(text.into()),
        }
    }

    /// Where [`Draft::add`] will keep `event`, when it keeps it (and does
    /// not only count it).
    fn place_of(&self, event: &Event) -> Option<usize> {
        if event.kind == EventKind::Header {
            let first = event.fields.first()?;
            if self.headers[usize::from(first.name.starts_with("request."))] >= MAX_HEADERS {
                return None;
            }
        }
        (self.events.len() < MAX_EVENTS).then_some(self.events.len())
    }

    fn is_success(&self) -> bool {
        !self.failing && self.status.is_some_and(|s| s < 400.0)
    }

    /// The same exchange may still be told again (before its body or error).
    fn restates(&self) -> bool {
        self.has(EventKind::Request)
            && !self.has(EventKind::Body)
            && !self.has(EventKind::Exception)
    }

    /// A one-line request and status next may tell this same exchange
    /// again: an access line after the debug lines of the exchange, or after
    /// an exception that gave the status but not the URL (an SDK's error,
    /// then urllib3's line for the same call).
    fn may_be_restated(&self) -> bool {
        (self.restates() && self.has(EventKind::Status))
            || (self.has(EventKind::Exception)
                && !self.has(EventKind::Request)
                && self.url.is_none()
                && self.status.is_some())
    }

    /// A request still waiting for its outcome.
    fn awaiting(&self) -> bool {
        self.has(EventKind::Request)
            && !self.has(EventKind::Status)
            && !self.has(EventKind::Exception)
    }

    /// Cheapest first, and no further than the first that differs: URLs
    /// compared cost most, and it runs for most events.
    fn conflicts(&self, s: &Summary, providers: &Providers) -> bool {
        matches!((self.status, s.status), (Some(a), Some(b)) if a != b)
            || self.other_error(s)
            || matches!((self.url(), s.url), (Some(a), Some(b)) if !same_resource(a, b))
            || matches!((self.method(), s.method), (Some(a), Some(b)) if !a.eq_ignore_ascii_case(b))
            || self.other_provider(s, providers)
            || self.other_host(s)
    }

    /// This draft is only a connection to a host so far (urllib3's
    /// `Starting new HTTPS connection (1): api.cac1.pure.cloud:443`), and
    /// the event is an exception for a URL on another host: another
    /// library's call (googleapiclient's `HttpError 403 when requesting
    /// https://www.googleapis.com/…`). A request is left to join it: through
    /// a proxy, the connection is to the proxy.
    fn other_host(&self, s: &Summary) -> bool {
        s.exception
            && self.url().is_none()
            && self.has(EventKind::Host)
            && s.url.and_then(super::fold::host_of).is_some_and(|host| {
                self.events
                    .iter()
                    .filter(|e| e.kind == EventKind::Host)
                    .filter_map(|e| e.field("url.host").and_then(|f| f.value.as_str()))
                    .any(|connected| !connected.eq_ignore_ascii_case(&host))
            })
    }

    /// The event is an exception that names no URL but names providers,
    /// and this draft's URL is another provider's: botocore's
    /// `ClientError: An error occurred (ExpiredToken) …` logged after a
    /// Genesys call's traceback is not that call's. Or the other way round:
    /// this draft names no URL but its exceptions and bodies name
    /// providers, and the event's URL is another's (STS's XML, then a
    /// traceback for a Genesys URL). (A text that names the other's
    /// provider among others stays: an SDK quoting an error another
    /// service gave it.)
    fn other_provider(&self, s: &Summary, providers: &Providers) -> bool {
        self.url_is_another_providers(&s.naming, providers)
            || (self.url().is_none()
                && self.failing
                && s.url
                    .and_then(|url| provider_of_url(url, providers))
                    .is_some_and(|p| {
                        // What its exceptions and bodies name, read now: a
                        // draft without a URL seldom meets an event with one.
                        let mut named = Vec::new();
                        for e in &self.events {
                            if matches!(e.kind, EventKind::Exception | EventKind::Body) {
                                for q in Naming::of(e).named(providers) {
                                    if !named.contains(q) {
                                        named.push(*q);
                                    }
                                }
                            }
                        }
                        !named.is_empty() && !named.contains(&p)
                    }))
    }

    /// Its URL is of a known provider, and `naming` names providers, not
    /// that one.
    fn url_is_another_providers(&self, naming: &Naming, providers: &Providers) -> bool {
        !naming.is_empty()
            && self
                .url()
                .and_then(|url| provider_of_url(url, providers))
                .is_some_and(|p| naming.names_only_others(p, providers))
    }

    /// The event states error codes and none is one of this draft's: the
    /// error of another call (an Okta record's `E0000011`, then MSAL's
    /// `invalid_client` logged next). One failure told by several layers
    /// names its code in each, or in some only; the forms of one code are
    /// among the codes read (an Entra error's `invalid_client`,
    /// `AADSTS7000215` and its number).
    fn other_error(&self, s: &Summary) -> bool {
        !self.codes.is_empty()
            && !s.codes.is_empty()
            && !s
                .codes
                .iter()
                .any(|c| self.codes.iter().any(|d| d.eq_ignore_ascii_case(c)))
    }

    /// An exception this draft already has: the same failure told again.
    fn repeats_exception(&self, s: &Summary) -> bool {
        self.exceptions.iter().any(|(t, c)| {
            (t.is_some() && *t == s.exception_type)
                || (c.is_some() && s.exception_code.is_some() && *c != s.exception_code)
        })
    }

    /// What deciding whether an event joins it reads: a copy without the
    /// events, for watching a draft closed early.
    fn summary(&self) -> Draft {
        Draft {
            kinds: self.kinds,
            status: self.status,
            url: self.url().map(|u| Told::Copied(u.to_string())),
            method: self.method().map(|m| Told::Copied(m.to_string())),
            exceptions: self.exceptions.clone(),
            codes: self.codes.clone(),
            ties: self.ties().map(|t| Told::Copied(t.to_string())).collect(),
            failing: self.failing,
            ..Draft::default()
        }
    }

    /// Whether a later line may still join it by a tie: by an id of a
    /// failure, or by the URL of a request waiting for its outcome. A
    /// success takes only its own headers by id, which come with it: held
    /// open for a tie's window, a log of successes with request ids kept a
    /// full set of drafts open, each weighed at every event, and no seam
    /// between chunks could restart for that long.
    fn held_by_ties(&self) -> bool {
        (!self.ties.is_empty() && !self.is_success()) || self.awaiting()
    }

    fn window(&self) -> usize {
        if self.held_by_ties() {
            TIE_WINDOW
        } else {
            MAX_GAP
        }
    }

    /// What an event joining it says (before [`Draft::add`] takes the
    /// event itself, which the summary borrows from), the event to be kept
    /// at `at` in its events if it is.
    fn take_summary(&mut self, kind: EventKind, s: Summary, at: Option<usize>) {
        self.status = self.status.or(s.status);
        let told = |text: &str, field| match at {
            Some(event) => Told::At { event, field },
            None => Told::Copied(text.to_string()),
        };
        if self.url.is_none() {
            self.url = s.url.map(|u| told(u, s.url_field));
        }
        if self.method.is_none() {
            self.method = s.method.map(|m| told(m, s.method_field));
        }
        for code in &s.codes {
            if self.codes.len() < MAX_CODES
                && !self.codes.iter().any(|c| c.eq_ignore_ascii_case(code))
            {
                self.codes.push(code.to_string());
            }
        }
        if kind == EventKind::Exception && self.exceptions.len() < MAX_EVENTS {
            self.exceptions.push((s.exception_type, s.exception_code));
        }
        for (n, (field, t)) in s.ties.iter().enumerate() {
            // The event's own earlier ids are not readable in it yet (it is
            // added after this), so a repeat among them is looked for there.
            if self.ties.len() < MAX_TIES
                && !self.ties().any(|k| k == t)
                && !s.ties.iter().take(n).any(|(_, k)| k == t)
            {
                // Read in the event when it is kept: no copy of each id.
                self.ties.push(match (at, t) {
                    (Some(event), Cow::Borrowed(_)) => Told::At {
                        event,
                        field: *field,
                    },
                    (_, t) => Told::Copied(t.to_string()),
                });
            }
        }
        self.failing |= s.failing;
    }

    fn add(&mut self, event: Event, lines: (usize, usize), touched: u64) {
        let (first_line, last_line) = lines;
        if self.kinds == Kinds::default() {
            self.group = event.group;
            self.first_line = first_line;
        }
        if event.kind == EventKind::Status
            && self
                .events
                .last()
                .is_some_and(|e| e.kind == EventKind::Request && e.span == event.span)
        {
            self.access_request = Some(self.events.len() - 1);
        }
        self.kinds.add(event.kind);
        self.last_line = self.last_line.max(last_line);
        self.reach = self.reach.max(event.span.start + 1);
        self.touched = touched;
        if event.kind == EventKind::Header {
            // A header the parser told without its value was left out there.
            let Some(first) = event.fields.first() else {
                self.headers_dropped += 1;
                return;
            };
            let kept = &mut self.headers[usize::from(first.name.starts_with("request."))];
            if *kept >= MAX_HEADERS {
                self.headers_dropped += 1;
                return;
            }
            *kept += 1;
        }
        if self.events.len() < MAX_EVENTS {
            self.events.push(event);
        } else {
            self.dropped += 1;
        }
    }
}

/// `url` without its query, fragment and trailing slashes.
pub(crate) fn without_query(url: &str) -> &str {
    let end = memchr::memchr2(b'?', b'#', url.as_bytes()).unwrap_or(url.len());
    url[..end].trim_end_matches('/')
}

/// The query of `url` (after `?`, before any fragment); `None` when it has
/// no `?`.
pub(crate) fn query_of(url: &str) -> Option<&str> {
    let end = memchr::memchr(b'#', url.as_bytes()).unwrap_or(url.len());
    let url = &url[..end];
    memchr::memchr(b'?', url.as_bytes()).map(|q| &url[q + 1..])
}

/// Whether two URLs of one resource may name the same call: both queries
/// written and different (`?page=1`, then `?page=2`) are two calls, the
/// pages of a listing or two searches; a URL written without its query (an
/// app's `GET /x -> 429` after urllib3's line) may be either.
fn queries_agree(a: Option<&str>, b: Option<&str>) -> bool {
    match (a.and_then(query_of), b.and_then(query_of)) {
        (Some(a), Some(b)) => a.is_empty() || b.is_empty() || a == b,
        _ => true,
    }
}

/// Two URLs name the same resource when one (minus query) is a suffix of the
/// other: a log may give a bare path where the exception gives the full URL.
pub(crate) fn same_resource(a: &str, b: &str) -> bool {
    // Borrowed, not copied: this runs for every open draft on every event.
    let (a, b) = (without_query(a), without_query(b));
    // Equal, or one a suffix of the other: the last bytes agree. Most
    // pairs differ there, and are told apart without comparing more.
    !a.is_empty()
        && a.as_bytes().last() == b.as_bytes().last()
        && (a == b || a.ends_with(b) || b.ends_with(a))
}

/// What a successful exchange may still take: its own headers and body,
/// and an error about that body, never a new request, status or record
/// ([`continues`] and [`joins_tied`] say when it takes those).
fn success_may_take(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::Header | EventKind::Body | EventKind::Exception
    )
}

/// Whether an exception says its call got no answer at all (refused,
/// unresolved, timed out connecting, no TLS): then it is not about the
/// answer a success holds, even one from the same URL (urllib3's `"GET
/// /v1/orders?page=56 HTTP/1.1" 200` and, on the next line, another call's
/// `ConnectionError: … Max retries exceeded with url: /v1/orders (Caused
/// by NewConnectionError(… Connection refused))` made one incident of
/// status 200 that no rule explained).
fn never_answered(event: &Event) -> bool {
    // Literals, not a regex: a regex's per-thread search caches took a
    // megabyte of peak memory on the distinct-failures log.
    const NO_ANSWER: &[&str] = &[
        "failed to establish a new connection",
        "connection refused",
        "econnrefused",
        "enotfound",
        "nameresolutionerror",
        "name or service not known",
        "nodename nor servname",
        "temporary failure in name resolution",
        "connecttimeout",
        "connect timed out",
        "connection timed out",
        "certificate_verify_failed",
    ];
    ["exception.message", "exception.type"].iter().any(|name| {
        event
            .field(name)
            .and_then(|f| f.value.as_str())
            .is_some_and(|t| {
                NO_ANSWER.iter().any(|needle| {
                    crate::rules::literals::find_ignore_ascii_case(t.as_bytes(), needle.as_bytes())
                        .is_some()
                }) || crate::parse::is_transport(t)
            })
    })
}

/// Whether `event` continues `d`, the draft the previous event went to.
fn continues(d: &Draft, event: &Event, s: &Summary, line: usize, cx: &ChunkCx) -> bool {
    if d.group.is_some() && event.kind != EventKind::Exception {
        // After a grouped exchange only a client error continues it (curl's
        // `curl: (35) …` after its trace), and curl's connection after its
        // command line.
        return event.kind == EventKind::Host
            && continues_curl_command(d, event, line.saturating_sub(d.last_line));
    }
    let gap = line.saturating_sub(d.last_line);
    if gap > MAX_GAP {
        return false;
    }
    if d.is_success() {
        // A success takes its own headers and body, and an error about that
        // body (a JSON decode error, an SDK raising on `ok: false`), never a
        // later failure.
        let own = success_may_take(event.kind)
            && match event.kind {
                // Not the body a warning or error record logs on a line
                // between (`ERROR sts: AssumeRole failed:` and STS's XML
                // after urllib3's line of another call that succeeded), nor
                // one that states a failing HTTP status of its own
                // (`ERROR gcs.client: {"error":{"code":403,…}}`). One an
                // error record logs on its own line may be its own (Slack's
                // 200 with `ok: false`, logged as an error).
                EventKind::Body => {
                    gap <= SUCCESS_GAP
                        && s.body_status.is_none()
                        && !cx.warns_between(d.last_line, line)
                }
                EventKind::Exception => {
                    ((d.has(EventKind::Body) && gap <= SUCCESS_GAP)
                        || (s.url.is_some() && d.url.is_some()))
                        && !never_answered(event)
                }
                _ => true,
            };
        if !own {
            return false;
        }
    }
    let fits = match event.kind {
        // A request continues what came before it (a curl command line and
        // its body, the connection line before it), or restates a request
        // that has no outcome yet (`curl -v`'s `> POST /x` after the
        // command line).
        EventKind::Request => {
            d.kinds.only(&[EventKind::Host, EventKind::RequestBody])
                || (d.restates() && !d.has(EventKind::Status) && s.url.is_some())
        }
        // Or the same status told again before the body (an app's `request
        // failed: 400 {…}` after urllib3's access line).
        EventKind::Status => {
            (!d.has(EventKind::Status) && !d.has(EventKind::Body))
                || (d.restates() && d.status.is_some())
        }
        EventKind::Header => gap <= 1,
        // Nor a body after a connection alone (its status is missing: the
        // body is another call's).
        EventKind::Body => {
            !d.has(EventKind::Body)
                && !d.kinds.only(&[EventKind::Host])
                && !cx.another_providers_body(d, event, line)
        }
        EventKind::RequestBody => !d.has(EventKind::RequestBody) && !d.has(EventKind::Status),
        // Not an HTTP status after a connection alone: the request and
        // response between (urllib3's `"GET /x HTTP/1.1" 403`) are missing,
        // so the status is another call's (googleapiclient's `Encountered
        // 403 Forbidden …` after urllib3 opened a connection for another).
        EventKind::Exception => {
            let status_without_its_exchange =
                s.status.is_some() && d.kinds.only(&[EventKind::Host]);
            !d.repeats_exception(s) && !status_without_its_exchange
        }
        EventKind::Record | EventKind::Host => false,
    };
    // Last, as it costs most (URLs compared) and most events are turned
    // away before it: a success takes no later request or record.
    fits && !d.conflicts(s, cx.providers)
}

/// Whether `event`, curl's connection (`* Connected to host (ip) port
/// 443`), is the one the curl command just before it opened: `d` is only
/// that command (its URL, headers and `-d` body, which `-v` does not show
/// again), nothing answered yet. The host may differ from the URL's: with
/// `-x`, curl connects to the proxy. Opened apart, the connection's draft
/// would close the command's before its `> GET` line.
fn continues_curl_command(d: &Draft, event: &Event, gap: usize) -> bool {
    gap <= 3
        && d.kinds.only(&[EventKind::Host, EventKind::RequestBody])
        && event.field("url.host").is_some()
        && d.events.iter().any(|e| {
            e.field("client")
                .is_some_and(|f| f.value.as_str() == Some("curl"))
        })
}

/// Whether an event tied to `d` (same id, or same URL while `d` waits for
/// its outcome) may join it.
fn joins_tied(d: &Draft, event: &Event, s: &Summary, providers: &Providers) -> bool {
    if d.is_success() && event.kind != EventKind::Header {
        return false;
    }
    let fits = match event.kind {
        EventKind::Status => !d.has(EventKind::Status),
        EventKind::Body => !d.has(EventKind::Body),
        EventKind::Exception => !d.repeats_exception(s),
        EventKind::Record | EventKind::Header => true,
        EventKind::Request => d.kinds.only(&[EventKind::Host, EventKind::Record]),
        EventKind::RequestBody | EventKind::Host => false,
    };
    // Last, as in `continues`.
    fits && !d.conflicts(s, providers)
}

/// The JWTs of a chunk, in order: (absolute offset, token).
pub(crate) type Jwts<'c> = Vec<(usize, &'c str)>;

/// What finishing a draft needs from its chunk.
pub(crate) struct ChunkCx<'c> {
    pub chunk: &'c Chunk,
    pub index: &'c LineIndex,
    pub providers: &'c Providers,
    pub jwts: Jwts<'c>,
    token_paths: RefCell<HashMap<Box<str>, bool>>,
    region_hits: RefCell<Option<RegionHits>>,
}

/// Where one provider's region domains are written in a stretch of a
/// chunk's text (see [`ChunkCx::region_domains_in`]).
#[derive(Debug, Default)]
struct RegionHits {
    /// Index of the provider.
    provider: usize,
    /// The stretch searched, relative to the chunk.
    from: usize,
    to: usize,
    /// Every occurrence in it, overlapping ones too: (start, region index,
    /// end), relative to the chunk, in order.
    hits: Vec<(usize, usize, usize)>,
}

/// Paths whose token-endpoint answer a chunk keeps, and the longest kept.
const MAX_TOKEN_PATHS: usize = 1024;
const MAX_TOKEN_PATH_LEN: usize = 256;

impl<'c> ChunkCx<'c> {
    /// Whether `event`, a body that starts on line `line`, is another
    /// provider's answer that a warning or error record logs after the
    /// failure `d` (`ERROR sts: AssumeRole failed:` and STS's XML after a
    /// Genesys call's trace): a record of its own comes between, and the
    /// body names providers, none of them that of `d`'s URL. A body right
    /// after its call may quote another service (a Genesys data action's
    /// backend answer): that one stays.
    fn another_providers_body(&self, d: &Draft, event: &Event, line: usize) -> bool {
        line > d.last_line + 1
            && d.url().is_some()
            && self.warns_between(d.last_line, line)
            && d.url_is_another_providers(&Naming::of(event), self.providers)
    }

    /// Whether a line after line `after` and before line `before` begins
    /// a log record at a warning level or worse ([`logprefix::warns`]).
    fn warns_between(&self, after: usize, before: usize) -> bool {
        (after + 1..before).any(|line| {
            self.index
                .line_text(&self.chunk.text, line)
                .is_some_and(logprefix::warns)
        })
    }

    pub fn new(chunk: &'c Chunk, index: &'c LineIndex, providers: &'c Providers) -> Self {
        let jwts = jwt::find_all(&chunk.text)
            .map(|(p, t)| (chunk.offset + p, t))
            .collect();
        ChunkCx {
            chunk,
            index,
            providers,
            jwts,
            token_paths: RefCell::default(),
            region_hits: RefCell::default(),
        }
    }

    /// [`Providers::is_token_path`], remembered per path: a log names the
    /// same few endpoints over and over, and every host of another region
    /// near a failure is asked about the path after it (its regexes were a
    /// tenth of what finishing a failure cost).
    pub fn is_token_path(&self, path: &str) -> bool {
        if path.len() > MAX_TOKEN_PATH_LEN {
            return self.providers.is_token_path(path);
        }
        if let Some(&known) = self.token_paths.borrow().get(path) {
            return known;
        }
        let answer = self.providers.is_token_path(path);
        let mut known = self.token_paths.borrow_mut();
        if known.len() >= MAX_TOKEN_PATHS {
            known.clear();
        }
        known.insert(path.into(), answer);
        answer
    }

    /// [`Providers::region_domains_in`] the chunk's text from `from` to
    /// `to` (relative to the chunk), starts relative to the chunk. What
    /// was found for one failure is kept for the next: their 32 KiB
    /// windows mostly overlap, and at ten times the failures searching
    /// each window anew was 2.5% of the run. Only the text past what was
    /// searched is searched, from the longest domain's length before it
    /// (an occurrence ending past it starts there or later).
    pub fn region_domains_in(
        &self,
        provider: &Provider,
        from: usize,
        to: usize,
    ) -> Vec<(usize, usize)> {
        let Some(p) = (self.providers.providers.iter()).position(|q| std::ptr::eq(q, provider))
        else {
            return Vec::new();
        };
        let text = &self.chunk.text;
        let found = |a: usize, b: usize| {
            (self
                .providers
                .region_domain_hits(provider, &text[a..b])
                .into_iter())
            .map(move |(k, at)| (a + at, k, a + at + provider.region[k].domain.len()))
        };
        let mut kept = self.region_hits.borrow_mut();
        match kept.as_mut() {
            Some(c) if c.provider == p && c.from <= from && from <= c.to => {
                if to > c.to {
                    let longest = provider.region.iter().map(|r| r.domain.len()).max();
                    let a = c.to.saturating_sub(longest.unwrap_or(0)).max(c.from);
                    let seen = c.to;
                    c.hits
                        .extend(found(text.floor_char_boundary(a), to).filter(|h| h.2 > seen));
                    c.hits.sort_unstable();
                    c.to = to;
                }
            }
            _ => {
                let mut hits: Vec<_> = found(from, to).collect();
                hits.sort_unstable();
                *kept = Some(RegionHits {
                    provider: p,
                    from,
                    to,
                    hits,
                });
            }
        }
        let Some(c) = kept.as_ref() else {
            return Vec::new();
        };
        // By start: each domain's occurrences left to right, not
        // overlapping each other, as a search for it alone finds them.
        let mut next_free = vec![0; provider.region.len()];
        let mut out = Vec::new();
        let first = c.hits.partition_point(|h| h.0 < from);
        for &(start, k, end) in c.hits[first..].iter().take_while(|h| h.0 < to) {
            if end <= to && start >= next_free[k] {
                next_free[k] = end;
                out.push((k, start));
            }
        }
        out
    }
}

/// The state machine: events of one chunk in, finished exchanges out.
pub struct Builder<'c> {
    cx: ChunkCx<'c>,
    open: Vec<Draft>,
    /// A request that may restate the last draft's exchange on one line, or
    /// an exception whose line may go on with a body: it is decided when
    /// the next event shows whether its status (the body) is on the same
    /// line.
    pending: Option<(Event, usize, usize)>,
    /// Error codes the next event placed states beyond its own fields:
    /// those of the body that a held exception's line goes on with.
    held_codes: Vec<String>,
    clock: u64,
    /// Finished exchanges not yet handed out, sorted by start: drafts
    /// finish out of order when several are open.
    done: Vec<Finished>,
    /// What the last finished failure said, while it is the last of `done`:
    /// a draft that says exactly the same is folded into it right away,
    /// without building its facts (a retry loop of identical lines).
    last_failure: Option<(Fingerprint, usize)>,
    /// Where the last event of any draft closed so far starts, plus one:
    /// a scan cannot restart at or before it, since an event after that
    /// place went with events before it.
    reach: usize,
    /// Whether [`Builder::seal`] may close drafts kept open only for a
    /// later line with the same correlation id (see [`Builder::can_seal`]).
    seal_tied: SealTied,
    /// Tied drafts sealed early (their summaries, without events), each
    /// with the last line on which an event could still have joined it.
    sealed: Vec<(Draft, usize)>,
    /// The earliest of those last lines (`usize::MAX` when none): before
    /// it no sealed draft expires, so the list is not walked to expire any.
    sealed_until: usize,
    /// A line carried the id of a draft sealed early: this scan is not
    /// what one that kept the draft open would give.
    spoiled: bool,
    /// Where an id of a draft open then was found written ahead (see
    /// [`Builder::ids_ahead`]).
    ids_ahead_at: std::cell::Cell<usize>,
    /// The last line of the chunk: a tied draft is sealed only when the
    /// whole stretch in which it could still be joined is in the chunk,
    /// so that every line that could join it is checked.
    last_line: usize,
    /// Steps taken (drafts looked at, events and fields handled): what
    /// tests measure to show the work per event is bounded.
    work: u64,
    /// Emptied vectors of events and of ids of finished drafts, for new
    /// drafts.
    spare: Vec<Vec<Event>>,
    spare_ties: Vec<Vec<Told>>,
    /// The line of the last event, from which the next one's is searched.
    line_hint: usize,
    /// Tests turn off the shortcut of [`Builder::only_successes_open`] to
    /// show it places every event where the search does.
    #[cfg(test)]
    search_always: bool,
}

/// Every field of a draft's events, without places.
type Fingerprint = Vec<(EventKind, Cow<'static, str>, Value)>;

fn fingerprint(d: &Draft) -> Fingerprint {
    d.events
        .iter()
        .flat_map(|e| {
            e.fields
                .iter()
                .map(move |f| (e.kind, f.name.clone(), f.value.clone()))
        })
        .collect()
}

/// Whether a draft says exactly what `print` says ([`fingerprint`]).
fn says_the_same(print: &Fingerprint, d: &Draft) -> bool {
    let mut said = print.iter();
    d.events
        .iter()
        .flat_map(|e| e.fields.iter().map(move |f| (e.kind, f)))
        .all(|(kind, f)| {
            said.next()
                .is_some_and(|(k, name, value)| *k == kind && *name == f.name && *value == f.value)
        })
        && said.next().is_none()
}

impl<'c> Builder<'c> {
    pub fn new(chunk: &'c Chunk, index: &'c LineIndex, providers: &'c Providers) -> Self {
        Builder {
            cx: ChunkCx::new(chunk, index, providers),
            open: Vec::new(),
            pending: None,
            held_codes: Vec::new(),
            clock: 0,
            done: Vec::new(),
            last_failure: None,
            reach: 0,
            seal_tied: SealTied::Always,
            sealed: Vec::new(),
            sealed_until: usize::MAX,
            spoiled: false,
            ids_ahead_at: std::cell::Cell::new(0),
            last_line: index
                .position(chunk.offset + chunk.text.len().saturating_sub(1))
                .0,
            work: 0,
            spare: Vec::new(),
            spare_ties: Vec::new(),
            line_hint: 0,
            #[cfg(test)]
            search_always: false,
        }
    }

    /// How it seals tied drafts (a scan is done again more carefully when
    /// a tied draft it sealed turns out to be joined later).
    pub fn sealing_tied(mut self, how: SealTied) -> Self {
        self.seal_tied = how;
        self
    }

    /// Takes one event; exchanges that can no longer grow are appended to
    /// `out`, in input order, once no earlier draft is still open.
    pub fn push(&mut self, event: Event, out: &mut Vec<Finished>) {
        let (first, last) = self.cx.index.lines_from(event.span, self.line_hint);
        self.line_hint = first;
        if let Some((held, hf, hl)) = self
            .pending
            .take_if(|(e, _, _)| e.kind == EventKind::Exception)
        {
            // `token acquisition failed: {"error":"invalid_client",…}`: the
            // error codes of the body its line goes on with are the
            // exception's, to tell whether it joins the last failure.
            let codes = if event.kind == EventKind::Body && (hf..=hl).contains(&first) {
                Summary::of(&event, self.cx.providers)
                    .codes
                    .into_iter()
                    .map(Cow::into_owned)
                    .collect()
            } else {
                Vec::new()
            };
            self.held_codes = codes;
            self.place(held, hf, hl);
        }
        if let Some((req, rf, rl)) = self.pending.take() {
            let same_line = event.kind == EventKind::Status && event.span == req.span;
            if same_line {
                let ss = Summary::of(&event, self.cx.providers);
                let sr = Summary::of(&req, self.cx.providers);
                self.check_sealed(&req, &sr, rf);
                self.check_sealed(&event, &ss, rf);
                // The same exchange told on one line by another layer (an
                // app's `GET /x -> 400` after urllib3's access line names
                // the URL differently); the same line again is a new attempt.
                let restated = self.current().is_some_and(|i| {
                    let d = &self.open[i];
                    d.may_be_restated()
                        && d.access_request.is_none_or(|r| {
                            let url = d.events[r].field("url").and_then(|f| f.value.as_str());
                            url != sr.url
                        })
                        && !d.conflicts(&sr, self.cx.providers)
                        && !d.conflicts(&ss, self.cx.providers)
                        && queries_agree(d.url(), sr.url)
                        && rf.saturating_sub(d.last_line) <= MAX_GAP
                });
                self.expire(rf);
                let i = match self.current().filter(|_| restated) {
                    Some(i) => i,
                    None => self.open_draft(),
                };
                self.clock += 1;
                let at = self.open[i].place_of(&req);
                self.open[i].take_summary(req.kind, sr, at);
                self.open[i].add(req, (rf, rl), self.clock);
                self.clock += 1;
                let at = self.open[i].place_of(&event);
                self.open[i].take_summary(event.kind, ss, at);
                self.open[i].add(event, (first, last), self.clock);
                self.hand_out(out);
                return;
            }
            self.place(req, rf, rl);
        }
        if event.kind == EventKind::Request
            && event.group.is_none()
            && self
                .current()
                .is_some_and(|i| self.open[i].may_be_restated())
        {
            self.pending = Some((event, first, last));
            return;
        }
        if event.kind == EventKind::Exception && event.group.is_none() {
            self.pending = Some((event, first, last));
            return;
        }
        self.place(event, first, last);
        self.hand_out(out);
    }

    /// Whether the builder holds nothing but one draft of events from
    /// `since` on: the state a builder that began at `since` would be in,
    /// so a scan may restart there and give the same exchanges.
    pub fn settled_since(&self, since: usize) -> bool {
        self.done.is_empty()
            && self.last_failure.is_none()
            && self.open.len() <= 1
            && self.can_seal(since)
    }

    /// Whether [`Builder::seal`] would leave it [`Builder::settled_since`]
    /// `since`: nothing but the hold on the last failure (kept in case the
    /// next draft repeats it), exchanges finished before `since`, and
    /// drafts before `since` kept open only for a line with their
    /// correlation id stand in the way. In a log of back-to-back failures
    /// that hold is never let go, and in one of failures with ids some
    /// draft is always open, so without sealing a scan finds no place to
    /// restart at.
    pub fn can_seal(&self, since: usize) -> bool {
        if self.pending.is_some() || self.reach > since {
            return false;
        }
        // Found only when a draft would be sealed: most are not (a success
        // has no ids to wait for), and this runs at every line.
        let current = std::cell::OnceCell::new();
        let mut after = 0;
        let mut before = false;
        // Events are in input order: the first starts first, the last at
        // `reach - 1`.
        self.open.iter().enumerate().all(|(i, d)| {
            if d.events.first().is_none_or(|e| e.span.start >= since) {
                after += 1;
                return after <= 1;
            }
            before = true;
            d.reach <= since
                && self.only_tied(d)
                && Some(i) != *current.get_or_init(|| self.current())
        }) && (!before || self.seal_tied != SealTied::IdsNotAhead || !self.ids_ahead(since))
    }

    /// Whether an id of a failure begun before `since` is written in the
    /// text after it, within the lines where a line carrying it could join
    /// the draft (a success takes only headers by id). Sealing such a draft
    /// would be found spoiled most of the time; its id written in another
    /// form (escaped) is still caught then. The first such place found is
    /// kept: up to it, sealing is not tried again.
    fn ids_ahead(&self, since: usize) -> bool {
        if since <= self.ids_ahead_at.get() {
            return true;
        }
        let text = &self.cx.chunk.text;
        let from = since.saturating_sub(self.cx.chunk.offset).min(text.len());
        let (since_line, _) = self.cx.index.position(since);
        let last = self
            .open
            .iter()
            .filter(|d| d.reach <= since)
            .map(|d| d.last_line + TIE_WINDOW)
            .max()
            .unwrap_or(since_line);
        let lines = last.saturating_sub(since_line);
        let end = memchr::memchr_iter(b'\n', &text.as_bytes()[from..])
            .nth(lines)
            .map_or(text.len(), |p| from + p + 1);
        let window = &text.as_bytes()[from..end];
        let found = self
            .open
            .iter()
            .filter(|d| !d.is_success() && d.reach <= since)
            .flat_map(|d| d.ties())
            .filter_map(|t| memchr::memmem::find(window, t.as_bytes()))
            .min();
        match found {
            Some(p) => {
                self.ids_ahead_at.set(self.cx.chunk.offset + from + p);
                true
            }
            None => false,
        }
    }

    /// Whether only a later line with one of `d`'s ids can still change
    /// it (it has its outcome and is no document parser's exchange; the
    /// caller checks that it is not the draft the next event may continue),
    /// and every line that could is in the chunk.
    fn only_tied(&self, d: &Draft) -> bool {
        self.seal_tied != SealTied::Never
            && !d.ties.is_empty()
            && !d.awaiting()
            && d.group.is_none()
            && d.last_line + TIE_WINDOW < self.last_line
    }

    /// Closes the drafts begun before `since` (see [`Builder::can_seal`]),
    /// lets go of the last failure and hands out every finished exchange.
    /// A failure just like it next is then folded by the collector (same
    /// key, same count and places) instead of here: the report is the
    /// same, only the shortcut of not building its facts is lost, once.
    /// A tied draft closed early is the same as one closed when its window
    /// ends unless a later line joins it: its ids are watched until then
    /// ([`Builder::spoiled`]).
    pub fn seal(&mut self, since: usize, out: &mut Vec<Finished>) {
        let mut i = 0;
        while i < self.open.len() {
            if self.open[i]
                .events
                .first()
                .is_some_and(|e| e.span.start < since)
            {
                let d = self.open.swap_remove(i);
                let until = d.last_line + TIE_WINDOW;
                self.sealed_until = self.sealed_until.min(until);
                self.sealed.push((d.summary(), until));
                self.close(d);
            } else {
                i += 1;
            }
        }
        self.last_failure = None;
        out.append(&mut self.done);
    }

    /// Whether an event carried the id of a draft sealed early, close
    /// enough to have joined it, and would have: the scan is to be done
    /// again without tied seals.
    pub fn spoiled(&self) -> bool {
        self.spoiled
    }

    /// Whether a line that could have joined a tied draft sealed early may
    /// still come: a scan that stops building watches on ([`Builder::watch`]).
    pub fn watching(&self) -> bool {
        !self.sealed.is_empty()
    }

    /// Checks an event against the ids of the tied drafts sealed early,
    /// once the scan has stopped building.
    pub fn watch(&mut self, event: &Event) {
        let (line, _) = self.cx.index.position(event.span.start);
        let s = Summary::of(event, self.cx.providers);
        self.check_sealed(event, &s, line);
    }

    /// Inlined for its first test: it runs for every event, and there is
    /// rarely a sealed draft to check.
    #[inline]
    fn check_sealed(&mut self, event: &Event, s: &Summary, line: usize) {
        if !self.sealed.is_empty() {
            self.check_sealed_ids(event, s, line);
        }
    }

    fn check_sealed_ids(&mut self, event: &Event, s: &Summary, line: usize) {
        if line > self.sealed_until {
            self.sealed.retain(|(_, until)| line <= *until);
            self.sealed_until = self
                .sealed
                .iter()
                .map(|(_, until)| *until)
                .min()
                .unwrap_or(usize::MAX);
        }
        if !s.ties.is_empty()
            && self
                .sealed
                .iter()
                .any(|(d, _)| s.tied_to(d) && joins_tied(d, event, s, self.cx.providers))
        {
            self.spoiled = true;
        }
    }

    /// Steps taken so far (see the field).
    pub fn work(&self) -> u64 {
        self.work
    }

    /// Finishes every open draft: the chunk is over.
    pub fn finish(&mut self, out: &mut Vec<Finished>) {
        if let Some((req, f, l)) = self.pending.take() {
            self.place(req, f, l);
        }
        let open = std::mem::take(&mut self.open);
        for d in open {
            self.close(d);
        }
        out.append(&mut self.done);
    }

    /// Index of the draft the last event went to.
    fn current(&self) -> Option<usize> {
        // Each event added takes a new `clock`: the draft touched at the
        // current one, while open, is that draft, and most often the newest
        // (looked for from the end, without weighing every open draft).
        if let Some(i) = self.open.iter().rposition(|d| d.touched == self.clock) {
            return Some(i);
        }
        self.open
            .iter()
            .enumerate()
            .max_by_key(|(_, d)| d.touched)
            .map(|(i, _)| i)
    }

    fn open_draft(&mut self) -> usize {
        if self.open.len() >= MAX_OPEN {
            let oldest = self
                .open
                .iter()
                .enumerate()
                .min_by_key(|(_, d)| d.touched)
                .map(|(i, _)| i)
                .unwrap_or(0);
            let d = self.open.swap_remove(oldest);
            self.close(d);
        }
        self.open.push(Draft {
            events: self.spare.pop().unwrap_or_default(),
            ties: self.spare_ties.pop().unwrap_or_default(),
            ..Draft::default()
        });
        self.open.len() - 1
    }

    /// Finishes drafts that nothing can reach any more from `line` on.
    fn expire(&mut self, line: usize) {
        let mut i = 0;
        while i < self.open.len() {
            let d = &self.open[i];
            // No window is shorter than `MAX_GAP`: most drafts are within
            // it, and their window is not worked out.
            if d.group.is_none() && line > d.last_line + MAX_GAP && line > d.last_line + d.window()
            {
                let d = self.open.swap_remove(i);
                self.close(d);
            } else {
                i += 1;
            }
        }
    }

    fn place(&mut self, event: Event, first: usize, last: usize) {
        self.work += 1 + self.open.len() as u64;
        self.expire(first);
        let mut s = Summary::of(&event, self.cx.providers);
        for code in self.held_codes.drain(..) {
            if !s.codes.iter().any(|c| c.eq_ignore_ascii_case(&code)) {
                s.codes.push(Cow::Owned(code));
            }
        }
        self.check_sealed(&event, &s, first);
        let before = self.current().map(|i| self.open[i].touched);
        let target = self.pick(&event, &s, first);
        let i = match target {
            Some(i) => i,
            None => self.open_draft(),
        };
        self.clock += 1;
        let at = self.open[i].place_of(&event);
        self.open[i].take_summary(event.kind, s, at);
        self.open[i].add(event, (first, last), self.clock);
        // A draft that stopped being the current one can only still grow
        // by what ties to it; held by nothing, it is finished now.
        if let Some(b) = before.and_then(|t| self.open.iter().position(|d| d.touched == t))
            && !self.open[b].held_by_ties()
        {
            let d = self.open.swap_remove(b);
            self.close(d);
        }
    }

    fn pick(&self, event: &Event, s: &Summary, line: usize) -> Option<usize> {
        if let Some(g) = event.group {
            return self.open.iter().position(|d| d.group == Some(g));
        }
        // The commonest case, a new exchange while only successes are open
        // (the one the previous line made, most often): none can take it
        // (continued, a success takes only its own; by id or URL, only its
        // headers: `continues`, `joins_tied`), so the search below would
        // find none.
        if !success_may_take(event.kind) && self.only_successes_open() {
            return None;
        }
        // On the stack: this runs for most events (at most `MAX_OPEN` drafts).
        let newest_first = || {
            let n = self.open.len();
            let mut order = [0; MAX_OPEN];
            for (i, slot) in order[..n].iter_mut().enumerate() {
                *slot = i;
            }
            order[..n].sort_by_key(|&i| std::cmp::Reverse(self.open[i].touched));
            order.into_iter().take(n)
        };
        if !s.ties.is_empty()
            && let Some(i) = newest_first().find(|&i| {
                let d = &self.open[i];
                d.group.is_none() && s.tied_to(d) && joins_tied(d, event, s, self.cx.providers)
            })
        {
            return Some(i);
        }
        let current = self.current();
        if let Some(i) = current
            && continues(&self.open[i], event, s, line, &self.cx)
        {
            return Some(i);
        }
        if let Some(url) = s.url
            && matches!(
                event.kind,
                EventKind::Exception | EventKind::Status | EventKind::Record
            )
        {
            return newest_first().find(|&i| {
                let d = &self.open[i];
                // A grouped exchange (curl's) takes only an error by URL.
                Some(i) != current
                    && (d.group.is_none() || event.kind == EventKind::Exception)
                    && d.awaiting()
                    && d.url().is_some_and(|u| same_resource(u, url))
                    && joins_tied(d, event, s, self.cx.providers)
            });
        }
        None
    }

    /// Whether every open draft is a success ([`success_may_take`]).
    fn only_successes_open(&self) -> bool {
        #[cfg(test)]
        if self.search_always {
            return false;
        }
        self.open.iter().all(Draft::is_success)
    }

    /// Hands out finished exchanges that no open draft precedes.
    fn hand_out(&mut self, out: &mut Vec<Finished>) {
        if self.done.is_empty() {
            return;
        }
        let oldest_open = self
            .open
            .iter()
            .filter_map(|d| d.events.first().map(|e| e.span.start))
            .chain(self.pending.as_ref().map(|(e, _, _)| e.span.start))
            .min()
            .unwrap_or(usize::MAX);
        let mut ready = self
            .done
            .iter()
            .take_while(|f| f.start().1 < oldest_open)
            .count();
        // The last failure stays while later drafts may repeat it.
        if let Some((_, at)) = &self.last_failure
            && self.done[..ready].iter().any(|f| f.start().1 == *at)
        {
            ready = self.done.iter().take_while(|f| f.start().1 < *at).count();
        }
        if ready == self.done.len() {
            out.append(&mut self.done);
        } else {
            out.extend(self.done.drain(..ready));
        }
    }

    fn close(&mut self, mut d: Draft) {
        // A failure is read whole: its records' members left out are read
        // again (ids in `d` that name their fields are not read after this).
        if d.failing {
            for e in d.events.iter_mut().filter(|e| e.members_left_out) {
                if let Some(all) = crate::parse::record::all_fields(self.cx.chunk, e) {
                    e.fields = all;
                }
                e.members_left_out = false;
            }
        }
        self.reach = self.reach.max(d.reach);
        self.work += d
            .events
            .iter()
            .map(|e| 1 + e.fields.len() as u64)
            .sum::<u64>();
        if d.failing && !d.events.is_empty() {
            if let Some((last, at)) = &self.last_failure
                && says_the_same(last, &d)
                && let Some(Finished::Failure(prev)) = self
                    .done
                    .iter_mut()
                    .find(|f| matches!(f, Finished::Failure(i) if i.loc.span.start == *at))
                && d.events[0].span.start >= prev.end
            {
                let start = d.events.iter().map(|e| e.span.start).min().unwrap_or(0);
                let end = d.events.iter().map(|e| e.span.end).max().unwrap_or(start);
                prev.repeat_count += 1;
                if prev.repeats.len() < MAX_REPEAT_PLACES {
                    prev.repeats.push(
                        self.cx
                            .index
                            .loc(self.cx.chunk.source, Span::new(start, start)),
                    );
                }
                prev.end = prev.end.max(end);
                prev.end_line = prev.end_line.max(d.last_line);
                self.reuse(d.events, d.ties);
                return;
            }
            // Copied only for a failure finished: a repeat is compared in place.
            let print = fingerprint(&d);
            if let Some(f) = finish(&self.cx, &mut d) {
                self.last_failure = Some((print, f.start().1));
                self.add_done(f);
            }
            self.reuse(d.events, d.ties);
            return;
        }
        if let Some(f) = finish(&self.cx, &mut d) {
            self.add_done(f);
            self.last_failure = None;
        }
        self.reuse(d.events, d.ties);
    }

    /// Adds a finished exchange where it goes in `done` (after those that
    /// start at the same place): it is kept sorted, not sorted at each event.
    fn add_done(&mut self, f: Finished) {
        let start = f.start();
        let at = self.done.partition_point(|d| d.start() <= start);
        self.done.insert(at, f);
    }

    /// Keeps a finished draft's vectors of events and of ids for a later
    /// draft (an allocation less per exchange, two with an id), unless
    /// they grew big.
    fn reuse(&mut self, mut events: Vec<Event>, mut ties: Vec<Told>) {
        if self.spare.len() < MAX_OPEN && events.capacity() <= MAX_SPARE_EVENTS {
            events.clear();
            self.spare.push(events);
        }
        if self.spare_ties.len() < MAX_OPEN && ties.capacity() > 0 {
            ties.clear();
            self.spare_ties.push(ties);
        }
    }
}

/// A finished draft: a failure becomes an incident, a 2xx (or a response
/// body with no error and no status) a success; anything else (a request
/// with no outcome, a 3xx) is dropped.
/// Its events are moved out, the vector left to be reused.
fn finish(cx: &ChunkCx, d: &mut Draft) -> Option<Finished> {
    if d.events.is_empty() {
        return None;
    }
    let source = cx.chunk.source;
    let first = d.events.iter().map(|e| e.span.start).min()?;
    let last = d.events.iter().map(|e| e.span.end).max()?;
    if !d.failing {
        let status_known = match d.status {
            Some(status) if (200.0..300.0).contains(&status) => true,
            Some(_) => return None,
            // A response body alone, with no error in it.
            None if d.has(EventKind::Body)
                && d.kinds.only(&[EventKind::Body, EventKind::Header]) =>
            {
                false
            }
            None => return None,
        };
        let (method, url) = (d.method.take(), d.url.take());
        return Some(Finished::Success(Success {
            loc: loc_from(cx, d.first_line, Span::new(first, last)),
            method: d.take_told(method),
            url: d.take_told(url),
            status_known,
        }));
    }
    let kept = d.events.len();
    let mut facts = Facts::default();
    let mut capped: Vec<Cow<'static, str>> = Vec::new();
    // Moved, not copied: the draft is done with them.
    for e in d.events.drain(..) {
        for f in e.fields {
            let told = facts.get(&f.name);
            // A value told again (a restated request, a chain's causes) once.
            if told.iter().any(|v| v.value == f.value) {
                continue;
            }
            if told.len() >= MAX_FACT_VALUES {
                if !capped.contains(&f.name) {
                    capped.push(f.name);
                }
                continue;
            }
            facts.push(f.name, f.value, Some(cx.index.loc(source, f.span)));
        }
    }
    let loc = loc_from(cx, d.first_line, Span::new(first, first));
    let (excerpt, cut) = excerpt(cx.chunk, cx.index, first, last);
    let mut notes = Vec::new();
    if d.dropped > 0 || cut {
        let all = kept + d.dropped;
        let mut note = format!(
            "evidence capped: {} event(s) and lines {}–{} kept",
            kept,
            excerpt.number,
            excerpt.number + excerpt.text.matches('\n').count()
        );
        if d.dropped > 0 {
            note.push_str(&format!(
                " ({all} events in this exchange, up to line {})",
                d.last_line
            ));
        }
        notes.push(note);
    }
    if d.headers_dropped > 0 {
        notes.push(format!(
            "headers capped: the first {MAX_HEADERS} headers of each message kept, {} more left out",
            d.headers_dropped
        ));
    }
    if !capped.is_empty() {
        notes.push(format!(
            "evidence capped: the first {MAX_FACT_VALUES} values of {} kept",
            capped[..capped.len().min(4)].join(", ") + if capped.len() > 4 { ", …" } else { "" }
        ));
    }
    // A body cut short is read as far as it goes: say so, as the fact
    // alone is read by no rule (issue 12: a cap reached gives a note).
    if !facts.get("body.truncated").is_empty() {
        notes.push(format!(
            "body cut short: read as far as it goes (it ends early in the input, passes the {} KiB body cap, or nests deeper than {} levels)",
            crate::parse::json::MAX_BODY >> 10,
            crate::parse::json::MAX_DEPTH
        ));
    }
    facts.push(
        "text",
        Value::Str(excerpt.text.clone().into()),
        Some(cx.index.loc(
            source,
            Span::new(excerpt.offset, excerpt.offset + excerpt.text.len()),
        )),
    );
    context::incident_time(&mut facts, cx.chunk, cx.index, first);
    context::token_facts(&mut facts, cx, first, &excerpt);
    classify::classify(&mut facts, cx);
    compare::cross_facts(&mut facts, cx, first, &excerpt);
    Some(Finished::Failure(Box::new(Incident {
        source,
        loc,
        facts,
        excerpt,
        repeats: Vec::new(),
        repeat_count: 0,
        recovered: None,
        notes,
        diagnosed: None,
        end: last,
        end_line: d.last_line,
    })))
}

/// The place of `span` in the chunk, searched from `line` on (the first
/// line of its draft).
fn loc_from(cx: &ChunkCx, line: usize, span: Span) -> Loc {
    let (line, column) = cx.index.position_from(span.start, line);
    Loc {
        source: cx.chunk.source,
        span,
        line,
        column,
    }
}

/// Whole lines from `first` to `last`, capped in lines and bytes; whether
/// it was cut.
fn excerpt(chunk: &Chunk, index: &LineIndex, first: usize, last: usize) -> (Line, bool) {
    let text = &chunk.text;
    let rel_start = text[..first - chunk.offset]
        .rfind('\n')
        .map_or(0, |p| p + 1);
    let rel_end = text[last - chunk.offset..]
        .find('\n')
        .map_or(text.len(), |p| last - chunk.offset + p);
    let mut end = rel_end.min(rel_start + MAX_EXCERPT_BYTES);
    if let Some((n, _)) = text[rel_start..end]
        .match_indices('\n')
        .nth(MAX_EXCERPT_LINES - 1)
    {
        end = rel_start + n;
    }
    let end = text.floor_char_boundary(end);
    (
        Line {
            source: chunk.source,
            offset: chunk.offset + rel_start,
            number: index.position(chunk.offset + rel_start).0,
            text: text[rel_start..end].to_string(),
        },
        end < rel_end,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Chunk;

    /// An error member that is empty, however spaced, says no error.
    #[test]
    fn an_empty_error_member_does_not_fail() {
        let providers = crate::rules::load::load(&crate::rules::builtin_sources()).providers;
        let fails = |name: &str, text: &str| {
            field_fails(name, &Value::Str(text.to_string().into()), &providers)
        };
        for empty in ["[]", "[ ]", "{ }", " {\n } ", "null"] {
            assert!(!fails("body.errors", empty), "{empty:?}");
        }
        assert!(fails("body.errors", "[ {\"message\": \"x\"} ]"));
        assert!(fails("body.error", "[x]"));
    }

    /// A body's `message` fails when a provider's own error wording says
    /// it, or a transport failure; any other message is just a message.
    #[test]
    fn a_body_message_in_provider_wording_fails() {
        let providers = crate::rules::load::load(&crate::rules::builtin_sources()).providers;
        let fails = |name: &str, text: &str| {
            field_fails(name, &Value::Str(text.to_string().into()), &providers)
        };
        assert!(fails("body.message", "Missing Authentication Token"));
        assert!(fails(
            "body.Message",
            "The security token included in the request is expired"
        ));
        assert!(!fails("body.message", "ok"));
        assert!(!fails("body.message", "Created 3 users"));
        // A transport failure passed on as a body's message.
        assert!(fails(
            "body.message",
            "request to https://api.example.com/v1 failed, reason: self-signed certificate in certificate chain"
        ));
        assert!(fails(
            "body.message",
            "dial tcp 10.1.2.3:443: connect: connection refused"
        ));
        assert!(!fails("message", "Missing Authentication Token"));
        // A message (or a `detail`) that is an error status's reason phrase
        // and nothing more: API Gateway, GitHub, FastAPI.
        assert!(fails("body.message", "Forbidden"));
        assert!(fails("body.message", "Internal server error"));
        assert!(fails("body.detail", "Not Found"));
        assert!(!fails("body.message", "Accepted"));
        assert!(!fails("body.detail", "Not Found in cache, fetched"));
        // A Lambda function's error result.
        assert!(fails("body.errorType", "CredentialsProviderError"));
        // A Maps web service's refusal, sent with 200; an empty one is none.
        assert!(fails(
            "body.error_message",
            "This API project is not authorized to use this API."
        ));
        assert!(!fails("body.error_message", ""));
        assert!(!fails("body.errorMessage", "null"));
    }

    /// Every fixture and field case (and the logs named in
    /// `FAULTLINE_TEST_LOGS`), built with and without the shortcut for
    /// events no open success can take: the same exchanges, handed out at
    /// the same events, and the same answers on where a scan may restart.
    #[test]
    fn the_shortcut_past_open_successes_places_events_as_the_search_does() {
        let providers = crate::rules::load::load(&crate::rules::builtin_sources()).providers;
        let texts = crate::test_corpus::fixture_and_field_texts()
            .into_iter()
            .chain(crate::test_corpus::named_test_logs());
        let mut taken = 0;
        for text in texts {
            let chunk = Chunk {
                source: 0,
                offset: 0,
                first_line: 1,
                text,
            };
            let index = LineIndex::new(&chunk);
            let build = |search_always: bool| {
                let mut b = Builder::new(&chunk, &index, &providers);
                b.search_always = search_always;
                let (mut said, mut out, mut shortcuts) = (Vec::new(), Vec::new(), 0);
                for event in crate::parse::parse_chunk(&chunk) {
                    let start = event.span.start;
                    shortcuts += usize::from(
                        !success_may_take(event.kind)
                            && event.group.is_none()
                            && b.open.iter().all(Draft::is_success),
                    );
                    b.push(event, &mut out);
                    said.extend(out.drain(..).map(|f| format!("{f:?}")));
                    said.push(format!(
                        "after {start}: settled {} can seal {}",
                        b.settled_since(start),
                        b.can_seal(start)
                    ));
                }
                b.finish(&mut out);
                said.extend(out.drain(..).map(|f| format!("{f:?}")));
                (said, shortcuts)
            };
            let ((searched, _), (short, shortcuts)) = (build(true), build(false));
            assert_eq!(
                searched,
                short,
                "{}",
                &chunk.text[..chunk.text.len().min(300)]
            );
            taken += shortcuts;
        }
        // The cases take it: they have new exchanges after successes.
        assert!(taken > 0);
    }
}
