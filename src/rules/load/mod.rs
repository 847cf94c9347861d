//! Loads rule files: TOML → validated [`Rule`]s. Every problem in a file is
//! collected with the exact span it concerns, like a compiler, and the valid
//! rules (of this file and of the others) still load. The work is linear in
//! the number of rules: ten thousand load in well under a second.

mod cache;
mod catalogue;
mod problems;
mod source;
pub mod validate;
mod walk;

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::ops::Range;

use miette::NamedSource;
use toml::Spanned;

pub use cache::Cache;
pub(crate) use cache::text_hash;
pub use catalogue::limits;
use catalogue::limits::{MAX_FILE_BYTES, MAX_FILES, MAX_PROBLEMS_PER_FILE, MAX_RULES};
pub use catalogue::{EXAMPLE_KEYS, OPERATORS, RULE_KEYS, is_valid_id, suggest_id};
pub use problems::{RuleProblem, closest, did_you_mean, quote};
pub use source::{FileStamp, LineIndex, RuleSource};
use validate::{FileLoader, Mentions, Parsed};
pub use walk::rule_files;

use crate::providers::{ProviderFile, Providers};
use crate::rules::Rule;

/// `faultline/rules` under an XDG base directory: `$<xdg_var>` when set and
/// not empty, else `$HOME/<home_default>` (`.config` for user rules,
/// `.cache` for the validated-rules cache).
pub fn xdg_rules_dir(xdg_var: &str, home_default: &str) -> Option<std::path::PathBuf> {
    use std::path::PathBuf;
    std::env::var_os(xdg_var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(home_default)))
        .map(|base| base.join("faultline").join("rules"))
}

/// Everything loaded from a set of rule files.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub rules: Vec<Rule>,
    pub providers: Providers,
    pub problems: Vec<RuleProblem>,
    /// Where each loaded user rule names fields and placeholders (by id),
    /// for the authoring checks of `rules check`.
    pub mentions: HashMap<String, Mentions>,
    /// User rules not loaded because of problems, as far as they were
    /// read: `rules check` still gives their authoring warnings.
    pub unloaded: Vec<(Rule, Mentions)>,
}

/// Loads every source in order. Later sources may override earlier built-in
/// rules by id; any other duplicate id is a problem. Problems come back in
/// source order, then by position in the file.
pub fn load(sources: &[RuleSource]) -> LoadReport {
    let mut loader = Loader::new(sources);
    loader.parse_all();
    for index in 0..sources.len() {
        loader.source(index);
    }
    loader.finish()
}

/// The built-in pack (validated at build time, so it is only deserialised
/// here) with the user's rule files over it, as [`load`] would load
/// `builtin_sources()` followed by `user`. Without `builtin`, only the
/// built-in provider data is kept (hosts and regions are not rules).
pub fn load_over_builtin(user: &[RuleSource], builtin: bool) -> LoadReport {
    load_over_builtin_cached(user, builtin, None)
}

/// [`load_over_builtin`], reading clean user files' validated rules from
/// `cache` when it holds them (and storing those it does not): the same
/// report either way.
pub fn load_over_builtin_cached(
    user: &[RuleSource],
    builtin: bool,
    cache: Option<&Cache>,
) -> LoadReport {
    let mut loader = Loader::new(user);
    loader.cache = cache;
    // The built-in data is tested (it compiles; see providers.rs): its
    // regexes compile when first needed, not at every start.
    for file in crate::rules::builtin::provider_files() {
        loader.report.providers.add_trusted(file);
    }
    let pack = if builtin {
        crate::rules::builtin::pack()
    } else {
        Vec::new()
    };
    // The pack's vector becomes the loaded rules' (see `Loader::pack`);
    // the user's files are parsed after, and room made for their rules.
    loader.pack(pack);
    loader.parse_all();
    for index in 0..user.len() {
        loader.source(index);
    }
    loader.finish()
}

/// A file's rules and problems: from `cache` if it holds the file's
/// validated rules, else parsed (and stored there if clean).
fn parse_file(cache: Option<&Cache>, source: &RuleSource) -> (Parsed, Vec<RuleProblem>) {
    if let Some(rules) = cache.and_then(|c| c.get(source)) {
        return (Parsed::Rules(rules), Vec::new());
    }
    let mut file = FileLoader::new(source);
    let parsed = file.parse();
    // Only clean files: one with problems is read afresh each run, so
    // they are reported as they always are.
    if let (Some(cache), Parsed::Rules(rules)) = (cache, &parsed)
        && file.problems.is_empty()
        && rules.iter().all(|r| r.valid)
        && !source.builtin
    {
        cache.put(source, rules);
    }
    (parsed, file.problems)
}

/// Where a loaded rule id was defined.
#[derive(Clone)]
struct Seen {
    /// Its place in `Loader::rules`.
    slot: usize,
    /// Its source, `None` for the built-in pack.
    source: Option<usize>,
    id_span: Range<usize>,
}

struct Loader<'s> {
    sources: &'s [RuleSource],
    /// Loaded rules in load order, with those overridden (the user's rule
    /// goes to the end, as it loaded later) marked in `replaced`: removed
    /// in place at the end, since copying thousands of rules into a new
    /// vector cost a start-up more than a tenth of its page faults.
    rules: Vec<Rule>,
    replaced: Vec<bool>,
    /// The loaded ids, each found through its rule's slot: a copy of every
    /// id as a key was an allocation per rule at each start.
    seen: hashbrown::HashTable<Seen>,
    hasher: foldhash::fast::RandomState,
    /// Ids of rules with problems: not loaded, but they exist.
    invalid: foldhash::HashSet<String>,
    /// (rule id, `supersedes` entry, its source), checked once all loaded.
    supersedes: Vec<(String, Spanned<String>, usize)>,
    report: LoadReport,
    rule_limit_reported: bool,
    /// Each source's parse (see `parse_all`), taken by `source`.
    parsed: Vec<Option<(Parsed, Vec<RuleProblem>)>>,
    cache: Option<&'s Cache>,
}

/// Below this much rule text, parsing on other threads costs more than it
/// saves.
const PARALLEL_PARSE_BYTES: usize = 256 << 10;

impl<'s> Loader<'s> {
    fn new(sources: &'s [RuleSource]) -> Self {
        Loader {
            sources,
            rules: Vec::new(),
            replaced: Vec::new(),
            seen: Default::default(),
            hasher: Default::default(),
            invalid: Default::default(),
            supersedes: Vec::new(),
            report: LoadReport::default(),
            rule_limit_reported: false,
            parsed: Vec::new(),
            cache: None,
        }
    }

    /// Parses and validates every file that will be read, on all cores
    /// when there is enough text: files are independent until their rules
    /// are merged, which `source` does in order, so the result is the same.
    /// Makes room for their rules (after the built-in pack's, loaded
    /// first: see `pack`).
    ///
    /// A file whose cache entry is in hand (see [`Cache::held`]) is left
    /// to `source`, which reads its rules on this thread as it merges
    /// them: read on other threads, ten times the rules took 2 MB of fresh
    /// memory there (a page fault each 4 KiB), and an allocation and a
    /// free across threads per rule; read here, one file's memory is
    /// freed before the next file's is taken, and taken again.
    fn parse_all(&mut self) {
        let cache = self.cache;
        let held: Vec<Option<usize>> = self
            .sources
            .iter()
            .enumerate()
            .map(|(index, source)| {
                let readable = index < MAX_FILES && source.oversize.is_none();
                readable.then(|| cache?.held(&source.name)).flatten()
            })
            .collect();
        let parse = |(index, source): (usize, &RuleSource)| {
            if index >= MAX_FILES || source.oversize.is_some() || held[index].is_some() {
                return None;
            }
            Some(parse_file(cache, source))
        };
        let total: usize = (self.sources.iter().zip(&held))
            .filter(|(_, held)| held.is_none())
            .map(|(s, _)| s.text_len())
            .sum();
        self.parsed = if total >= PARALLEL_PARSE_BYTES && self.sources.len() > 1 {
            use rayon::prelude::*;
            self.sources.par_iter().enumerate().map(parse).collect()
        } else {
            self.sources.iter().enumerate().map(parse).collect()
        };
        let rules: usize = self
            .parsed
            .iter()
            .flatten()
            .map(|(parsed, _)| match parsed {
                Parsed::Rules(rules) => rules.len(),
                _ => 0,
            })
            .chain(held.iter().flatten().copied())
            .sum();
        self.reserve(rules);
    }

    /// Loads the built-in pack, first: its vector becomes the loaded
    /// rules'. Pushed into a vector made for them, its 1,800 rules (376
    /// bytes each) were copied once more, and the 677 KB of the copy
    /// faulted in page by page at every start; grown for the user's rules
    /// after (see `parse_all`), a block that big is moved by remapping it.
    fn pack(&mut self, rules: Vec<Rule>) {
        debug_assert!(self.rules.is_empty(), "the pack loads first");
        self.rules = rules;
        let (rules, hasher) = (&self.rules, &self.hasher);
        self.seen
            .reserve(rules.len(), |s| hasher.hash_one(rules[s.slot].id.as_str()));
        for slot in 0..self.rules.len() {
            self.mark_seen(Seen {
                slot,
                source: None,
                id_span: 0..0,
            });
        }
    }

    fn source(&mut self, index: usize) {
        let source = &self.sources[index];
        if index == MAX_FILES {
            // No span: the file is not read. The problem names it.
            let mut problem = RuleProblem::unreadable(
                &source.name,
                format!(
                    "too many rule files: faultline reads at most {MAX_FILES}; `{}` and the {} after it are not loaded",
                    source.name,
                    self.sources.len() - index - 1
                ),
            );
            problem.code = "rule::too-many-files".into();
            problem.help =
                Some("point `--rules` at fewer directories, or merge small files".into());
            self.report.problems.push(problem);
        }
        if index >= MAX_FILES {
            return;
        }
        if let Some(size) = source.oversize {
            // Point at the last line kept: the file goes on past it.
            let end = source.text().len();
            let last_line = source.text()[..end.saturating_sub(1)]
                .rfind('\n')
                .map_or(0, |p| p + 1);
            self.report.problems.push(RuleProblem::at(
                source,
                "rule::file-too-large",
                last_line..end,
                format!(
                    "rule file is {:.1} MiB; rule files are limited to {} MiB, so none of its rules are loaded",
                    size as f64 / (1 << 20) as f64,
                    MAX_FILE_BYTES >> 20
                ),
                "the file goes on past here",
                Some("split it into several files (one per provider or topic)".into()),
            ));
            return;
        }
        let (parsed, mut problems) = match self.parsed.get_mut(index).and_then(Option::take) {
            Some(done) => done,
            // Its cache entry in hand (see `parse_all`), or not parsed yet.
            None => parse_file(self.cache, source),
        };
        match parsed {
            Parsed::Unparsable => {}
            Parsed::Providers => self.providers(source.text(), index),
            Parsed::Rules(rules) => {
                let rules = match self.add_all_new(rules, index) {
                    Ok(()) => Vec::new(),
                    Err(rules) => rules,
                };
                for loaded in rules {
                    self.note_supersedes(&loaded, index);
                    let id = &loaded.rule.id;
                    if !loaded.valid {
                        self.invalid.insert(id.clone());
                        if !source.builtin {
                            let mentions = loaded.mentions.map(|m| *m).unwrap_or_default();
                            self.report.unloaded.push((loaded.rule, mentions));
                        }
                        continue;
                    }
                    if self.seen.len() >= MAX_RULES && self.seen(id).is_none() {
                        if !self.rule_limit_reported {
                            self.rule_limit_reported = true;
                            problems.push(RuleProblem::at(
                                source,
                                "rule::too-many-rules",
                                loaded.id_span.clone(),
                                format!(
                                    "too many rules: faultline loads at most {MAX_RULES}; this rule and the ones after it are not loaded"
                                ),
                                "the limit is reached here",
                                Some("load fewer rule directories (`--rules`, `--no-builtin`)".into()),
                            ));
                        }
                        continue;
                    }
                    if let Some(problem) = self.add(loaded, index) {
                        problems.push(problem);
                    }
                }
            }
        }
        if problems.len() > MAX_PROBLEMS_PER_FILE {
            problems.sort_by_key(|p| p.offset());
            let more = problems.len() - MAX_PROBLEMS_PER_FILE;
            problems.truncate(MAX_PROBLEMS_PER_FILE);
            let mut summary = RuleProblem::unreadable(
                &source.name,
                format!(
                    "{more} more problem{} in `{}` not shown",
                    if more == 1 { "" } else { "s" },
                    source.name
                ),
            );
            summary.code = "rule::too-many-problems".into();
            summary.help = Some("fix the problems above and check again".into());
            // Sorts after the problems shown.
            summary.source_code =
                Some(NamedSource::new(source.name.clone(), source.text().clone()));
            summary.span = Some((source.text().len()..source.text().len()).into());
            problems.push(summary);
        }
        self.report.problems.append(&mut problems);
    }

    /// Room for `more` rules and their ids at once: grown by doubling, the
    /// vector of thousands of rules was copied over and over, and the ids
    /// rehashed.
    fn reserve(&mut self, more: usize) {
        self.rules.reserve(more);
        let (rules, hasher) = (&self.rules, &self.hasher);
        self.seen
            .reserve(more, |s| hasher.hash_one(rules[s.slot].id.as_str()));
    }

    /// The loaded rule with this id, if any.
    fn seen(&self, id: &str) -> Option<&Seen> {
        self.seen_hashed(self.hasher.hash_one(id), id)
    }

    /// [`Loader::seen`] with the id's hash at hand.
    fn seen_hashed(&self, hash: u64, id: &str) -> Option<&Seen> {
        let rules = &self.rules;
        self.seen.find(hash, |s| rules[s.slot].id == id)
    }

    /// Records the rule at `seen.slot` as the one with its id, in place of
    /// any before it.
    fn mark_seen(&mut self, seen: Seen) {
        let rules = &self.rules;
        let id = rules[seen.slot].id.as_str();
        let hasher = &self.hasher;
        match self.seen.entry(
            hasher.hash_one(id),
            |s| rules[s.slot].id == id,
            |s| hasher.hash_one(rules[s.slot].id.as_str()),
        ) {
            hashbrown::hash_table::Entry::Occupied(mut e) => *e.get_mut() = seen,
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert(seen);
            }
        }
    }

    /// Adds a file's rules at once when each is valid, has an id not loaded
    /// yet (nor twice in the file) and the rule limit is not reached: what
    /// `add` would do for each, and the case of nearly every file. Moved
    /// one at a time through `add`, a rule was copied five times, 4,410
    /// rules at a start with ten times the rules; else the rules come back
    /// for `add`, untouched.
    fn add_all_new(
        &mut self,
        rules: Vec<validate::Loaded>,
        index: usize,
    ) -> Result<(), Vec<validate::Loaded>> {
        if rules.iter().any(|l| !l.valid) || self.seen.len() + rules.len() > MAX_RULES {
            return Err(rules);
        }
        let hashes: Vec<u64> = (rules.iter())
            .map(|l| self.hasher.hash_one(l.rule.id.as_str()))
            .collect();
        let loaded_before =
            (rules.iter().zip(&hashes)).any(|(l, &h)| self.seen_hashed(h, &l.rule.id).is_some());
        // An id twice in the file hashes alike twice; so rarely do two
        // ids that `add` sorts it out either way.
        let mut sorted = hashes.clone();
        sorted.sort_unstable();
        if loaded_before || sorted.windows(2).any(|w| w[0] == w[1]) {
            return Err(rules);
        }
        let mut rules = rules;
        let mut id_spans = Vec::with_capacity(rules.len());
        for loaded in &mut rules {
            self.note_supersedes(loaded, index);
            self.keep_mentions(loaded);
            id_spans.push(std::mem::take(&mut loaded.id_span));
        }
        // Moved in all at once: one at a time, each rule (not boxed) was
        // copied once more on its way in (1.5 M instructions with ten
        // times the rules read from the cache).
        let start = self.rules.len();
        self.rules.extend(rules.into_iter().map(|l| l.rule));
        for (slot, (hash, id_span)) in (start..).zip(hashes.into_iter().zip(id_spans)) {
            self.insert_seen(hash, slot, index, id_span);
        }
        Ok(())
    }

    /// Notes the rules `loaded` says it supersedes (checked at the end).
    fn note_supersedes(&mut self, loaded: &validate::Loaded, index: usize) {
        let id = &loaded.rule.id;
        (self.supersedes)
            .extend((loaded.supersedes.iter()).map(|s| (id.clone(), s.clone(), index)));
    }

    /// Keeps a rule's mentions for `rules check` (empty from the cache:
    /// only `rules check` reads them).
    fn keep_mentions(&mut self, loaded: &mut validate::Loaded) {
        if let Some(mentions) = loaded.mentions.take().filter(|m| !m.is_empty()) {
            (self.report.mentions).insert(loaded.rule.id.clone(), *mentions);
        }
    }

    /// Marks the rule at `slot`, whose id hashed as `hash` is not loaded
    /// yet, as defined by source `index` at `id_span`.
    fn insert_seen(&mut self, hash: u64, slot: usize, index: usize, id_span: Range<usize>) {
        let seen = Seen {
            slot,
            source: Some(index),
            id_span,
        };
        let (rules, hasher) = (&self.rules, &self.hasher);
        self.seen
            .insert_unique(hash, seen, |s| hasher.hash_one(rules[s.slot].id.as_str()));
    }

    /// Adds a valid rule; a duplicate id is a problem unless a user rule
    /// overrides a built-in one.
    fn add(&mut self, mut loaded: validate::Loaded, index: usize) -> Option<RuleProblem> {
        let source = &self.sources[index];
        // The rule stays in `loaded` until pushed: held in a local too, a
        // rule was copied in full three times here, 4,410 rules at a start
        // with ten times the rules.
        let rule = &mut loaded.rule;
        // Hashed once for the lookup and the insertion of a new id.
        let hash = self.hasher.hash_one(rule.id.as_str());
        let Some(first) = self.seen_hashed(hash, &rule.id).cloned() else {
            self.keep_mentions(&mut loaded);
            self.rules.push(loaded.rule);
            self.insert_seen(hash, self.rules.len() - 1, index, loaded.id_span);
            return None;
        };
        let (first_layer, first_builtin, first_name) = match first.source {
            None => {
                let r = &self.rules[first.slot];
                (0, true, r.origin.file.to_string())
            }
            Some(s) => {
                let s = &self.sources[s];
                (s.layer, s.builtin, s.name.clone())
            }
        };
        // A higher layer replaces a lower one's rule (user over built-in, a
        // project's rules over the user's own).
        if first_layer < source.layer {
            rule.origin.overrides_builtin =
                first_builtin || self.rules[first.slot].origin.overrides_builtin;
            self.replaced.resize(self.rules.len(), false);
            self.replaced[first.slot] = true;
            rule.origin.overrides = Some(first_name.into());
            self.keep_mentions(&mut loaded);
            self.rules.push(loaded.rule);
            self.mark_seen(Seen {
                slot: self.rules.len() - 1,
                source: Some(index),
                id_span: loaded.id_span,
            });
            return None;
        }
        let id = quote(&rule.id);
        let (first_name, first_line, related) = match first.source {
            Some(f) => {
                let first_source = &self.sources[f];
                let line = LineIndex::new(first_source.text()).line(first.id_span.start);
                let related = RuleProblem {
                    message: format!("`{id}` is first defined here"),
                    source_code: Some(NamedSource::new(
                        first_source.name.clone(),
                        first_source.text().clone(),
                    )),
                    span: Some(first.id_span.clone().into()),
                    label: "first definition".into(),
                    help: None,
                    code: "rule::duplicate-id".into(),
                    file: first_source.name.clone(),
                    related: Vec::new(),
                    severity: miette::Severity::Advice,
                };
                (first_source.name.clone(), line, Some(related))
            }
            None => {
                let r = &self.rules[first.slot];
                (r.origin.file.to_string(), r.origin.line, None)
            }
        };
        let mut problem = RuleProblem::at(
            source,
            "rule::duplicate-id",
            loaded.id_span,
            format!("duplicate rule id `{id}`"),
            "this id is already used",
            Some(format!(
                "first defined at {first_name}:{first_line}; ids must be unique (rename one of them)"
            )),
        );
        problem.related.extend(related);
        Some(problem)
    }

    fn providers(&mut self, text: &str, index: usize) {
        let problem = match toml::from_str::<ProviderFile>(text) {
            Ok(file) => match self.report.providers.add(file) {
                Ok(()) => None,
                Err(e) => Some((
                    "provider::bad-regex",
                    0..0,
                    format!("invalid provider data: {e}"),
                    "in this file",
                )),
            },
            Err(e) => Some((
                "provider::invalid",
                e.span().unwrap_or(0..0),
                format!("invalid provider data: {}", e.message().trim()),
                "here",
            )),
        };
        if let Some((code, span, message, label)) = problem {
            self.report.problems.push(RuleProblem::at(
                &self.sources[index],
                code,
                span,
                message,
                label,
                None,
            ));
        }
    }

    fn finish(mut self) -> LoadReport {
        // Suggestions cost a pass over every id; a flood of unknown names
        // (a generated file) gets them for the first few only.
        let mut suggestions_left = 50;
        // Built when first needed, in load order: a suggestion between
        // equally close ids is then the same on every run, not the one the
        // table's seeded hash happens to visit last.
        let mut ids: Option<Vec<&str>> = None;
        for (rule_id, target, index) in std::mem::take(&mut self.supersedes) {
            let source = &self.sources[index];
            let name = target.get_ref();
            let (message, label) = if *name == rule_id {
                (
                    format!("rule `{}` supersedes itself", quote(&rule_id)),
                    "this rule's own id",
                )
            } else if self.seen(name).is_some() || self.invalid.contains(name) {
                continue;
            } else {
                (
                    format!("`supersedes` names no rule: `{}`", quote(name)),
                    "no rule has this id",
                )
            };
            let suggestion = if suggestions_left > 0 {
                suggestions_left -= 1;
                let ids = ids.get_or_insert_with(|| {
                    let mut slots: Vec<usize> = self.seen.iter().map(|s| s.slot).collect();
                    slots.sort_unstable();
                    slots.iter().map(|&s| self.rules[s].id.as_str()).collect()
                });
                let others: Vec<&str> = ids.iter().copied().filter(|id| *id != rule_id).collect();
                did_you_mean(name, &others)
            } else {
                None
            };
            self.report.problems.push(RuleProblem::at(
                source,
                "rule::unknown-supersedes",
                target.span(),
                message,
                label,
                suggestion.or(Some(
                    "see `faultline rules list` for the loaded rule ids".into(),
                )),
            ));
        }
        let order: HashMap<&str, usize> = self
            .sources
            .iter()
            .enumerate()
            .rev()
            .map(|(i, s)| (s.name.as_str(), i))
            .collect();
        let key = |p: &RuleProblem| {
            (
                order.get(p.file.as_str()).copied().unwrap_or(usize::MAX),
                p.offset(),
            )
        };
        self.report.problems.sort_by_key(key);
        // Overridden rules out in place; the room was reserved up front
        // for every rule, so it is not grown by doubling either.
        let mut slot = 0;
        self.rules.retain(|_| {
            slot += 1;
            !self.replaced.get(slot - 1).copied().unwrap_or(false)
        });
        self.report.rules = self.rules;
        self.report
    }
}
