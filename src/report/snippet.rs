//! A miette source made only of the lines an incident kept, so evidence can be
//! rendered without holding whole sources in memory.

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::facts::Line;

/// Lines of one source, sorted and merged where they touch.
#[derive(Debug, Clone)]
pub struct SparseSource {
    name: String,
    pieces: Vec<Line>,
}

impl SparseSource {
    pub fn new(name: String, mut lines: Vec<Line>) -> Self {
        lines.sort_by_key(|l| l.offset);
        let mut pieces: Vec<Line> = Vec::new();
        for line in lines {
            if let Some(last) = pieces.last_mut() {
                let last_end = last.offset + last.text.len();
                let end = line.offset + line.text.len();
                if end <= last_end {
                    continue;
                }
                if line.offset <= last_end + 1 {
                    if line.offset == last_end + 1 {
                        last.text.push('\n');
                        last.text.push_str(&line.text);
                    } else {
                        let skip = last_end - line.offset;
                        if let Some(tail) = line.text.get(skip..) {
                            last.text.push_str(tail);
                        }
                    }
                    continue;
                }
            }
            pieces.push(line);
        }
        SparseSource { name, pieces }
    }

    pub fn covers(&self, offset: usize, len: usize) -> bool {
        self.piece(offset, len).is_some()
    }

    fn piece(&self, offset: usize, len: usize) -> Option<&Line> {
        self.pieces
            .iter()
            .find(|p| p.offset <= offset && offset + len <= p.offset + p.text.len())
    }
}

impl SourceCode for SparseSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let piece = self
            .piece(span.offset(), span.len())
            .ok_or(MietteError::OutOfBounds)?;
        let local = SourceSpan::new((span.offset() - piece.offset).into(), span.len());
        let inner =
            piece
                .text
                .as_str()
                .read_span(&local, context_lines_before, context_lines_after)?;
        let inner_span = inner.span();
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            SourceSpan::new(
                (inner_span.offset() + piece.offset).into(),
                inner_span.len(),
            ),
            inner.line() + piece.number - 1,
            inner.column(),
            inner.line_count(),
        )))
    }
}
