//! Stage 6, ranking: turns rule matches into diagnoses, drops those another
//! matched rule supersedes, and orders them best first.

use crate::facts::Facts;
use crate::incidents::Incident;
use crate::rules::engine::interpolate;
use crate::rules::scan::InputFacts;
use crate::rules::{Evidence, RuleMatch, RuleSet, Scope, Severity};

/// An explained diagnosis: a rule's texts filled in for one incident (or for
/// the input as a whole).
#[derive(Debug, Clone)]
pub struct Diagnosis {
    /// Index into the rule set.
    pub rule: usize,
    pub id: String,
    pub severity: Severity,
    pub confidence: f64,
    pub specificity: usize,
    /// Index into the analysis' incidents; `None` for input-wide notes.
    pub incident: Option<usize>,
    pub title: String,
    pub cause: String,
    pub fix: String,
    pub check: Option<String>,
    pub not: Vec<String>,
    pub docs: Vec<String>,
    pub provider: Option<String>,
    pub evidence: Vec<Evidence>,
}

/// All diagnoses for the incidents and the input, ordered best first.
pub fn diagnose(incidents: &[Incident], input: &InputFacts, rules: &RuleSet) -> Vec<Diagnosis> {
    let empty = Facts::default();
    let notes = without_superseded(rules.evaluate(Scope::Input, &empty, input), rules);
    let mut per_incident = Vec::with_capacity(incidents.len());
    for incident in incidents {
        let matches = rules.evaluate(Scope::Incident, &incident.facts, input);
        per_incident.push(without_superseded(matches, rules));
    }
    // `supersedes` works across the two kinds. An input-wide note is dropped
    // when a diagnosis of some incident supersedes it (the incident-level
    // explanation says it better); a note that survives hides the incident
    // rules it supersedes (a whole-input diagnosis of the failure beats the
    // generic reading of one exchange). Notes are settled first, so two
    // rules superseding each other never hide both.
    let superseded_by_incidents: Vec<&str> = per_incident
        .iter()
        .flatten()
        .flat_map(|m| rules.rules[m.rule].supersedes.iter().map(String::as_str))
        .collect();
    let notes: Vec<RuleMatch> = notes
        .into_iter()
        .filter(|m| !superseded_by_incidents.contains(&rules.rules[m.rule].id.as_str()))
        .collect();
    let superseded_by_notes: Vec<&str> = notes
        .iter()
        .flat_map(|m| rules.rules[m.rule].supersedes.iter().map(String::as_str))
        .collect();
    // The first incident each note hid a rule of: the note explains that
    // failure, so it is reported as that incident's diagnosis.
    let mut note_incident: Vec<Option<usize>> = vec![None; notes.len()];
    let mut out = Vec::new();
    for (i, (incident, matches)) in incidents.iter().zip(per_incident).enumerate() {
        for m in matches {
            let id = rules.rules[m.rule].id.as_str();
            if superseded_by_notes.contains(&id) {
                for (n, note) in notes.iter().enumerate() {
                    if note_incident[n].is_none()
                        && rules.rules[note.rule].supersedes.iter().any(|s| s == id)
                    {
                        note_incident[n] = Some(i);
                    }
                }
                continue;
            }
            let mut d = build(m, Some(i), &incident.facts, input, rules);
            // A failure that a later retry of the same call got past: worth
            // knowing, not worth failing the run for.
            if incident.recovered.is_some() {
                d.severity = Severity::Info;
            }
            out.push(d);
        }
    }
    for (m, at) in notes.into_iter().zip(note_incident) {
        let mut d = build(m, at, &empty, input, rules);
        if at.is_some_and(|i| incidents[i].recovered.is_some()) {
            d.severity = Severity::Info;
        }
        out.push(d);
    }
    out.sort_by(|a, b| {
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
    });
    out
}

fn without_superseded(matches: Vec<RuleMatch>, rules: &RuleSet) -> Vec<RuleMatch> {
    let ids: Vec<&str> = matches
        .iter()
        .map(|m| rules.rules[m.rule].id.as_str())
        .collect();
    matches
        .iter()
        .filter(|m| {
            let id = rules.rules[m.rule].id.as_str();
            !ids.iter().any(|other| {
                *other != id
                    && rules
                        .get(other)
                        .is_some_and(|r| r.supersedes.iter().any(|s| s == id))
            })
        })
        .cloned()
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
    let fill = |t: &str| interpolate(t, &m.vars, facts, input);
    // One label per place (several conditions often point at the same span),
    // in condition order so the first `when` evidence leads.
    let mut evidence: Vec<Evidence> = Vec::new();
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
        confidence: rule.confidence,
        specificity: m.specificity,
        incident,
        title: fill(&rule.title),
        cause: fill(&rule.cause),
        fix: fill(&rule.fix),
        check: rule.check.as_deref().map(fill),
        not: rule.not.iter().map(|n| fill(n)).collect(),
        docs: rule.docs.clone(),
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
        .map(|(i, inc)| inc.is_exchange(providers) || loud(i))
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
