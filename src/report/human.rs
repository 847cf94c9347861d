//! The human report: per incident a headline, then each diagnosis as a miette
//! diagnostic with the evidence labelled in the user's own lines.

use std::fmt;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, Severity as MSeverity,
};

use super::ReportCtx;
use super::snippet::SparseSource;
use crate::facts::Line;
use crate::rank::Diagnosis;
use crate::rules::Severity;

#[derive(Debug, Clone, Copy)]
pub struct HumanStyle {
    pub color: bool,
    pub width: usize,
}

impl HumanStyle {
    /// Plain, narrow output for files, pipes and tests.
    pub fn plain() -> Self {
        HumanStyle {
            color: false,
            width: 80,
        }
    }
}

/// The cause, rendered by miette as the diagnostic's cause chain.
#[derive(Debug)]
struct Cause(String);

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Cause {}

/// One diagnosis (or a related block of evidence) ready for miette.
#[derive(Debug)]
struct Rendered {
    title: String,
    cause: Option<Cause>,
    code: Option<String>,
    severity: MSeverity,
    help: Option<String>,
    url: Option<String>,
    labels: Vec<LabeledSpan>,
    source: SparseSource,
    related: Vec<Rendered>,
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.title)
    }
}

impl std::error::Error for Rendered {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause.as_ref().map(|c| c as _)
    }
}

impl Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code.as_ref().map(|c| Box::new(c) as _)
    }
    fn severity(&self) -> Option<MSeverity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as _)
    }
    fn url<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.url.as_ref().map(|u| Box::new(u) as _)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        (!self.labels.is_empty()).then_some(&self.source as _)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        (!self.labels.is_empty()).then(|| Box::new(self.labels.iter().cloned()) as _)
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        (!self.related.is_empty())
            .then(|| Box::new(self.related.iter().map(|r| r as &dyn Diagnostic)) as _)
    }
}

fn miette_severity(s: Severity) -> MSeverity {
    match s {
        Severity::Error => MSeverity::Error,
        Severity::Warning => MSeverity::Warning,
        Severity::Info => MSeverity::Advice,
    }
}

fn help_text(d: &Diagnosis, ctx: &ReportCtx) -> String {
    let m = |s: &str| ctx.masker.string(s);
    let mut help = format!("fix: {}", m(&d.fix));
    if let Some(check) = &d.check {
        help.push_str(&format!("\ncheck: {}", m(check)));
    }
    for n in &d.not {
        help.push_str(&format!("\nnot this: {}", m(n)));
    }
    for extra in d.docs.iter().skip(1) {
        help.push_str(&format!("\nsee also: {extra}"));
    }
    help
}

fn render_diagnosis(d: &Diagnosis, ctx: &ReportCtx) -> Rendered {
    let analysis = ctx.analysis;
    let incident = d.incident.map(|i| &analysis.incidents[i]);
    // Group the evidence by source: the incident's source is primary.
    let primary = incident
        .map(|i| i.source)
        .or_else(|| d.evidence.first().map(|e| e.loc.source))
        .unwrap_or(0);
    let mut sources: Vec<usize> = vec![primary];
    for e in &d.evidence {
        if !sources.contains(&e.loc.source) {
            sources.push(e.loc.source);
        }
    }
    let mut blocks: Vec<(SparseSource, Vec<LabeledSpan>)> = Vec::new();
    for &src in &sources {
        let mut lines: Vec<Line> = Vec::new();
        if let Some(inc) = incident.filter(|i| i.source == src) {
            lines.push(inc.excerpt.clone());
        }
        lines.extend(
            d.evidence
                .iter()
                .filter(|e| e.loc.source == src)
                .filter_map(|e| e.line.clone()),
        );
        for l in &mut lines {
            l.text = ctx.masker.string(&l.text);
        }
        let source = SparseSource::new(ctx.source_name(src).to_string(), lines);
        let labels = d
            .evidence
            .iter()
            .filter(|e| e.loc.source == src && source.covers(e.loc.span.start, e.loc.span.len()))
            .map(|e| {
                LabeledSpan::new(
                    Some(ctx.masker.string(&e.label)),
                    e.loc.span.start,
                    e.loc.span.len(),
                )
            })
            .collect();
        blocks.push((source, labels));
    }
    let mut blocks = blocks.into_iter();
    let (source, labels) = blocks.next().expect("at least the primary source");
    let related = blocks
        .filter(|(_, labels)| !labels.is_empty())
        .map(|(source, labels)| Rendered {
            title: "more evidence".into(),
            cause: None,
            code: None,
            severity: MSeverity::Advice,
            help: None,
            url: None,
            labels,
            source,
            related: Vec::new(),
        })
        .collect();
    Rendered {
        title: format!(
            "{} ({}% confidence)",
            ctx.masker.string(&d.title),
            (d.confidence * 100.0).round() as i64
        ),
        cause: Some(Cause(ctx.masker.string(&d.cause))),
        code: Some(d.id.clone()),
        severity: miette_severity(d.severity),
        help: Some(help_text(d, ctx)),
        url: d.docs.first().cloned(),
        labels,
        source,
        related,
    }
}

pub fn render_human(ctx: &ReportCtx, style: HumanStyle) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false)
        .with_context_lines(1);
    let analysis = ctx.analysis;
    let mut out = String::new();
    let render = |out: &mut String, d: &Diagnosis| {
        let r = render_diagnosis(d, ctx);
        if handler.render_report(out, &r).is_err() {
            out.push_str(&format!("  {}: {}\n", d.id, r.title));
        }
    };
    for (i, incident) in analysis.incidents.iter().enumerate() {
        let name = ctx.source_name(incident.source);
        out.push_str(&format!(
            "── {} ── {}:{}\n",
            ctx.masker.string(&incident.headline()),
            name,
            incident.loc.line
        ));
        if incident.repeat_count > 0 {
            out.push_str(&format!(
                "   the same failure repeats {} more time(s): {}\n",
                incident.repeat_count,
                incident.repeat_places(|s| ctx.source_name(s), 5)
            ));
        }
        for note in &incident.notes {
            out.push_str(&format!("   note: {note}\n"));
        }
        out.push('\n');
        let diags: Vec<&Diagnosis> = analysis
            .diagnoses
            .iter()
            .filter(|d| d.incident == Some(i))
            .collect();
        if diags.is_empty() {
            out.push_str("  No rule explains this failure. Add one: faultline rules new <provider.topic>\n\n");
        }
        for d in diags {
            render(&mut out, d);
            out.push('\n');
        }
    }
    let notes: Vec<&Diagnosis> = analysis
        .diagnoses
        .iter()
        .filter(|d| d.incident.is_none())
        .collect();
    if !notes.is_empty() {
        out.push_str("── Notes on the input ──\n\n");
        for d in notes {
            render(&mut out, d);
            out.push('\n');
        }
    }
    if analysis.incidents.is_empty() && notes_empty(analysis) {
        out.push_str("No failing API call found in the input.\n");
    }
    out.push_str(&summary(ctx));
    out
}

fn notes_empty(analysis: &crate::Analysis) -> bool {
    analysis.diagnoses.iter().all(|d| d.incident.is_some())
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `faultline: 1 source (3399 bytes), 1 incident, 5 diagnoses (3 error, …), 31 rules`
pub fn summary(ctx: &ReportCtx) -> String {
    let a = ctx.analysis;
    let bytes: u64 = a.sources.iter().map(|s| s.bytes).sum();
    let count = |s: Severity| a.diagnoses.iter().filter(|d| d.severity == s).count();
    format!(
        "faultline: {} ({bytes} bytes), {}, {} ({} error, {} warning, {} info), {} loaded\n",
        plural(a.sources.len(), "source"),
        plural(a.incidents.len(), "incident"),
        plural(a.diagnoses.len(), "diagnosis").replace("diagnosiss", "diagnoses"),
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
        plural(ctx.rules.rules.len(), "rule"),
    )
}
