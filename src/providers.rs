//! Provider data (hosts, regions, token paths) loaded from TOML, and the
//! lookups the facts stage makes with it.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use regex::Regex;

use crate::parse::lean::Regex as LeanRegex;

mod data;
pub use data::{CodePrefix, Provider, ProviderFile, Region};

use crate::rules::literal_set::LiteralSet;
use crate::rules::literals::{Factors, may_match};

/// What a host tells us.
#[derive(Debug, Clone)]
pub struct HostMatch<'a> {
    pub provider: &'a Provider,
    pub region: Option<&'a Region>,
}

/// A regex from provider data, compiled on first use: a paste that never
/// asks (most ask about one or two) does not pay for compiling them all at
/// start-up. User data is compiled (and so checked) when it is added.
#[derive(Debug, Clone)]
struct LazyRegex {
    pattern: String,
    re: OnceLock<Option<Regex>>,
    /// The pattern without literal prefilters, for [`LazyRegex::is_match`]
    /// and the vocabulary's searches ([`LazyRegex::lean`]).
    matcher: OnceLock<Option<LeanRegex>>,
    /// The pattern's literal factors (see `rules::literals`), found on
    /// first need: a text without them cannot match, and is not searched.
    factors: OnceLock<Option<Factors>>,
}

impl LazyRegex {
    fn new(pattern: &str) -> Self {
        LazyRegex {
            pattern: pattern.to_string(),
            re: OnceLock::new(),
            matcher: OnceLock::new(),
            factors: OnceLock::new(),
        }
    }

    /// Compiles now, keeping the result, or says why it does not compile.
    fn checked(what: &str, pattern: &str) -> Result<Self, String> {
        let re = compile(what, pattern)?;
        Ok(LazyRegex {
            pattern: pattern.to_string(),
            re: OnceLock::from(Some(re)),
            matcher: OnceLock::new(),
            factors: OnceLock::new(),
        })
    }

    /// The regex, unless `text` lacks a literal it needs: parsing a pattern
    /// for its literals costs a fraction of compiling it, and most texts
    /// lack them.
    fn for_text(&self, text: &str) -> Option<&Regex> {
        self.admits(text).then(|| self.get()).flatten()
    }

    /// Whether `text` has the pattern's literal factors (else it cannot
    /// match).
    fn admits(&self, text: &str) -> bool {
        let factors = self
            .factors
            .get_or_init(|| crate::rules::builtin::factors(&self.pattern, 2));
        factors.as_ref().is_none_or(|f| may_match(text, f))
    }

    /// `None` only for a trusted (built-in, tested) pattern that does not
    /// compile: it then matches nothing rather than panicking.
    fn get(&self) -> Option<&Regex> {
        self.re
            .get_or_init(|| Regex::new(&self.pattern).ok())
            .as_ref()
    }

    /// The pattern compiled without literal prefilters (see `parse::lean`):
    /// what the vocabulary's searches use. Its texts were screened for the
    /// pattern's literals already, and compiling the prefilters was a
    /// third of compiling the twenty patterns a log of many failures
    /// needs.
    fn lean(&self) -> Option<&LeanRegex> {
        self.matcher
            .get_or_init(|| LeanRegex::new(&self.pattern).ok())
            .as_ref()
    }

    /// Whether the pattern matches `text`; not compiled for a text that
    /// lacks its literals (most paths lack a token path's `/token`), and
    /// compiled for this question alone without literal prefilters (see
    /// `parse::lean`), unless checked user data compiled it already: the
    /// HTML error title's case-insensitive words took 4 M instructions to
    /// compile with them, for one page of a 1 MiB log.
    fn is_match(&self, text: &str) -> bool {
        if let Some(Some(re)) = self.re.get() {
            return re.is_match(text);
        }
        self.admits(text)
            && self
                .matcher
                .get_or_init(|| crate::parse::lean::Regex::new(&self.pattern).ok())
                .as_ref()
                .is_some_and(|re| re.is_match(text))
    }
}

/// The vocabulary's patterns, each compiled once a text has its literals
/// (a set of them all took milliseconds to compile on every run).
#[derive(Debug, Clone)]
struct Vocabulary {
    /// (index into `providers`, pattern)
    patterns: Vec<(usize, LazyRegex)>,
    /// Indexes into `patterns` of those that may have a `code` group (its
    /// name is written in the pattern): the only ones [`Providers::codes_in`]
    /// searches. A sixth of them, and each other one cost a search of the
    /// incident's text for its literals.
    coded: Vec<usize>,
    /// The literal factors of every pattern, and of the coded ones: a text
    /// is searched once for all of them. A search per pattern (a hundred
    /// of them) was a sixth of what a failure cost at ten times the
    /// failures.
    all_factors: Arc<FactorIndex>,
    coded_factors: Arc<FactorIndex>,
}

impl Vocabulary {
    fn new(patterns: Vec<(usize, LazyRegex)>) -> Self {
        let coded: Vec<usize> = (patterns.iter().enumerate())
            .filter(|(_, (_, re))| {
                re.pattern.contains("(?P<code>") || re.pattern.contains("(?<code>")
            })
            .map(|(k, _)| k)
            .collect();
        let all: Vec<usize> = (0..patterns.len()).collect();
        Vocabulary {
            all_factors: Arc::new(FactorIndex::new(&patterns, &all)),
            coded_factors: Arc::new(FactorIndex::new(&patterns, &coded)),
            patterns,
            coded,
        }
    }

    /// The patterns that may match `text`, in order, compiled.
    fn for_text<'a>(&'a self, text: &'a str) -> impl Iterator<Item = (usize, &'a LeanRegex)> {
        let admitted = self.all_factors.admitted(text);
        (self.patterns.iter().zip(admitted))
            .filter_map(|((p, re), admitted)| admitted.then(|| Some((*p, re.lean()?))).flatten())
    }

    /// The patterns with a `code` group that may match `text`, compiled.
    fn coded_for<'a>(&'a self, text: &'a str) -> impl Iterator<Item = &'a LeanRegex> {
        let admitted = self.coded_factors.admitted(text);
        (self.coded.iter().zip(admitted))
            .filter_map(|(&k, admitted)| admitted.then(|| self.patterns[k].1.lean()).flatten())
            .filter(|re| re.capture_names().any(|n| n == Some("code")))
    }
}

/// Some patterns' literal factors (see `rules::literals`) in one literal
/// set, so that whether a text may match each of them takes one search.
struct FactorIndex {
    set: LiteralSet,
    literals: usize,
    /// By pattern (in the order given): its factor sets as ids in `set`;
    /// `None` for a pattern without factors, which any text may match.
    needs: Vec<Option<Vec<Vec<usize>>>>,
}

impl FactorIndex {
    /// For `patterns[k]` of each `k` of `which`, in that order.
    fn new(patterns: &[(usize, LazyRegex)], which: &[usize]) -> Self {
        // Sized for a few factors a pattern, with a fast hash, and each
        // factor moved in once: grown, SipHashed and copied, these were
        // a twentieth of a paste's instructions.
        let mut ids: foldhash::HashMap<String, usize> =
            HashMap::with_capacity_and_hasher(which.len() * 4, Default::default());
        let needs = (which.iter())
            .map(|&k| {
                let factors = crate::rules::builtin::factors(&patterns[k].1.pattern, 2)?;
                let sets = (factors.into_iter())
                    .map(|set| {
                        (set.into_iter())
                            .map(|f| {
                                let next = ids.len();
                                *ids.entry(f).or_insert(next)
                            })
                            .collect()
                    })
                    .collect();
                Some(sets)
            })
            .collect();
        let mut literals = vec![String::new(); ids.len()];
        for (f, id) in ids {
            literals[id] = f;
        }
        FactorIndex {
            // Searched over every failure's text, but each text is short:
            // a contiguous NFA. The DFA it was took 2.8 MB of a run's peak
            // (the vocabulary's literals, case folded) and was no faster on
            // the distinct-failure corpus (2308 vs 2328 ms, within noise).
            set: LiteralSet::new(&literals, AhoCorasickKind::ContiguousNFA),
            literals: literals.len(),
            needs,
        }
    }

    /// By pattern, whether `text` has its factors (else it cannot match):
    /// a string of every set, as `may_match` tells.
    fn admitted(&self, text: &str) -> Vec<bool> {
        let mut present = vec![false; self.literals];
        self.set.find(text, |id| {
            present[id] = true;
            true
        });
        (self.needs.iter())
            .map(|needs| {
                needs
                    .as_ref()
                    .is_none_or(|sets| sets.iter().all(|set| set.iter().any(|&id| present[id])))
            })
            .collect()
    }
}

impl std::fmt::Debug for FactorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FactorIndex")
            .field("patterns", &self.needs.len())
            .finish_non_exhaustive()
    }
}

/// A provider's region domains, twice: a vectorised leftmost search
/// (Teddy; `None` where the CPU has no SIMD for it) skips ahead, and an
/// overlapping one finds every occurrence near what it found. An automaton
/// uses Teddy for at most 16 patterns, and its other prefilters stop at
/// every common letter: Genesys has 18 regions.
#[derive(Debug, Clone)]
struct DomainSearch {
    skipping: Option<aho_corasick::packed::Searcher>,
    every: AhoCorasick,
}

/// All provider files merged, ready for lookups.
#[derive(Debug, Default, Clone)]
pub struct Providers {
    token_path: Option<LazyRegex>,
    token_paths: Vec<LazyRegex>,
    tie_headers: Vec<String>,
    /// Shared with each parse that reads records (one per chunk).
    record_ties: Arc<RecordTies>,
    html_error_title: Option<LazyRegex>,
    exchange_words: Option<LazyRegex>,
    clock_quotes: Vec<LazyRegex>,
    pub providers: Vec<Provider>,
    /// Built on first use from `providers`; reset by each [`Providers::add`].
    vocabulary: OnceLock<Option<Vocabulary>>,
    /// Each provider's `tenant_in_url` regexes (provider index, regex),
    /// compiled on first use; reset like `vocabulary`.
    tenants: OnceLock<Vec<(usize, Regex)>>,
    /// By provider index: automata over its regions' domains (pattern id =
    /// region index; `None` without regions), built on first use; reset
    /// like `vocabulary`.
    region_domains: OnceLock<Vec<Option<DomainSearch>>>,
    /// Every provider's `messages`, as the parse stage's words (literals
    /// first, patterns compiled on need), found on first use; reset like
    /// `vocabulary`.
    messages: OnceLock<Arc<crate::parse::provider_words::Words>>,
}

/// The record keys that tie events (`tie_record_keys`), as a value a
/// parse can hold: one that leaves out a record's other members keeps
/// these (see `parse::record`).
#[derive(Debug, Clone, Default)]
pub struct RecordTies {
    keys: Vec<String>,
    /// Bit `n` set: some key is `n` bytes long (63: 63 or more); and the
    /// bit of some key's first and last bytes ([`ends_bit`]). Most keys of
    /// a record are no id, and most of those are told apart by these
    /// alone (`level`, `method` and `status` are as long as ids): each key
    /// of every JSON record is asked about.
    lens: u64,
    ends: u64,
}

impl RecordTies {
    fn add(&mut self, key: String) {
        self.lens |= len_bit(&key);
        self.ends |= ends_bit(&key);
        self.keys.push(key);
    }

    /// Whether `key` (dotted below the record) is a tie key.
    pub fn is_tie(&self, key: &str) -> bool {
        self.lens & len_bit(key) != 0
            && self.ends & ends_bit(key) != 0
            && self.keys.iter().any(|t| t == key)
    }

    /// Whether some tie key is below `key` (`http.request_id` below
    /// `http`): a member `key` that holds others may hold a tie.
    pub fn any_below(&self, key: &str) -> bool {
        (self.keys.iter()).any(|t| {
            t.strip_prefix(key)
                .is_some_and(|rest| rest.starts_with('.'))
        })
    }
}

/// The bit of [`RecordTies`]' lengths for a key.
fn len_bit(key: &str) -> u64 {
    1 << key.len().min(63)
}

/// The bit of [`RecordTies`]' ends for a key.
fn ends_bit(key: &str) -> u64 {
    match (key.as_bytes().first(), key.as_bytes().last()) {
        (Some(&first), Some(&last)) => 1 << ((first as usize * 7 + last as usize) % 64),
        _ => 1,
    }
}

fn compile(what: &str, pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| format!("invalid {what} regex `{pattern}`: {e}"))
}

impl Providers {
    /// Merges one parsed file; a later file's provider with the same id
    /// replaces the earlier one (user data overrides built-in data), and a
    /// file's lists (token paths, tie names) add to the earlier ones. Every
    /// regex is compiled here, so a bad one is reported against its file.
    pub fn add(&mut self, file: ProviderFile) -> Result<(), String> {
        self.merge(file, true)
    }

    /// As [`Providers::add`], for the built-in data (tested, see the tests
    /// below): its regexes compile on first use only.
    pub fn add_trusted(&mut self, file: ProviderFile) {
        // Without checking, merging cannot fail.
        let _ = self.merge(file, false);
    }

    fn merge(&mut self, file: ProviderFile, check: bool) -> Result<(), String> {
        let lazy = |what: &str, p: &str| {
            if check {
                LazyRegex::checked(what, p)
            } else {
                Ok(LazyRegex::new(p))
            }
        };
        if let Some(p) = &file.token_path {
            self.token_path = Some(lazy("token_path", p)?);
        }
        for p in &file.token_paths {
            self.token_paths.push(lazy("token_paths", p)?);
        }
        if let Some(p) = &file.html_error_title {
            self.html_error_title = Some(lazy("html_error_title", p)?);
        }
        if let Some(p) = &file.exchange_words {
            self.exchange_words = Some(lazy("exchange_words", p)?);
        }
        for p in &file.clock_quotes {
            self.clock_quotes.push(lazy("clock_quotes", p)?);
        }
        for h in file.tie_headers {
            self.tie_headers.push(h.to_ascii_lowercase());
        }
        for k in file.tie_record_keys {
            Arc::make_mut(&mut self.record_ties).add(k);
        }
        for p in file.provider {
            if check {
                for v in p.vocabulary.iter().chain(&p.tenant_in_url) {
                    compile(&format!("vocabulary of `{}`", p.id), v)?;
                }
                for m in &p.messages {
                    compile(&format!("messages of `{}`", p.id), m)?;
                    if crate::parse::provider_words::literals_of(m).is_none() {
                        return Err(format!(
                            "message `{m}` of `{}` has no literal of 4 or more characters every match contains (the parse stage can only look for literals)",
                            p.id
                        ));
                    }
                }
            }
            self.providers.retain(|old| old.id != p.id);
            self.providers.push(p);
        }
        self.vocabulary = OnceLock::new();
        self.tenants = OnceLock::new();
        self.region_domains = OnceLock::new();
        self.messages = OnceLock::new();
        Ok(())
    }

    fn vocabulary(&self) -> Option<&Vocabulary> {
        self.vocabulary
            .get_or_init(|| {
                let patterns: Vec<(usize, LazyRegex)> = self
                    .providers
                    .iter()
                    .enumerate()
                    .flat_map(|(i, p)| {
                        p.vocabulary
                            .iter()
                            .chain(&p.messages)
                            .map(move |v| (i, LazyRegex::new(v)))
                    })
                    .collect();
                Some(Vocabulary::new(patterns))
            })
            .as_ref()
    }

    /// Whether `path` is an OAuth access-token endpoint's path.
    pub fn is_token_path(&self, path: &str) -> bool {
        if self.token_path.is_none() && self.token_paths.is_empty() {
            return path.trim_end_matches('/').ends_with("/token");
        }
        self.token_path.iter().any(|re| re.is_match(path))
            || self.token_paths.iter().any(|re| re.is_match(path))
    }

    /// Whether a fact name (`header.x-request-id`, `record.request_id`) is
    /// one whose value ties events of one exchange together.
    pub fn is_tie(&self, name: &str) -> bool {
        if let Some(h) = name
            .strip_prefix("header.")
            .or_else(|| name.strip_prefix("request.header."))
        {
            return self.tie_headers.iter().any(|t| t == h);
        }
        if let Some(k) = name.strip_prefix("record.") {
            return self.is_tie_record_key(k);
        }
        false
    }

    /// Whether a JSON record's key (`request_id`) is one of
    /// `tie_record_keys`: [`Providers::is_tie`] of `record.{key}`.
    pub fn is_tie_record_key(&self, key: &str) -> bool {
        self.record_ties.is_tie(key)
    }

    /// The record keys that tie events, for a parse to hold.
    pub fn record_ties(&self) -> Arc<RecordTies> {
        Arc::clone(&self.record_ties)
    }

    /// Whether `body` is an HTML page whose title reports an error.
    pub fn is_html_error_page(&self, body: &str) -> bool {
        let Some(re) = &self.html_error_title else {
            return false;
        };
        let head = body.trim_start();
        if !head.starts_with('<') {
            return false;
        }
        let lower = &head[..head.floor_char_boundary(8192)];
        let Some(open) = lower.to_ascii_lowercase().find("<title") else {
            return false;
        };
        let rest = &lower[open..];
        let Some(gt) = rest.find('>') else {
            return false;
        };
        let title = &rest[gt + 1..];
        let title = &title[..title
            .to_ascii_lowercase()
            .find("</title")
            .unwrap_or(title.len())];
        re.is_match(title)
    }

    /// Every provider's tenant-reading regexes, with the provider.
    pub fn tenant_patterns(&self) -> impl Iterator<Item = (&Provider, &Regex)> {
        self.tenants
            .get_or_init(|| {
                self.providers
                    .iter()
                    .enumerate()
                    .flat_map(|(i, p)| {
                        p.tenant_in_url
                            .iter()
                            .filter_map(move |t| Regex::new(t).ok().map(|re| (i, re)))
                    })
                    .collect()
            })
            .iter()
            .map(|(i, re)| (&self.providers[*i], re))
    }

    /// The clock-quote regexes (see [`ProviderFile::clock_quotes`]) that
    /// may match `text`.
    pub fn clock_quotes<'a>(&'a self, text: &'a str) -> impl Iterator<Item = &'a Regex> {
        self.clock_quotes.iter().filter_map(|re| re.for_text(text))
    }

    /// Whether an error message speaks of an API call or its transport.
    pub fn mentions_exchange(&self, message: &str) -> bool {
        self.exchange_words
            .as_ref()
            .is_some_and(|re| re.is_match(message))
    }

    /// Whether `message` (a body's `message` field) is in some provider's
    /// own error wording (`messages`): `{"message": "Missing Authentication
    /// Token"}` pasted alone is a failed call though it says no status.
    pub fn is_error_message(&self, message: &str) -> bool {
        self.messages
            .get_or_init(|| crate::parse::provider_words::for_providers(self))
            .says(message)
    }

    /// Every provider's `messages` patterns, in file order.
    pub fn message_patterns(&self) -> impl Iterator<Item = &str> {
        self.providers
            .iter()
            .flat_map(|p| p.messages.iter().map(String::as_str))
    }

    /// The provider whose vocabulary matches `text` earliest, and where.
    pub fn by_vocabulary(&self, text: &str) -> Option<(&str, (usize, usize))> {
        let vocab = self.vocabulary()?;
        vocab
            .for_text(text)
            .filter_map(|(p, re)| re.find(text).map(|m| (p, m.start(), m.end())))
            .min_by_key(|(_, s, _)| *s)
            .map(|(p, s, e)| (self.providers[p].id.as_str(), (s, e)))
    }

    /// Every provider whose vocabulary matches `text` (indexes, see
    /// [`Providers::index_of_host`]).
    pub fn named_in(&self, text: &str) -> Vec<usize> {
        let Some(vocab) = self.vocabulary() else {
            return Vec::new();
        };
        let mut named = Vec::new();
        for (p, re) in vocab.for_text(text) {
            if !named.contains(&p) && re.is_match(text) {
                named.push(p);
            }
        }
        named
    }

    /// The index of the provider a host belongs to ([`Providers::lookup_host`]).
    pub fn index_of_host(&self, host: &str) -> Option<usize> {
        let m = self.lookup_host(host)?;
        self.providers
            .iter()
            .position(|p| std::ptr::eq(p, m.provider))
    }

    /// Error codes the vocabulary's `code` groups find in `text`, with
    /// where each is.
    pub fn codes_in(&self, text: &str) -> Vec<(String, (usize, usize))> {
        let Some(vocab) = self.vocabulary() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for re in vocab.coded_for(text) {
            for c in re.captures_iter(text).take(8) {
                if let Some(m) = c.name("code") {
                    out.push((m.as_str().to_string(), (m.start(), m.end())));
                }
            }
        }
        out.sort_by_key(|(_, r)| *r);
        out
    }

    /// (body path, prefix) for numeric codes written with a prefix.
    pub fn prefixed_codes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.providers.iter().flat_map(|p| {
            p.code_prefixes
                .iter()
                .map(|c| (c.path.as_str(), c.prefix.as_str()))
        })
    }

    /// The provider and region a host belongs to; the longest matching domain
    /// wins, so `mypurecloud.com.au` is not taken for `mypurecloud.com`.
    pub fn lookup_host(&self, host: &str) -> Option<HostMatch<'_>> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let under = |domain: &str| {
            let n = domain.len();
            host.len() >= n
                && host.is_char_boundary(host.len() - n)
                && host[host.len() - n..].eq_ignore_ascii_case(domain)
                && (host.len() == n || host.as_bytes()[host.len() - n - 1] == b'.')
        };
        let mut best: Option<(usize, HostMatch)> = None;
        for p in &self.providers {
            for r in &p.region {
                if under(&r.domain) && best.as_ref().is_none_or(|(len, _)| r.domain.len() > *len) {
                    best = Some((
                        r.domain.len(),
                        HostMatch {
                            provider: p,
                            region: Some(r),
                        },
                    ));
                }
            }
            for d in &p.domains {
                if under(d) && best.as_ref().is_none_or(|(len, _)| d.len() > *len) {
                    best = Some((
                        d.len(),
                        HostMatch {
                            provider: p,
                            region: None,
                        },
                    ));
                }
            }
        }
        best.map(|(_, m)| m)
    }

    /// (place, provider id, region) for every place name in the data.
    pub fn places(&self) -> impl Iterator<Item = (&str, &Provider, &Region)> {
        self.providers.iter().flat_map(|p| {
            p.region
                .iter()
                .flat_map(move |r| r.places.iter().map(move |pl| (pl.as_str(), p, r)))
        })
    }

    /// Where `provider`'s region domains are written in `text`, as (region
    /// index, start), by end: each domain's occurrences as a search for it
    /// alone finds them (left to right, not overlapping each other).
    pub fn region_domains_in(&self, provider: &Provider, text: &str) -> Vec<(usize, usize)> {
        let mut next_free = vec![0; provider.region.len()];
        let mut out = Vec::new();
        for (k, at) in self.region_domain_hits(provider, text) {
            if at >= next_free[k] {
                next_free[k] = at + provider.region[k].domain.len();
                out.push((k, at));
            }
        }
        out
    }

    /// Every occurrence of `provider`'s region domains in `text`, those
    /// overlapping each other too, as (region index, start), by end. One
    /// pass for all of them: a failure's window is 32 KiB, and a search
    /// per region (eighteen for Genesys) was a third of what comparing
    /// cost.
    pub fn region_domain_hits(&self, provider: &Provider, text: &str) -> Vec<(usize, usize)> {
        let Some(i) = (self.providers.iter()).position(|p| std::ptr::eq(p, provider)) else {
            return Vec::new();
        };
        let automata = self.region_domains.get_or_init(|| {
            (self.providers.iter())
                .map(|p| {
                    let domains = p.region.iter().map(|r| r.domain.as_str());
                    // Empty domains match everywhere and name no host.
                    let any = p.region.iter().any(|r| !r.domain.is_empty());
                    let skipping = aho_corasick::packed::Searcher::new(domains.clone());
                    let every = AhoCorasick::new(domains).ok()?;
                    any.then_some(DomainSearch { skipping, every })
                })
                .collect()
        });
        let Some(search) = &automata[i] else {
            return Vec::new();
        };
        // The leftmost search reports no match starting inside one it
        // reported, but every occurrence starts inside a reported one or
        // is one, so it lies within the longest domain's length of a
        // reported one's end: the text around those ends is searched
        // again for all of them.
        let longest = provider.region.iter().map(|r| r.domain.len()).max();
        let longest = longest.unwrap_or(0);
        let mut around: Vec<(usize, usize)> = Vec::new();
        match &search.skipping {
            Some(skipping) => {
                for m in skipping.find_iter(text) {
                    let (from, to) = (m.end().saturating_sub(longest), m.end() + longest);
                    match around.last_mut() {
                        Some((_, end)) if from <= *end => *end = to,
                        _ => around.push((from, to)),
                    }
                }
            }
            None => around.push((0, text.len())),
        }
        let mut out = Vec::new();
        for (from, to) in around {
            let input = aho_corasick::Input::new(text).range(from..to.min(text.len()));
            for m in search.every.find_overlapping_iter(input) {
                if m.start() < m.end() {
                    out.push((m.pattern().as_usize(), m.start()));
                }
            }
        }
        out
    }

    pub fn region(&self, id: &str) -> Option<(&Provider, &Region)> {
        self.providers
            .iter()
            .find_map(|p| p.region.iter().find(|r| r.id == id).map(|r| (p, r)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> Providers {
        let mut p = Providers::default();
        let file: ProviderFile = toml::from_str(include_str!("../rules/providers.toml")).unwrap();
        p.add(file).unwrap();
        p
    }

    /// The built-in data is added unchecked at start-up; here it is checked.
    #[test]
    fn builtin_provider_data_compiles() {
        let mut p = Providers::default();
        for text in crate::rules::builtin::PROVIDER_TEXTS {
            let file: ProviderFile = toml::from_str(text).unwrap();
            p.add(file).unwrap();
        }
        assert!(p.vocabulary().is_some());
        for (_, re) in &p.vocabulary().unwrap().patterns {
            assert!(re.get().is_some(), "{}", re.pattern);
        }
    }

    #[test]
    fn longest_domain_wins() {
        let p = builtin();
        let m = p.lookup_host("api.mypurecloud.com.au").unwrap();
        assert_eq!(m.region.unwrap().id, "ap-southeast-2");
        let m = p.lookup_host("login.apne2.pure.cloud").unwrap();
        assert_eq!(m.region.unwrap().id, "ap-northeast-2");
        assert!(p.lookup_host("api.mypurecloud").is_none());
        assert!(p.lookup_host("evilmypurecloud.com").is_none());
    }

    /// One pass finds what a search per domain finds: every occurrence,
    /// those inside another domain's too (`mypurecloud.com` in
    /// `mypurecloud.com.au`).
    #[test]
    fn region_domains_found_as_a_search_per_domain_finds_them() {
        let p = builtin();
        let genesys = &p.providers[0];
        let text = "GET https://login.mypurecloud.com.au/oauth/token\n\
                    api.usw2.pure.cloud x.mypurecloud.com, mypurecloud.de.mypurecloud.ie\n\
                    apne2.pure.cloudapne3.pure.cloud";
        let mut each: Vec<(usize, usize)> = (genesys.region.iter().enumerate())
            .flat_map(|(k, r)| {
                memchr::memmem::find_iter(text.as_bytes(), r.domain.as_bytes())
                    .map(move |at| (k, at))
            })
            .collect();
        let mut once = p.region_domains_in(genesys, text);
        each.sort_unstable();
        once.sort_unstable();
        assert!(once.len() >= 8, "{once:?}");
        assert_eq!(once, each);
    }

    #[test]
    fn eighteen_genesys_regions() {
        assert_eq!(builtin().providers[0].region.len(), 18);
    }

    #[test]
    fn token_paths() {
        let p = builtin();
        for path in [
            "/oauth/token",
            "/api/v2/oauth2/token",
            "/api/v2/oauth/token",
            "/common/oauth2/v2.0/token",
            "/contoso.onmicrosoft.com/oauth2/token",
            "/oauth2/default/v1/token",
            "/oauth2/v1/token",
            "/realms/acme/protocol/openid-connect/token",
            "/services/oauth2/token",
            "/token",
            "/login/oauth/access_token",
        ] {
            assert!(p.is_token_path(path), "{path}");
        }
        // API calls whose path happens to end in `token`.
        for path in [
            "/api/v2/tokens/me",
            "/api/v2/screenrecording/token",
            "/api/v2/backgroundassistant/token",
            "/api/v2/webdeployments/token/refresh",
            "/api/v2/webdeployments/token/oauthcodegrantjwtexchange",
            "/realms/acme/protocol/openid-connect/token/introspect",
            "/v1/users/token",
        ] {
            assert!(!p.is_token_path(path), "{path}");
        }
    }

    #[test]
    fn vocabulary_names_providers_and_codes() {
        let p = builtin();
        let who = |t: &str| p.by_vocabulary(t).map(|(id, _)| id.to_string());
        assert_eq!(
            who("AADSTS7000215: Invalid client secret provided.").as_deref(),
            Some("entra")
        );
        assert_eq!(
            who(r#"{"errorCode":"E0000011","errorSummary":"Invalid token provided"}"#).as_deref(),
            Some("okta")
        );
        assert_eq!(
            who("POST http://localhost:8080/realms/acme/protocol/openid-connect/token").as_deref(),
            Some("keycloak")
        );
        assert_eq!(
            who("botocore.exceptions.ClientError: An error occurred (ExpiredToken) when calling the GetObject operation: The provided token has expired.").as_deref(),
            Some("aws")
        );
        // Generic words are nobody's vocabulary.
        assert_eq!(who("401 Unauthorized: invalid token"), None);
        assert_eq!(who("error E1234567 in module"), None);
        let codes: Vec<String> = p
            .codes_in("AADSTS700016: Application not found; see AADSTS90002")
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(codes, vec!["AADSTS700016", "AADSTS90002"]);
    }

    /// One search of a text for every pattern's literal factors admits the
    /// patterns a search per pattern admits, whatever the case.
    #[test]
    fn the_factor_index_admits_what_each_pattern_admits() {
        let p = builtin();
        let vocab = p.vocabulary().unwrap();
        let mut texts: Vec<String> = [
            "AADSTS700016: Application with identifier 'x' was not found",
            "An error occurred (ExpiredToken) when calling the GetObject operation",
            "No such customer: 'cus_123'; a similar object exists in test mode",
            "nothing of any provider here",
            "",
        ]
        .map(String::from)
        .to_vec();
        // A text with each pattern's first factors, and one with all of
        // them upper-cased.
        let mut all = String::new();
        for (_, re) in &vocab.patterns {
            let Some(factors) = crate::rules::builtin::factors(&re.pattern, 2) else {
                continue;
            };
            let text: Vec<&str> = factors.iter().map(|set| set[0].as_str()).collect();
            texts.push(text.join(" "));
            all.push_str(&text.join(" ").to_ascii_uppercase());
        }
        texts.push(all);
        let mut admitted = 0;
        for text in &texts {
            let each: Vec<bool> = (vocab.patterns.iter())
                .map(|(_, re)| re.admits(text))
                .collect();
            assert_eq!(vocab.all_factors.admitted(text), each, "{text}");
            let coded: Vec<bool> = (vocab.coded.iter())
                .map(|&k| vocab.patterns[k].1.admits(text))
                .collect();
            assert_eq!(vocab.coded_factors.admitted(text), coded, "{text}");
            admitted += each.iter().filter(|a| **a).count();
        }
        assert!(admitted > vocab.patterns.len(), "{admitted}");
    }

    /// `codes_in` searches only the patterns whose text names a `code`
    /// group: every pattern that has one once compiled is among them.
    #[test]
    fn every_pattern_with_a_code_group_is_searched_for_codes() {
        let p = builtin();
        let vocab = p.vocabulary().unwrap();
        let with_code: Vec<usize> = (vocab.patterns.iter().enumerate())
            .filter(|(_, (_, re))| (re.get().unwrap().capture_names()).any(|n| n == Some("code")))
            .map(|(k, _)| k)
            .collect();
        assert!(with_code.len() >= 10, "{with_code:?}");
        assert_eq!(vocab.coded, with_code);
    }

    #[test]
    fn html_error_pages() {
        let p = builtin();
        assert!(p.is_html_error_page("<html>\r\n<head><title>502 Bad Gateway</title></head>"));
        assert!(p.is_html_error_page(
            "<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title>"
        ));
        assert!(!p.is_html_error_page("<html><head><title>Welcome</title></head>"));
        assert!(!p.is_html_error_page("{\"title\": \"502\"}"));
    }

    #[test]
    fn ties() {
        let p = builtin();
        assert!(p.is_tie("header.x-request-id"));
        assert!(p.is_tie("request.header.x-request-id"));
        assert!(p.is_tie("record.request_id"));
        assert!(!p.is_tie("header.content-type"));
        assert!(!p.is_tie("body.request_id"));
    }

    #[test]
    fn record_ties_tell_ids_and_members_that_may_hold_them() {
        let ties = builtin().record_ties();
        assert!(ties.is_tie("request_id") && ties.is_tie("http.request_id"));
        assert!(!ties.is_tie("level") && !ties.is_tie("status") && !ties.is_tie("method"));
        assert!(ties.any_below("http") && ties.any_below("request"));
        for key in ["req", "user", "http.request_id", "", "requestId"] {
            assert!(!ties.any_below(key), "{key}");
        }
    }

    #[test]
    fn tie_record_keys_are_told_by_length_and_ends_then_name() {
        let p = builtin();
        for k in [
            "request_id",
            "reqId",
            "trace_id",
            "request.id",
            "http.request_id",
        ] {
            assert!(p.is_tie_record_key(k), "{k}");
            assert!(p.is_tie(&format!("record.{k}")), "{k}");
        }
        // Same lengths as ids, and lengths no id has (up to past the mask).
        let long = "x".repeat(80);
        for k in ["request_ix", "requestid", "", "level", "duration_ms", &long] {
            assert!(!p.is_tie_record_key(k), "{k}");
            assert!(!p.is_tie(&format!("record.{k}")), "{k}");
        }
    }
}
