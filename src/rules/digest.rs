//! What a start-up derives from each rule's conditions, derived once when
//! the rule is validated and stored beside them (in the built-in pack and
//! the rule cache): the keys of the rule index (`prefilter`) and the
//! rule's `input.text` tests (`scan`). A start reads these instead of
//! decoding every rule's conditions, which then are decoded only for the
//! rules an incident can concern (see `LazyLogic`).

use std::ops::Range;
use std::sync::Arc;

use serde::Deserializer;

use super::literals::{ascii_factor, ascii_run, at_least};
use super::{Condition, Literal, Logic, Op, Texts, put_number, take_number, take_str};

/// Literal factors shorter than this match too often to be worth keying on.
const MIN_FACTOR: usize = 3;
/// The shortest factor the input-wide scan searches for: shorter ones
/// occur in nearly every chunk, and a pattern with no set of longer ones
/// simply runs everywhere. An input test's factors (see
/// [`InputTest::factors`]) are narrowed to these when digested.
pub const INPUT_MIN_FACTOR: usize = 2;

/// A value a condition needs, as the index stores it.
#[derive(Debug, Clone, PartialEq)]
pub enum Exact {
    /// Text, by its [`text_key`].
    Text(u64),
    Number(f64),
}

/// A text value's key in the rule index: a hash of it ASCII-lower-cased
/// (text equality is ASCII-case-insensitive), stable across builds (the
/// built-in pack's keys are found by build.rs). Two texts with one key
/// only make a rule a candidate it would not have been, and candidates are
/// evaluated in full: the result is the same. Keys rather than the texts
/// save a copy of each value, in the index and in every rule read.
pub fn text_key(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h = (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// What a rule cannot fire without, on one field.
#[derive(Debug, Clone, PartialEq)]
pub enum Need {
    /// This value of the field: most keys, read without a vector.
    Value(Exact),
    /// One of these values of the field.
    Values(Vec<Exact>),
    /// A value of the field containing one of these factors (lower-case),
    /// as one set.
    Factors(Texts),
    /// Some value of the field.
    Present,
}

/// A condition the rule cannot fire without.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// Shared by the keys read on one thread (see [`intern`]).
    pub field: Arc<str>,
    pub need: Need,
}

/// A rule file's name read as one shared with the rules read before it
/// from the same file: a pack of thousands of rules names hundreds of
/// files, and a start read a copy per rule. A file's rules are read one
/// after another, so only the last few names are kept (see [`Recent`]).
/// Read as bytes, which postcard writes as it writes text: a name seen is
/// compared as bytes, and only a new one checked as UTF-8.
pub fn interned<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<str>, D::Error> {
    struct Name;
    impl serde::de::Visitor<'_> for Name {
        type Value = Arc<str>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a file name")
        }
        fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Arc<str>, E> {
            self.visit_bytes(name.as_bytes())
        }
        fn visit_bytes<E: serde::de::Error>(self, name: &[u8]) -> Result<Arc<str>, E> {
            FILE_NAMES.with(|names| names.borrow_mut().intern(name).map_err(E::custom))
        }
    }
    d.deserialize_bytes(Name)
}

/// A field name read as one shared with those read before it: a pack
/// names a few dozen fields, thousands of times.
fn intern(name: &[u8]) -> Result<Arc<str>, std::str::Utf8Error> {
    FIELD_NAMES.with(|names| names.borrow_mut().intern(name))
}

thread_local! {
    // Apart: file names, new every few rules, pushed the field names out
    // of one list and were compared with all of them (callgrind, paste:
    // 1.0 M instructions for 3,567 names; session 61).
    static FILE_NAMES: std::cell::RefCell<Recent<4>> = const { std::cell::RefCell::new(Recent(Vec::new())) };
    static FIELD_NAMES: std::cell::RefCell<Recent<32>> = const { std::cell::RefCell::new(Recent(Vec::new())) };
}

/// The last `KEPT` names read on a thread, looked up newest first: a
/// handful of comparisons of short names where a map would hash each.
struct Recent<const KEPT: usize>(Vec<Arc<str>>);

impl<const KEPT: usize> Recent<KEPT> {
    fn intern(&mut self, name: &[u8]) -> Result<Arc<str>, std::str::Utf8Error> {
        let recent = &mut self.0;
        if let Some(i) = recent.iter().rposition(|r| r.as_bytes() == name) {
            let found = recent.remove(i);
            recent.push(found.clone());
            return Ok(found);
        }
        let new: Arc<str> = std::str::from_utf8(name)?.into();
        if recent.len() == KEPT {
            recent.remove(0);
        }
        recent.push(new.clone());
        Ok(new)
    }
}

/// Conditions a rule cannot fire without, one of which an incident must
/// meet.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Keys {
    /// No usable one: the rule is always evaluated.
    #[default]
    None,
    /// One of `when`: most rules, held without a vector (one allocation
    /// per rule read).
    When(Key),
    /// One per `any` table.
    Any(Vec<Key>),
}

impl Keys {
    /// The keys, `None` when the rule has none.
    pub fn get(&self) -> Option<&[Key]> {
        match self {
            Keys::None => None,
            Keys::When(key) => Some(std::slice::from_ref(key)),
            Keys::Any(keys) => Some(keys),
        }
    }
}

/// An `input.text` test, as the input-wide scan searches it.
#[derive(Debug, Clone, PartialEq)]
pub struct InputTest {
    /// The regex that answers the test over raw text.
    pub pattern: Arc<str>,
    /// Its literal factors (see `rules::literals`) as the input scan
    /// searches for them: `at_least(…, INPUT_MIN_FACTOR)`, if any are left.
    pub factors: Option<Texts>,
    /// The literals every match of the pattern starts with (see
    /// [`input_starts`]), for the scan of a small text.
    pub starts: Option<Texts>,
    /// Where the test is written in its rule file.
    pub span: Option<Range<usize>>,
}

/// What start-up needs of a rule's conditions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Digest {
    /// Conditions the rule cannot fire without, one of which an incident
    /// must meet (one of `when`, else one per `any` table).
    pub keys: Keys,
    /// The `input.text` tests, in the order of `Rule::conditions` (the
    /// engine numbers them in this order, see [`is_input_test`]).
    pub input_tests: Vec<InputTest>,
    /// Input tests (by their place in `input_tests`) of which the rule
    /// cannot fire without a hit of one: the first of `when`'s, else the
    /// first of each `any` table when every table has one. Empty when no
    /// hit is necessary. Most input rules state their text in an `any`
    /// table; without this, every input decoded and tested them all.
    pub needed_inputs: Vec<usize>,
    /// How many `regex` tests there are besides input tests.
    pub regexes: usize,
}

impl Digest {
    pub fn of(logic: &Logic) -> Digest {
        let keys = match conjunction_need(&logic.when) {
            Some(key) => Keys::When(key),
            None if logic.any.is_empty() => Keys::None,
            None => logic
                .any
                .iter()
                .map(|t| conjunction_need(t))
                .collect::<Option<Vec<Key>>>()
                .map_or(Keys::None, Keys::Any),
        };
        let mut input_tests = Vec::new();
        let mut regexes = 0;
        // Where each condition's first input test lies, if it has one.
        let mut first_test: Vec<Option<usize>> = Vec::new();
        for cond in logic.conditions() {
            first_test.push(None);
            for op in &cond.ops {
                if is_input_test(cond, op) {
                    if let Some(first) = first_test.last_mut() {
                        first.get_or_insert(input_tests.len());
                    }
                    let pattern = input_regex(op).unwrap_or_default();
                    input_tests.push(InputTest {
                        starts: input_starts(&pattern),
                        pattern: pattern.into(),
                        factors: input_factors(op),
                        span: match op {
                            Op::Regex(r) => r.span.clone(),
                            _ => cond.span.clone(),
                        },
                    });
                } else if matches!(op, Op::Regex(_)) {
                    regexes += 1;
                }
            }
        }
        Digest {
            keys,
            input_tests,
            needed_inputs: needed_inputs(logic, &first_test),
            regexes,
        }
    }
}

/// See [`Digest::needed_inputs`]; `first_test` holds each condition's
/// first input test, in the order of [`Logic::conditions`].
fn needed_inputs(logic: &Logic, first_test: &[Option<usize>]) -> Vec<usize> {
    let (when, rest) = first_test.split_at(logic.when.len());
    if let Some(test) = when.iter().flatten().next() {
        return vec![*test];
    }
    let mut rest = rest;
    let mut needed = Vec::with_capacity(logic.any.len());
    for table in &logic.any {
        let (tests, after) = rest.split_at(table.len());
        rest = after;
        match tests.iter().flatten().next() {
            Some(test) => needed.push(*test),
            None => return Vec::new(),
        }
    }
    needed
}

/// A digest in the rule cache's layout (see `load::cache::put_rules`),
/// written by hand like the rest of a cached rule: read through serde's
/// visitors it took about 860 instructions per rule, the most of reading
/// a cached rule. Numbers are LEB128, text keys and numbers their eight
/// bytes, enums and options a tag byte, vectors their length first.
impl Digest {
    pub(crate) fn put(&self, out: &mut Vec<u8>) {
        match &self.keys {
            Keys::None => out.push(0),
            Keys::When(key) => {
                out.push(1);
                key.put(out);
            }
            Keys::Any(keys) => {
                out.push(2);
                put_list(out, keys, Key::put);
            }
        }
        put_number(out, self.input_tests.len());
        for test in &self.input_tests {
            put_number(out, test.pattern.len());
            out.extend_from_slice(test.pattern.as_bytes());
            match &test.factors {
                Some(factors) => {
                    out.push(1);
                    factors.put(out);
                }
                None => out.push(0),
            }
            match &test.starts {
                Some(starts) => {
                    out.push(1);
                    starts.put(out);
                }
                None => out.push(0),
            }
            match &test.span {
                Some(span) => {
                    out.push(1);
                    put_number(out, span.start);
                    put_number(out, span.end);
                }
                None => out.push(0),
            }
        }
        put_list(out, &self.needed_inputs, |n, out| put_number(out, *n));
        put_number(out, self.regexes);
    }

    /// A digest [`Digest::put`] wrote at the front of `bytes` (a part of
    /// the bytes being read, see `model::reading_from`); `None` if damaged.
    pub(crate) fn take(bytes: &mut &[u8]) -> Option<Digest> {
        let keys = match take_byte(bytes)? {
            0 => Keys::None,
            1 => Keys::When(Key::take(bytes)?),
            // A key takes at least three bytes.
            2 => Keys::Any(take_list(bytes, 3, Key::take)?),
            _ => return None,
        };
        let input_tests = take_list(bytes, 4, |bytes| {
            let pattern: Arc<str> = take_str(bytes)?.into();
            let factors = match take_byte(bytes)? {
                0 => None,
                1 => Some(Texts::take(bytes)?),
                _ => return None,
            };
            let starts = match take_byte(bytes)? {
                0 => None,
                1 => Some(Texts::take(bytes)?),
                _ => return None,
            };
            let span = match take_byte(bytes)? {
                0 => None,
                1 => Some(take_number(bytes)?..take_number(bytes)?),
                _ => return None,
            };
            Some(InputTest {
                pattern,
                factors,
                starts,
                span,
            })
        })?;
        let needed_inputs = take_list(bytes, 1, take_number)?;
        let regexes = take_number(bytes)?;
        Some(Digest {
            keys,
            input_tests,
            needed_inputs,
            regexes,
        })
    }
}

/// Items after their count, each written by `put` (read by [`take_list`]).
fn put_list<T>(out: &mut Vec<u8>, items: &[T], put: impl Fn(&T, &mut Vec<u8>)) {
    put_number(out, items.len());
    items.iter().for_each(|item| put(item, out));
}

/// Items written after their count, each read by `take`; `None` if one is
/// damaged. Room is made for no more than the bytes left could hold
/// (`least` bytes an item): a lying count makes none past the block.
fn take_list<T>(
    bytes: &mut &[u8],
    least: usize,
    take: impl Fn(&mut &[u8]) -> Option<T>,
) -> Option<Vec<T>> {
    let n = take_number(bytes)?;
    let mut items = Vec::with_capacity(n.min(bytes.len() / least));
    for _ in 0..n {
        items.push(take(bytes)?);
    }
    Some(items)
}

impl Key {
    fn put(&self, out: &mut Vec<u8>) {
        put_number(out, self.field.len());
        out.extend_from_slice(self.field.as_bytes());
        match &self.need {
            Need::Value(value) => {
                out.push(0);
                value.put(out);
            }
            Need::Values(values) => {
                out.push(1);
                put_list(out, values, Exact::put);
            }
            Need::Factors(factors) => {
                out.push(2);
                factors.put(out);
            }
            Need::Present => out.push(3),
        }
    }

    fn take(bytes: &mut &[u8]) -> Option<Key> {
        let len = take_number(bytes)?;
        if len > bytes.len() {
            return None;
        }
        let (name, rest) = bytes.split_at(len);
        *bytes = rest;
        let field = intern(name).ok()?;
        let need = match take_byte(bytes)? {
            0 => Need::Value(Exact::take(bytes)?),
            1 => Need::Values(take_list(bytes, 9, Exact::take)?),
            2 => Need::Factors(Texts::take(bytes)?),
            3 => Need::Present,
            _ => return None,
        };
        Some(Key { field, need })
    }
}

impl Exact {
    fn put(&self, out: &mut Vec<u8>) {
        let (tag, bits) = match self {
            Exact::Text(key) => (0, *key),
            Exact::Number(n) => (1, n.to_bits()),
        };
        out.push(tag);
        out.extend_from_slice(&bits.to_le_bytes());
    }

    fn take(bytes: &mut &[u8]) -> Option<Exact> {
        let tag = take_byte(bytes)?;
        if bytes.len() < 8 {
            return None;
        }
        let (eight, rest) = bytes.split_at(8);
        *bytes = rest;
        let bits = u64::from_le_bytes(eight.try_into().ok()?);
        match tag {
            0 => Some(Exact::Text(bits)),
            1 => Some(Exact::Number(f64::from_bits(bits))),
            _ => None,
        }
    }
}

fn take_byte(bytes: &mut &[u8]) -> Option<u8> {
    let (&first, rest) = bytes.split_first()?;
    *bytes = rest;
    Some(first)
}

/// Whether `op` of `cond` is answered by the input-wide scan.
pub fn is_input_test(cond: &Condition, op: &Op) -> bool {
    cond.field == "input.text" && input_regex(op).is_some()
}

/// The regex that answers an `input.text` test over raw text.
fn input_regex(op: &Op) -> Option<String> {
    let esc = |s: &str| regex_syntax::escape(s);
    Some(match op {
        Op::Regex(re) => format!("(?m){}", re.pattern),
        Op::Contains(s) => format!("(?i){}", esc(s)),
        Op::StartsWith(s) => format!(r"(?im)^[ \t]*{}", esc(s)),
        Op::EndsWith(s) => format!(r"(?im){}[ \t]*$", esc(s)),
        Op::Equals(Literal::Str(s)) => format!(r"(?im)^[ \t]*{}[ \t]*$", esc(s)),
        Op::AnyOf(lits) => {
            let alts: Vec<String> = lits
                .iter()
                .map(|l| match l {
                    Literal::Str(s) => esc(s),
                    other => esc(&other.to_string()),
                })
                .collect();
            format!(r"(?im)^[ \t]*(?:{})[ \t]*$", alts.join("|"))
        }
        _ => return None,
    })
}

/// The literals every match of an input test's `pattern` starts with,
/// ASCII-lower-cased: the `regex` crate's own prefix literals (as its
/// prefilter has them), found once here rather than at every start. The
/// input scan looks them up in a small text before compiling the pattern
/// (see `scan::InputScanner::may_start_in`): building the prefilter for
/// that was 2.1 M of a one-line paste's 27.8 M instructions (callgrind,
/// session 54). A literal cut inside a character is cut back to the
/// character's start; one empty literal when a match may start with
/// anything; `None` when the pattern does not parse.
pub fn input_starts(pattern: &str) -> Option<Texts> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::parse(pattern).ok()?;
    let mut extractor = Extractor::new();
    extractor.kind(ExtractKind::Prefix);
    let mut seq = extractor.extract(&hir);
    seq.optimize_for_prefix_by_preference();
    let Some(literals) = seq.literals() else {
        return Some(Texts::one(&[""]));
    };
    let mut starts: Vec<String> = literals
        .iter()
        .map(|l| {
            let bytes = l.as_bytes();
            let valid = match std::str::from_utf8(bytes) {
                Ok(s) => s,
                Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
            };
            valid.to_ascii_lowercase()
        })
        .collect();
    starts.sort_unstable();
    starts.dedup();
    if starts.iter().any(String::is_empty) {
        starts = vec![String::new()];
    }
    Some(Texts::one(&starts))
}

/// The literal factors of an `input.text` test's pattern (`input_regex`).
fn input_factors(op: &Op) -> Option<Texts> {
    let factor = |s: &str| ascii_factor(&s.to_lowercase(), 1);
    let sets: Vec<Vec<String>> = match op {
        Op::Regex(r) => r.factors.clone()?,
        Op::Contains(s) | Op::StartsWith(s) | Op::EndsWith(s) => vec![vec![factor(s)?]],
        Op::Equals(Literal::Str(s)) => vec![vec![factor(s)?]],
        Op::AnyOf(lits) => vec![
            lits.iter()
                .map(|l| match l {
                    Literal::Str(s) => factor(s),
                    other => factor(&other.to_string()),
                })
                .collect::<Option<Vec<String>>>()?,
        ],
        _ => return None,
    };
    // Narrowed here, once, as the input scan would at every start.
    at_least(Some(&sets), INPUT_MIN_FACTOR).map(|sets| Texts::new(&sets))
}

/// What a condition needs, borrowed while the needs are compared (most
/// are dropped; only the one kept is copied).
enum Candidate<'a> {
    Values(&'a [Literal]),
    Factors(Vec<String>),
    /// Contains this text, ASCII-case-insensitively.
    Factor(&'a str),
    Present,
}

impl Candidate<'_> {
    /// Higher is more selective.
    fn rank(&self) -> (usize, usize) {
        match self {
            Candidate::Values(_) => (3, 0),
            Candidate::Factors(fs) => (2, fs.iter().map(String::len).min().unwrap_or(0)),
            Candidate::Factor(f) => (2, f.len()),
            Candidate::Present => (1, 0),
        }
    }

    fn owned(self) -> Need {
        match self {
            Candidate::Values([value]) => Need::Value(exact(value)),
            Candidate::Values(values) => Need::Values(values.iter().map(exact).collect()),
            Candidate::Factors(fs) => Need::Factors(Texts::one(&fs)),
            Candidate::Factor(f) => Need::Factors(Texts::one(&[f.to_ascii_lowercase()])),
            Candidate::Present => Need::Present,
        }
    }
}

fn exact(lit: &Literal) -> Exact {
    match lit {
        Literal::Str(s) => Exact::Text(text_key(s)),
        Literal::Num(n) => Exact::Number(*n),
        Literal::Bool(b) => Exact::Text(text_key(if *b { "true" } else { "false" })),
    }
}

/// The need of one condition, if it has one.
fn condition_need(cond: &Condition) -> Option<Candidate<'_>> {
    // `input.*` facts are not the incident's; input tests are answered by
    // the input-wide scan.
    if cond.field.starts_with("input.") {
        return None;
    }
    cond.ops
        .iter()
        .filter_map(op_need)
        .max_by_key(Candidate::rank)
}

fn op_need(op: &Op) -> Option<Candidate<'_>> {
    Some(match op {
        Op::Equals(lit) => Candidate::Values(std::slice::from_ref(lit)),
        Op::AnyOf(lits) => Candidate::Values(lits),
        // The most selective set is enough to key on.
        Op::Regex(r) => match at_least(r.factors.as_deref(), MIN_FACTOR) {
            Some(mut sets) => Candidate::Factors(sets.swap_remove(0)),
            None => Candidate::Present,
        },
        // Already lower-cased (Unicode); see `ascii_factor` for why only
        // its ASCII part is a factor of the original text.
        Op::Contains(s) | Op::StartsWith(s) | Op::EndsWith(s) => match ascii_run(s, MIN_FACTOR) {
            Some(f) => Candidate::Factor(f),
            None => Candidate::Present,
        },
        Op::Exists(true) | Op::Gt(_) | Op::Lt(_) | Op::Gte(_) | Op::Lte(_) | Op::SameAs(_) => {
            Candidate::Present
        }
        Op::Exists(false) | Op::Input(_) => return None,
    })
}

/// The best need among conditions that must all hold.
fn conjunction_need(conds: &[Condition]) -> Option<Key> {
    conds
        .iter()
        .filter_map(|c| condition_need(c).map(|n| (c.field.as_str(), n)))
        .max_by_key(|(_, n)| n.rank())
        .map(|(field, need)| Key {
            field: field.into(),
            need: need.owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::input_starts;

    fn starts(pattern: &str) -> Vec<String> {
        let texts = input_starts(pattern).expect("parses");
        texts.strings().map(|(_, s)| s.to_string()).collect()
    }

    #[test]
    fn start_literals_are_lower_cased_prefixes() {
        let client = starts(r"(?m)(?i)\bclient[ _]credentials\b");
        assert!(
            !client.is_empty()
                && client
                    .iter()
                    .all(|s| "client credentials".starts_with(s.as_str())
                        || "client_credentials".starts_with(s.as_str())),
            "{client:?}"
        );
        // A match may start anywhere: one empty literal.
        assert_eq!(starts(r"(?i)[a-z]+ (?:denied|refused)"), [""]);
        assert_eq!(starts(r"x*"), [""]);
        assert_eq!(input_starts(r"(unclosed"), None);
    }

    /// Wherever a pattern matches, one of its start literals is found
    /// (ASCII-case-insensitively) in the text: they may rule a text out,
    /// never a match.
    #[test]
    fn a_match_holds_a_start_literal() {
        let cases = [
            (
                r"(?i)\bclient[ _]credentials\b",
                "grant CLIENT_Credentials here",
            ),
            (
                r"(?m)^[ \t]*Error: (?:quota|limit) exceeded",
                "  Error: limit exceeded",
            ),
            (r"(?i)k(?:ey|ms) denied", "\u{212A}ms denied"),
            (r"(?i)résumé expired", "RÉSUMÉ expired"),
            (r"[A-Z]{3}-\d+ failed", "ABC-12 failed"),
            (
                r"(?:AKIA|ASIA)[A-Z0-9]{16}",
                "key ASIAABCDEFGHIJKLMNOP used",
            ),
        ];
        for (pattern, text) in cases {
            let re = regex::Regex::new(pattern).unwrap();
            assert!(re.is_match(text), "{pattern}");
            let found = starts(pattern).iter().any(|s| {
                crate::rules::literals::find_ignore_ascii_case(text.as_bytes(), s.as_bytes())
                    .is_some()
            });
            assert!(found, "{pattern}: {:?}", starts(pattern));
        }
    }
}
