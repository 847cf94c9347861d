//! The incidents view (`--format incidents`): every incident's facts, one
//! per line with where it was read, masked. For checking what the parsers
//! understood and for writing rules against real facts.

use super::ReportCtx;
use super::text::{push_visible, visible};

/// Longest value shown; longer ones are cut with `…`.
const MAX_VALUE: usize = 160;

fn show(value: &str) -> String {
    let mut v: String = value
        .chars()
        .map(|c| match c {
            '\n' => '⏎',
            c => c,
        })
        .fold(String::new(), |mut out, c| {
            push_visible(&mut out, c);
            out
        });
    if v.len() > MAX_VALUE {
        v.truncate(v.floor_char_boundary(MAX_VALUE));
        v.push('…');
    }
    v
}

pub fn render_incidents(ctx: &ReportCtx) -> String {
    let a = ctx.analysis;
    let mut out = String::new();
    for (n, inc) in a.incidents.iter().enumerate() {
        let last_line = inc.excerpt.number
            + inc
                .excerpt
                .text
                .trim_end_matches('\n')
                .matches('\n')
                .count();
        out.push_str(&format!(
            "── incident {} ── {}:{}-{}\n{}\n",
            n + 1,
            visible(ctx.source_name(inc.source)),
            inc.excerpt.number,
            last_line,
            visible(&ctx.mask(&inc.headline()))
        ));
        if inc.repeat_count > 0 {
            out.push_str(&format!(
                "  repeats {} more time(s): {}\n",
                inc.repeat_count,
                inc.repeat_places(|s| ctx.source_name(s), usize::MAX)
            ));
        }
        for note in &inc.notes {
            out.push_str(&format!("  note: {note}\n"));
        }
        for (name, values) in inc.facts.iter() {
            if name == "text" {
                continue;
            }
            for v in values {
                let at = v
                    .loc
                    .map(|l| format!("  @{}:{}", l.line, l.column))
                    .unwrap_or_default();
                // Mask the whole `name = value`: the name is what tells a
                // cookie or a password apart.
                let line = format!("{name} = {}", show(&v.value.to_string()));
                out.push_str(&format!("  {}{at}\n", ctx.mask(&line)));
            }
        }
        out.push('\n');
    }
    if a.incidents.is_empty() {
        out.push_str("No failing API call found in the input.\n");
    }
    out
}
