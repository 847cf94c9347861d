//! The rule model: plain data, as the loader validates it. Serialisable, so
//! the built-in pack is validated once at build time (`build.rs` includes
//! this file and the loader) and only deserialised at start-up. Compiling
//! patterns is the engine's job, done lazily, never here.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use super::digest::{Digest, is_input_test};

/// A rule's text, shared by every diagnosis that shows it as it is (one
/// with no placeholder): a run with thousands of diagnoses keeps one copy.
pub type Text = Arc<str>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// What a rule is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    /// One failing exchange (the default).
    Incident,
    /// The input as a whole: claims and symptoms not tied to one exchange.
    Input,
}

/// A literal in a condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Literal {
    Str(String),
    Num(f64),
    Bool(bool),
}

impl std::fmt::Display for Literal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Literal::Str(s) => write!(f, "{s:?}"),
            Literal::Num(n) => write!(f, "{n}"),
            Literal::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// A `regex` test as written. The engine compiles it on first need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegexOp {
    pub pattern: String,
    /// Named groups, which become `{placeholders}`.
    pub captures: Vec<String>,
    /// Literal factors (lower-case): sets of strings, every match contains
    /// one string of each set, so a text without them cannot match (see
    /// `rules::literals`). Found when the pattern is validated; `None` when
    /// it has none.
    #[serde(default)]
    pub factors: Option<Vec<Vec<String>>>,
    /// Where the pattern is written in its rule file, for a problem found
    /// when it is compiled.
    pub span: Option<Range<usize>>,
    /// The engine's compiled-pattern slot (assigned by `RuleSet::new`).
    #[serde(skip)]
    pub slot: usize,
}

/// One test a fact value must pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Op {
    Equals(Literal),
    AnyOf(Vec<Literal>),
    Regex(RegexOp),
    /// Lower-cased: the test is case-insensitive.
    Contains(String),
    StartsWith(String),
    EndsWith(String),
    Exists(bool),
    Gt(f64),
    Lt(f64),
    Gte(f64),
    Lte(f64),
    /// Equals some value of another fact.
    SameAs(String),
    /// An `input.text` test, answered by the input-wide scan (pattern id;
    /// the engine rewrites `input.text` tests into these).
    Input(usize),
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Op::Equals(l) => write!(f, "= {l}"),
            Op::AnyOf(ls) => {
                let items: Vec<String> = ls.iter().map(|l| l.to_string()).collect();
                write!(f, "one of [{}]", items.join(", "))
            }
            Op::Regex(r) => write!(f, "matches /{}/", r.pattern),
            Op::Contains(s) => write!(f, "contains {s:?}"),
            Op::StartsWith(s) => write!(f, "starts with {s:?}"),
            Op::EndsWith(s) => write!(f, "ends with {s:?}"),
            Op::Exists(true) => write!(f, "exists"),
            Op::Exists(false) => write!(f, "is absent"),
            Op::Gt(n) => write!(f, "> {n}"),
            Op::Lt(n) => write!(f, "< {n}"),
            Op::Gte(n) => write!(f, ">= {n}"),
            Op::Lte(n) => write!(f, "<= {n}"),
            Op::SameAs(other) => write!(f, "same as {other}"),
            Op::Input(id) => write!(f, "input pattern #{id}"),
        }
    }
}

/// `field` must pass every op.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub field: String,
    pub ops: Vec<Op>,
    /// Text shown under the evidence; defaults to a description of the test.
    pub label: Option<String>,
    /// Where it is written in its rule file (the text written there is in
    /// the rule's prose: see [`Rule::condition_texts`]).
    #[serde(default)]
    pub span: Option<Range<usize>>,
}

/// A rule's own test case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub name: Option<String>,
    pub input: String,
    pub matches: bool,
    /// 1-based line of the example in its rule file.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    pub severity: Severity,
    pub confidence: f64,
    pub provider: Option<String>,
    pub scope: Scope,
    /// What it matches is the API working as designed, not a failure (a
    /// device-code poll answered "pending"): its incident is reported as
    /// expected and does not fail the run. Always `info`.
    #[serde(default)]
    pub expected: bool,
    /// A generic reading that gives way to any other diagnosis of the same
    /// failure (a refusal stated in words with no status): it is reported
    /// only when no rule without `yields` explains that failure, so the
    /// specific rules need not each name it in `supersedes`.
    #[serde(default)]
    pub yields: bool,
    /// `when`, `any` and `unless`: see [`Rule::logic`].
    pub logic: LazyLogic,
    /// Title, cause, fix and the rest: see [`Rule::prose`].
    pub prose: LazyProse,
    /// Read in place from the bytes the rule came from (see [`Names`]).
    pub supersedes: Names,
    pub examples: Vec<Example>,
    pub origin: Origin,
}

impl Rule {
    /// The rule's conditions, decoded on first read.
    pub fn logic(&self) -> &Logic {
        self.logic.get()
    }

    /// What start-up needs of the conditions, without decoding them.
    pub fn digest(&self) -> &Digest {
        &self.logic.digest
    }

    /// What the rule says when it fires, decoded on first read.
    pub fn prose(&self) -> &Prose {
        self.prose.get()
    }

    /// Each condition as written (`status = [400, 401]`), in the order of
    /// [`Rule::conditions`]: only explanations show them.
    pub fn condition_texts(&self) -> &[String] {
        &self.prose().conditions
    }

    /// Every condition: `when`, `any` and `unless`.
    pub fn conditions(&self) -> impl Iterator<Item = &Condition> {
        self.logic().conditions()
    }

    /// Its input-wide patterns with no literal text every match contains:
    /// the literal prefilter cannot find them, so they run over every line
    /// of every input (`rules check` warns of them; the built-in pack has
    /// none).
    pub fn unprefiltered_input_patterns(&self) -> impl Iterator<Item = (&Condition, &RegexOp)> {
        self.conditions()
            .filter(|c| c.field == "input.text")
            .flat_map(|c| {
                c.ops.iter().filter_map(move |op| match op {
                    Op::Regex(r) if r.factors.is_none() => Some((c, r)),
                    _ => None,
                })
            })
    }

    /// The texts that may hold `{placeholders}`, with their key.
    pub fn templates(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let prose = self.prose();
        [("title", Some(&prose.title)), ("cause", Some(&prose.cause))]
            .into_iter()
            .chain([("fix", Some(&prose.fix)), ("check", prose.check.as_ref())])
            .filter_map(|(k, v)| v.map(|v| (k, &**v)))
            .chain(prose.not.iter().map(|n| ("not", n.as_str())))
    }
}

/// A rule's conditions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Logic {
    pub when: Vec<Condition>,
    pub any: Vec<Vec<Condition>>,
    /// Groups of conditions; the rule is blocked when every condition of
    /// some group holds. `unless = {a, b}` makes each condition its own
    /// group; `unless = [{a, b}, {c}]` blocks on (a and b) or c.
    pub unless: Vec<Vec<Condition>>,
}

impl Logic {
    /// Every condition: `when`, `any` and `unless`.
    pub fn conditions(&self) -> impl Iterator<Item = &Condition> {
        self.when
            .iter()
            .chain(self.any.iter().flatten())
            .chain(self.unless.iter().flatten())
    }

    fn conditions_mut(&mut self) -> impl Iterator<Item = &mut Condition> {
        self.when
            .iter_mut()
            .chain(self.any.iter_mut().flatten())
            .chain(self.unless.iter_mut().flatten())
    }

    /// Numbers the tests as a rule set does (see [`LazyLogic::place`]):
    /// `input.text` tests become the input-wide scan's pattern ids from
    /// `place.input`, the other regexes take slots from `place.regex`, in
    /// the order of [`Digest::of`].
    fn number(&mut self, place: Place) {
        let (mut input, mut regex) = (place.input, place.regex);
        for cond in self.conditions_mut() {
            for i in 0..cond.ops.len() {
                if is_input_test(cond, &cond.ops[i]) {
                    cond.ops[i] = Op::Input(input);
                    input += 1;
                } else if let Op::Regex(r) = &mut cond.ops[i] {
                    r.slot = regex;
                    regex += 1;
                }
            }
        }
    }
}

/// Where a rule's tests are numbered in its rule set: its first input
/// pattern id and its first regex slot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    pub input: usize,
    pub regex: usize,
}

/// A rule's [`Logic`], stored (in the built-in pack and the rule cache) as
/// one encoded block beside its [`Digest`], and decoded on first read: a
/// start-up builds its index and input scan from the digests, and decodes
/// the conditions of the few rules an incident can concern. Decoding every
/// rule's conditions was most of loading a pack (4.2 M of the 20 M
/// instructions the built-in pack adds to a paste).
pub struct LazyLogic {
    encoded: Encoded,
    /// Boxed, as in [`LazyProse`].
    decoded: OnceLock<Box<Logic>>,
    digest: Digest,
    place: Option<Place>,
}

/// Keeps a lazy value encoded only: drops the decoded form, encoding it
/// first when it was never encoded (a rule validated from its TOML).
fn shed<T: serde::Serialize>(encoded: &mut Encoded, decoded: &mut OnceLock<Box<T>>) {
    if encoded.is_unset() {
        match decoded.get().and_then(|d| postcard::to_allocvec(d).ok()) {
            Some(bytes) => *encoded = Encoded(Held::Own(bytes.into_boxed_slice())),
            None => return,
        }
    }
    *decoded = OnceLock::new();
}

impl LazyLogic {
    pub fn new(logic: Logic) -> Self {
        LazyLogic {
            encoded: Encoded::default(),
            digest: Digest::of(&logic),
            decoded: OnceLock::from(Box::new(logic)),
            place: None,
        }
    }

    pub fn get(&self) -> &Logic {
        self.decoded.get_or_init(|| {
            // As `LazyProse::get`: a damaged cache file must not stop the
            // run. Conditions that do not decode hold nowhere: a rule that
            // cannot fire, rather than one that fires everywhere.
            let mut logic: Logic = postcard::from_bytes(&self.encoded).unwrap_or_else(|_| Logic {
                when: vec![Condition {
                    field: "input.damaged-rule-cache".into(),
                    ops: vec![Op::Exists(true)],
                    label: None,
                    span: None,
                }],
                ..Logic::default()
            });
            if let Some(place) = self.place {
                logic.number(place);
            }
            Box::new(logic)
        })
    }

    /// Keeps the conditions encoded only (decoded again on first read),
    /// as a rule read from the cache or the built-in pack holds them.
    /// Numbered conditions encode numbered; numbering again on decoding
    /// gives the same slots, as input tests are by then pattern ids.
    pub fn shed(&mut self) {
        shed(&mut self.encoded, &mut self.decoded);
    }

    /// Numbers the tests for a rule set (see [`Logic::number`]), now if
    /// the conditions are decoded, else when they are.
    pub fn place(&mut self, place: Place) {
        self.place = Some(place);
        if let Some(logic) = self.decoded.get_mut() {
            logic.number(place);
        }
    }

    /// The conditions as one encoded block, as [`LazyLogic`]'s
    /// serialisation writes it (encoded now if never encoded).
    pub(crate) fn encoded_block(&self) -> Result<std::borrow::Cow<'_, [u8]>, postcard::Error> {
        Ok(match self.decoded.get() {
            Some(logic) if self.encoded.is_empty() => postcard::to_allocvec(logic)?.into(),
            _ => (*self.encoded).into(),
        })
    }

    /// A rule's conditions read back from `digest` and their encoded
    /// `block`, a part of the bytes being read (see [`reading_from`]).
    pub(crate) fn from_parts(digest: Digest, block: &[u8]) -> Self {
        LazyLogic {
            encoded: Encoded::of(block),
            decoded: OnceLock::new(),
            digest,
            place: None,
        }
    }
}

impl Clone for LazyLogic {
    fn clone(&self) -> Self {
        LazyLogic {
            encoded: self.encoded.clone(),
            decoded: self.decoded.clone(),
            digest: self.digest.clone(),
            place: self.place,
        }
    }
}

impl PartialEq for LazyLogic {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl std::fmt::Debug for LazyLogic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

/// The digest, then the conditions as one block of bytes.
impl Serialize for LazyLogic {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let encoded = match self.decoded.get() {
            Some(logic) if self.encoded.is_empty() => {
                postcard::to_allocvec(logic).map_err(serde::ser::Error::custom)?
            }
            _ => self.encoded.to_vec(),
        };
        // The digest in its hand-written layout (see `Digest::put`): read
        // through serde's derived visitors it was the most of reading the
        // built-in pack, about 2,500 instructions a rule.
        let mut digest = Vec::new();
        self.digest.put(&mut digest);
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&Block(&digest))?;
        t.serialize_element(&Block(&encoded))?;
        t.end()
    }
}

impl<'de> Deserialize<'de> for LazyLogic {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Parts;
        impl<'de> serde::de::Visitor<'de> for Parts {
            type Value = LazyLogic;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a rule's digest and encoded conditions")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<LazyLogic, A::Error> {
                let missing = || serde::de::Error::invalid_length(0, &"2 elements");
                let DigestBlock(digest) = seq.next_element()?.ok_or_else(missing)?;
                let encoded: Encoded = seq.next_element()?.ok_or_else(missing)?;
                Ok(LazyLogic {
                    encoded,
                    decoded: OnceLock::new(),
                    digest,
                    place: None,
                })
            }
        }
        d.deserialize_tuple(2, Parts)
    }
}

/// A digest written by [`Digest::put`] as one block of bytes.
struct DigestBlock(Digest);

impl<'de> Deserialize<'de> for DigestBlock {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl Visitor {
            fn read<E: serde::de::Error>(mut bytes: &[u8]) -> Result<DigestBlock, E> {
                match Digest::take(&mut bytes) {
                    Some(digest) if bytes.is_empty() => Ok(DigestBlock(digest)),
                    _ => Err(E::custom("a damaged rule digest")),
                }
            }
        }
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = DigestBlock;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a rule's digest")
            }
            // Borrowed: the digest's blocks stay parts of the bytes read
            // (see `Encoded::of`).
            fn visit_borrowed_bytes<E: serde::de::Error>(
                self,
                bytes: &'de [u8],
            ) -> Result<DigestBlock, E> {
                Visitor::read(bytes)
            }
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<DigestBlock, E> {
                Visitor::read(bytes)
            }
        }
        d.deserialize_bytes(Visitor)
    }
}

/// Bytes written as one block.
struct Block<'a>(&'a [u8]);

impl Serialize for Block<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

/// An encoded block (a rule's prose or conditions). Read from bytes that
/// stay held anyway (the built-in pack, a rule cache entry: see
/// [`reading_from`]), it is a part of them rather than a copy: a start with
/// thousands of rules made two allocations and copies per rule for these.
#[derive(Clone)]
pub struct Encoded(Held);

#[derive(Clone)]
enum Held {
    Static(&'static [u8]),
    Shared(Arc<Vec<u8>>, Part),
    /// A part of a block stored apart from the bytes read (see [`Apart`]).
    Apart(Arc<Apart>, Part),
    Own(Box<[u8]>),
}

/// A range of at most 4 GiB of bytes (a cache entry is at most 64 MiB),
/// in 32-bit numbers: two encoded blocks per rule, and thousands of rules
/// moved about at each start.
#[derive(Clone, Copy)]
struct Part {
    start: u32,
    end: u32,
}

impl Part {
    /// `len` bytes from `start`, if they are some and lie in a block of
    /// `block_len` bytes.
    fn within(start: u32, len: u32, block_len: usize) -> Option<Part> {
        let end = start.checked_add(len)?;
        (start < end && end as usize <= block_len).then_some(Part { start, end })
    }

    /// `range` if it fits in 32 bits.
    fn of(range: Range<usize>) -> Option<Part> {
        Some(Part {
            start: u32::try_from(range.start).ok()?,
            end: u32::try_from(range.end).ok()?,
        })
    }

    fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A block stored apart from the bytes being read, fetched once, on first
/// need: a rule cache entry's prose, which a run whose rules do not fire
/// never reads (it was 70 % of the entries a start-up read with 4,410 user
/// rules, and as many page faults).
pub struct Apart {
    len: usize,
    fetch: Box<dyn Fn() -> Option<Vec<u8>> + Send + Sync>,
    /// Empty when `fetch` failed: the parts then decode as damaged.
    bytes: OnceLock<Vec<u8>>,
}

impl Apart {
    /// A block of `len` bytes that `fetch` reads (`None`, or other than
    /// `len` bytes, when it no longer can).
    pub fn new(len: usize, fetch: impl Fn() -> Option<Vec<u8>> + Send + Sync + 'static) -> Self {
        Apart {
            len,
            fetch: Box::new(fetch),
            bytes: OnceLock::new(),
        }
    }

    /// The block, if already fetched or known (a reader that has it in
    /// hand saves the fetch).
    pub fn know(&self, bytes: Vec<u8>) {
        if bytes.len() == self.len {
            let _ = self.bytes.set(bytes);
        }
    }

    fn bytes(&self) -> &[u8] {
        self.bytes.get_or_init(|| {
            (self.fetch)()
                .filter(|b| b.len() == self.len)
                .unwrap_or_default()
        })
    }
}

impl Default for Encoded {
    fn default() -> Self {
        Encoded(Held::Own(Box::default()))
    }
}

impl std::ops::Deref for Encoded {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.0 {
            Held::Static(bytes) => bytes,
            Held::Shared(bytes, part) => &bytes[part.range()],
            // Checked against the block's length when read; a block not
            // fetched is empty, which decodes as damaged.
            Held::Apart(apart, part) => apart.bytes().get(part.range()).unwrap_or_default(),
            Held::Own(bytes) => bytes,
        }
    }
}

impl Encoded {
    /// Whether no block was ever encoded (without fetching one stored
    /// apart, which is never empty).
    fn is_unset(&self) -> bool {
        match &self.0 {
            Held::Apart(_, part) => part.range().is_empty(),
            _ => self.is_empty(),
        }
    }
}

/// Bytes being deserialised whose blocks may be kept as parts of them.
#[derive(Clone)]
pub enum Source {
    Static(&'static [u8]),
    Shared(Arc<Vec<u8>>),
    /// Bytes whose rules' prose is stored apart, each as a range of the
    /// `Apart` block (see [`writing_apart`]).
    WithProseApart(Arc<Vec<u8>>, Arc<Apart>),
    /// Static bytes whose rules' prose is a range each of the second (the
    /// built-in pack: see `build.rs`).
    StaticProseApart(&'static [u8], &'static [u8]),
}

thread_local! {
    static READING: std::cell::RefCell<Option<Source>> = const { std::cell::RefCell::new(None) };
    /// The prose block being written by [`writing_apart`].
    static WRITING_APART: std::cell::RefCell<Option<Vec<u8>>> = const { std::cell::RefCell::new(None) };
}

/// Runs `write`, a serialisation of rules, with their prose written apart:
/// each rule's prose is appended to a block returned beside `write`'s
/// result, and the rule holds its range in it. Read back with
/// [`Source::WithProseApart`].
pub fn writing_apart<T>(write: impl FnOnce() -> T) -> (T, Vec<u8>) {
    /// Puts back what was there, also if `write` panics.
    struct Restore(Option<Vec<u8>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let before = self.0.take();
            WRITING_APART.with(|w| *w.borrow_mut() = before);
        }
    }
    let _restore = Restore(WRITING_APART.with(|w| w.replace(Some(Vec::new()))));
    let written = write();
    let block = WRITING_APART.with(|w| w.borrow_mut().take());
    (written, block.unwrap_or_default())
}

/// Runs `read`, a deserialisation of `source`'s bytes, with the blocks it
/// reads kept as parts of `source` (see [`Encoded`]).
pub fn reading_from<T>(source: Source, read: impl FnOnce() -> T) -> T {
    /// Puts back what was there, also if `read` panics.
    struct Restore(Option<Source>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let before = self.0.take();
            READING.with(|r| *r.borrow_mut() = before);
        }
    }
    let _restore = Restore(READING.with(|r| r.replace(Some(source))));
    read()
}

impl Encoded {
    /// `bytes`, as a part of the source being read if they lie in it.
    fn of(bytes: &[u8]) -> Encoded {
        Encoded::of_checked(bytes, |_| true).unwrap_or_else(|| Encoded(Held::Own(bytes.into())))
    }

    /// [`Encoded::of`] `bytes` if `whole` holds for them. Bytes of the
    /// built-in pack are not checked: build.rs wrote them with the same
    /// code (a test reads the pack back checked), and checking its 9,000
    /// blocks was 1.2 M instructions of every start.
    fn of_checked(bytes: &[u8], whole: fn(&[u8]) -> bool) -> Option<Encoded> {
        READING.with(|reading| {
            let reading = reading.borrow();
            let base: &[u8] = match reading.as_ref() {
                Some(Source::Static(base) | Source::StaticProseApart(base, _)) => base,
                Some(Source::Shared(base) | Source::WithProseApart(base, _)) => base,
                None => &[],
            };
            let start = (bytes.as_ptr() as usize).wrapping_sub(base.as_ptr() as usize);
            let inside = start <= base.len() && bytes.len() <= base.len() - start;
            let range = start..start + bytes.len();
            Some(Encoded(match (reading.as_ref(), Part::of(range.clone())) {
                (Some(Source::Static(base) | Source::StaticProseApart(base, _)), _) if inside => {
                    if cfg!(test) && !whole(bytes) {
                        return None;
                    }
                    Held::Static(&base[range])
                }
                _ if !whole(bytes) => return None,
                (Some(Source::Shared(base) | Source::WithProseApart(base, _)), Some(part))
                    if inside =>
                {
                    Held::Shared(base.clone(), part)
                }
                _ => Held::Own(bytes.into()),
            }))
        })
    }
}

impl<'de> Deserialize<'de> for Encoded {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Encoded::deserialize_checked(d, |_| true)
    }
}

impl Encoded {
    /// A block deserialised, if `whole` holds for it (see
    /// [`Encoded::of_checked`]).
    fn deserialize_checked<'de, D: serde::Deserializer<'de>>(
        d: D,
        whole: fn(&[u8]) -> bool,
    ) -> Result<Self, D::Error> {
        struct Visitor(fn(&[u8]) -> bool);
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Encoded;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an encoded block")
            }
            fn visit_borrowed_bytes<E: serde::de::Error>(
                self,
                bytes: &'de [u8],
            ) -> Result<Encoded, E> {
                Encoded::of_checked(bytes, self.0)
                    .ok_or_else(|| E::custom("a damaged block of strings"))
            }
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Encoded, E> {
                if !(self.0)(bytes) {
                    return Err(E::custom("a damaged block of strings"));
                }
                Ok(Encoded(Held::Own(bytes.into())))
            }
        }
        d.deserialize_bytes(Visitor(whole))
    }
}

/// Rule ids (a rule's `supersedes`), kept as one encoded block like
/// [`Texts`]: the built-in pack names some 3,900, and each was a string
/// allocated and copied at every start; only ranking reads them, for the
/// few rules that fired.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Names(Texts);

impl Names {
    pub fn new<S: AsRef<str>>(names: &[S]) -> Names {
        Names(Texts::one(names))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.strings().map(|(_, name)| name)
    }

    pub fn contains(&self, id: &str) -> bool {
        self.iter().any(|name| name == id)
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    pub fn len(&self) -> usize {
        self.iter().count()
    }
}

impl std::fmt::Debug for Names {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Sets of strings (a pattern's literal factors, a key's factors) as one
/// encoded block, read in place like [`Encoded`]: a start with ten times
/// the rules made an allocation per string and per set for these, and
/// copied them again into the rule index and the input scan. Checked whole
/// when read (a damaged block fails the read: a cache entry is then a
/// miss), so [`Texts::sets`] finds what was written.
///
/// The block: the number of sets, then per set the number of strings,
/// then per string its length and bytes (numbers as LEB128).
#[derive(Clone)]
pub struct Texts(Encoded);

impl Texts {
    pub fn new<S: AsRef<str>>(sets: &[Vec<S>]) -> Texts {
        let mut bytes = Vec::new();
        put_number(&mut bytes, sets.len());
        for set in sets {
            put_number(&mut bytes, set.len());
            for s in set {
                put_number(&mut bytes, s.as_ref().len());
                bytes.extend_from_slice(s.as_ref().as_bytes());
            }
        }
        Texts(Encoded(Held::Own(bytes.into_boxed_slice())))
    }

    /// One set.
    pub fn one<S: AsRef<str>>(set: &[S]) -> Texts {
        let set: Vec<&str> = set.iter().map(AsRef::as_ref).collect();
        Texts::new(&[set])
    }

    /// How many sets there are.
    pub fn set_count(&self) -> usize {
        take_number(&mut &self.0[..]).unwrap_or(0)
    }

    /// Every string, set by set: (the set's place, the string).
    pub fn strings(&self) -> impl Iterator<Item = (usize, &str)> {
        self.byte_strings()
            .map_while(|(set, s)| std::str::from_utf8(s).ok().map(|s| (set, s)))
    }

    /// [`Texts::strings`] as bytes, for byte searches: the block was
    /// checked whole when read, and checking each string again as UTF-8
    /// was a sixth of looking a small text's factors up (see
    /// `scan::Group::trigger_directly`).
    pub fn byte_strings(&self) -> impl Iterator<Item = (usize, &[u8])> {
        let mut rest: &[u8] = &self.0;
        let sets = take_number(&mut rest).unwrap_or(0);
        let mut set = 0;
        let mut left_in_set = 0;
        std::iter::from_fn(move || {
            while left_in_set == 0 {
                if set >= sets {
                    return None;
                }
                left_in_set = take_number(&mut rest)?;
                set += 1;
            }
            left_in_set -= 1;
            take_bytes(&mut rest).map(|s| (set - 1, s))
        })
    }

    /// The sets, borrowed.
    pub fn sets(&self) -> Vec<Vec<&str>> {
        let mut sets: Vec<Vec<&str>> = Vec::new();
        let mut rest: &[u8] = &self.0;
        for _ in 0..take_number(&mut rest).unwrap_or(0) {
            // A block is checked when read: these stops are never reached.
            let Some(n) = take_number(&mut rest) else {
                break;
            };
            sets.push((0..n).map_while(|_| take_str(&mut rest)).collect());
        }
        sets
    }

    /// Appends the block, its length first (read back by [`Texts::take`]).
    pub(crate) fn put(&self, out: &mut Vec<u8>) {
        put_number(out, self.0.len());
        out.extend_from_slice(&self.0);
    }

    /// A block [`Texts::put`] wrote at the front of `bytes` (a part of the
    /// bytes being read, see [`reading_from`]), checked whole as when
    /// deserialised; `None` if it is not one.
    pub(crate) fn take(bytes: &mut &[u8]) -> Option<Texts> {
        let len = take_number(bytes)?;
        if len > bytes.len() {
            return None;
        }
        let (block, rest) = bytes.split_at(len);
        *bytes = rest;
        Encoded::of_checked(block, Texts::is_block).map(Texts)
    }

    /// Whether `bytes` is a whole block, with nothing after it. A block
    /// all ASCII (every string and every length under 128: nearly all of
    /// them) holds only UTF-8 whatever its lengths say, so only its shape
    /// is walked: checking each string on its own was 1.1 M instructions
    /// of a paste's start (9,000 blocks).
    fn is_block(mut bytes: &[u8]) -> bool {
        let ascii = bytes.is_ascii();
        let Some(sets) = take_number(&mut bytes) else {
            return false;
        };
        for _ in 0..sets {
            let Some(n) = take_number(&mut bytes) else {
                return false;
            };
            for _ in 0..n {
                let whole = if ascii {
                    take_bytes(&mut bytes).is_some()
                } else {
                    take_str(&mut bytes).is_some()
                };
                if !whole {
                    return false;
                }
            }
        }
        bytes.is_empty()
    }
}

pub(crate) fn put_number(bytes: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        bytes.push(n as u8 | 0x80);
        n >>= 7;
    }
    bytes.push(n as u8);
}

/// A number of at most 32 bits (LEB128), from the front of `bytes`.
pub(crate) fn take_number(bytes: &mut &[u8]) -> Option<usize> {
    let mut n: u64 = 0;
    for (i, &b) in bytes.iter().enumerate().take(5) {
        n |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            *bytes = &bytes[i + 1..];
            return usize::try_from(u32::try_from(n).ok()?).ok();
        }
    }
    None
}

/// A string's bytes after their length, from the front of `bytes`, not
/// checked as UTF-8; `None` if they are not all there.
fn take_bytes<'a>(bytes: &mut &'a [u8]) -> Option<&'a [u8]> {
    let n = take_number(bytes)?;
    if n > bytes.len() {
        return None;
    }
    let (s, rest) = bytes.split_at(n);
    *bytes = rest;
    Some(s)
}

/// A string of UTF-8, from the front of `bytes`.
pub(crate) fn take_str<'a>(bytes: &mut &'a [u8]) -> Option<&'a str> {
    take_bytes(bytes).and_then(|s| std::str::from_utf8(s).ok())
}

impl PartialEq for Texts {
    fn eq(&self, other: &Self) -> bool {
        *self.0 == *other.0
    }
}

impl std::fmt::Debug for Texts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.sets().fmt(f)
    }
}

impl Serialize for Texts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Texts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Encoded::deserialize_checked(d, Texts::is_block).map(Texts)
    }
}

/// What a rule says when it fires. Only a diagnosis, `explain` and the
/// rule commands read it, so a start-up does not decode it (see
/// [`LazyProse`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Prose {
    pub title: Text,
    pub cause: Text,
    pub fix: Text,
    pub check: Option<Text>,
    pub not: Vec<String>,
    pub docs: Arc<[String]>,
    /// Each condition as written, in the order of [`Rule::conditions`]:
    /// kept here, decoded with the rest on first read, rather than a
    /// string per condition decoded at every start.
    pub conditions: Vec<String>,
}

/// A rule's [`Prose`], stored (in the built-in pack and the rule cache) as
/// one encoded block and decoded on first read. Decoding every rule's six
/// strings at start-up was the larger part of loading a pack: one copy of
/// the block costs one allocation, and a run reads the prose of the few
/// rules that fire.
pub struct LazyProse {
    encoded: Encoded,
    /// Boxed: a pack's rules are moved about while loading, and most are
    /// never read.
    decoded: OnceLock<Box<Prose>>,
}

impl LazyProse {
    pub fn new(prose: Prose) -> Self {
        LazyProse {
            encoded: Encoded::default(),
            decoded: OnceLock::from(Box::new(prose)),
        }
    }

    /// Keeps the text encoded only, as [`LazyLogic::shed`] does.
    pub fn shed(&mut self) {
        shed(&mut self.encoded, &mut self.decoded);
    }

    pub fn get(&self) -> &Prose {
        self.decoded.get_or_init(|| {
            // Written by this build (the pack, or a cache entry checked for
            // this version): a block that does not decode is a damaged
            // cache file, which must not stop the run.
            Box::new(
                postcard::from_bytes(&self.encoded).unwrap_or_else(|_| Prose {
                    title: "(this rule's text is damaged in the rule cache)".into(),
                    cause: "Run again with --no-cache to read the rule file afresh.".into(),
                    ..Prose::default()
                }),
            )
        })
    }
}

impl Clone for LazyProse {
    fn clone(&self) -> Self {
        match self.decoded.get() {
            Some(prose) => LazyProse::new(Prose::clone(prose)),
            None => LazyProse {
                encoded: self.encoded.clone(),
                decoded: OnceLock::new(),
            },
        }
    }
}

impl PartialEq for LazyProse {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl std::fmt::Debug for LazyProse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

/// One block of bytes, or (in [`writing_apart`]) its range in the block
/// written apart.
impl Serialize for LazyProse {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let fresh;
        let encoded: &[u8] = match self.decoded.get() {
            Some(prose) if self.encoded.is_unset() => {
                fresh = postcard::to_allocvec(prose).map_err(serde::ser::Error::custom)?;
                &fresh
            }
            _ => &self.encoded,
        };
        let range = WRITING_APART.with(|w| {
            w.borrow_mut().as_mut().map(|block| {
                let start = block.len();
                block.extend_from_slice(encoded);
                (start, encoded.len())
            })
        });
        match range {
            Some((start, len)) => {
                let to_u32 = |n: usize| u32::try_from(n).map_err(serde::ser::Error::custom);
                (to_u32(start)?, to_u32(len)?).serialize(s)
            }
            None => s.serialize_bytes(encoded),
        }
    }
}

impl LazyProse {
    /// The prose at `start` for `len` bytes of a block stored `apart` (as
    /// [`writing_apart`] wrote its range, and deserialising it reads it),
    /// if it lies in the block; read by hand in the rule cache's layout.
    pub(crate) fn apart(apart: &Arc<Apart>, start: u32, len: u32) -> Option<Self> {
        let part = Part::within(start, len, apart.len)?;
        Some(LazyProse {
            encoded: Encoded(Held::Apart(apart.clone(), part)),
            decoded: OnceLock::new(),
        })
    }
}

impl<'de> Deserialize<'de> for LazyProse {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        enum Prose {
            Inline,
            Apart(Arc<Apart>),
            Static(&'static [u8]),
        }
        let prose = READING.with(|r| match r.borrow().as_ref() {
            Some(Source::WithProseApart(_, apart)) => Prose::Apart(apart.clone()),
            Some(Source::StaticProseApart(_, block)) => Prose::Static(block),
            _ => Prose::Inline,
        });
        // Stored apart, a rule's prose is its range in the block.
        let outside = || serde::de::Error::custom("prose outside its block");
        let encoded = match prose {
            Prose::Inline => Encoded::deserialize(d)?,
            Prose::Static(block) => {
                let (start, len) = <(u32, u32)>::deserialize(d)?;
                let part = Part::within(start, len, block.len()).ok_or_else(outside)?;
                Encoded(Held::Static(&block[part.range()]))
            }
            Prose::Apart(apart) => {
                let (start, len) = <(u32, u32)>::deserialize(d)?;
                let part = Part::within(start, len, apart.len).ok_or_else(outside)?;
                Encoded(Held::Apart(apart, part))
            }
        };
        Ok(LazyProse {
            encoded,
            decoded: OnceLock::new(),
        })
    }
}

/// Where a rule was defined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    /// The rule file's path (built-in rules: relative to the repo), shared
    /// by the file's rules (see `digest::interned`).
    #[serde(deserialize_with = "super::digest::interned")]
    pub file: Arc<str>,
    pub builtin: bool,
    /// 1-based line of the rule's `id`.
    pub line: usize,
    /// Set when this user rule replaced a built-in rule with the same id
    /// (directly, or by replacing a user rule that did).
    pub overrides_builtin: bool,
    /// The file of the rule with the same id this one replaced.
    pub overrides: Option<Box<str>>,
    /// The file's text, to show a problem found after loading (a pattern
    /// that does not compile); not kept for the built-in pack. Shared by
    /// the file's rules: inline, it was 64 of a rule's 448 bytes, and
    /// thousands of rules are moved about at each start.
    #[serde(skip)]
    pub text: Option<Arc<SourceText>>,
}

/// A rule file's text, shared by its rules; printed by size only.
#[derive(Clone)]
pub enum SourceText {
    /// With the stamp of the file it was read from (none for text given in
    /// memory).
    Held(Arc<String>, Option<super::load::FileStamp>),
    /// Not held, but read again from the rule file when a problem needs
    /// it, and used only if the file still has the text loaded (see
    /// `engine::release_for_analysis`).
    OnDisk { len: usize, proof: FileProof },
}

/// What tells that a rule file still has the text it was loaded with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FileProof {
    /// The file's stamp, when it proves the text (as the rule cache trusts
    /// it): nothing to compute at load.
    Stamp(super::load::FileStamp),
    /// A hash of the text, for a file changed too recently for its stamp
    /// to prove anything, or text not read from a file.
    Hash(u64),
}

/// Texts are equal whatever stamps they were read with (a rule from the
/// cache equals the same rule parsed afresh).
impl PartialEq for SourceText {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (SourceText::Held(a, _), SourceText::Held(b, _)) => a == b,
            (
                SourceText::OnDisk { len, proof },
                SourceText::OnDisk {
                    len: other_len,
                    proof: other_proof,
                },
            ) => len == other_len && proof == other_proof,
            _ => false,
        }
    }
}

impl std::fmt::Debug for SourceText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceText::Held(text, _) => write!(f, "SourceText({} bytes)", text.len()),
            SourceText::OnDisk { len, .. } => write!(f, "SourceText({len} bytes, on disk)"),
        }
    }
}

/// The `{name}` placeholders of a text: (byte range of `{name}`, name).
/// A name is a fact field or a regex group: ASCII letters, digits, `_`,
/// `.` and `-`, not starting with a digit, `.` or `-`. Anything else in
/// braces (JSON, prose) is not a placeholder and stays as written.
pub fn placeholders(text: &str) -> impl Iterator<Item = (Range<usize>, &str)> {
    let bytes = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while let Some(open) = text[at..].find('{').map(|p| at + p) {
            at = open + 1;
            let name_len = bytes[open + 1..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
                .count();
            let end = open + 1 + name_len;
            let starts_well = bytes
                .get(open + 1)
                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
            if starts_well && bytes.get(end) == Some(&b'}') {
                at = end + 1;
                return Some((open..end + 1, &text[open + 1..end]));
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_names_in_braces_and_nothing_else() {
        let found: Vec<&str> =
            placeholders("{error} at {url.host}: {\"json\": 1} {} {9x} {a b} {_x-y.z} {{status}}")
                .map(|(_, n)| n)
                .collect();
        assert_eq!(found, ["error", "url.host", "_x-y.z", "status"]);
        let (range, _) = placeholders("é{x}").next().unwrap();
        assert_eq!(range, 2..5);
    }

    #[test]
    fn blocks_read_from_held_bytes_are_parts_of_them() {
        let prose = Prose {
            title: "Token refused".into(),
            ..Prose::default()
        };
        let bytes = Arc::new(postcard::to_allocvec(&LazyProse::new(prose.clone())).unwrap());
        let shared: LazyProse = reading_from(Source::Shared(bytes.clone()), || {
            postcard::from_bytes(&bytes).unwrap()
        });
        assert!(matches!(shared.encoded.0, Held::Shared(..)));
        assert_eq!(shared.get(), &prose);
        // Other bytes than the source's are copied.
        let copy = bytes.to_vec();
        let own: LazyProse = reading_from(Source::Shared(bytes.clone()), || {
            postcard::from_bytes(&copy).unwrap()
        });
        assert!(matches!(own.encoded.0, Held::Own(_)));
        assert_eq!(own.get(), &prose);
        let unregistered: LazyProse = postcard::from_bytes(&bytes).unwrap();
        assert!(matches!(unregistered.encoded.0, Held::Own(_)));
    }

    #[test]
    fn prose_is_decoded_on_first_read_and_survives_damage() {
        let prose = Prose {
            title: "Token refused".into(),
            cause: "The grant is {error}.".into(),
            fix: "Fix it.".into(),
            check: Some("Look.".into()),
            not: vec!["Not scopes.".into()],
            docs: vec!["https://example.com".into()].into(),
            conditions: vec!["error = \"invalid_grant\"".into()],
        };
        let bytes = postcard::to_allocvec(&LazyProse::new(prose.clone())).unwrap();
        let read: LazyProse = postcard::from_bytes(&bytes).unwrap();
        assert!(read.decoded.get().is_none(), "decoded only when read");
        assert_eq!(read.get(), &prose);
        // Encoded again without being read: the same block.
        let again: LazyProse = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(postcard::to_allocvec(&again).unwrap(), bytes);
        assert_eq!(again.clone(), read);
        // A damaged block (a cache file cut short) reads as a note, not a panic.
        let damaged = LazyProse {
            encoded: Encoded(Held::Own(bytes[1..bytes.len() / 2].into())),
            decoded: OnceLock::new(),
        };
        assert!(damaged.get().title.contains("damaged"));
    }

    #[test]
    fn texts_read_in_place_and_a_damaged_block_is_refused() {
        let sets = vec![
            vec!["quota".to_string(), "exhausted".to_string()],
            vec![],
            vec!["é".repeat(100)],
        ];
        let texts = Texts::new(&sets);
        let bytes = postcard::to_allocvec(&texts).unwrap();
        let shared = Arc::new(bytes.clone());
        let read: Texts = reading_from(Source::Shared(shared.clone()), || {
            postcard::from_bytes(&shared).unwrap()
        });
        assert!(matches!(read.0.0, Held::Shared(..)), "a part, not a copy");
        assert_eq!(read, texts);
        assert_eq!(
            read.sets(),
            vec![vec!["quota", "exhausted"], vec![], vec![&*"é".repeat(100)]]
        );
        let strings: Vec<(usize, &str)> = read.strings().collect();
        assert_eq!(strings[..2], [(0, "quota"), (0, "exhausted")]);
        assert_eq!(strings[2].0, 2);
        assert_eq!(Texts::one(&["a"]).sets(), vec![vec!["a"]]);
        // Every cut, a string's bytes made invalid UTF-8, a count past the
        // end, bytes after the block: refused when read, never a panic.
        let block = texts.0.to_vec();
        let read_block = |block: &[u8]| {
            let bytes = postcard::to_allocvec(&Block(block)).unwrap();
            postcard::from_bytes::<Texts>(&bytes).ok()
        };
        assert!(read_block(&block).is_some());
        for cut in 0..block.len() {
            assert!(read_block(&block[..cut]).is_none(), "cut at {cut}");
        }
        let mut bad_utf8 = block.clone();
        let last = bad_utf8.len() - 1;
        bad_utf8[last] = 0xff;
        assert!(read_block(&bad_utf8).is_none());
        assert!(read_block(&[0xff, 0xff, 0xff, 0xff, 0x0f, 1, 0]).is_none());
        assert!(read_block(&[0xff; 6]).is_none());
        let mut trailing = block.clone();
        trailing.push(0);
        assert!(read_block(&trailing).is_none());
    }
}
