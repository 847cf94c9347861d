//! Stage 7, report: human (miette), JSON and short renderings of an
//! [`Analysis`]. Every string printed passes through the [`Masker`].

mod human;
mod incidents;
mod json;
mod short;
mod snippet;

pub use human::{HumanStyle, render_human};
pub use incidents::render_incidents;
pub use json::render_json;
pub use short::render_short;

use crate::Analysis;
use crate::mask::Masker;
use crate::rules::RuleSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Explained diagnoses with the evidence highlighted (miette).
    Human,
    /// Machine-readable, schema `faultline/report@1`.
    Json,
    /// One line per diagnosis: `source:line: severity rule-id: title`.
    Short,
    /// Each incident's facts with where they were read (masked): what the
    /// parsers understood, for checking them and for writing rules.
    Incidents,
}

/// Everything a reporter needs.
pub struct ReportCtx<'a> {
    pub analysis: &'a Analysis,
    pub rules: &'a RuleSet,
    pub masker: Masker,
}

impl ReportCtx<'_> {
    pub fn source_name(&self, id: usize) -> &str {
        self.analysis
            .sources
            .get(id)
            .map(|s| s.name.as_str())
            .unwrap_or("<input>")
    }
}

pub fn render(format: Format, ctx: &ReportCtx, style: HumanStyle) -> String {
    match format {
        Format::Human => render_human(ctx, style),
        Format::Json => render_json(ctx),
        Format::Short => render_short(ctx),
        Format::Incidents => render_incidents(ctx),
    }
}
