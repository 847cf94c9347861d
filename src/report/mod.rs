//! Stage 7, report: human, short, JSON and incidents renderings of an
//! [`Analysis`]. Every string printed passes through the [`Masker`], and
//! every human and short output makes the input's control characters
//! visible ([`text::visible`]).

mod human;
mod incidents;
pub mod json;
pub mod jsonl;
mod short;
mod snippet;
pub mod text;

pub use human::{HumanStyle, render_human, shell_quote, suggested_rule_id, summary, write_human};
pub use incidents::render_incidents;
pub use json::{REPORT_SCHEMA, render_json, write_json};
pub use short::{render_short, render_short_with};

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use foldhash::HashMap;

use crate::Analysis;
use crate::facts::Line;
use crate::mask::{Masked, Masker};
use crate::rules::RuleSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Explained diagnoses with the evidence drawn under your lines.
    Human,
    /// Machine-readable, schema `faultline/report@1` (docs/report.md).
    Json,
    /// One line per failing call, compiler style:
    /// `path:line:col: severity rule-id: title`.
    Short,
    /// One JSON object per line, written as the run goes: a header, each
    /// failing call and its diagnoses, problems, a summary (docs/report.md).
    Jsonl,
    /// Each incident's facts with where they were read (masked): what the
    /// parsers understood, for checking them and for writing rules.
    Incidents,
}

/// User rules loaded from one directory (or file), for the summary and the
/// JSON report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleDir {
    pub path: String,
    /// Where the path came from: `config`, `project`, `FAULTLINE_RULES`, `--rules`.
    pub from: String,
    /// How many rules loaded from it.
    pub rules: usize,
    /// Rules from here that replace a rule of the same id.
    pub overrides: Vec<Override>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Override {
    pub id: String,
    /// `built-in`, or the path of the user rule file it replaces.
    pub replaces: String,
}

/// A problem outside the analysis proper: an input that could not be read
/// or was skipped, a rule file that did not load.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Problem {
    /// `input` or `rules`.
    pub kind: &'static str,
    /// `error` (exit status 2) or `note` (e.g. a binary file skipped).
    pub severity: &'static str,
    /// Stable kebab-case name, e.g. `input::unreadable`, `rule::bad-regex`.
    pub code: String,
    /// The input or rule file concerned.
    pub source: String,
    /// 1-based line in `source`, when the problem has a place.
    pub line: Option<usize>,
    pub message: String,
}

/// Everything a reporter needs.
pub struct ReportCtx<'a> {
    pub analysis: &'a Analysis,
    pub rules: &'a RuleSet,
    pub masker: Masker,
    /// User rule directories that loaded, for the summary.
    pub rule_dirs: Vec<RuleDir>,
    /// Input and rule problems, for the JSON report.
    pub problems: Vec<Problem>,
    /// Incident ids start after this (a streamed batch continues the
    /// numbering of the batches before it).
    pub first_id: usize,
    /// Per incident: the API working as designed, not a failure (see
    /// [`Analysis::expected_incidents`]).
    pub expected: Vec<bool>,
    /// Texts masked so far (see [`MaskMemo`]).
    memo: MaskMemo,
}

/// Masked texts a report has made, by text. Masking runs a dozen patterns
/// over a text, and a report masks the same texts again and again: every
/// diagnosis of an incident masks the incident's excerpt for its evidence,
/// and diagnoses of one rule share its prose. With a pack whose hundreds
/// of rules all hold for a failure, masking the same excerpt was most of a
/// JSON report's time. Bounded: past `MASK_MEMO_BYTES` it starts afresh.
#[derive(Default)]
struct MaskMemo {
    strings: RefCell<HashMap<Box<str>, Box<str>>>,
    excerpts: RefCell<HashMap<Box<str>, Rc<Masked>>>,
    bytes: Cell<usize>,
}

/// About what [`MaskMemo`] may hold.
const MASK_MEMO_BYTES: usize = 4 << 20;

impl MaskMemo {
    /// Counts `bytes` more held, first emptying the memo when it is full.
    fn make_room(&self, bytes: usize) {
        if self.bytes.get() + bytes > MASK_MEMO_BYTES {
            self.strings.borrow_mut().clear();
            self.excerpts.borrow_mut().clear();
            self.bytes.set(0);
        }
        self.bytes.set(self.bytes.get() + bytes);
    }
}

impl<'a> ReportCtx<'a> {
    pub fn new(analysis: &'a Analysis, rules: &'a RuleSet, masker: Masker) -> Self {
        ReportCtx {
            analysis,
            rules,
            masker,
            rule_dirs: Vec::new(),
            problems: Vec::new(),
            first_id: 0,
            expected: analysis.expected_incidents(),
            memo: MaskMemo::default(),
        }
    }

    /// `text` masked (as the masker masks it), remembered for the next time.
    pub fn mask(&self, text: &str) -> String {
        if self.masker.show_secrets {
            return text.to_string();
        }
        if let Some(done) = self.memo.strings.borrow().get(text) {
            return done.to_string();
        }
        let masked = self.masker.apply(text).into_owned();
        self.memo.make_room(text.len() + masked.len());
        self.memo
            .strings
            .borrow_mut()
            .insert(text.into(), masked.as_str().into());
        masked
    }

    /// `text` masked with its offset map (see [`Masker::masked`]),
    /// remembered for the next time.
    pub fn masked(&self, text: &str) -> Rc<Masked> {
        if self.masker.show_secrets {
            return Rc::new(Masked::unmasked(text));
        }
        if let Some(done) = self.memo.excerpts.borrow().get(text) {
            return Rc::clone(done);
        }
        let masked = Rc::new(self.masker.masked(text));
        self.memo.make_room(text.len() + masked.text.len());
        self.memo
            .excerpts
            .borrow_mut()
            .insert(text.into(), Rc::clone(&masked));
        masked
    }

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
        // The exit status is the caller's; a whole-analysis render says 0.
        Format::Jsonl => jsonl::render_jsonl(ctx, 0),
    }
}

/// Masks kept lines for display and moves the labels with the text: a mask
/// is not the length of the secret it hides, so each label is placed
/// through the masking's offset map ([`crate::mask::Masked`]); a label over
/// part of a secret covers the whole mask.
pub(crate) fn mask_pieces(
    masker: &Masker,
    pieces: &[Line],
    labels: &mut [snippet::Label],
) -> Vec<Line> {
    let mut out = Vec::with_capacity(pieces.len());
    // A label is moved once, by the piece it starts in (once moved, its
    // offsets could fall inside a later piece).
    let mut moved = vec![false; labels.len()];
    for piece in pieces {
        let masked = masker.masked(&piece.text);
        if masked.changed() {
            let end = piece.offset + piece.text.len();
            for (label, moved) in labels.iter_mut().zip(moved.iter_mut()) {
                if *moved || label.start < piece.offset || label.start > end {
                    continue;
                }
                let r = masked.map_range(
                    label.start - piece.offset,
                    label.end.min(end) - piece.offset,
                );
                label.start = piece.offset + r.start;
                label.end = piece.offset + r.end;
                *moved = true;
            }
        }
        out.push(Line {
            text: masked.text,
            ..piece.clone()
        });
    }
    out
}
