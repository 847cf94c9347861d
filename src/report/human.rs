//! The human report: per failing call a header line, then each diagnosis —
//! its title, cause, the evidence drawn under the user's own lines, the fix,
//! how to confirm it, what it is not, and its sources — laid out for the
//! terminal's width. Info-level notes are compact; `--brief` keeps only
//! titles, causes and fixes.

use super::snippet::{self, Label};
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
        let masked = self.ctx.masker.string(text);
        for l in wrap(&masked, self.measure(), first, rest) {
            self.line(&l);
        }
    }

    fn severity_word(&self, s: Severity) -> String {
        let p = self.style.paint();
        match s {
            Severity::Error => p.red("error"),
            Severity::Warning => p.yellow("warning"),
            Severity::Info => p.cyan("info"),
        }
    }

    fn paint_for(&self, s: Severity) -> impl Fn(&str) -> String + use<> {
        let p = self.style.paint();
        move |t: &str| match s {
            Severity::Error => p.red(t),
            Severity::Warning => p.yellow(t),
            Severity::Info => p.cyan(t),
        }
    }
}

/// `POST https://host/path → 403 invalid_grant ── run.log:7`, or on two
/// lines when it does not fit: the URL is never cut.
fn header(w: &mut Writer, incident: &Incident) {
    let ctx = w.ctx;
    let p = w.style.paint();
    let headline = visible(&ctx.masker.string(&incident.headline())).into_owned();
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
    if !incident.repeats.is_empty() {
        let n = incident.repeats.len();
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
}

/// `error rule.id: Title (90% confidence)`, the id linked to its first source.
fn title(w: &mut Writer, d: &Diagnosis) {
    let p = w.style.paint();
    let title = format!(
        "{} ({}% confidence)",
        w.ctx.masker.string(&d.title),
        (d.confidence * 100.0).round() as i64
    );
    let prefix_plain = format!("{} {}: ", d.severity.as_str(), d.id);
    // Continuation lines hang under the rule id, apart from the cause below.
    let hang = " ".repeat(d.severity.as_str().len() + 1);
    let lines = wrap(&title, w.measure(), &prefix_plain, &hang);
    let id = match d.docs.first() {
        Some(url) => p.link(url, &p.bold(&d.id)),
        None => p.bold(&d.id),
    };
    let prefix = format!("{} {id}: ", w.severity_word(d.severity));
    for (i, l) in lines.iter().enumerate() {
        let l = if i == 0 {
            format!("{prefix}{}", &l[prefix_plain.len()..])
        } else {
            l.clone()
        };
        // Title lines are not re-linked: the id already is.
        w.out.push_str(&l);
        w.out.push('\n');
    }
}

/// The lines evidence is drawn in, per source: the incident's own excerpt
/// and the lines the evidence came from, masked.
fn evidence_blocks(w: &mut Writer, d: &Diagnosis) {
    let ctx = w.ctx;
    let analysis = ctx.analysis;
    let incident = d.incident.and_then(|i| analysis.incidents.get(i));
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
    let paint_label = w.paint_for(d.severity);
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
                text: ctx.masker.string(&e.label),
            })
            .collect();
        let pieces = mask_pieces(&ctx.masker, &pieces, &mut labels);
        let rendered = snippet::render(
            ctx.source_name(src),
            &pieces,
            &labels,
            w.style.width,
            w.style.paint(),
            &paint_label,
        );
        for l in rendered {
            w.out.push_str(&l);
            w.out.push('\n');
        }
    }
}

/// `path:line:col`, the diagnosis' primary place (its first evidence, else
/// its incident).
fn primary_place(ctx: &ReportCtx, d: &Diagnosis) -> Option<(String, usize, usize)> {
    let loc = d.evidence.first().map(|e| e.loc).or_else(|| {
        d.incident
            .and_then(|i| ctx.analysis.incidents.get(i))
            .map(|i| i.loc)
    })?;
    Some((
        ctx.source_name(loc.source).to_string(),
        loc.line,
        loc.column,
    ))
}

/// `at path:line:col: label`; the label goes below when the line is full.
fn at_line(w: &mut Writer, d: &Diagnosis) {
    let Some((name, line, col)) = primary_place(w.ctx, d) else {
        return;
    };
    let place = format!("  at {}:{line}:{col}", visible(&name));
    let label = d
        .evidence
        .first()
        .map(|e| visible(&w.ctx.masker.string(&e.label)).into_owned())
        .filter(|l| !l.is_empty());
    match label {
        None => w.line(&place),
        Some(label) if text::width(&place) + 2 + text::width(&label) <= w.measure() => {
            w.line(&format!("{place}: {label}"))
        }
        Some(label) => {
            w.line(&format!("{place}:"));
            w.para(&label, "     ", "     ");
        }
    }
}

fn docs_lines(w: &mut Writer, d: &Diagnosis, all: bool) {
    let docs: Vec<&String> = if all {
        d.docs.iter().collect()
    } else {
        d.docs.iter().take(1).collect()
    };
    for (i, url) in docs.iter().enumerate() {
        let prefix = if i == 0 { "  docs: " } else { "        " };
        w.line(&format!("{prefix}{}", visible(url)));
    }
}

fn full(w: &mut Writer, d: &Diagnosis) {
    title(w, d);
    w.para(&d.cause, "  ", "  ");
    evidence_blocks(w, d);
    w.para(&format!("fix: {}", d.fix), "  ", "       ");
    if let Some(check) = &d.check {
        w.para(&format!("check: {check}"), "  ", "         ");
    }
    for n in &d.not {
        w.para(&format!("not this: {n}"), "  ", "            ");
    }
    docs_lines(w, d, true);
}

/// Info notes and `--brief`: the title, where, the cause, the fix.
fn compact(w: &mut Writer, d: &Diagnosis) {
    title(w, d);
    at_line(w, d);
    w.para(&d.cause, "  ", "  ");
    w.para(&format!("fix: {}", d.fix), "  ", "       ");
    docs_lines(w, d, false);
}

fn diagnosis(w: &mut Writer, d: &Diagnosis) {
    if w.style.brief || d.severity == Severity::Info {
        compact(w, d);
    } else {
        full(w, d);
    }
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
    let mut w = Writer {
        out: String::new(),
        style,
        ctx,
    };
    let analysis = ctx.analysis;
    for (i, incident) in analysis.incidents.iter().enumerate() {
        header(&mut w, incident);
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
    w.out
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
    let mut out = format!(
        "faultline: {} ({bytes} bytes), {}, {} ({} error, {} warning, {} info), {} loaded\n",
        plural(a.sources.len(), "source"),
        plural(a.incidents.len(), "incident"),
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
