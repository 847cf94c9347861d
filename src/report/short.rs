//! The compiler-style listing (`--format short`): one line per failing call,
//! `path:line:col: severity rule-id: title`, sorted by file, line and
//! column, pointing at the evidence of its best diagnosis; then one line per
//! note on the input. Unexplained failures are listed too (`unexplained`
//! in place of a rule id). `all` lists every diagnosis instead of the best.

use super::ReportCtx;
use super::text::visible;
use crate::rank::Diagnosis;

struct Entry {
    name: String,
    line: usize,
    column: usize,
    /// Incident order, then rank: keeps ties in report order.
    order: (usize, usize),
    text: String,
}

fn place(ctx: &ReportCtx, d: &Diagnosis) -> (String, usize, usize) {
    let loc = d.evidence.first().map(|e| e.loc).or_else(|| {
        d.incident
            .and_then(|i| ctx.analysis.incidents.get(i))
            .map(|i| i.loc)
    });
    match loc {
        Some(l) => (ctx.source_name(l.source).to_string(), l.line, l.column),
        None => (ctx.source_name(0).to_string(), 0, 0),
    }
}

fn one_line(ctx: &ReportCtx, s: &str) -> String {
    visible(&ctx.mask(s)).into_owned()
}

pub fn render_short(ctx: &ReportCtx) -> String {
    render_short_with(ctx, false)
}

pub fn render_short_with(ctx: &ReportCtx, all: bool) -> String {
    let a = ctx.analysis;
    let mut entries: Vec<Entry> = Vec::new();
    for (i, incident) in a.incidents.iter().enumerate() {
        let diags: Vec<(usize, &Diagnosis)> = a
            .diagnoses
            .iter()
            .enumerate()
            .filter(|(_, d)| d.incident == Some(i))
            .collect();
        if diags.is_empty() {
            entries.push(Entry {
                name: ctx.source_name(incident.source).to_string(),
                line: incident.loc.line,
                column: incident.loc.column,
                order: (i, 0),
                text: format!("error unexplained: {}", one_line(ctx, &incident.headline())),
            });
            continue;
        }
        let shown = if all { diags.len() } else { 1 };
        for &(rank, d) in diags.iter().take(shown) {
            let (name, line, column) = place(ctx, d);
            let more = diags.len() - 1;
            let alternatives = if !all && more > 0 {
                format!(" (+{more} other cause{})", if more == 1 { "" } else { "s" })
            } else {
                String::new()
            };
            entries.push(Entry {
                name,
                line,
                column,
                order: (i, rank),
                text: format!(
                    "{} {}: {}{alternatives}",
                    d.severity.as_str(),
                    d.id,
                    visible(&d.title).into_owned()
                ),
            });
        }
    }
    for (rank, d) in a.diagnoses.iter().enumerate() {
        if d.incident.is_some() {
            continue;
        }
        let (name, line, column) = place(ctx, d);
        entries.push(Entry {
            name,
            line,
            column,
            order: (usize::MAX, rank),
            text: format!(
                "{} {}: {}",
                d.severity.as_str(),
                d.id,
                visible(&d.title).into_owned()
            ),
        });
    }
    entries.sort_by(|x, y| {
        (&x.name, x.line, x.column, x.order).cmp(&(&y.name, y.line, y.column, y.order))
    });
    let mut out = String::new();
    for e in entries {
        out.push_str(&format!(
            "{}:{}:{}: {}\n",
            visible(&e.name),
            e.line,
            e.column,
            e.text
        ));
    }
    out
}
