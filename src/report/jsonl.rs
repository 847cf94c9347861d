//! `--format jsonl`: the report as one JSON object per line, each with a
//! `"type"`, written as the run goes (docs/report.md, "JSON Lines"): a
//! `header`, then per failing call an `incident` record followed by its
//! `diagnosis` records (best first), `diagnosis` records for the input as a
//! whole (`incident: null`), `problem` records, and a closing `summary`.
//! Records carry the same fields as `faultline/report@1`'s, through the
//! same functions, so masking and ids cannot differ between the two.

use serde::Serialize;

use super::json::{DiagnosisOut, IncidentOut};
use super::{Problem, ReportCtx};
use crate::StreamTotals;
use crate::rules::RuleSet;

/// The schema id of the header record.
pub const JSONL_SCHEMA: &str = "faultline/jsonl@1";

#[derive(Serialize)]
struct Typed<T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    record: T,
}

fn line<T: Serialize>(kind: &'static str, record: T) -> String {
    let mut s = serde_json::to_string(&Typed { kind, record }).expect("record serializes");
    s.push('\n');
    s
}

#[derive(Serialize)]
struct Header<'a> {
    schema: &'static str,
    version: &'static str,
    /// The sources as known before reading them (names only).
    sources: Vec<SourceName<'a>>,
    rules: usize,
}

#[derive(Serialize)]
struct SourceName<'a> {
    name: &'a str,
}

/// The first line: what wrote the stream and what it is about to read.
pub fn header(sources: &[String], rules: &RuleSet) -> String {
    line(
        "header",
        Header {
            schema: JSONL_SCHEMA,
            version: env!("CARGO_PKG_VERSION"),
            sources: sources.iter().map(|name| SourceName { name }).collect(),
            rules: rules.rules.len(),
        },
    )
}

/// The records of one batch: each incident followed by its diagnoses, then
/// the diagnoses on the input as a whole.
pub fn records(ctx: &ReportCtx) -> String {
    let a = ctx.analysis;
    let mut out = String::new();
    for i in 0..a.incidents.len() {
        let record = super::json::incident_record(ctx, i);
        out.push_str(&line::<&IncidentOut>("incident", &record.incident));
        for d in record.diagnoses {
            out.push_str(&line::<DiagnosisOut>("diagnosis", d));
        }
    }
    for d in a.diagnoses.iter().filter(|d| d.incident.is_none()) {
        out.push_str(&line("diagnosis", super::json::diagnosis(ctx, d)));
    }
    out
}

pub fn problem(p: &Problem) -> String {
    line("problem", p)
}

/// The closing record's figures, from the final analysis.
#[derive(Serialize)]
pub struct Summary {
    /// Failing calls found, diagnosed (by at least one rule) and not.
    pub incidents: usize,
    pub diagnosed: usize,
    pub unexplained: usize,
    /// Diagnoses by severity.
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    /// Problem records written (input and rule problems).
    pub problems: usize,
    pub sources: usize,
    pub bytes: u64,
    /// Repeats folded into incidents after their record was written, and
    /// how many incidents they were.
    pub repeats_after_print: usize,
    pub repeated_after_print: usize,
    /// Incidents written as failing that a later success recovered.
    pub recovered_after_print: usize,
    /// The run stopped before the end of its input (Ctrl-C).
    pub interrupted: bool,
    /// The exit status of the run.
    pub exit_status: u8,
}

impl Summary {
    pub fn new(ctx: &ReportCtx, totals: &StreamTotals, exit_status: u8) -> Self {
        let a = ctx.analysis;
        let diagnosed = (0..a.incidents.len())
            .filter(|&i| a.diagnoses.iter().any(|d| d.incident == Some(i)))
            .count();
        let by = |s: &str| {
            a.diagnoses
                .iter()
                .filter(|d| d.severity.as_str() == s)
                .count()
        };
        Summary {
            incidents: a.incidents.len(),
            diagnosed,
            unexplained: a.incidents.len() - diagnosed,
            errors: by("error"),
            warnings: by("warning"),
            infos: by("info"),
            problems: ctx.problems.len(),
            sources: a.sources.len(),
            bytes: a.sources.iter().map(|s| s.bytes).sum(),
            repeats_after_print: totals.repeats_after,
            repeated_after_print: totals.repeated_after,
            recovered_after_print: totals.recovered_after,
            interrupted: totals.stopped,
            exit_status,
        }
    }
}

pub fn summary(summary: &Summary) -> String {
    line("summary", summary)
}

/// The whole stream of a finished analysis at once (no streaming).
pub fn render_jsonl(ctx: &ReportCtx, exit_status: u8) -> String {
    let names: Vec<String> = ctx
        .analysis
        .sources
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let mut out = header(&names, ctx.rules);
    out.push_str(&records(ctx));
    for p in &ctx.problems {
        out.push_str(&problem(p));
    }
    out.push_str(&summary(&Summary::new(
        ctx,
        &StreamTotals::default(),
        exit_status,
    )));
    out
}
