//! The parsers' own regexes (and provider patterns only asked whether they
//! match, and the rules' `regex` tests), compiled without literal
//! prefilters: the `regex` crate's [`regex::Regex`] is regex-automata's
//! meta regex with them, and
//! extracting a pattern's literals and building their searchers (prefix and
//! inner-literal prefilters) was a third of compiling the ~50 patterns a
//! log's run compiles on first need (callgrind, 1 MiB log). They only speed
//! up searches of long texts that rarely match; these search lines (and
//! fact values, which a test's literal factors already screen).
//! Same engines otherwise, so the same matches (the meta regex gives every
//! configuration the same results).
//!
//! [`Regex`], [`Captures`] and [`Match`] have the methods of the `regex`
//! crate's types of those names that the parsers and the rules call.

use std::sync::Arc;

use regex_automata::meta;
use regex_automata::util::captures;
use regex_automata::util::syntax;

/// A pattern compiled as [`regex::Regex::new`] does, less the prefilters.
#[derive(Debug, Clone)]
pub struct Regex {
    regex: meta::Regex,
    pattern: Arc<str>,
}

impl Regex {
    pub fn new(pattern: &str) -> Result<Regex, Box<meta::BuildError>> {
        // The `regex` crate's configuration (its `RegexBuilder` defaults),
        // less the one-pass DFA where it could never run: it serves only
        // anchored searches, and every search here is unanchored, so only
        // a pattern anchored at its start by itself (`^` first) uses it.
        // Building it anyway was a fifth of compiling an unanchored pattern
        // with groups (callgrind, the HTTP reason-phrase statement).
        let config = meta::Config::new()
            .nfa_size_limit(Some(10 * (1 << 20)))
            .hybrid_cache_capacity(2 * (1 << 20))
            .match_kind(regex_automata::MatchKind::LeftmostFirst)
            .utf8_empty(true)
            .auto_prefilter(false)
            .onepass(pattern.starts_with('^'));
        meta::Builder::new()
            .configure(config)
            .syntax(syntax::Config::new().utf8(true))
            .build(pattern)
            .map(|regex| {
                #[cfg(test)]
                tests::compiled(pattern);
                Regex {
                    regex,
                    pattern: Arc::from(pattern),
                }
            })
            .map_err(Box::new)
    }

    /// [`Regex::new`] with the error [`regex::Regex::new`] gives (it turns
    /// the same build error into its own).
    pub fn with_regex_error(pattern: &str) -> Result<Regex, regex::Error> {
        Regex::new(pattern).map_err(|e| match e.size_limit() {
            Some(limit) => regex::Error::CompiledTooBig(limit),
            None => regex::Error::Syntax(match e.syntax_error() {
                Some(syntax) => syntax.to_string(),
                None => e.to_string(),
            }),
        })
    }

    /// The pattern it was compiled from.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// The names of its groups, in order (`None` for group 0 and unnamed ones).
    pub fn capture_names(&self) -> impl Iterator<Item = Option<&str>> {
        self.regex
            .group_info()
            .pattern_names(regex_automata::PatternID::ZERO)
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }

    pub fn find<'t>(&self, text: &'t str) -> Option<Match<'t>> {
        self.regex.find(text).map(|m| Match::new(text, m.span()))
    }

    pub fn captures<'t>(&self, text: &'t str) -> Option<Captures<'t>> {
        let mut caps = self.regex.create_captures();
        self.regex.captures(text, &mut caps);
        caps.is_match().then_some(Captures { text, caps })
    }

    /// [`Regex::captures`] of the match that starts at or after `start`
    /// (look-arounds still see the text before it).
    pub fn captures_at<'t>(&self, text: &'t str, start: usize) -> Option<Captures<'t>> {
        let mut caps = self.regex.create_captures();
        let input = regex_automata::Input::new(text).span(start..text.len());
        self.regex.search_captures(&input, &mut caps);
        caps.is_match().then_some(Captures { text, caps })
    }

    pub fn captures_iter<'r, 't>(
        &'r self,
        text: &'t str,
    ) -> impl Iterator<Item = Captures<'t>> + use<'r, 't> {
        self.regex
            .captures_iter(text)
            .map(move |caps| Captures { text, caps })
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
        for pattern in &patterns {
            let lean = super::Regex::new(pattern).unwrap();
            let full = regex::Regex::new(pattern).unwrap();
            for text in &texts {
                for line in text.lines() {
                    for text in [line, super::super::logprefix::message(line)] {
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
                            continue;
                        }
                        matches += 1;
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
                    }
                }
            }
        }
        assert!(matches > 1000, "{matches} matches");
    }
}
