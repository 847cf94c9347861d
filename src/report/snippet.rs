//! Evidence drawn under the user's own lines, as compilers do:
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
//! Only the lines an incident kept are needed, never the whole source. A
//! line wider than the terminal is cut to a window around its labels (with
//! `…` where text was left out), each label stays on one line, and control
//! characters from the input are shown as visible pictures.

use super::text::{self, Paint};
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

/// Where a label sits on a rendered line, in columns.
#[derive(Debug, Clone)]
struct Placed {
    start: usize,
    end: usize,
    text: String,
    text_width: usize,
}

impl Placed {
    /// The column of the `┬` that leads to the label text.
    fn mid(&self) -> usize {
        self.start + (self.end - self.start).saturating_sub(1) / 2
    }
    /// The rightmost column this label needs (underline or `╰── text`).
    fn reach(&self) -> usize {
        let text = if self.text.is_empty() {
            0
        } else {
            self.mid() + 4 + self.text_width
        };
        self.end.max(text)
    }
}

/// A line turned into display cells: (byte offset in the line, rendered
/// text, column where it starts, width).
struct Cells {
    cells: Vec<(usize, String, usize, usize)>,
    width: usize,
}

impl Cells {
    fn new(line: &str) -> Self {
        let mut cells = Vec::with_capacity(line.len());
        let mut col = 0;
        for (i, c) in line.char_indices() {
            let (s, w) = text::cell(c, col);
            cells.push((i, s, col, w));
            col += w;
        }
        Cells { cells, width: col }
    }

    /// The column where byte `offset` of the line is drawn.
    fn column(&self, offset: usize) -> usize {
        match self.cells.binary_search_by_key(&offset, |c| c.0) {
            Ok(i) => self.cells[i].2,
            Err(0) => 0,
            Err(i) if i >= self.cells.len() => self.width,
            // Inside a multi-byte character: its cell.
            Err(i) => self.cells[i - 1].2,
        }
    }

    /// Columns `[a, b)` of the line, whole cells only.
    fn slice(&self, a: usize, b: usize) -> String {
        self.cells
            .iter()
            .filter(|(_, _, col, w)| *col >= a && col + w <= b)
            .map(|(_, s, _, _)| s.as_str())
            .collect()
    }
}

/// Renders the labelled lines of one source. `width` is the whole terminal
/// width; `paint_label` colours underlines and label text.
pub fn render(
    name: &str,
    pieces: &[Line],
    labels: &[Label],
    width: usize,
    paint: Paint,
    paint_label: &dyn Fn(&str) -> String,
) -> Vec<String> {
    let lines = single_lines(pieces);
    // Each label on the line that holds its start; the part past that line's
    // end (a label over a multi-line body) is not underlined.
    let mut by_line: Vec<(usize, Vec<Label>)> = Vec::new();
    let mut first: Option<(usize, usize)> = None;
    for label in labels {
        let Some(idx) = lines
            .iter()
            .position(|l| l.offset <= label.start && label.start <= l.offset + l.text.len())
        else {
            continue;
        };
        let line = &lines[idx];
        let local = Label {
            start: label.start - line.offset,
            end: label.end.min(line.offset + line.text.len()) - line.offset,
            text: label.text.clone(),
        };
        if first.is_none() {
            first = Some((line.number, local.start + 1));
        }
        match by_line.iter_mut().find(|(i, _)| *i == idx) {
            Some((_, v)) => v.push(local),
            None => by_line.push((idx, vec![local])),
        }
    }
    let Some((first_line, first_col)) = first else {
        return Vec::new();
    };
    by_line.sort_by_key(|(i, _)| *i);
    let number_width = by_line
        .iter()
        .map(|(i, _)| lines[*i].number.to_string().len())
        .max()
        .unwrap_or(1);
    let blank = " ".repeat(number_width);
    let bar = |s: &str| paint.dim(s);
    let mut out = vec![format!(
        "{blank} {}{}{}",
        bar("╭─["),
        text::visible(&format!("{name}:{first_line}:{first_col}")),
        bar("]")
    )];
    // Columns left for the text after ` 7 │ `.
    let avail = width.saturating_sub(number_width + 3).max(20);
    let mut previous: Option<usize> = None;
    for (idx, line_labels) in &by_line {
        let line = &lines[*idx];
        if previous.is_some_and(|p| lines[p].number + 1 < line.number) {
            out.push(format!("{blank} {}", bar("┆")));
        }
        previous = Some(*idx);
        let cells = Cells::new(&line.text);
        let mut placed: Vec<Placed> = line_labels
            .iter()
            .map(|l| {
                let start = cells.column(l.start);
                let end = if l.end > l.start {
                    cells.column(l.end).max(start + 1)
                } else {
                    start + 1
                };
                let text = text::visible(&l.text).into_owned();
                Placed {
                    start,
                    end,
                    text_width: text::width(&text),
                    text,
                }
            })
            .collect();
        placed.sort_by_key(|p| (p.start, p.end));
        for group in windows(&placed, cells.width, avail) {
            out.extend(render_window(
                line.number,
                number_width,
                &cells,
                &group,
                avail,
                paint,
                paint_label,
            ));
        }
    }
    out.push(format!("{blank} {}", bar("╰────")));
    out
}

/// Groups a line's labels so each group fits one window of `avail` columns.
fn windows(placed: &[Placed], line_width: usize, avail: usize) -> Vec<Vec<Placed>> {
    let reach = placed.iter().map(Placed::reach).max().unwrap_or(0);
    if line_width.max(reach) <= avail {
        return vec![placed.to_vec()];
    }
    // Two columns are kept for the `…` on either side.
    let room = avail.saturating_sub(2);
    let mut groups: Vec<Vec<Placed>> = Vec::new();
    for p in placed {
        if let Some(group) = groups.last_mut() {
            let lo = group[0].start;
            let hi = group
                .iter()
                .chain(std::iter::once(p))
                .map(Placed::reach)
                .max()
                .unwrap_or(0);
            if hi - lo <= room {
                group.push(p.clone());
                continue;
            }
        }
        groups.push(vec![p.clone()]);
    }
    groups
}

fn render_window(
    number: usize,
    number_width: usize,
    cells: &Cells,
    group: &[Placed],
    avail: usize,
    paint: Paint,
    paint_label: &dyn Fn(&str) -> String,
) -> Vec<String> {
    let lo = group.iter().map(|p| p.start).min().unwrap_or(0);
    let hi = group.iter().map(Placed::reach).max().unwrap_or(0);
    // The window [a, b) of the line's columns to show.
    let (a, b) = if cells.width.max(hi) <= avail {
        (0, cells.width)
    } else {
        let room = avail.saturating_sub(2);
        let spare = room.saturating_sub(hi - lo);
        // Context before the labels: up to a third of what is left, all of
        // it when the labels sit near the start of the line; but never so
        // much that a label's text would run past the width.
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
                .cells
                .iter()
                .filter(|(_, s, col, _)| *col >= a && *col < (a + 12).min(lo) && s == " ")
                .map(|(_, _, col, _)| *col)
                .next()
        {
            a = space + 1;
        }
        let b = (a + room).min(cells.width);
        (a, b)
    };
    let left = usize::from(a > 0);
    let shift = |col: usize| (col + left).saturating_sub(a);
    let mut text = String::new();
    if a > 0 {
        text.push('…');
    }
    text.push_str(&cells.slice(a, b));
    if b < cells.width {
        text.push('…');
    }
    let blank = " ".repeat(number_width);
    let mut out = vec![format!(
        "{number:>number_width$} {} {}",
        paint.dim("│"),
        text
    )];
    let shown: Vec<Placed> = group
        .iter()
        .map(|p| {
            let end_limit = shift(b.max(p.start + 1));
            let start = shift(p.start.max(a));
            Placed {
                start,
                end: shift(p.end).min(end_limit).max(start + 1),
                ..p.clone()
            }
        })
        .collect();
    // The underline row: a `┬` where each label's text hangs.
    let mut mids: Vec<usize> = Vec::new();
    let mut row: Vec<char> = Vec::new();
    for p in &shown {
        if row.len() < p.end {
            row.resize(p.end, ' ');
        }
        for slot in &mut row[p.start..p.end] {
            *slot = '─';
        }
    }
    for p in &shown {
        if p.text.is_empty() {
            mids.push(usize::MAX);
            continue;
        }
        let mut mid = p.mid();
        // Two labels hanging from one column would read as one.
        while mids.contains(&mid) && mid + 1 < row.len() {
            mid += 1;
        }
        row[mid] = '┬';
        mids.push(mid);
    }
    let gutter = format!("{blank} {} ", paint.dim("·"));
    out.push(format!(
        "{gutter}{}",
        paint_label(row.iter().collect::<String>().trim_end())
    ));
    // Label rows, rightmost first, each `╰── text` with `│` for those left of it.
    let mut order: Vec<usize> = (0..shown.len())
        .filter(|&i| mids[i] != usize::MAX)
        .collect();
    order.sort_by_key(|&i| std::cmp::Reverse(mids[i]));
    for (k, &i) in order.iter().enumerate() {
        let mut line = String::new();
        let pending: Vec<usize> = order[k + 1..].iter().map(|&j| mids[j]).collect();
        let mut col = 0;
        let mut sorted = pending.clone();
        sorted.sort_unstable();
        sorted.dedup();
        for m in sorted.into_iter().filter(|m| *m != mids[i]) {
            line.push_str(&" ".repeat(m.saturating_sub(col)));
            line.push('│');
            col = m + 1;
        }
        line.push_str(&" ".repeat(mids[i].saturating_sub(col)));
        line.push_str("╰── ");
        line.push_str(&shown[i].text);
        out.push(format!("{gutter}{}", paint_label(&line)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(number: usize, offset: usize, text: &str) -> Line {
        Line {
            source: 0,
            offset,
            number,
            text: text.to_string(),
        }
    }

    fn plain(s: &str) -> String {
        s.to_string()
    }

    #[test]
    fn labels_hang_under_their_spans() {
        let text = "GET https://api.example.com/v2/users -> 403";
        let url = text.find("https").unwrap();
        let labels = [
            Label {
                start: 100 + url,
                end: 100 + url + 32,
                text: "the url".into(),
            },
            Label {
                start: 100 + text.len() - 3,
                end: 100 + text.len(),
                text: "status = 403".into(),
            },
        ];
        let out = render(
            "run.log",
            &[line(7, 100, text)],
            &labels,
            80,
            Paint::default(),
            &plain,
        );
        assert_eq!(
            out,
            vec![
                "  ╭─[run.log:7:5]",
                "7 │ GET https://api.example.com/v2/users -> 403",
                "  ·     ───────────────┬────────────────    ─┬─",
                "  ·                    │                     ╰── status = 403",
                "  ·                    ╰── the url",
                "  ╰────",
            ]
        );
    }

    #[test]
    fn long_lines_are_cut_around_the_labels() {
        let text = format!("{}needle{}", "x".repeat(300), "y".repeat(300));
        let start = 300;
        let labels = [Label {
            start,
            end: start + 6,
            text: "found".into(),
        }];
        let out = render(
            "big.log",
            &[line(1, 0, &text)],
            &labels,
            60,
            Paint::default(),
            &plain,
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
    }

    #[test]
    fn far_apart_labels_get_their_own_windows() {
        let text = format!("aaa{}bbb", " ".repeat(400));
        let labels = [
            Label {
                start: 0,
                end: 3,
                text: "first".into(),
            },
            Label {
                start: 403,
                end: 406,
                text: "second".into(),
            },
        ];
        let out = render(
            "f",
            &[line(2, 0, &text)],
            &labels,
            60,
            Paint::default(),
            &plain,
        );
        assert_eq!(out.iter().filter(|l| l.starts_with("2 │")).count(), 2);
        assert!(out.iter().any(|l| l.ends_with("╰── first")));
        assert!(out.iter().any(|l| l.ends_with("╰── second")));
        for l in &out {
            assert!(text::width(l) <= 60, "{l}");
        }
    }

    #[test]
    fn many_labels_on_one_short_span_do_not_break_the_layout() {
        let text = "x = ab";
        let labels: Vec<Label> = (0..6)
            .map(|k| Label {
                start: 4,
                end: 6,
                text: format!("label {k}"),
            })
            .chain((0..3).map(|k| Label {
                start: 6,
                end: 6,
                text: format!("at the end {k}"),
            }))
            .collect();
        for width in [20, 60, 200] {
            let out = render(
                "f",
                &[line(1, 0, text)],
                &labels,
                width,
                Paint::default(),
                &plain,
            );
            assert!(out.iter().any(|l| l.contains("label 5")), "{out:#?}");
        }
    }

    /// Random lines (ASCII, wide and control characters, tabs), spans and
    /// widths: never a panic, and every text row fits the width.
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
        for _ in 0..500 {
            let len = next(300);
            let text: String = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
            let bounds: Vec<usize> = (0..=text.len())
                .filter(|i| text.is_char_boundary(*i))
                .collect();
            let labels: Vec<Label> = (0..next(5))
                .map(|k| {
                    let a = bounds[next(bounds.len())];
                    let b = bounds[next(bounds.len())];
                    Label {
                        start: 50 + a.min(b),
                        end: 50 + a.max(b),
                        text: "x".repeat(next(30)) + &k.to_string(),
                    }
                })
                .collect();
            let width = 20 + next(200);
            let out = render(
                "f",
                &[line(3, 50, &text)],
                &labels,
                width,
                Paint::default(),
                &plain,
            );
            for row in out.iter().filter(|r| r.starts_with("3 │")) {
                assert!(text::width(row) <= width.max(24), "{width}: {row}");
            }
        }
    }

    #[test]
    fn control_characters_from_the_input_are_pictures() {
        let text = "a\x1b[2Jb\0 token";
        let labels = [Label {
            start: 8,
            end: 13,
            text: "x\x1b]0;title\x07".into(),
        }];
        let out = render(
            "evil\x1bname",
            &[line(1, 0, text)],
            &labels,
            80,
            Paint::default(),
            &plain,
        );
        let all = out.join("\n");
        assert!(!all.contains('\x1b') && !all.contains('\0') && !all.contains('\x07'));
        assert!(all.contains("a␛[2Jb␀ token"));
        // The underline still sits under `token` (each picture is one column).
        let col = out[1].find("token").unwrap();
        assert_eq!(
            text::width(&out[1][..col]),
            text::width(&out[2][..out[2].find('─').unwrap()])
        );
    }
}
