//! A provider's own error wording as a failure signal. A line such as
//! `No such customer: 'cus_…'; a similar object exists in test mode, but a
//! live mode key was used` or `The security token included in the request
//! is expired` states a failed API call though it carries no status, code
//! or URL. Which words those are is provider data (`messages` in
//! rules/providers.toml), handed to the parse stage with each chunk as
//! [`Words`]; this module names no provider.
//!
//! The prefilter needs literals: each pattern's required literal factors
//! (lower case, four or more bytes; the loader rejects a pattern without
//! one) are this parser's triggers, and a pattern is only compiled when a
//! line carries one of its own literals.

use std::sync::{Arc, Mutex, OnceLock};

use super::json::find_body;
use super::lean::Regex;
use super::{Ctx, EventKind, LineParser, Lines, Prefilter, logprefix, markup};
use crate::providers::Providers;
use crate::rules::literal_set::LiteralSet;

/// Shortest literal a pattern must require (shorter ones match too often
/// to skip lines by).
const MIN_LITERAL: usize = 4;

/// One rule set's provider wording: its literals (one literal set over
/// them, so a line is searched once, not once per literal), its patterns
/// compiled on first use, and the parse prefilter that looks for its
/// literals beside every parser's triggers. Handed to the parse stage with
/// each chunk ([`super::parse_chunk_with`]), so two analyses with different
/// provider data in one process (the Python package) each read their own.
pub struct Words {
    /// Every pattern as given (what [`for_providers`] matches on).
    source: Vec<String>,
    literals: Vec<String>,
    finder: LiteralSet,
    patterns: Vec<String>,
    /// By literal (its index in `literals`): the patterns that require it.
    owners: Vec<Vec<u32>>,
    /// By pattern, compiled on first need (`None`: it does not compile).
    compiled: Vec<OnceLock<Option<Regex>>>,
    prefilter: OnceLock<Prefilter>,
}

impl std::fmt::Debug for Words {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Words")
            .field("patterns", &self.patterns)
            .finish_non_exhaustive()
    }
}

/// The words of `providers`: built once per distinct set of patterns in a
/// process (a run's chunks all share them; building means parsing each
/// pattern for its literals).
pub fn for_providers(providers: &Providers) -> Arc<Words> {
    let patterns: Vec<&str> = providers.message_patterns().collect();
    static BUILT: Mutex<Vec<Arc<Words>>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(w) = built.iter().find(|w| w.source_patterns_are(&patterns)) {
        return w.clone();
    }
    let words = Arc::new(Words::new(patterns.iter().copied()));
    // A process sees few distinct vocabularies; a bound keeps a long-lived
    // embedding that loads ever new rules from holding them all.
    if built.len() >= 8 {
        built.remove(0);
    }
    built.push(words.clone());
    words
}

/// The built-in providers' words (for parsing without a rule set).
pub fn builtin() -> Arc<Words> {
    static BUILTIN: OnceLock<Arc<Words>> = OnceLock::new();
    BUILTIN
        .get_or_init(|| {
            let mut builtin = Providers::default();
            for file in crate::rules::builtin::provider_files() {
                builtin.add_trusted(file);
            }
            for_providers(&builtin)
        })
        .clone()
}

/// The literals every match of `pattern` contains one of, or `None` if it
/// has no usable set. Of its required sets, the one whose shortest string
/// is longest: `error: (?P<code>missing_scope|…)` is looked for by its
/// codes, not by `error`, which half the lines of a log contain.
pub fn literals_of(pattern: &str) -> Option<Vec<String>> {
    // The built-in data's are found at build time.
    crate::rules::builtin::factors(pattern, MIN_LITERAL)?
        .into_iter()
        .max_by_key(|set| set.iter().map(String::len).min().unwrap_or(0))
}

impl Words {
    fn new<'a>(patterns: impl Iterator<Item = &'a str>) -> Self {
        let mut kept: Vec<(String, Vec<String>)> = Vec::new();
        let mut all = Vec::new();
        for p in patterns {
            all.push(p.to_string());
            // A pattern without a literal could not be prefiltered; the
            // loader refuses it in user data, and built-in data is tested.
            if let Some(lits) = literals_of(p) {
                kept.push((p.to_string(), lits));
            }
        }
        let mut literals: Vec<String> = kept.iter().flat_map(|(_, l)| l.iter().cloned()).collect();
        literals.sort_unstable();
        literals.dedup();
        let mut owners = vec![Vec::new(); literals.len()];
        for (k, (_, lits)) in kept.iter().enumerate() {
            for lit in lits {
                if let Ok(at) = literals.binary_search(lit) {
                    owners[at].push(k as u32);
                }
            }
        }
        let kept: Vec<String> = kept.into_iter().map(|(p, _)| p).collect();
        // A literal set, not an automaton built up front: a paste would
        // pay more for building it than for searching its few lines.
        let kind = if literals.len() <= 100 {
            aho_corasick::AhoCorasickKind::DFA
        } else {
            aho_corasick::AhoCorasickKind::ContiguousNFA
        };
        let finder = LiteralSet::new(&literals, kind);
        Words {
            source: all,
            literals,
            finder,
            compiled: kept.iter().map(|_| OnceLock::new()).collect(),
            patterns: kept,
            owners,
            prefilter: OnceLock::new(),
        }
    }

    /// Whether these words were built from exactly `patterns`.
    fn source_patterns_are(&self, patterns: &[&str]) -> bool {
        self.source.len() == patterns.len() && self.source.iter().zip(patterns).all(|(a, b)| a == b)
    }

    /// The literals a line must hold one of for [`ProviderMessage`].
    pub(super) fn literals(&self) -> &[String] {
        &self.literals
    }

    /// The parse prefilter's triggers, for a walk outside the parse that
    /// finds them (see [`super::TriggerWalk`]): `None` when some parser
    /// admits every line, and none is searched for.
    pub fn triggers(&self) -> Option<&[String]> {
        self.prefilter()
            .literals
            .as_ref()
            .map(|t| t.patterns.as_slice())
    }

    /// The parse prefilter with these words among its triggers.
    pub(super) fn prefilter(&self) -> &Prefilter {
        self.prefilter
            .get_or_init(|| Prefilter::new(&super::parsers(), self))
    }

    /// Whether `line` contains one of the literals (ASCII case-insensitively).
    fn admits(&self, line: &str) -> bool {
        self.finder.is_match(line)
    }

    /// Whether `message` is in these words: only the patterns whose
    /// literals it holds are compiled and tried, so most messages compile
    /// none (see [`crate::providers::Providers::is_error_message`]).
    pub fn says(&self, message: &str) -> bool {
        self.is_match(message)
    }

    /// Whether a pattern matches `text`: only those whose literals it
    /// holds are tried, each compiled on first need. One set of them all
    /// took 20 M instructions to compile, where a 1 MiB log's lines held
    /// the literals of a few (session 56).
    fn is_match(&self, text: &str) -> bool {
        let mut matched = false;
        let mut tried: Vec<u32> = Vec::new();
        self.finder.find(text, |literal| {
            for &k in &self.owners[literal] {
                if tried.contains(&k) {
                    continue;
                }
                tried.push(k);
                let regex = self.compiled[k as usize]
                    .get_or_init(|| Regex::new(&self.patterns[k as usize]).ok());
                if regex.as_ref().is_some_and(|r| r.is_match(text)) {
                    matched = true;
                    return false;
                }
            }
            true
        });
        matched
    }
}

/// A line in a provider's own error wording: an
/// [`EventKind::Exception`] whose message is the line (after a log
/// prefix), with whatever else it reveals.
pub struct ProviderMessage;

impl LineParser for ProviderMessage {
    /// None of its own: the words' literals ([`Words::literals`]).
    fn triggers(&self) -> &'static [&'static str] {
        &[]
    }

    fn uses_provider_words(&self) -> bool {
        true
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        let words = ctx.words.clone();
        if !words.admits(line) {
            return None;
        }
        // A JSON or markup body is read by the body parsers, its message
        // fields with it.
        if line.trim_start().starts_with('{') || markup::starts_document(line) {
            return None;
        }
        // Normal flow logged at INFO/DEBUG: see `signal::TextSignal`.
        if logprefix::is_informational(line) || !words.is_match(line) {
            return None;
        }
        // A body on the line (`ERROR exporter: {'ok': False, 'error': …}`)
        // is the body readers' to read and tie to its exchange; its fields
        // carry the wording to the rules and name the provider. Only when
        // the wording stands before the body (Laravel's `ERROR: <message>
        // {"exception": …}` context) is that text the failure, and the body
        // is read after it.
        let body = find_body(lines, i);
        let text = match body {
            Some((at, _)) if words.is_match(&line[..at]) => &line[..at],
            Some(_) => return None,
            None => line,
        };
        let mut fields = super::exception::facts_from_message(lines, text);
        let message = logprefix::message(text).trim_end();
        if !message.is_empty() {
            fields.insert(0, lines.str_field("exception.message", message));
        }
        ctx.emit(EventKind::Exception, lines.span_of(text.trim_end()), fields);
        if let Some((at, how)) = body {
            super::json::emit_found(ctx, lines, i, at, how);
        }
        Some(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_required_factors() {
        let lits = literals_of(r"(?i)\ba similar object exists in (?:test|live) mode\b").unwrap();
        assert!(
            lits.iter()
                .any(|l| l.contains("a similar object exists in")),
            "{lits:?}"
        );
        assert_eq!(literals_of(r"\d{5}"), None);
        // The codes, not the common word next to them.
        let codes =
            literals_of(r"\berror\b\s*[:=]\s*(?P<code>missing_scope|not_in_channel)\b").unwrap();
        assert!(codes.iter().all(|l| l != "error"), "{codes:?}");
    }

    /// The exception messages the parse stage reads from `text` (the
    /// built-in providers' wording applies: nothing installs other words in
    /// unit tests).
    fn messages(text: &str) -> Vec<String> {
        use super::super::tests::chunk;
        super::super::parse_chunk(&chunk(text))
            .into_iter()
            .filter(|e| e.kind == EventKind::Exception)
            .filter_map(|e| e.field("exception.message").map(|f| f.value.to_string()))
            .collect()
    }

    #[test]
    fn a_line_in_a_providers_wording_is_a_failure() {
        // No status, code or URL: only the wording says an API call failed.
        assert_eq!(
            messages(
                "No such customer: 'cus_Q1w2E3r4'; a similar object exists in live mode, but a test mode key was used to make this request."
            ),
            vec![
                "No such customer: 'cus_Q1w2E3r4'; a similar object exists in live mode, but a test mode key was used to make this request."
            ]
        );
        // After a log prefix, the message is what follows it.
        let logged = messages(
            "2024-03-01 12:00:01 ERROR sync: The security token included in the request is expired",
        );
        assert_eq!(logged.len(), 1, "{logged:?}");
        assert!(logged[0].ends_with("The security token included in the request is expired"));
    }

    #[test]
    fn wording_before_a_context_body_is_the_failure() {
        let logged = messages(
            "[2022-02-03 10:41:27] production.ERROR: You cannot use the test ID 'pm_card_visa' in livemode. {\"userId\":12,\"exception\":\"[object] (Stripe\\\\Exception\\\\InvalidRequestException(code: 0)\"}",
        );
        assert_eq!(logged.len(), 1, "{logged:?}");
        assert!(
            logged[0].contains("You cannot use the test ID"),
            "{logged:?}"
        );
        assert!(!logged[0].contains('{'), "{logged:?}");
    }

    #[test]
    fn words_alone_are_not_enough() {
        for text in [
            // Normal flow logged at INFO.
            "2024-03-01 12:00:01 INFO retrying: The security token included in the request is expired",
            // Prose near the words, not the provider's message.
            "No such file or directory: 'data_export.csv'",
            "changelog: handle missing_scope and not_in_channel errors",
        ] {
            assert!(messages(text).is_empty(), "{text}");
        }
    }

    /// The wording is the rule set's, not the process's: two analyses with
    /// different provider data in one process (the Python package) each
    /// read their own, whichever ran first.
    #[test]
    fn each_rule_set_reads_its_own_wording() {
        use crate::rules::RuleSet;
        use crate::rules::load::{RuleSource, load_over_builtin};
        let with_words = |extra: &[RuleSource]| {
            let report = load_over_builtin(extra, true);
            assert!(report.problems.is_empty(), "{:?}", report.problems);
            RuleSet::new(report.rules, report.providers)
        };
        let acme = with_words(&[RuleSource::new(
            "acme-providers.toml",
            r#"
[[provider]]
id = "acme"
name = "Acme"
messages = ['(?i)\bfrobnicator quota gauge overflowed\b']
"#,
            false,
        )]);
        let plain = with_words(&[]);
        // What a scan does with each chunk (lib.rs): the rule set's words.
        let messages = |rules: &RuleSet, text: &str| {
            use super::super::tests::chunk;
            let words = for_providers(&rules.providers);
            let mut out = Vec::new();
            super::super::parse_chunk_from(
                &chunk(text),
                0,
                &Default::default(),
                &words,
                &mut |p| {
                    if let super::super::Parsed::Event(e) = p
                        && e.kind == EventKind::Exception
                        && let Some(m) = e.field("exception.message")
                    {
                        out.push(m.value.to_string());
                    }
                    std::ops::ControlFlow::Continue(())
                },
            );
            out
        };
        let acme_line =
            "2024-03-01 12:00:01 ERROR sync: Frobnicator quota gauge overflowed for tenant 7\n";
        let builtin_line = "The security token included in the request is expired\n";
        for _ in 0..2 {
            assert_eq!(messages(&acme, acme_line).len(), 1, "acme's rules know it");
            assert!(
                messages(&plain, acme_line).is_empty(),
                "the built-in do not"
            );
            // The built-in wording reads with either.
            assert_eq!(messages(&acme, builtin_line).len(), 1);
            assert_eq!(messages(&plain, builtin_line).len(), 1);
        }
        // The same words serve every rule set with the same providers.
        assert!(Arc::ptr_eq(
            &for_providers(&plain.providers),
            &for_providers(&with_words(&[]).providers)
        ));
    }

    #[test]
    fn builtin_words_all_have_literals() {
        let mut p = Providers::default();
        p.add(toml::from_str(include_str!("../../rules/providers.toml")).unwrap())
            .unwrap();
        let patterns: Vec<&str> = p.message_patterns().collect();
        assert!(!patterns.is_empty());
        for m in patterns {
            assert!(literals_of(m).is_some(), "{m}");
        }
    }
}
