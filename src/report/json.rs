//! The machine-readable report, schema `faultline/report@1`, described field
//! by field in docs/report.md and by the JSON Schema in
//! docs/report.schema.json (`faultline report-schema`). Tools outside this
//! repository parse it: add fields (to the schema and the docs too), never
//! rename or remove them.
//!
//! The report is built from per-incident records ([`incident_record`]) so a
//! streaming output can emit each failing call alone, with its diagnoses.

use serde::Serialize;

use super::{Problem, ReportCtx, RuleDir};
use crate::rank::Diagnosis;
use crate::rules::Evidence;

/// The JSON Schema every report validates against.
pub const REPORT_SCHEMA: &str = include_str!("../../docs/report.schema.json");

#[derive(Serialize)]
struct Report<'a> {
    schema: &'static str,
    version: &'static str,
    incidents: Each<'a, IncidentOut>,
    diagnoses: Each<'a, DiagnosisOut<'a>>,
    sources: Vec<SourceOut>,
    problems: &'a [Problem],
    rules: RulesOut<'a>,
    stats: Stats,
}

#[derive(Serialize)]
pub struct DiagnosisOut<'a> {
    rule: &'a str,
    title: String,
    severity: &'static str,
    confidence: f64,
    provider: Option<&'a str>,
    /// The `id` of the incident it explains; `null` for a note on the input.
    incident: Option<usize>,
    /// Primary location: the first piece of evidence (else the incident).
    source: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
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
pub struct IncidentOut {
    id: usize,
    source: String,
    line: usize,
    column: usize,
    end_line: usize,
    method: Option<String>,
    url: Option<String>,
    status: Option<i64>,
    endpoint: Option<String>,
    provider: Option<String>,
    region: Option<String>,
    error: Option<String>,
    exception: Option<String>,
    headline: String,
    repeats: usize,
    repeated_at: Vec<PlaceOut>,
    explained: bool,
    /// A later 2xx of the same method and URL: a retry got past it.
    recovered: bool,
    /// A rule says this is the API working as designed, not a failure.
    expected: bool,
}

#[derive(Serialize)]
struct PlaceOut {
    source: String,
    line: usize,
    column: usize,
}

/// One failing call with its diagnoses, best first: a record that stands
/// alone (for line-delimited output).
#[derive(Serialize)]
pub struct IncidentRecord<'a> {
    #[serde(flatten)]
    pub incident: IncidentOut,
    pub diagnoses: Vec<DiagnosisOut<'a>>,
}

#[derive(Serialize)]
struct SourceOut {
    name: String,
    bytes: u64,
}

#[derive(Serialize)]
struct RulesOut<'a> {
    loaded: usize,
    builtin: usize,
    user: &'a [RuleDir],
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
    // Masked in its line (a credential alone does not look like one), then
    // cut out where the span landed in the masked line.
    let from_line = |text: &str, offset: usize| {
        let s = span.start.checked_sub(offset)?;
        text.get(s..s + span.len())?;
        let masked = ctx.masked(text);
        masked
            .text
            .get(masked.map_range(s, s + span.len()))
            .map(str::to_string)
    };
    let excerpt = incident
        .and_then(|i| ctx.analysis.incidents.get(i))
        .filter(|i| i.source == e.loc.source)
        .and_then(|i| from_line(&i.excerpt.text, i.excerpt.offset));
    let text = excerpt
        .or_else(|| e.line.as_ref().and_then(|l| from_line(&l.text, l.offset)))
        .unwrap_or_default();
    ctx.mask(&text)
}

pub(crate) fn diagnosis<'a>(ctx: &ReportCtx<'_>, d: &'a Diagnosis) -> DiagnosisOut<'a> {
    let primary = d.evidence.first().map(|e| e.loc).or_else(|| {
        d.incident
            .and_then(|i| ctx.analysis.incidents.get(i))
            .map(|i| i.loc)
    });
    DiagnosisOut {
        rule: &d.id,
        // A rule's prose as written: its filled-in values were masked as
        // they went in (rules::engine::interpolate).
        title: d.title.to_string(),
        severity: d.severity.as_str(),
        confidence: d.confidence,
        provider: d.provider.as_deref(),
        incident: d.incident.map(|i| ctx.first_id + i + 1),
        source: primary.map(|l| ctx.source_name(l.source).to_string()),
        line: primary.map(|l| l.line),
        column: primary.map(|l| l.column),
        cause: d.cause.to_string(),
        fix: d.fix.to_string(),
        check: d.check.as_deref().map(str::to_string),
        not: d.not.clone(),
        docs: &d.docs,
        evidence: d
            .evidence
            .iter()
            .map(|e| EvidenceOut {
                source: ctx.source_name(e.loc.source).to_string(),
                line: e.loc.line,
                column: e.loc.column,
                text: evidence_text(ctx, d.incident, e),
                label: e.label.to_string(),
            })
            .collect(),
    }
}

fn incident(ctx: &ReportCtx, index: usize) -> IncidentOut {
    let m = |s: &str| ctx.mask(s);
    let i = &ctx.analysis.incidents[index];
    let s = |k: &str| i.facts.str(k).map(m);
    let end_line = i.excerpt.number + i.excerpt.text.trim_end_matches('\n').matches('\n').count();
    IncidentOut {
        id: ctx.first_id + index + 1,
        source: ctx.source_name(i.source).to_string(),
        line: i.loc.line,
        column: i.loc.column,
        end_line: end_line.max(i.loc.line),
        method: s("method"),
        url: s("url"),
        status: i.facts.num("status").map(|n| n as i64),
        endpoint: s("endpoint"),
        provider: s("provider"),
        region: s("region"),
        error: s("error"),
        exception: s("exception.type"),
        headline: m(&i.headline()),
        repeats: i.repeat_count,
        repeated_at: i
            .repeats
            .iter()
            .map(|l| PlaceOut {
                source: ctx.source_name(l.source).to_string(),
                line: l.line,
                column: l.column,
            })
            .collect(),
        explained: ctx
            .analysis
            .diagnoses
            .iter()
            .any(|d| d.incident == Some(index)),
        recovered: i.recovered.is_some(),
        expected: ctx.expected.get(index).copied().unwrap_or(false),
    }
}

/// The record of incident `index` (0-based) with its diagnoses, best first.
pub fn incident_record<'a>(ctx: &ReportCtx<'a>, index: usize) -> IncidentRecord<'a> {
    let analysis: &'a crate::Analysis = ctx.analysis;
    IncidentRecord {
        incident: incident(ctx, index),
        diagnoses: analysis
            .diagnoses
            .iter()
            .filter(|d| d.incident == Some(index))
            .map(|d| diagnosis(ctx, d))
            .collect(),
    }
}

pub fn render_json(ctx: &ReportCtx) -> String {
    let mut out = Vec::new();
    write_json(ctx, &mut out).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// A list serialized one item at a time, each made as it is written: the
/// report of hundreds of incidents is never held whole in memory.
struct Each<'a, T> {
    len: usize,
    item: Box<dyn Fn(usize) -> T + 'a>,
}

impl<T: Serialize> Serialize for Each<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((0..self.len).map(|i| (self.item)(i)))
    }
}

/// [`render_json`], written to `w` as it is made.
pub fn write_json(ctx: &ReportCtx, w: impl std::io::Write) -> std::io::Result<()> {
    use std::io::Write;
    let a: &crate::Analysis = ctx.analysis;
    let explained: std::collections::HashSet<usize> = a
        .diagnoses
        .iter()
        .filter_map(|d| d.incident)
        .filter(|&i| i < a.incidents.len())
        .collect();
    let report = Report {
        schema: "faultline/report@1",
        version: env!("CARGO_PKG_VERSION"),
        incidents: Each {
            len: a.incidents.len(),
            item: Box::new(|i| incident(ctx, i)),
        },
        diagnoses: Each {
            len: a.diagnoses.len(),
            item: Box::new(|k| diagnosis(ctx, &a.diagnoses[k])),
        },
        sources: a
            .sources
            .iter()
            .map(|s| SourceOut {
                name: s.name.clone(),
                bytes: s.bytes,
            })
            .collect(),
        problems: &ctx.problems,
        rules: RulesOut {
            loaded: ctx.rules.rules.len(),
            builtin: ctx.rules.rules.iter().filter(|r| r.origin.builtin).count(),
            user: &ctx.rule_dirs,
        },
        stats: Stats {
            sources: a.sources.len(),
            bytes: a.sources.iter().map(|s| s.bytes).sum(),
            incidents: a.incidents.len(),
            diagnosed: explained.len(),
            diagnoses: a.diagnoses.len(),
            rules: ctx.rules.rules.len(),
        },
    };
    let mut w = std::io::BufWriter::with_capacity(64 << 10, w);
    serde_json::to_writer_pretty(&mut w, &report)?;
    w.write_all(b"\n")?;
    w.flush()
}
