//! A short text in which no parser found a failure — a sentence copied
//! out of an error dialog or a log viewer, a message a library printed
//! alone (`Token used too early, 1596763845 < 1596763861`) — read as one
//! statement: its words are the message of one failure, for the rules
//! about wording to test. A paste is what the user chose to show, so its
//! words are worth testing; a text that merely mentions an error is not a
//! failure, and the run keeps such a statement only when a rule explains it
//! as an error (see `explained_statement` in the library).

use super::{Event, EventKind, Lines};
use crate::input::Chunk;

/// The longest text read as one statement: a paste, not a log (a log with
/// no failure line in it is a log of things that went well).
pub const MAX_STATEMENT: usize = 4 << 10;

/// The statement `chunk` makes, when it is a whole source short enough to
/// be one and has words in it.
pub fn statement(chunk: &Chunk) -> Option<Event> {
    if chunk.offset != 0 || chunk.text.len() > MAX_STATEMENT {
        return None;
    }
    let text = chunk.text.trim();
    if !text.bytes().any(|b| b.is_ascii_alphabetic()) || is_log(text) || is_notice(text) {
        return None;
    }
    let lines = Lines::new(chunk);
    let mut fields = vec![lines.str_field("exception.message", text)];
    // The URL and method it names say which call failed (rules about an
    // endpoint need them), and an OAuth error it states in any notation is
    // one of a closed set of codes; a status or other code it mentions is
    // left out, as a number in prose is not an answer a client received.
    fields.extend(
        super::exception::facts_from_message(&lines, text)
            .into_iter()
            .filter(|f| matches!(&*f.name, "url" | "method") || f.name.starts_with("body.error")),
    );
    Some(Event {
        kind: EventKind::Exception,
        span: lines.span_of(text),
        fields,
        group: None,
        members_left_out: false,
    })
}

/// Whether a line of the text starts a log record (a timestamp or a level
/// word before the message): a log is the log parsers' to read, and one in
/// which they found no failure tells of things that went well or were
/// handled.
fn is_log(text: &str) -> bool {
    text.lines()
        .any(|line| super::logprefix::prefix_len(line) > 0)
}

/// Words that make a text a notice rather than a failure: it warns, waits
/// and tries again, or tells that what it tried worked (`Rate limited …,
/// sleeping before retrying...`, `UserWarning: …`, `Login Succeeded`,
/// `Logged in as …`, a body with `"success": true`).
const NOTICE_WORDS: &[&str] = &[
    "warning",
    "retry",
    "retrying",
    "retried",
    "succeeded",
    "successful",
];

fn is_notice(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| NOTICE_WORDS.contains(&w) || w.ends_with("warning"))
        || lower.contains("logged in as")
        || {
            // A body that says it worked (`{"success":true, …}`, Slack's
            // `"ok": true`).
            let squeezed: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
            squeezed.contains("\"success\":true") || squeezed.contains("\"ok\":true")
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(text: &str, offset: usize) -> Chunk {
        Chunk {
            source: 0,
            offset,
            first_line: 1,
            text: text.to_string(),
        }
    }

    #[test]
    fn a_short_text_is_one_message_spanning_its_words() {
        let c = chunk("\n  Token used too early, 1596763845 < 1596763861\n", 0);
        let e = statement(&c).expect("a statement");
        let m = e.field("exception.message").expect("message");
        assert_eq!(
            &c.text[m.span.start..m.span.end],
            "Token used too early, 1596763845 < 1596763861"
        );
        assert_eq!((e.span.start, e.span.end), (m.span.start, m.span.end));
    }

    #[test]
    fn a_long_text_a_later_chunk_or_no_words_is_none() {
        assert!(statement(&chunk(&"denied ".repeat(1000), 0)).is_none());
        assert!(statement(&chunk("access denied", 4096)).is_none());
        assert!(statement(&chunk(" 12 34\n{}\n", 0)).is_none());
    }

    #[test]
    fn a_log_or_a_notice_is_none() {
        for text in [
            "2021/05/14 00:44:12 ERROR : objects/af: error listing: unexpected end of JSON input",
            "Rate limited on the embeddings API, sleeping before retrying...",
            "_default.py:69: UserWarning: Your application has authenticated using end user credentials",
            "Error logging in to v2 endpoint, trying next endpoint\nLogin Succeeded",
            "curl -H \"Api-Key: ${KEY}\" https://collector.example/v1/accounts/${ID}/events\n{\"success\": true}",
        ] {
            assert!(statement(&chunk(text, 0)).is_none(), "{text}");
        }
    }
}
