//! Machine-readable report, schema `faultline/report@1`. Tools outside this
//! repository parse it: add fields, never rename or remove them.

use serde::Serialize;

use super::ReportCtx;
use crate::rules::Evidence;

#[derive(Serialize)]
struct Report<'a> {
    schema: &'static str,
    diagnoses: Vec<DiagnosisOut<'a>>,
    incidents: Vec<IncidentOut>,
    stats: Stats,
}

#[derive(Serialize)]
struct DiagnosisOut<'a> {
    rule: &'a str,
    title: String,
    severity: &'static str,
    confidence: f64,
    provider: Option<&'a str>,
    incident: Option<usize>,
    cause: String,
    fix: String,
    check: Option<String>,
    not: Vec<String>,
    docs: &'a [String],
    evidence: Vec<EvidenceOut>,
}

#[derive(Serialize)]
struct EvidenceOut {
    source: String,
    line: usize,
    column: usize,
    text: String,
    label: String,
}

#[derive(Serialize)]
struct IncidentOut {
    source: String,
    line: usize,
    method: Option<String>,
    url: Option<String>,
    status: Option<i64>,
    endpoint: Option<String>,
    provider: Option<String>,
    region: Option<String>,
    error: Option<String>,
    exception: Option<String>,
    repeats: usize,
    /// Whether some rule gave this incident a diagnosis.
    explained: bool,
    /// A later success of the same method and URL: the failure was retried.
    recovered: bool,
}

#[derive(Serialize)]
struct Stats {
    sources: usize,
    bytes: u64,
    incidents: usize,
    diagnosed: usize,
    diagnoses: usize,
    rules: usize,
}

/// The user's text under a piece of evidence.
fn evidence_text(ctx: &ReportCtx, incident: Option<usize>, e: &Evidence) -> String {
    let span = e.loc.span;
    let from_line = |text: &str, offset: usize| {
        span.start
            .checked_sub(offset)
            .and_then(|s| text.get(s..s + span.len()))
            .map(str::to_string)
    };
    let excerpt = incident
        .map(|i| &ctx.analysis.incidents[i])
        .filter(|i| i.source == e.loc.source)
        .and_then(|i| from_line(&i.excerpt.text, i.excerpt.offset));
    let text = excerpt
        .or_else(|| e.line.as_ref().and_then(|l| from_line(&l.text, l.offset)))
        .unwrap_or_default();
    ctx.masker.string(&text)
}

pub fn render_json(ctx: &ReportCtx) -> String {
    let a = ctx.analysis;
    let m = |s: &str| ctx.masker.string(s);
    let diagnoses = a
        .diagnoses
        .iter()
        .map(|d| DiagnosisOut {
            rule: &d.id,
            title: m(&d.title),
            severity: d.severity.as_str(),
            confidence: d.confidence,
            provider: d.provider.as_deref(),
            incident: d.incident,
            cause: m(&d.cause),
            fix: m(&d.fix),
            check: d.check.as_deref().map(m),
            not: d.not.iter().map(|n| m(n)).collect(),
            docs: &d.docs,
            evidence: d
                .evidence
                .iter()
                .map(|e| EvidenceOut {
                    source: ctx.source_name(e.loc.source).to_string(),
                    line: e.loc.line,
                    column: e.loc.column,
                    text: evidence_text(ctx, d.incident, e),
                    label: m(&e.label),
                })
                .collect(),
        })
        .collect();
    let incidents = a
        .incidents
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let s = |k: &str| i.facts.str(k).map(m);
            IncidentOut {
                source: ctx.source_name(i.source).to_string(),
                line: i.loc.line,
                method: s("method"),
                url: s("url"),
                status: i.facts.num("status").map(|n| n as i64),
                endpoint: s("endpoint"),
                provider: s("provider"),
                region: s("region"),
                error: s("error"),
                exception: s("exception.type"),
                repeats: i.repeat_count,
                explained: a.diagnoses.iter().any(|d| d.incident == Some(n)),
                recovered: i.recovered.is_some(),
            }
        })
        .collect();
    let diagnosed = (0..a.incidents.len())
        .filter(|i| a.diagnoses.iter().any(|d| d.incident == Some(*i)))
        .count();
    let report = Report {
        schema: "faultline/report@1",
        diagnoses,
        incidents,
        stats: Stats {
            sources: a.sources.len(),
            bytes: a.sources.iter().map(|s| s.bytes).sum(),
            incidents: a.incidents.len(),
            diagnosed,
            diagnoses: a.diagnoses.len(),
            rules: ctx.rules.rules.len(),
        },
    };
    let mut out = serde_json::to_string_pretty(&report).expect("report serializes");
    out.push('\n');
    out
}
