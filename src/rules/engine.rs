//! Evaluates loaded rules against an incident's facts.
//!
//! Nothing is compiled up front: each rule's regexes are compiled the first
//! time the rule is evaluated, the input-wide scanner and the rule index
//! (which rules can fire for an incident at all, see `prefilter`) are built
//! on first use, from each rule's digest: a rule's conditions are decoded
//! when it is first evaluated. Listing or explaining rules compiles nothing,
//! and a pasted body compiles the patterns of the few rules it can concern.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

use foldhash::{HashMap, HashMapExt};

use super::literals::{find_ignore_ascii_case, may_match};
use super::load::FileStamp;
use super::load::{RuleProblem, RuleSource};
use super::prefilter::RuleIndex;
use super::scan::{InputFacts, InputPattern, InputPatternSpec, InputScanner};
use super::{Condition, FileProof, Literal, Op, Place, Rule, Scope, SourceText, placeholders};
use crate::facts::{FactValue, Facts, Line};
use crate::input::{Loc, Span};
use crate::parse::Value;
use crate::parse::lean::Regex;
use crate::providers::Providers;

/// A `regex` test's pattern, compiled on first need. Its pattern is in the
/// rule's conditions (see `RegexOp::slot`), which may not be decoded yet.
/// Compiled without literal prefilters (see `parse::lean`): the test's
/// own literal factors screen the fact values it is asked about, and
/// building the prefilters was most of compiling the rules'
/// case-insensitive alternations.
struct RegexSlot {
    rule: usize,
    compiled: OnceLock<Result<Regex, regex::Error>>,
}

/// From this many rules the index is built beside the input scanner (see
/// [`RuleSet::scanner`]); the built-in pack has about 500.
const INDEX_BESIDE_FROM: usize = 2000;

/// Rules ready to run, with the provider data they rely on.
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub providers: Providers,
    /// Built on first lookup: only `explain` looks rules up by id.
    by_id: OnceLock<HashMap<String, usize>>,
    regexes: Vec<RegexSlot>,
    /// Each pattern compiled so far, by the slot that compiled it: packs
    /// repeat patterns across rules, and the others share it.
    compiled_by_pattern: Mutex<HashMap<String, usize>>,
    /// Taken by the scanner when it is built.
    input_specs: Mutex<Vec<InputPatternSpec>>,
    /// Input rules, with the input patterns of which one must have hit
    /// for the rule to fire (none: no hit is necessary; see
    /// `Digest::needed_inputs`).
    input_rules: Vec<(usize, Vec<usize>)>,
    scanner: OnceLock<InputScanner>,
    index: OnceLock<RuleIndex>,
}

/// A piece of evidence: where a condition held, and what to say there.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub loc: Loc,
    pub label: String,
    /// The line, when the evidence lies outside the incident's excerpt.
    pub line: Option<Line>,
}

/// A rule that held, with its evidence and interpolation variables.
#[derive(Debug, Clone)]
pub struct RuleMatch {
    pub rule: usize,
    pub evidence: Vec<Evidence>,
    pub vars: BTreeMap<String, String>,
    /// How many conditions held: more means a more specific explanation.
    pub specificity: usize,
}

/// A rule's `regex` test as it is compiled: its `\b` ASCII word boundaries
/// (see `scan::ascii_word_boundaries`); borrowed when it has none.
fn compiled_form(pattern: &str) -> std::borrow::Cow<'_, str> {
    if pattern.contains("\\b") {
        std::borrow::Cow::Owned(super::scan::ascii_word_boundaries(pattern))
    } else {
        std::borrow::Cow::Borrowed(pattern)
    }
}

/// Whether `compiled` is [`compiled_form`] of `pattern`, compared piece by
/// piece: asked at every evaluation of a regex test, where building the
/// form again allocated each time.
fn is_compiled_form(compiled: &str, pattern: &str) -> bool {
    let mut rest = compiled;
    let mut chars = pattern.chars();
    let mut take = |piece: &str| match rest.strip_prefix(piece) {
        Some(after) => {
            rest = after;
            true
        }
        None => false,
    };
    while let Some(c) = chars.next() {
        let ok = match (c, c == '\\') {
            (_, false) => take(c.encode_utf8(&mut [0; 4])),
            (_, true) => match chars.next() {
                Some('b') => take("(?-u:\\b)"),
                Some(next) => take("\\") && take(next.encode_utf8(&mut [0; 4])),
                None => take("\\"),
            },
        };
        if !ok {
            return false;
        }
    }
    rest.is_empty()
}

impl RuleSet {
    pub fn new(mut rules: Vec<Rule>, providers: Providers) -> Self {
        // Sized first: grown a push at a time, the built-in pack's vectors
        // were copied over and over (0.3 M instructions of a paste's run).
        let (mut tests, mut regex_tests, mut input_scoped) = (0, 0, 0);
        for rule in &rules {
            let digest = rule.digest();
            tests += digest.input_tests.len();
            regex_tests += digest.regexes;
            input_scoped += usize::from(rule.scope == Scope::Input);
        }
        let mut regexes: Vec<RegexSlot> = Vec::with_capacity(regex_tests);
        let places = InputScanner::place_patterns(&providers);
        let mut input_specs = Vec::with_capacity(tests + places.len());
        let mut input_rules = Vec::with_capacity(input_scoped);
        for (index, rule) in rules.iter_mut().enumerate() {
            // From the digest: the conditions stay encoded (see `LazyLogic`).
            let place = Place {
                input: input_specs.len(),
                regex: regexes.len(),
            };
            let digest = rule.digest();
            if rule.scope == Scope::Input {
                let needed = digest.needed_inputs.iter().map(|k| place.input + k);
                input_rules.push((index, needed.collect()));
            }
            for test in &digest.input_tests {
                input_specs.push(InputPatternSpec {
                    pattern: test.pattern.clone(),
                    purpose: InputPattern::Condition(input_specs.len()),
                    trusted: rule.origin.builtin,
                    rule: Some(index),
                    span: test.span.clone(),
                    factors: test.factors.clone(),
                    starts: test.starts.clone(),
                });
            }
            regexes.extend((0..digest.regexes).map(|_| RegexSlot {
                rule: index,
                compiled: OnceLock::new(),
            }));
            rule.logic.place(place);
        }
        input_specs.extend(places);
        RuleSet {
            rules,
            providers,
            by_id: OnceLock::new(),
            regexes,
            compiled_by_pattern: Mutex::new(HashMap::new()),
            input_specs: Mutex::new(input_specs),
            input_rules,
            scanner: OnceLock::new(),
            index: OnceLock::new(),
        }
    }

    /// The input-wide scanner, built on first use. With many rules, the
    /// rule index (needed next, for every incident's candidates) is built
    /// beside it on another thread: each then takes a millisecond or more.
    /// (Rules read from the cache no longer start the thread pool, see
    /// `load::Loader::parse_all`; built one after the other instead, a
    /// paste with 4,410 cached rules took the same wall time, measured.)
    pub fn scanner(&self) -> &InputScanner {
        self.scanner.get_or_init(|| {
            let build = || {
                let mut specs = self
                    .input_specs
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                InputScanner::new(std::mem::take(&mut *specs))
            };
            if self.rules.len() < INDEX_BESIDE_FROM {
                return build();
            }
            // A thread of its own: a `rayon::join` from outside the pool
            // starts the pool's threads (one per core) for this one job,
            // and each new thread takes an allocator arena.
            std::thread::scope(|s| {
                s.spawn(|| {
                    self.index();
                });
                build()
            })
        })
    }

    fn index(&self) -> &RuleIndex {
        self.index.get_or_init(|| RuleIndex::new(&self.rules))
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.position(id).map(|i| &self.rules[i])
    }

    /// Index of the rule with this id.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.by_id
            .get_or_init(|| {
                let mut by_id = HashMap::with_capacity(self.rules.len());
                for (index, rule) in self.rules.iter().enumerate() {
                    by_id.entry(rule.id.clone()).or_insert(index);
                }
                by_id
            })
            .get(id)
            .copied()
    }

    /// A rule's `regex` test, compiled (on first need). `None` when it does
    /// not compile, or belongs to another rule set.
    pub fn regex_of(&self, op: &super::RegexOp) -> Option<&Regex> {
        let slot = self.regexes.get(op.slot)?;
        let ours = self.rules[slot.rule].conditions().any(|c| {
            c.ops
                .iter()
                .any(|o| matches!(o, Op::Regex(r) if r.slot == op.slot && r.pattern == op.pattern))
        });
        ours.then(|| self.regex(op))?
    }

    /// Whether rule `rule` is the built-in pack's, whose patterns its
    /// tests compile as written (see `lean::Regex::with_regex_error`).
    fn tested(&self, rule: usize) -> bool {
        self.rules.get(rule).is_some_and(|r| r.origin.builtin)
    }

    /// The compiled pattern of a `regex` test of this set's rules.
    fn regex(&self, op: &super::RegexOp) -> Option<&Regex> {
        let slot = self.regexes.get(op.slot)?;
        let compiled = slot.compiled.get_or_init(|| {
            let shared = |by_pattern: &HashMap<String, usize>| {
                let other = &self.regexes[*by_pattern.get(&op.pattern)?];
                other.compiled.get().cloned()
            };
            if let Some(done) = shared(&self.lock_compiled()) {
                return done;
            }
            // With ASCII word boundaries: a Unicode `\b` kept a test off the
            // lazy DFA; its search of a one-line paste's description took
            // 0.4 M instructions (callgrind, session 54), a third of that.
            let compiled =
                Regex::with_regex_error(&compiled_form(&op.pattern), self.tested(slot.rule))
                    .map(Regex::sharing_caches);
            self.lock_compiled().insert(op.pattern.clone(), op.slot);
            compiled
        });
        // A slot holds the pattern of its test (unless a damaged cache
        // entry numbered its tests otherwise: then the test holds nowhere).
        compiled
            .as_ref()
            .ok()
            .filter(|re| is_compiled_form(re.as_str(), &op.pattern))
    }

    fn lock_compiled(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.compiled_by_pattern
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The incident rules evaluated for `facts`: those the index cannot
    /// rule out. Their number, not the size of the rule set, is the work
    /// per incident.
    pub fn candidates(&self, facts: &Facts) -> Vec<usize> {
        self.index().candidates(facts)
    }

    /// Rules of `scope` that hold for `facts`.
    pub fn evaluate(&self, scope: Scope, facts: &Facts, input: &InputFacts) -> Vec<RuleMatch> {
        let candidates = match scope {
            Scope::Incident => self.index().candidates(facts),
            // An input rule none of whose needed patterns found anything
            // cannot fire: its conditions are not even decoded.
            Scope::Input => self
                .input_rules
                .iter()
                .filter(|(_, needed)| {
                    needed.is_empty()
                        || needed.iter().any(|id| {
                            input
                                .hits
                                .by_pattern
                                .get(*id)
                                .is_some_and(|h| !h.is_empty())
                        })
                })
                .map(|(rule, _)| *rule)
                .collect(),
        };
        candidates
            .into_iter()
            .filter_map(|i| {
                let ctx = Ctx {
                    set: self,
                    facts,
                    input,
                };
                ctx.rule(&self.rules[i]).map(|m| RuleMatch { rule: i, ..m })
            })
            .collect()
    }

    /// How many patterns have been compiled so far (regexes of conditions
    /// and input-wide patterns): work that laziness saves shows here.
    pub fn compiled_patterns(&self) -> usize {
        let regexes = self.lock_compiled().len();
        let input = self.scanner.get().map_or(0, InputScanner::compiled);
        regexes + input
    }

    /// The `regex` tests of every rule (decoding every rule's conditions),
    /// in slot order.
    fn regex_ops(&self) -> impl Iterator<Item = (usize, &super::RegexOp)> {
        let slots = self.regexes.len();
        self.rules
            .iter()
            .enumerate()
            .flat_map(move |(index, rule)| {
                rule.conditions()
                    .flat_map(|c| c.ops.iter())
                    .filter_map(move |op| match op {
                        Op::Regex(r) if r.slot < slots => Some((index, r)),
                        _ => None,
                    })
            })
    }

    /// Compiles every pattern now, as `rules check` does, and returns the
    /// problems of those that do not compile. Only failures are kept: ten
    /// thousand compiled regexes held at once took 1.6 GB.
    pub fn compile_all(&self) -> Vec<RuleProblem> {
        for (_, r) in self.regex_ops() {
            if self.lock_compiled().contains_key(&r.pattern) {
                continue;
            }
            if let Err(e) = Regex::check(&compiled_form(&r.pattern)) {
                let _ = self.regexes[r.slot].compiled.set(Err(e));
            }
            self.lock_compiled().insert(r.pattern.clone(), r.slot);
        }
        self.scanner().compile_all();
        self.late_problems()
    }

    /// Patterns that failed to compile when first needed (a regex that is
    /// valid but too large for the engine). Each is a problem of its rule,
    /// shown after the run; the rule could not fire.
    pub fn late_problems(&self) -> Vec<RuleProblem> {
        let failed: HashMap<String, regex::Error> = self
            .lock_compiled()
            .iter()
            .filter_map(|(pattern, &slot)| match self.regexes[slot].compiled.get() {
                Some(Err(e)) => Some((pattern.clone(), e.clone())),
                _ => None,
            })
            .collect();
        let mut out = Vec::new();
        if !failed.is_empty() {
            // Every rule whose pattern failed, also where another rule's
            // test compiled it (this decodes every rule's conditions, which
            // only a failed pattern costs).
            for (rule, r) in self.regex_ops() {
                if let Some(e) = failed.get(&r.pattern) {
                    out.push(self.pattern_problem(
                        rule,
                        r.span.clone(),
                        &e.to_string(),
                        too_big(e),
                    ));
                }
            }
        }
        if let Some(scanner) = self.scanner.get() {
            for (id, error) in scanner.failures() {
                let spec = &scanner.specs[id];
                if let Some(rule) = spec.rule {
                    out.push(self.pattern_problem(
                        rule,
                        spec.span.clone(),
                        error,
                        error.contains("size limit"),
                    ));
                }
            }
        }
        out
    }

    fn pattern_problem(
        &self,
        rule: usize,
        span: Option<Range<usize>>,
        error: &str,
        too_big: bool,
    ) -> RuleProblem {
        let rule = &self.rules[rule];
        let (code, message, help) = if too_big {
            (
                "rule::pattern-too-large",
                format!(
                    "rule `{}`: this pattern compiles to more than the regex engine allows",
                    rule.id
                ),
                "use fewer alternatives or smaller repetition counts, or split the rule; the rule cannot fire until then",
            )
        } else {
            (
                "rule::bad-regex",
                format!(
                    "rule `{}`: pattern does not compile: {}",
                    rule.id,
                    error.lines().last().unwrap_or(error)
                ),
                "the rule cannot fire until the pattern is fixed",
            )
        };
        let text = rule
            .origin
            .text
            .as_ref()
            .and_then(|t| t.text(&rule.origin.file));
        match (text, span) {
            (Some(text), Some(span)) => {
                let mut source = RuleSource::with_text(
                    rule.origin.file.to_string(),
                    text,
                    rule.origin.builtin,
                    None,
                );
                source.layer = 1;
                RuleProblem::at(
                    &source,
                    code,
                    span,
                    message,
                    "this pattern",
                    Some(help.into()),
                )
            }
            _ => {
                let mut p = RuleProblem::unreadable(&rule.origin.file, message);
                p.code = code.into();
                p.help = Some(help.into());
                p
            }
        }
    }
}

impl SourceText {
    /// The text of `file` as it was loaded; `None` when it is not held and
    /// the file is gone or has changed since.
    pub fn text(&self, file: &str) -> Option<Arc<String>> {
        let (len, proof) = match self {
            SourceText::Held(text, _) => return Some(text.clone()),
            SourceText::OnDisk { len, proof } => (*len, *proof),
        };
        let opened = std::fs::File::open(file).ok()?;
        if let FileProof::Stamp(stamp) = proof
            && opened.metadata().map(|m| FileStamp::of(&m)).ok() != Some(stamp)
        {
            return None;
        }
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::Read::take(opened, len as u64 + 1), &mut text)
            .ok()?;
        let same = text.len() == len
            && match proof {
                FileProof::Stamp(_) => true,
                FileProof::Hash(hash) => super::load::text_hash(text.as_bytes()) == hash,
            };
        same.then(|| Arc::new(text))
    }
}

/// Drops what an analysis never reads of loaded rules, so that a run with
/// many user rules keeps its memory for the input: the examples (`rules
/// test` and `explain` read them) and the rule files' texts, which only a
/// pattern that fails to compile during the run needs, to show its place:
/// the file is read again for that, and used if its stamp is still the one
/// it was read with (rules given as text in memory then show such a
/// problem without its place). With 4,401 synthetic user rules (89 files)
/// this is 5.5 MiB of text and 3.3 MiB of examples. Hashing the texts
/// instead of keeping their stamps cost 2.5 % of such a start-up.
pub fn release_for_analysis(rules: &mut [Rule]) {
    // The rules of a file share its text: proven once.
    let mut last: Option<(Arc<String>, Arc<SourceText>)> = None;
    for rule in rules {
        rule.examples = Vec::new();
        let Some(SourceText::Held(text, stamp)) = rule.origin.text.as_deref() else {
            continue;
        };
        let on_disk = match &last {
            Some((seen, on_disk)) if Arc::ptr_eq(seen, text) => on_disk.clone(),
            _ => {
                let proof = match stamp {
                    Some(stamp) if !stamp.is_racy() => FileProof::Stamp(*stamp),
                    _ => FileProof::Hash(super::load::text_hash(text.as_bytes())),
                };
                let on_disk = Arc::new(SourceText::OnDisk {
                    len: text.len(),
                    proof,
                });
                last = Some((text.clone(), on_disk.clone()));
                on_disk
            }
        };
        rule.origin.text = Some(on_disk);
    }
}

fn too_big(e: &regex::Error) -> bool {
    matches!(e, regex::Error::CompiledTooBig(_))
}

/// What one evaluation reads.
struct Ctx<'a> {
    set: &'a RuleSet,
    facts: &'a Facts,
    input: &'a InputFacts,
}

impl Ctx<'_> {
    fn rule(&self, rule: &Rule) -> Option<RuleMatch> {
        let rule = rule.logic();
        let mut evidence = Vec::new();
        let mut vars = BTreeMap::new();
        let mut specificity = 0;
        for cond in &rule.when {
            if !self.holds(cond, &mut evidence, &mut vars) {
                return None;
            }
            specificity += 1;
        }
        if !rule.any.is_empty() {
            let held = rule.any.iter().find_map(|table| {
                let mut ev = Vec::new();
                let mut vs = BTreeMap::new();
                table
                    .iter()
                    .all(|c| self.holds(c, &mut ev, &mut vs))
                    .then_some((ev, vs, table.len()))
            });
            let (ev, vs, n) = held?;
            evidence.extend(ev);
            vars.extend(vs);
            specificity += n;
        }
        for group in &rule.unless {
            let blocked = group
                .iter()
                .all(|cond| self.holds(cond, &mut Vec::new(), &mut BTreeMap::new()));
            if blocked {
                return None;
            }
        }
        Some(RuleMatch {
            rule: 0,
            evidence,
            vars,
            specificity,
        })
    }

    fn values(&self, field: &str) -> &[FactValue] {
        values(field, self.facts, self.input)
    }

    /// Whether `cond` holds; on success, appends its evidence and captures.
    fn holds(
        &self,
        cond: &Condition,
        evidence: &mut Vec<Evidence>,
        vars: &mut BTreeMap<String, String>,
    ) -> bool {
        let input_op = |op: &Op| match op {
            Op::Input(id) => Some(*id),
            _ => None,
        };
        if cond.ops.iter().any(|op| input_op(op).is_some()) {
            let mut found = Vec::new();
            for id in cond.ops.iter().filter_map(input_op) {
                match self.input.hits.by_pattern.get(id).and_then(|h| h.first()) {
                    Some(hit) => found.push(hit),
                    None => return false,
                }
            }
            for hit in found {
                vars.extend(hit.captures.iter().cloned());
                if cond.label.as_deref() == Some("") {
                    continue;
                }
                evidence.push(Evidence {
                    loc: hit.loc,
                    label: cond.label.clone().unwrap_or_else(|| "stated here".into()),
                    line: Some(hit.line.clone()),
                });
            }
            return true;
        }
        let vals = self.values(&cond.field);
        if cond.ops.iter().all(|op| matches!(op, Op::Exists(false))) {
            return vals.is_empty();
        }
        for v in vals {
            let mut caps = Vec::new();
            let mut narrowed: Option<(usize, usize)> = None;
            let text = ValueText::new(&v.value);
            let ok = cond
                .ops
                .iter()
                .all(|op| self.test(op, &text, &mut caps, &mut narrowed));
            if !ok {
                continue;
            }
            let text = text.get();
            vars.extend(caps);
            // `label = ""` marks a context condition: it must hold, but is not
            // worth pointing at.
            let silent = cond.label.as_deref() == Some("");
            if let Some(loc) = v.loc.filter(|_| !silent) {
                let loc = match narrowed {
                    Some(range) if loc.span.len() == text.len() => narrow(loc, text, range),
                    _ => loc,
                };
                let line = input_line(&cond.field, self.input, &loc);
                evidence.push(Evidence {
                    loc,
                    label: cond
                        .label
                        .clone()
                        .unwrap_or_else(|| default_label(&cond.field, text)),
                    line,
                });
            }
            return true;
        }
        false
    }

    fn test(
        &self,
        op: &Op,
        value: &ValueText,
        caps: &mut Vec<(String, String)>,
        narrowed: &mut Option<(usize, usize)>,
    ) -> bool {
        match op {
            Op::Equals(lit) => eq_literal(lit, value),
            Op::AnyOf(lits) => lits.iter().any(|l| eq_literal(l, value)),
            Op::Regex(r) => {
                let text = value.get();
                // A text without the pattern's literal factors cannot match:
                // answered without compiling it (most regexes of the rules
                // an incident admits never see a text they could match).
                if r.factors.as_ref().is_some_and(|f| !may_match(text, f)) {
                    return false;
                }
                // A pattern that does not compile holds nowhere; it is
                // reported by `late_problems`.
                let Some(re) = self.set.regex(r) else {
                    return false;
                };
                match re.captures(text) {
                    Some(c) => {
                        let m = c.get(0).expect("group 0");
                        *narrowed = Some((m.start(), m.end()));
                        caps.extend(re.capture_names().flatten().filter_map(|n| {
                            c.name(n).map(|g| (n.to_string(), g.as_str().to_string()))
                        }));
                        true
                    }
                    None => false,
                }
            }
            Op::Contains(s) => {
                let text = value.get();
                // ASCII text is searched where it is (no lower-cased copy:
                // a failure that hundreds of rules test made that a few
                // percent of a run); lower-casing other text can change byte
                // lengths, and only then is the position not valid in it.
                if text.is_ascii() {
                    let found = find_ignore_ascii_case(text.as_bytes(), s.as_bytes());
                    if let Some(p) = found {
                        *narrowed = Some((p, p + s.len()));
                    }
                    return found.is_some();
                }
                let lower = text.to_lowercase();
                let found = lower.find(s.as_str());
                if let Some(p) = found.filter(|_| lower.len() == text.len()) {
                    *narrowed = Some((p, p + s.len()));
                }
                found.is_some()
            }
            Op::StartsWith(s) => value.get().to_lowercase().starts_with(s.as_str()),
            Op::EndsWith(s) => value.get().to_lowercase().ends_with(s.as_str()),
            Op::Exists(b) => *b,
            Op::Gt(n) => value.value.as_num().is_some_and(|v| v > *n),
            Op::Lt(n) => value.value.as_num().is_some_and(|v| v < *n),
            Op::Gte(n) => value.value.as_num().is_some_and(|v| v >= *n),
            Op::Lte(n) => value.value.as_num().is_some_and(|v| v <= *n),
            Op::SameAs(other) => self
                .values(other)
                .iter()
                .any(|o| o.value.to_string().eq_ignore_ascii_case(value.get())),
            Op::Input(_) => false,
        }
    }
}

fn values<'a>(field: &str, facts: &'a Facts, input: &'a InputFacts) -> &'a [FactValue] {
    if field.starts_with("input.") {
        input.facts.get(field)
    } else {
        facts.get(field)
    }
}

/// Input-wide facts live outside any incident's excerpt; bring their line.
fn input_line(field: &str, input: &InputFacts, loc: &Loc) -> Option<Line> {
    if !field.starts_with("input.") {
        return None;
    }
    input
        .lines
        .iter()
        .find(|l| {
            l.source == loc.source
                && l.offset <= loc.span.start
                && loc.span.start <= l.offset + l.text.len()
        })
        .cloned()
}

fn default_label(field: &str, value: &str) -> String {
    if matches!(field, "text" | "body" | "input.text") || value.len() > 60 || value.contains('\n') {
        field.to_string()
    } else {
        format!("{field} = {value}")
    }
}

/// The part of a verbatim value that a text test matched.
fn narrow(loc: Loc, text: &str, (start, end): (usize, usize)) -> Loc {
    let before = &text[..start];
    let (line, column) = match before.rfind('\n') {
        Some(nl) => (loc.line + before.matches('\n').count(), start - nl),
        None => (loc.line, loc.column + start),
    };
    Loc {
        source: loc.source,
        span: Span::new(loc.span.start + start, loc.span.start + end),
        line,
        column,
    }
}

fn eq_literal(lit: &Literal, value: &ValueText) -> bool {
    match lit {
        Literal::Str(s) => value.get().eq_ignore_ascii_case(s),
        Literal::Num(n) => value.value.as_num() == Some(*n),
        Literal::Bool(b) => value
            .get()
            .eq_ignore_ascii_case(if *b { "true" } else { "false" }),
    }
}

/// A fact value as text, for the tests that read text. A text value is
/// tested where it is (it may be a whole body); a number is written out
/// only when a test reads it as text (`status = 403` compares numbers, and
/// formatting every status for each of hundreds of rules showed).
struct ValueText<'v> {
    value: &'v Value,
    written: std::cell::OnceCell<String>,
}

impl<'v> ValueText<'v> {
    fn new(value: &'v Value) -> Self {
        ValueText {
            value,
            written: std::cell::OnceCell::new(),
        }
    }

    fn get(&self) -> &str {
        match self.value {
            Value::Str(s) => s,
            Value::Num(_) => self.written.get_or_init(|| self.value.to_string()),
        }
    }
}

/// What a placeholder whose fact has no value shows.
pub const UNKNOWN: &str = "(unknown)";

/// Fills `{name}` from regex captures, then the incident's facts, then the
/// input-wide facts; a name with no value reads "(unknown)". Braces that
/// hold no placeholder name (JSON, prose) stay as written.
/// `value` masked as the input would be with its name beside it
/// (`body.client_secret: …` is a secret by its key alone), else on its own
/// (a token's format, a URL's query). Written as a field, not a query
/// parameter: names that are secrets only in a query (`code`, `key`,
/// `sig`, `auth`) are a rule's capture names, such as an error's code.
fn masked_value(name: &str, value: &str) -> String {
    let prefix = format!("{name}: ");
    let keyed = format!("{prefix}{value}");
    match crate::mask::mask(&keyed) {
        std::borrow::Cow::Borrowed(_) => value.to_string(),
        // The name itself masked too (a key inside it): the value alone.
        std::borrow::Cow::Owned(masked) => masked
            .strip_prefix(&prefix)
            .map_or_else(|| crate::mask::mask(value).into_owned(), str::to_string),
    }
}

pub fn interpolate(
    template: &str,
    vars: &BTreeMap<String, String>,
    facts: &Facts,
    input: &InputFacts,
) -> String {
    let mut out = String::with_capacity(template.len());
    let mut copied = 0;
    for (range, name) in placeholders(template) {
        out.push_str(&template[copied..range.start]);
        // A value comes from the input and may be a secret: masked here,
        // as it goes in, since reports print a rule's own prose as written.
        match vars.get(name) {
            Some(v) => out.push_str(&masked_value(name, v)),
            None => match values(name, facts, input).first() {
                Some(v) => out.push_str(&masked_value(name, &v.value.to_string())),
                None => out.push_str(UNKNOWN),
            },
        }
        copied = range.end;
    }
    out.push_str(&template[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values filled into a rule's prose come from the input: a secret is
    /// masked by its name or its format; other values go in as they are.
    #[test]
    fn filled_values_are_masked_by_name_and_format() {
        assert_eq!(
            masked_value("body.client_secret", "s3cr3t-value"),
            "********"
        );
        assert!(!masked_value("header.authorization", "Bearer ab12cd34ef").contains("ab12cd34ef"));
        assert!(
            !masked_value("url", "https://h.example/x?access_token=tk-9876").contains("tk-9876")
        );
        assert_eq!(masked_value("host", "api.example.com"), "api.example.com");
        assert_eq!(masked_value("scope", "read:org"), "read:org");
        // A capture named `code` holds an error's code, not an OAuth
        // authorization code (a secret only as a query parameter).
        assert_eq!(masked_value("code", "invalid_grant"), "invalid_grant");
        assert_eq!(masked_value("password", "hunter2-x"), "********");
    }

    /// The rules' `regex` tests, compiled without literal prefilters,
    /// match as the `regex` crate's regexes: every pattern of the built-in
    /// pack over every line of the fixtures and field cases, the whole
    /// match and each named group alike; and a pattern that does not
    /// compile gives the `regex` crate's error.
    #[test]
    fn rule_regexes_match_as_the_regex_crate() {
        let pack = crate::rules::builtin::pack();
        let mut patterns: Vec<&str> = pack
            .iter()
            .flat_map(|rule| rule.conditions().flat_map(|c| c.ops.iter()))
            .filter_map(|op| match op {
                Op::Regex(r) => Some(r.pattern.as_str()),
                _ => None,
            })
            .collect();
        patterns.sort_unstable();
        patterns.dedup();
        assert!(patterns.len() > 100, "{} patterns", patterns.len());
        let texts = crate::test_corpus::fixture_and_field_texts();
        let mut matches = 0;
        for pattern in patterns {
            let ours = Regex::with_regex_error(pattern, true).unwrap();
            let theirs = regex::Regex::new(pattern).unwrap();
            let names: Vec<Option<&str>> = theirs.capture_names().collect();
            assert_eq!(ours.capture_names().collect::<Vec<_>>(), names);
            assert_eq!(ours.as_str(), pattern);
            // Every group's range, by name where it has one, from either
            // engine's captures (`get`: by index, or by the name given).
            type Group<'n> = (usize, Option<&'n str>);
            let spans = |get: &dyn Fn(Group) -> Option<std::ops::Range<usize>>| {
                names
                    .iter()
                    .copied()
                    .enumerate()
                    .map(get)
                    .collect::<Vec<_>>()
            };
            for line in texts.iter().flat_map(|t| t.lines()) {
                let found = theirs
                    .captures(line)
                    .map(|c| spans(&|(i, n)| n.map_or(c.get(i), |n| c.name(n)).map(|m| m.range())));
                let ours = ours
                    .captures(line)
                    .map(|c| spans(&|(i, n)| n.map_or(c.get(i), |n| c.name(n)).map(|m| m.range())));
                matches += usize::from(found.is_some());
                assert_eq!(ours, found, "{pattern} on {line:?}");
            }
        }
        assert!(matches > 1000, "{matches} matches");
        // What a user's rule and `rules check` report (`\w{1000}` is too
        // big only as written).
        for bad in ["foo(bar", r"\w{1000}", "[a", r"(?P<x>a)(?P<x>b)"] {
            let theirs = regex::Regex::new(bad).map(|_| ()).unwrap_err();
            let ours = Regex::with_regex_error(bad, false).map(|_| ()).unwrap_err();
            assert_eq!(ours, theirs, "{bad}");
            assert_eq!(Regex::check(bad).unwrap_err(), theirs, "{bad}");
        }
    }

    #[test]
    fn placeholders_without_a_value_read_unknown() {
        let mut facts = Facts::default();
        facts.push("status", Value::Num(401.0), None);
        let mut vars = BTreeMap::new();
        vars.insert("user".to_string(), "bob".to_string());
        let input = InputFacts::default();
        assert_eq!(
            interpolate(
                "{user} got {status} ({error}) {\"a\": 1} {}",
                &vars,
                &facts,
                &input
            ),
            "bob got 401 ((unknown)) {\"a\": 1} {}"
        );
    }
}

#[cfg(test)]
mod compiled_form_tests {
    use super::{compiled_form, is_compiled_form};

    #[test]
    fn a_compiled_form_is_recognised_without_rebuilding_it() {
        for p in [
            r"plain",
            r"(?i)\bclient[ _]credentials\b",
            r"a\\b\d+\b",
            r"ends\",
            "é\\bx",
        ] {
            assert!(is_compiled_form(&compiled_form(p), p), "{p}");
            assert!(
                !is_compiled_form(&format!("{}x", compiled_form(p)), p),
                "{p}"
            );
        }
        assert!(!is_compiled_form(r"\bx", r"\bx"));
    }
}
