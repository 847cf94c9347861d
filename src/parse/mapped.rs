//! Text that is not verbatim in the input — a JSON string unescaped, log
//! lines joined without their repeated prefix — with a map from its byte
//! offsets back to the input, so fields read from it still point at the
//! user's own bytes (never at wrong ones).

use crate::input::Span;

use super::Field;

/// One run of the text: `text_len` bytes at `text` came from `raw_len`
/// bytes at absolute offset `raw`. A run is verbatim when the lengths are
/// equal (offsets map one to one); otherwise it is one escape sequence,
/// which maps as a whole.
#[derive(Debug, Clone, Copy)]
struct Run {
    text: usize,
    raw: usize,
    text_len: usize,
    raw_len: usize,
    verbatim: bool,
}

/// A text built piece by piece, with its map back to the input.
#[derive(Debug, Default, Clone)]
pub struct Mapped {
    pub text: String,
    runs: Vec<Run>,
}

impl Mapped {
    /// Appends `s`, which is verbatim at absolute offset `raw`.
    pub fn push_verbatim(&mut self, s: &str, raw: usize) {
        if s.is_empty() {
            return;
        }
        let at = self.text.len();
        self.text.push_str(s);
        if let Some(last) = self.runs.last_mut()
            && last.verbatim
            && last.text + last.text_len == at
            && last.raw + last.raw_len == raw
        {
            last.text_len += s.len();
            last.raw_len += s.len();
            return;
        }
        self.runs.push(Run {
            text: at,
            raw,
            text_len: s.len(),
            raw_len: s.len(),
            verbatim: true,
        });
    }

    /// Appends `s`, which stands for the `raw_len` input bytes at `raw`
    /// (an escape sequence, or a separator the input does not have when
    /// `raw_len` is 0).
    pub fn push_mapped(&mut self, s: &str, raw: usize, raw_len: usize) {
        if s.is_empty() {
            return;
        }
        let at = self.text.len();
        self.text.push_str(s);
        self.runs.push(Run {
            text: at,
            raw,
            text_len: s.len(),
            raw_len,
            verbatim: false,
        });
    }

    fn run_at(&self, pos: usize) -> Option<&Run> {
        let i = self.runs.partition_point(|r| r.text <= pos);
        self.runs.get(i.checked_sub(1)?)
    }

    /// Absolute offset where the text byte at `pos` came from.
    fn start(&self, pos: usize) -> Option<usize> {
        let r = self.run_at(pos)?;
        Some(if r.verbatim {
            r.raw + (pos - r.text)
        } else {
            r.raw
        })
    }

    /// Absolute offset just after the input bytes that text byte `end - 1`
    /// came from.
    fn end(&self, end: usize) -> Option<usize> {
        let r = self.run_at(end.checked_sub(1)?)?;
        Some(if r.verbatim {
            r.raw + (end - r.text)
        } else {
            r.raw + r.raw_len
        })
    }

    /// The input span that text bytes `start..end` came from.
    pub fn span(&self, start: usize, end: usize) -> Option<Span> {
        let s = self.start(start)?;
        if end <= start {
            return Some(Span::new(s, s));
        }
        Some(Span::new(s, self.end(end)?.max(s)))
    }

    /// The input span of a subslice of `self.text`.
    pub fn span_of(&self, sub: &str) -> Option<Span> {
        let start = (sub.as_ptr() as usize).checked_sub(self.text.as_ptr() as usize)?;
        if start + sub.len() > self.text.len() {
            return None;
        }
        self.span(start, start + sub.len())
    }

    /// Bytes `start..end` of the text as a mapped text of their own.
    pub fn slice(&self, start: usize, end: usize) -> Mapped {
        let mut out = Mapped::default();
        let end = end.min(self.text.len());
        let mut k = start;
        while k < end {
            let next = (k + 1..=end)
                .find(|&e| self.text.is_char_boundary(e))
                .unwrap_or(end);
            match self.span(k, next) {
                Some(span) if span.len() == next - k => {
                    out.push_verbatim(&self.text[k..next], span.start)
                }
                Some(span) => out.push_mapped(&self.text[k..next], span.start, span.len()),
                None => {}
            }
            k = next;
        }
        out
    }

    /// Moves fields whose spans are offsets into `self.text` (base 0) onto
    /// the input; a field whose span cannot be mapped points at `whole`.
    pub fn remap(&self, fields: Vec<Field>, whole: Span) -> Vec<Field> {
        fields
            .into_iter()
            .map(|f| {
                let span = self.span(f.span.start, f.span.end).unwrap_or(whole);
                Field { span, ..f }
            })
            .collect()
    }
}

/// Unescapes the string literal that starts at `lit` (its opening quote,
/// `"` or `'`), which sits at absolute offset `raw`. JSON escapes, `\'`
/// and Python's `\xNN`; the literal must end on the same line. Returns the
/// content with its map, and the literal's length in bytes.
pub fn unescape_literal(lit: &str, raw: usize) -> Option<(Mapped, usize)> {
    let quote = *lit.as_bytes().first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let (m, len) = unescape_until(&lit[1..], quote, raw + 1)?;
    Some((m, len + 2))
}

/// Unescapes `s` (at absolute offset `raw`) up to the first unescaped
/// `quote`, which must come before the line ends: the rest of a string
/// literal whose opening quote came earlier. Returns the content with its
/// map, and its length in the input (without the closing quote).
pub fn unescape_until(s: &str, quote: u8, raw: usize) -> Option<(Mapped, usize)> {
    let bytes = s.as_bytes();
    let mut out = Mapped::default();
    let mut pos = 0;
    let mut run = 0;
    loop {
        let b = *bytes.get(pos)?;
        if b == quote {
            out.push_verbatim(&s[run..pos], raw + run);
            return Some((out, pos));
        }
        if b == b'\n' {
            return None;
        }
        if b != b'\\' {
            pos += 1;
            continue;
        }
        out.push_verbatim(&s[run..pos], raw + run);
        let esc = *bytes.get(pos + 1)?;
        let (decoded, len): (String, usize) = match esc {
            b'n' => ("\n".into(), 2),
            b't' => ("\t".into(), 2),
            b'r' => ("\r".into(), 2),
            b'b' => ("\u{8}".into(), 2),
            b'f' => ("\u{c}".into(), 2),
            b'u' => {
                let code = u32::from_str_radix(s.get(pos + 2..pos + 6)?, 16).ok()?;
                // A surrogate pair is two escapes for one character.
                let low = (0xD800..0xDC00)
                    .contains(&code)
                    .then(|| s.get(pos + 6..pos + 12))
                    .flatten()
                    .and_then(|t| t.strip_prefix("\\u"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .filter(|l| (0xDC00..0xE000).contains(l));
                match low {
                    Some(l) => {
                        let c = 0x10000 + ((code - 0xD800) << 10) + (l - 0xDC00);
                        (char::from_u32(c).unwrap_or('\u{FFFD}').to_string(), 12)
                    }
                    None => (char::from_u32(code).unwrap_or('\u{FFFD}').to_string(), 6),
                }
            }
            b'x' => {
                let code = u8::from_str_radix(s.get(pos + 2..pos + 4)?, 16).ok()?;
                let c = if code.is_ascii() {
                    code as char
                } else {
                    '\u{FFFD}'
                };
                (c.to_string(), 4)
            }
            _ => {
                // `\"`, `\\`, `\/`, `\'`, or any other character as itself;
                // a non-ASCII one is taken whole (never half a character).
                let c = s.get(pos + 1..)?.chars().next()?;
                (c.to_string(), 1 + c.len_utf8())
            }
        };
        out.push_mapped(&decoded, raw + pos, len);
        pos += len;
        run = pos;
    }
}

/// Composes two maps: `inner` was built over `outer.text` (its "input"
/// offsets are offsets in `outer.text`), the result maps `inner.text`
/// straight to the input. Used for JSON escaped twice.
pub fn compose(inner: &Mapped, outer: &Mapped) -> Option<Mapped> {
    let mut out = Mapped {
        text: inner.text.clone(),
        runs: Vec::with_capacity(inner.runs.len()),
    };
    for r in &inner.runs {
        let span = outer.span(r.raw, r.raw + r.raw_len)?;
        if r.verbatim && span.len() == r.text_len {
            out.runs.push(Run {
                raw: span.start,
                raw_len: r.text_len,
                ..*r
            });
        } else {
            out.runs.push(Run {
                raw: span.start,
                raw_len: span.len(),
                verbatim: false,
                ..*r
            });
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_map_back_to_their_bytes() {
        let src = r#""{\"error\":\"invalid_grant\",\"é\":\"\u00e9\"}""#;
        let (m, len) = unescape_literal(src, 100).unwrap();
        assert_eq!(len, src.len());
        assert_eq!(m.text, r#"{"error":"invalid_grant","é":"é"}"#);
        let at = m.text.find("invalid_grant").unwrap();
        let span = m.span(at, at + "invalid_grant".len()).unwrap();
        assert_eq!(
            &src[span.start - 100..span.end - 100],
            "invalid_grant",
            "a verbatim run maps one to one"
        );
        // The quote before it is one escape: it maps to both its bytes.
        let span = m.span(at - 1, at).unwrap();
        assert_eq!(&src[span.start - 100..span.end - 100], "\\\"");
        // `\u00e9` is two bytes of text for six bytes of input.
        let e = m.text.rfind('é').unwrap();
        let span = m.span(e, e + 2).unwrap();
        assert_eq!(&src[span.start - 100..span.end - 100], "\\u00e9");
    }

    #[test]
    fn backslash_before_non_ascii_is_one_character() {
        let (m, _) = unescape_literal("\"a\\é b\"", 0).unwrap();
        assert_eq!(m.text, "aé b");
    }

    #[test]
    fn unterminated_or_multiline_is_not_a_literal() {
        assert!(unescape_literal("\"abc", 0).is_none());
        assert!(unescape_literal("\"ab\ncd\"", 0).is_none());
        assert!(unescape_literal("\"\\u12\"", 0).is_none());
    }

    #[test]
    fn joined_pieces_map_to_each_line() {
        let input = "P: {\nP:   \"a\": 1\nP: }";
        let mut m = Mapped::default();
        m.push_verbatim(&input[3..4], 3);
        m.push_mapped("\n", 4, 1);
        m.push_verbatim(&input[8..16], 8);
        let at = m.text.find("\"a\"").unwrap();
        let span = m.span(at, at + 3).unwrap();
        assert_eq!(&input[span.start..span.end], "\"a\"");
    }
}
