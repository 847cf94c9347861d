//! The human report: per failing call a header line (our own text: it is
//! not a diagnosis), then each diagnosis as miette renders it — the rule id,
//! the title, the cause, the evidence drawn under the user's own lines, the
//! fix as help, and in the footer how to confirm it, what it is not and its
//! sources — laid out for the terminal's width. Info-level notes are compact
//! (their place instead of the evidence, no check or "not this"); `--brief`
//! makes every diagnosis compact and leaves the notes out.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan};
use textwrap::{WordSeparator, WordSplitter};

use super::snippet::{Evidence, Label};
use super::text::{self, Paint, visible, wrap};
use super::{ReportCtx, mask_pieces};
use crate::facts::Line;
use crate::incidents::Incident;
use crate::rank::Diagnosis;
use crate::rules::Severity;

/// Widest prose line: longer lines are hard to follow, whatever the terminal.
const PROSE_MAX: usize = 120;

#[derive(Debug, Clone, Copy)]
pub struct HumanStyle {
    pub color: bool,
    /// OSC 8 hyperlinks for rule ids and URLs.
    pub links: bool,
    pub width: usize,
    /// Titles, causes and fixes only (no check, no "not this", no notes).
    pub brief: bool,
    /// The closing `faultline: …` summary line(s).
    pub summary: bool,
}

impl HumanStyle {
    /// Plain, 80 columns: files, pipes and tests.
    pub fn plain() -> Self {
        HumanStyle {
            color: false,
            links: false,
            width: 80,
            brief: false,
            summary: true,
        }
    }

    fn paint(&self) -> Paint {
        Paint {
            color: self.color,
            links: self.links,
        }
    }
}

struct Writer<'a> {
    out: String,
    style: HumanStyle,
    ctx: &'a ReportCtx<'a>,
}

impl Writer<'_> {
    fn line(&mut self, s: &str) {
        self.out.push_str(&self.style.paint().link_urls(s));
        self.out.push('\n');
    }

    fn blank(&mut self) {
        self.out.push('\n');
    }

    /// Columns for prose: the terminal's width, but no wider than a
    /// comfortable measure (snippets still use the whole width).
    fn measure(&self) -> usize {
        self.style.width.min(PROSE_MAX)
    }

    /// A paragraph wrapped to the width (text from rules or the input:
    /// masked and made visible).
    fn para(&mut self, text: &str, first: &str, rest: &str) {
        let masked = self.ctx.mask(text);
        for l in wrap(&masked, self.measure(), first, rest) {
            self.line(&l);
        }
    }
}

/// `POST https://host/path → 403 invalid_grant ── run.log:7`, or on two
/// lines when it does not fit: the URL is never cut.
fn header(w: &mut Writer, incident: &Incident, expected: bool) {
    let ctx = w.ctx;
    let p = w.style.paint();
    let mut headline = visible(&ctx.mask(&incident.headline())).into_owned();
    if expected {
        headline.push_str(" (expected: not a failure)");
    }
    let place = format!(
        "{}:{}",
        visible(ctx.source_name(incident.source)),
        incident.loc.line
    );
    let one = format!("── {headline} ── {place}");
    if text::width(&one) <= w.style.width {
        w.line(&format!(
            "{} {} {} {place}",
            p.dim("──"),
            p.bold(&headline),
            p.dim("──")
        ));
    } else {
        w.line(&format!("{} {}", p.dim("──"), p.bold(&headline)));
        w.line(&format!("   {place}"));
    }
    if incident.repeat_count > 0 {
        // `repeats` keeps the first places; the count is exact.
        let n = incident.repeat_count;
        let places: Vec<String> = incident
            .repeats
            .iter()
            .take(5)
            .map(|l| {
                if l.source == incident.source {
                    format!("line {}", l.line)
                } else {
                    format!("{}:{}", visible(ctx.source_name(l.source)), l.line)
                }
            })
            .collect();
        let more = if n > 5 { ", …" } else { "" };
        let times = if n == 1 { "time" } else { "times" };
        w.para(
            &format!(
                "the same failure repeats {n} more {times}: {}{more}",
                places.join(", ")
            ),
            "   ",
            "   ",
        );
    }
    for note in &incident.notes {
        w.para(&format!("note: {}", visible(note)), "   ", "   ");
    }
}

/// A diagnosis as miette shows it: the rule id as its code (linked to the
/// first source where the terminal supports links), the title as the
/// message, the cause as what it came from, the evidence as labels over a
/// prepared source, the fix as help, and the rest (check, not this, docs)
/// in the footer.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct Shown {
    code: String,
    severity: miette::Severity,
    url: Option<String>,
    message: String,
    #[source]
    cause: Option<Cause>,
    help: Option<String>,
    evidence: Option<Evidence>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Cause(String);

impl miette::Diagnostic for Shown {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn url<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.url
            .as_ref()
            .map(|u| Box::new(u) as Box<dyn fmt::Display>)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.evidence.as_ref().map(|e| e as _)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let evidence = self.evidence.as_ref()?;
        Some(Box::new(evidence.labels().into_iter()))
    }
}

/// The evidence of `d` over the lines it was found in, per source: the
/// incident's own excerpt and the lines the evidence came from, masked.
fn evidence(w: &Writer, d: &Diagnosis) -> Evidence {
    let ctx = w.ctx;
    let incident = d.incident.and_then(|i| ctx.analysis.incidents.get(i));
    let primary = d
        .evidence
        .first()
        .map(|e| e.loc.source)
        .or(incident.map(|i| i.source))
        .unwrap_or(0);
    let mut sources: Vec<usize> = vec![primary];
    for e in &d.evidence {
        if !sources.contains(&e.loc.source) {
            sources.push(e.loc.source);
        }
    }
    let mut out = Evidence::default();
    for src in sources {
        let mut pieces: Vec<Line> = Vec::new();
        if let Some(inc) = incident.filter(|i| i.source == src) {
            pieces.push(inc.excerpt.clone());
        }
        pieces.extend(
            d.evidence
                .iter()
                .filter(|e| e.loc.source == src)
                .filter_map(|e| e.line.clone()),
        );
        let mut labels: Vec<Label> = d
            .evidence
            .iter()
            .filter(|e| e.loc.source == src)
            .map(|e| Label {
                start: e.loc.span.start,
                end: e.loc.span.end,
                text: e.label.to_string(),
            })
            .collect();
        let pieces = mask_pieces(&ctx.masker, &pieces, &mut labels);
        out.add(ctx.source_name(src), &pieces, &labels, w.style.width);
    }
    out
}

/// `path:line:col: label`, compiler style: the diagnosis' primary place
/// (its first evidence, else its incident), for compact diagnoses; the
/// label goes on a line of its own when both do not fit in `width`, and a
/// path is never broken. Made visible.
fn place_line(ctx: &ReportCtx, d: &Diagnosis, width: usize) -> Option<String> {
    let loc = d.evidence.first().map(|e| e.loc).or_else(|| {
        d.incident
            .and_then(|i| ctx.analysis.incidents.get(i))
            .map(|i| i.loc)
    })?;
    let place = format!(
        "{}:{}:{}",
        visible(ctx.source_name(loc.source)),
        loc.line,
        loc.column
    );
    let label = d.evidence.first().map(|e| visible(&e.label).into_owned());
    Some(match label.filter(|l| !l.is_empty()) {
        Some(label) if text::width(&place) + 2 + text::width(&label) <= width => {
            format!("{place}: {label}")
        }
        Some(label) => format!("{place}:\n{label}"),
        None => place,
    })
}

/// Check, not this and docs, each with its hanging indent, laid out for
/// miette's footer (which indents by two and keeps two columns spare).
fn footer(w: &Writer, d: &Diagnosis, compact: bool) -> String {
    let width = w.measure().saturating_sub(4);
    let p = w.style.paint();
    let mut lines: Vec<String> = Vec::new();
    let mut para = |text: &str, head: &str| {
        let rest = " ".repeat(head.len());
        // Rule prose and docs: as written (see `diagnosis`).
        let text = format!("{head}{text}");
        lines.extend(wrap(&text, width, "", &rest).iter().map(|l| p.link_urls(l)));
    };
    if !compact {
        if let Some(check) = &d.check {
            para(check, "check: ");
        }
        for n in &d.not {
            para(n, "not this: ");
        }
    }
    let docs = if compact {
        &d.docs[..d.docs.len().min(1)]
    } else {
        &d.docs[..]
    };
    for (i, url) in docs.iter().enumerate() {
        para(url, if i == 0 { "docs: " } else { "      " });
    }
    lines.join("\n")
}

fn diagnosis(w: &mut Writer, d: &Diagnosis) {
    let compact = w.style.brief || d.severity == Severity::Info;
    let p = w.style.paint();
    // Text miette wraps: made visible, URLs linked (textwrap does not count
    // the link's escape codes as width). A rule's prose is printed as
    // written: the values filled into it were masked as they went in
    // (rules::engine::interpolate), and masking the whole text would take
    // its advice for secrets (`X-Atlassian-Token: no-check`).
    let prose = |s: &str| p.link_urls(&visible(s));
    let mut message = prose(&format!(
        "{} ({}% confidence)",
        d.title,
        (d.confidence * 100.0).round() as i64
    ));
    if compact && let Some(at) = place_line(w.ctx, d, w.measure().saturating_sub(6)) {
        message = format!("{message}\n{}", p.link_urls(&at));
    }
    let evidence = (!compact).then(|| evidence(w, d)).filter(|e| !e.is_empty());
    let shown = Shown {
        code: visible(&d.id).into_owned(),
        severity: match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        },
        url: d.docs.first().filter(|u| text::is_link_safe(u)).cloned(),
        message,
        cause: (!d.cause.is_empty()).then(|| Cause(prose(&d.cause))),
        help: (!d.fix.is_empty()).then(|| prose(&d.fix)),
        evidence,
    };
    let mut theme = if w.style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    // Labels in the diagnosis' severity colour, not miette's rotating ones.
    theme.styles.highlights = vec![match shown.severity {
        miette::Severity::Error => theme.styles.error,
        miette::Severity::Warning => theme.styles.warning,
        miette::Severity::Advice => theme.styles.advice,
    }];
    let mut handler = GraphicalReportHandler::new_themed(theme)
        .with_width(w.measure())
        .with_break_words(false)
        .with_word_separator(WordSeparator::Custom(text::words))
        .with_word_splitter(WordSplitter::NoHyphenation)
        .with_context_lines(0)
        .with_link_display_text("(docs)")
        .without_syntax_highlighting();
    // Without links the URL is not printed after the code: the footer
    // lists the docs anyway.
    handler = if w.style.links {
        handler.with_links(true)
    } else {
        handler.with_urls(false)
    };
    let footer = footer(w, d, compact);
    if !footer.is_empty() {
        handler = handler.with_footer(footer);
    }
    // Writing to a String cannot fail, and every span handed over is readable.
    let _ = handler.render_report(&mut w.out, &shown);
    w.blank();
}

/// An id to suggest for a rule written from this incident: the provider (or
/// the host's organisation) and the error code (or the status).
pub fn suggested_rule_id(incident: &Incident) -> String {
    let f = &incident.facts;
    let kebab = |s: &str| {
        let mut out = String::new();
        for c in s.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        }
        out.trim_end_matches('-').to_string()
    };
    let provider = f
        .str("provider")
        .map(kebab)
        .or_else(|| {
            // The organisation's label of the host: `api.acme.io` → `acme`.
            let host = f.str("url.host")?;
            let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
            let org = if labels.len() >= 2 {
                labels[labels.len() - 2]
            } else {
                labels.first()?
            };
            Some(kebab(org))
        })
        .filter(|p| !p.is_empty() && p.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "my".to_string());
    let what = f
        .str("error.code")
        .or_else(|| f.str("error"))
        .map(kebab)
        .filter(|s| !s.is_empty())
        .or_else(|| f.num("status").map(|s| format!("http-{}", s as i64)))
        .or_else(|| {
            f.str("exception.type")
                .map(|t| kebab(t.rsplit('.').next().unwrap_or(t)))
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "failure".to_string());
    format!("{provider}.{what}")
}

fn unexplained(w: &mut Writer, incident: &Incident) {
    let ctx = w.ctx;
    w.line("  No rule explains this failure. Write one from it:");
    let id = suggested_rule_id(incident);
    let name = ctx.source_name(incident.source);
    if name == "<stdin>" {
        w.line(&format!(
            "    (save the input to a file) faultline rules new {id} --from FILE:{}",
            incident.loc.line
        ));
    } else {
        let quoted = shell_quote(name);
        w.line(&format!(
            "    faultline rules new {id} --from {}:{}",
            visible(&quoted),
            incident.loc.line
        ));
    }
    w.blank();
}

/// A path as a POSIX shell word (quoted only when it needs to be).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@+,=".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

pub fn render_human(ctx: &ReportCtx, style: HumanStyle) -> String {
    let mut out = String::new();
    write_human(ctx, style, &mut |s| out.push_str(s));
    out
}

/// [`render_human`], handed to `sink` an incident at a time: the report of
/// hundreds of incidents is never held whole in memory.
pub fn write_human(ctx: &ReportCtx, style: HumanStyle, sink: &mut dyn FnMut(&str)) {
    let mut w = Writer {
        out: String::new(),
        style,
        ctx,
    };
    let analysis = ctx.analysis;
    for (i, incident) in analysis.incidents.iter().enumerate() {
        header(
            &mut w,
            incident,
            ctx.expected.get(i).copied().unwrap_or(false),
        );
        w.blank();
        let diags: Vec<&Diagnosis> = analysis
            .diagnoses
            .iter()
            .filter(|d| d.incident == Some(i))
            .collect();
        if diags.is_empty() {
            unexplained(&mut w, incident);
        }
        for d in diags {
            diagnosis(&mut w, d);
        }
        sink(&w.out);
        w.out.clear();
    }
    let notes: Vec<&Diagnosis> = analysis
        .diagnoses
        .iter()
        .filter(|d| d.incident.is_none())
        .collect();
    if !notes.is_empty() {
        if style.brief {
            let n = notes.len();
            w.line(&format!(
                "── {n} note{} on the input (shown without --brief) ──",
                if n == 1 { "" } else { "s" }
            ));
            w.blank();
        } else {
            w.line("── Notes on the input ──");
            w.blank();
            for d in notes {
                diagnosis(&mut w, d);
            }
        }
    }
    if analysis.incidents.is_empty() && analysis.diagnoses.is_empty() && style.summary {
        w.line("No failing API call found in the input.");
    }
    if style.summary {
        for line in summary(ctx).lines() {
            w.para(line, "", "  ");
        }
    }
    sink(&w.out);
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else if word.ends_with("sis") {
        format!("{n} {}es", &word[..word.len() - 2])
    } else {
        format!("{n} {word}s")
    }
}

/// `faultline: 1 source (3399 bytes), 1 incident, 5 diagnoses (3 error, …), 31 rules loaded`,
/// then which user rules were loaded and which built-in rules they replace.
pub fn summary(ctx: &ReportCtx) -> String {
    let a = ctx.analysis;
    let bytes: u64 = a.sources.iter().map(|s| s.bytes).sum();
    let count = |s: Severity| a.diagnoses.iter().filter(|d| d.severity == s).count();
    let expected = ctx.expected.iter().filter(|&&e| e).count();
    let incidents = match expected {
        0 => plural(a.incidents.len(), "incident"),
        n => format!(
            "{} ({n} expected, not failing)",
            plural(a.incidents.len(), "incident")
        ),
    };
    let mut out = format!(
        "faultline: {} ({bytes} bytes), {incidents}, {} ({} error, {} warning, {} info), {} loaded\n",
        plural(a.sources.len(), "source"),
        plural(a.diagnoses.len(), "diagnosis"),
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
        plural(ctx.rules.rules.len(), "rule"),
    );
    for dir in &ctx.rule_dirs {
        let mut line = format!(
            "faultline: {} from {} ({})",
            plural(dir.rules, "user rule"),
            visible(&dir.path),
            dir.from
        );
        if !dir.overrides.is_empty() {
            let list: Vec<String> = dir
                .overrides
                .iter()
                .map(|o| format!("{} ({})", o.id, o.replaces))
                .collect();
            line.push_str(&format!("; overriding {}", list.join(", ")));
        }
        out.push_str(&visible(&line));
        out.push('\n');
    }
    out
}
