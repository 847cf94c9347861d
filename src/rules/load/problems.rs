//! Problems found in rule files, rendered like compiler errors (miette):
//! each carries the file's text and the exact span it concerns.

use std::ops::Range;
use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};

/// A problem in a rule file (or with a rules path), rendered by miette with
/// the file's text. `code` is a stable kebab-case name (`rule::bad-regex`),
/// documented in docs/rules.md.
#[derive(Debug, Clone)]
pub struct RuleProblem {
    pub message: String,
    /// The file's text; `None` when the file could not be read at all.
    pub source_code: Option<NamedSource<Arc<String>>>,
    pub span: Option<SourceSpan>,
    pub label: String,
    pub help: Option<String>,
    pub code: String,
    /// The rule file (or rules path) the problem is about.
    pub file: String,
    /// Secondary places, e.g. where a duplicate id was first defined.
    pub related: Vec<RuleProblem>,
    pub severity: miette::Severity,
}

impl std::fmt::Display for RuleProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuleProblem {}

impl Diagnostic for RuleProblem {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source_code
            .as_ref()
            .map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let span = self.span?;
        let label = (!self.label.is_empty()).then(|| self.label.clone());
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(label, span),
        )))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|r| r as &dyn Diagnostic)))
    }
}

impl RuleProblem {
    /// 1-based line of the problem, 0 when it has no place in a file.
    pub fn line(&self) -> usize {
        match (&self.source_code, self.span) {
            (Some(src), Some(span)) => {
                let text = src.inner();
                text[..span.offset().min(text.len())].matches('\n').count() + 1
            }
            _ => 0,
        }
    }

    /// A rules path that does not exist or cannot be read.
    pub fn unreadable(path: &str, message: impl Into<String>) -> Self {
        RuleProblem {
            message: message.into(),
            source_code: None,
            span: None,
            label: String::new(),
            help: Some(
                "check `--rules`, `FAULTLINE_RULES` and the rules directories; the other rules still run"
                    .into(),
            ),
            code: "rule::unreadable".into(),
            file: path.to_string(),
            related: Vec::new(),
            severity: miette::Severity::Error,
        }
    }

    /// A problem at `span` of `source`.
    pub fn at(
        source: &super::RuleSource,
        code: &str,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
        help: Option<String>,
    ) -> Self {
        let text = source.text();
        // A span past the text (a file read late, changed since its rules
        // were cached) cannot be shown: the problem goes without its place.
        let fits = span.start <= span.end && text.get(span.clone()).is_some();
        RuleProblem {
            message: message.into(),
            source_code: fits.then(|| NamedSource::new(source.name.clone(), text.clone())),
            span: fits.then(|| span.into()),
            label: label.into(),
            help,
            code: code.into(),
            file: source.name.clone(),
            related: Vec::new(),
            severity: miette::Severity::Error,
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == miette::Severity::Error
    }

    pub fn offset(&self) -> usize {
        self.span.map_or(0, |s| s.offset())
    }
}

/// "did you mean `x`?" for the candidate closest to `word`, if any is close.
pub fn did_you_mean(word: &str, candidates: &[&str]) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The candidate closest to `word`, if one is close enough to be a typo.
pub fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    // Jaro-Winkler is costly on long strings and long lists; a typo rarely
    // changes a word's length by more than a few characters.
    let len = word.chars().count();
    candidates
        .iter()
        .filter(|c| c.len().abs_diff(len) <= 4 && **c != word)
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Characters of a value quoted in a problem message before it is shortened.
const QUOTE_CHARS: usize = 60;

/// A value from a rule file as a problem message quotes it: shortened when
/// long (a 1 MB pattern must not fill the terminal), with its size.
pub fn quote(value: &str) -> String {
    let chars = value.chars().count();
    if chars <= QUOTE_CHARS {
        return value.to_string();
    }
    let head: String = value.chars().take(QUOTE_CHARS - 20).collect();
    format!("{head}… ({} bytes)", value.len())
}
