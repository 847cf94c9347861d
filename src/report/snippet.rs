//! A miette source made only of the lines an incident kept, so evidence can be
//! rendered without holding whole sources in memory.

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::facts::Line;
use crate::mask::{Masked, Masker};

/// Lines of one source, sorted and merged where they touch.
#[derive(Debug, Clone)]
pub struct SparseSource {
    name: String,
    pieces: Vec<Line>,
    /// Per piece when masked: its offset and length in the source, and how
    /// masking moved offsets inside it.
    masks: Vec<(usize, usize, Masked)>,
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
        SparseSource {
            name,
            pieces,
            masks: Vec::new(),
        }
    }

    /// Like [`SparseSource::new`], each piece masked. Masks are not the
    /// length of the secrets they hide, so pieces move: spans in the
    /// source's offsets are placed with [`SparseSource::map`].
    pub fn masked(name: String, lines: Vec<Line>, masker: &Masker) -> Self {
        let mut source = Self::new(name, lines);
        let mut delta: isize = 0;
        for piece in &mut source.pieces {
            let masked = masker.masked(&piece.text);
            let (offset, len) = (piece.offset, piece.text.len());
            piece.offset = offset.saturating_add_signed(delta);
            delta += masked.text.len() as isize - len as isize;
            piece.text = masked.text.clone();
            source.masks.push((offset, len, masked));
        }
        source
    }

    /// Where a span of the source (offset, length) is in this source's
    /// (masked) text; `None` when no piece holds it.
    pub fn map(&self, offset: usize, len: usize) -> Option<(usize, usize)> {
        if self.masks.is_empty() {
            return self.covers(offset, len).then_some((offset, len));
        }
        let i = self
            .masks
            .iter()
            .position(|(o, l, _)| *o <= offset && offset + len <= o + l)?;
        let (o, _, masked) = &self.masks[i];
        let r = masked.map_range(offset - o, offset - o + len);
        Some((self.pieces[i].offset + r.start, r.len()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_pieces_keep_spans_on_their_text() {
        let first = "Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123 x=1";
        let second = "HTTP/1.1 401 Unauthorized";
        let lines = vec![
            Line {
                source: 0,
                offset: 100,
                number: 5,
                text: first.into(),
            },
            Line {
                source: 0,
                offset: 200,
                number: 9,
                text: second.into(),
            },
        ];
        let source = SparseSource::masked(
            "x".into(),
            lines,
            &Masker {
                show_secrets: false,
            },
        );
        let text = |(o, l): (usize, usize)| {
            let piece = source
                .pieces
                .iter()
                .find(|p| p.offset <= o && o + l <= p.offset + p.text.len())
                .unwrap();
            piece.text[o - piece.offset..o - piece.offset + l].to_string()
        };
        // After the mask on the same line, and on a later piece.
        let x = 100 + first.find("x=1").unwrap();
        assert_eq!(text(source.map(x, 3).unwrap()), "x=1");
        assert_eq!(text(source.map(209, 3).unwrap()), "401");
        // A span over the secret covers the mask.
        let tok = 100 + first.find("abc").unwrap();
        assert_eq!(text(source.map(tok, 30).unwrap()), "********");
        assert!(source.map(150, 100).is_none());
    }
}
