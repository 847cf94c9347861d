//! Authoring checks that `rules check` adds to the loader's problems:
//! warnings about what is valid but probably not meant.
//!
//! - A field of a family (`body.*`, `header.*`, …) that no built-in rule,
//!   no catalogue example and no example input has, but which is a typo
//!   away from one that does: `body.eror.type` → `body.error.type`.
//! - A `{placeholder}` whose fact no condition of the rule guarantees: when
//!   the fact is absent, the report reads "(unknown)".

use std::collections::HashSet;

use super::load::validate::Mentions;
use super::load::{LoadReport, RuleProblem, RuleSource};
use super::{Op, Rule, RuleSet, placeholders};
use crate::facts::{FIELD_PREFIXES, FIELDS, is_known_field};
use crate::providers::Providers;

/// Facts every incident has (the incidents stage always sets them).
const ALWAYS_PRESENT: &[&str] = &["text", "endpoint"];

/// Family fields known to exist: used by rules, shown in the catalogue, or
/// read from example inputs.
pub struct Vocabulary {
    known: HashSet<String>,
    /// Example inputs not yet read (the built-in pack's: read only when a
    /// field is not found among the cheaper sources).
    unread: Vec<String>,
    providers: Providers,
}

fn family(field: &str) -> Option<&'static str> {
    if FIELDS.iter().any(|(n, _, _)| *n == field) {
        return None;
    }
    FIELD_PREFIXES
        .iter()
        .map(|(p, _, _)| *p)
        .filter(|p| field.len() > p.len() && field.starts_with(p))
        .max_by_key(|p| p.len())
}

impl Vocabulary {
    /// From the built-in rules (their fields and placeholders) and the
    /// catalogue's examples; the built-in examples are read on demand.
    pub fn new(builtin: &[Rule], providers: &Providers) -> Self {
        let mut known: HashSet<String> = FIELD_PREFIXES
            .iter()
            .map(|(_, _, example)| example.to_string())
            .collect();
        for rule in builtin {
            known.extend(rule.conditions().map(|c| c.field.clone()));
            for (_, text) in rule.templates() {
                known.extend(placeholders(text).map(|(_, n)| n.to_string()));
            }
        }
        known.retain(|f| family(f).is_some());
        Vocabulary {
            known,
            unread: builtin
                .iter()
                .flat_map(|r| super::examples(r).iter().map(|e| e.input.clone()))
                .collect(),
            providers: providers.clone(),
        }
    }

    /// Adds the family facts faultline reads from these inputs.
    pub fn read_examples<'a>(&mut self, inputs: impl IntoIterator<Item = &'a str>) {
        let none = RuleSet::new(Vec::new(), self.providers.clone());
        for input in inputs {
            let analysis = crate::analyze_text("example", input, &none);
            for incident in &analysis.incidents {
                self.known.extend(
                    incident
                        .facts
                        .iter()
                        .map(|(k, _)| k)
                        .filter(|k| family(k).is_some())
                        .map(str::to_string),
                );
            }
        }
    }

    fn knows(&mut self, field: &str) -> bool {
        if self.known.contains(field) {
            return true;
        }
        if !self.unread.is_empty() {
            let unread = std::mem::take(&mut self.unread);
            self.read_examples(unread.iter().map(String::as_str));
        }
        self.known.contains(field)
    }

    /// A known field of the same family a typo away from `field`.
    fn near(&self, field: &str, prefix: &str) -> Option<&str> {
        let segments = field.matches('.').count();
        self.known
            .iter()
            .filter(|k| k.starts_with(prefix) && k.matches('.').count() == segments)
            .map(|k| (strsim::damerau_levenshtein(field, k), k))
            .filter(|(d, k)| *d > 0 && *d <= 2 && *d * 4 <= k.len())
            .min_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))
            .map(|(_, k)| k.as_str())
    }
}

fn source_of(rule: &Rule) -> Option<RuleSource> {
    let text = rule.origin.text.as_ref()?.text(&rule.origin.file)?;
    Some(RuleSource::with_text(
        rule.origin.file.to_string(),
        text,
        false,
        None,
    ))
}

/// Warnings for the user rules of `report`.
pub fn lint(report: &LoadReport, vocabulary: &mut Vocabulary) -> Vec<RuleProblem> {
    let mut out = Vec::new();
    let loaded = report
        .rules
        .iter()
        .filter(|r| !r.origin.builtin)
        .filter_map(|r| Some((r, report.mentions.get(&r.id)?, true)));
    let unloaded = report.unloaded.iter().map(|(r, m)| (r, m, false));
    for (rule, mentions, valid) in loaded.chain(unloaded) {
        let Some(source) = source_of(rule) else {
            continue;
        };
        fields(rule, mentions, &source, vocabulary, &mut out);
        unprefiltered(rule, &source, &mut out);
        // A rule with errors lost conditions to them: what they would
        // guarantee is not known yet.
        if valid {
            unguaranteed(rule, mentions, &source, &mut out);
        }
    }
    out
}

fn warning(
    source: &RuleSource,
    code: &str,
    span: std::ops::Range<usize>,
    message: String,
    label: &str,
    help: String,
) -> RuleProblem {
    let mut p = RuleProblem::at(source, code, span, message, label, Some(help));
    p.severity = miette::Severity::Warning;
    p
}

fn fields(
    rule: &Rule,
    mentions: &Mentions,
    source: &RuleSource,
    vocabulary: &mut Vocabulary,
    out: &mut Vec<RuleProblem>,
) {
    let mentioned = mentions
        .fields
        .iter()
        .map(|(f, span)| (f, span))
        .chain(mentions.placeholders.iter().map(|(f, span, _)| (f, span)))
        .filter_map(|(f, span)| family(f).map(|p| (f, span, p)));
    let mut own_examples_read = false;
    for (field, span, prefix) in mentioned {
        if !own_examples_read && !vocabulary.known.contains(field.as_str()) {
            // The rule's own examples first: a field they have is real.
            own_examples_read = true;
            vocabulary.read_examples(rule.examples.iter().map(|e| e.input.as_str()));
        }
        if vocabulary.knows(field) {
            continue;
        }
        let Some(near) = vocabulary.near(field, prefix) else {
            continue;
        };
        out.push(warning(
            source,
            "rule::unknown-subfield",
            span.clone(),
            format!("no rule or example has the field `{field}`; did you mean `{near}`?"),
            "not seen anywhere",
            format!(
                "`{prefix}…` accepts any name, so a typo here silently never matches; if `{field}` is right, add an example whose input has it"
            ),
        ));
    }
}

/// An input-wide pattern with no literal text every match contains is
/// searched for in every line of every input: the literal prefilter that
/// spares the rest of the pack's patterns cannot find it. One such pattern
/// (`^\s*\d{10}\s*$`, a signed URL's expiry line) cost 13 % of a 64 MiB
/// log's time in session 47.
fn unprefiltered(rule: &Rule, source: &RuleSource, out: &mut Vec<RuleProblem>) {
    for (c, r) in rule.unprefiltered_input_patterns() {
        let Some(span) = r.span.clone().or_else(|| c.span.clone()) else {
            continue;
        };
        out.push(warning(
            source,
            "rule::unprefiltered-input-pattern",
            span,
            "this input-wide pattern has no literal text that every match contains: it is run over every line of every input".to_string(),
            "no literal to find it by",
            "start it with words the message always has (its vendor's wording, a code, a header name), or test a fact of the failure (`message`, `text`) instead of `input.text`".to_string(),
        ));
    }
}

fn unguaranteed(rule: &Rule, mentions: &Mentions, source: &RuleSource, out: &mut Vec<RuleProblem>) {
    let groups: Vec<&str> = rule
        .conditions()
        .flat_map(|c| &c.ops)
        .filter_map(|op| match op {
            Op::Regex(r) => Some(r.captures.iter().map(String::as_str)),
            _ => None,
        })
        .flatten()
        .collect();
    for (name, span, local) in &mentions.placeholders {
        // A name that is neither is an error of its own.
        if !is_known_field(name) && !groups.contains(&name.as_str()) {
            continue;
        }
        let sure = *local
            || mentions.guaranteed.iter().any(|g| g == name)
            || ALWAYS_PRESENT.contains(&name.as_str());
        if sure {
            continue;
        }
        out.push(warning(
            source,
            "rule::unguaranteed-placeholder",
            span.clone(),
            format!("no condition of this rule guarantees `{{{name}}}`"),
            "may be absent",
            format!(
                "when the fact has no value the text reads \"(unknown)\"; test it in `when` (`\"{name}\" = {{ exists = true }}`) or say it without the placeholder"
            ),
        ));
    }
}
