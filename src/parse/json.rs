//! JSON bodies found anywhere in text: one line or pretty-printed over many,
//! strict JSON, a Python dict repr (`{'error': 'invalid_grant', 'ok': False}`)
//! or Node's `util.inspect` output (`{ error: 'invalid_client', n: undefined }`),
//! with the span of every key and value.
//!
//! Hand-written rather than nom: the grammar is tiny, and recording a span for
//! every node is simplest with direct byte positions.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt::Write as _;

use crate::input::Span;
use crate::providers::RecordTies;

use super::{Ctx, EventKind, Field, LineParser, Lines, SharedText, Value};

/// What Guzzle appends to a body it cut short in a message.
const GUZZLE_CUT: &str = " (truncated...)";

/// Nesting deeper than this is not parsed, so hostile input cannot exhaust
/// the stack: a container past it is skipped to its close, kept as its text,
/// and the body flagged `body.truncated` (the rest is read as usual).
pub const MAX_DEPTH: usize = 64;
/// A body is read up to this many bytes: error bodies are small, and a
/// runaway candidate must not make parsing quadratic. A larger one is read
/// up to the cap and flagged `body.truncated`.
pub const MAX_BODY: usize = 1 << 20;
/// Items of one array flattened into facts.
pub const MAX_ARRAY_ITEMS: usize = 256;
/// Line breaks a string may span when a paste wrapped it.
const MAX_WRAPS: usize = 3;
/// A line shorter than this was not wrapped: pastes wrap at 72 columns or
/// more, and indentation or a prefix can come before the string.
const MIN_WRAPPED_LINE: usize = 60;

#[derive(Debug, Clone)]
pub enum Json<'a> {
    Object(Vec<(Node<'a>, Node<'a>)>),
    Array(Vec<Node<'a>>),
    /// Borrowed from the text unless it had escapes (most have none).
    Str(Cow<'a, str>),
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
            Json::Str(s) => Value::Str(s.to_string().into()),
            Json::Num(n) => Value::Num(*n),
            Json::Bool(b) => Value::Str(b.to_string().into()),
            Json::Null => Value::Str("null".into()),
            _ => Value::Str(self.raw.into()),
        }
    }

    /// The span to highlight: a string's content without its quotes.
    pub fn value_text(&self) -> &'a str {
        match self.json {
            Json::Str(_) => unquoted(self.raw),
            _ => self.raw,
        }
    }
}

/// A string literal's text without its quotes (all of it when it has none).
fn unquoted(raw: &str) -> &str {
    // Byte tests, not `char` patterns: every value of a record comes here.
    let quote = |b: &u8| matches!(b, b'"' | b'\'' | b'`');
    let bytes = raw.as_bytes();
    if bytes.len() >= 2 && bytes.first().is_some_and(quote) && bytes.last().is_some_and(quote) {
        &raw[1..raw.len() - 1]
    } else if bytes.len() >= 3
        && bytes[0] == b'u'
        && quote(&bytes[1])
        && bytes.last().is_some_and(quote)
    {
        // Python 2's `u'…'`.
        &raw[2..raw.len() - 1]
    } else {
        raw
    }
}

/// A JSON value read flat: every value in document order, a container
/// before what it holds, each with the key it sits at. Arrays keep their
/// first [`MAX_ARRAY_ITEMS`] items, as many as are ever flattened. A record
/// line is read this way ([`Flat::strict`]): one vector and strings
/// borrowed from the line, where a [`Node`] tree takes a vector per
/// container and the record's walk a second pass.
#[derive(Debug)]
pub struct Flat<'a> {
    items: Vec<Item<'a>>,
    /// Two bits per root key, one in each filter (see [`key_bits`]): most
    /// keys a record is asked for are not in it, and a clear bit says so
    /// without a scan.
    root_keys: KeyBits,
    /// Per bit of the first filter, the first root member with it: a key that
    /// is there is found from it, not by a scan from the first member (a
    /// record is asked for sixteen keys). [`NO_FIRST`] when that member is
    /// past item 254: a scan from the first member finds it. A byte, not a
    /// `u32`, keeps the `Flat` small to move: it is moved twice a record.
    first_with_bit: [u8; 64],
}

/// Its items vector is kept for the next line read ([`Flat::strict`]):
/// a new one for each record line, and its release, took 220 instructions
/// a record.
impl Drop for Flat<'_> {
    fn drop(&mut self) {
        keep_spare(std::mem::take(&mut self.items));
    }
}

thread_local! {
    /// An emptied items vector for [`Flat::strict`] to read into.
    static SPARE_ITEMS: Cell<Vec<Item<'static>>> = const { Cell::new(Vec::new()) };
}

/// Keeps `items` (emptied) for the next [`Flat::strict`], unless it is
/// big: a huge line's would be memory held for nothing.
fn keep_spare(items: Vec<Item>) {
    if items.capacity() <= 64 {
        SPARE_ITEMS.set(emptied(items));
    }
}

/// `items` emptied, as a vector of items borrowed for any lifetime: the
/// same allocation (collected in place, the items being of one layout).
fn emptied<'b>(mut items: Vec<Item>) -> Vec<Item<'b>> {
    items.clear();
    items.into_iter().map_while(|_| None).collect()
}

/// In [`Flat::first_with_bit`]: scan from the first member.
const NO_FIRST: u8 = u8::MAX;

#[derive(Debug)]
struct Item<'a> {
    /// The member's key, unescaped; empty for the root and array items.
    key: Cow<'a, str>,
    raw: &'a str,
    kind: Kind<'a>,
    /// One past the last item inside this one.
    end: usize,
}

/// What a [`Flat`] value is; a container's items follow it.
#[derive(Debug, PartialEq)]
pub enum Kind<'a> {
    Object,
    Array,
    /// Borrowed from the text unless it had escapes.
    Str(Cow<'a, str>),
    Num(f64),
    Bool(bool),
    Null,
}

impl<'a> Flat<'a> {
    /// `text` read as one strict JSON value that fills it: double-quoted
    /// keys and strings, `true`, `false`, `null`, on one line. `None` for
    /// anything else, which [`parse_value`] then reads (leniently) as
    /// before: on what it accepts, this gives what [`Flat::of`] gives for
    /// [`parse_value`]'s tree.
    pub fn strict(text: &'a str) -> Option<Self> {
        if text.len() > MAX_BODY || memchr::memchr(b'\n', text.as_bytes()).is_some() {
            return None;
        }
        let mut items = emptied(SPARE_ITEMS.take());
        if items.capacity() == 0 {
            // Room for a typical record's members within 1 KiB: glibc's
            // per-thread cache serves blocks up to that size, a larger
            // block (16 items) took 1,240 instructions a malloc.
            items.reserve_exact(1024 / std::mem::size_of::<Item>());
        }
        let mut reader = Strict {
            src: text,
            pos: 0,
            items,
        };
        let read = reader.value(Cow::Borrowed(""), 0, true);
        super::work::add(reader.pos);
        if read.is_some() && reader.pos == text.len() {
            Some(Flat::new(reader.items))
        } else {
            keep_spare(reader.items);
            None
        }
    }

    fn new(items: Vec<Item<'a>>) -> Self {
        let mut flat = Flat {
            items,
            root_keys: [0; 2],
            first_with_bit: [NO_FIRST; 64],
        };
        if matches!(flat.root().kind(), Kind::Object) {
            let (mut bits, mut first) = ([0u64; 2], [NO_FIRST; 64]);
            for child in flat.root().children() {
                let (bit, end_bit) = key_bits(child.item().key.as_bytes());
                bits[1] |= 1 << end_bit;
                if bits[0] & (1 << bit) == 0 {
                    bits[0] |= 1 << bit;
                    first[bit] = u8::try_from(child.at).unwrap_or(NO_FIRST);
                }
            }
            flat.root_keys = bits;
            flat.first_with_bit = first;
        }
        flat
    }

    /// A parsed tree, flat.
    pub fn of(node: &Node<'a>) -> Self {
        fn push<'a>(items: &mut Vec<Item<'a>>, key: Cow<'a, str>, node: &Node<'a>) {
            let at = items.len();
            let kind = match &node.json {
                Json::Object(_) => Kind::Object,
                Json::Array(_) => Kind::Array,
                Json::Str(s) => Kind::Str(s.clone()),
                Json::Num(n) => Kind::Num(*n),
                Json::Bool(b) => Kind::Bool(*b),
                Json::Null => Kind::Null,
            };
            items.push(Item {
                key,
                raw: node.raw,
                kind,
                end: 0,
            });
            match &node.json {
                Json::Object(entries) => {
                    for (k, v) in entries {
                        if let Json::Str(key) = &k.json {
                            push(items, key.clone(), v);
                        }
                    }
                }
                Json::Array(values) => {
                    for v in values.iter().take(MAX_ARRAY_ITEMS) {
                        push(items, Cow::Borrowed(""), v);
                    }
                }
                _ => {}
            }
            items[at].end = items.len();
        }
        let mut items = Vec::new();
        push(&mut items, Cow::Borrowed(""), node);
        Flat::new(items)
    }

    /// How many values it holds, the root's and those inside it.
    pub fn values(&self) -> usize {
        self.items.len()
    }

    pub fn root(&self) -> FlatNode<'_, 'a> {
        FlatNode { flat: self, at: 0 }
    }
}

/// One value of a [`Flat`].
#[derive(Clone, Copy)]
pub struct FlatNode<'f, 'a> {
    flat: &'f Flat<'a>,
    at: usize,
}

impl<'f, 'a> FlatNode<'f, 'a> {
    fn item(self) -> &'f Item<'a> {
        &self.flat.items[self.at]
    }

    pub fn kind(self) -> &'f Kind<'a> {
        &self.item().kind
    }

    /// The exact text the value was read from.
    pub fn raw(self) -> &'a str {
        self.item().raw
    }

    /// The values inside a container, in order.
    fn children(self) -> impl Iterator<Item = FlatNode<'f, 'a>> {
        self.children_from(self.at + 1)
    }

    /// The values inside a container from the one at item `first` on.
    fn children_from(self, first: usize) -> impl Iterator<Item = FlatNode<'f, 'a>> {
        let flat = self.flat;
        let end = self.item().end;
        let mut next = first;
        std::iter::from_fn(move || {
            (next < end).then(|| {
                let child = FlatNode { flat, at: next };
                next = flat.items[next].end;
                child
            })
        })
    }

    /// An object's member by key (ASCII case ignored; the first wins).
    /// Inlined, so that a literal key's bits are worked out by the compiler
    /// and a record's test for a key it lacks costs a few instructions.
    #[inline]
    pub fn get(self, key: &str) -> Option<Self> {
        let first = if self.at == 0 {
            let (bit, end_bit) = key_bits(key.as_bytes());
            let [keys, ends] = self.flat.root_keys;
            if keys & (1 << bit) == 0 || ends & (1 << end_bit) == 0 {
                return None;
            }
            match self.flat.first_with_bit[bit] {
                NO_FIRST => 1,
                first => usize::from(first),
            }
        } else {
            self.at + 1
        };
        self.member_from(first, key)
    }

    /// [`FlatNode::get`]'s scan, from the item at `first` on.
    fn member_from(self, first: usize, key: &str) -> Option<Self> {
        if !matches!(self.kind(), Kind::Object) {
            return None;
        }
        // Keys are mostly written as asked for: a byte compare settles
        // those, where comparing case-folded bytes took 7 instructions a byte.
        self.children_from(first).find(|c| {
            let k = &c.item().key;
            k.as_bytes() == key.as_bytes() || k.eq_ignore_ascii_case(key)
        })
    }

    /// False when [`FlatNode::lookup`] finds none of the paths whose
    /// [`root_bits`] are `bits` in this, the root: a record is asked for
    /// lists of keys it mostly lacks, and one test rules out a whole list.
    pub fn may_hold(self, bits: KeyBits) -> bool {
        let [keys, ends] = self.flat.root_keys;
        self.at != 0 || (keys & bits[0] != 0 && ends & bits[1] != 0)
    }

    /// A member by dotted path (`http.method`), object by object.
    pub fn lookup(self, dotted: &str) -> Option<Self> {
        match dotted.bytes().position(|b| b == b'.') {
            None => self.get(dotted),
            Some(dot) => self.get(&dotted[..dot])?.lookup(&dotted[dot + 1..]),
        }
    }

    pub fn as_str(self) -> Option<&'f str> {
        match self.kind() {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A string value's literal, quotes and escapes included.
    pub fn literal(self) -> Option<&'a str> {
        matches!(self.kind(), Kind::Str(_)).then(|| self.raw())
    }

    /// As [`Node::scalar_value`], text read from the text it was parsed
    /// from shared through `texts` (not copied per value).
    pub fn scalar_value(self, texts: &SharedText) -> Value {
        match self.kind() {
            Kind::Str(Cow::Borrowed(s)) => Value::Str(texts.text(s)),
            Kind::Str(Cow::Owned(s)) => Value::Str(s.as_str().into()),
            Kind::Num(n) => Value::Num(*n),
            Kind::Bool(b) => Value::Str(b.to_string().into()),
            Kind::Null => Value::Str("null".into()),
            Kind::Object | Kind::Array => Value::Str(texts.text(self.raw())),
        }
    }

    /// As [`Node::value_text`].
    pub fn value_text(self) -> &'a str {
        match self.kind() {
            Kind::Str(_) => unquoted(self.raw()),
            _ => self.raw(),
        }
    }

    /// Fields `<prefix>` (the value's text) and `<prefix>.<dotted.path>`
    /// for every value inside it (see [`flatten`]).
    pub fn flatten(self, to: &mut FieldsOf, prefix: &'static str) {
        to.push(prefix.into(), self);
        self.flatten_members(to, prefix);
    }

    /// The fields `<prefix>.<dotted.path>` of [`FlatNode::flatten`] alone.
    pub fn flatten_members(self, to: &mut FieldsOf, prefix: &str) {
        /// The member `child` (item `i` of an object or not) and what is
        /// inside it, named by `path` (which ends where its parent's name
        /// does) unless `literal` names it.
        fn spelt_out(
            child: FlatNode,
            i: usize,
            object: bool,
            literal: Option<&'static str>,
            path: &mut String,
            to: &mut FieldsOf,
        ) {
            let len = path.len();
            path.push('.');
            if object {
                path.push_str(&child.item().key);
            } else {
                let _ = write!(path, "{i}");
            }
            to.push(
                literal.map_or_else(|| path.clone().into(), Cow::Borrowed),
                child,
            );
            let object = matches!(child.kind(), Kind::Object);
            for (i, inside) in child.children().enumerate() {
                if !matches!(inside.kind(), Kind::Null) {
                    spelt_out(inside, i, object, None, path, to);
                }
            }
            path.truncate(len);
        }
        // The top level on its own, apart from the path: most members of a
        // record are scalars with a literal name, read in a loop that holds
        // little (one walk for all levels spilled registers, 26 instructions
        // a member more).
        let object = matches!(self.kind(), Kind::Object);
        // Empty until a member needs its name spelt out (most records have
        // none): its allocation took 230 instructions a record.
        let mut path = String::new();
        for (i, child) in self.children().enumerate() {
            let item = child.item();
            // `"error": null` says there is no error: no fact at all.
            if matches!(item.kind, Kind::Null) {
                continue;
            }
            let literal = if object {
                literal_member_name(prefix, &item.key)
            } else {
                None
            };
            match literal {
                // A scalar needs no path: only a container's members are
                // named by it.
                Some(name) if item.end == child.at + 1 => to.push(Cow::Borrowed(name), child),
                _ => {
                    if path.is_empty() {
                        // Room for most paths.
                        path.reserve(prefix.len() + 64);
                        path.push_str(prefix);
                    }
                    spelt_out(child, i, object, literal, &mut path, to);
                }
            }
        }
    }
}

impl FlatNode<'_, '_> {
    /// Of the fields [`FlatNode::flatten_members`] gives an object, those
    /// whose key (its path below the object) `ties` names, in the same
    /// order; `false`, and none given, when a member that holds others may
    /// hold a tie below it (only the spelt-out walk finds those).
    pub fn flatten_ties(self, to: &mut FieldsOf, prefix: &str, ties: &RecordTies) -> bool {
        if !matches!(self.kind(), Kind::Object) {
            return false;
        }
        let given = to.out.len();
        for child in self.children() {
            let item = child.item();
            if matches!(item.kind, Kind::Null) {
                continue;
            }
            let holds_others = item.end != child.at + 1;
            if holds_others && ties.any_below(&item.key) {
                to.out.truncate(given);
                return false;
            }
            // A member that holds others is given first, as itself.
            if ties.is_tie(&item.key) {
                let name = literal_member_name(prefix, &item.key)
                    .map_or_else(|| format!("{prefix}.{}", item.key).into(), Cow::Borrowed);
                to.push(name, child);
            }
        }
        true
    }
}

/// Where [`FlatNode::flatten`] puts the fields of values read from one
/// text: their spans in `lines`, their texts shared (see [`SharedText`]).
pub struct FieldsOf<'o, 'l, 't> {
    pub lines: &'l Lines<'l>,
    pub texts: &'l SharedText<'t>,
    pub out: &'o mut Vec<Field>,
}

impl FieldsOf<'_, '_, '_> {
    /// Field `name`, the value of `node`. Inlined (called for every member
    /// of a record): its call took 50 instructions a member.
    #[inline(always)]
    pub fn push(&mut self, name: Cow<'static, str>, node: FlatNode) {
        self.out.push(Field {
            name,
            value: node.scalar_value(self.texts),
            span: self.lines.span_of(node.value_text()),
        });
    }
}

/// `<prefix>.<key>` as a literal for the keys JSON-lines records and API
/// error bodies most often have: a record's every member is a field, and
/// its name, spelt out per line, was an allocation per member.
fn literal_member_name(prefix: &str, key: &str) -> Option<&'static str> {
    macro_rules! names {
        ($prefix:literal: $($key:literal)*) => {
            if prefix == $prefix {
                return match key {
                    $($key => Some(concat!($prefix, ".", $key)),)*
                    _ => None,
                };
            }
        };
    }
    names!("record":
        "ts" "time" "timestamp" "@timestamp" "date" "datetime"
        "level" "@level" "severity" "lvl" "logger" "@module" "caller" "module"
        "msg" "message" "@message" "type" "event"
        "method" "url" "uri" "path" "endpoint" "status" "status_code" "statusCode"
        "duration_ms" "latency_ms" "elapsed_ms" "request_id" "trace_id" "span_id"
        "service" "host" "env" "version" "pid" "user_id"
        "error" "err" "error_code" "errorCode" "exception" "stack" "body" "response" "data"
    );
    names!("body":
        "error" "error_description" "error_uri" "message" "code" "status" "statusCode"
        "detail" "details" "title" "type" "errors" "error_code" "errorCode"
        "errorSummary" "request_id" "requestId" "reason"
    );
    None
}

/// Root-key filters: a bit per key in each (see [`key_bits`]).
pub type KeyBits = [u64; 2];

/// A key's bits in [`Flat::root_keys`]' two filters, from its length and
/// its first byte, and from its length and its last byte (ASCII case
/// ignored, as keys are compared). Two keys of a record seldom share both:
/// `exc_info` shares the first with `status`, `stack` with `logger`.
const fn key_bits(key: &[u8]) -> (usize, usize) {
    let (first, last) = match (key.first(), key.last()) {
        (Some(first), Some(last)) => (first.to_ascii_lowercase(), last.to_ascii_lowercase()),
        _ => (0, 0),
    };
    (
        (key.len() * 7 + first as usize) % 64,
        (key.len() * 11 + last as usize) % 64,
    )
}

/// The bits (see [`key_bits`]) of the root keys that `paths`, dotted as
/// [`FlatNode::lookup`] takes them, start at: for [`FlatNode::may_hold`],
/// worked out once for a list of keys a record is asked for.
pub const fn root_bits(paths: &[&str]) -> KeyBits {
    let mut bits = [0; 2];
    let mut i = 0;
    while i < paths.len() {
        let path = paths[i].as_bytes();
        let mut len = 0;
        while len < path.len() && path[len] != b'.' {
            len += 1;
        }
        let (bit, end_bit) = key_bits(path.split_at(len).0);
        bits[0] |= 1 << bit;
        bits[1] |= 1 << end_bit;
        i += 1;
    }
    bits
}

/// A number of at most 15 digits and nothing else (a status, a duration)
/// as `f64`'s parse reads it: exactly, as every such integer is an `f64`.
/// Summed in place, for less than half the parse's instructions.
fn small_integer(text: &[u8]) -> Option<f64> {
    if text.is_empty() || text.len() > 15 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = text.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
    Some(n as f64)
}

/// Where the first `"` or `\` of `text` is. Most keys and values of a
/// record end within 64 bytes: those are found eight bytes at a time in
/// registers, where `memchr2`'s set-up cost about 55 instructions a string;
/// it reads what is left of a longer one. Inlined into [`Strict::string`]:
/// the call took 7 of its 45 instructions, twice a member.
#[inline(always)]
fn quote_or_backslash(text: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // The high bit of each zero byte of `x`, and maybe of bytes after the
    // first zero one (a borrow carries up only): the lowest set bit is
    // exact.
    let zero_bytes = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut at = 0;
    while at < 64 {
        let Some(word) = text.get(at..).and_then(<[u8]>::first_chunk::<8>) else {
            break;
        };
        let word = u64::from_le_bytes(*word);
        let found = zero_bytes(word ^ (ONES * u64::from(b'"')))
            | zero_bytes(word ^ (ONES * u64::from(b'\\')));
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    memchr::memchr2(b'"', b'\\', &text[at..]).map(|n| at + n)
}

/// The reader behind [`Flat::strict`].
struct Strict<'a> {
    src: &'a str,
    pos: usize,
    items: Vec<Item<'a>>,
}

impl<'a> Strict<'a> {
    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    /// Reads the value at `pos`, inside `depth` containers; one that is
    /// not `kept` (an array item past the cap) is read but not stored.
    fn value(&mut self, key: Cow<'a, str>, depth: usize, kept: bool) -> Option<()> {
        let start = self.pos;
        let kind = match self.peek()? {
            b'{' | b'[' => {
                // Past the depth cap the lenient parser skips and flags.
                if depth == MAX_DEPTH {
                    return None;
                }
                let at = self.items.len();
                if kept {
                    self.items.push(Item {
                        key,
                        raw: "",
                        kind: Kind::Null,
                        end: 0,
                    });
                }
                let kind = self.container(depth + 1, kept)?;
                if kept {
                    let end = self.items.len();
                    let item = &mut self.items[at];
                    item.raw = &self.src[start..self.pos];
                    item.kind = kind;
                    item.end = end;
                }
                return Some(());
            }
            b'"' => Kind::Str(self.string()?),
            b'-' | b'0'..=b'9' => {
                // The lenient parser's number: these bytes, then `f64`'s parse.
                while self.peek().is_some_and(|b| {
                    b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')
                }) {
                    self.pos += 1;
                }
                let text = &self.src[start..self.pos];
                Kind::Num(match small_integer(text.as_bytes()) {
                    Some(n) => n,
                    None => text.parse().ok()?,
                })
            }
            _ => {
                let rest = &self.src.as_bytes()[start..];
                let (len, kind) = if rest.starts_with(b"true") {
                    (4, Kind::Bool(true))
                } else if rest.starts_with(b"false") {
                    (5, Kind::Bool(false))
                } else if rest.starts_with(b"null") {
                    (4, Kind::Null)
                } else {
                    return None;
                };
                self.pos += len;
                kind
            }
        };
        if kept {
            self.push_scalar(key, start, kind);
        }
        Some(())
    }

    /// Stores the scalar read from `start` to `pos`.
    #[inline(always)]
    fn push_scalar(&mut self, key: Cow<'a, str>, start: usize, kind: Kind<'a>) {
        let end = self.items.len() + 1;
        self.items.push(Item {
            key,
            raw: &self.src[start..self.pos],
            kind,
            end,
        });
    }

    /// The object or array at `pos`, its items pushed after it; trailing
    /// commas allowed, as the lenient parser allows them.
    fn container(&mut self, depth: usize, kept: bool) -> Option<Kind<'a>> {
        let object = self.peek() == Some(b'{');
        let close = if object { b'}' } else { b']' };
        self.pos += 1;
        let mut count = 0;
        loop {
            self.skip_ws();
            if self.peek()? == close {
                self.pos += 1;
                break;
            }
            let key = if object {
                if self.peek()? != b'"' {
                    return None;
                }
                let key = self.string()?;
                self.skip_ws();
                if self.peek()? != b':' {
                    return None;
                }
                self.pos += 1;
                self.skip_ws();
                key
            } else {
                Cow::Borrowed("")
            };
            let kept = kept && (object || count < MAX_ARRAY_ITEMS);
            if kept && self.peek()? == b'"' {
                // A string, most values of a record: read here, as
                // [`Strict::value`] reads it, without its call (28
                // instructions a string).
                let start = self.pos;
                let read = self.string()?;
                self.push_scalar(key, start, Kind::Str(read));
            } else {
                self.value(key, depth, kept)?;
            }
            count += 1;
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
        Some(if object { Kind::Object } else { Kind::Array })
    }

    /// The string at `pos`: borrowed when it has no escapes, else read by
    /// the lenient parser, whose reading of escapes it must match.
    /// Inlined into its two callers: the call's entry and exit were a
    /// sixth of its cost, and every member has a string or two.
    #[inline(always)]
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.pos + 1;
        let bytes = self.src.as_bytes();
        let n = quote_or_backslash(bytes.get(start..)?)?;
        if bytes[start + n] == b'"' {
            self.pos = start + n + 1;
            return Some(Cow::Borrowed(&self.src[start..start + n]));
        }
        self.escaped_string()
    }

    /// [`Strict::string`] with an escape in it.
    #[cold]
    #[inline(never)]
    fn escaped_string(&mut self) -> Option<Cow<'a, str>> {
        let mut lenient = Parser::new(self.src, MAX_BODY, false);
        lenient.pos = self.pos;
        let s = lenient.string()?;
        if lenient.truncated {
            return None;
        }
        self.pos = lenient.pos;
        Some(s)
    }
}

/// Parses one JSON value at the start of `input` (after optional whitespace).
/// Bare keys, `undefined` and `'a' + 'b'` concatenation (Node's console
/// output) are accepted too.
pub fn parse_value(input: &str) -> Option<Node<'_>> {
    complete(parse_with(input, MAX_BODY, false))
}

/// Like [`parse_value`], for whole documents up to `max` bytes (HAR files).
pub fn parse_document(input: &str, max: usize) -> Option<Node<'_>> {
    complete(parse_with(input, max, false))
}

/// A body as far as it goes: one cut by the size cap or by the end of the
/// text (a chunk boundary, a paste cut short) keeps the members read
/// before the cut; the flag says it was cut.
pub fn parse_body(input: &str) -> Option<(Node<'_>, bool)> {
    parse_with(input, MAX_BODY, false)
}

fn complete(parsed: Option<(Node<'_>, bool)>) -> Option<Node<'_>> {
    parsed.filter(|(_, truncated)| !truncated).map(|(n, _)| n)
}

/// Node's `util.inspect` of whole objects (`console.error(err)`): also class
/// prefixes (`Object [AxiosHeaders] {`), placeholders (`[Object]`,
/// `[Function: x]`, `[Circular *1]`), `<ref *1>` and nested errors with stack
/// lines (`[cause]: Error: connect ECONNREFUSED …`).
pub fn parse_inspect(input: &str) -> Option<Node<'_>> {
    complete(parse_with(input, MAX_BODY, true))
}

fn parse_with(input: &str, max: usize, inspect: bool) -> Option<(Node<'_>, bool)> {
    let mut p = Parser::new(input, max, inspect);
    let node = p.run()?;
    Some((node, p.truncated || p.too_deep))
}

/// The value at the start of `input` and whether the text ended (or the
/// cap came) before it did: `(None, true)` means it may parse with more
/// text, `(None, false)` that it never will.
fn parse_prefix(input: &str, max: usize, inspect: bool) -> (Option<Node<'_>>, bool) {
    let mut p = Parser::new(input, max, inspect);
    let node = p.run();
    (node, p.truncated)
}

thread_local! {
    /// Bytes that containers past [`MAX_DEPTH`] may still be skipped over
    /// on this thread (`None`: no limit).
    static DEEP_SKIP_BUDGET: Cell<Option<usize>> = const { Cell::new(None) };
}

/// While alive, limits the bytes skipped past the depth cap on this thread.
/// A chunk's parse sets it in proportion to the chunk: every line that may
/// start a body is tried, and each try inside one deep body would skip the
/// same bytes again (quadratic); once the budget is spent, a container past
/// the cap fails the parse, as a try of a line inside a body usually does.
pub struct DeepSkipBudget(Option<usize>);

impl DeepSkipBudget {
    pub fn set(bytes: usize) -> Self {
        DeepSkipBudget(DEEP_SKIP_BUDGET.replace(Some(bytes)))
    }
}

impl Drop for DeepSkipBudget {
    fn drop(&mut self) {
        DEEP_SKIP_BUDGET.set(self.0);
    }
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
    max: usize,
    inspect: bool,
    /// Set when the cap or the end of the text cut a container short: the
    /// containers open at that point close with what they had.
    truncated: bool,
    /// Set when a container past [`MAX_DEPTH`] was skipped.
    too_deep: bool,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'$'
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, max: usize, inspect: bool) -> Self {
        Parser {
            src,
            pos: 0,
            depth: 0,
            max,
            inspect,
            truncated: false,
            too_deep: false,
        }
    }

    fn run(&mut self) -> Option<Node<'a>> {
        self.skip_ws();
        let node = self.value();
        super::work::add(self.pos);
        node
    }

    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    /// Like `peek`, but the end of the text inside a container is a cut.
    fn peek_or_cut(&mut self) -> Option<u8> {
        let b = self.peek();
        if b.is_none() {
            self.truncated = true;
        }
        b
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
            self.truncated = true;
            return None;
        }
        let start = self.pos;
        let json = match self.peek_or_cut()? {
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
                Json::Str(tag.into())
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
            b'u' if self.python2_string_next() => {
                self.pos += 1;
                Json::Str(self.strings()?)
            }
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

    /// At `u'…'` (Python 2's repr of a unicode string, `{u'Error':
    /// u'Invalid API key!'}`): the `u` is a prefix, not a bare word.
    fn python2_string_next(&self) -> bool {
        !self.inspect && matches!(self.src.as_bytes().get(self.pos + 1), Some(b'\'' | b'"'))
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
        Some(Json::Str(self.src.get(start..self.pos)?.into()))
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
            "Infinity" | "NaN" => Some(Json::Str(word.into())),
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
                json: Json::Str(self.src[start..self.pos].into()),
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
                    json: Json::Str(self.src[start..type_end].into()),
                },
            ),
            (
                synthetic(message, "message"),
                Node {
                    raw: message,
                    json: Json::Str(message.into()),
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
        if self.depth == MAX_DEPTH {
            self.skip_deep()?;
            return Some(Vec::new());
        }
        self.depth += 1;
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            let Some(b) = self.peek() else {
                self.truncated = true;
                break;
            };
            if b == close {
                self.pos += 1;
                break;
            }
            match item(self) {
                Some(x) => items.push(x),
                None if self.truncated => break,
                None => return None,
            }
            if self.truncated {
                break;
            }
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b) if b == close => {
                    self.pos += 1;
                    break;
                }
                None => {
                    self.truncated = true;
                    break;
                }
                Some(_) => return None,
            }
        }
        self.depth -= 1;
        Some(items)
    }

    /// Skips the container that opens at `pos` to its close without
    /// parsing it (brackets counted, quoted text passed over), in one pass
    /// and without recursion; `None` when the thread's budget is spent.
    fn skip_deep(&mut self) -> Option<()> {
        let bytes = self.src.as_bytes();
        let start = self.pos;
        let end = bytes.len().min(self.max.saturating_add(1));
        let budget = DEEP_SKIP_BUDGET.get();
        let reach = budget.map_or(end - start, |b| b.min(end - start));
        let (skipped, closed) = match close_within(&bytes[start..start + reach]) {
            Some(len) => (len, true),
            None if reach < end - start => {
                DEEP_SKIP_BUDGET.set(Some(0));
                return None;
            }
            None => (reach, false),
        };
        if let Some(b) = budget {
            DEEP_SKIP_BUDGET.set(Some(b - skipped));
        }
        self.pos = start + skipped;
        // A cut may land inside a character: stay on a boundary.
        while !self.src.is_char_boundary(self.pos) {
            self.pos -= 1;
        }
        self.too_deep = true;
        if !closed {
            self.truncated = true;
        }
        Some(())
    }

    fn object(&mut self) -> Option<Json<'a>> {
        let entries = self.container(b'}', |p| {
            let key_start = p.pos;
            let key = match p.peek_or_cut()? {
                b'"' | b'\'' => p.string()?,
                // Python 2's repr of a unicode string: `u'error'`.
                b'u' if p.python2_string_next() => {
                    p.pos += 1;
                    p.string()?
                }
                // Node's bare keys (`error:`), and `[Symbol(x)]:` / `[cause]:`.
                b if is_ident_start(b) => {
                    while p.peek().is_some_and(is_ident) {
                        p.pos += 1;
                    }
                    p.src[key_start..p.pos].into()
                }
                b'[' if p.inspect => p.bracketed()?.into(),
                _ => return None,
            };
            let key = Node {
                raw: &p.src[key_start..p.pos],
                json: Json::Str(key),
            };
            p.skip_ws();
            if p.peek_or_cut()? != b':' {
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
    fn strings(&mut self) -> Option<Cow<'a, str>> {
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
            out.to_mut().push_str(&self.string()?);
        }
    }

    fn string(&mut self) -> Option<Cow<'a, str>> {
        let quote = self.peek()?;
        self.pos += 1;
        // Built only once an escape is met: until then the string is the
        // text itself.
        let mut out: Option<String> = None;
        let bytes = self.src.as_bytes();
        let mut run = self.pos;
        let mut wraps = 0;
        let src = self.src;
        let done = |out: Option<String>, run: usize, end: usize| match out {
            None => Cow::Borrowed(&src[run..end]),
            Some(mut out) => {
                out.push_str(&src[run..end]);
                Cow::Owned(out)
            }
        };
        loop {
            // The text ends inside the string (a paste cut short, maybe
            // before a last line break): the string is cut, and keeps what
            // it had, as the containers around it do.
            let cut = match bytes.get(self.pos) {
                None => true,
                Some(b'\n' | b'\r') => self.src[self.pos..].trim().is_empty(),
                Some(_) => false,
            };
            if cut {
                self.truncated = true;
                let out = done(out, run, self.pos);
                return (!out.is_empty()).then_some(out);
            }
            let b = bytes[self.pos];
            if b == quote {
                let out = done(out, run, self.pos);
                self.pos += 1;
                return Some(out);
            }
            if b == b'\n' {
                // Guzzle (PHP) quotes at most 120 bytes of the body in its
                // exception message and marks the cut (guzzlehttp/psr7
                // `Message::bodySummary`): the body ends there, cut, though
                // the log goes on.
                let line = self.src[run..self.pos].trim_end_matches('\r');
                if let Some(kept) = line.strip_suffix(GUZZLE_CUT) {
                    self.truncated = true;
                    self.pos = run + kept.len();
                    let out = done(out, run, self.pos);
                    return (!out.is_empty()).then_some(out);
                }
                if wraps < MAX_WRAPS && self.wrapped_at(quote) {
                    // A forum or e-mail paste wrapped the line, eating the
                    // space it broke at: the string goes on after it.
                    wraps += 1;
                    let out = out.get_or_insert_with(String::new);
                    out.push_str(line);
                    out.push(' ');
                    self.pos += 1;
                    run = self.pos;
                    continue;
                }
                return None;
            }
            if b == b'\\' {
                let out = out.get_or_insert_with(String::new);
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

    /// Whether the line break at `pos`, inside a string, is a paste's wrap
    /// rather than the end of a string that never closed: the broken line
    /// is as long as wrapped lines are, and the next line starts with text
    /// and closes the string.
    #[cold]
    fn wrapped_at(&self, quote: u8) -> bool {
        let bytes = self.src.as_bytes();
        let line_start = memchr::memrchr(b'\n', &bytes[..self.pos]).map_or(0, |n| n + 1);
        if self.pos - line_start < MIN_WRAPPED_LINE {
            return false;
        }
        let next = &bytes[self.pos + 1..];
        let next = &next[..memchr::memchr(b'\n', next).unwrap_or(next.len())];
        next.first().is_some_and(|b| !b.is_ascii_whitespace())
            && memchr::memchr(quote, next).is_some()
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

/// The length of the container that opens at the start of `bytes`, up to
/// and with its close, or `None` when it does not close within them.
/// Brackets of either kind are counted alike (the text is only skipped, not
/// checked); a quote opens a string up to the same quote or the line's end.
fn close_within(bytes: &[u8]) -> Option<usize> {
    let mut open = 0usize;
    let mut quote = None;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q || b == b'\n' => quote = None,
            Some(_) => {}
            None => match b {
                b'"' | b'\'' | b'`' => quote = Some(b),
                b'{' | b'[' => open += 1,
                b'}' | b']' => {
                    open -= 1;
                    if open == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// A key that is not in the text (a nested error's `name` and `message`),
/// located at the text it stands for.
fn synthetic<'a>(raw: &'a str, key: &str) -> Node<'a> {
    Node {
        raw,
        json: Json::Str(Cow::Owned(key.to_string())),
    }
}

/// Flattens `node` into fields `<prefix>` (its text) and
/// `<prefix>.<dotted.path>`; containers below the root are kept too (as
/// their source text) so `exists` works on them. `null` members give no
/// field, and an array only its first [`MAX_ARRAY_ITEMS`] items: a big
/// body's array of thousands of entries would make one incident tens of
/// MiB of facts (the array itself stays a fact, as its text).
pub fn flatten(lines: &Lines, prefix: &'static str, node: &Node, out: &mut Vec<Field>) {
    let texts = SharedText::of(node.raw);
    Flat::of(node).root().flatten(
        &mut FieldsOf {
            lines,
            texts: &texts,
            out,
        },
        prefix,
    );
}

/// Fields of a body whose text is not verbatim in the input (a base64 HAR
/// body, a dump joined from wrapped lines) and has no map back: parsed
/// when it is JSON, else kept raw, every field pointing at `span`, the
/// place in the input the text came from.
pub fn detached_body_fields(text: &str, span: Span) -> Vec<Field> {
    let trimmed = text.trim_start();
    match parse_body(trimmed) {
        Some((node, truncated)) if matches!(node.json, Json::Object(_) | Json::Array(_)) => {
            let tmp = Lines {
                text: trimmed,
                base: 0,
                bounds: vec![(0, trimmed.len())],
                saw_end: Default::default(),
                exception_memo: Default::default(),
            };
            let mut fields = Vec::new();
            flatten(&tmp, "body", &node, &mut fields);
            let mut fields: Vec<Field> = fields.into_iter().map(|f| Field { span, ..f }).collect();
            fields.extend(format_fields("json", truncated, span));
            fields
        }
        _ => vec![
            Field {
                name: "body".into(),
                value: Value::Str(text.into()),
                span,
            },
            Field {
                name: "body.format".into(),
                value: Value::Str(super::markup::sniff_format(text).into()),
                span,
            },
        ],
    }
}

/// `body.format` and, for a body cut short, `body.truncated`.
pub fn format_fields(format: &str, truncated: bool, span: Span) -> Vec<Field> {
    let mut out = vec![Field {
        name: "body.format".into(),
        value: Value::Str(format.into()),
        span,
    }];
    if truncated {
        out.push(Field {
            name: "body.truncated".into(),
            value: Value::Str("true".into()),
            span,
        });
    }
    out
}

/// Whether a parsed value is a body: a non-empty object, or an array with
/// an object in it.
fn is_body(node: &Node) -> bool {
    match &node.json {
        Json::Object(e) => !e.is_empty(),
        Json::Array(items) => items.iter().any(|n| matches!(n.json, Json::Object(_))),
        _ => false,
    }
}

/// How a body found on a line is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// Verbatim JSON (one line or several).
    Plain,
    /// Inside a string literal, escaped (`"{\"error\": …}"`), or after a
    /// prefix inside one (`"msg": "failed: {\"error\": …}"`): read
    /// unescaped, spans mapped back.
    Escaped,
}

/// Candidates tried per line: enough for a prefix that has braces of its
/// own, few enough that a line full of braces stays cheap.
const MAX_CANDIDATES: usize = 4;

/// Where a JSON body starts on line `i`, wherever it sits: at the line
/// start; after a label (`body: {`, `data={`, `| {`); mid-line where an
/// object opens with a quoted key (`Error calling GetUser: {"message": …`,
/// `401 Unauthorized: "{"error": …}"`); or escaped inside a string
/// (`"{\"error\": …}"`). Returns the byte offset in the line and how it is
/// written; only a place where a body really parses counts.
/// Whether `before` ends by opening a Python object's repr, `<Name:`
/// (`<QueryDict:`, `<MultiValueDict:`): what follows is its contents.
fn opens_object_repr(before: &str) -> bool {
    let Some(open) = before.rfind('<') else {
        return false;
    };
    before[open + 1..].strip_suffix(':').is_some_and(|name| {
        name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    })
}

pub fn find_body(lines: &Lines, i: usize) -> Option<(usize, Found)> {
    let line = lines.line(i);
    let bytes = line.as_bytes();
    let first = line.len() - line.trim_start().len();
    let mut tried = 0;
    let mut from = 0;
    while tried < MAX_CANDIDATES {
        // Both are ASCII, never inside another character: a byte search,
        // not a decoding one (this runs on every line a parser asks).
        let at = from + memchr::memchr2(b'{', b'[', bytes.get(from..)?)?;
        from = at + 1;
        let after = &line[at + 1..];
        let escaped = after.starts_with("\\\"")
            || ((after.starts_with("\\n") || after.starts_with("\\r\\n"))
                && after.contains("\\\""));
        let how = if escaped {
            Found::Escaped
        } else {
            let before = line[..at].trim_end();
            // Firefox's console prints an object as `Object { key: … }`.
            let labelled = before.ends_with([':', '=', '|'])
                || before
                    .strip_suffix("Object")
                    .is_some_and(|b| b.is_empty() || b.ends_with([' ', '\t', ')']));
            let quoted_key = after.trim_start().starts_with(['"', '\'']);
            // An object's repr (Django's request dump `GET:<QueryDict: {…}>`)
            // holds the program's own data, not a response's body.
            if opens_object_repr(before) {
                continue;
            }
            let ok = if bytes[at] == b'[' {
                // An array only as a whole line; `[{` mid-line is a
                // wrapper around the object.
                at == first
            } else {
                at == first || labelled || quoted_key || status_before(&line[..at]).is_some()
            };
            if !ok {
                continue;
            }
            Found::Plain
        };
        tried += 1;
        let parses = match how {
            Found::Plain => lines.rest_from(i).get(at..).is_some_and(|t| {
                let parsed = parse_body(t);
                lines.value_read(t, parsed.as_ref().map(|(n, _)| n.raw));
                parsed.is_some_and(|(n, _)| is_body(&n))
            }),
            Found::Escaped => unescaped_at(lines, i, at)
                .is_some_and(|m| parse_body(&m.text).is_some_and(|(n, _)| is_body(&n))),
        };
        if parses {
            return Some((at, how));
        }
    }
    None
}

/// The HTTP status a line prints right before a body, as Node apps log a
/// failed call: `console.error(res.status, body)` gives `401 {` (the body in
/// `util.inspect`'s notation), also after a log prefix or a label
/// (`API call failed: 401 {`). Returns the status digits (a slice of
/// `before`) and whether they are all there is before the body.
pub fn status_before(before: &str) -> Option<(&str, bool)> {
    let t = before.trim_end();
    let start = t.rfind(char::is_whitespace).map_or(0, |p| p + 1);
    let word = &t[start..];
    let b = word.as_bytes();
    if b.len() != 3 || !b.iter().all(u8::is_ascii_digit) || !(b'1'..=b'5').contains(&b[0]) {
        return None;
    }
    let head = &t[..start];
    let rest = head[super::logprefix::prefix_len(head).min(head.len())..].trim_end();
    (rest.is_empty() || rest.ends_with(':')).then_some((word, rest.is_empty()))
}

/// The escaped JSON text that starts at byte `at` of line `i` (a `{` inside
/// a string literal), unescaped up to the literal's closing quote, and
/// unescaped once more if it was escaped twice.
fn unescaped_at(lines: &Lines, i: usize, at: usize) -> Option<super::mapped::Mapped> {
    let line = lines.line(i);
    let abs = lines.span_of(line).start + at;
    let (m, _) = super::mapped::unescape_until(&line[at..], b'"', abs)?;
    if m.text.starts_with("{\"") || m.text.starts_with("{\n") {
        return Some(m);
    }
    // `{\\\"error\\\": …}` → `{\"error\": …}`: escaped twice.
    if m.text.starts_with("{\\\"") {
        let (inner, _) = super::mapped::unescape_until(&m.text, b'"', 0)?;
        return super::mapped::compose(&inner, &m);
    }
    None
}

/// Emits the body [`find_body`] found at byte `at` of line `i`; returns how
/// many lines it took.
pub fn emit_found(ctx: &mut Ctx, lines: &Lines, i: usize, at: usize, how: Found) -> Option<usize> {
    match how {
        Found::Plain => emit_body(ctx, lines, i, at),
        Found::Escaped => {
            let mapped = unescaped_at(lines, i, at)?;
            let whole = mapped.span(0, mapped.text.len())?;
            emit_mapped(ctx, &mapped, whole).then_some(1)
        }
    }
}

/// Parses the body at the start of a mapped text and emits it with spans
/// mapped back to the input; whether it was a body.
pub fn emit_mapped(ctx: &mut Ctx, mapped: &super::mapped::Mapped, whole: Span) -> bool {
    match mapped_body_fields(mapped, 0, whole) {
        Some(fields) => {
            let span = fields.first().map_or(whole, |f| f.span);
            ctx.emit(EventKind::Body, span, fields);
            true
        }
        None => false,
    }
}

/// The fields of the body that starts at byte `at` of a mapped text, with
/// spans in the input (`whole` where a span cannot be mapped).
pub fn mapped_body_fields(
    mapped: &super::mapped::Mapped,
    at: usize,
    whole: Span,
) -> Option<Vec<Field>> {
    let text = mapped.text.get(at..)?;
    let (node, truncated) = parse_body(text)?;
    if !is_body(&node) {
        return None;
    }
    let tmp = Lines {
        text: &mapped.text,
        base: 0,
        bounds: vec![(0, mapped.text.len())],
        saw_end: Default::default(),
        exception_memo: Default::default(),
    };
    let mut fields = Vec::new();
    flatten(&tmp, "body", &node, &mut fields);
    let mut fields = mapped.remap(fields, whole);
    let span = fields.first().map_or(whole, |f| f.span);
    fields.extend(format_fields("json", truncated, span));
    Some(fields)
}

/// Where a body starts in a one-line text (a string's content): at its
/// start, after a label, or where an object opens with a quoted key.
pub fn find_in_text(text: &str) -> Option<usize> {
    let first = text.len() - text.trim_start().len();
    let mut from = 0;
    for _ in 0..MAX_CANDIDATES {
        let at = from + text.get(from..)?.find('{')?;
        from = at + 1;
        let labelled = text[..at].trim_end().ends_with([':', '=', '|']);
        let quoted_key = text[at + 1..].trim_start().starts_with(['"', '\'']);
        if (at == first || labelled || quoted_key)
            && parse_body(&text[at..]).is_some_and(|(n, _)| is_body(&n))
        {
            return Some(at);
        }
    }
    None
}

/// A string value's literal (lying in `lines.text`) unescaped, with its
/// map back to the input; `None` when it is not one plain literal.
pub fn string_content(lines: &Lines, literal: &str) -> Option<super::mapped::Mapped> {
    let abs = lines.span_of(literal).start;
    let (m, len) = super::mapped::unescape_literal(literal, abs)?;
    (len == literal.len()).then_some(m)
}

/// The body inside a string value's literal (`"{\"error\": …}"`,
/// `"failed: {…}"`): its fields with spans on the user's bytes.
pub fn body_in_string(lines: &Lines, literal: &str) -> Option<Vec<Field>> {
    let mapped = string_content(lines, literal)?;
    let at = find_in_text(&mapped.text)?;
    let whole = lines.span_of(unquoted(literal));
    mapped_body_fields(&mapped, at, whole)
}

/// A JSON body on this line, wherever it sits (see [`find_body`]), or one
/// spread over the following lines that all repeat the same log prefix.
pub struct JsonBody;

impl LineParser for JsonBody {
    fn triggers(&self) -> &'static [&'static str] {
        &["{", "["]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        if let Some((at, how)) = find_body(lines, i) {
            // The JSON object that ends a zap console record logged at info
            // or debug holds the record's fields (`info  gohai/gohai.go:36
            // Failed to retrieve filesystem metadata  {"error": "df failed…"}`):
            // context, not an answer.
            if at > 0 && super::logprefix::is_zap_informational(lines.line(i)) {
                return None;
            }
            // `401 {…}`: the status the app printed with the body is the
            // response's (a label before it makes the line a signal's),
            // unless it repeats the status just read (a debug log's line
            // for the same response, `"GET /x HTTP/1.1" 401 623`).
            let line = lines.line(i);
            if let Some((digits, true)) = status_before(&line[..at]) {
                let field =
                    lines.field("status", Value::Num(digits.parse().unwrap_or(0.0)), digits);
                let repeated = ctx.events.last().is_some_and(|e| {
                    e.field("status")
                        .is_some_and(|f| f.value.to_string() == field.value.to_string())
                });
                if !repeated {
                    ctx.emit(EventKind::Status, field.span, vec![field]);
                }
            }
            if how == Found::Plain && labelled_headers(&line[..at]) {
                return emit_headers(ctx, lines, i, at);
            }
            let n = emit_found(ctx, lines, i, at, how)?;
            // Output glued after the body on its last line.
            if let Some(end) = ctx.events.last().map(|e| e.span.end) {
                let last = i + n - 1;
                let line_start = lines.bounds[last].0 + lines.base;
                if end > line_start {
                    super::signal::remainder(ctx, lines, last, end - line_start);
                }
            }
            return Some(n);
        }
        prefixed_body(ctx, lines, i)
    }
}

/// Lines joined into one body at most (and [`MAX_BODY`] bytes).
const MAX_JOINED_LINES: usize = 10_000;

/// A body opened at the end of line `i` whose next lines all carry the
/// same log prefix (`10:00:00 ERROR [api]   "error": …`, `api-1  |   …`):
/// the lines are joined without their prefixes and read as one body. Lines
/// are joined in doubling batches and the text re-read each time, so the
/// work stays in proportion to how far the text is JSON.
fn prefixed_body(ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
    let line = lines.line(i);
    let trimmed = line.trim_end();
    if !trimmed.ends_with(['{', '[']) {
        return None;
    }
    let plen = super::logprefix::prefix_len(line);
    if plen == 0 || plen > trimmed.len() - 1 {
        return None;
    }
    let prefix = &line[..plen];
    let open = trimmed.len() - 1;
    let base = lines.span_of(line).start;
    let mut mapped = super::mapped::Mapped::default();
    mapped.push_verbatim(&trimmed[open..], base + open);
    let mut j = i + 1;
    let mut want = 8;
    let mut ended = false;
    let (fields, whole) = loop {
        while !ended && j - i <= want {
            let next =
                (j < lines.len() && j - i <= MAX_JOINED_LINES && mapped.text.len() < MAX_BODY)
                    .then(|| lines.line(j))
                    .filter(|n| {
                        n.get(..plen)
                            .is_some_and(|p| super::logprefix::same_prefix(p, prefix))
                    });
            let Some(next) = next else {
                ended = true;
                break;
            };
            let at = lines.span_of(next).start;
            mapped.push_mapped("\n", at, 0);
            mapped.push_verbatim(&next[plen..], at + plen);
            super::work::add(next.len() + 1);
            j += 1;
        }
        if j == i + 1 {
            return None;
        }
        let whole = lines
            .span_of(trimmed)
            .cover(lines.span_of(lines.line(j - 1)));
        match parse_prefix(&mapped.text, MAX_BODY, false) {
            (Some(_), false) => break (mapped_body_fields(&mapped, 0, whole)?, whole),
            (_, true) if !ended => want *= 2,
            (Some(_), true) => break (mapped_body_fields(&mapped, 0, whole)?, whole),
            _ => return None,
        }
    };
    let span = fields.first().map_or(whole, |f| f.span);
    ctx.emit(EventKind::Body, span, fields);
    let last = lines.line_at(span.end.saturating_sub(1).max(span.start) - lines.base);
    Some(last.max(i) - i + 1)
}

/// `Response headers: {…}` (botocore's debug log), `headers={…}`: a dict
/// of response headers printed by a client, not a body.
fn labelled_headers(before: &str) -> bool {
    let mut label = before.trim_end();
    // The kubernetes and urllib3 clients print a mapping type around the
    // dict: `HTTP response headers: HTTPHeaderDict({…})`.
    if let Some(open) = label.strip_suffix('(') {
        let name =
            open.trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        if name.len() < open.len() {
            label = name;
        }
    }
    let label = label.trim_end().trim_end_matches([':', '=']).trim_end();
    let Some(word) = label.len().checked_sub(7) else {
        return false;
    };
    label.is_char_boundary(word)
        && label[word..].eq_ignore_ascii_case("headers")
        && !label[..word].ends_with(|c: char| c.is_alphanumeric())
}

/// Emits the headers of a dict starting at byte `start` of line `i` (its
/// string values, as `header.<name>` fields); returns how many lines it
/// took, or `None` when no object starts there.
fn emit_headers(ctx: &mut Ctx, lines: &Lines, i: usize, start: usize) -> Option<usize> {
    let text = lines.rest_from(i).get(start..)?;
    let (node, _) = parse_body(text)?;
    let Json::Object(entries) = &node.json else {
        return None;
    };
    let fields: Vec<Field> = entries
        .iter()
        .filter_map(|(k, v)| {
            let name = k.as_str()?;
            v.as_str()?;
            Some(Field {
                name: format!("header.{}", name.to_ascii_lowercase()).into(),
                value: v.scalar_value(),
                span: lines.span_of(v.value_text()),
            })
        })
        .collect();
    if fields.is_empty() {
        return None;
    }
    let span = lines.span_of(node.raw);
    ctx.emit(EventKind::Header, span, fields);
    let last = lines.line_at((span.end - lines.base).saturating_sub(1));
    Some(last - i + 1)
}

/// Parses a body starting at byte `start` of line `i` and emits it; returns
/// how many lines it took, or `None` when no body object starts there.
pub fn emit_body(ctx: &mut Ctx, lines: &Lines, i: usize, start: usize) -> Option<usize> {
    let text = lines.rest_from(i).get(start..)?;
    let parsed = parse_body(text);
    lines.value_read(text, parsed.as_ref().map(|(n, _)| n.raw));
    let (node, truncated) = parsed?;
    if !is_body(&node) {
        return None;
    }
    let mut fields = Vec::new();
    flatten(lines, "body", &node, &mut fields);
    let span = lines.span_of(node.raw);
    fields.extend(format_fields("json", truncated, span));
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

    use super::super::parse_chunk;
    use super::super::tests::chunk;

    /// (value, the input bytes its span covers) of a field of the parse.
    fn field<'t>(text: &'t str, name: &str) -> Option<(String, &'t str)> {
        parse_chunk(&chunk(text)).iter().find_map(|e| {
            e.field(name)
                .map(|f| (f.value.to_string(), &text[f.span.start..f.span.end]))
        })
    }

    /// A dict a client labels as headers is the response's headers, not
    /// its body (botocore's debug log), however the label is written.
    #[test]
    fn a_dict_labelled_headers_is_headers() {
        let botocore = "2024-03-06 10:54:27,185 - MainThread - botocore.parsers - DEBUG - Response headers: {'Date': 'Wed, 06 Mar 2024 09:54:27 GMT', 'Content-Length': '78', 'x-amzn-ErrorType': 'InvalidGrantException:http://internal.amazon.com/coral/com.amazonaws.sso.oidc/'}\n";
        let (v, at) = field(botocore, "header.x-amzn-errortype").expect("a header");
        assert!(
            v.starts_with("InvalidGrantException:") && at == v,
            "{v} {at}"
        );
        assert_eq!(field(botocore, "header.content-length").unwrap().0, "78");
        assert!(field(botocore, "body.Date").is_none());
        let events = parse_chunk(&chunk("resp headers={\"Retry-After\": \"30\"}\n"));
        assert!(
            events.iter().all(|e| e.kind == EventKind::Header),
            "{events:?}"
        );
        assert_eq!(
            field(
                "resp headers={\"Retry-After\": \"30\"}\n",
                "header.retry-after"
            )
            .unwrap()
            .0,
            "30"
        );
        // Any other label stays a body.
        let body = "Response body: {\"error\": \"invalid_grant\"}\n";
        assert_eq!(field(body, "body.error").unwrap().0, "invalid_grant");
        assert!(!super::labelled_headers("Request subheaders :"));
        assert!(super::labelled_headers(
            "E   HTTP response headers: HTTPHeaderDict("
        ));
        assert!(!super::labelled_headers("HTTP response body: dict("));
        assert!(super::labelled_headers("Response Headers :"));
    }

    #[test]
    fn a_body_cut_inside_a_string_keeps_what_it_had() {
        // A paste cut short in the middle of the last string, with or
        // without a final line break.
        for text in [
            "{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS70008: The provided authorization code or refresh token has expired due to inac\n",
            "{'error': 'access_denied', 'error_description': 'The user denied the req",
        ] {
            let (v, _) = field(text, "body.error").expect("the complete member is read");
            assert!(v == "invalid_grant" || v == "access_denied", "{v}");
            let (d, at) = field(text, "body.error_description").expect("the cut member too");
            assert!(text.contains(at) && !d.is_empty(), "{d}");
            assert!(field(text, "body.truncated").is_some());
        }
        // A string broken by a line break with more text after it is not cut: it is not JSON.
        assert!(field("{\"error\":\"invalid_grant\nmore text\"}\n", "body.error").is_none());
    }

    #[test]
    fn a_body_guzzle_cut_ends_at_its_mark_though_the_log_goes_on() {
        let text = "[2023-03-08 15:59:28] production.ERROR: Client error: `POST https://login.example.com/oauth2/v2.0/token` resulted in a `401 Unauthorized` response:\n{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client secret provided. Ensure the secret being se (truncated...)\r\n {\"exception\":\"[object] (GuzzleHttp\\\\Exception\\\\ClientException(code: 401): Client error\"}\n";
        let (v, _) = field(text, "body.error").expect("the complete member is read");
        assert_eq!(v, "invalid_client");
        let (d, at) = field(text, "body.error_description").expect("the cut member too");
        assert!(d.ends_with("being se"), "{d}");
        assert!(!at.contains("truncated"), "{at}");
        assert!(field(text, "body.truncated").is_some());
    }

    #[test]
    fn a_string_a_paste_wrapped_goes_on_on_the_next_line() {
        // An issue's paste broke the message where a space was.
        let text = "AnthropicException -\n{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"Your credit balance is too low to access the Claude\nAPI. Please go to Plans & Billing.\"}}\n";
        let (m, _) = field(text, "body.error.message").expect("the wrapped string is read");
        assert_eq!(
            m,
            "Your credit balance is too low to access the Claude API. Please go to Plans & Billing."
        );
        assert!(field(text, "body.truncated").is_none());
        // A short line is not a wrap, nor is a next line that never closes
        // the string or starts indented.
        for text in [
            "{\"error\":\"invalid_grant\nmore text\"}\n",
            "{\"error\":\"invalid_grant\",\"error_description\":\"The refresh token has expired or was\nrevoked by the user\n",
            "{\"error\":\"invalid_grant\",\"error_description\":\"The refresh token has expired or was\n    revoked\"}\n",
        ] {
            assert!(field(text, "body.error_description").is_none(), "{text}");
        }
    }

    #[test]
    fn python2_unicode_strings_are_strings() {
        let text = "{u'Response': u'False', u'Error': u\"Invalid API key!\"}\n";
        let (v, at) = field(text, "body.Error").expect("the u-prefixed key and value are read");
        assert_eq!((v.as_str(), at), ("Invalid API key!", "Invalid API key!"));
        // A bare `u` word is not a prefix.
        assert!(field("{'a': undefined_value}\n", "body.a").is_none());
    }

    #[test]
    fn bodies_after_a_prefix() {
        for line in [
            "2024-05-01 ERROR api: response body: {\"error\":\"invalid_grant\"}\n",
            "Error calling GetUser: {\"error\":\"invalid_grant\"}\n",
            "mytool error: 401 - {\"error\":\"invalid_grant\"}\n",
            "[api] 401 Unauthorized: [{\"error\":\"invalid_grant\"}]\n",
            "resp=b'{\"error\": \"invalid_grant\"}'\n",
        ] {
            let (v, at) = field(line, "body.error").unwrap_or_else(|| panic!("{line}"));
            assert_eq!(
                (v.as_str(), at),
                ("invalid_grant", "invalid_grant"),
                "{line}"
            );
        }
    }

    #[test]
    fn escaped_bodies_point_at_their_own_bytes() {
        let t = r#"msg="{\n  \"message\": \"Token \\\"x\\\" expired\",\n  \"code\": \"token.expired\"\n}" status=401"#;
        let (v, at) = field(t, "body.code").unwrap();
        assert_eq!((v.as_str(), at), ("token.expired", "token.expired"));
        let (v, at) = field(t, "body.message").unwrap();
        assert_eq!(v, "Token \"x\" expired");
        assert_eq!(at, r#"Token \\\"x\\\" expired"#);
        // Escaped twice: a JSON string inside a JSON string inside a line.
        let t = r#"detail: "{\"body\":\"{\\\"error\\\":\\\"invalid_client\\\"}\"}""#;
        assert!(
            parse_chunk(&chunk(t))
                .iter()
                .all(|e| e.fields.iter().all(|f| {
                    let s = &t[f.span.start..f.span.end];
                    !s.is_empty() && t.is_char_boundary(f.span.start)
                }))
        );
    }

    #[test]
    fn bodies_over_lines_with_a_repeated_prefix() {
        let t = "10:00:00.123 ERROR [api] response: {\n10:00:00.124 ERROR [api]   \"error\": \"invalid_client\",\n10:00:00.124 ERROR [api]   \"error_description\": \"bad secret\"\n10:00:00.125 ERROR [api] }\n10:00:01.000 INFO  [api] retrying\n";
        let (v, at) = field(t, "body.error").unwrap();
        assert_eq!((v.as_str(), at), ("invalid_client", "invalid_client"));
        let (_, at) = field(t, "body.error_description").unwrap();
        assert_eq!(at, "bad secret");
        let t = "api-1  | {\napi-1  |   \"error\": \"invalid_grant\"\napi-1  | }\n";
        assert_eq!(field(t, "body.error").unwrap().1, "invalid_grant");
    }

    #[test]
    fn status_then_inspected_object_as_node_logs_it() {
        // `console.error(res.status, body)`: the status, then the body in
        // util.inspect's notation (unquoted keys, single quotes), on one
        // line or over several.
        let t = "401 {\n  message: 'Bad credentials',\n  documentation_url: 'https://docs.github.com/rest'\n}\n";
        assert_eq!(field(t, "status").unwrap(), ("401".into(), "401"));
        assert_eq!(field(t, "body.message").unwrap().1, "Bad credentials");
        let t = "200 { ok: false, error: 'invalid_auth' }\n";
        assert_eq!(field(t, "status").unwrap().1, "200");
        assert_eq!(field(t, "body.ok").unwrap().0, "false");
        assert_eq!(field(t, "body.error").unwrap().1, "invalid_auth");
        // Nested objects, quoted keys with dashes, numbers, arrays, an
        // escaped quote, `null`/`undefined`, a log prefix before the status.
        let t = "2026-11-30T12:21:04Z ERROR 403 {\n  error: {\n    code: 'Authorization_RequestDenied',\n    message: 'Can\\'t do that',\n    innerError: { 'request-id': '5e2b9a41', retries: [ 1, 2 ], date: null, extra: undefined }\n  }\n}\n";
        assert_eq!(field(t, "status").unwrap().1, "403");
        assert_eq!(
            field(t, "body.error.code").unwrap().1,
            "Authorization_RequestDenied"
        );
        assert_eq!(field(t, "body.error.message").unwrap().0, "Can't do that");
        assert_eq!(
            field(t, "body.error.innerError.request-id").unwrap().1,
            "5e2b9a41"
        );
        assert_eq!(field(t, "body.error.innerError.retries.1").unwrap().0, "2");
        // A label before the status: still a body.
        let t = "API call failed: 429 { errorCode: 'E0000047', errorCauses: [] }\n";
        assert_eq!(field(t, "body.errorCode").unwrap().1, "E0000047");
    }

    #[test]
    fn an_object_repr_holds_no_body() {
        assert!(opens_object_repr("GET:<QueryDict:"));
        assert!(opens_object_repr("<django.http.QueryDict:"));
        assert!(!opens_object_repr("Response body:"));
        assert!(!opens_object_repr("<-"));
        assert!(!opens_object_repr("< HTTP/1.1 401 Unauthorized"));
        let t = "Request repr():\n<WSGIRequest\npath:/search/,\nGET:<QueryDict: {u'q': [u'Nonaliti']}>,\n";
        assert!(field(t, "body.q.0").is_none());
    }

    #[test]
    fn status_before_a_body_only_as_a_status() {
        assert_eq!(status_before("401 "), Some(("401", true)));
        assert_eq!(status_before("  503"), Some(("503", true)));
        assert_eq!(status_before("API call failed: 404 "), Some(("404", false)));
        assert_eq!(
            status_before("2026-11-30 10:00:00 ERROR 400 "),
            Some(("400", true))
        );
        for before in [
            "",
            "4011 ",
            "600 ",
            "099 ",
            "took 401 ",
            "x401 ",
            "40 ",
            "401a ",
        ] {
            assert_eq!(status_before(before), None, "{before:?}");
        }
        // Prose with a number before an object stays prose.
        for t in ["processed 403 {retries: 3}\n", "page 200 {x}\n", "404 {}\n"] {
            assert!(field(t, "status").is_none(), "{t}");
        }
    }

    #[test]
    fn not_bodies() {
        for t in [
            "config loaded {retries: 3}\n",
            "templating {{name}} done\n",
            "set {} to empty\n",
            "\"error\": null, \"errors\": []\n",
            "{\"result\": \"ok\", \"error\": null, \"errors\": []}\n",
        ] {
            assert!(field(t, "body.error").is_none(), "{t}");
        }
    }

    /// Whether two flat readings are the same: keys, kinds, extents, and
    /// every value's text at the same place.
    fn same_flat(a: &Flat, b: &Flat) -> bool {
        a.items.len() == b.items.len()
            && a.items.iter().zip(&b.items).all(|(x, y)| {
                x.key == y.key
                    && x.kind == y.kind
                    && x.end == y.end
                    && std::ptr::eq(x.raw.as_ptr(), y.raw.as_ptr())
                    && x.raw.len() == y.raw.len()
            })
    }

    /// What the strict reader promises: where it accepts `text`, the
    /// lenient parser reads all of it, to the same values. Returns whether
    /// it accepted.
    fn strict_agrees(text: &str) -> bool {
        let Some(strict) = Flat::strict(text) else {
            return false;
        };
        let node = parse_value(text).unwrap_or_else(|| panic!("lenient fails: {text}"));
        assert_eq!(node.raw.len(), text.len(), "{text}");
        assert!(same_flat(&strict, &Flat::of(&node)), "{text}");
        true
    }

    /// Every line of every fixture and field case, from each `{` or `[`.
    fn corpus_texts() -> Vec<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("fixtures"), root.join("tests/field")];
        let mut texts = Vec::new();
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                for line in text.lines() {
                    for (at, _) in line.match_indices(['{', '[']) {
                        texts.push(line[at..].trim().to_string());
                    }
                }
            }
        }
        texts
    }

    #[test]
    fn strict_reading_matches_the_lenient_parser_on_the_corpus() {
        let texts = corpus_texts();
        let accepted = texts.iter().filter(|t| strict_agrees(t)).count();
        // Not vacuous: the corpus has hundreds of strict JSON lines.
        assert!(accepted > 300, "{accepted} of {}", texts.len());
    }

    #[test]
    fn strict_reading_matches_the_lenient_parser_on_variants() {
        // Each strict corpus line cut at every byte, and with bytes that
        // change its reading put at seeded places.
        let inserts = [
            "\\",
            "\\\"",
            "\\u00e9",
            "\\ud83d",
            "\\u12",
            "\"",
            "'",
            ",",
            ":",
            "{",
            "}",
            "[",
            "]",
            " ",
            "\t",
            "\r",
            "\n",
            "+",
            "-",
            "1e5",
            ".",
            "null",
            "True",
            "undefined",
            "é",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let texts: Vec<String> = corpus_texts()
            .into_iter()
            .filter(|t| Flat::strict(t).is_some())
            .take(400)
            .collect();
        let mut tried = 0;
        for text in &texts {
            for cut in (1..text.len()).filter(|&c| text.is_char_boundary(c)) {
                strict_agrees(&text[..cut]);
                tried += 1;
            }
            for _ in 0..40 {
                let mut at = next() as usize % text.len();
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                let insert = inserts[next() as usize % inserts.len()];
                let variant = format!("{}{insert}{}", &text[..at], &text[at..]);
                strict_agrees(&variant);
                tried += 1;
            }
        }
        assert!(tried > 10_000, "{tried}");
    }

    /// The word-at-a-time scan finds what `memchr2` finds: from every
    /// byte of the corpus, and with the quote or backslash at every offset
    /// of the words it reads and past them, after ASCII and multi-byte text.
    #[test]
    fn quote_scan_agrees_with_memchr2() {
        let agree = |text: &[u8]| {
            assert_eq!(
                quote_or_backslash(text),
                memchr::memchr2(b'"', b'\\', text),
                "{:?}",
                String::from_utf8_lossy(text)
            );
        };
        for text in corpus_texts() {
            for at in 0..text.len() {
                agree(&text.as_bytes()[at..]);
            }
        }
        for filler in ["a", "é", "\u{7f}", "\u{80}", "\u{a2}\u{dc}"] {
            for len in 0..80 {
                let head = filler.repeat(len);
                for end in ["\"", "\\", "", "x\"y\\"] {
                    agree(format!("{head}{end}").as_bytes());
                }
            }
        }
    }

    /// A record's members with literal names (no path built) are named,
    /// valued and placed as a plain walk that spells every path out (and
    /// copies every text) names them, on every strict object of the corpus.
    #[test]
    fn flattened_members_match_a_plain_walk() {
        fn plain(node: FlatNode, path: &str, lines: &Lines, out: &mut Vec<(String, String, Span)>) {
            let object = matches!(node.kind(), Kind::Object);
            for (i, child) in node.children().enumerate() {
                if matches!(child.kind(), Kind::Null) {
                    continue;
                }
                let path = if object {
                    format!("{path}.{}", child.item().key)
                } else {
                    format!("{path}.{i}")
                };
                // Every text copied: a source that holds none of them.
                let value = child.scalar_value(&SharedText::of("")).to_string();
                out.push((path.clone(), value, lines.span_of(child.value_text())));
                plain(child, &path, lines, out);
            }
        }
        let mut objects = 0;
        for text in corpus_texts() {
            let chunk = chunk(&text);
            let lines = Lines::new(&chunk);
            let Some(flat) = Flat::strict(&chunk.text) else {
                continue;
            };
            for prefix in ["record", "body"] {
                let mut fields = Vec::new();
                let texts = SharedText::of(&chunk.text);
                let to = &mut FieldsOf {
                    lines: &lines,
                    texts: &texts,
                    out: &mut fields,
                };
                flat.root().flatten_members(to, prefix);
                let got: Vec<_> = fields
                    .iter()
                    .map(|f| (f.name.to_string(), f.value.to_string(), f.span))
                    .collect();
                let mut want = Vec::new();
                plain(flat.root(), prefix, &lines, &mut want);
                assert_eq!(got, want, "{text}");
            }
            objects += usize::from(matches!(flat.root().kind(), Kind::Object));
        }
        assert!(objects > 150, "{objects}");
    }

    #[test]
    fn strict_reading_of_escapes_nesting_and_size() {
        // Escapes are read as the lenient parser reads them.
        for text in [
            r#"{"msg":"a \"quoted\" word","k\u00e9y":"\u00e9\ud83d\n\/"}"#,
            r#"{"a":"\\","b":["x\"y",1.5e3,-2,true,false,null],"c":{}}"#,
            r#"{"a": [1, 2, ], "b": {"c": "d",},}"#,
            // Integers summed in place, and those left to `f64`'s parse.
            r#"{"a":200,"b":007,"c":999999999999999,"d":12345678901234567890,"e":0,"f":-0}"#,
        ] {
            assert!(strict_agrees(text), "{text}");
        }
        // Not strict JSON: left to the lenient parser.
        for text in [
            "{'a': 1}",
            "{a: 1}",
            r#"{"a": True}"#,
            r#"{"a": "x" + "y"}"#,
            r#"{"a": 1} trailing"#,
            r#"{"a": "\u12"}"#,
            r#"{"a": "cut"#,
            "{\"a\": \"line\nbreak\"}",
        ] {
            assert!(!strict_agrees(text), "{text}");
        }
        // Past the depth cap the lenient parser skips and flags: not strict.
        let deep = format!(
            "{}1{}",
            r#"{"a":"#.repeat(MAX_DEPTH + 1),
            "}".repeat(MAX_DEPTH + 1)
        );
        assert!(Flat::strict(&deep).is_none());
        let shallow = format!("{}1{}", r#"{"a":"#.repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
        assert!(strict_agrees(&shallow));
        // Hostile depth and size neither overflow the stack nor read past the cap.
        assert!(Flat::strict(&"[".repeat(100_000)).is_none());
        let huge = format!(r#"{{"a":"{}"}}"#, "x".repeat(MAX_BODY));
        assert!(Flat::strict(&huge).is_none());
        // A long array keeps its first items, as flattening does.
        let long = format!("[{}0]", "1,".repeat(MAX_ARRAY_ITEMS + 10));
        let flat = Flat::strict(&long).unwrap();
        assert_eq!(flat.root().children().count(), MAX_ARRAY_ITEMS);
        assert!(strict_agrees(&long));
    }

    #[test]
    fn flat_members_by_key_in_any_case_first_wins() {
        for text in [
            r#"{"Level":"x","STATUS":401,"status":500,"a":{"B":1},"time":null}"#,
            "{'Level': 'x', STATUS: 401, status: 500, a: {B: 1}, time: None}",
        ] {
            let node = parse_value(text).unwrap();
            let flat = Flat::strict(text).unwrap_or_else(|| Flat::of(&node));
            let root = flat.root();
            assert_eq!(root.get("level").and_then(FlatNode::as_str), Some("x"));
            assert_eq!(root.get("Status").map(FlatNode::raw), Some("401"));
            assert_eq!(root.lookup("a.b").map(FlatNode::raw), Some("1"));
            assert!(matches!(
                root.get("TIME").map(FlatNode::kind),
                Some(Kind::Null)
            ));
            for absent in ["lvl", "a.c", "level.x", "", "."] {
                assert!(root.lookup(absent).is_none(), "{absent}");
            }
            // A list's bits rule it out only when lookup finds none of it.
            for path in [
                "LEVEL", "status", "a.b", "a.c", "time", "lvl", "b", "nope.x",
            ] {
                let found = root.lookup(path).is_some();
                assert!(!found || root.may_hold(root_bits(&[path])), "{path}");
            }
            assert!(root.may_hold(root_bits(&["lvl", "A.B"])));
            assert!(!root.may_hold(root_bits(&[])));
        }
        // Keys that share one filter's bit with a key there are told apart
        // by the other's.
        let flat = Flat::strict(r#"{"status":500,"logger":"app"}"#).unwrap();
        assert!(!flat.root().may_hold(root_bits(&["exc_info", "stack"])));
    }

    #[test]
    fn rejects_garbage_and_deep_nesting() {
        assert!(parse_value("{not json}").is_none());
        assert!(parse_value(&"[".repeat(10_000)).is_none());
        assert!(parse_value("{\"a\": \"unterminated").is_none());
    }
}
