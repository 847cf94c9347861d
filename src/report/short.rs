//! One line per diagnosis: `source:line: severity rule-id: title`.

use super::ReportCtx;

pub fn render_short(ctx: &ReportCtx) -> String {
    let a = ctx.analysis;
    let mut out = String::new();
    for d in &a.diagnoses {
        let (source, line) = match d.incident.map(|i| &a.incidents[i]) {
            Some(inc) => (inc.source, inc.loc.line),
            None => d
                .evidence
                .first()
                .map(|e| (e.loc.source, e.loc.line))
                .unwrap_or((0, 0)),
        };
        out.push_str(&format!(
            "{}:{}: {} {}: {}\n",
            ctx.source_name(source),
            line,
            d.severity.as_str(),
            d.id,
            ctx.masker.string(&d.title)
        ));
    }
    out
}
