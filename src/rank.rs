//! Stage 6, ranking: turns rule matches into diagnoses, drops those another
//! matched rule supersedes, and orders them best first.

use crate::facts::Facts;
use crate::incidents::Incident;
use crate::rules::engine::interpolate;
use crate::rules::scan::InputFacts;
use crate::rules::{Evidence, RuleMatch, RuleSet, Scope, Severity, Text, placeholders};

/// An explained diagnosis: a rule's texts filled in for one incident (or for
/// the input as a whole).
#[derive(Debug, Clone)]
pub struct Diagnosis {
    /// Index into the rule set.
    pub rule: usize,
    pub id: String,
    pub severity: Severity,
    /// Its rule says this is the API working as designed, not a failure.
    pub expected: bool,
    pub confidence: f64,
    pub specificity: usize,
    /// Index into the analysis' incidents; `None` for input-wide notes.
    pub incident: Option<usize>,
    pub title: Text,
    pub cause: Text,
    pub fix: Text,
    pub check: Option<Text>,
    pub not: Vec<String>,
    pub docs: std::sync::Arc<[String]>,
    pub provider: Option<String>,
    pub evidence: Vec<Evidence>,
}

/// All diagnoses for the incidents and the input, ordered best first. An
/// incident reduced as it completed ([`reduce`]) hands over its diagnoses
/// (its `diagnosed` is left empty, still marking it as reduced); the others
/// are diagnosed here.
///
/// This runs once over every kept failure at the end of a run, when memory
/// peaks: the diagnoses are moved, not copied, into one vector of the
/// right size, and sorted in place.
pub fn diagnose(incidents: &mut [Incident], input: &InputFacts, rules: &RuleSet) -> Vec<Diagnosis> {
    let empty = Facts::default();
    let notes = without_superseded(rules.evaluate(Scope::Input, &empty, input), rules);
    // Matches first, as they are much smaller than the diagnoses built
    // from them: the vector of diagnoses is then allocated once, at its size.
    let matches: Vec<Option<Vec<RuleMatch>>> = incidents
        .iter()
        .map(|incident| {
            incident
                .diagnosed
                .is_none()
                .then(|| incident_matches(&incident.facts, input, rules))
        })
        .collect();
    let count = incidents
        .iter()
        .zip(&matches)
        .map(|(incident, matches)| match (matches, &incident.diagnosed) {
            (Some(matches), _) => matches.len(),
            (None, ready) => ready.as_ref().map_or(0, Vec::len),
        })
        .sum::<usize>();
    let mut out = Vec::with_capacity(count + notes.len());
    for ((i, incident), matches) in incidents.iter_mut().enumerate().zip(matches) {
        match (matches, incident.diagnosed.as_mut()) {
            (Some(matches), _) => out.extend(
                matches
                    .into_iter()
                    .map(|m| build(m, Some(i), &incident.facts, input, rules)),
            ),
            (None, Some(ready)) => out.extend(ready.drain(..).map(|d| Diagnosis {
                incident: Some(i),
                ..d
            })),
            (None, None) => {}
        }
    }
    // `supersedes` works across the two kinds. An input-wide note is dropped
    // when a diagnosis of some incident supersedes it (the incident-level
    // explanation says it better); a note that survives hides the incident
    // rules it supersedes on the failures it explains (a whole-input
    // diagnosis of the failure beats the generic reading of one exchange).
    // Notes are settled first, so two rules superseding each other never
    // hide both.
    let superseded_by_incidents: Vec<&str> = out
        .iter()
        .flat_map(|d| rules.rules[d.rule].supersedes.iter())
        .collect();
    let notes: Vec<RuleMatch> = notes
        .into_iter()
        .filter(|m| !superseded_by_incidents.contains(&rules.rules[m.rule].id.as_str()))
        // A yielding note gives way to any diagnosis of a failure.
        .filter(|m| !rules.rules[m.rule].yields || out.is_empty())
        .filter(|m| !read_only_other_providers(m, incidents, rules))
        .collect();
    // The failures each note explains: those its evidence lies in. A note
    // whose evidence lies in none (a remark beside the log, like "the admin
    // console shows the user locked") speaks for the whole input.
    let explained: Vec<Option<Vec<usize>>> = notes
        .iter()
        .map(|note| {
            let within: Vec<usize> = (0..incidents.len())
                .filter(|&i| note.evidence.iter().any(|e| lies_in(&incidents[i], &e.loc)))
                .collect();
            (!within.is_empty()).then_some(within)
        })
        .collect();
    // The first incident each note hid a rule of: the note explains that
    // failure, so it is reported as that incident's diagnosis.
    let mut note_incident: Vec<Option<usize>> = vec![None; notes.len()];
    out.retain_mut(|d| {
        let Some(i) = d.incident else {
            return true;
        };
        let mut hidden = false;
        for (n, note) in notes.iter().enumerate() {
            let reaches = explained[n]
                .as_ref()
                .is_none_or(|within| within.contains(&i));
            // A note explaining this failure hides the rules it supersedes
            // there, and any yielding reading of it.
            if reaches
                && (rules.rules[note.rule].supersedes.contains(&d.id) || rules.rules[d.rule].yields)
            {
                hidden = true;
                note_incident[n].get_or_insert(i);
            }
        }
        if hidden {
            return false;
        }
        // A failure that a later retry of the same call got past: worth
        // knowing, not worth failing the run for.
        if incidents[i].recovered.is_some() {
            d.severity = Severity::Info;
        }
        true
    });
    attach_to_unexplained(&notes, &mut note_incident, incidents, &out, rules);
    for (m, at) in notes.into_iter().zip(note_incident) {
        let mut d = build(m, at, &empty, input, rules);
        if at.is_some_and(|i| incidents[i].recovered.is_some()) {
            d.severity = Severity::Info;
        }
        out.push(d);
    }
    // Unstable, so without a scratch copy of every diagnosis: no two
    // diagnoses tie (rule ids are unique, and a rule gives an incident, or
    // the input, at most one), so the order is the stable sort's.
    out.sort_unstable_by(best_first);
    out
}

/// A note whose first evidence lies in the lines of a failure no rule
/// explains is that failure's diagnosis: a pasted Google error body is one
/// incident, and the input-wide rule reading its ErrorInfo reason explains
/// it. Left apart, the report said "no rule explains this failure" above the
/// note that does. Not when the rule is another provider's than the failure.
fn attach_to_unexplained(
    notes: &[RuleMatch],
    note_incident: &mut [Option<usize>],
    incidents: &[Incident],
    diagnosed: &[Diagnosis],
    rules: &RuleSet,
) {
    for (note, at) in notes.iter().zip(note_incident.iter_mut()) {
        if at.is_some() {
            continue;
        }
        let Some(first) = note.evidence.first() else {
            continue;
        };
        let rule = &rules.rules[note.rule];
        let rule_provider = rule.provider.as_deref();
        // An info note does not keep a failure in the report that is not one
        // otherwise (see `keep_failures`): it stays input-wide.
        let keeps = |incident: &Incident| {
            rule.severity != Severity::Info
                || incident.diagnosed.is_some()
                || incident.is_exchange(&rules.providers)
        };
        let fits = |incident: &Incident| {
            let same_provider = match (rule_provider, incident.facts.first("provider")) {
                (Some(rule), Some(fact)) => fact.value.as_str() == Some(rule),
                _ => true,
            };
            same_provider && keeps(incident)
        };
        *at = (incidents.iter())
            .position(|incident| lies_in(incident, &first.loc) && fits(incident))
            .or_else(|| {
                (incidents.iter())
                    .position(|incident| just_after(incident, &first.loc, incidents))
                    .filter(|&i| fits(&incidents[i]))
            });
        if let Some(i) = *at
            && diagnosed.iter().any(|d| d.incident == Some(i))
        {
            *at = None;
        }
    }
}

/// Whether everything a provider's input-wide note read lies in failures
/// recognised as other providers'. Such a note states that provider's
/// behaviour about another's failure: "locked" beside "incorrect password"
/// in GitHub's answer is not Genesys's five-minute lockout. A note with any
/// evidence outside those failures (a remark, a failure of no recognised
/// provider) still stands.
fn read_only_other_providers(note: &RuleMatch, incidents: &[Incident], rules: &RuleSet) -> bool {
    let Some(provider) = rules.rules[note.rule].provider.as_deref() else {
        return false;
    };
    !note.evidence.is_empty()
        && note.evidence.iter().all(|evidence| {
            incidents.iter().any(|incident| {
                lies_in(incident, &evidence.loc)
                    && incident
                        .facts
                        .first("provider")
                        .and_then(|fact| fact.value.as_str())
                        .is_some_and(|other| other != provider)
            })
        })
}

/// Lines after a failure within which a note's evidence still reads as
/// part of it: the rest of a dump the parser did not join to the failure's
/// line (an Objective-C dictionary printed one member per line, its
/// `error_code` line the incident, its `error_message` line the evidence).
const TRAILING_LINES: usize = 3;

/// Whether `loc` lies within [`TRAILING_LINES`] after the (unrepeated)
/// `incident`, with no other failure starting in between.
fn just_after(incident: &Incident, loc: &crate::input::Loc, incidents: &[Incident]) -> bool {
    let after = |line: usize| line > incident.end_line && line <= loc.line;
    incident.source == loc.source
        && incident.repeat_count == 0
        && loc.line > incident.end_line
        && loc.line <= incident.end_line + TRAILING_LINES
        && !(incidents.iter()).any(|other| other.source == loc.source && after(other.loc.line))
}

/// Whether a place lies in an incident's lines (its first occurrence's).
fn lies_in(incident: &Incident, loc: &crate::input::Loc) -> bool {
    incident.source == loc.source
        && (incident.loc.span.start..incident.end).contains(&loc.span.start)
}

/// The order of a report: severity, then confidence, specificity, place, id.
fn best_first(a: &Diagnosis, b: &Diagnosis) -> std::cmp::Ordering {
    a.severity
        .cmp(&b.severity)
        .then(b.confidence.total_cmp(&a.confidence))
        .then(b.specificity.cmp(&a.specificity))
        .then(
            a.incident
                .unwrap_or(usize::MAX)
                .cmp(&b.incident.unwrap_or(usize::MAX)),
        )
        .then(a.id.cmp(&b.id))
}

/// The rules that hold for one incident's facts, less those another of
/// them supersedes, before the input-wide notes are weighed against them.
fn incident_matches(facts: &Facts, input: &InputFacts, rules: &RuleSet) -> Vec<RuleMatch> {
    without_superseded(rules.evaluate(Scope::Incident, facts, input), rules)
}

/// Facts a reduced incident keeps: what the reports show of an incident
/// (its headline, the JSON record's fields, the id suggested for a new
/// rule) and what folding and recovery compare.
const REPORT_FACTS: &[&str] = &[
    "method",
    "url",
    "url.host",
    "url.port",
    "status",
    "endpoint",
    "provider",
    "region",
    "error",
    "error.code",
    "exception.type",
    "exception.code",
    "exception.message",
    "html.title",
    "body",
    // A body cut short is not recovered by its own rest (see `fold`).
    "body.truncated",
];

/// The longest value a reduced incident keeps of a fact (the incidents
/// view shows 160 bytes of a value).
const REDUCED_VALUE_BYTES: usize = 256;

/// The most of its excerpt a reduced incident keeps: up to the end of the
/// line of its last evidence. Evidence past it keeps its own line.
const REDUCED_EXCERPT_BYTES: usize = 4 << 10;

/// A line of evidence, as a report keeps it (see `Evidence::line`).
const EVIDENCE_LINE_BYTES: usize = 2000;

/// An incident reduced to its report form as it completes: diagnosed now
/// (against the input-wide facts seen so far), then stripped to what the
/// reports show and what folding and recovery still need, so that a run
/// keeps a small record per failure instead of the failure. `None` when it
/// is not a failure a report lists (see [`keep_failures`]).
pub fn reduce(mut incident: Incident, input: &InputFacts, rules: &RuleSet) -> Option<Incident> {
    let mut diagnoses: Vec<Diagnosis> = incident_matches(&incident.facts, input, rules)
        .into_iter()
        .map(|m| build(m, None, &incident.facts, input, rules))
        .collect();
    let loud = diagnoses.iter().any(|d| d.severity != Severity::Info);
    if !loud && !incident.is_exchange(&rules.providers) {
        return None;
    }
    diagnoses.sort_by(best_first);
    let excerpt = &incident.excerpt;
    let keep_to = diagnoses
        .iter()
        .flat_map(|d| &d.evidence)
        .filter(|e| e.loc.source == incident.source && e.line.is_none())
        .filter_map(|e| e.loc.span.end.checked_sub(excerpt.offset))
        .filter(|&end| end <= excerpt.text.len())
        .max()
        .unwrap_or(0);
    let keep_to = floor_char(&excerpt.text, keep_to);
    let line_end = excerpt.text[keep_to..]
        .find('\n')
        .map_or(excerpt.text.len(), |p| keep_to + p + 1);
    let cut = floor_char(&excerpt.text, line_end.min(REDUCED_EXCERPT_BYTES));
    // Evidence past the cut keeps its own line, as evidence outside an
    // excerpt does.
    for e in diagnoses.iter_mut().flat_map(|d| d.evidence.iter_mut()) {
        let rel = e.loc.span.start.checked_sub(excerpt.offset);
        if e.line.is_none()
            && e.loc.source == incident.source
            && let Some(rel) = rel.filter(|&r| r >= cut && r < excerpt.text.len())
        {
            let rel = floor_char(&excerpt.text, rel);
            let start = excerpt.text[..rel].rfind('\n').map_or(0, |p| p + 1);
            let end = excerpt.text[rel..]
                .find('\n')
                .map_or(excerpt.text.len(), |p| rel + p);
            let end = floor_char(&excerpt.text, end.min(start + EVIDENCE_LINE_BYTES));
            e.line = Some(crate::facts::Line {
                source: incident.source,
                offset: excerpt.offset + start,
                number: excerpt.number + excerpt.text[..start].matches('\n').count(),
                text: excerpt.text[start..end].to_string(),
            });
        }
    }
    incident.excerpt.text.truncate(cut);
    incident.excerpt.text.shrink_to_fit();
    let mut facts = Facts::default();
    for name in REPORT_FACTS {
        if let Some(v) = incident.facts.first(name) {
            let value = match &v.value {
                // The fold key (URL, error) is kept whole: repeats match it.
                crate::parse::Value::Str(s) if !matches!(*name, "url" | "error") => {
                    crate::parse::Value::Str(
                        s[..floor_char(s, REDUCED_VALUE_BYTES)].to_string().into(),
                    )
                }
                n => n.clone(),
            };
            facts.push(*name, value, v.loc);
        }
    }
    incident.facts = facts;
    incident.diagnosed = Some(diagnoses);
    Some(incident)
}

/// The largest char boundary of `s` at or before `at`.
fn floor_char(s: &str, at: usize) -> usize {
    let mut at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// About how many bytes a reduced incident's diagnoses take.
pub fn diagnoses_size(diagnoses: &[Diagnosis]) -> usize {
    diagnoses
        .iter()
        .map(|d| {
            std::mem::size_of::<Diagnosis>()
                + d.id.len()
                + d.title.len()
                + d.cause.len()
                + d.fix.len()
                + d.check.as_ref().map_or(0, |c| c.len())
                + d.not.iter().map(String::len).sum::<usize>()
                + d.docs.iter().map(String::len).sum::<usize>()
                + d.evidence
                    .iter()
                    .map(|e| 64 + e.label.len() + e.line.as_ref().map_or(0, |l| l.text.len()))
                    .sum::<usize>()
        })
        .sum()
}

fn without_superseded(mut matches: Vec<RuleMatch>, rules: &RuleSet) -> Vec<RuleMatch> {
    // A yielding rule gives way to any other match of the same failure.
    if matches.iter().any(|m| !rules.rules[m.rule].yields) {
        matches.retain(|m| !rules.rules[m.rule].yields);
    }
    // Ids are unique in a rule set: a match's rule is the rule of its id.
    // Few rules supersede others: the pairs are gathered first, so a
    // failure that hundreds of rules match costs no comparison of each
    // match with every other (quadratic, it was most of a 10x pack's run).
    let superseding: Vec<(usize, &str)> = matches
        .iter()
        .flat_map(|m| {
            let rule = &rules.rules[m.rule];
            rule.supersedes.iter().map(move |s| (m.rule, s))
        })
        .collect();
    if superseding.is_empty() {
        return matches;
    }
    matches
        .into_iter()
        .filter(|m| {
            let id = rules.rules[m.rule].id.as_str();
            !superseding
                .iter()
                .any(|&(by, superseded)| by != m.rule && superseded == id)
        })
        .collect()
}

fn build(
    m: RuleMatch,
    incident: Option<usize>,
    facts: &Facts,
    input: &InputFacts,
    rules: &RuleSet,
) -> Diagnosis {
    let rule = &rules.rules[m.rule];
    let prose = rule.prose();
    let fill = |t: &str| interpolate(t, &m.vars, facts, input);
    // A text with nothing to fill in is the rule's own, shared: the
    // diagnoses of thousands of failures keep one copy of it.
    let fill_text = |t: &Text| match placeholders(t).next() {
        None => t.clone(),
        Some(_) => fill(t).into(),
    };
    // One label per place (several conditions often point at the same span),
    // in condition order so the first `when` evidence leads; sized for all
    // of them, as a vector grown one by one holds room for four.
    let mut evidence: Vec<Evidence> = Vec::with_capacity(m.evidence.len());
    for e in m.evidence {
        if !evidence
            .iter()
            .any(|k| k.loc.source == e.loc.source && k.loc.span == e.loc.span)
        {
            evidence.push(Evidence {
                label: fill(&e.label),
                ..e
            });
        }
    }
    Diagnosis {
        rule: m.rule,
        id: rule.id.clone(),
        severity: rule.severity,
        expected: rule.expected,
        confidence: rule.confidence,
        specificity: m.specificity,
        incident,
        title: fill_text(&prose.title),
        cause: fill_text(&prose.cause),
        fix: fill_text(&prose.fix),
        check: prose.check.as_ref().map(fill_text),
        not: prose.not.iter().map(|n| fill(n)).collect(),
        docs: prose.docs.clone(),
        provider: rule.provider.clone(),
        evidence,
    }
}

/// Drops the incidents that are neither a failing exchange (request,
/// response or transport, see [`Incident::is_exchange`]) nor explained by an
/// error or warning diagnosis — a program's own exception in a log is not an
/// API failure — and renumbers the diagnoses' incidents.
pub fn keep_failures(
    incidents: Vec<Incident>,
    diagnoses: Vec<Diagnosis>,
    providers: &crate::providers::Providers,
) -> (Vec<Incident>, Vec<Diagnosis>) {
    let loud = |i: usize| {
        diagnoses
            .iter()
            .any(|d| d.incident == Some(i) && d.severity != Severity::Info)
    };
    let keep: Vec<bool> = incidents
        .iter()
        .enumerate()
        // A reduced incident was kept because it is a failure.
        .map(|(i, inc)| inc.diagnosed.is_some() || inc.is_exchange(providers) || loud(i))
        .collect();
    let mut new_index = Vec::with_capacity(keep.len());
    let mut next = 0;
    for k in &keep {
        new_index.push(next);
        next += usize::from(*k);
    }
    let incidents = incidents
        .into_iter()
        .zip(&keep)
        .filter_map(|(inc, k)| k.then_some(inc))
        .collect();
    let diagnoses = diagnoses
        .into_iter()
        .filter_map(|mut d| match d.incident {
            Some(i) if !keep[i] => None,
            Some(i) => {
                d.incident = Some(new_index[i]);
                Some(d)
            }
            None => Some(d),
        })
        .collect();
    (incidents, diagnoses)
}
