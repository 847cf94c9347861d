//! Stage 6, ranking: turns rule matches into diagnoses, drops those another
//! matched rule supersedes, and orders them best first.

use crate::facts::{Facts, InputFacts};
use crate::incidents::Incident;
use crate::rules::engine::interpolate;
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
    let mut out = Vec::new();
    for (i, incident) in incidents.iter().enumerate() {
        let matches = rules.evaluate(Scope::Incident, &incident.facts, input);
        for m in without_superseded(matches, rules) {
            out.push(build(m, Some(i), &incident.facts, input, rules));
        }
    }
    let empty = Facts::default();
    let notes = rules.evaluate(Scope::Input, &empty, input);
    for m in without_superseded(notes, rules) {
        out.push(build(m, None, &empty, input, rules));
    }
    out.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(b.confidence.total_cmp(&a.confidence))
            .then(b.specificity.cmp(&a.specificity))
            .then(a.incident.unwrap_or(usize::MAX).cmp(&b.incident.unwrap_or(usize::MAX)))
            .then(a.id.cmp(&b.id))
    });
    out
}

fn without_superseded(matches: Vec<RuleMatch>, rules: &RuleSet) -> Vec<RuleMatch> {
    let ids: Vec<&str> = matches.iter().map(|m| rules.rules[m.rule].id.as_str()).collect();
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

fn build(m: RuleMatch, incident: Option<usize>, facts: &Facts, input: &InputFacts, rules: &RuleSet) -> Diagnosis {
    let rule = &rules.rules[m.rule];
    let fill = |t: &str| interpolate(t, &m.vars, facts, input);
    let mut evidence = m.evidence;
    // One label per place: several conditions often point at the same span.
    evidence.sort_by_key(|e| (e.loc.source, e.loc.span.start, e.loc.span.end));
    evidence.dedup_by(|a, b| a.loc.span == b.loc.span && a.loc.source == b.loc.source);
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
