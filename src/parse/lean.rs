//! The parsers' own regexes (and provider patterns only asked whether they
//! match, and the rules' `regex` tests), compiled without literal
//! prefilters: the `regex` crate's [`regex::Regex`] is regex-automata's
//! meta regex with them, and
//! extracting a pattern's literals and building their searchers (prefix and
//! inner-literal prefilters) was a third of compiling the ~50 patterns a
//! log's run compiles on first need (callgrind, 1 MiB log). They only speed
//! up searches of long texts that rarely match; these search lines (and
//! fact values, which a test's literal factors already screen). The
//! input-wide patterns searched over a big text whole take them (see
//! [`Regex::prefiltered`]). Same engines otherwise, so the same matches
//! (the meta regex gives every configuration the same results).
//!
//! [`Regex`], [`Captures`] and [`Match`] have the methods of the `regex`
//! crate's types of those names that the parsers and the rules call.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use regex_automata::meta;
use regex_automata::util::captures;
use regex_automata::util::syntax;
use regex_syntax::hir::{
    Capture, Class, ClassUnicode, ClassUnicodeRange, Hir, HirKind, Look, Repetition,
};

/// A pattern compiled as [`regex::Regex::new`] does, less the prefilters
/// (unless asked for: see [`Regex::prefiltered`]).
///
/// Compiled twice over, each on need: for texts all ASCII (nearly every
/// line of a log), the pattern with each class narrowed to its ASCII
/// members (see [`narrowed_to_ascii`]); for others, as written. On a text
/// all ASCII both find the same matches, and the narrowed one compiles in
/// a fraction of the time: a Unicode class such as `\w`, `\W`, `[^\n]`
/// or a case-folded letter is an automaton over every UTF-8 sequence of
/// its members, and compiling those (and determinizing their lazy DFAs)
/// was a ninth of a 1 MiB log's run (callgrind: 369 M instructions
/// before, 330 M narrowed).
#[derive(Debug, Clone)]
pub struct Regex {
    /// For texts all ASCII, and for every text when narrowing changed
    /// nothing.
    ascii: Engine,
    /// The pattern as written, compiled for the first text that is not all
    /// ASCII; `None` when narrowing changed nothing.
    wide: Option<Arc<OnceLock<Option<Engine>>>>,
    pattern: Arc<str>,
    prefilter: bool,
}

/// One compiled form of a pattern, with the caches its searches take.
#[derive(Debug, Clone)]
struct Engine {
    regex: meta::Regex,
    /// Set by [`Regex::sharing_caches`].
    shared: Option<Arc<SharedCaches>>,
}

/// Search state (the lazy DFA's states, the engines' scratch space) that
/// any thread takes for a search and puts back.
#[derive(Debug, Default)]
struct SharedCaches(Mutex<Vec<meta::Cache>>);

/// The configuration of [`regex::Regex::new`] (its `RegexBuilder`
/// defaults), with or without literal prefilters, and less the one-pass
/// DFA where it could never run: it serves only anchored searches, and
/// every search here is unanchored, so only a pattern anchored at its
/// start by itself (`^` first) uses it. Building it anyway was a fifth of
/// compiling an unanchored pattern with groups (callgrind, the HTTP
/// reason-phrase statement).
fn config(pattern: &str, prefilter: bool) -> meta::Config {
    meta::Config::new()
        .nfa_size_limit(Some(10 * (1 << 20)))
        .hybrid_cache_capacity(2 * (1 << 20))
        .match_kind(regex_automata::MatchKind::LeftmostFirst)
        .utf8_empty(true)
        .auto_prefilter(prefilter)
        .onepass(pattern.starts_with('^'))
}

fn syntax() -> syntax::Config {
    syntax::Config::new().utf8(true)
}

/// `pattern` compiled as written (parsed here; its error is the builder's).
fn compiled_as_written(
    pattern: &str,
    prefilter: bool,
) -> Result<meta::Regex, Box<meta::BuildError>> {
    meta::Builder::new()
        .configure(config(pattern, prefilter))
        .syntax(syntax())
        .build(pattern)
        .map_err(Box::new)
}

impl Regex {
    pub fn new(pattern: &str) -> Result<Regex, Box<meta::BuildError>> {
        Regex::build(pattern, false, false)
    }

    /// [`Regex::new`] with literal prefilters, for searches of big texts
    /// whole, where skipping to a pattern's literals pays (what the `regex`
    /// crate builds).
    pub fn prefiltered(pattern: &str) -> Result<Regex, Box<meta::BuildError>> {
        Regex::build(pattern, true, false)
    }

    /// The pattern compiled narrowed (see [`Regex`]); with `as_written`,
    /// compiled as written too, at once, so that a pattern too big for the
    /// engine only as written fails here.
    fn build(
        pattern: &str,
        prefilter: bool,
        as_written: bool,
    ) -> Result<Regex, Box<meta::BuildError>> {
        let config = config(pattern, prefilter);
        let (regex, wide) = match syntax::parse_with(pattern, &syntax()) {
            Ok(hir) => {
                let narrowed = narrowed_to_ascii(&hir);
                let wide = match &narrowed {
                    Some(_) if as_written => {
                        let regex = meta::Builder::new()
                            .configure(config.clone())
                            .build_from_hir(&hir)
                            .map_err(Box::new)?;
                        let engine = Engine {
                            regex,
                            shared: None,
                        };
                        Some(Arc::new(OnceLock::from(Some(engine))))
                    }
                    Some(_) => Some(Arc::default()),
                    None => None,
                };
                let regex = meta::Builder::new()
                    .configure(config)
                    .build_from_hir(narrowed.as_ref().unwrap_or(&hir));
                (regex.map_err(Box::new)?, wide)
            }
            // The builder parses it again, to give its error.
            Err(_) => (compiled_as_written(pattern, prefilter)?, None),
        };
        #[cfg(test)]
        tests::compiled(pattern);
        Ok(Regex {
            ascii: Engine {
                regex,
                shared: None,
            },
            wide,
            pattern: Arc::from(pattern),
            prefilter,
        })
    }

    /// [`Regex::new`] with the error [`regex::Regex::new`] gives (it turns
    /// the builder's into the `regex` crate's). A pattern that is not
    /// `tested` (a user's rule's: the built-in pack's compile as written in
    /// its tests) is compiled as written too, at once, so that one too big
    /// for the engine only as written is reported where it is first needed,
    /// as before narrowing.
    pub fn with_regex_error(pattern: &str, tested: bool) -> Result<Regex, regex::Error> {
        Regex::build(pattern, false, !tested).map_err(regex_error)
    }

    /// [`Regex::prefiltered`] with the error [`regex::Regex::new`] gives
    /// (see [`Regex::with_regex_error`] for `tested`).
    pub fn prefiltered_with_regex_error(
        pattern: &str,
        tested: bool,
    ) -> Result<Regex, regex::Error> {
        Regex::build(pattern, true, !tested).map_err(regex_error)
    }

    /// Whether the pattern as written compiles (what `rules check` asks):
    /// [`Regex::new`] compiles it as written only for a text not all ASCII,
    /// and a pattern too big for the engine may be so only as written.
    pub fn check(pattern: &str) -> Result<(), regex::Error> {
        compiled_as_written(pattern, false)
            .map(|_| ())
            .map_err(regex_error)
    }

    /// The same pattern, its searches taking their state (the lazy DFA's
    /// states, the engines' scratch space) from one pool any thread takes
    /// from and puts back, instead of each thread keeping its own: for the
    /// many patterns searched now and then (the rules' tests and
    /// input-wide patterns), whose state every thread that ever searched
    /// them kept a copy of. The rules' tests' state was 4.6 MB of a 16 MiB
    /// distinct-failures log's peak heap at 2 threads, 1.5 at 1 (heaptrack).
    /// The parsers' patterns, searched at every line, keep a state per
    /// thread: no lock, and no waiting for another's search.
    pub fn sharing_caches(mut self) -> Regex {
        self.ascii.shared = Some(Arc::default());
        // A form as written compiled already (see `Regex::build`) shares too.
        if let Some(Some(Some(wide))) = self
            .wide
            .as_mut()
            .and_then(Arc::get_mut)
            .map(OnceLock::get_mut)
        {
            wide.shared = Some(Arc::default());
        }
        self
    }

    /// The engine for `text`; `None` when the pattern as written, needed
    /// for it, does not compile (too big for the engine: `rules check`
    /// reports it), and so matches nothing there.
    fn engine(&self, text: &str) -> Option<&Engine> {
        match &self.wide {
            Some(wide) if !text.is_ascii() => wide
                .get_or_init(|| {
                    let regex = compiled_as_written(&self.pattern, self.prefilter).ok()?;
                    Some(Engine {
                        regex,
                        shared: self.ascii.shared.as_ref().map(|_| Arc::default()),
                    })
                })
                .as_ref(),
            _ => Some(&self.ascii),
        }
    }

    /// The pattern it was compiled from.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// The names of its groups, in order (`None` for group 0 and unnamed ones).
    pub fn capture_names(&self) -> impl Iterator<Item = Option<&str>> {
        self.ascii
            .regex
            .group_info()
            .pattern_names(regex_automata::PatternID::ZERO)
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.engine(text).is_some_and(|e| e.is_match(text))
    }

    pub fn find<'t>(&self, text: &'t str) -> Option<Match<'t>> {
        self.engine(text)?.find(text)
    }

    pub fn captures<'t>(&self, text: &'t str) -> Option<Captures<'t>> {
        self.captures_at(text, 0)
    }

    /// [`Regex::captures`] of the match that starts at or after `start`
    /// (look-arounds still see the text before it).
    pub fn captures_at<'t>(&self, text: &'t str, start: usize) -> Option<Captures<'t>> {
        self.engine(text)?.captures_at(text, start)
    }

    pub fn captures_iter<'r, 't>(
        &'r self,
        text: &'t str,
    ) -> impl Iterator<Item = Captures<'t>> + use<'r, 't> {
        self.engine(text)
            .into_iter()
            .flat_map(move |engine| engine.captures_iter(text))
    }
}

/// The builder's error as the `regex` crate gives it.
fn regex_error(e: Box<meta::BuildError>) -> regex::Error {
    match e.size_limit() {
        Some(limit) => regex::Error::CompiledTooBig(limit),
        None => regex::Error::Syntax(match e.syntax_error() {
            Some(syntax) => syntax.to_string(),
            None => e.to_string(),
        }),
    }
}

/// `hir` with each class narrowed to its ASCII members and each Unicode
/// word boundary made an ASCII one; `None` if that changes nothing. On a
/// text all ASCII it matches as `hir` does: a class can only ever match
/// one of the text's characters, all ASCII, and on such text a Unicode
/// word boundary is where an ASCII one is (the Unicode word characters
/// that are ASCII are `[0-9A-Za-z_]`). A literal that is not ASCII is
/// kept: it matches nothing there either way.
pub fn narrowed_to_ascii(hir: &Hir) -> Option<Hir> {
    match hir.kind() {
        HirKind::Class(Class::Unicode(class)) => {
            if class.ranges().last().is_none_or(|r| r.end() <= '\x7f') {
                return None;
            }
            let mut ascii = class.clone();
            ascii.intersect(&ClassUnicode::new([ClassUnicodeRange::new('\0', '\x7f')]));
            Some(Hir::class(Class::Unicode(ascii)))
        }
        HirKind::Look(look) => {
            let ascii = match look {
                Look::WordUnicode => Look::WordAscii,
                Look::WordUnicodeNegate => Look::WordAsciiNegate,
                Look::WordStartUnicode => Look::WordStartAscii,
                Look::WordEndUnicode => Look::WordEndAscii,
                Look::WordStartHalfUnicode => Look::WordStartHalfAscii,
                Look::WordEndHalfUnicode => Look::WordEndHalfAscii,
                _ => return None,
            };
            Some(Hir::look(ascii))
        }
        HirKind::Repetition(rep) => narrowed_to_ascii(&rep.sub).map(|sub| {
            Hir::repetition(Repetition {
                min: rep.min,
                max: rep.max,
                greedy: rep.greedy,
                sub: Box::new(sub),
            })
        }),
        HirKind::Capture(cap) => narrowed_to_ascii(&cap.sub).map(|sub| {
            Hir::capture(Capture {
                index: cap.index,
                name: cap.name.clone(),
                sub: Box::new(sub),
            })
        }),
        HirKind::Concat(subs) => narrowed_all(subs).map(Hir::concat),
        HirKind::Alternation(subs) => narrowed_all(subs).map(Hir::alternation),
        HirKind::Empty | HirKind::Literal(_) | HirKind::Class(Class::Bytes(_)) => None,
    }
}

/// Each of `subs` narrowed (see [`narrowed_to_ascii`]), or `None` if none
/// changes.
fn narrowed_all(subs: &[Hir]) -> Option<Vec<Hir>> {
    let narrowed: Vec<Option<Hir>> = subs.iter().map(narrowed_to_ascii).collect();
    if narrowed.iter().all(Option::is_none) {
        return None;
    }
    Some(
        narrowed
            .into_iter()
            .zip(subs)
            .map(|(narrowed, sub)| narrowed.unwrap_or_else(|| sub.clone()))
            .collect(),
    )
}

impl Engine {
    /// A cache of the shared ones (a new one when all are taken), given
    /// back when dropped; `None` when the regex keeps one per thread.
    fn shared_cache(&self) -> Option<TakenCache<'_>> {
        let shared = self.shared.as_deref()?;
        let taken = shared
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        Some(TakenCache {
            cache: Some(taken.unwrap_or_else(|| self.regex.create_cache())),
            from: shared,
        })
    }

    fn is_match(&self, text: &str) -> bool {
        match self.shared_cache() {
            Some(mut cache) => self.regex.is_match_with(cache.get(), &text.into()),
            None => self.regex.is_match(text),
        }
    }

    fn find<'t>(&self, text: &'t str) -> Option<Match<'t>> {
        let found = match self.shared_cache() {
            Some(mut cache) => self.regex.search_with(cache.get(), &text.into()),
            None => self.regex.find(text),
        };
        found.map(|m| Match::new(text, m.span()))
    }

    fn captures_at<'t>(&self, text: &'t str, start: usize) -> Option<Captures<'t>> {
        let mut caps = self.regex.create_captures();
        let input = regex_automata::Input::new(text).span(start..text.len());
        match self.shared_cache() {
            Some(mut cache) => self
                .regex
                .search_captures_with(cache.get(), &input, &mut caps),
            None => self.regex.search_captures(&input, &mut caps),
        }
        caps.is_match().then_some(Captures { text, caps })
    }

    fn captures_iter<'r, 't>(
        &'r self,
        text: &'t str,
    ) -> impl Iterator<Item = Captures<'t>> + use<'r, 't> {
        // The meta regex's own iterator, or one like it with a shared
        // cache taken for the whole iteration (built only then: parsers
        // call this on every line).
        let mut own = self
            .shared
            .is_none()
            .then(|| self.regex.captures_iter(text));
        let mut shared = self.shared_cache().map(|cache| {
            let searcher = regex_automata::util::iter::Searcher::new(text.into());
            (cache, searcher, self.regex.create_captures())
        });
        std::iter::from_fn(move || {
            if let Some(own) = own.as_mut() {
                return own.next().map(|caps| Captures { text, caps });
            }
            let (cache, searcher, caps) = shared.as_mut()?;
            let _ = searcher.advance(|input| {
                self.regex.search_captures_with(cache.get(), input, caps);
                Ok(caps.get_match())
            });
            caps.is_match().then(|| Captures {
                text,
                caps: caps.clone(),
            })
        })
    }
}

/// One of a regex's shared caches, taken for a search (see
/// [`Regex::sharing_caches`]).
struct TakenCache<'r> {
    cache: Option<meta::Cache>,
    from: &'r SharedCaches,
}

impl TakenCache<'_> {
    fn get(&mut self) -> &mut meta::Cache {
        self.cache.as_mut().expect("taken until dropped")
    }
}

impl Drop for TakenCache<'_> {
    fn drop(&mut self) {
        if let Some(cache) = self.cache.take() {
            self.from
                .0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(cache);
        }
    }
}

/// The groups of one match (see [`regex::Captures`]).
#[derive(Debug)]
pub struct Captures<'t> {
    text: &'t str,
    caps: captures::Captures,
}

impl<'t> Captures<'t> {
    /// Group `i` (0: the whole match), if it took part in the match.
    pub fn get(&self, i: usize) -> Option<Match<'t>> {
        self.caps
            .get_group(i)
            .map(|span| Match::new(self.text, span))
    }

    /// The named group, if the pattern has it and it took part.
    pub fn name(&self, name: &str) -> Option<Match<'t>> {
        self.caps
            .get_group_by_name(name)
            .map(|span| Match::new(self.text, span))
    }
}

impl std::ops::Index<&str> for Captures<'_> {
    type Output = str;

    /// The named group's text; panics when it did not take part, as
    /// `regex::Captures` does (for groups every match has).
    fn index(&self, name: &str) -> &str {
        self.name(name)
            .map(|m| m.as_str())
            .unwrap_or_else(|| panic!("no group named '{name}'"))
    }
}

/// Where a pattern or group matched (see [`regex::Match`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match<'t> {
    text: &'t str,
    start: usize,
    end: usize,
}

impl<'t> Match<'t> {
    fn new(text: &'t str, span: regex_automata::Span) -> Match<'t> {
        Match {
            text,
            start: span.start,
            end: span.end,
        }
    }

    pub fn start(&self) -> usize {
        self.start
    }

    pub fn end(&self) -> usize {
        self.end
    }

    pub fn range(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }

    pub fn as_str(&self) -> &'t str {
        &self.text[self.range()]
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::super::parse_chunk;
    use super::super::tests::chunk;

    /// Every pattern compiled here so far, in this test process.
    static COMPILED: Mutex<Vec<String>> = Mutex::new(Vec::new());

    pub(super) fn compiled(pattern: &str) {
        COMPILED.lock().unwrap().push(pattern.to_string());
    }

    /// Asserts that `lean` finds in `text` what the `regex` crate's `full`
    /// does: match test, first match, every group of every match (by name
    /// where it has one), and the match from the middle on; whether `full`
    /// matched.
    fn same_matches(lean: &super::Regex, full: &regex::Regex, pattern: &str, text: &str) -> bool {
        assert_eq!(
            lean.is_match(text),
            full.is_match(text),
            "{pattern} on {text:?}"
        );
        assert_eq!(
            lean.find(text).map(|m| m.range()),
            full.find(text).map(|m| m.range()),
            "{pattern} on {text:?}"
        );
        if !full.is_match(text) {
            return false;
        }
        let names: Vec<_> = full.capture_names().collect();
        // Each group of each match, as byte ranges.
        let ours: Vec<Vec<_>> = lean
            .captures_iter(text)
            .map(|c| {
                (0..names.len())
                    .map(|i| match names[i] {
                        Some(n) => c.name(n),
                        None => c.get(i),
                    })
                    .map(|m| m.map(|m| (m.start(), m.end())))
                    .collect()
            })
            .collect();
        let theirs: Vec<Vec<_>> = full
            .captures_iter(text)
            .map(|c| c.iter().map(|m| m.map(|m| (m.start(), m.end()))).collect())
            .collect();
        assert_eq!(ours, theirs, "{pattern} on {text:?}");
        let at = text.len() / 2;
        if text.is_char_boundary(at) {
            assert_eq!(
                lean.captures_at(text, at)
                    .and_then(|c| c.get(0))
                    .map(|m| m.range()),
                full.captures_at(text, at)
                    .and_then(|c| c.get(0))
                    .map(|m| m.range()),
                "{pattern} on {text:?} from {at}"
            );
        }
        true
    }

    /// The patterns the parsers compile here match exactly as the `regex`
    /// crate's: every one that parsing the fixtures and field cases
    /// compiles, over every line of them (and each line's message after
    /// its log prefix), match test, first match and every group of every
    /// match alike.
    #[test]
    fn same_matches_as_the_regex_crate() {
        let texts = crate::test_corpus::fixture_and_field_texts();
        for text in &texts {
            parse_chunk(&chunk(text));
        }
        let mut patterns = COMPILED.lock().unwrap().clone();
        patterns.sort();
        patterns.dedup();
        assert!(patterns.len() >= 30, "{} patterns", patterns.len());
        let mut matches = 0;
        for (pattern, shared) in patterns.iter().flat_map(|p| [(p, false), (p, true)]) {
            // A pattern too big as written (another test's, see
            // `a_pattern_too_big_as_written_fails_the_check`) is no parser's.
            let Ok(full) = regex::Regex::new(pattern) else {
                continue;
            };
            let lean = super::Regex::new(pattern).unwrap();
            // Searching with the caches every thread shares, or its own.
            let lean = if shared { lean.sharing_caches() } else { lean };
            for text in &texts {
                for line in text.lines() {
                    for text in [line, super::super::logprefix::message(line)] {
                        matches += usize::from(same_matches(&lean, &full, pattern, text));
                    }
                }
            }
        }
        assert!(matches > 1000, "{matches} matches");
    }

    /// Threads searching one regex that shares its caches at once each get
    /// their own answers (a cache is taken by one search at a time).
    /// Narrowed for ASCII texts, as written for the others: the same
    /// matches and groups as the `regex` crate either way, with caches
    /// shared or not, and with or without prefilters.
    #[test]
    fn texts_not_all_ascii_are_searched_with_the_pattern_as_written() {
        let patterns = [
            r"\w+ (?P<who>\w+)",
            r"(?i)straße|\bkelvin\b",
            r"error_code\W{1,4}(?P<n>\d+)",
            r"(?i)denied[^\n]{0,20}(?P<rest>fo.)",
            r"\bé\b|\s+→\s+(?P<s>\S+)",
            r"^(?P<w>\w)",
            r"[^a-z]+",
        ];
        let texts = [
            "hello world",
            "héllo wörld",
            "Straße STRASSE kelvin \u{212A}elvin",
            "error_code: 410 error_code — 411",
            "Denied: the user ¦ for fox",
            "a → b é c",
            "\u{a0}x\u{2003}y",
            "",
            "ÉCOLE",
        ];
        for pattern in patterns {
            assert!(
                super::narrowed_to_ascii(&regex_syntax::parse(pattern).unwrap()).is_some(),
                "{pattern}"
            );
            let full = regex::Regex::new(pattern).unwrap();
            for lean in [
                super::Regex::new(pattern).unwrap(),
                super::Regex::new(pattern).unwrap().sharing_caches(),
                super::Regex::prefiltered(pattern).unwrap(),
            ] {
                for text in texts {
                    same_matches(&lean, &full, pattern, text);
                }
            }
        }
        // Nothing to narrow: one compiled form.
        assert!(
            super::narrowed_to_ascii(&regex_syntax::parse(r"(?-u:\b)abc[0-9]").unwrap()).is_none()
        );
    }

    /// A pattern too big for the engine as written only is compiled for
    /// ASCII texts, matches nothing in others, and `check` reports it; a
    /// user's fails to compile.
    #[test]
    fn a_pattern_too_big_as_written_fails_the_check() {
        let pattern = r"\w{5000}x";
        let lean = super::Regex::new(pattern).unwrap();
        assert!(lean.is_match(&format!("{}x", "a".repeat(5000))));
        assert!(!lean.is_match(&format!("{}x", "é".repeat(5000))));
        assert!(super::Regex::check(pattern).is_err());
        assert!(super::Regex::check(r"\w{2}x").is_ok());
        // A user's pattern is compiled as written too, at once: it fails
        // where it is first needed.
        assert!(super::Regex::with_regex_error(pattern, false).is_err());
        assert!(super::Regex::prefiltered_with_regex_error(pattern, false).is_err());
        assert!(super::Regex::with_regex_error(pattern, true).is_ok());
        let user = super::Regex::with_regex_error(r"\w+x", false)
            .unwrap()
            .sharing_caches();
        assert!(user.is_match("éx") && user.is_match("ax"));
    }

    #[test]
    fn threads_sharing_caches_get_their_own_answers() {
        let re = super::Regex::new(r"(?i)error[=: ]+(?P<code>[a-z_]+)")
            .unwrap()
            .sharing_caches();
        std::thread::scope(|s| {
            for t in 0..4 {
                let re = &re;
                s.spawn(move || {
                    for i in 0..2000 {
                        let code = format!("code_{}", (b'a' + ((t * 7 + i) % 26) as u8) as char);
                        let text = format!("line {i}: Error: {code} and error={code}x");
                        let all: Vec<_> = re
                            .captures_iter(&text)
                            .map(|c| c["code"].to_string())
                            .collect();
                        assert_eq!(all, [code.clone(), format!("{code}x")]);
                        assert_eq!(&re.captures(&text).unwrap()["code"], code);
                        assert!(re.is_match(&text));
                        assert!(re.find("nothing here").is_none());
                    }
                });
            }
        });
        // Never more caches than searches at once.
        assert!(re.ascii.shared.as_ref().unwrap().0.lock().unwrap().len() <= 4);
    }
}
