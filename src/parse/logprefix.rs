//! The prefix a logger puts before each message — a container tag
//! (`app-1  | `, `[pod/x/c] `), a timestamp, `[thread]` groups, the level
//! and the logger name — so the message itself can be told (for
//! `exception.message`) and a block whose lines all repeat the same prefix
//! can be read as one text.

use std::cell::RefCell;
use std::sync::OnceLock;

use super::forward::{Caches, Forward};
use regex_automata::nfa::thompson::{NFA, pikevm};
use regex_automata::{Anchored, Input, hybrid};

// Dates and levels are ASCII; logger names take any non-ASCII character as
// well as ASCII word characters (a superset of Unicode \w, far cheaper to compile).
const PREFIX: &str = r"(?x)^
            [\ \t]*
            (?:[A-Za-z0-9_.-]+\ +\|\ ?)?                         # docker compose: `api-1  | `
            (?:\[[^\]\n]{1,100}\]\ +)?                    # kubectl --prefix: `[pod/x/c] `
            (?:
              \[?
              (?:[0-9]{4}[-/][0-9]{2}[-/][0-9]{2}[T\ ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]{1,9})?(?:\ ?(?:Z|[+-][0-9]{2}:?[0-9]{2}))?
                | [A-Z][a-z]{2}\ +[0-9]{1,2}\ [0-9]{2}:[0-9]{2}:[0-9]{2}
                | [0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]{1,9})?)
              \]?[\ \t,|:-]*
            )?
            (?:\[[^\]\n]{1,80}\][\ \t:]*)*                 # [thread] [request-id]
            (?:
              (?P<pylevel>TRACE|DEBUG|INFO|WARNING|ERROR|CRITICAL):[A-Za-z0-9_\x{80}-\x{10FFFF}.$-]+:[\ \t]*    # Python: `ERROR:root:msg`
              |
              (?P<level>\[?(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|SEVERE|CRIT)\]?
                | (?:INFO|WARN|ERRO|FATA|PANI|DEBU|TRAC)\[[0-9]{1,6}\])    # logrus on a terminal: `INFO[0000] msg`
              (?:[\ \t]*[:|][\ \t]*|[\ \t]+)
              (?:\[[^\]\n]{1,80}\][\ \t:]*)*
              (?:(?P<logger>[a-z][A-Za-z0-9_\x{80}-\x{10FFFF}$]*(?:\.[A-Za-z0-9_\x{80}-\x{10FFFF}$]+)+|(?:[A-Za-z][A-Za-z0-9_\x{80}-\x{10FFFF}$]*\.)+[A-Za-z][A-Za-z0-9_\x{80}-\x{10FFFF}$]*)(?:\[[^\]\n]{0,40}\])?(?::[\ \t]*|[\ \t]+-[\ \t]+))?
            )?";

/// [`PREFIX`] compiled forward only: a lazy DFA for where a prefix ends
/// (it starts at the line's start) and a PikeVM for its groups. The
/// `regex` crate also compiled it in reverse, to find where a match
/// starts, and searched it for literal prefixes: 40 % of its cost, the
/// largest single pattern of a log's run (its bounded repetitions of
/// Unicode classes).
/// Builds the prefix's automata now (see [`super::warm_up`]).
pub(super) fn warm_up() {
    prefix();
}

fn prefix() -> &'static Forward {
    static PREFIX_AUTOMATA: OnceLock<Forward> = OnceLock::new();
    PREFIX_AUTOMATA.get_or_init(|| {
        let nfa = NFA::new(PREFIX).expect("log prefix regex");
        Forward {
            dfa: hybrid::dfa::DFA::builder()
                .build_from_nfa(nfa.clone())
                .expect("log prefix DFA"),
            pikevm: pikevm::PikeVM::new_from_nfa(nfa).expect("log prefix PikeVM"),
        }
    })
}

thread_local! {
    /// The search state of [`prefix`]'s engines, one per thread.
    static CACHES: Caches = const { RefCell::new(None) };
}

/// Calls `f` with [`prefix`] and this thread's caches for it.
fn with_prefix<T>(f: impl FnOnce(&Forward, &mut hybrid::dfa::Cache, &mut pikevm::Cache) -> T) -> T {
    let p = prefix();
    p.with_caches(&CACHES, |dfa, vm| f(p, dfa, vm))
}

/// The end of [`PREFIX`]'s match at the start of `line`, if it matches.
fn prefix_end(line: &str) -> Option<usize> {
    with_prefix(|p, dfa, vm| {
        let input = Input::new(line).anchored(Anchored::Yes);
        match p.dfa.try_search_fwd(dfa, &input) {
            Ok(m) => m.map(|m| m.offset()),
            // The lazy DFA gives up only on a configuration this one
            // does not have; the PikeVM never does.
            Err(_) => p.pikevm.find(vm, input).map(|m| m.end()),
        }
    })
}

/// Length in bytes of the log prefix at the start of `line` (0 when none).
/// After the level, only a dotted name followed by `:` or ` - ` is taken
/// for a logger (`ERROR core.utils: …`, `WARN c.e.Client - …`), and
/// Python's `ERROR:root:…`; a message that starts with a word stays whole.
pub fn prefix_len(line: &str) -> usize {
    prefix_end(line).unwrap_or(0)
}

/// Whether the line's log prefix gives it an informational level (INFO,
/// DEBUG, TRACE, NOTICE): such a line reports normal flow — a retry being
/// made, a value being printed — not a failure by itself.
pub fn is_informational(line: &str) -> bool {
    // The levels it looks for are upper-case words: a line with none of
    // them needs no regex.
    if !has_level_word(line.as_bytes()) {
        return zap_informational(line.as_bytes());
    }
    if let Some(informational) = informational_by_shape(line.as_bytes()) {
        return informational;
    }
    // The prefix alone decides (the regex is anchored and looks no further
    // than its match), and prefixes that differ only in their digits
    // decide alike (no class of the regex tells one digit from another):
    // a log's lines repeat a few prefix shapes, so the groups, which cost
    // twenty times the match, are read once per shape.
    let Some(end) = prefix_end(line) else {
        return false;
    };
    let prefix = &line[..end];
    thread_local! {
        static SHAPES: RefCell<Shapes> = const { RefCell::new(Shapes { known: Vec::new(), key: Vec::new() }) };
    }
    SHAPES.with(|shapes| {
        let Shapes { known, key } = &mut *shapes.borrow_mut();
        // Each shape is kept with its digits as `0`: one comparison of
        // bytes (memcmp) per shape of the same length, where comparing
        // byte pairs digit-aware was a third of a healthy INFO line's test.
        key.clear();
        key.extend(
            prefix
                .bytes()
                .map(|b| if b.is_ascii_digit() { b'0' } else { b }),
        );
        if let Some((_, informational)) = known.iter().find(|(k, _)| k == key) {
            return *informational;
        }
        let informational = informational_prefix(prefix);
        if known.len() >= PREFIX_SHAPES {
            known.remove(0);
        }
        known.push((key.clone(), informational));
        informational
    })
}

/// The prefix shapes [`is_informational`] remembers (each with its digits
/// as `0`, and its answer), and room to write a line's shape in.
struct Shapes {
    known: Vec<(Vec<u8>, bool)>,
    key: Vec<u8>,
}

/// Whether `line` contains `INFO`, `DEBUG`, `TRACE` or `NOTICE`: one pass
/// for a byte of each that other upper-case words seldom have (`F`, `B`,
/// `C`; not `I`, `D` or `T`, which `GET`, `HTTP` and ISO times have),
/// where a search per word made four passes over every line without one.
fn has_level_word(line: &[u8]) -> bool {
    let word_at = |p: usize, back: usize, word: &[u8]| {
        p.checked_sub(back)
            .is_some_and(|start| line[start..].starts_with(word))
    };
    memchr::memchr3_iter(b'F', b'B', b'C', line).any(|p| match line[p] {
        b'F' => word_at(p, 2, b"INFO"),
        // DEBU and TRAC: also logrus's four-letter levels.
        b'B' => word_at(p, 2, b"DEBU"),
        _ => word_at(p, 3, b"TRAC") || word_at(p, 4, b"NOTICE"),
    })
}

/// A line of zap's console encoder (Go: the OpenTelemetry Collector, many
/// operators) at a low level: an RFC 3339 time ending in `Z`, blanks, the
/// level in lower case, blanks (`2023-06-06T21:10:45.983Z\tinfo\tgohai/…`),
/// also after a container runtime's own timestamp.
/// Whether the line is a record of zap's console encoder at info or debug
/// (see `zap_informational`).
pub fn is_zap_informational(line: &str) -> bool {
    zap_informational(line.as_bytes())
}

fn zap_informational(line: &[u8]) -> bool {
    let level_after_time = |at: usize, len: usize| {
        let before = line[..at].trim_ascii_end();
        let blank_before = before.len() < at;
        let blank_after = line.get(at + len).is_some_and(u8::is_ascii_whitespace);
        // `…:45.983Z` or `…:45Z`: a digit, then the zone.
        blank_before
            && blank_after
            && before.len() >= 2
            && before.ends_with(b"Z")
            && before[before.len() - 2].is_ascii_digit()
    };
    [&b"info"[..], b"debug"].iter().any(|level| {
        memchr::memmem::find_iter(line, level).any(|at| level_after_time(at, level.len()))
    })
}

/// [`is_informational`]'s answer for a line that starts as most logs'
/// lines do (`2026-11-24 00:00:01,014 INFO etl.loader: …`), read by hand:
/// a date and time (`-` and `:` between, `T` or a space between them), a
/// fraction of one to nine digits, one space, one of [`PREFIX`]'s level
/// words and a space. [`PREFIX`] then matches the time and that level, as
/// every alternative it prefers before them fails on such a line (a
/// container tag needs ` |` or `[`, a Python level a colon after it), and
/// all after them is optional. `None` for any other line: the regex
/// decides. The lazy DFA over the prefix took 1,000 instructions a line.
fn informational_by_shape(line: &[u8]) -> Option<bool> {
    const DATE_TIME: &[u8; 19] = b"0000-00-00 00:00:00";
    const LEVELS: [(&[u8], bool); 12] = [
        (b"TRACE", true),
        (b"DEBUG", true),
        (b"INFO", true),
        (b"NOTICE", true),
        (b"WARN", false),
        (b"WARNING", false),
        (b"ERROR", false),
        (b"ERR", false),
        (b"FATAL", false),
        (b"CRITICAL", false),
        (b"SEVERE", false),
        (b"CRIT", false),
    ];
    let time = line.get(..DATE_TIME.len())?;
    let shaped = time.iter().zip(DATE_TIME).all(|(&b, &want)| match want {
        b'0' => b.is_ascii_digit(),
        b' ' => matches!(b, b' ' | b'T'),
        _ => b == want,
    });
    if !shaped {
        return None;
    }
    let mut rest = &line[DATE_TIME.len()..];
    if let Some(fraction) = rest.strip_prefix(b".").or_else(|| rest.strip_prefix(b",")) {
        let digits = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if !(1..=9).contains(&digits) {
            return None;
        }
        rest = &fraction[digits..];
    }
    let rest = rest.strip_prefix(b" ")?;
    LEVELS
        .iter()
        .find(|(word, _)| rest.starts_with(word) && rest.get(word.len()) == Some(&b' '))
        .map(|&(_, informational)| informational)
}

/// Prefix shapes [`is_informational`] remembers per thread.
const PREFIX_SHAPES: usize = 16;

fn informational_prefix(prefix: &str) -> bool {
    prefix_level(prefix).is_some_and(|level| is_informational_level(&level))
}

fn is_informational_level(level: &str) -> bool {
    // Also logrus's four-letter DEBU and TRAC.
    matches!(
        level,
        "INFO" | "DEBUG" | "TRACE" | "NOTICE" | "DEBU" | "TRAC"
    )
}

/// The level word of a log prefix, upper-case.
fn prefix_level(prefix: &str) -> Option<String> {
    with_prefix(|p, _, vm| {
        let mut caps = p.pikevm.create_captures();
        p.pikevm.captures(vm, prefix, &mut caps);
        caps.get_group_by_name("level")
            .or(caps.get_group_by_name("pylevel"))
    })
    .map(|span| {
        // The word alone: `[INFO]`, and logrus's `INFO[0000]`.
        prefix[span.range()]
            .trim_start_matches('[')
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .collect::<String>()
            .to_ascii_uppercase()
    })
}

/// A level word alone in brackets among the prefix's `[thread]` groups
/// (`[ERROR] msg`, `[main] [WARN] msg`, nginx's `[error]`): [`PREFIX`]
/// takes such a group for a thread's, as its groups come before the level.
/// Read for [`warns`] only: Terraform logs what a provider prints at
/// `[DEBUG]`, its own `[ERR]` lines too, so a bracketed informational
/// level does not make a line healthy.
fn bracketed_level(prefix: &str) -> Option<String> {
    const LEVELS: [&str; 12] = [
        "TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "ERR", "FATAL", "CRITICAL",
        "SEVERE", "CRIT",
    ];
    prefix.split('[').skip(1).find_map(|group| {
        let word = group.split_once(']')?.0;
        let upper = word.to_ascii_uppercase();
        // One case throughout: `[Error]` is more often a word in a message.
        let one_case = word == upper || word == word.to_ascii_lowercase();
        (one_case && LEVELS.contains(&upper.as_str())).then_some(upper)
    })
}

/// Whether the line begins a log record at a warning level or worse
/// (WARN, ERROR, FATAL, CRITICAL, SEVERE): a record that states a failure
/// of its own.
pub fn warns(line: &str) -> bool {
    if let Some(informational) = informational_by_shape(line.as_bytes()) {
        return !informational;
    }
    record_level(line).is_some_and(|level| !is_informational_level(&level))
}

/// The level word of the line's log prefix, upper-case: the prefix's own,
/// or one alone in brackets among its groups ([`bracketed_level`]).
fn record_level(line: &str) -> Option<String> {
    prefix_end(line)
        .and_then(|end| prefix_level(&line[..end]).or_else(|| bracketed_level(&line[..end])))
}

/// Whether the line's log prefix gives it the warning level (WARN,
/// WARNING): a record that may state a failure, or only advise.
pub fn is_warning(line: &str) -> bool {
    // Upper-case, as [`PREFIX`] takes levels: a line without the word
    // needs no regex.
    if memchr::memmem::find(line.as_bytes(), b"WARN").is_none() {
        return false;
    }
    record_level(line).is_some_and(|level| matches!(level.as_str(), "WARN" | "WARNING"))
}

/// The message after the log prefix, trimmed.
pub fn message(line: &str) -> &str {
    line[prefix_len(line)..].trim()
}

/// Whether two prefixes are the same but for their digits (timestamps).
pub fn same_prefix(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .all(|(x, y)| x == y || (x.is_ascii_digit() && y.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_the_warning_level() {
        for line in [
            "15:20:20,039 WARN  [org.jboss.resteasy.client.jaxrs.i18n] (Cleaner-0) RESTEASY004687: Closing",
            "2026-11-24T00:00:05Z [main] [WARN] retrying in 2s",
            "WARNING:root:slow answer",
        ] {
            assert!(is_warning(line), "{line}");
        }
        for line in [
            "2026-11-24 00:00:05,676 ERROR sts: AssumeRole failed (region us-east-1):",
            "[2026-12-03T10:07:14.210Z] INFO  c.e.Client - WARN counts 3",
            "the WARNING in the middle of a message",
            "",
        ] {
            assert!(!is_warning(line), "{line}");
        }
    }

    #[test]
    fn warns_at_a_warning_level_or_worse() {
        for line in [
            "2026-11-24 00:00:05,676 ERROR sts: AssumeRole failed (region us-east-1):",
            "[2026-12-03T10:07:14.210Z] WARN  c.e.aws.Sts - AssumeRole failed:",
            "ERROR:root:call failed",
            "2026-11-24T00:00:05Z [worker-3] CRITICAL app.main: giving up",
            // A level in brackets, with or without a logger after it.
            "[ERROR] request failed with status code 401",
            "[ERROR] @nestjs/axios request failed",
            "2026-11-24T00:00:05Z [main] [WARN] retrying in 2s",
            "2026/11/24 00:00:05 [error] 1234#0: *5 upstream timed out",
        ] {
            assert!(warns(line), "{line}");
        }
        for line in [
            "2026-11-24 00:00:05,936 DEBUG slack.web: response:",
            "[2026-12-03T10:07:14.210Z] INFO  c.e.Client - done",
            "[INFO] @nestjs/core started",
            "2026/11/24 00:00:05 [notice] 1#1: start worker process 29",
            "[Error] not a level",
            // A provider's own error, which Terraform logs at DEBUG.
            "2022-06-02T15:15:39.215+0200 [DEBUG] provider.x: 2022/06/02 15:15:39 [ERR] POST failed",
            "{\"ok\":false,\"error\":\"not_in_channel\"}",
            "",
        ] {
            assert!(!warns(line), "{line}");
        }
    }

    #[test]
    fn common_prefixes() {
        for (line, msg) in [
            (
                "2024-05-01 10:00:00,123 ERROR core.utils: API error in x",
                "API error in x",
            ),
            ("ERROR:core.utils:API error in x", "API error in x"),
            (
                "2024-05-01T10:00:00Z [main] WARN  c.e.Client - retry 2",
                "retry 2",
            ),
            (
                "api-1  | 2024-05-01 10:00:00 ERROR failed: 401",
                "failed: 401",
            ),
            ("[pod/web-7f/web] 10:00:00.5 INFO started", "started"),
            (
                "ERROR Token request failed: 400",
                "Token request failed: 400",
            ),
            ("Nov 24 21:08:22 host app[12]: x", "host app[12]: x"),
            ("plain text line", "plain text line"),
            ("ERROR HttpError: boom", "HttpError: boom"),
        ] {
            assert_eq!(message(line), msg, "{line}");
        }
    }

    #[test]
    fn informational_levels() {
        assert!(is_informational(
            "INFO:slack_sdk.web.base_client:A retry handler found"
        ));
        assert!(is_informational(
            "2024-05-01 10:00:00 [main] DEBUG c.e.Client - got 401"
        ));
        assert!(!is_informational(
            "2024-05-01 10:00:00 WARN fetch failed: 429"
        ));
        assert!(!is_informational("ERROR:root:HTTP Error 401: Unauthorized"));
        assert!(!is_informational("HTTP Error 401: Unauthorized"));
        // logrus on a terminal (docker, helm): the level, then seconds.
        assert!(is_informational(
            "INFO[0000] Error logging in to v2 endpoint, trying next endpoint: Get \"https://localhost:5000/v2/\": http: server gave HTTP response to HTTPS client"
        ));
        assert!(is_informational("DEBU[0012] GET https://registry/v2/ 401"));
        assert!(!is_informational(
            "ERRO[0003] error waiting for container: unexpected EOF"
        ));
        assert!(warns("WARN[0001] retrying in 2s: 503"));
        // zap's console encoder, lower-case levels, also after a runtime's
        // timestamp.
        assert!(is_informational(
            "2023-06-06T21:10:45.983Z\tinfo\tgohai/gohai.go:36\tFailed to retrieve filesystem metadata\t{\"error\": \"df failed\"}"
        ));
        assert!(is_informational(
            "2023-06-06 16:10:45 2023-06-06T21:10:45.988Z    debug    exporterhelper/queue.go:92    Sending failed: 503"
        ));
        assert!(!is_informational(
            "2023-06-06T21:10:45.983Z\terror\texporterhelper/queue_sender.go:101\tExporting failed. Dropping data.\t{\"error\": \"Permanent error: rpc error: code = Unauthenticated\"}"
        ));
        assert!(!is_informational("the info endpoint answered 401"));
    }

    /// Remembering prefix shapes changes no answer: over every line of the
    /// fixtures and field cases, read twice (the second time from the
    /// shapes), each answer is the one the whole line's groups give.
    #[test]
    fn shapes_answer_as_the_groups_do() {
        let mut lines = 0;
        for text in crate::test_corpus::fixture_and_field_texts() {
            for line in text.lines().chain(text.lines()) {
                let levels = ["INFO", "DEBUG", "TRACE", "NOTICE"];
                if !levels.iter().any(|l| line.contains(l)) {
                    continue;
                }
                lines += 1;
                assert_eq!(is_informational(line), informational_prefix(line), "{line}");
            }
        }
        assert!(lines > 300, "{lines} lines with a level");
    }

    /// [`informational_by_shape`] answers as the prefix's groups do
    /// wherever it answers: every line of the fixtures and field cases
    /// (and of the logs in `FAULTLINE_TEST_LOGS`, `:`-separated, when set),
    /// and lines at the edges of its shape.
    #[test]
    fn shape_answers_as_the_groups_do() {
        let mut texts = crate::test_corpus::fixture_and_field_texts();
        texts.extend(crate::test_corpus::named_test_logs());
        let mut edges = Vec::new();
        for level in [
            "TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "WARNING", "ERROR", "ERR", "FATAL",
            "CRITICAL", "SEVERE", "CRIT", "INFOS", "INF", "Info", "[INFO]",
        ] {
            for time in [
                "2026-11-24 00:00:01",
                "2026-11-24T00:00:01",
                "2026/11/24 00:00:01",
                "2026-11-24 00:00:01,014",
                "2026-11-24 00:00:01.123456789",
                "2026-11-24 00:00:01.1234567890",
                "2026-11-24 00:00:01.",
                "2026-11-24 00:00:01,",
                "2026-11-24T00:00:01Z",
                "2026-11-24 00:00:01 +0000",
                " 2026-11-24 00:00:01",
                "2026-11-24 0:00:01",
            ] {
                for after in [" ", "  ", "\t", ":", ": ", ":root:", " |", ""] {
                    edges.push(format!("{time} {level}{after}etl.loader: ok"));
                    edges.push(format!("{time}  {level}{after}x INFO"));
                }
            }
        }
        let (mut answered, mut lines) = (0, 0);
        for line in texts
            .iter()
            .flat_map(|t| t.lines())
            .chain(edges.iter().map(String::as_str))
        {
            let Some(by_shape) = informational_by_shape(line.as_bytes()) else {
                continue;
            };
            let end = prefix_end(line).expect("the prefix matches every line");
            assert_eq!(by_shape, informational_prefix(&line[..end]), "{line}");
            answered += usize::from(by_shape);
            lines += 1;
        }
        assert!(
            lines > 150 && answered > 50,
            "{lines} lines, {answered} informational"
        );
    }

    /// The forward engines find what the `regex` crate's whole regex finds:
    /// the same prefix end and the same level, over every line of the
    /// fixtures and field cases and lines at the edges of its bounds.
    #[test]
    fn forward_engines_find_what_the_regex_finds() {
        let re = regex::Regex::new(PREFIX).unwrap();
        let long = |n: usize, c: char| format!("[{}] ERROR x.y: z", c.to_string().repeat(n));
        let mut edges = vec![
            String::new(),
            "\r\n".to_string(),
            "[pod/é/c] 10:00:00 INFO a.b: ü".to_string(),
            "api-1  | 2024-05-01 10:00:00 [main] [req é] DEBUG c.é.Client[x] - hi".to_string(),
            "INFO:ß.root:msg".to_string(),
            "INFO[0000] Error logging in to v2 endpoint, trying next endpoint".to_string(),
            "ERRO[0003] error waiting for container: unexpected EOF".to_string(),
        ];
        for n in [40, 80, 81, 100, 101] {
            edges.extend([long(n, 'a'), long(n, 'é'), long(n, '😀')]);
        }
        let texts = crate::test_corpus::fixture_and_field_texts();
        let mut lines = 0;
        for line in texts
            .iter()
            .flat_map(|t| t.lines())
            .chain(edges.iter().map(String::as_str))
        {
            lines += 1;
            let end = re.find(line).map(|m| m.end());
            assert_eq!(prefix_end(line), end, "{line}");
            let Some(end) = end else { continue };
            let c = re.captures(&line[..end]).unwrap();
            let level = c.name("level").or(c.name("pylevel")).map(|m| {
                // The word: `[INFO]`, and logrus's `INFO[0000]`.
                let word = m.as_str().trim_start_matches('[');
                let end = word
                    .find(|c: char| !c.is_ascii_alphabetic())
                    .unwrap_or(word.len());
                word[..end].to_ascii_uppercase()
            });
            let informational = matches!(
                level.as_deref(),
                Some("INFO" | "DEBUG" | "TRACE" | "NOTICE" | "DEBU" | "TRAC")
            );
            assert_eq!(informational_prefix(&line[..end]), informational, "{line}");
        }
        assert!(lines > 10_000, "{lines} lines");
    }

    /// [`has_level_word`] finds a level word exactly where a substring
    /// search for each finds one: every line of the fixtures and field
    /// cases, and the words at a line's edges, cut short, or glued.
    #[test]
    fn level_words_found_in_one_pass() {
        // DEBU and TRAC cover DEBUG and TRACE (logrus writes the four).
        let levels = ["INFO", "DEBU", "TRAC", "NOTICE"];
        let mut lines: Vec<String> = crate::test_corpus::fixture_and_field_texts()
            .iter()
            .flat_map(|t| t.lines().map(str::to_string).collect::<Vec<_>>())
            .collect();
        for level in levels {
            let cut = &level[..level.len() - 1];
            for line in [
                level.to_string(),
                format!("x{level}"),
                format!("{cut} {cut}x"),
                format!("{cut}{level}"),
                format!("TID{level}DT"),
                format!("FBC{level}CBF"),
                level.to_lowercase(),
            ] {
                lines.push(line);
            }
        }
        let mut found = 0;
        for line in &lines {
            let has = levels.iter().any(|l| line.contains(l));
            assert_eq!(has_level_word(line.as_bytes()), has, "{line}");
            found += usize::from(has);
        }
        assert!(found > 150, "{found}");
    }

    #[test]
    fn prefixes_compare_without_digits() {
        assert!(same_prefix("10:00:00.123 ERROR ", "10:00:00.124 ERROR "));
        assert!(!same_prefix("10:00:00.123 ERROR ", "10:00:00.124 INFO  "));
    }
}
