//! Stage 3, incidents: ties a request, its status, headers, body and the
//! exception that reported it into one failing exchange, then derives the
//! facts rules test (endpoint kind, provider, region, messages, codes, …).
//!
//! Three parts, data flowing one way:
//! - [`builder`]: a state machine fed one chunk's events in input order; it
//!   keeps a few open drafts (each with a summary, so no event is looked at
//!   twice) and hands out finished exchanges, failed or successful;
//! - [`classify`] and [`context`]: the facts of a finished failure, and
//!   [`compare`] the ones that set two of its places side by side;
//! - [`fold`]: across chunks and sources, folds repeats of the same failure
//!   as they come and marks failures that a later success recovered.

mod builder;
mod classify;
mod compare;
mod context;
mod fold;

pub use builder::{Builder, Finished, MAX_FACT_VALUES, MAX_HEADERS, SealTied, Success};
pub use fold::{
    Aggregate, Collector, FoldKey, KeptKeys, Light, MAX_KEPT, MAX_KEPT_BYTES, MAX_REDUCED,
    MAX_REDUCED_BYTES, NotKept, Top, add_fold_facts, fold_key, incident_size,
};

use crate::facts::{Facts, Line};
use crate::input::{Chunk, LineIndex, Loc, SourceId};
use crate::parse::Event;
use crate::providers::Providers;

/// At most this many repeat places are kept per incident; the count is exact.
pub const MAX_REPEAT_PLACES: usize = 64;

/// One failing exchange.
#[derive(Debug, Clone)]
pub struct Incident {
    pub source: SourceId,
    /// Where it starts (its first event).
    pub loc: Loc,
    pub facts: Facts,
    /// The incident's lines, kept to render evidence without the whole source.
    pub excerpt: Line,
    /// Where later occurrences of the same failure are (the first
    /// [`MAX_REPEAT_PLACES`] of them); [`Incident::repeat_count`] is exact.
    pub repeats: Vec<Loc>,
    /// How many later occurrences were folded into this one.
    pub repeat_count: usize,
    /// Where the same method and URL later succeeded, when they did after
    /// the last occurrence of this failure (a retry that worked).
    pub recovered: Option<Loc>,
    /// Remarks on how the incident was read, e.g. that its evidence was capped.
    pub notes: Vec<String>,
    /// Its diagnoses, when it was reduced to its report form as it
    /// completed ([`crate::rank::reduce`]): its facts are then only the few
    /// the reports show, and it is not diagnosed again.
    pub diagnosed: Option<Vec<crate::rank::Diagnosis>>,
    /// Byte offset just past its last event, for ordering against successes.
    pub(crate) end: usize,
    /// Its last line (of its last occurrence, once repeats are folded in).
    pub(crate) end_line: usize,
}

/// Facts that make an incident an API call or its transport failing, not
/// just any program error (a `KeyError` in a log is not an exchange).
const EXCHANGE_FACTS: &[&str] = &[
    "status",
    "url",
    "url.host",
    "method",
    "body",
    "error.code",
    "challenge.scheme",
    // An HTTP client's own exception (requests, urllib3, curl, axios, …).
    "client",
];

/// Exceptions whose message quotes names in the program (`AttributeError:
/// 'API' object has no attribute 'search'`, `ModuleNotFoundError: No module
/// named 'google.auth'`): a quoted name there is code, not an exchange word.
fn names_code(exception_type: &str) -> bool {
    let name = exception_type
        .rsplit(['.', ':'])
        .next()
        .unwrap_or(exception_type);
    matches!(
        name,
        "AttributeError"
            | "KeyError"
            | "NameError"
            | "IndexError"
            | "UnboundLocalError"
            | "ImportError"
            | "ModuleNotFoundError"
            | "NoMethodError"
    )
}

/// Whether an exception's message is a value the program could not
/// handle, printed whole (Elixir's `** (CaseClauseError) no case clause
/// matching: %HTTPoison.Response{…, status_code: 200}`): its words are the
/// value's, a response the program was given, and tell no failed call
/// (a failing status or a transport error in it still does, as facts;
/// the URL it was fetched from does not).
fn dumps_value(exception_type: &str) -> bool {
    matches!(
        exception_type,
        "MatchError"
            | "CaseClauseError"
            | "FunctionClauseError"
            | "WithClauseError"
            | "CondClauseError"
            | "BadMapError"
            | "BadStructError"
            | "BadBooleanError"
    )
}

/// Whether a message says the server answered with a status that is not a
/// failure (`Server returned HTTP status 202 (no content available)`):
/// the client then failed on a successful answer, and the message's
/// exchange words tell no failed call.
fn says_answered_ok(message: &str) -> bool {
    static ANSWERED_OK: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(?i)\b(?:returned|responded with|answered(?: with)?|received|got)\s+(?:an?\s+)?(?:HTTP\s+)?(?:status(?:\s+code)?\s+)?[123][0-9][0-9]\b",
        )
        .expect("a valid pattern")
    });
    static FAILING_STATUS: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\b[45][0-9][0-9]\b").expect("a valid pattern")
    });
    ANSWERED_OK.is_match(message) && !FAILING_STATUS.is_match(message)
}

/// `message` without its quoted names (`'x'`, `"x"`, `` `x' ``, `` `x` ``:
/// no spaces inside), which [`names_code`] exceptions put there.
fn without_quoted_names(message: &str) -> String {
    static QUOTED_NAME: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"'[^'\s]*'|"[^"\s]*"|`[^`'\s]*[`']"#).expect("a valid pattern")
    });
    QUOTED_NAME.replace_all(message, "").into_owned()
}

/// `message` without the source files and JVM classes it names (PHP's
/// `Uncaught InvalidArgumentException: … in
/// /var/www/vendor/selling-partner-api/lib/Model/X.php:308`, Android's
/// `Failed resolution of: Lcom/amazonaws/mobile/auth/userpools/X;`): a
/// directory or package there is the program's (`sp-api`, `auth`), not an
/// exchange word.
fn without_code_paths(message: &str) -> std::borrow::Cow<'_, str> {
    static CODE_PATH: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r#"(?:\b[A-Za-z]:)?[/\\][^\s'"()<>]*\.(?:php|py|rb|js|mjs|cjs|ts|java|kt|go|cs|rs|scala|swift|dart|ex|exs)(?::[0-9]+)*\b|\bL[a-z][A-Za-z0-9_$]*(?:/[A-Za-z0-9_$]+)+;"#,
        )
        .expect("a valid pattern")
    });
    CODE_PATH.replace_all(message, "")
}

impl Incident {
    /// Whether this is a failing exchange (request, response or transport)
    /// rather than an error of the program around it: facts of an exchange,
    /// or a message in the words of one (`providers.toml`'s `exchange_words`),
    /// or in a provider's own error wording (its `messages`: BigQuery's
    /// `User does not have bigquery.jobs.create permission` names no status,
    /// URL or exchange word, and is an API's refusal all the same).
    ///
    /// A program error that names code (a `KeyError`, an `AttributeError`)
    /// is judged without the quoted names in its message, and a response
    /// body logged before it is not enough on its own: that body was read,
    /// and the program failed on what it held (`KeyError:
    /// 'AuthenticationResult'` after Cognito answered with a challenge).
    pub fn is_exchange(&self, providers: &Providers) -> bool {
        let code_error = self.facts.str("exception.type").is_some_and(names_code);
        let value = self.facts.str("exception.type").is_some_and(dumps_value);
        EXCHANGE_FACTS
            .iter()
            .filter(|f| !(code_error && **f == "body"))
            // The value's own request (HTTPoison's `request_url`) is no
            // failed call: its status would be.
            .filter(|f| !(value && matches!(**f, "url" | "url.host" | "method" | "body")))
            .any(|f| !self.facts.get(f).is_empty())
            || self
                .facts
                .iter()
                .any(|(name, _)| name.starts_with("header.") || name.starts_with("request."))
            || (!value
                && self.facts.get("message").iter().any(|m| {
                    let m = m.value.to_string();
                    if says_answered_ok(&m) {
                        return false;
                    }
                    let m = without_code_paths(&m);
                    let words = if code_error {
                        std::borrow::Cow::Owned(without_quoted_names(&m))
                    } else {
                        std::borrow::Cow::Borrowed(m.as_ref())
                    };
                    providers.mentions_exchange(&words) || providers.is_error_message(&m)
                }))
    }

    /// `POST https://api.mypurecloud.com/oauth/token → 403 invalid_grant`
    pub fn headline(&self) -> String {
        let f = &self.facts;
        let mut out = String::new();
        if let Some(m) = f.str("method") {
            out.push_str(m);
            out.push(' ');
        }
        // Without a URL: the host a transport error named, else what failed.
        let host = f.str("url.host").map(|h| match f.num("url.port") {
            Some(p) => format!("{h}:{p}"),
            None => h.to_string(),
        });
        match (f.str("url"), host) {
            (Some(u), _) => out.push_str(u),
            (None, Some(h)) => out.push_str(&h),
            (None, None) if out.is_empty() => out.push_str(
                f.str("exception.type")
                    .or_else(|| f.str("exception.code"))
                    .or_else(|| f.str("html.title"))
                    .or_else(|| f.str("statement").map(|_| "statement"))
                    .unwrap_or("response"),
            ),
            (None, None) => out.push_str("(unknown URL)"),
        }
        if f.get("status").is_empty()
            && let Some(t) = f
                .str("exception.type")
                .filter(|_| f.str("url").is_some() || f.str("url.host").is_some())
        {
            // A transport failure: say which, briefly.
            out.push_str(" → ");
            out.push_str(t);
        }
        let mut outcome = Vec::new();
        if let Some(s) = f.num("status") {
            outcome.push(format!("{}", s as i64));
        }
        if let Some(e) = f.str("error") {
            outcome.push(e.to_string());
        }
        if !outcome.is_empty() {
            out.push_str(" → ");
            out.push_str(&outcome.join(" "));
        }
        if let Some(r) = &self.recovered {
            out.push_str(&format!(" (recovered: succeeded at line {})", r.line));
        }
        out
    }

    /// `line 46` / `lines 12, 30, …` / `b.log:7`: where the repeats are, each
    /// with its source name when it is not this incident's source.
    pub fn repeat_places<'n>(&self, name: impl Fn(SourceId) -> &'n str, max: usize) -> String {
        let mut parts: Vec<String> = self
            .repeats
            .iter()
            .take(max)
            .map(|l| {
                if l.source == self.source {
                    l.line.to_string()
                } else {
                    format!("{}:{}", name(l.source), l.line)
                }
            })
            .collect();
        if self.repeat_count > parts.len() {
            parts.push("…".into());
        }
        let word = if self.repeat_count == 1 {
            "line"
        } else {
            "lines"
        };
        format!("{word} {}", parts.join(", "))
    }
}

/// One chunk's finished exchanges, in input order: what a (later parallel)
/// scanner produces per chunk and hands to a [`Collector`] in order.
pub fn build(
    chunk: &Chunk,
    events: Vec<Event>,
    index: &LineIndex,
    providers: &Providers,
) -> Vec<Finished> {
    let mut builder = Builder::new(chunk, index, providers);
    let mut out = Vec::new();
    for event in events {
        builder.push(event, &mut out);
    }
    builder.finish(&mut out);
    out
}

/// Folds repeats of a list of incidents already built (tests, tools).
pub fn fold_repeats(incidents: Vec<Incident>) -> Vec<Incident> {
    let mut c = Collector::default();
    for i in incidents {
        c.push(Finished::Failure(Box::new(i)));
    }
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::says_answered_ok;

    #[test]
    fn a_client_failing_on_a_successful_answer_is_told_apart() {
        for ok in [
            "Server returned HTTP status 202 (no content available)",
            "the service responded with 204, expected a body",
            "Got status code 301 without a Location header",
        ] {
            assert!(says_answered_ok(ok), "{ok}");
        }
        for failing in [
            "Server returned HTTP status 401 (Unauthorized)",
            "expected 200 but got 503 Service Unavailable",
            "connection reset by peer",
            "received 2 records from https://api.example.com/v1/items",
        ] {
            assert!(!says_answered_ok(failing), "{failing}");
        }
    }
}
