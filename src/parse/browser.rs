//! Browser console lines: what DevTools shows (and people paste) and what
//! Chromium logs with `--enable-logging`:
//!
//! - `GET https://api.example.com/x 403 (Forbidden)`, `POST https://… net::ERR_FAILED 401`,
//!   optionally after the script location (`xhr.js:247 `, `VM12:1 `);
//! - `Failed to load resource: the server responded with a status of 401 (Unauthorized)`,
//!   `Failed to load resource: net::ERR_NAME_NOT_RESOLVED`;
//! - `Access to fetch at 'URL' from origin 'ORIGIN' has been blocked by CORS policy: …`;
//! - Chromium's log wrapper `[pid:tid:time:INFO:CONSOLE(5)] "message", source: URL (5)`,
//!   whose `source` is the failing resource only for a network message (for the others it
//!   is the page, never taken for the failing URL).

use std::sync::OnceLock;

use memchr::memmem::Finder;
use regex::Regex;

use super::{Ctx, EventKind, Field, LineParser, Lines, Value};

pub struct BrowserConsole;

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("browser regex"))
}

/// Chromium's `--enable-logging` wrapper of a console message.
fn chromium_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r#"^\[[0-9]+:[0-9]+:[0-9]{4}/[0-9]{6}\.[0-9]+:[A-Z]+:CONSOLE(?:\([0-9]+\)|:[0-9]+)\] "(?P<msg>.*)", source: (?P<source>\S*)(?: \([0-9]+\))?\s*$"#,
    )
}

fn cors_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        // Case-insensitive: the text is also met lower-cased (copied from a
        // search result or a ticket that normalised it).
        r"(?i)Access to (?:fetch|XMLHttpRequest|[a-z]+) at '(?P<url>[^']+)'(?: \(redirected from '[^']+'\))? from origin '(?P<origin>[^']+)' has been blocked by CORS policy: (?P<why>.*)",
    )
}

/// The older CORS wordings: Chrome before 2017 (`XMLHttpRequest cannot load
/// URL. No 'Access-Control-Allow-Origin' header … Origin 'O' is therefore not
/// allowed access.`, also `Fetch API cannot load`), and Firefox's
/// `Cross-Origin Request Blocked: … the remote resource at URL. (Reason: …)`.
fn old_cors_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r"(?i)(?:(?:XMLHttpRequest|Fetch API) cannot load|Cross-Origin Request Blocked: .*? the remote resource at) (?P<url>https?://\S+?)\.?(?:\s|$)(?P<why>.*?)(?:Origin '(?P<origin>[^']+)' is therefore not allowed access.*)?$",
    )
}

/// Whether a CORS failure's wording is in `msg`, whatever its case. Each
/// wording has a `c` where it starts or (`cors policy`) after a fixed
/// lead: the few `c`s of a line are tried in place, where a lower-cased
/// copy and three searches of it cost more than the rest of a console
/// line's parse.
fn mentions_cors(msg: &str) -> bool {
    let bytes = msg.as_bytes();
    let at = |from: usize, word: &str| {
        bytes
            .get(from..from + word.len())
            .is_some_and(|b| b.eq_ignore_ascii_case(word.as_bytes()))
    };
    memchr::memchr2_iter(b'c', b'C', bytes).any(|c| {
        at(c, "cannot load ")
            || at(c, "cross-origin request blocked")
            || (at(c, "cors policy: ")
                && c.checked_sub("blocked by ".len())
                    .is_some_and(|lead| at(lead, "blocked by ")))
    })
}

/// Whether `text` holds `literal`, by a finder built once in `cell`:
/// `str::contains` sets one up per call, which cost more than the search
/// on every line with a method in it.
fn holds(cell: &'static OnceLock<Finder<'static>>, literal: &'static str, text: &str) -> bool {
    cell.get_or_init(|| Finder::new(literal))
        .find(text.as_bytes())
        .is_some()
}

fn holds_console(text: &str) -> bool {
    static FINDER: OnceLock<Finder<'static>> = OnceLock::new();
    holds(&FINDER, ":CONSOLE", text)
}

fn holds_failed_load(text: &str) -> bool {
    static FINDER: OnceLock<Finder<'static>> = OnceLock::new();
    holds(&FINDER, "Failed to load resource: ", text)
}

fn failed_load_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r"Failed to load resource: (?:the server responded with a status of (?P<status>[0-9]{3}) \((?P<reason>[^)]*)\)|net::(?P<code>ERR_[A-Z_]+))",
    )
}

/// The failed resource's link DevTools prints before a network message, as
/// copied: `api.example.com/v2/users/me:1 Failed to load resource: …` (the
/// scheme dropped, the resource's "line" `:1` after it). Only a token that
/// looks like one (a host with a dot, then a path, or a URL with a scheme).
fn resource_link_before(before: &str) -> Option<&str> {
    let token = before.trim_end().rsplit(char::is_whitespace).next()?;
    let link = match token.rsplit_once(':') {
        Some((link, line)) if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) => link,
        _ => token,
    };
    let rest = link
        .strip_prefix("https://")
        .or_else(|| link.strip_prefix("http://"))
        .unwrap_or(link);
    let (host, _) = rest.split_once('/')?;
    let hostlike = host.contains('.')
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'));
    hostlike.then_some(link)
}

/// `GET https://… 403 (Forbidden)` / `… net::ERR_FAILED 401 (Unauthorized)`,
/// and the status copied from a network panel's columns (`GET https://…  504`:
/// a tab or several spaces before it, and no reason).
fn request_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r"(?:^|\s)(?P<method>GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (?P<url>https?://\S+|/\S*)(?: net::(?P<code>ERR_[A-Z_]+))?(?:[ \t]+(?P<status>[0-9]{3})(?: \((?P<reason>[^)]*)\))?)?\s*$",
    )
}

/// The facts of one console message (`msg` and `source` are slices of
/// `lines.text`); `None` when it states no failure.
fn message(ctx: &mut Ctx, lines: &Lines, msg: &str, source: Option<&str>) -> Option<Vec<Field>> {
    let mut fields = Vec::new();
    // Literal checks first: a regex compiles only for a message it may match.
    if mentions_cors(msg)
        && let Some(c) = cors_re()
            .captures(msg)
            .or_else(|| old_cors_re().captures(msg))
        && !c.name("why").is_some_and(|w| w.as_str().trim().is_empty())
    {
        let at = c.get(0)?;
        fields.push(lines.str_field("exception.message", at.as_str().trim_end()));
        fields.push(lines.str_field("url", c.name("url")?.as_str()));
        if let Some(origin) = c.name("origin") {
            fields.push(lines.str_field("request.header.origin", origin.as_str()));
        }
        return Some(fields);
    }
    if holds_failed_load(msg)
        && let Some(c) = failed_load_re().captures(msg)
    {
        fields.push(lines.str_field("exception.message", msg.trim_end()));
        if let Some(s) = c.name("status") {
            fields.push(lines.field(
                "status",
                Value::Num(s.as_str().parse().unwrap_or(0.0)),
                s.as_str(),
            ));
            if let Some(r) = c.name("reason").filter(|r| !r.as_str().is_empty()) {
                fields.push(lines.str_field("reason", r.as_str()));
            }
        }
        if let Some(code) = c.name("code") {
            fields.push(lines.str_field("exception.code", code.as_str()));
        }
        // For a network message the source is the resource that failed;
        // copied from DevTools, it is the link printed before the message.
        if let Some(src) = source.filter(|s| s.starts_with("http")) {
            fields.push(lines.str_field("url", src));
        } else if let Some(url) = resource_link_before(&msg[..c.get(0)?.start()]) {
            fields.push(lines.str_field("url", url));
        }
        return Some(fields);
    }
    // The URL follows the method and a space.
    if ctx.has_method_before_target(msg)
        && let Some(c) = request_re().captures(msg)
    {
        let status = c
            .name("status")
            .filter(|s| s.as_str().starts_with(['4', '5']));
        let code = c.name("code");
        if status.is_none() && code.is_none() {
            return None;
        }
        fields.push(lines.str_field("exception.message", msg.trim()));
        fields.push(lines.str_field("method", c.name("method")?.as_str()));
        fields.push(lines.str_field("url", c.name("url")?.as_str()));
        if let Some(s) = status {
            fields.push(lines.field(
                "status",
                Value::Num(s.as_str().parse().unwrap_or(0.0)),
                s.as_str(),
            ));
        }
        if let Some(r) = c.name("reason").filter(|r| !r.as_str().is_empty()) {
            fields.push(lines.str_field("reason", r.as_str()));
        }
        if let Some(code) = code {
            fields.push(lines.str_field("exception.code", code.as_str()));
        }
        return Some(fields);
    }
    None
}

impl LineParser for BrowserConsole {
    fn triggers(&self) -> &'static [&'static str] {
        &[
            ":CONSOLE",
            "Access to ",
            "cannot load ",
            "Cross-Origin Request Blocked",
            "Failed to load resource",
            "net::ERR_",
            "GET ",
            "POST ",
            "PUT ",
            "PATCH ",
            "DELETE ",
            "HEAD ",
            "OPTIONS ",
        ]
    }

    fn parse(&self, ctx: &mut Ctx, lines: &Lines, i: usize) -> Option<usize> {
        let line = lines.line(i);
        let span = lines.span_of(line.trim_end());
        if holds_console(line)
            && let Some(c) = chromium_re().captures(line)
        {
            let msg = c.name("msg")?.as_str();
            let source = c.name("source").map(|s| s.as_str());
            let fields = match message(ctx, lines, msg, source) {
                Some(f) => f,
                None => {
                    // Anything else the page logged: a failure only if it
                    // states one, and never at the page's own URL.
                    let mut found = super::exception::exception_at(
                        &Lines {
                            text: lines.text,
                            base: lines.base,
                            bounds: vec![sub_bounds(lines, msg)],
                            saw_end: Default::default(),
                            exception_memo: Default::default(),
                        },
                        0,
                    )
                    .map(|(f, _)| f)
                    .unwrap_or_default();
                    if found.is_empty() {
                        found = super::signal::scan(lines, msg);
                        if !super::signal::is_signal(&found) {
                            return Some(1);
                        }
                        found.insert(0, lines.str_field("exception.message", msg));
                    }
                    found
                }
            };
            ctx.emit(EventKind::Exception, span, fields);
            return Some(1);
        }
        // DevTools text: only the network and CORS forms; a line with no
        // failure in it is left to the other parsers.
        let fields = message(ctx, lines, line, None)?;
        ctx.emit(EventKind::Exception, span, fields);
        Some(1)
    }
}

/// Bounds (relative to `lines.text`) of a slice of it.
fn sub_bounds(lines: &Lines, sub: &str) -> (usize, usize) {
    let start = lines.span_of(sub).start - lines.base;
    (start, start + sub.len())
}

#[cfg(test)]
mod tests {
    use super::super::tests::chunk;
    use super::super::{EventKind, parse_chunk};

    use super::super::tests::field_value as get;

    /// Lines of the fixtures and field cases, and lines made to test the
    /// edges of the literal checks before the regexes.
    fn check_texts() -> Vec<String> {
        let mut texts: Vec<String> = crate::test_corpus::fixture_and_field_lines();
        for edge in [
            "GET /x 403 (Forbidden)",
            "GET https://a.example/x 403",
            "GET https://a.example/x  504",
            "GET https://a.example/x\t503",
            "GET http://a.example/x",
            "GET httpx://a.example/x 403",
            "\"GET /x HTTP/1.1\" 404 12",
            "xhr.js:1\tPOST /token 401",
            "x\u{a0}PUT /x 500",
            "x\u{2003}DELETE https://a.example/x 502",
            "xGET /x 500",
            "é GET /x -> 404",
            "GET  /x 500",
            "OPTIONS /",
            "ACCESS TO fetch at 'https://a.example' from origin 'https://b.example' has been BLOCKED BY CORS POLICY: no",
            "XMLHttpRequest CANNOT LOAD https://a.example/x. No header",
            "cross-ORIGIN request Blocked: the remote resource at https://a.example/x. (Reason: x)",
            "cors policy: not blocked by",
            "blocked by cors polic",
            "c",
        ] {
            texts.push(edge.to_string());
        }
        texts
    }

    /// The checks before the regexes let every match through:
    /// [`super::mentions_cors`] says what a lower-cased copy's search did,
    /// and a method before a target is found wherever the request
    /// regexes (DevTools', an app's `METHOD target -> status`) match.
    #[test]
    fn literal_checks_pass_every_match() {
        let (mut methods, mut cors) = (0, 0);
        for text in check_texts() {
            let lower = text.to_ascii_lowercase();
            let said = lower.contains("blocked by cors policy: ")
                || lower.contains("cannot load ")
                || lower.contains("cross-origin request blocked");
            assert_eq!(super::mentions_cors(&text), said, "{text}");
            cors += usize::from(said);
            let method = super::super::has_method_before_target(&text);
            let request = super::request_re().is_match(&text);
            let arrow = super::super::appline::arrow_re().is_match(&text);
            assert!(method || !(request || arrow), "{text}");
            methods += usize::from(method);
        }
        assert!(methods > 50 && cors > 5, "{methods} {cors}");
    }

    #[test]
    fn devtools_lines() {
        let t = "xhr.js:247  GET https://graph.example.com/v1.0/me 403 (Forbidden)\n";
        assert_eq!(get(t, "status").as_deref(), Some("403"));
        assert_eq!(
            get(t, "url").as_deref(),
            Some("https://graph.example.com/v1.0/me")
        );
        // Copied from a network panel's columns: the status after a tab
        // or spaces, no reason.
        for t in [
            "GET https://abc123.execute-api.us-east-1.amazonaws.com/prod/items?type=x  504\n",
            "POST https://fn.example.net/api/orders\t503\n",
        ] {
            assert!(get(t, "status").is_some_and(|s| s.starts_with('5')), "{t}");
            assert!(
                get(t, "url").is_some_and(|u| u.starts_with("https://")),
                "{t}"
            );
        }
        let t = "POST https://login.example.com/token net::ERR_FAILED 401 (Unauthorized)\n";
        assert_eq!(get(t, "exception.code").as_deref(), Some("ERR_FAILED"));
        assert_eq!(get(t, "status").as_deref(), Some("401"));
        let t = "Access to fetch at 'https://api.example.com/x' from origin 'http://localhost:3000' has been blocked by CORS policy: Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource.\n";
        assert_eq!(get(t, "url").as_deref(), Some("https://api.example.com/x"));
        assert_eq!(
            get(t, "request.header.origin").as_deref(),
            Some("http://localhost:3000")
        );
    }

    #[test]
    fn cors_in_any_case_and_older_wordings() {
        // Lower-cased as tickets and search results copy it.
        let t = "access to xmlhttprequest at 'https://id.example.org/oauth2/token' from origin 'https://app.example.net' has been blocked by cors policy: no 'access-control-allow-origin' header is present on the requested resource.\n";
        assert_eq!(
            get(t, "url").as_deref(),
            Some("https://id.example.org/oauth2/token")
        );
        assert_eq!(
            get(t, "request.header.origin").as_deref(),
            Some("https://app.example.net")
        );
        // Chrome before 2017, with a query string and a trailing period.
        let t = "XMLHttpRequest cannot load https://auth.example.io/token?grant_type=x&code=1. No 'Access-Control-Allow-Origin' header is present on the requested resource. Origin 'http://localhost:8080' is therefore not allowed access. The response had HTTP status code 400.\n";
        assert_eq!(
            get(t, "url").as_deref(),
            Some("https://auth.example.io/token?grant_type=x&code=1")
        );
        assert_eq!(
            get(t, "request.header.origin").as_deref(),
            Some("http://localhost:8080")
        );
        let t = "Fetch API cannot load http://10.0.0.7:3000/api/items. Response to preflight request doesn't pass access control check.\n";
        assert_eq!(
            get(t, "url").as_deref(),
            Some("http://10.0.0.7:3000/api/items")
        );
        // Firefox.
        let t = "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at https://api.example.com/v1/me. (Reason: CORS header 'Access-Control-Allow-Origin' missing).\n";
        assert_eq!(
            get(t, "url").as_deref(),
            Some("https://api.example.com/v1/me")
        );
        // Not a CORS failure: a sentence that merely says a page cannot load.
        assert!(get("The page cannot load images while offline\n", "url").is_none());
    }

    #[test]
    fn chromium_log_wrapper() {
        let t = "[1:1:1130/124329.792329:INFO:CONSOLE:5] \"users/me failed: 401 Unauthorized\", source: http://127.0.0.1:8080/app.html (5)\n";
        assert_eq!(get(t, "status").as_deref(), Some("401"));
        // The page that logged it is not the URL that failed.
        assert!(get(t, "url").is_none());
        let t = "[1:1:1130/124329.1:INFO:CONSOLE(0)] \"Failed to load resource: the server responded with a status of 401 (Unauthorized)\", source: http://127.0.0.1:8080/api/v2/users/me (0)\n";
        assert_eq!(
            get(t, "url").as_deref(),
            Some("http://127.0.0.1:8080/api/v2/users/me")
        );
        let t = "[1:1:1130/124329.1:INFO:CONSOLE:9] \"TypeError: Failed to fetch\", source: http://127.0.0.1:8080/app.html (9)\n";
        assert_eq!(get(t, "exception.type").as_deref(), Some("TypeError"));
    }

    /// DevTools copied: the failed resource's link, scheme dropped and its
    /// `:1` after it, comes before the message; a script location does not
    /// look like a host and path.
    #[test]
    fn failed_load_after_resource_link() {
        let t = "api.mypurecloud.de/api/v2/users/me?expand=presence:1 Failed to load resource: the server responded with a status of 401 ()\n";
        assert_eq!(
            get(t, "url").as_deref(),
            Some("api.mypurecloud.de/api/v2/users/me?expand=presence")
        );
        assert_eq!(get(t, "status").as_deref(), Some("401"));
        let t =
            "https://a.example.com/v1/x:1   Failed to load resource: net::ERR_CONNECTION_REFUSED\n";
        assert_eq!(get(t, "url").as_deref(), Some("https://a.example.com/v1/x"));
        for t in [
            "main.js:12 Failed to load resource: the server responded with a status of 500 ()\n",
            "Failed to load resource: the server responded with a status of 404 (Not Found)\n",
            "localhost/:1 Failed to load resource: the server responded with a status of 404 (Not Found)\n",
        ] {
            assert!(get(t, "url").is_none(), "{t}");
            assert!(get(t, "status").is_some(), "{t}");
        }
    }

    #[test]
    fn near_misses() {
        for t in [
            "GET https://api.example.com/x 200 (OK)\n",
            "[1:1:1130/124329.1:INFO:CONSOLE:5] \"loaded 401 rows\", source: http://127.0.0.1/app.html (5)\n",
            "GET https://api.example.com/x\n",
            "GET https://api.example.com/x  200\n",
        ] {
            assert!(
                parse_chunk(&chunk(t))
                    .iter()
                    .all(|e| e.kind != EventKind::Exception),
                "{t}"
            );
        }
    }
}
