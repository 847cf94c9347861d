//! The input-wide scan behind `input.*` facts: rules' `input.text` tests
//! and the providers' place names, searched over every chunk of the input.
//!
//! Each pattern is compiled on its own, and only once the literals it needs
//! occur in the input (one pass of a `LiteralSet` per chunk finds those): a
//! pasted body compiles none, and no pattern can stop another from working.
//! User rules' patterns get their own automaton, apart from the trusted
//! built-in ones. A pattern that does not compile is a problem for its rule
//! (see `RuleSet::late_problems`), never a silent gap for the others.

use std::collections::hash_map::Entry;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use aho_corasick::AhoCorasickKind;
use regex::Regex;
use regex_automata::MatchKind;
use regex_automata::util::prefilter::Prefilter;

use crate::parse::lean::{Captures as LeanCaptures, Regex as Lean};

use super::Texts;
use super::digest::INPUT_MIN_FACTOR;
use super::literal_set::LiteralSet;
use super::literals::{BytePairs, ascii_factor, find_ignore_ascii_case, may_match};
use super::runs::Runs;
use crate::facts::{Facts, Line};
use crate::input::{Chunk, LineIndex, Loc, SourceId, Span};
use crate::parse::Value;
use crate::providers::Providers;
use crate::shared_walk::{SharedWalk, Wanted};

/// A pattern searched over the whole input, and what it is for.
#[derive(Debug, Clone)]
pub enum InputPattern {
    /// A rule condition on `input.text`, by condition id.
    Condition(usize),
    /// A place name that hints at a region, by region id.
    Place(String),
}

/// A pattern to search, and whose it is.
#[derive(Debug, Clone)]
pub struct InputPatternSpec {
    pub pattern: Arc<str>,
    pub purpose: InputPattern,
    /// Built-in rules and provider data: tested, and kept apart from the
    /// user's patterns.
    pub trusted: bool,
    /// The rule (index in its rule set) and the span of the test in the
    /// rule's file, to report a pattern that does not compile.
    pub rule: Option<usize>,
    pub span: Option<Range<usize>>,
    /// Literal factors of the pattern (see `rules::literals`), narrowed by
    /// `at_least(…, MIN_FACTOR)` where they are made (a rule's when it is
    /// digested, once: at every start it was a third of building the
    /// scanner); `None` when none are left: then it is searched in every
    /// chunk.
    pub factors: Option<Texts>,
    /// The literals its matches start with, ASCII-lower-cased, when the
    /// rule's digest has them (see `digest::input_starts`).
    pub starts: Option<Texts>,
}

/// Where one input pattern matched.
#[derive(Debug, Clone)]
pub struct Hit {
    pub loc: Loc,
    pub matched: String,
    pub captures: Vec<(String, String)>,
    /// The whole line, for rendering the evidence without the source.
    pub line: Line,
}

/// Hits kept per pattern: enough to show evidence, bounded for huge inputs.
pub const HITS_PER_PATTERN: usize = 8;
/// Longest line kept for rendering evidence.
const MAX_LINE: usize = 2000;
/// Factors shorter than this trigger on nearly every chunk: such a
/// pattern simply runs everywhere.
const MIN_FACTOR: usize = INPUT_MIN_FACTOR;
/// The part of factor `f` a group searches for: all of it, or its longest
/// line when it holds a line feed. The walks that find factors in a big
/// text are cut at lines (see `TriggerDfa::find`); each line of a factor
/// is in every match as well. Until session 60 a factor was searched by its
/// first 12 bytes (its DFA's table grew with each byte), and the pattern
/// then screened for the whole one (`InputScanner::may_start_in`); the
/// DFA now walks only each literal's first bytes and compares the rest
/// where they matched (see `crate::shared_walk`), so a pattern triggers
/// only where a whole literal of each of its sets is.
fn searched_part(f: &str) -> &str {
    f.split('\n')
        .rev()
        .max_by_key(|line| line.len())
        .unwrap_or(f)
}

/// [`searched_part`] of a factor's bytes (its UTF-8).
fn searched_bytes(f: &[u8]) -> &[u8] {
    // Looked up for each factor of a small text (see
    // `Group::trigger_directly`): most hold no line feed.
    if memchr::memchr(b'\n', f).is_none() {
        return f;
    }
    f.split(|&b| b == b'\n')
        .rev()
        .max_by_key(|line| line.len())
        .unwrap_or(f)
}

/// Literals shorter than this are not searched for when another factor
/// set of their pattern has a longer one (see [`searched_sets`]).
const STRONG_FACTOR: usize = 3;

/// The sets (a mask, within `mask`) a group's literal set searches a
/// pattern's `texts` by: those with a literal of [`STRONG_FACTOR`] bytes
/// or more, or all when none has one. Each set narrows where a pattern can
/// match, but a set of two-byte literals (`20` of `code: 20`, `: `, `to`)
/// is on most lines of a log: 16 MB of the mixed log walked 531,000
/// matches of them, 29 % of all, 512,000 of them past their kept places.
/// A pattern triggered without such a set is still screened for all of
/// its factors on each line searched (`InputScanner::lines_holding_factors`)
/// or in the text (`InputScanner::may_start_in`) before it is compiled or
/// searched: the hits are the same. A small text's lookups
/// (`Group::trigger_directly`) keep every set: a two-byte literal costs
/// them a bit test, and deciding which sets to drop for the whole pack
/// cost a one-line paste 0.9 M instructions (5 %).
fn searched_sets(texts: &Texts, mask: u8) -> u8 {
    let mut strong = 0u8;
    for (k, f) in texts.byte_strings() {
        if searched_bytes(f).len() >= STRONG_FACTOR {
            strong |= 1u8.checked_shl(k as u32).unwrap_or(0);
        }
    }
    match strong & mask {
        0 => mask,
        strong => strong,
    }
}

/// Rewrites `\b` as the ASCII word boundary `(?-u:\b)`. A Unicode `\b`
/// keeps the regex engine off its fast lazy DFA, which made the input-wide
/// scan run at well under 1 MiB/s; an ASCII boundary differs only next to
/// non-ASCII letters, which patterns about logs do not rely on (no
/// built-in pattern writes `\b` beside a non-ASCII character). Rules'
/// `regex` tests of facts are compiled so too (see `RuleSet::regex`).
pub(crate) fn ascii_word_boundaries(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push_str("(?-u:\\b)"),
            Some(next) => {
                out.push('\\');
                out.push(next);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// From this size on a text is searched with the group's DFA (when it has
/// one): it builds in a few milliseconds, and a chunk of a big log then
/// costs a table walk per byte, about half of what the literal set's
/// narrowed automaton did over a lower-cased copy (which narrowed little:
/// the rare literals, most of them, are wanted in every chunk).
const DFA_FROM: usize = 64 << 10;
/// The DFA is built only while its table stays this small at most: the
/// built-in factors' take 4.0 MiB (session 26: 18.7 K bytes of factors
/// over 55 distinct bytes; session 32, cut at 32 bytes, 4.2 MiB:
/// 18.1 K over 61); ten times the rules fall back to the literal set.
/// Those figures counted a trie state per byte of the factors; counted
/// as built (see `Group::dfa_table_bytes`), session 50's 1,111 rules'
/// take 3.2 MB, where the old count said 5.4; session 58's 1,800, 6.4 MB
/// (the cap was 6 MiB, so raised to 8: the table is one per run).
/// Session 60: the 6,059 whole factors, walked by their first bytes
/// (see `SharedWalk::table_bytes`), 4.3 MB.
const DFA_MAX_TABLE: usize = 8 << 20;

/// Matches of a literal a DFA search keeps the places of; past them the
/// patterns it is a factor of are searched in the whole text. A rare
/// pattern's regex then reads only the lines its literals are on, not a
/// whole chunk (where nothing matches, the most of its searches).
const PLACES_PER_LITERAL: usize = 32;

/// Where a group's literals matched in a text: the starts of each one's
/// first [`PLACES_PER_LITERAL`] matches, and whether there were more.
#[derive(Default)]
struct Places {
    /// By literal: its matches so far, counted up to one past the kept.
    seen: Vec<u8>,
    /// By literal: where its starts are in `found`.
    slot: Vec<u32>,
    /// Literals with a match, in the order first found, with their starts.
    found: Vec<(usize, Vec<usize>)>,
    /// The search read the whole text (it stops once every pattern is
    /// triggered): only then do the places tell where patterns can match.
    whole: bool,
}

impl Places {
    fn new(literals: usize) -> Self {
        Places {
            seen: vec![0; literals],
            slot: vec![0; literals],
            found: Vec::new(),
            whole: true,
        }
    }

    /// Takes in a match; whether it is the literal's first. A literal
    /// matched on every line costs a look at its count past its first few.
    fn add(&mut self, literal: usize, start: usize) -> bool {
        let seen = &mut self.seen[literal];
        match usize::from(*seen) {
            0 => {
                *seen = 1;
                self.slot[literal] = self.found.len() as u32;
                self.found.push((literal, vec![start]));
                true
            }
            n if n <= PLACES_PER_LITERAL => {
                *seen += 1;
                if n < PLACES_PER_LITERAL {
                    self.found[self.slot[literal] as usize].1.push(start);
                }
                false
            }
            _ => false,
        }
    }

    /// Whether a literal matched more often than its starts were kept.
    fn more(&self, literal: usize) -> bool {
        usize::from(self.seen[literal]) > PLACES_PER_LITERAL
    }
}

/// How a group searches a text for its factors. All find the same: tests
/// compare them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Search {
    /// The DFA for a big text when there is one, else [`Search::Narrowing`].
    Fast,
    /// The literal set, narrowed after a big text's head (what `Fast` does
    /// without a DFA; only tests ask for it where there is one).
    #[cfg(test)]
    Narrowing,
    /// The literal set over the whole text.
    Plain,
}

/// Below this size a text's factors are looked up pattern by pattern
/// (see [`Group::trigger_directly`]), and the group's literal set is not
/// built for it. Building it (hashing the 2,000 or so factors of the
/// built-in pack, the literal set's tables) was 3.0 M of the 29.8 M
/// instructions of a one-line paste (callgrind, session 54); looking up
/// each pattern's factors in a small text costs a bit test per literal,
/// and a search where all its byte pairs are in the text.
const DIRECT_BELOW: usize = 4 << 10;

/// The patterns of a group, and the literal set over their factors once a
/// text of [`DIRECT_BELOW`] bytes or more wants it.
struct Group {
    /// Patterns without useful factors: searched in every chunk.
    always: Vec<usize>,
    /// Patterns the automaton triggers, with the mask of all their sets.
    by_factors: Vec<(usize, u8)>,
    index: OnceLock<GroupIndex>,
}

/// One literal set over the factors of a group's patterns.
struct GroupIndex {
    /// Built at the first text between [`DIRECT_BELOW`] and a walk's size
    /// (or a big one without a DFA): a big log's chunks are walked, and
    /// building it over the whole factors was a twentieth of a 1 MiB
    /// log's run (session 60). `None` inside: no factors.
    automaton: OnceLock<Option<LiteralSet>>,
    /// The factors, for the DFA, and the DFA once a big text wants it
    /// (`None` inside: too big, or not buildable).
    factors: Vec<String>,
    dfa: OnceLock<Option<SharedWalk>>,
    /// Whether a walk outside may find the factors (see `Group::walkable`).
    walkable: OnceLock<bool>,
    /// Per automaton pattern: the (input pattern, factor set) it belongs
    /// to, in one list (see `super::runs`).
    owners: Runs<(usize, u8)>,
    /// By pattern (its index in the scanner): the mask of its sets whose
    /// literals are in `factors` (see [`searched_sets`]); 0 for one not
    /// in `Group::by_factors`. Looked up at each new literal a walk
    /// finds: kept in hash maps built per chunk, the look-ups and
    /// building them were 1.3 % of a big log's instructions.
    masks: Vec<u8>,
}

impl Group {
    fn new(ids: &[usize], specs: &[InputPatternSpec]) -> Self {
        let mut always = Vec::new();
        let mut by_factors = Vec::new();
        let mut some_factor = false;
        for &id in ids {
            match specs[id].factors.as_ref().map_or(0, Texts::set_count) {
                0 => always.push(id),
                // At most 4 sets (see `literals`): a mask of them fits a byte.
                sets => {
                    by_factors.push((id, ((1u16 << sets.min(8)) - 1) as u8));
                    some_factor |= specs[id]
                        .factors
                        .as_ref()
                        .is_some_and(|t| t.strings().next().is_some());
                }
            }
        }
        if !some_factor {
            // No factors: search every pattern everywhere.
            always.extend(by_factors.drain(..).map(|(id, _)| id));
            always.sort_unstable();
        }
        Group {
            always,
            by_factors,
            index: OnceLock::new(),
        }
    }

    /// The group's literal set, built on first need.
    fn index(&self, specs: &[InputPatternSpec]) -> &GroupIndex {
        self.index
            .get_or_init(|| GroupIndex::new(&self.by_factors, specs))
    }
}

impl GroupIndex {
    fn new(by_factors: &[(usize, u8)], specs: &[InputPatternSpec]) -> Self {
        // foldhash rather than SipHash: ten times the rules hash these at
        // every start, and no key here is a secret.
        let mut factors: Vec<&str> = Vec::new();
        // (factor, owner), grouped into `owners` once all are known.
        let mut owned: Vec<(usize, (usize, u8))> = Vec::new();
        let mut position: foldhash::HashMap<&str, usize> = foldhash::HashMap::default();
        let mut masks = vec![0u8; specs.len()];
        for &(id, mask) in by_factors {
            // Read in place: decoded into sets first, they were a fifth of
            // building the scanner.
            let Some(texts) = &specs[id].factors else {
                masks[id] = mask;
                continue;
            };
            let sets = mask.count_ones() as usize;
            let searched = searched_sets(texts, mask);
            masks[id] = searched;
            for (k, f) in texts.strings().take_while(|(k, _)| *k < sets) {
                if searched & (1 << k) == 0 {
                    continue;
                }
                let f = searched_part(f);
                let owner = (id, 1 << k);
                let factor = match position.entry(f) {
                    Entry::Occupied(e) => *e.get(),
                    Entry::Vacant(e) => {
                        factors.push(f);
                        *e.insert(factors.len() - 1)
                    }
                };
                owned.push((factor, owner));
            }
        }
        GroupIndex {
            automaton: OnceLock::new(),
            factors: factors.iter().map(|f| f.to_string()).collect(),
            dfa: OnceLock::new(),
            walkable: OnceLock::new(),
            owners: Runs::grouped(factors.len(), owned),
            masks,
        }
    }

    /// The mask of the sets pattern `id` is searched by (see
    /// [`searched_sets`]).
    fn mask_of(&self, id: usize) -> Option<u8> {
        self.masks.get(id).copied().filter(|&mask| mask != 0)
    }

    /// The literal set over the factors, built on first need: a
    /// contiguous NFA builds fast and takes a tenth of a DFA's memory; it
    /// searches only each text's head, the rest goes to a narrowed DFA
    /// (see `find_narrowing`).
    fn automaton(&self) -> Option<&LiteralSet> {
        self.automaton
            .get_or_init(|| {
                (!self.factors.is_empty())
                    .then(|| LiteralSet::new(&self.factors, AhoCorasickKind::ContiguousNFA))
            })
            .as_ref()
    }

    /// The DFA over the factors, for a text of `len` bytes: built at the
    /// first big text, if its table is small enough.
    fn dfa_for(&self, len: usize) -> Option<&SharedWalk> {
        if len < DFA_FROM {
            return None;
        }
        self.dfa
            .get_or_init(|| {
                self.dfa_fits()
                    .then(|| SharedWalk::new(&[&self.factors]))
                    .flatten()
            })
            .as_ref()
    }

    /// Whether the factors' DFA table is small enough to build (see
    /// [`DFA_MAX_TABLE`]).
    fn dfa_fits(&self) -> bool {
        !self.factors.is_empty() && self.dfa_table_bytes() <= DFA_MAX_TABLE
    }

    /// The bound [`DFA_MAX_TABLE`] is held to: the bytes of the table
    /// the factors' DFA would have (see `SharedWalk::table_bytes`). Until
    /// session 50 a trie state was counted per byte of the factors, their
    /// shared prefixes many times over (5.4 MB said, 3.2 MB built).
    fn dfa_table_bytes(&self) -> usize {
        SharedWalk::table_bytes(&[&self.factors])
    }

    /// Whether a big text's factors may be found by a walk outside the
    /// scanner (see [`InputScanner::walked_literals`]): those its own DFA
    /// would find, and none is empty (a walk's literals never are: see
    /// `TriggerDfa::new`).
    fn walkable(&self) -> bool {
        *self
            .walkable
            .get_or_init(|| !self.factors.iter().any(String::is_empty) && self.dfa_fits())
    }
}

impl Group {
    /// Marks the patterns that may match `text`: those with a factor of
    /// each of their sets in it (those marked already need no look).
    /// With the DFA (a big text), `places` gets where its literals are.
    fn trigger(
        &self,
        text: &str,
        triggered: &mut [bool],
        places: &mut Places,
        specs: &[InputPatternSpec],
    ) {
        self.trigger_with(text, triggered, Search::Fast, places, specs)
    }

    fn trigger_with(
        &self,
        text: &str,
        triggered: &mut [bool],
        how: Search,
        places: &mut Places,
        specs: &[InputPatternSpec],
    ) {
        for &id in &self.always {
            triggered[id] = true;
        }
        if how == Search::Fast && text.len() < DIRECT_BELOW {
            self.trigger_directly(text, triggered, specs);
            return;
        }
        let index = self.index(specs);
        if index.factors.is_empty() {
            return;
        }
        if how == Search::Fast
            && let Some(dfa) = self.dfa_for(text.len(), specs)
        {
            // A literal's later matches in the text add nothing to the
            // triggering: its sets are marked at the first.
            if let Some(mut walk) = self.start_walk(triggered, specs) {
                dfa.find(text.as_bytes(), |_, literal, start| {
                    let owners = index.owners.get(literal);
                    let wanted = walk.found(owners, &index.masks, literal, start, triggered);
                    if walk.pending > 0 {
                        wanted
                    } else {
                        Wanted::Nothing
                    }
                });
                *places = walk.places;
            }
            return;
        }
        let mut pending = self
            .by_factors
            .iter()
            .filter(|(id, _)| !triggered[*id])
            .count();
        let Some(automaton) = index.automaton().filter(|_| pending > 0) else {
            return;
        };
        let full = &index.masks;
        // Read by `wanted` while `found` sets them.
        let seen = std::cell::RefCell::new(vec![0u8; full.len()]);
        let triggered = std::cell::Cell::from_mut(triggered).as_slice_of_cells();
        // A literal is still wanted while some pattern it is a factor of
        // has not seen a literal of that factor set yet.
        let wanted = |literal: usize| {
            let seen = seen.borrow();
            index
                .owners
                .get(literal)
                .iter()
                .any(|&(id, bit)| !triggered[id].get() && seen[id] & bit == 0)
        };
        let found = |literal: usize| {
            let mut seen = seen.borrow_mut();
            for &(id, bit) in index.owners.get(literal) {
                if triggered[id].get() {
                    continue;
                }
                seen[id] |= bit;
                if seen[id] == full[id] {
                    triggered[id].set(true);
                    pending -= 1;
                }
            }
            pending > 0
        };
        if how != Search::Plain {
            automaton.find_narrowing(text, wanted, found);
        } else {
            automaton.find(text, found);
        }
    }

    /// [`Group::trigger_with`] for a small text, without the literal set:
    /// each pattern's factors looked up in it (by their searched part, as
    /// the set has them), a byte pair missing from the text ruling a
    /// literal out.
    fn trigger_directly(&self, text: &str, triggered: &mut [bool], specs: &[InputPatternSpec]) {
        let text = text.as_bytes();
        let mut pairs = None;
        for &(id, mask) in &self.by_factors {
            let Some(texts) = specs[id].factors.as_ref().filter(|_| !triggered[id]) else {
                continue;
            };
            let pairs = pairs.get_or_insert_with(|| BytePairs::of(text));
            let mut seen = 0u8;
            for (k, f) in texts.byte_strings() {
                let bit = 1u8.checked_shl(k as u32).unwrap_or(0) & mask;
                if bit == 0 || seen & bit != 0 {
                    continue;
                }
                if pairs.holds(text, searched_bytes(f)) {
                    seen |= bit;
                }
            }
            triggered[id] = seen == mask;
        }
    }

    /// The lines of `text` that pattern `id` can match on (ranges without
    /// their line feeds, in order), when `places` tells: each match of a
    /// pattern holds a literal of each of its factor sets, so a pattern
    /// that matches within a line (`line_local`) matches only on lines
    /// with one of them. The set with the fewest places is taken; `None`
    /// (search the whole text) when every set has a literal past its kept
    /// places, or the pattern is not triggered by this group's factors.
    fn lines_for(
        &self,
        id: usize,
        text: &str,
        places: &Places,
        specs: &[InputPatternSpec],
    ) -> Option<Vec<Range<usize>>> {
        if !places.whole {
            return None;
        }
        let index = self.index(specs);
        let owners = &index.owners;
        let mask = index.mask_of(id)?;
        // Per set (bit): places, and whether some were past the cap.
        let mut sets = [(0usize, false); 8];
        for (literal, starts) in &places.found {
            for &(owner, bit) in owners.get(*literal) {
                if owner == id {
                    let set = &mut sets[bit.trailing_zeros() as usize];
                    set.0 += starts.len();
                    set.1 |= places.more(*literal);
                }
            }
        }
        let bit = (0..8)
            .filter(|&k| mask & (1 << k) != 0 && !sets[k].1)
            .min_by_key(|&k| sets[k].0)?;
        let bytes = text.as_bytes();
        let mut lines: Vec<Range<usize>> = places
            .found
            .iter()
            .filter(|(literal, _)| owners.get(*literal).contains(&(id, 1u8 << bit)))
            .flat_map(|(_, starts)| starts.iter().copied())
            .map(|at| {
                let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |p| p + 1);
                let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |p| at + p);
                start..end
            })
            .collect();
        lines.sort_unstable_by_key(|r| r.start);
        lines.dedup();
        Some(lines)
    }

    /// The DFA over the factors, for a text of `len` bytes (see
    /// [`GroupIndex::dfa_for`]).
    fn dfa_for(&self, len: usize, specs: &[InputPatternSpec]) -> Option<&SharedWalk> {
        if len < DFA_FROM {
            return None;
        }
        self.index(specs).dfa_for(len)
    }

    /// Whether a big text's factors may be found by a walk outside the
    /// scanner (see [`GroupIndex::walkable`]).
    fn walkable(&self, specs: &[InputPatternSpec]) -> bool {
        !self.by_factors.is_empty() && self.index(specs).walkable()
    }

    /// The state of taking in a walk's matches over a text of `len`
    /// bytes, as [`Group::trigger`] with its DFA would: `None` when it
    /// would not walk one (a small text, or every pattern triggered).
    fn walk_of(
        &self,
        len: usize,
        triggered: &mut [bool],
        specs: &[InputPatternSpec],
    ) -> Option<GroupWalk> {
        if len < DFA_FROM || !self.walkable(specs) {
            return None;
        }
        self.start_walk(triggered, specs)
    }

    /// The state of taking in a DFA walk's matches: `None` when every
    /// pattern is triggered already (its `always` ones now marked).
    fn start_walk(&self, triggered: &mut [bool], specs: &[InputPatternSpec]) -> Option<GroupWalk> {
        for &id in &self.always {
            triggered[id] = true;
        }
        let pending = self
            .by_factors
            .iter()
            .filter(|(id, _)| !triggered[*id])
            .count();
        (pending > 0).then(|| GroupWalk {
            places: Places::new(self.index(specs).owners.len()),
            seen: vec![0; specs.len()],
            pending,
        })
    }
}

/// A group's triggering from a walk's matches (see [`Walked`]).
struct GroupWalk {
    places: Places,
    /// By pattern: the factor sets it has seen a literal of (all its sets
    /// are in `GroupIndex::masks`).
    seen: Vec<u8>,
    /// Patterns not triggered yet: none left, the matches after are not
    /// taken in (as [`Group::trigger`]'s search stops there).
    pending: usize,
}

impl GroupWalk {
    fn found(
        &mut self,
        owners: &[(usize, u8)],
        full: &[u8],
        literal: usize,
        start: usize,
        triggered: &mut [bool],
    ) -> Wanted {
        if self.pending == 0 {
            return Wanted::NoMoreOfThis;
        }
        if !self.places.add(literal, start) {
            // Past its kept places, a literal's matches change nothing:
            // its sets were marked at its first.
            return if self.places.more(literal) {
                Wanted::NoMoreOfThis
            } else {
                Wanted::More
            };
        }
        for &(id, bit) in owners {
            if triggered[id] {
                continue;
            }
            self.seen[id] |= bit;
            if self.seen[id] == full[id] {
                triggered[id] = true;
                self.pending -= 1;
            }
        }
        self.places.whole &= self.pending > 0;
        Wanted::More
    }
}

/// A chunk's factors as a walk outside the scanner finds them, with other
/// stages' literals (see `crate::shared_walk`): what the scan triggers on
/// and where, as its own search would have it.
pub struct Walked<'s> {
    scanner: &'s InputScanner,
    triggered: Vec<bool>,
    done: Vec<bool>,
    /// By group: `None` for one that searches on its own.
    groups: Vec<Option<GroupWalk>>,
}

impl Walked<'_> {
    /// Takes in a match of a group's literal (by index in its list in
    /// [`InputScanner::walked_literals`]) starting at `start`, in the
    /// order of their ends; says whether more of its matches are wanted
    /// (none of a group that is not walked for this text).
    #[inline]
    pub(crate) fn found(&mut self, group: usize, literal: usize, start: usize) -> Wanted {
        let Some(walk) = &mut self.groups[group] else {
            return Wanted::NoMoreOfThis;
        };
        let scanner = self.scanner;
        let index = scanner.groups[group].index(&scanner.specs);
        let owners = index.owners.get(literal);
        walk.found(owners, &index.masks, literal, start, &mut self.triggered)
    }
}

/// A pattern compiled the way its searches need, each on first need.
///
/// Lean (no literal prefilters, see `parse::lean`) for the searches of
/// the lines a pattern's literals are on and of small texts, where a
/// prefilter finds nothing faster, and building one was two thirds of
/// compiling a pattern such as `(?i)\bslack\b` (callgrind: 0.84 M
/// instructions with it, 0.25 M without). With its prefilter (what the
/// `regex` crate builds; a lean regex too, so that it is narrowed to
/// ASCII alike) for a search of a big text whole, where skipping to the
/// literals pays. Both find the same matches (the meta regex's
/// configurations all do), and fail to compile alike.
struct Compiled {
    /// The pattern as compiled (see [`ascii_word_boundaries`]).
    pattern: String,
    lean: OnceLock<Option<Lean>>,
    prefiltered: OnceLock<Option<Lean>>,
}

impl Compiled {
    fn lean(&self) -> Option<&Lean> {
        self.lean
            .get_or_init(|| Lean::new(&self.pattern).ok().map(Lean::sharing_caches))
            .as_ref()
    }

    fn prefiltered(&self) -> Option<&Lean> {
        self.prefiltered
            .get_or_init(|| {
                Lean::prefiltered(&self.pattern)
                    .ok()
                    .map(Lean::sharing_caches)
            })
            .as_ref()
    }
}

/// From this size on a text searched whole uses a pattern's prefiltered
/// regex (see [`Compiled`]).
const PREFILTER_FROM: usize = DFA_FROM;

/// Whether no match of `hir` holds a line feed and none depends on where
/// the text begins or ends (`\A`, `\z`, `^` and `$` outside multi-line
/// mode, CRLF mode's line anchors): then searching a line on its own finds
/// the matches a search of the whole text finds on it. A line's edges are
/// what a line feed is to multi-line `^`/`$` and to word boundaries.
fn line_local(hir: &regex_syntax::hir::Hir) -> bool {
    use regex_syntax::hir::{Class, HirKind, Look};
    match hir.kind() {
        HirKind::Empty => true,
        HirKind::Literal(lit) => !lit.0.contains(&b'\n'),
        HirKind::Class(Class::Unicode(class)) => class
            .ranges()
            .iter()
            .all(|r| !(r.start()..=r.end()).contains(&'\n')),
        HirKind::Class(Class::Bytes(class)) => class
            .ranges()
            .iter()
            .all(|r| !(r.start()..=r.end()).contains(&b'\n')),
        HirKind::Look(look) => !matches!(
            look,
            Look::Start | Look::End | Look::StartCRLF | Look::EndCRLF
        ),
        HirKind::Repetition(rep) => line_local(&rep.sub),
        HirKind::Capture(cap) => line_local(&cap.sub),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => subs.iter().all(line_local),
    }
}

/// What [`InputScanner::may_start_in`] found in a text, for the next
/// pattern tested in it.
#[derive(Default)]
struct Screened {
    /// Patterns whose factors were looked up, and whether they were there:
    /// a pattern with the same factors takes the answer (two Segment rules'
    /// patterns looked up the same fourteen paths in every chunk).
    factors: Vec<(usize, bool)>,
    /// Whether the text holds a non-ASCII letter that `(?i)` `k` or `s`
    /// matches, once looked for (two passes of a chunk each time).
    folds: Option<bool>,
}

impl Screened {
    /// Whether `text` (the one screened) holds a non-ASCII letter that
    /// `(?i)` `k` or `s` matches: the Kelvin sign or the long s.
    fn folds(&mut self, text: &str) -> bool {
        *self.folds.get_or_insert_with(|| {
            ["\u{212A}", "\u{17F}"]
                .iter()
                .any(|fold| memchr::memmem::find(text.as_bytes(), fold.as_bytes()).is_some())
        })
    }
}

/// Input-wide patterns, compiled one by one on first need.
pub struct InputScanner {
    /// Per pattern, the first pattern with the same text: the one whose
    /// slot holds the compiled regex. Rules of one provider repeat their
    /// input tests (ten built-in Slack rules test `(?i)\bslack\b`, about
    /// 0.15 ms to compile each).
    shared: Vec<usize>,
    compiled: Vec<OnceLock<Result<Compiled, String>>>,
    /// By pattern, as `compiled`: whether its matches stay within a line.
    line_local: Vec<OnceLock<bool>>,
    /// By pattern, as `compiled`: the prefilter of the literals its
    /// matches start with (see [`InputScanner::may_start_in`]), `None`
    /// until first needed; let go once the pattern is compiled (its regex
    /// holds one of its own: Teddy's tables are 11 KB each).
    prefixes: Vec<Mutex<Option<Option<Prefilter>>>>,
    pub specs: Vec<InputPatternSpec>,
    pub purposes: Vec<InputPattern>,
    groups: Vec<Group>,
}

impl InputScanner {
    pub fn new(specs: Vec<InputPatternSpec>) -> Self {
        let (trusted, user): (Vec<usize>, Vec<usize>) =
            (0..specs.len()).partition(|&i| specs[i].trusted);
        let groups = [trusted, user]
            .iter()
            .filter(|ids| !ids.is_empty())
            .map(|ids| Group::new(ids, &specs))
            .collect();
        // By the text as written: the same text is rewritten the same
        // (see `InputScanner::compile`), and only a compiled pattern is.
        let mut first: foldhash::HashMap<&str, usize> =
            foldhash::HashMap::with_capacity_and_hasher(specs.len(), Default::default());
        let shared = specs
            .iter()
            .enumerate()
            .map(|(id, s)| *first.entry(&*s.pattern).or_insert(id))
            .collect();
        InputScanner {
            compiled: specs.iter().map(|_| OnceLock::new()).collect(),
            line_local: specs.iter().map(|_| OnceLock::new()).collect(),
            prefixes: specs.iter().map(|_| Mutex::new(None)).collect(),
            shared,
            purposes: specs.iter().map(|s| s.purpose.clone()).collect(),
            specs,
            groups,
        }
    }

    /// The place-name patterns for the providers' regions.
    pub fn place_patterns(providers: &Providers) -> Vec<InputPatternSpec> {
        providers
            .places()
            .map(|(place, _, region)| InputPatternSpec {
                pattern: format!(r"(?i)\b{}\b", regex::escape(place)).into(),
                purpose: InputPattern::Place(region.id.clone()),
                trusted: true,
                rule: None,
                span: None,
                factors: ascii_factor(&place.to_lowercase(), MIN_FACTOR).map(|f| Texts::one(&[f])),
                starts: None,
            })
            .collect()
    }

    /// Pattern `id`'s slot, compiled the way a search needs first (see
    /// [`InputScanner::compile`]); `None` when it does not compile.
    fn regex(&self, id: usize, prefiltered: bool) -> Option<&Compiled> {
        let id = self.shared[id];
        self.compiled[id]
            .get_or_init(|| {
                *self.prefixes[id]
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(None);
                self.compile(id, prefiltered).map_err(|e| e.to_string())
            })
            .as_ref()
            .ok()
    }

    /// Whether pattern `id`'s matches stay within a line (see
    /// [`line_local`]).
    fn line_local(&self, id: usize) -> bool {
        let id = self.shared[id];
        *self.line_local[id].get_or_init(|| {
            // What compiles parses (the same syntax, with `regex`'s defaults).
            let pattern = ascii_word_boundaries(&self.specs[id].pattern);
            regex_syntax::parse(&pattern).is_ok_and(|hir| line_local(&hir))
        })
    }

    /// Of `lines` (ranges of `text` without their line feeds, from
    /// [`Group::lines_for`]), those a match of pattern `id` can be on: a
    /// match holds a literal of each of its factor sets, and that one set's
    /// literals are on a line does not say the others' are. Two built-in
    /// patterns (user or account … locked, client … disabled: 2.6-3.0 M
    /// instructions each to compile) were compiled for a 1 MiB log whose
    /// one line with `inactive` holds no match. Literals are found
    /// ASCII-case-insensitively (see `rules::literals`); a line with a
    /// non-ASCII byte is kept whatever it holds, as under `(?i)` `k` and `s`
    /// also match non-ASCII letters.
    fn lines_holding_factors(
        &self,
        id: usize,
        text: &str,
        mut lines: Vec<Range<usize>>,
    ) -> Vec<Range<usize>> {
        let Some(factors) = &self.specs[id].factors else {
            return lines;
        };
        let sets = factors.sets();
        lines.retain(|r| {
            let line = &text[r.clone()];
            !line.is_ascii() || may_match(line, &sets)
        });
        lines
    }

    /// Whether `text` may hold a match of pattern `id`, by the literals its
    /// matches start with, whole. Until session 60 a group found its
    /// literals by their first 12 bytes only, so `https://api.` stood for
    /// `https://api.mistral.ai/` and compiled the pattern for a log that
    /// never names Mistral (session 43: 69 patterns compiled on the
    /// distinct-failures log, 37 of them for no line); factors are found
    /// whole now (see `searched_part`), but a pattern's starts may be
    /// other literals than its factors. The regex crate's
    /// own prefilter for the pattern: one pass, as its search would take,
    /// and exact under `(?i)`; a pattern without one is compiled.
    ///
    /// `screened`: what was found in `text` before (see [`Screened`]).
    fn may_start_in(&self, id: usize, text: &str, screened: &mut Screened) -> bool {
        let id = self.shared[id];
        // Its factors, whole (see [`InputScanner::lines_holding_factors`]
        // for the non-ASCII case): a prefilter's literals may be only the
        // factors' common start (`https://` for two hosts).
        let mut factors_in = || {
            let Some(factors) = self.specs[id].factors.as_ref() else {
                return true;
            };
            let same = screened
                .factors
                .iter()
                .find(|(other, _)| self.specs[*other].factors.as_ref() == Some(factors));
            if let Some(&(_, found)) = same {
                return found;
            }
            let found = may_match(text, &factors.sets()) || screened.folds(text);
            screened.factors.push((id, found));
            found
        };
        let starts = || {
            // In a small text, the digest's literals (no prefilter built).
            if text.len() < DIRECT_BELOW
                && let Some(starts) = &self.specs[id].starts
            {
                return starts
                    .byte_strings()
                    .any(|(_, start)| find_ignore_ascii_case(text.as_bytes(), start).is_some());
            }
            let prefix = self.prefixes[id]
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_or_insert_with(|| {
                    let pattern = ascii_word_boundaries(&self.specs[id].pattern);
                    let hir = regex_syntax::parse(&pattern).ok()?;
                    Prefilter::from_hir_prefix(MatchKind::LeftmostFirst, &hir)
                })
                .clone();
            prefix.as_ref().is_none_or(|p| {
                p.find(text.as_bytes(), regex_automata::Span::from(0..text.len()))
                    .is_some()
            })
        };
        // Both must hold; the cheaper test first. In a small text (a paste)
        // the factors are: building a prefilter costs about what compiling
        // a small pattern does, and five of the eight patterns a one-line
        // paste tested had no factor in it. In a big chunk the prefilter
        // is: one pass, where the factors take several (each set's
        // literals, and the case folds) for every pattern tested.
        if text.len() < PREFILTER_FROM {
            return factors_in() && starts();
        }
        starts() && factors_in()
    }

    /// Pattern `id`, rewritten (see [`ascii_word_boundaries`]) and
    /// compiled, with its prefilter or lean (see [`Compiled`]): rewritten
    /// here, not at start, as few patterns ever are.
    fn compile(&self, id: usize, prefiltered: bool) -> Result<Compiled, regex::Error> {
        let pattern = ascii_word_boundaries(&self.specs[id].pattern);
        let compiled = Compiled {
            lean: OnceLock::new(),
            prefiltered: OnceLock::new(),
            pattern,
        };
        if prefiltered {
            let _ = compiled.prefiltered.set(Some(
                Lean::prefiltered_with_regex_error(&compiled.pattern, self.specs[id].trusted)?
                    .sharing_caches(),
            ));
        } else {
            let _ = compiled.lean.set(Some(
                Lean::with_regex_error(&compiled.pattern, self.specs[id].trusted)?.sharing_caches(),
            ));
        }
        Ok(compiled)
    }

    /// Compiles every pattern now (`rules check`), so that a pattern that
    /// does not compile is found before it is needed. Only failures are
    /// kept, so checking thousands of patterns takes flat memory.
    pub fn compile_all(&self) {
        for (id, slot) in self.compiled.iter().enumerate() {
            if self.shared[id] == id
                && slot.get().is_none()
                && let Err(e) = Regex::new(&ascii_word_boundaries(&self.specs[id].pattern))
            {
                let _ = slot.set(Err(e.to_string()));
            }
        }
    }

    /// Whether pattern `id`'s slot holds its compiled regex (or its error).
    fn is_compiled(&self, id: usize) -> bool {
        self.compiled[self.shared[id]].get().is_some()
    }

    /// How many patterns have been compiled.
    pub fn compiled(&self) -> usize {
        self.compiled.iter().filter(|c| c.get().is_some()).count()
    }

    /// Patterns that failed to compile: (pattern id, the error), each also
    /// where another pattern's slot compiled it.
    pub fn failures(&self) -> impl Iterator<Item = (usize, &str)> {
        self.shared.iter().enumerate().filter_map(|(id, &shared)| {
            match self.compiled[shared].get() {
                Some(Err(e)) => Some((id, e.as_str())),
                _ => None,
            }
        })
    }

    pub fn scan(&self, chunk: &Chunk, index: &LineIndex, hits: &mut InputHits) {
        let walked = self.walk(0, hits);
        self.scan_walked(chunk, 0, index, hits, walked);
    }

    /// Each group's literals, for a walk of a big text outside the scanner
    /// that finds them with other stages' literals (see [`Walked`]): empty
    /// for a group that searches on its own.
    pub fn walked_literals(&self) -> Vec<&[String]> {
        self.groups
            .iter()
            .map(|g| {
                if g.walkable(&self.specs) {
                    &g.index(&self.specs).factors[..]
                } else {
                    &[][..]
                }
            })
            .collect()
    }

    /// The state a walk of a text of `len` bytes takes in its matches of
    /// [`InputScanner::walked_literals`] in, for
    /// [`InputScanner::scan_walked`]; `hits`: what the text is scanned
    /// into. (A text of no length walks for no group.)
    pub fn walk(&self, len: usize, hits: &InputHits) -> Walked<'_> {
        let n = self.specs.len();
        // Patterns with enough hits need no more looking for.
        let mut triggered: Vec<bool> = (0..n)
            .map(|id| {
                hits.by_pattern
                    .get(id)
                    .is_some_and(|h| h.len() >= HITS_PER_PATTERN)
            })
            .collect();
        let done = triggered.clone();
        let groups = self
            .groups
            .iter()
            .map(|g| g.walk_of(len, &mut triggered, &self.specs))
            .collect();
        Walked {
            scanner: self,
            triggered,
            done,
            groups,
        }
    }

    /// [`InputScanner::scan`] of the chunk's text from `from` on, the
    /// literals of its groups found by the walk that filled `walked` (over
    /// that text, or one it ends: the starts taken are from `from` on).
    pub fn scan_walked(
        &self,
        chunk: &Chunk,
        from: usize,
        index: &LineIndex,
        hits: &mut InputHits,
        walked: Walked,
    ) {
        let n = self.specs.len();
        if hits.by_pattern.len() < n {
            hits.by_pattern.resize(n, Vec::new());
        }
        let text = &chunk.text[from..];
        let Walked {
            mut triggered,
            done,
            groups,
            ..
        } = walked;
        let places: Vec<Places> = (self.groups.iter().zip(groups))
            .map(|(group, walk)| match walk {
                Some(walk) => walk.places,
                None => {
                    let mut places = Places::default();
                    group.trigger(text, &mut triggered, &mut places, &self.specs);
                    places
                }
            })
            .collect();
        // Patterns with the same text (rules of one provider repeat their
        // input tests) are searched once, each taking its share of the
        // hits in order, as a search of its own would give.
        let mut pending: Vec<usize> = (0..n).filter(|&id| triggered[id] && !done[id]).collect();
        pending.sort_by_key(|&id| self.shared[id]);
        let part = Part {
            source: chunk.source,
            offset: chunk.offset + from,
            text,
        };
        let mut screened = Screened::default();
        for same in pending.chunk_by(|a, b| self.shared[*a] == self.shared[*b]) {
            // The lines it can match on, when its places tell (the same
            // text has the same factors in either group).
            let lines = self
                .line_local(same[0])
                .then(|| {
                    self.groups.iter().zip(&places).find_map(|(group, places)| {
                        group.lines_for(same[0], text, places, &self.specs)
                    })
                })
                .flatten()
                .map(|lines| self.lines_holding_factors(same[0], text, lines));
            // None can match: a built-in pattern (tested to compile) is
            // not compiled for it; a user's still is, so that one that does
            // not compile is reported as before.
            if same.iter().any(|&id| self.specs[id].trusted)
                && match &lines {
                    Some(lines) => lines.is_empty(),
                    None => {
                        !self.is_compiled(same[0])
                            && !self.may_start_in(same[0], text, &mut screened)
                    }
                }
            {
                continue;
            }
            let big_whole = lines.is_none() && text.len() >= PREFILTER_FROM;
            let Some(compiled) = self.regex(same[0], big_whole) else {
                continue;
            };
            let whole = 0..text.len();
            let ranges = lines.as_deref().unwrap_or(std::slice::from_ref(&whole));
            let full = |id: usize, hits: &InputHits| hits.by_pattern[id].len() >= HITS_PER_PATTERN;
            let take = |hit: Hit, hits: &mut InputHits| {
                for &id in same {
                    if !full(id, hits) {
                        hits.by_pattern[id].push(hit.clone());
                    }
                }
            };
            let all_full = |hits: &InputHits| same.iter().all(|&id| full(id, hits));
            match big_whole.then(|| compiled.prefiltered()).flatten() {
                Some(regex) => {
                    for caps in regex.captures_iter(text) {
                        if all_full(hits) {
                            break;
                        }
                        let groups = Groups::of_lean(regex, &caps);
                        take(hit(groups, 0, &part, index), hits);
                    }
                }
                None => {
                    let Some(lean) = compiled.lean() else {
                        continue;
                    };
                    'lines: for range in ranges {
                        for caps in lean.captures_iter(&text[range.clone()]) {
                            if all_full(hits) {
                                break 'lines;
                            }
                            let groups = Groups::of_lean(lean, &caps);
                            take(hit(groups, range.start, &part, index), hits);
                        }
                    }
                }
            }
        }
    }
}

/// The text a scan searches: a chunk's, or its part after the context
/// carried into it.
struct Part<'t> {
    source: SourceId,
    /// Where `text` starts in its source.
    offset: usize,
    text: &'t str,
}

/// A match's span and text, and its named groups that took part, from
/// either kind of compiled regex (see [`Compiled`]).
struct Groups<'t> {
    span: Range<usize>,
    matched: &'t str,
    named: Vec<(String, String)>,
}

impl<'t> Groups<'t> {
    fn of_lean(re: &Lean, caps: &LeanCaptures<'t>) -> Self {
        let m = caps.get(0).expect("group 0");
        let named = named_groups(re.capture_names(), |n| caps.name(n).map(|c| c.as_str()));
        Groups {
            span: m.range(),
            matched: m.as_str(),
            named,
        }
    }
}

/// The named groups that took part in a match, as (name, text), whichever
/// kind of regex matched.
fn named_groups<'n, 't>(
    names: impl Iterator<Item = Option<&'n str>>,
    group: impl Fn(&str) -> Option<&'t str>,
) -> Vec<(String, String)> {
    names
        .flatten()
        .filter_map(|n| group(n).map(|text| (n.to_string(), text.to_string())))
        .collect()
}

/// The hit a match makes (in the text from `base` on), with its line (cut
/// to [`MAX_LINE`]).
fn hit(groups: Groups, base: usize, part: &Part, index: &LineIndex) -> Hit {
    let (start, end) = (base + groups.span.start, base + groups.span.end);
    let span = Span::new(part.offset + start, part.offset + end);
    let loc = index.loc(part.source, span);
    let line_start = part.text[..start].rfind('\n').map_or(0, |p| p + 1);
    let line_end = part.text[start..]
        .find('\n')
        .map_or(part.text.len(), |p| start + p);
    let mut text = part.text[line_start..line_end].trim_end_matches('\r');
    if text.len() > MAX_LINE {
        text = &text[..text.floor_char_boundary(MAX_LINE.max(end - line_start))];
    }
    Hit {
        loc,
        matched: groups.matched.to_string(),
        captures: groups.named,
        line: Line {
            source: part.source,
            offset: part.offset + line_start,
            number: loc.line,
            text: text.to_string(),
        },
    }
}

/// What the input-wide scan found, across every source of the run.
#[derive(Debug, Default, Clone)]
pub struct InputHits {
    pub by_pattern: Vec<Vec<Hit>>,
}

/// Input-wide facts derived from the hits (the region hint), plus the hits.
#[derive(Debug, Default)]
pub struct InputFacts {
    pub facts: Facts,
    pub hits: InputHits,
    /// Lines behind `facts` values, for rendering.
    pub lines: Vec<Line>,
}

impl InputFacts {
    pub fn new(hits: InputHits, purposes: &[InputPattern], providers: &Providers) -> Self {
        let mut facts = Facts::default();
        let mut lines = Vec::new();
        // The earliest place mention wins: people name where they are early.
        let first_place = purposes
            .iter()
            .enumerate()
            .filter_map(|(id, p)| match p {
                InputPattern::Place(region) => hits
                    .by_pattern
                    .get(id)
                    .and_then(|h| h.first())
                    .map(|h| (h, region)),
                _ => None,
            })
            .min_by_key(|(h, _)| (h.loc.source, h.loc.span.start));
        if let Some((hit, region_id)) = first_place
            && let Some((_, region)) = providers.region(region_id)
        {
            let loc = Some(hit.loc);
            facts.push("input.place", Value::Str(hit.matched.clone().into()), loc);
            facts.push("input.region", Value::Str(region.id.clone().into()), loc);
            facts.push(
                "input.region.domain",
                Value::Str(region.domain.clone().into()),
                loc,
            );
            if let Some(sdk) = &region.sdk {
                facts.push("input.region.sdk", Value::Str(sdk.clone().into()), loc);
            }
            lines.push(hit.line.clone());
        }
        InputFacts { facts, hits, lines }
    }
}

#[cfg(test)]
mod tests {
    use super::{InputHits, InputPattern, InputPatternSpec, InputScanner, Places, Search};
    use crate::input::{Chunk, LineIndex};
    use crate::rules::Texts;
    use crate::rules::literals::pattern_factors;
    use crate::shared_walk::Wanted;

    /// A pattern's first hits in `text` as the regex crate gives them:
    /// start, matched text, named groups that took part.
    fn regex_crate_hits(re: &regex::Regex, text: &str) -> Vec<(usize, String, String)> {
        re.captures_iter(text)
            .take(super::HITS_PER_PATTERN)
            .map(|c| {
                let m = c.get(0).unwrap();
                let named = re
                    .capture_names()
                    .flatten()
                    .filter_map(|n| c.name(n).map(|v| (n.to_string(), v.as_str().to_string())))
                    .collect::<Vec<_>>();
                (m.start(), m.as_str().to_string(), format!("{named:?}"))
            })
            .collect()
    }

    /// A scanner of `patterns` as built-in tests, with their factors.
    fn scanner_of(patterns: &[&str]) -> InputScanner {
        let specs = patterns
            .iter()
            .enumerate()
            .map(|(k, p)| InputPatternSpec {
                pattern: (*p).into(),
                purpose: InputPattern::Condition(k),
                trusted: true,
                rule: None,
                span: None,
                factors: pattern_factors(p, super::MIN_FACTOR).map(|sets| Texts::new(&sets)),
                starts: crate::rules::digest::input_starts(p),
            })
            .collect();
        InputScanner::new(specs)
    }

    /// Each pattern's first hits in `text` as the regex crate gives them
    /// (see [`regex_crate_hits`]), compiled as the scan compiles it.
    fn regex_crate_hits_of(patterns: &[&str], text: &str) -> Vec<Vec<(usize, String, String)>> {
        patterns
            .iter()
            .map(|p| {
                let re = regex::Regex::new(&super::ascii_word_boundaries(p)).unwrap();
                regex_crate_hits(&re, text)
            })
            .collect()
    }

    /// The built-in pack, ready to scan with.
    fn builtin_rules() -> crate::rules::RuleSet {
        let report = crate::rules::load::load(&crate::rules::builtin_sources());
        crate::rules::RuleSet::new(report.rules, report.providers)
    }

    /// The hits of each pattern, as (offset, matched text, captures).
    fn hits_of(scanner: &InputScanner, text: &str) -> Vec<Vec<(usize, String, String)>> {
        let chunk = Chunk {
            source: 0,
            offset: 0,
            first_line: 0,
            text: text.to_string(),
        };
        let mut hits = InputHits::default();
        scanner.scan(&chunk, &LineIndex::new(&chunk), &mut hits);
        hits.by_pattern
            .iter()
            .map(|h| {
                h.iter()
                    .map(|h| {
                        (
                            h.loc.span.start,
                            h.matched.clone(),
                            format!("{:?}", h.captures),
                        )
                    })
                    .collect()
            })
            .collect()
    }

    /// A big text's rare patterns are read only on the lines their
    /// literals are on: the hits are those of a search of the whole text
    /// (a text too small for the DFA), whatever the pattern — matches that
    /// cross lines, anchors at the text's ends, CRLF line ends, word
    /// boundaries at line edges, a literal on more lines than are kept.
    #[test]
    fn rare_patterns_read_on_their_lines_find_what_a_whole_search_finds() {
        let patterns = [
            r"(?m)(?i)\bslack\b",
            r"(?m)(?i)\b(?:user|account)\b[^\n]{0,40}\b(?:is|was)\s+locked\b",
            r"(?m)^account (?P<name>\w+) disabled$",
            r"(?m)(?i)\bquota\b[^\n]{0,20}exceeded",
            r"\Aquota",
            r"exceeded\z",
            r"(?Rm)^tenant \w+ gone$",
            r"(?m)(?i)common\s+word",
            r"(?i)pure\.cloud",
            // Never found: the search reads the whole text, as for the
            // built-in patterns, most of which a log never triggers.
            r"(?i)zendesk",
        ];
        let scanner = scanner_of(&patterns);
        let filler = "2026-11-24 00:00:01,000 INFO app: wrote batch 12 to table common_word\n";
        let mut lines = Vec::new();
        for k in 0..3000 {
            lines.push(match k % 500 {
                7 => "user alice is\nlocked by the admin".to_string(),
                11 => format!("Slack said no {k}; xslack is not slack-{k}"),
                13 => "account bob disabled".to_string(),
                17 => "tenant acme gone\r".to_string(),
                19 => "QUOTA for project exceeded".to_string(),
                23 => "the account of carol was locked".to_string(),
                29 => "a common word\ncommon\nword".to_string(),
                _ if k % 40 == 3 => "api.usw2.pure.cloud answered".to_string(),
                _ => filler.trim_end().to_string(),
            });
        }
        let text = format!("quota {}\nexceeded", lines.join("\n"));
        assert!(text.len() > super::DFA_FROM);
        let big = hits_of(&scanner, &text);
        // The same text, each line searched as part of the whole: the
        // plain literal set (no places) reads the text whole.
        let group = &scanner.groups[0];
        let mut triggered = vec![false; patterns.len()];
        let mut places = Places::default();
        let specs = &scanner.specs;
        group.trigger_with(&text, &mut triggered, Search::Fast, &mut places, specs);
        assert!(places.whole, "the DFA read the whole text");
        let mut plain = vec![false; patterns.len()];
        group.trigger_with(
            &text,
            &mut plain,
            Search::Plain,
            &mut Places::default(),
            specs,
        );
        assert_eq!(triggered, plain);
        assert_eq!(big, regex_crate_hits_of(&patterns, &text));
        // Every pattern but the last found something, and the rare
        // line-local ones were read on their lines only.
        assert!(big[..9].iter().all(|h| !h.is_empty()), "{big:?}");
        let text_ref = text.as_str();
        let narrowed = |k: usize| group.lines_for(k, text_ref, &places, specs);
        assert!(
            narrowed(0).is_some_and(|l| l.len() == 6),
            "slack: {:?}",
            narrowed(0)
        );
        assert!(narrowed(2).is_some());
        // `pure.cloud` is on more lines than are kept: read whole.
        assert!(narrowed(8).is_none());
    }

    /// A built-in line-local pattern is compiled for a big text only when
    /// a line holds a literal of each of its factor sets (or a non-ASCII
    /// byte): its hits are still those of a search of the whole text.
    #[test]
    fn patterns_whose_literals_share_no_line_are_not_compiled() {
        // Never found, as most built-in patterns in a log: the walk reads
        // the whole text, so its places tell the lines.
        let patterns = [
            r"(?m)(?i)\bclient\b[^\n]{0,60}\b(disabled|inactive)\b",
            r"(?i)zendesk",
        ];
        let filler = "2026-11-24 00:00:01,000 INFO app: wrote batch 12 to table common_word";
        let mut lines: Vec<String> = (0..3000).map(|_| filler.to_string()).collect();
        lines[10] = "the client said hello".into();
        lines[20] = r#"{"ok":false,"error":"account_inactive"}"#.into();
        lines[25] = "user DISABLED".into();
        let check = |lines: &[String], compiled: usize, found: usize| {
            let scanner = scanner_of(&patterns);
            let text = lines.join("\n");
            assert!(text.len() > super::DFA_FROM);
            let hits = hits_of(&scanner, &text);
            let re = regex::Regex::new(&super::ascii_word_boundaries(patterns[0])).unwrap();
            assert_eq!(hits, vec![regex_crate_hits(&re, &text), Vec::new()]);
            assert_eq!(hits[0].len(), found, "{hits:?}");
            assert_eq!(scanner.compiled(), compiled);
        };
        check(&lines, 0, 0);
        // Both literals on a line that does not match: compiled, no hit.
        lines[30] = "clients were disabled".into();
        check(&lines, 1, 0);
        lines[40] = "Client app-7 is DISABLED now".into();
        check(&lines, 1, 1);
        // `ſ` (long s) is an `s` under (?i): a line with a non-ASCII byte
        // is searched though it lacks the ASCII literal (when the lines
        // are those of `client`, the set with the fewest places).
        lines[30] = filler.into();
        lines[40] = "client app-7 is diſabled".into();
        lines[50] = "user DISABLED".into();
        lines[60] = "user DISABLED".into();
        check(&lines, 1, 1);
    }

    /// A factor set of two-byte literals is not searched for when its
    /// pattern has a set with a longer one: `20` of `code: 20` is on most
    /// lines of a log. The pattern is then triggered by `code` alone, and
    /// each line `code` is on is still screened for `20` before the
    /// pattern is compiled or searched: the hits are the same.
    #[test]
    fn two_byte_factor_sets_are_left_to_the_screening() {
        let patterns = [
            r#"(?m)\bcode['"]?[ \t]*[:=][ \t]*20\b"#,
            // Only two-byte sets: searched by them.
            r"(?m)\b(?:ab|cd)\d+(?:xy|zw)\b",
            // Never found, as most built-in patterns in a log: the walk
            // reads the whole text, so its places tell the lines.
            r"(?i)zendesk",
        ];
        let scanner = scanner_of(&patterns);
        let sets = |k: usize| scanner.specs[k].factors.as_ref().unwrap();
        assert_eq!(sets(0).set_count(), 2, "{:?}", sets(0).sets());
        assert_eq!(super::searched_sets(sets(0), 0b11).count_ones(), 1);
        assert_eq!(sets(1).set_count(), 2, "{:?}", sets(1).sets());
        assert_eq!(super::searched_sets(sets(1), 0b11), 0b11);
        let filler = "2026-11-24 00:00:01,000 INFO app: wrote batch 20 to table t_20";
        let mut lines: Vec<String> = (0..3000).map(|_| filler.to_string()).collect();
        let check = |lines: &[String], compiled: usize| {
            let scanner = scanner_of(&patterns);
            let text = lines.join("\n");
            assert!(text.len() > super::DFA_FROM);
            let walked = &scanner.walked_literals()[0];
            assert!(!walked.iter().any(|l| l == "20"), "{walked:?}");
            let hits = hits_of(&scanner, &text);
            assert_eq!(hits, regex_crate_hits_of(&patterns, &text));
            assert_eq!(scanner.compiled(), compiled);
            hits
        };
        // `code` without `20` on its lines: not compiled.
        lines[10] = "exit code: 31".into();
        lines[12] = "cd7zw".into();
        check(&lines, 1);
        lines[20] = r#"{"code": 20, "msg": "sandbox only"}"#.into();
        lines[22] = "code = 200".into();
        let hits = check(&lines, 2);
        assert_eq!(hits[0].len(), 1, "{hits:?}");
        assert_eq!(hits[1].len(), 1, "{hits:?}");
    }

    /// A group searches a long literal by its first bytes: where those
    /// are on more lines than it keeps places of, a built-in pattern is
    /// compiled only if the text holds the literals its matches start
    /// with, and then the factors of its first set whole (a prefilter may
    /// be only the literals' common start, `https://`).
    #[test]
    fn patterns_whose_whole_literals_are_absent_are_not_compiled() {
        let patterns = [
            r"(?m)Access denied due to invalid subscription key",
            r"(?m)https://(?:api|codestral)\.mistral\.ai/\S*[^\n]{0,60}\b401\b",
            r"(?m)\b401\b[^\n]{0,80}https://(?:api|codestral)\.mistral\.ai/",
        ];
        let filler = "2026-11-24 00:00:01,000 INFO app: wrote batch 12 to table common_word";
        let mut lines: Vec<String> = (0..3000).map(|_| filler.to_string()).collect();
        // Each literal's searched start on far more lines than are kept.
        for k in 0..200 {
            lines[k * 10] = format!("Access denied due to policy p-{k}");
            lines[k * 10 + 1] = format!("GET https://api.example.com/v1/items/{k} -> 401");
        }
        let check = |lines: &[String], compiled: usize, found: [usize; 3]| {
            let scanner = scanner_of(&patterns);
            let text = lines.join("\n");
            assert!(text.len() > super::DFA_FROM);
            let hits = hits_of(&scanner, &text);
            for (k, p) in patterns.iter().enumerate() {
                let re = regex::Regex::new(&super::ascii_word_boundaries(p)).unwrap();
                assert_eq!(hits[k], regex_crate_hits(&re, &text), "{p}");
                assert_eq!(hits[k].len(), found[k], "{p}");
            }
            assert_eq!(scanner.compiled(), compiled);
        };
        check(&lines, 0, [0, 0, 0]);
        lines[2500] = "Access denied due to invalid subscription key or wrong API endpoint".into();
        check(&lines, 1, [1, 0, 0]);
        // The host once, with no 401 on its line: both compiled, no hit.
        lines[2600] = "POST https://api.mistral.ai/v1/chat/completions -> 200".into();
        check(&lines, 3, [1, 0, 0]);
        lines[2700] =
            "HTTPError: 401 Client Error: Unauthorized for url: https://api.mistral.ai/v1/models"
                .into();
        check(&lines, 3, [1, 0, 1]);
    }

    /// A big chunk's hits are the same when its literals are found by a
    /// walk outside the scanner, with another list's (some the same as
    /// its own), over the chunk with a context before it (which holds
    /// literals too: their matches there are not the chunk's).
    #[test]
    fn a_walk_outside_finds_what_the_scan_s_own_search_finds() {
        let patterns = [
            r"(?m)(?i)\bslack\b",
            r"(?m)^account (?P<name>\w+) disabled$",
            r"(?m)(?i)\bquota\b[^\n]{0,20}exceeded",
            r"\Aquota",
            r"(?i)pure\.cloud",
            r"(?i)zendesk",
        ];
        let scanner = scanner_of(&patterns);
        let filler = "2026-11-24 00:00:01,000 INFO app: wrote batch 12 to table common_word";
        let lines: Vec<String> = (0..3000)
            .map(|k| match k % 300 {
                11 => format!("Slack said no {k}; xslack is not slack-{k}"),
                13 => "account bob disabled".to_string(),
                19 => "QUOTA for project exceeded".to_string(),
                _ if k % 40 == 3 => "api.usw2.pure.cloud answered".to_string(),
                _ => filler.to_string(),
            })
            .collect();
        let own_text = format!("quota {}\n", lines.join("\n"));
        let context = "slack and zendesk before\naccount amy disabled\nquota\n";
        let own = Chunk {
            source: 0,
            offset: context.len(),
            first_line: 3,
            text: own_text.clone(),
        };
        let piece = Chunk {
            source: 0,
            offset: 0,
            first_line: 0,
            text: format!("{context}{own_text}"),
        };
        let mut alone = InputHits::default();
        scanner.scan(&own, &LineIndex::new(&own), &mut alone);
        let others: Vec<String> = ["slack", "info", "x"].map(String::from).to_vec();
        let mut lists: Vec<&[String]> = vec![&others];
        lists.extend(scanner.walked_literals());
        let shared = crate::shared_walk::SharedWalk::new(&lists).unwrap();
        let mut walked_hits = InputHits::default();
        let mut walked = scanner.walk(own_text.len(), &walked_hits);
        shared.find(piece.text.as_bytes(), |list, id, start| {
            if list > 0 && start >= context.len() {
                walked.found(list - 1, id, start - context.len())
            } else {
                Wanted::More
            }
        });
        assert!(
            walked.groups[0].as_ref().is_some_and(|g| g.places.whole),
            "the walk was taken in"
        );
        let index = LineIndex::new(&piece);
        scanner.scan_walked(&piece, context.len(), &index, &mut walked_hits, walked);
        let shown = |hits: &InputHits| format!("{:?}", hits.by_pattern);
        assert_eq!(shown(&walked_hits), shown(&alone));
        assert!(alone.by_pattern[..5].iter().all(|h| !h.is_empty()));
        assert!(alone.by_pattern[5].is_empty());
    }

    /// Every fixture and field case, after a head of healthy lines that
    /// holds the common literals: big enough for the scan to narrow its
    /// search after the head, and to search with the DFA. The patterns
    /// either triggers are those a plain search triggers, with the corpus
    /// as it is and upper-cased (the narrowed search does not fold case: it
    /// reads the text lower-cased; the DFA folds it by its byte classes).
    #[test]
    fn the_built_in_pack_keeps_its_dfa() {
        // Past DFA_MAX_TABLE a group falls back to the literal set's
        // automaton, about half again the time on a big log (session 37 at
        // 698 rules; session 41 at 760, from new rules' literals): a pack
        // that grows past it must walk fewer bytes of its factors (see
        // `shared_walk::WALKED_BYTES`) or raise the cap knowingly.
        let rules = builtin_rules();
        let scanner = rules.scanner();
        for group in scanner.groups.iter().map(|g| g.index(&scanner.specs)) {
            if group.factors.is_empty() {
                continue;
            }
            // On failure, the table's size and the bytes few factors use
            // (each distinct byte costs a column): the cheapest to cut.
            let mut count = [0usize; 256];
            for b in group.factors.iter().flat_map(|f| f.bytes()) {
                count[usize::from(b.to_ascii_lowercase())] += 1;
            }
            let rare: Vec<(char, Vec<&String>)> = (0..256)
                .filter(|&b| (1..4).contains(&count[b]))
                .map(|b| {
                    let users = group
                        .factors
                        .iter()
                        .filter(|f| f.bytes().any(|x| usize::from(x.to_ascii_lowercase()) == b))
                        .collect();
                    (char::from(b as u8), users)
                })
                .collect();
            assert!(
                group.dfa_fits(),
                "a built-in group's factors outgrew the DFA table: {} bytes of table; \
                 rare bytes: {rare:?}",
                group.dfa_table_bytes()
            );
        }
    }

    #[test]
    fn fast_searches_trigger_the_same_patterns() {
        let healthy = "2026-11-24 00:00:02,487 INFO api.gateway: GET https://api.mypurecloud.com/api/v2/users/me user client error_count=0 from pool\n";
        let mut text = String::new();
        for file in crate::test_corpus::fixture_and_field_texts() {
            text.push_str(&file);
            text.push('\n');
        }
        assert!(text.len() > 512 << 10, "corpus too small: {}", text.len());
        let rules = builtin_rules();
        let scanner = rules.scanner();
        let n = scanner.specs.len();
        let head = healthy.repeat(1000);
        for corpus in [text.clone(), text.to_ascii_uppercase()] {
            let text = format!("{head}{corpus}");
            for group in &scanner.groups {
                let mut plain = vec![false; n];
                let specs = &scanner.specs;
                group.trigger_with(
                    &text,
                    &mut plain,
                    Search::Plain,
                    &mut Places::default(),
                    specs,
                );
                for how in [Search::Narrowing, Search::Fast] {
                    let mut fast = vec![false; n];
                    group.trigger_with(&text, &mut fast, how, &mut Places::default(), specs);
                    assert_eq!(plain, fast, "{how:?}");
                }
                assert!(
                    plain.iter().filter(|t| **t).count() > 20,
                    "few patterns triggered"
                );
            }
        }
        let index = scanner.groups[0].index(&scanner.specs);
        let automaton = index.automaton().unwrap();
        assert!(automaton.narrowed_kept(), "the search was narrowed");
        assert!(
            scanner.groups[0]
                .dfa_for(text.len(), &scanner.specs)
                .is_some(),
            "the built-in factors have a DFA"
        );
    }

    #[test]
    fn a_factor_s_searched_bytes_are_its_searched_part() {
        for f in [
            "",
            "short",
            "exactly12byt",
            "a longer factor than twelve",
            "éééééééé",
            "abcdefghijké…",
            "日本語のテキストです",
            "in authorize_account\n",
            "\n  File \"x.py\", line",
            "a\nlonger line\nb",
            "\n",
        ] {
            assert_eq!(
                super::searched_bytes(f.as_bytes()),
                super::searched_part(f).as_bytes(),
                "{f}"
            );
        }
        assert_eq!(
            super::searched_part("in authorize_account\n"),
            "in authorize_account"
        );
        assert_eq!(super::searched_part("a\nlonger line\nb"), "longer line");
        assert_eq!(
            super::searched_part("https://api.mistral.ai/v1"),
            "https://api.mistral.ai/v1"
        );
    }

    /// Small texts trigger, pattern by pattern, what the literal set finds:
    /// each fixture and field case, as it is and upper-cased, and pieces of
    /// them cut at odd places (literals at a text's edges).
    #[test]
    fn direct_lookups_trigger_what_the_literal_set_does() {
        let rules = builtin_rules();
        let scanner = rules.scanner();
        let specs = &scanner.specs;
        let n = specs.len();
        let mut compared = 0;
        let mut any_triggered = 0;
        for file in crate::test_corpus::fixture_and_field_texts() {
            let upper = file.to_ascii_uppercase();
            let mut texts = vec![file.as_str(), upper.as_str()];
            let mut cut = 7;
            while cut + 1 < file.len() {
                if let (Some(head), Some(tail)) = (file.get(..cut), file.get(cut..)) {
                    texts.extend([head, tail]);
                }
                cut *= 5;
            }
            for text in texts.into_iter().filter(|t| t.len() < super::DIRECT_BELOW) {
                for group in &scanner.groups {
                    let mut plain = vec![false; n];
                    group.trigger_with(
                        text,
                        &mut plain,
                        Search::Plain,
                        &mut Places::default(),
                        specs,
                    );
                    let mut direct = vec![false; n];
                    group.trigger_with(
                        text,
                        &mut direct,
                        Search::Fast,
                        &mut Places::default(),
                        specs,
                    );
                    // The literal set leaves out the two-byte sets the
                    // lookups keep (see `searched_sets`): it triggers
                    // those patterns without them.
                    let index = group.index(specs);
                    for id in 0..n {
                        if plain[id] && !direct[id] {
                            let kept = group.by_factors.iter().find(|(p, _)| *p == id);
                            let left_out = kept.is_some_and(|&(_, all)| {
                                index.mask_of(id).is_some_and(|searched| searched != all)
                            });
                            assert!(left_out, "{:?} in {text}", &*specs[id].pattern);
                            direct[id] = true;
                        }
                    }
                    assert_eq!(plain, direct, "{text}");
                    any_triggered += plain.iter().filter(|t| **t).count();
                    compared += 1;
                }
            }
        }
        assert!(compared > 500, "few texts compared: {compared}");
        assert!(
            any_triggered > 1000,
            "few patterns triggered: {any_triggered}"
        );
    }

    /// The built-in input patterns find what the `regex` crate's regexes
    /// find, hit for hit: over each fixture and field case on its own
    /// (small texts: the lean regexes, whole or line by line) and over all
    /// of them as one big text (searched whole with the prefiltered ones
    /// where the literals are too many to read line by line).
    #[test]
    fn lean_and_prefiltered_regexes_find_the_regex_crates_hits() {
        let rules = builtin_rules();
        let scanner = rules.scanner();
        let patterns: Vec<regex::Regex> = scanner
            .specs
            .iter()
            .map(|s| regex::Regex::new(&super::ascii_word_boundaries(&s.pattern)).unwrap())
            .collect();
        // Each pattern's first hits in `text`, as the regex crate gives
        // them (a pattern the scan does not trigger matches nowhere).
        let theirs = |text: &str| -> Vec<Vec<(usize, String, String)>> {
            patterns
                .iter()
                .map(|re| regex_crate_hits(re, text))
                .collect()
        };
        let texts = crate::test_corpus::fixture_and_field_texts();
        let mut found = 0;
        for text in &texts {
            let ours = hits_of(scanner, text);
            found += ours.iter().filter(|h| !h.is_empty()).count();
            assert_eq!(ours, theirs(text), "{}", &text[..text.len().min(200)]);
        }
        assert!(found > 20, "{found} patterns found");
        let big = texts.join("\n");
        assert!(big.len() > super::PREFILTER_FROM);
        assert_eq!(hits_of(scanner, &big), theirs(&big));
        assert!(
            scanner.compiled.iter().any(
                |c| matches!(c.get(), Some(Ok(c)) if matches!(c.prefiltered.get(), Some(Some(_))))
            ),
            "some pattern was searched whole with its prefilter"
        );
    }
}
