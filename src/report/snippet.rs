//! The evidence as miette draws it. miette underlines labels in whatever
//! source it is given, but cannot cut a long line, escape what the input
//! holds, or show lines that are far apart with their real numbers. So it
//! is given a small prepared source instead of the user's text: only the
//! lines that carry evidence, each cut to a window around its labels (with
//! `…` where text was left out) and made visible, the labels moved into it,
//! and line numbers and columns reported as the user's own.
//!
//! ```text
//!    ╭─[run.log:7:77]
//!  7 │ …Forbidden for url: https://api.mypurecloud.com/oauth/token
//!    ·                     ─────────┬──────────────────┬─────
//!    ·                              │                  ╰── endpoint = token
//!    ·                              ╰── provider = genesys
//!    ╰────
//! ```
//!
//! What stays ours is choosing the windows: labels that overlap (miette
//! would slide one past the other, under the wrong text) or that are too
//! far apart for one window are shown on separate copies of their line.

use miette::{LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use super::text;
use crate::facts::Line;

/// A labelled byte range of one source (absolute offsets).
#[derive(Debug, Clone)]
pub struct Label {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// One line of the source: its number, where it starts, its text (no newline).
#[derive(Debug, Clone)]
struct SourceLine {
    number: usize,
    offset: usize,
    text: String,
}

/// Splits kept pieces of a source (each possibly several lines) into single
/// lines, each once.
fn single_lines(pieces: &[Line]) -> Vec<SourceLine> {
    let mut out: Vec<SourceLine> = Vec::new();
    for piece in pieces {
        let mut offset = piece.offset;
        for (i, text) in piece.text.split('\n').enumerate() {
            let number = piece.number + i;
            if !out.iter().any(|l| l.number == number) {
                out.push(SourceLine {
                    number,
                    offset,
                    text: text.strip_suffix('\r').unwrap_or(text).to_string(),
                });
            }
            offset += text.len() + 1;
        }
    }
    out.sort_by_key(|l| l.number);
    out
}

/// A line seen as display cells: (byte offset in the line, rendered text,
/// column where it starts, width). Tabs become spaces and control
/// characters their pictures, so columns here are columns on the screen.
/// The cells are worked out as they are read, never stored: an evidence
/// line may be a 1 MiB body, and a cell each would take fifty times that.
struct Cells<'a> {
    line: &'a str,
    width: usize,
}

impl<'a> Cells<'a> {
    fn new(line: &'a str) -> Self {
        let width = Cells { line, width: 0 }.iter().map(|c| c.3).sum();
        Cells { line, width }
    }

    fn iter(&self) -> impl Iterator<Item = (usize, String, usize, usize)> + 'a {
        let mut col = 0;
        self.line.char_indices().map(move |(i, c)| {
            let (s, w) = text::cell(c, col);
            let at = col;
            col += w;
            (i, s, at, w)
        })
    }

    /// The column where byte `offset` of the line is drawn.
    fn column(&self, offset: usize) -> usize {
        let mut before = 0;
        for (i, _, col, _) in self.iter() {
            if i == offset {
                return col;
            }
            if i > offset {
                // Inside a multi-byte character: its cell.
                return before;
            }
            before = col;
        }
        self.width
    }
}

/// A label on a line, in screen columns `[start, end)`; a zero-length span
/// still takes the column miette draws its `▲` in.
#[derive(Debug, Clone)]
struct Placed {
    start: usize,
    end: usize,
    empty: bool,
    text: String,
    /// The diagnosis' first evidence: its place heads the snippet.
    primary: bool,
    /// Where it starts in the user's line (0-based byte column).
    byte: usize,
}

impl Placed {
    /// The column of the `┬` the label hangs from (miette's rule).
    fn mid(&self) -> usize {
        (self.start + self.end) / 2
    }
    /// The rightmost column the label needs: its underline or `╰── text`.
    fn reach(&self) -> usize {
        if self.text.is_empty() {
            self.end
        } else {
            self.end.max(self.mid() + 4 + text::width(&self.text))
        }
    }
}

/// Labels drawn on one copy of a line: disjoint, in column order.
struct Group {
    labels: Vec<Placed>,
    /// The end of the rightmost underline so far.
    highest: usize,
}

impl Group {
    fn lo(&self) -> usize {
        self.labels.first().map_or(0, |p| p.start)
    }
    fn reach(&self) -> usize {
        self.labels.iter().map(Placed::reach).max().unwrap_or(0)
    }
    /// `p` as it would be drawn after this group's labels, if it can be:
    /// miette draws a label that starts under the previous one from where
    /// that one ends, which is honest only while some of its own text is
    /// left to underline.
    fn fit(&self, p: &Placed) -> Option<Placed> {
        if p.start >= self.highest {
            return Some(p.clone());
        }
        (!p.empty && p.end > self.highest).then(|| Placed {
            start: self.highest,
            ..p.clone()
        })
    }
}

/// Splits a line's labels into groups that miette can draw truthfully on
/// one line of `avail` columns each.
fn groups(mut placed: Vec<Placed>, line_width: usize, avail: usize) -> Vec<Group> {
    placed.sort_by_key(|p| (p.start, p.end));
    // Two columns are kept for the `…` on either side.
    let room = avail.saturating_sub(2);
    let mut groups: Vec<Group> = Vec::new();
    for p in placed {
        let slot = groups.iter_mut().find_map(|g| {
            let q = g.fit(&p)?;
            let hi = g.reach().max(q.reach());
            // The whole line fits, or a window of it does (see `window`).
            (line_width.max(hi) <= avail || hi - g.lo() <= room).then_some((g, q))
        });
        match slot {
            Some((g, q)) => {
                g.highest = q.end;
                g.labels.push(q);
            }
            None => groups.push(Group {
                highest: p.end,
                labels: vec![p],
            }),
        }
    }
    groups
}

/// The columns `[a, b)` of a line to show so that labels from `lo` to `hi`
/// (their text included) fit in `avail` columns, `…` marks included.
fn window(cells: &Cells, lo: usize, hi: usize, avail: usize) -> (usize, usize) {
    if cells.width.max(hi) <= avail {
        return (0, cells.width);
    }
    let room = avail.saturating_sub(2);
    let spare = room.saturating_sub(hi - lo);
    // Context before the labels: up to a third of what is left, all of it
    // when the labels sit near the start of the line; but never so much
    // that a label's text would run past the width.
    let before = if lo <= spare { lo } else { spare / 3 };
    let fits = hi.saturating_sub(room);
    let mut a = (lo - before).max(fits).min(lo);
    // At the end of the line: use the room for more context before.
    if a + room >= cells.width {
        a = cells.width.saturating_sub(room).max(fits).min(a);
    }
    // Start at a word when one begins shortly after the cut.
    if a > 0
        && let Some(space) = cells
            .iter()
            .take_while(|(_, _, col, _)| *col < (a + 12).min(lo))
            .find(|(_, s, col, _)| *col >= a && s == " ")
    {
        a = space.2 + 1;
    }
    (a, (a + room).min(cells.width))
}

/// A line of the prepared source.
#[derive(Debug)]
struct ShownLine {
    name: String,
    /// The user's 1-based line number.
    number: usize,
    /// Where the line starts in the prepared text, and its length (no newline).
    start: usize,
    len: usize,
}

/// The prepared source of one diagnosis: what miette reads and labels.
#[derive(Debug, Default)]
pub struct Evidence {
    text: String,
    lines: Vec<ShownLine>,
    labels: Vec<LabeledSpan>,
    /// (offset in the prepared text, the user's 0-based byte column) of each
    /// label's start: the column miette prints in a snippet's heading.
    columns: Vec<(usize, usize)>,
}

impl Evidence {
    /// The labels miette draws.
    pub fn labels(&self) -> Vec<LabeledSpan> {
        self.labels.clone()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Adds one source's labelled lines (masked already), cut to fit
    /// `width` columns once miette has put its gutter before them. The first
    /// label added is the primary one (its place heads the snippet).
    pub fn add(&mut self, name: &str, pieces: &[Line], labels: &[Label], width: usize) {
        let lines = single_lines(pieces);
        // Each label on the line that holds its start; the part past that
        // line's end (a label over a multi-line body) is not underlined.
        let primary = self.labels.is_empty();
        let mut by_line: Vec<(usize, Vec<(bool, &Label)>)> = Vec::new();
        for (k, label) in labels.iter().enumerate() {
            let label = (primary && k == 0, label);
            let Some(idx) = lines.iter().position(|l| {
                l.offset <= label.1.start && label.1.start <= l.offset + l.text.len()
            }) else {
                continue;
            };
            match by_line.iter_mut().find(|(i, _)| *i == idx) {
                Some((_, v)) => v.push(label),
                None => by_line.push((idx, vec![label])),
            }
        }
        by_line.sort_by_key(|(i, _)| *i);
        let widest = by_line.iter().map(|(i, _)| lines[*i].number).max();
        let Some(widest) = widest else { return };
        // miette's gutter: ` 12 │ `.
        let avail = width.saturating_sub(widest.to_string().len() + 4).max(20);
        let name = text::visible(name).into_owned();
        for (idx, line_labels) in by_line {
            let line = &lines[idx];
            let cells = Cells::new(&line.text);
            let placed: Vec<Placed> = line_labels
                .iter()
                .map(|&(primary, l)| {
                    let local_start = l.start - line.offset;
                    let local_end = l.end.min(line.offset + line.text.len()) - line.offset;
                    let start = cells.column(local_start);
                    let empty = local_end <= local_start;
                    let end = if empty {
                        start
                    } else {
                        cells.column(local_end)
                    };
                    Placed {
                        start,
                        end: end.max(start + 1),
                        empty,
                        text: text::visible(&l.text).into_owned(),
                        primary,
                        byte: local_start,
                    }
                })
                .collect();
            for group in groups(placed, cells.width, avail) {
                self.push_window(&name, line.number, &cells, &group, avail);
            }
        }
    }

    /// Appends the window of `cells` that shows `group`, and its labels.
    fn push_window(
        &mut self,
        name: &str,
        number: usize,
        cells: &Cells,
        group: &Group,
        avail: usize,
    ) {
        let (a, b) = window(cells, group.lo(), group.reach(), avail);
        let start = self.text.len();
        if a > 0 {
            self.text.push('…');
        }
        // The screen column each shown column lands on, for the labels.
        let mut at_column: Vec<(usize, usize)> = Vec::new();
        for (_, s, col, w) in cells.iter().take_while(|c| c.2 <= b) {
            if col >= a && col + w <= b {
                at_column.push((col, self.text.len()));
                self.text.push_str(&s);
            }
        }
        at_column.push((b, self.text.len()));
        if b < cells.width {
            self.text.push('…');
        }
        let len = self.text.len() - start;
        self.text.push('\n');
        // A column's offset in the prepared text (the next shown character
        // when it falls inside one).
        let offset = |col: usize| {
            at_column
                .iter()
                .find(|(c, _)| *c >= col)
                .map_or(start + len, |(_, o)| *o)
        };
        for p in &group.labels {
            let s = offset(p.start.max(a));
            let e = if p.empty {
                s
            } else {
                offset(p.end.min(b)).max(s)
            };
            // Where miette will hang this label (its rule, on the shown
            // text), to wrap a label too long for the rest of the line.
            let col = |o: usize| text::width(&self.text[start..o]);
            let mid = (col(s) + col(e).max(col(s) + 1)) / 2;
            let room = avail.saturating_sub(mid + 4);
            let label = if p.text.is_empty() {
                None
            } else if text::width(&p.text) <= room {
                Some(p.text.clone())
            } else {
                Some(text::wrap(&p.text, room.max(1), "", "").join("\n"))
            };
            self.columns.push((s, p.byte));
            let span = SourceSpan::from((s, e - s));
            self.labels.push(if p.primary {
                LabeledSpan::new_primary_with_span(label, span)
            } else {
                LabeledSpan::new_with_span(label, span)
            });
        }
        self.lines.push(ShownLine {
            name: name.to_string(),
            number,
            start,
            len,
        });
    }

    /// The shown line holding `offset` (its newline included).
    fn line_at(&self, offset: usize) -> Option<usize> {
        self.lines
            .iter()
            .position(|l| l.start <= offset && offset <= l.start + l.len)
    }
}

impl SourceCode for Evidence {
    /// Whole shown lines around `span`, numbered as the user's lines. A span
    /// over lines that are not consecutive in the user's file (two windows of
    /// one line, lines far apart, two files) cannot be read: miette then
    /// draws them as separate snippets instead of numbering them on.
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        _before: usize,
        _after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let first = self
            .line_at(span.offset())
            .ok_or(MietteError::OutOfBounds)?;
        // By its end, not its last byte: a span that ends where the next
        // line starts (a zero-length label there) reaches that line.
        let last = self
            .line_at(span.offset() + span.len())
            .ok_or(MietteError::OutOfBounds)?;
        let run = &self.lines[first..=last];
        if run
            .windows(2)
            .any(|w| w[1].name != w[0].name || w[1].number != w[0].number + 1)
        {
            return Err(MietteError::OutOfBounds);
        }
        let head = &run[0];
        let tail = &run[run.len() - 1];
        let end = (tail.start + tail.len + 1).min(self.text.len());
        // Asked for a label, the user's column of its start; for the lines
        // around labels the column does not matter.
        let column = self
            .columns
            .iter()
            .find(|(o, _)| *o == span.offset())
            .map_or(0, |(_, c)| *c);
        Ok(Box::new(MietteSpanContents::new_named(
            head.name.clone(),
            &self.text.as_bytes()[head.start..end],
            SourceSpan::from((head.start, end - head.start)),
            head.number - 1,
            column,
            run.len(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};

    fn line(number: usize, offset: usize, text: &str) -> Line {
        Line {
            source: 0,
            offset,
            number,
            text: text.to_string(),
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("m")]
    struct Shows(Evidence);

    impl Diagnostic for Shows {
        fn source_code(&self) -> Option<&dyn SourceCode> {
            Some(&self.0)
        }
        fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
            Some(Box::new(self.0.labels().into_iter()))
        }
    }

    /// The snippet miette draws for `labels` on `lines` at `width`.
    fn draw(name: &str, lines: &[Line], labels: &[Label], width: usize) -> Vec<String> {
        let mut evidence = Evidence::default();
        evidence.add(name, lines, labels, width);
        let mut out = String::new();
        GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_width(width)
            .with_context_lines(0)
            .render_report(&mut out, &Shows(evidence))
            .unwrap();
        // Drop the `× m` line.
        out.lines().skip(1).map(str::to_string).collect()
    }

    fn label(start: usize, end: usize, text: &str) -> Label {
        Label {
            start,
            end,
            text: text.into(),
        }
    }

    #[test]
    fn labels_hang_under_their_spans() {
        let text = "GET https://api.example.com/v2/users -> 403";
        let url = text.find("https").unwrap();
        let out = draw(
            "run.log",
            &[line(7, 100, text)],
            &[
                label(100 + url, 100 + url + 32, "the url"),
                label(100 + text.len() - 3, 100 + text.len(), "status = 403"),
            ],
            80,
        );
        assert_eq!(
            out,
            vec![
                "   ╭─[run.log:7:5]",
                " 7 │ GET https://api.example.com/v2/users -> 403",
                "   ·     ────────────────┬───────────────    ─┬─",
                "   ·                     │                    ╰── status = 403",
                "   ·                     ╰── the url",
                "   ╰────",
            ]
        );
    }

    #[test]
    fn far_apart_lines_keep_their_numbers() {
        let out = draw(
            "f",
            &[line(7, 0, "first line"), line(16, 100, "later line")],
            &[label(0, 5, "a"), label(100, 105, "b")],
            80,
        );
        assert!(out.contains(&" 7 │ first line".to_string()), "{out:#?}");
        assert!(out.contains(&" 16 │ later line".to_string()), "{out:#?}");
        assert!(out.contains(&"    ╭─[f:16:1]".to_string()), "{out:#?}");
        // Consecutive lines share one snippet, numbered on.
        let out = draw(
            "f",
            &[line(7, 0, "first line\nnext line")],
            &[label(0, 5, "a"), label(11, 15, "b")],
            80,
        );
        assert_eq!(out.iter().filter(|l| l.contains("╭─[")).count(), 1);
        assert!(out.contains(&" 8 │ next line".to_string()), "{out:#?}");
    }

    #[test]
    fn long_lines_are_cut_around_the_labels() {
        let text = format!("{}needle{}", "x".repeat(300), "y".repeat(300));
        let out = draw(
            "big.log",
            &[line(1, 0, &text)],
            &[label(300, 306, "found")],
            60,
        );
        for l in &out {
            assert!(text::width(l) <= 60, "{l}");
        }
        let shown = &out[1];
        assert!(shown.contains("…x") && shown.contains("needle") && shown.ends_with('…'));
        let col = shown.find("needle").unwrap();
        let under = out[2].find('─').unwrap();
        assert_eq!(
            text::width(&shown[..col]),
            text::width(&out[2][..under]),
            "underline under the word"
        );
        assert_eq!(out[0], "   ╭─[big.log:1:301]", "the user's column");
    }

    #[test]
    fn overlapping_and_far_apart_labels_get_their_own_windows() {
        let text = format!("aaa{}bbb", " ".repeat(400));
        let out = draw(
            "f",
            &[line(2, 0, &text)],
            &[label(0, 3, "first"), label(403, 406, "second")],
            60,
        );
        assert_eq!(out.iter().filter(|l| l.starts_with(" 2 │")).count(), 2);
        assert!(out.iter().any(|l| l.ends_with("╰── first")));
        assert!(out.iter().any(|l| l.ends_with("╰── second")));
        for l in &out {
            assert!(text::width(l) <= 60, "{l}");
        }
        // A label inside another is drawn on a copy of the line, under its
        // own text; one that only starts inside another is drawn after it.
        let text = "see https://api.example.com/x now";
        let out = draw(
            "f",
            &[line(1, 0, text)],
            &[
                label(4, 29, "url"),
                label(12, 27, "host"),
                label(27, 33, "tail"),
            ],
            80,
        );
        assert_eq!(out.iter().filter(|l| l.starts_with(" 1 │")).count(), 2);
        let host = out.iter().position(|l| l.ends_with("╰── host")).unwrap();
        let under = &out[host - 1];
        let column = |s: &str, at: usize| text::width(&s[..at]);
        assert_eq!(
            column(under, under.find('─').unwrap()),
            column(&out[1], out[1].find("api").unwrap())
        );
    }

    #[test]
    fn many_labels_on_one_short_span_do_not_break_the_layout() {
        let labels: Vec<Label> = (0..6)
            .map(|k| label(4, 6, &format!("label {k}")))
            .chain((0..3).map(|k| label(6, 6, &format!("at the end {k}"))))
            .collect();
        for width in [20, 60, 200] {
            let out = draw("f", &[line(1, 0, "x = ab")], &labels, width);
            for k in 0..6 {
                assert!(
                    out.iter().any(|l| l.contains(&format!("label {k}"))),
                    "{out:#?}"
                );
            }
        }
    }

    /// Random lines (ASCII, wide and control characters, tabs, several
    /// lines), spans (overlapping, empty, across lines), labels and widths:
    /// never a panic, every label drawn, and no line
    /// wider than the width (or than the 20 columns of text always shown)
    /// but a label's line holding one word (which cannot be broken).
    #[test]
    fn random_layouts_never_panic() {
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n.max(1) as u64) as usize
        };
        let alphabet = ['a', ' ', '\t', '日', '\u{1b}', 'é', '\0', '/', '"'];
        for _ in 0..1000 {
            let len = next(300);
            let text: String = (0..len)
                .map(|_| match next(60) {
                    0 => '\n',
                    _ => alphabet[next(alphabet.len())],
                })
                .collect();
            let bounds: Vec<usize> = (0..=text.len())
                .filter(|i| text.is_char_boundary(*i))
                .collect();
            let labels: Vec<Label> = (0..next(8))
                .map(|k| {
                    let a = bounds[next(bounds.len())];
                    let b = bounds[next(bounds.len())];
                    let words = (0..next(6)).map(|_| "x".repeat(1 + next(12)));
                    let text = words.collect::<Vec<_>>().join(" ") + &format!(" L{k}");
                    label(50 + a.min(b), 50 + a.max(b), &text)
                })
                .collect();
            let width = 20 + next(200);
            let out = draw("f", &[line(3, 50, &text)], &labels, width);
            for row in out.iter().filter(|r| text::width(r) > width.max(25)) {
                let label = ["╰── ", "┤ ", "│ "]
                    .iter()
                    .filter_map(|m| row.rfind(m).map(|i| &row[i + m.len()..]))
                    .min_by_key(|rest| rest.len());
                let numbered = row.trim_start().starts_with(|c: char| c.is_ascii_digit());
                assert!(
                    !numbered && label.is_some_and(|l| !l.contains(' ')),
                    "{width}: {row}"
                );
            }
            for k in 0..labels.len() {
                assert!(
                    out.iter().any(|r| r.contains(&format!("L{k}"))),
                    "{width}: L{k} lost: {out:#?}"
                );
            }
        }
    }

    #[test]
    fn control_characters_from_the_input_are_pictures() {
        let text = "a\x1b[2Jb\0 token";
        let out = draw(
            "evil\x1bname",
            &[line(1, 0, text)],
            &[label(8, 13, "x\x1b]0;title\x07")],
            80,
        );
        let all = out.join("\n");
        assert!(!all.contains('\x1b') && !all.contains('\0') && !all.contains('\x07'));
        assert!(all.contains("a␛[2Jb␀ token"), "{all}");
        assert!(all.contains("evil␛name:1:9"), "{all}");
        // The underline still sits under `token` (each picture is one column).
        let col = out[1].find("token").unwrap();
        assert_eq!(
            text::width(&out[1][..col]),
            text::width(&out[2][..out[2].find('─').unwrap()])
        );
    }
}
