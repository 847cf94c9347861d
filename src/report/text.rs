//! Text for terminals: control characters made visible, display widths,
//! wrapping that never breaks a URL, a backticked span or a long word, and
//! styling (ANSI colour, OSC 8 hyperlinks) applied after layout so escape
//! codes never count as width.

use std::borrow::Cow;

use textwrap::core::Word;
use textwrap::{WordSeparator, WordSplitter};
use unicode_width::UnicodeWidthChar;

/// Makes every control character in `s` visible, so text from the input (a
/// log line, a file name, a value a rule quotes) can never move the cursor,
/// change colours, retitle the window or fake a line of output. C0 controls
/// and DEL become their Unicode control pictures (`␛`, `␀`, `␤`), C1
/// controls and bidirectional overrides a `<U+XXXX>` escape.
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push_visible(&mut out, c);
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// Characters that reorder the text around them (the "Trojan Source" set).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Appends `c`, escaped when it is a control character.
pub fn push_visible(out: &mut String, c: char) {
    match c {
        '\u{0}'..='\u{1f}' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('?')),
        '\u{7f}' => out.push('\u{2421}'),
        c if needs_escape(c) => out.push_str(&format!("<U+{:04X}>", c as u32)),
        c => out.push(c),
    }
}

/// Columns `s` takes on a terminal (after [`visible`]; control characters
/// count as zero here, so escape them first).
pub fn width(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// Columns one character of a source line takes once rendered: a tab is
/// shown as spaces up to the next multiple of four, a control character as
/// its one-column picture.
pub fn cell(c: char, column: usize) -> (String, usize) {
    if c == '\t' {
        let n = 4 - column % 4;
        return (" ".repeat(n), n);
    }
    let mut s = String::new();
    push_visible(&mut s, c);
    let w = width(&s);
    (s, w)
}

/// Finds the words textwrap may break between: runs of non-space
/// characters, except that a backticked span (`` `curl -v URL` ``) is one
/// word even when it holds spaces. A URL has no spaces, so it is always
/// whole. Spaces at the start of a line belong to its first word, so a
/// hanging indent laid out beforehand survives a second wrap.
pub fn words(line: &str) -> Box<dyn Iterator<Item = Word<'_>> + '_> {
    let bytes = line.as_bytes();
    let mut i = 0;
    Box::new(std::iter::from_fn(move || {
        if i >= bytes.len() {
            return None;
        }
        let start = i;
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        let mut in_code = false;
        while i < bytes.len() && (in_code || bytes[i] != b' ') {
            // An opening backtick with no closing one is an ordinary character.
            if bytes[i] == b'`' && (in_code || line[i + 1..].contains('`')) {
                in_code = !in_code;
            }
            i += 1;
        }
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        Some(Word::from(&line[start..i]))
    }))
}

/// How prose is wrapped everywhere, miette's report included: at spaces
/// only ([`words`]), never inside a word, so a URL or a command copied from
/// the terminal still works.
fn options<'a>(width: usize, first: &'a str, rest: &'a str) -> textwrap::Options<'a> {
    textwrap::Options::new(width)
        .initial_indent(first)
        .subsequent_indent(rest)
        .break_words(false)
        .word_separator(WordSeparator::Custom(words))
        .word_splitter(WordSplitter::NoHyphenation)
}

/// Wraps one paragraph (newlines in it start new lines) to `width` columns,
/// its control characters made visible. The first line is prefixed by
/// `first`, the others by `rest` (both count towards the width). A word too
/// long for a line gets a line of its own and overflows it.
pub fn wrap(text: &str, width_cols: usize, first: &str, rest: &str) -> Vec<String> {
    textwrap::wrap(&visible(text), options(width_cols, first, rest))
        .into_iter()
        .map(|l| l.into_owned())
        .collect()
}

/// ANSI styling and hyperlinks, or none.
#[derive(Debug, Clone, Copy, Default)]
pub struct Paint {
    pub color: bool,
    /// OSC 8 hyperlinks (terminals that support them).
    pub links: bool,
}

impl Paint {
    fn sgr(&self, code: &str, s: &str) -> String {
        if self.color && !s.is_empty() {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    pub fn bold(&self, s: &str) -> String {
        self.sgr("1", s)
    }
    pub fn dim(&self, s: &str) -> String {
        self.sgr("2", s)
    }
    pub fn red(&self, s: &str) -> String {
        self.sgr("1;31", s)
    }
    pub fn yellow(&self, s: &str) -> String {
        self.sgr("1;33", s)
    }
    pub fn cyan(&self, s: &str) -> String {
        self.sgr("1;36", s)
    }
    pub fn magenta(&self, s: &str) -> String {
        self.sgr("35", s)
    }

    /// `text` as a hyperlink to `url` where supported.
    pub fn link(&self, url: &str, text: &str) -> String {
        if self.links && is_link_safe(url) {
            format!("\x1b]8;;{url}\x1b\\{text}\x1b]8;;\x1b\\")
        } else {
            text.to_string()
        }
    }

    /// Every `http(s)://` URL in an already laid-out line made a hyperlink.
    pub fn link_urls(&self, line: &str) -> String {
        if !self.links || !line.contains("://") {
            return line.to_string();
        }
        let mut out = String::with_capacity(line.len() + 32);
        let mut rest = line;
        while let Some(pos) = find_url(rest) {
            let (before, from) = rest.split_at(pos);
            out.push_str(before);
            let len = url_len(from);
            let url = &from[..len];
            out.push_str(&self.link(url, url));
            rest = &from[len..];
        }
        out.push_str(rest);
        out
    }
}

/// A URL may only carry printable ASCII into an escape sequence.
pub(super) fn is_link_safe(url: &str) -> bool {
    url.bytes().all(|b| (0x21..0x7f).contains(&b))
}

fn find_url(s: &str) -> Option<usize> {
    let http = s.find("http://");
    let https = s.find("https://");
    match (http, https) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The URL at the start of `s`, without the punctuation that ends a sentence
/// or closes a bracket or a code span around it.
fn url_len(s: &str) -> usize {
    let end = s
        .find(|c: char| c.is_whitespace() || matches!(c, '`' | '"' | '<' | '>' | '\''))
        .unwrap_or(s.len());
    let mut url = &s[..end];
    while let Some(last) = url.chars().last() {
        let unbalanced_paren = last == ')' && url.matches('(').count() < url.matches(')').count();
        if matches!(last, '.' | ',' | ';' | ':' | '!' | '?') || unbalanced_paren {
            url = &url[..url.len() - 1];
        } else {
            break;
        }
    }
    url.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_escapes_terminal_controls() {
        assert_eq!(visible("a\x1b[31mb\0c\r\nd"), "a␛[31mb␀c␍␊d");
        assert_eq!(visible("x\u{202E}y\u{9b}"), "x<U+202E>y<U+009B>");
        assert!(matches!(visible("plain ü 日本"), Cow::Borrowed(_)));
    }

    #[test]
    fn wrap_keeps_urls_and_code_spans_whole() {
        let text = "fix: POST to https://login.mypurecloud.com/oauth/token with `Authorization: Basic base64(id:secret)` and a body";
        let lines = wrap(text, 30, "  ", "  ");
        assert!(
            lines
                .iter()
                .any(|l| l.trim() == "https://login.mypurecloud.com/oauth/token")
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains("`Authorization: Basic base64(id:secret)`"))
        );
        for l in &lines {
            assert!(
                width(l) <= 30 || !l.trim().contains(' ') || l.trim().starts_with('`'),
                "{l:?}"
            );
        }
    }

    #[test]
    fn wrap_respects_the_width_and_indents() {
        let lines = wrap(
            "one two three four five six seven eight nine ten",
            16,
            "> ",
            "  ",
        );
        assert_eq!(
            lines,
            vec![
                "> one two three",
                "  four five six",
                "  seven eight",
                "  nine ten"
            ]
        );
    }

    #[test]
    fn urls_become_links_without_their_trailing_punctuation() {
        let p = Paint {
            color: false,
            links: true,
        };
        let out = p.link_urls("see https://example.com/a_(b). Then");
        assert_eq!(
            out,
            "see \x1b]8;;https://example.com/a_(b)\x1b\\https://example.com/a_(b)\x1b]8;;\x1b\\. Then"
        );
        assert_eq!(
            Paint::default().link_urls("https://x.y"),
            "https://x.y",
            "no links unless the terminal supports them"
        );
    }
}
