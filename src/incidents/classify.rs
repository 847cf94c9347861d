//! The derived facts of a failing exchange: URL parts, endpoint kind,
//! provider and region, the primary `error` and every `error.code`, every
//! human-readable `message`, the parsed `WWW-Authenticate` challenge, the
//! body's format and an HTML page's title, `Retry-After` in seconds, and the
//! client that printed it. Provider knowledge comes from
//! `rules/providers.toml`; nothing here names a provider.

use std::sync::OnceLock;

use regex::Regex;

use crate::facts::{FactValue, Facts};
use crate::incidents::builder::ChunkCx;
use crate::input::{Loc, Span};
use crate::parse::{Value, time};
use crate::providers::Providers;

/// Derives url parts, endpoint kind, provider, region, error codes,
/// messages, challenge, body format, retry delay and client.
pub fn classify(facts: &mut Facts, cx: &ChunkCx) {
    let providers = cx.providers;
    url_facts(facts, cx);
    if let Some(host) = facts.first("url.host").cloned()
        && let Some(m) = providers.lookup_host(&host.value.to_string())
    {
        facts.push(
            "provider",
            Value::Str(m.provider.id.clone().into()),
            host.loc,
        );
        facts.push("provider.source", Value::Str("host".into()), host.loc);
        if let Some(r) = m.region {
            facts.push("region", Value::Str(r.id.clone().into()), host.loc);
            facts.push(
                "region.domain",
                Value::Str(r.domain.clone().into()),
                host.loc,
            );
            if let Some(sdk) = &r.sdk {
                facts.push("region.sdk", Value::Str(sdk.clone().into()), host.loc);
            }
        }
    }
    wrapped_response_body(facts);
    json_in_body_strings(facts);
    primary_error(facts);
    // A bare body that states its status (Genesys error bodies do; Azure API
    // Management, Hapi/Boom and NestJS say `statusCode`) stands in for the
    // missing status line; so does a numeric `code` in the 4xx/5xx range
    // (Genesys Messenger's `{"code":429,…}`), where a smaller or larger one
    // is an application code. Google's JSON error model nests it: its
    // `error.code` is "the HTTP status code" beside the canonical
    // `error.status` name (Google Analytics Data API's errors page), and is
    // read only with that name beside it. WordPress's REST errors put it in
    // `data` (`{"code": "rest_forbidden", "message": …, "data": {"status":
    // 401}}`), Strapi's and Spotify's in `error` (`{"error": {"status": 403,
    // "message": …}}`): numbers in the 4xx/5xx range there too. Todoist's
    // errors and Supabase Auth's hook errors call it `http_code` (`{"error":
    // …, "http_code": 403}`, `{"error": {"http_code": 403, …}}`). An SDK
    // that logs the response it got nests it there (smartsheet-python-sdk:
    // `{"response": {"statusCode": 429, "reason": …, "content": …}}`).
    const BODY_STATUS: [(&str, f64); 11] = [
        ("body.status", 100.0),
        ("body.statusCode", 100.0),
        ("body.status_code", 100.0),
        ("body.code", 400.0),
        ("body.error.code", 400.0),
        ("body.data.status", 400.0),
        ("body.error.status", 400.0),
        // Riot Games: `{"status": {"message": "Forbidden", "status_code": 403}}`.
        ("body.status.status_code", 400.0),
        ("body.http_code", 400.0),
        ("body.error.http_code", 400.0),
        ("body.response.statusCode", 400.0),
    ];
    // The canonical name, not a number: Strapi's `error.status` is the
    // status itself, and says nothing of an `error.code` beside it.
    let google_model = facts
        .first("body.error.status")
        .is_some_and(|v| v.value.as_num().is_none());
    if facts.get("status").is_empty()
        && let Some(v) = BODY_STATUS
            .iter()
            .filter(|&&(name, _)| name != "body.error.code" || google_model)
            .find_map(|&(name, low)| {
                facts
                    .first(name)
                    .filter(|v| v.value.as_num().is_some_and(|n| (low..600.0).contains(&n)))
            })
            .cloned()
    {
        facts.push("status", Value::Num(v.value.as_num().unwrap_or(0.0)), v.loc);
    }
    // JSON:API's error objects (App Store Connect, Amadeus): `{"errors":
    // [{"status": "429", "code": …, "title": …}]}`, the status "expressed
    // as a string value" (jsonapi.org, Error Objects).
    if facts.get("status").is_empty()
        && let Some(v) = facts.first("body.errors.0.status").cloned()
        && let Some(n) = v
            .value
            .as_num()
            .or_else(|| v.value.as_str()?.trim().parse::<f64>().ok())
        && (400.0..600.0).contains(&n)
    {
        facts.push("status", Value::Num(n), v.loc);
    }
    // A number in the 4xx/5xx range as an error object's `code` (CrowdStrike
    // Falcon's `{"errors": [{"code": 403, "message": "access denied,
    // authorization failed"}]}`); JSON:API's `code` is an application code
    // "expressed as a string value", so a string there is not read.
    if facts.get("status").is_empty()
        && let Some(v) = facts.first("body.errors.0.code").cloned()
        && let Value::Num(n) = v.value
        && (400.0..600.0).contains(&n)
    {
        facts.push("status", Value::Num(n), v.loc);
    }
    // A body that names its status by reason phrase only (Zendesk's
    // `{"error": {"title": "Forbidden", …}}`, a problem-details `title`,
    // API Gateway's `{"message": "Forbidden"}`, FastAPI's `{"detail":
    // "Not Found"}`).
    const BODY_REASON: [&str; 5] = [
        "body.error.title",
        "body.title",
        "body.error",
        "body.message",
        "body.detail",
    ];
    if facts.get("status").is_empty()
        && let Some((status, loc)) = BODY_REASON.iter().find_map(|name| {
            let v = facts.first(name)?;
            let status = crate::parse::status_of_reason(v.value.as_str()?)?;
            Some((status, v.loc))
        })
    {
        facts.push("status", Value::Num(f64::from(status)), loc);
    }
    if let Some(body) = facts.first("request.body").cloned() {
        let text = body.value.to_string();
        if !text.trim_start().starts_with('{') {
            for (k, v) in url::form_urlencoded::parse(text.as_bytes()) {
                facts.push(
                    format!("form.{k}"),
                    Value::Str(v.into_owned().into()),
                    body.loc,
                );
            }
        }
    }
    body_format(facts);
    title_status(facts);
    messages(facts);
    error_codes(facts, providers);
    vocabulary_provider(facts, providers);
    challenges(facts);
    retry_after(facts);
    rate_limit_reset(facts);
    proxy_status(facts);
    if let Some((client, loc)) = detect_client(facts) {
        facts.push("client", Value::Str(client.into()), loc);
    }
}

/// `url` made absolute, its parts, and `endpoint`.
fn url_facts(facts: &mut Facts, cx: &ChunkCx) {
    // A bare path plus a host (curl's `Host:` header or `Connected to`) is a URL.
    if let Some(url) = facts.first("url").cloned() {
        let text = url.value.to_string();
        if text.starts_with('/') {
            let host = facts
                .first("request.header.host")
                .or_else(|| facts.first("url.host"))
                .cloned();
            if let Some(host) = host {
                let full = format!("https://{}{}", host.value, text);
                facts.remove("url");
                facts.push("url", Value::Str(full.into()), url.loc);
            }
        }
    }
    if let Some(url) = facts.first("url").cloned() {
        let text = url.value.to_string();
        let (host, path, query) = split_url(&text);
        let sub = |part: &str| {
            url.loc.map(|loc| {
                // Point at the part inside the URL when the URL is verbatim.
                let pos = text.find(part).filter(|_| loc.span.len() == text.len());
                match pos {
                    Some(p) => Loc {
                        span: Span::new(loc.span.start + p, loc.span.start + p + part.len()),
                        column: loc.column + p,
                        ..loc
                    },
                    None => loc,
                }
            })
        };
        if let Some(host) = &host {
            let loc = sub(host);
            // Through a forward proxy the connection told (urllib3's
            // `Starting new HTTP connection (1): proxy:3128`) is the proxy's.
            if facts.first("proxy").is_some() {
                facts.remove("url.host");
                facts.remove("url.port");
            }
            facts.push_default("url.host", Value::Str(host.clone().into()), loc);
        }
        if let Some(path) = &path {
            facts.push("url.path", Value::Str(path.clone().into()), sub(path));
        }
        if let Some(q) = &query {
            facts.push("url.query", Value::Str(q.clone().into()), sub(q));
        }
        // Go's golang.org/x/oauth2 fetches the token inside the API call and
        // reports its failure under the API's URL (`Get <url>: oauth2:
        // cannot fetch token: 400 Bad Request`, its RetrieveError).
        let fetching_token = || {
            facts.get("exception.message").iter().any(|m| {
                m.value
                    .as_str()
                    .is_some_and(|m| m.contains("oauth2: cannot fetch token"))
            })
        };
        let endpoint = match &path {
            Some(p) if cx.is_token_path(p) => "token",
            _ if fetching_token() => "token",
            _ => "api",
        };
        let loc = path.as_deref().map(sub).unwrap_or(url.loc);
        facts.push("endpoint", Value::Str(endpoint.into()), loc);
    } else if let Some(call) = facts
        .first("exception.call")
        .filter(|c| c.value.to_string().ends_with("_token"))
        .cloned()
    {
        // An SDK's token helper (`get_client_credentials_token`).
        facts.push("endpoint", Value::Str("token".into()), call.loc);
    } else {
        facts.push("endpoint", Value::Str("unknown".into()), None);
    }
}

/// `error`: the body's `error`, else `code`, else `errorCode`, else a
/// record's error.
fn primary_error(facts: &mut Facts) {
    let error = ["body.error", "body.code", "body.errorCode", "error"]
        .iter()
        .find_map(|k| {
            facts
                .first(k)
                .filter(|v| !matches!(v.value, Value::Str(ref s) if s.starts_with('{')))
                .cloned()
        });
    if let Some(e) = error
        && facts.get("error").is_empty()
    {
        facts.push("error", e.value, e.loc);
    }
}

fn html_title_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?is)<title[^>]*>(.*?)</title\s*>").expect("title regex"))
}

fn quoted_title_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?is)<title[^>]*>(.*?)</title").expect("quoted title regex"))
}

fn html_h1_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?is)<h1[^>]*>(.*?)</h1\s*>").expect("h1 regex"))
}

/// `json`, `xml`, `html` or `text`, from the body's first characters.
pub(crate) fn format_of(body: &str) -> &'static str {
    let t = body.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let head: String = t.chars().take(256).collect::<String>().to_ascii_lowercase();
    if t.starts_with(['{', '[']) {
        "json"
    } else if head.starts_with("<!doctype html")
        || head.starts_with("<html")
        || (head.starts_with('<')
            && ["<head", "<body", "<title", "<h1", "<center>", "<p>"]
                .iter()
                .any(|tag| head.contains(tag)))
    {
        "html"
    } else if head.starts_with("<?xml") || head.starts_with('<') {
        "xml"
    } else {
        "text"
    }
}

/// `body.format`, `html.title`, and an HTML page's `<h1>` as a message. The
/// format comes from the body, else from the response's Content-Type.
fn body_format(facts: &mut Facts) {
    // The parser may have read these already (it sees bodies inside other
    // text); only what it did not say is derived here.
    if let Some(body) = facts.first("body").cloned() {
        let text = body.value.to_string();
        let format = match facts.str("body.format") {
            Some(f) => f.to_string(),
            None => {
                let f = format_of(&text);
                facts.push("body.format", Value::Str(f.into()), body.loc);
                f.to_string()
            }
        };
        if format == "html" {
            if facts.get("html.title").is_empty()
                && let Some((title, span)) = inner_text(html_title_re(), &text)
            {
                let loc = narrow(body.loc, &text, span);
                facts.push("html.title", Value::Str(title.into()), loc);
            }
            if facts.get("html.h1").is_empty()
                && let Some((h1, span)) = inner_text(html_h1_re(), &text)
            {
                let loc = narrow(body.loc, &text, span);
                facts.push("html.h1", Value::Str(h1.into()), loc);
            }
        }
        return;
    }
    if let Some(ct) = facts.first("header.content-type").cloned() {
        let v = ct.value.to_string().to_ascii_lowercase();
        let format = if v.contains("html") {
            "html"
        } else if v.contains("json") {
            "json"
        } else if v.contains("xml") {
            "xml"
        } else if v.starts_with("text/") {
            "text"
        } else {
            return;
        };
        facts.push("body.format", Value::Str(format.into()), ct.loc);
        return;
    }
    // No body, but a client's JSON error that quotes the page it could not
    // parse (Go's `invalid character '<' … from "<html>…<title>…"`).
    if facts.get("html.title").is_empty()
        && let Some((title, loc)) = ["exception.message", "message"]
            .iter()
            .flat_map(|k| facts.get(k))
            .find_map(|m| {
                let text = m.value.as_str()?;
                let quoted_page =
                    text.contains("<html") || text.contains("<HTML") || text.contains("<!DOCTYPE");
                // A quote may end inside the page: a title cut after `</title`.
                let (title, span) = inner_text(quoted_title_re(), text).filter(|_| quoted_page)?;
                Some((title, narrow(m.loc, text, span)))
            })
    {
        facts.push("html.title", Value::Str(title.into()), loc);
    }
}

/// The status an error page's title states with its reason phrase (`401
/// Unauthorized`, `Unauthorized (401)`, `Error 403 - Forbidden`), when
/// nothing else gave one: a number alone could be anything.
fn title_status(facts: &mut Facts) {
    if !facts.get("status").is_empty() {
        return;
    }
    let Some(title) = facts.first("html.title").cloned() else {
        return;
    };
    let Some(text) = title.value.as_str() else {
        return;
    };
    let lower = text.to_ascii_lowercase();
    let status = text
        .as_bytes()
        .windows(3)
        .enumerate()
        .filter(|&(i, w)| {
            w.iter().all(u8::is_ascii_digit)
                && !text.as_bytes()[..i].last().is_some_and(u8::is_ascii_digit)
                && !text.as_bytes().get(i + 3).is_some_and(u8::is_ascii_digit)
        })
        .filter_map(|(i, _)| text[i..i + 3].parse::<u16>().ok())
        .filter(|s| (400..600).contains(s))
        .find(|&s| {
            crate::parse::reason_phrases(s).any(|r| lower.contains(&r.to_ascii_lowercase()))
        });
    if let Some(status) = status {
        facts.push("status", Value::Num(f64::from(status)), title.loc);
    }
}

/// The whitespace-collapsed, entity-decoded text of group 1, and where
/// group 1 is in `text`.
fn inner_text(re: &Regex, text: &str) -> Option<(String, (usize, usize))> {
    let c = re.captures(text)?;
    let g = c.get(1)?;
    let tags = strip_tags(g.as_str());
    let clean = decode_entities(&tags.split_whitespace().collect::<Vec<_>>().join(" "));
    (!clean.is_empty()).then_some((clean, (g.start(), g.end())))
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '<' => depth += 1,
            '>' if depth > 0 => depth -= 1,
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn decode_entities(s: &str) -> String {
    s.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// The location of `range` inside a value read verbatim at `loc`.
fn narrow(loc: Option<Loc>, text: &str, (start, end): (usize, usize)) -> Option<Loc> {
    let loc = loc?;
    if loc.span.len() != text.len() {
        return Some(loc);
    }
    let before = &text[..start];
    let (line, column) = match before.rfind('\n') {
        Some(nl) => (loc.line + before.matches('\n').count(), start - nl),
        None => (loc.line, loc.column + start),
    };
    Some(Loc {
        source: loc.source,
        span: Span::new(loc.span.start + start, loc.span.start + end),
        line,
        column,
    })
}

/// A body path with array indices replaced by `*`: `errors.*.message`.
fn shape(path: &str) -> String {
    path.split('.')
        .map(|p| {
            if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
                "*"
            } else {
                p
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Longest string of a body member read again as JSON.
const MAX_JSON_IN_STRING: usize = 16 << 10;
/// Facts one such string may add.
const MAX_JSON_IN_STRING_FACTS: usize = 64;

/// An SDK's HTTP error logged whole as the body (`{"statusCode": 400,
/// "response": {"body": {"error": …}}}`, Box's Node SDK; axios's
/// `response.data`): the server's own body is the nested one, and its
/// members are read as the body's (`body.error`), where the body has none
/// of its own.
fn wrapped_response_body(facts: &mut Facts) {
    const WRAPPED: [&str; 2] = ["body.response.body.", "body.response.data."];
    let Some(prefix) = WRAPPED
        .iter()
        .find(|p| facts.iter().any(|(name, _)| name.starts_with(**p)))
    else {
        return;
    };
    let lifted: Vec<(String, Vec<crate::facts::FactValue>)> = facts
        .iter()
        .filter_map(|(name, values)| {
            let member = name.strip_prefix(prefix)?;
            let own = format!("body.{member}");
            facts.get(&own).is_empty().then(|| (own, values.to_vec()))
        })
        .collect();
    for (name, values) in lifted {
        for v in values {
            facts.push(name.clone(), v.value, v.loc);
        }
    }
}

/// A body member whose string is itself a JSON object — a tool or proxy
/// that passes the upstream API's error on as text (`{"code": 401,
/// "error": "{\"message\":\"Bad credentials\", …}"}`): its members become
/// facts under the member's name (`body.error.message`), placed on the
/// string, so the paths that read messages and codes see them. One level:
/// a string inside that string stays a string.
fn json_in_body_strings(facts: &mut Facts) {
    let found: Vec<(String, crate::facts::FactValue)> = facts
        .iter()
        .filter(|(name, _)| {
            name.strip_prefix("body.")
                .is_some_and(|key| !key.is_empty() && !key.contains('.'))
        })
        .flat_map(|(name, values)| values.iter().map(move |v| (name.to_string(), v.clone())))
        .filter(|(_, v)| {
            v.value.as_str().is_some_and(|t| {
                let t = t.trim();
                t.len() <= MAX_JSON_IN_STRING && t.starts_with('{') && t.ends_with('}')
            })
        })
        .collect();
    for (name, v) in found {
        let Some(text) = v.value.as_str() else {
            continue;
        };
        let Ok(serde_json::Value::Object(members)) = serde_json::from_str(text.trim()) else {
            continue;
        };
        let mut added = 0;
        let mut stack: Vec<(String, &serde_json::Value)> = members
            .iter()
            .rev()
            .map(|(k, v)| (format!("{name}.{k}"), v))
            .collect();
        while let Some((path, value)) = stack.pop() {
            if added >= MAX_JSON_IN_STRING_FACTS {
                break;
            }
            let fact = match value {
                serde_json::Value::String(t) => Some(Value::Str(t.as_str().into())),
                serde_json::Value::Number(n) => n.as_f64().map(Value::Num),
                serde_json::Value::Bool(b) => Some(Value::Str(b.to_string().into())),
                serde_json::Value::Object(inner) => {
                    stack.extend(inner.iter().rev().map(|(k, v)| (format!("{path}.{k}"), v)));
                    None
                }
                serde_json::Value::Array(items) => {
                    stack.extend(
                        items
                            .iter()
                            .enumerate()
                            .rev()
                            .map(|(i, v)| (format!("{path}.{i}"), v)),
                    );
                    None
                }
                serde_json::Value::Null => None,
            };
            if let Some(fact) = fact
                && facts.get(&path).is_empty()
            {
                facts.push(path, fact, v.loc);
                added += 1;
            }
        }
    }
}

/// Body paths (after `body.`) whose string is a human-readable message.
const MESSAGE_PATHS: &[&str] = &[
    "message",
    "Message",
    "error_description",
    "error.message",
    "error.Message",
    // OData v2's JSON error (SAP SuccessFactors and Gateway, SharePoint's
    // `odata=verbose`): `{"error": {"code", "message": {"lang", "value"}}}`.
    "error.message.value",
    // Tableau's REST API: `{"error": {"summary", "detail", "code"}}`.
    "error.detail",
    "errorSummary",
    "errorMessage",
    "errorMessages.*",
    "error_message",
    // `{"code": 40013, "msg": …}` (many Chinese platforms' APIs, Ansible's
    // task results) and WeChat's `{"errcode": …, "errmsg": …}`.
    "msg",
    "errmsg",
    "errors.*.message",
    "errors.*.detail",
    "error.errors.*.message",
    "*.message",
    // A Google-style error wrapped in a one-element array (`[{"error":
    // {…}}]`, as some Google APIs answer).
    "*.error.message",
    "detail",
    "detail.*.msg",
    "title",
    "description",
    // ASP.NET-style PascalCase bodies (`{"Description": …, "Error": …}`).
    "Description",
    "Error.Message",
    // OMDb and other PascalCase bodies name the error in a sentence:
    // `{"Response": "False", "Error": "Invalid API key!"}`.
    "Error",
    // Tencent Cloud API 3.0: `{"Response": {"Error": {"Code", "Message"}}}`.
    "Response.Error.Message",
    "fault.faultstring",
    // QuickBooks Online's JSON fault: `{"Fault": {"Error": [{"Message",
    // "Detail", "code"}], "type"}}` (its XML one is read as markup).
    "Fault.Error.*.Message",
    "Fault.Error.*.Detail",
    // Namecheap's XML API: `<Errors><Error Number="…">…</Error></Errors>`.
    "Errors.Error",
];

/// Whether a body path (after `body.`) has the shape `pattern`, `*` for an
/// array index ([`shape`], without building it).
pub(super) fn has_shape(path: &str, pattern: &str) -> bool {
    let (mut path, mut pattern) = (path.split('.'), pattern.split('.'));
    loop {
        match (path.next(), pattern.next()) {
            (None, None) => return true,
            (Some(p), Some(want)) if p == want => {}
            (Some(p), Some("*")) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {}
            _ => return false,
        }
    }
}

/// Whether a body path's value is an error code ([`CODE_PATHS`]).
pub(super) fn is_code_path(path: &str) -> bool {
    // The last segments differ first: most paths (`message`, `contextId`)
    // are turned away without walking them (the builder asks this for
    // every body field).
    fn last_of(p: &str) -> &str {
        memchr::memrchr(b'.', p.as_bytes()).map_or(p, |dot| &p[dot + 1..])
    }
    let last = last_of(path);
    CODE_PATHS.iter().any(|&pattern| {
        let want = last_of(pattern);
        (want == last || want == "*") && has_shape(path, pattern)
    })
}

/// Body paths whose value is an error code, as written.
const CODE_PATHS: &[&str] = &[
    "error",
    "code",
    "error.code",
    "error.status",
    "error.type",
    "errorCode",
    "error_codes.*",
    "error.details.*.reason",
    "error.errors.*.reason",
    "*.error.status",
    "*.error.details.*.reason",
    "Code",
    "Error.Code",
    "Response.Error.Code",
    "Fault.Error.*.code",
    "__type",
    "*.errorCode",
    "errors.*.type",
    "errors.*.code",
    "errors.*.extensions.code",
    // Dropbox's error union: `{"error_summary": "expired_access_token/..",
    // "error": {".tag": "expired_access_token"}}` (its API spec's AuthError).
    "error..tag",
];

/// Record keys that hold a log line's message; taken only from error-level
/// records.
const RECORD_MESSAGE_KEYS: &[&str] = &["record.msg", "record.message", "record.error"];

fn is_error_level(facts: &Facts) -> bool {
    ["record.level", "record.severity", "record.levelname"]
        .iter()
        .filter_map(|k| facts.str(k))
        .any(|l| {
            matches!(
                l.to_ascii_lowercase().as_str(),
                "error" | "err" | "fatal" | "critical" | "crit" | "alert" | "emerg" | "panic"
            )
        })
}

/// Every value of `facts` whose name (minus `body.`) has one of `shapes`.
fn body_values(facts: &Facts, shapes: &[&str]) -> Vec<FactValue> {
    facts
        .iter()
        .filter_map(|(name, vals)| {
            let path = name.strip_prefix("body.")?;
            let s = shape(path);
            shapes.contains(&s.as_str()).then_some(vals)
        })
        .flatten()
        .cloned()
        .collect()
}

/// The longest plain-text body read as a message: a sentence or two.
const MAX_TEXT_MESSAGE: usize = 400;

/// Words with spaces, not a code and not a JSON object or array.
fn is_prose(s: &str) -> bool {
    let t = s.trim();
    !t.starts_with(['{', '[']) && t.contains(char::is_whitespace)
}

/// `message`: every human-readable error message of the incident.
fn messages(facts: &mut Facts) {
    let mut found: Vec<FactValue> = Vec::new();
    for name in ["exception.message", "exception.cause.message"] {
        found.extend(facts.get(name).iter().cloned());
    }
    for v in body_values(facts, MESSAGE_PATHS) {
        if matches!(v.value, Value::Str(_)) {
            found.push(v);
        }
    }
    // `{"error": "Invalid API key provided"}`: prose where a code would be.
    found.extend(
        facts
            .get("body.error")
            .iter()
            .filter(|v| is_prose(&v.value.to_string()))
            .cloned(),
    );
    found.extend(facts.get("html.title").iter().cloned());
    found.extend(facts.get("html.h1").iter().cloned());
    // A short plain-text body is the server's sentence itself (`Your IP
    // (…) is not authorized to use this API key`).
    if facts.str("body.format") == Some("text")
        && let Some(body) = facts.first("body").cloned()
        && matches!(&body.value, Value::Str(t) if t.len() <= MAX_TEXT_MESSAGE && is_prose(t))
    {
        found.push(body);
    }
    if let Some(body) = facts.first("body").cloned()
        && facts.str("body.format") == Some("xml")
    {
        found.extend(xml_element(&body, "Message"));
        // A SOAP fault's message (1.1's `faultstring`).
        found.extend(xml_element(&body, "faultstring"));
    }
    if is_error_level(facts) {
        for k in RECORD_MESSAGE_KEYS {
            found.extend(
                facts
                    .get(k)
                    .iter()
                    .filter(|v| matches!(v.value, Value::Str(_)))
                    .cloned(),
            );
        }
    }
    push_unique(facts, "message", found);
    repeated_ids(facts);
}

/// `message.repeated_id`: a GUID that one message names twice. A message
/// that names two identifiers (an application and the directory it was
/// looked up in, a client and its tenant) and gives the same value for
/// both says two settings hold one value — a rule reads which two from
/// the wording around it.
fn repeated_ids(facts: &mut Facts) {
    let mut found = Vec::new();
    for m in facts.get("message") {
        let text = m.value.to_string();
        let ids = guids(&text);
        if let Some(id) = ids
            .iter()
            .enumerate()
            .find(|(k, id)| ids[k + 1..].iter().any(|o| o.eq_ignore_ascii_case(id)))
            .map(|(_, id)| id.to_ascii_lowercase())
        {
            found.push(FactValue {
                value: Value::Str(id.into()),
                loc: m.loc,
            });
        }
    }
    push_unique(facts, "message.repeated_id", found);
}

/// The GUIDs (8-4-4-4-12 hex digits, not inside a longer run) in `text`.
fn guids(text: &str) -> Vec<&str> {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 36 <= b.len() {
        let boundary = i == 0 || !(b[i - 1].is_ascii_hexdigit() || b[i - 1] == b'-');
        let mut at = i;
        let shaped = boundary
            && GROUPS.iter().enumerate().all(|(g, &n)| {
                let ok = b[at..at + n].iter().all(u8::is_ascii_hexdigit)
                    && (g == 4 || b[at + n] == b'-');
                at += n + 1;
                ok
            })
            && b.get(i + 36)
                .is_none_or(|c| !(c.is_ascii_hexdigit() || *c == b'-'));
        if shaped {
            out.push(&text[i..i + 36]);
            i += 36;
        } else {
            i += 1;
        }
    }
    out
}

/// `<Code>…</Code>`-style elements of an XML body (AWS error documents),
/// when the parser did not give them as `body.*` fields.
fn xml_element(body: &FactValue, name: &str) -> Vec<FactValue> {
    let text = body.value.to_string();
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(s) = text[from..].find(&open) {
        let start = from + s + open.len();
        let Some(e) = text[start..].find(&close) else {
            break;
        };
        let inner = text[start..start + e].trim();
        if !inner.is_empty() && !inner.contains('<') {
            out.push(FactValue {
                value: Value::Str(decode_entities(inner).into()),
                loc: narrow(body.loc, &text, (start, start + e)),
            });
        }
        from = start + e + close.len();
        if out.len() >= 8 {
            break;
        }
    }
    out
}

/// `error.code`: every error code of the incident, as written, plus codes
/// that providers' vocabulary finds in messages (`AADSTS50126`) and codes
/// providers give as numbers under a prefix (`error_codes: [50126]`).
fn error_codes(facts: &mut Facts, providers: &Providers) {
    let mut found: Vec<FactValue> = Vec::new();
    for v in body_values(facts, CODE_PATHS) {
        let text = v.value.to_string();
        // An object or a sentence is not a code.
        if text.is_empty() || text.starts_with(['{', '[']) || is_prose(&text) {
            continue;
        }
        found.push(v);
    }
    for (path, prefix) in providers.prefixed_codes() {
        let vals = body_values(facts, &[path]);
        for v in vals {
            if let Some(n) = v.value.as_num() {
                found.push(FactValue {
                    value: Value::Str(format!("{prefix}{}", Value::Num(n)).into()),
                    loc: v.loc,
                });
            }
        }
    }
    if let Some(body) = facts.first("body").cloned()
        && facts.str("body.format") == Some("xml")
    {
        found.extend(xml_element(&body, "Code"));
    }
    found.extend(facts.get("exception.code").iter().cloned());
    found.extend(facts.get("error").iter().cloned());
    // Codes inside messages: provider vocabulary with a `code` group.
    let texts: Vec<FactValue> = facts
        .get("message")
        .iter()
        .chain(facts.get("body.error").iter())
        .cloned()
        .collect();
    for v in texts {
        let text = v.value.to_string();
        for (code, range) in providers.codes_in(&text) {
            found.push(FactValue {
                value: Value::Str(code.into()),
                loc: narrow(v.loc, &text, range),
            });
        }
    }
    push_unique(facts, "error.code", found);
}

/// `provider` from vocabulary when no host named it: the provider whose
/// vocabulary matches earliest in the incident's text.
fn vocabulary_provider(facts: &mut Facts, providers: &Providers) {
    if !facts.get("provider").is_empty() {
        return;
    }
    let Some(text) = facts.first("text").cloned() else {
        return;
    };
    let t = text.value.to_string();
    let Some((provider, range)) = providers.by_vocabulary(&t) else {
        return;
    };
    let loc = narrow(text.loc, &t, range);
    facts.push("provider", Value::Str(provider.into()), loc);
    facts.push("provider.source", Value::Str("vocabulary".into()), loc);
}

fn push_unique(facts: &mut Facts, name: &'static str, values: Vec<FactValue>) {
    for v in values {
        let text = v.value.to_string();
        if text.trim().is_empty() || facts.get(name).iter().any(|o| o.value.to_string() == text) {
            continue;
        }
        facts.push(name, v.value, v.loc);
    }
}

/// One challenge of a `WWW-Authenticate` header (RFC 7235 §2.1, §4.1).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Challenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

/// Parses a `WWW-Authenticate` value: `Bearer realm="x", error="y", Basic
/// realm="z"` is two challenges. A token68 (`Negotiate abc==`) is kept as a
/// parameter named `token68`. Malformed input yields what could be read.
pub(crate) fn parse_challenges(value: &str) -> Vec<Challenge> {
    let b = value.as_bytes();
    let is_tchar = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
    let is_t68 = |c: u8| c.is_ascii_alphanumeric() || b"-._~+/".contains(&c);
    let skip = |i: &mut usize, set: &[u8]| {
        while *i < b.len() && set.contains(&b[*i]) {
            *i += 1;
        }
    };
    let token_end = |mut i: usize| {
        while i < b.len() && is_tchar(b[i]) {
            i += 1;
        }
        i
    };
    let mut out: Vec<Challenge> = Vec::new();
    let mut i = 0;
    'challenges: while i < b.len() {
        skip(&mut i, b" \t,");
        let start = i;
        i = token_end(i);
        if i == start {
            // Not a token: skip one byte, so malformed input cannot loop.
            i += 1;
            continue;
        }
        let mut c = Challenge {
            scheme: value[start..i].to_string(),
            params: Vec::new(),
        };
        skip(&mut i, b" \t");
        // A token68 right after the scheme, ending the challenge.
        let mut j = i;
        while j < b.len() && is_t68(b[j]) {
            j += 1;
        }
        let word_end = j;
        skip(&mut j, b"=");
        let mut k = j;
        skip(&mut k, b" \t");
        if word_end > i && (k >= b.len() || b[k] == b',') {
            c.params.push(("token68".into(), value[i..j].to_string()));
            out.push(c);
            i = k;
            continue;
        }
        // `name = value` parameters until a token that is not one (the next
        // challenge's scheme).
        loop {
            skip(&mut i, b" \t,");
            let name_start = i;
            let name_end = token_end(i);
            let mut eq = name_end;
            skip(&mut eq, b" \t");
            if name_end == name_start || eq >= b.len() || b[eq] != b'=' {
                out.push(c);
                if name_end == name_start && i < b.len() {
                    i += 1;
                } else {
                    i = name_start;
                }
                continue 'challenges;
            }
            let mut v = eq + 1;
            skip(&mut v, b" \t");
            let (val, next) = if v < b.len() && b[v] == b'"' {
                quoted(value, v)
            } else {
                let mut e = v;
                while e < b.len() && !b" \t,".contains(&b[e]) {
                    e += 1;
                }
                (value[v..e].to_string(), e)
            };
            c.params
                .push((value[name_start..name_end].to_ascii_lowercase(), val));
            i = next;
            if i >= b.len() {
                out.push(c);
                break 'challenges;
            }
        }
    }
    out
}

/// A quoted-string starting at `at` (the opening quote): its unescaped
/// content and the index after the closing quote.
fn quoted(value: &str, at: usize) -> (String, usize) {
    let mut out = String::new();
    let mut chars = value[at + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (out, at + 1 + i + 1),
            '\\' => {
                if let Some((_, n)) = chars.next() {
                    out.push(n);
                }
            }
            c => out.push(c),
        }
    }
    (out, value.len())
}

/// `challenge.*`: the parsed `WWW-Authenticate` header(s).
fn challenges(facts: &mut Facts) {
    let headers: Vec<FactValue> = facts.get("header.www-authenticate").to_vec();
    for h in headers {
        for c in parse_challenges(&h.value.to_string()) {
            facts.push(
                "challenge.scheme",
                Value::Str(c.scheme.to_ascii_lowercase().into()),
                h.loc,
            );
            for (name, value) in c.params {
                if matches!(
                    name.as_str(),
                    "error" | "error_description" | "scope" | "realm"
                ) {
                    facts.push(format!("challenge.{name}"), Value::Str(value.into()), h.loc);
                }
            }
        }
    }
}

/// `retry_after.seconds`: `Retry-After` as delay-seconds, or an HTTP-date
/// minus the response's `Date` (else the incident's time) (RFC 9110 §10.2.3).
fn retry_after(facts: &mut Facts) {
    let Some(h) = facts.first("header.retry-after").cloned() else {
        return;
    };
    let text = h.value.to_string();
    let text = text.trim();
    let seconds = if let Ok(n) = text.parse::<f64>() {
        Some(n)
    } else {
        let reference = response_time(facts);
        time::parse_timestamp(text)
            .zip(reference)
            .map(|(at, now)| (at.as_second() - now.as_second()).max(0) as f64)
    };
    if let Some(s) = seconds.filter(|s| *s >= 0.0) {
        facts.push("retry_after.seconds", Value::Num(s), h.loc);
    }
}

/// How clients report a forward proxy's answer to their `CONNECT`: curl
/// (`CONNECT tunnel failed, response 407`; before 7.x's rewording and in
/// git's messages `Received HTTP code 407 from proxy after CONNECT`),
/// Python's http.client (`Tunnel connection failed: 407 Proxy
/// Authentication Required`), .NET (`The proxy tunnel request to proxy
/// 'http://…' failed with status code '407'`), Java's HttpURLConnection
/// (`Unable to tunnel through proxy. Proxy returns "HTTP/1.1 407 …"`).
fn proxy_status_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"(?i)(?:CONNECT tunnel failed, response|Received HTTP code|Tunnel connection failed:)\s*(?P<a>[1-5][0-9]{2})\b|proxy tunnel request to proxy \S+ failed with status code '?(?P<b>[1-5][0-9]{2})\b|Unable to tunnel through proxy\. Proxy returns \\?"HTTP/[0-9](?:\.[0-9])? (?P<c>[1-5][0-9]{2})\b"#,
        )
        .expect("proxy status regex")
    })
}

/// `proxy.status`: the status a forward proxy answered the client's
/// `CONNECT` with, which is not the API's (the tunnel never opened).
fn proxy_status(facts: &mut Facts) {
    let Some(text) = facts.first("text").cloned() else {
        return;
    };
    let t = text.value.to_string();
    // Every form names a tunnel or the proxy after CONNECT.
    if !(t.contains("unnel") || t.contains("from proxy")) {
        return;
    }
    let Some(c) = proxy_status_re().captures(&t) else {
        return;
    };
    let Some(m) = c.name("a").or(c.name("b")).or(c.name("c")) else {
        return;
    };
    let loc = narrow(text.loc, &t, (m.start(), m.end()));
    facts.push(
        "proxy.status",
        Value::Num(m.as_str().parse().unwrap_or(0.0)),
        loc,
    );
}

/// `ratelimit.reset_seconds`: how long until the rate-limit window resets, from
/// `x-ratelimit-reset` (GitHub, Auth0) or `x-rate-limit-reset` (Okta) as UTC
/// epoch seconds, minus the response's `Date` (else the incident's time).
/// Values too small to be an epoch are left alone: some APIs send a delay
/// there, and which one is not knowable from the header.
fn rate_limit_reset(facts: &mut Facts) {
    let Some(h) = facts
        .first("header.x-ratelimit-reset")
        .or_else(|| facts.first("header.x-rate-limit-reset"))
        .cloned()
    else {
        return;
    };
    let Ok(epoch) = h.value.to_string().trim().parse::<i64>() else {
        return;
    };
    // 2001-09-09 onwards: an epoch in seconds, not a delay or milliseconds.
    if !(1_000_000_000..10_000_000_000).contains(&epoch) {
        return;
    }
    let reference = response_time(facts);
    // A reset at or before the reference time says nothing about a wait.
    if let Some(now) = reference.filter(|now| epoch > now.as_second()) {
        let seconds = (epoch - now.as_second()) as f64;
        facts.push("ratelimit.reset_seconds", Value::Num(seconds), h.loc);
    }
}

/// The time a response speaks of: its `Date` header, else the incident's time.
fn response_time(facts: &Facts) -> Option<jiff::Timestamp> {
    facts
        .str("header.date")
        .or_else(|| facts.str("time"))
        .and_then(time::parse_timestamp)
}

/// (host, path, query) of an absolute URL or a path.
fn split_url(text: &str) -> (Option<String>, Option<String>, Option<String>) {
    if let Ok(u) = url::Url::parse(text) {
        let path = Some(u.path().to_string());
        return (
            u.host_str().map(str::to_string),
            path,
            u.query().map(str::to_string),
        );
    }
    // A scheme-less or truncated URL: take it apart by hand.
    let rest = text.split_once("://").map_or(text, |(_, r)| r);
    let (before_q, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q.to_string())),
        None => (rest, None),
    };
    if text.starts_with('/') {
        return (None, Some(before_q.to_string()), query);
    }
    match before_q.split_once('/') {
        Some((host, path)) => (Some(host.to_string()), Some(format!("/{path}")), query),
        None => (Some(before_q.to_string()), None, query),
    }
}

/// Which HTTP client printed this, from exception types and User-Agent.
fn detect_client(facts: &Facts) -> Option<(&'static str, Option<Loc>)> {
    // Java's networking and I/O exceptions only: `java.lang.` and
    // `java.util.` ones (`NoClassDefFoundError`, `IllegalStateException`)
    // are the program's, not an HTTP client's.
    let by_type: [(&str, &str); 15] = [
        ("PureCloudPlatformClientV2.", "genesys-python-sdk"),
        ("requests.", "python-requests"),
        ("urllib3.", "urllib3"),
        ("urllib.error.", "python-urllib"),
        ("curl: (", "curl"),
        ("AxiosError", "axios"),
        ("java.net.", "java"),
        ("javax.net.", "java"),
        ("java.io.IOException", "java"),
        ("java.io.EOFException", "java"),
        ("java.io.InterruptedIOException", "java"),
        ("java.nio.channels.", "java"),
        ("System.Net.", "dotnet"),
        ("HttpRequestException", "dotnet"),
        ("TaskCanceledException", "dotnet"),
    ];
    for v in facts.get("exception.type") {
        let t = v.value.to_string();
        if let Some((_, c)) = by_type
            .iter()
            .find(|(p, _)| t.starts_with(p) || t == p.trim_end_matches('.'))
        {
            return Some((c, v.loc));
        }
    }
    // The Genesys Python SDK's examples print `Exception when calling
    // UsersApi->get_users: …`; other OpenAPI Generator clients (PHP, JS)
    // print the same words with a camelCase method.
    if let Some(v) = facts.first("exception.call")
        && let Some((_, method)) = v.value.to_string().split_once("->")
        && !method.contains(|c: char| c.is_ascii_uppercase())
    {
        return Some(("genesys-python-sdk", v.loc));
    }
    // undici's `TypeError: fetch failed`, axios' own message.
    for v in facts.get("exception.message") {
        let m = v.value.to_string();
        if m == "fetch failed" {
            return Some(("node-fetch", v.loc));
        }
        if m.starts_with("Request failed with status code ") {
            return Some(("axios", v.loc));
        }
    }
    let by_agent: [(&str, &str); 6] = [
        ("PureCloud SDK", "genesys-sdk"),
        ("python-requests", "python-requests"),
        ("curl/", "curl"),
        ("axios", "axios"),
        ("node", "node"),
        ("Java-http-client", "java"),
    ];
    if let Some(v) = facts.first("request.header.user-agent") {
        let ua = v.value.to_string();
        if let Some((_, c)) = by_agent.iter().find(|(p, _)| ua.contains(p)) {
            return Some((c, v.loc));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_title_gives_the_status_it_states_with_its_phrase() {
        let status = |title: &str| {
            let mut facts = Facts::default();
            facts.push("html.title", Value::Str(title.to_string().into()), None);
            title_status(&mut facts);
            facts.num("status")
        };
        assert_eq!(status("401 Unauthorized"), Some(401.0));
        assert_eq!(status("Unauthorized (401)"), Some(401.0));
        assert_eq!(status("Error 403 - Forbidden"), Some(403.0));
        assert_eq!(status("413 Request Entity Too Large"), Some(413.0));
        // A number without its phrase, or with another's, is not a status.
        assert_eq!(status("Order 404 of 2026"), None);
        assert_eq!(status("401 Forbidden"), None);
        assert_eq!(status("Release 5020 - Bad Gateway notes"), None);
    }

    /// OData v2's error nests its message a level deeper, with its language.
    #[test]
    fn an_odata_error_message_is_its_value() {
        let mut facts = Facts::default();
        let value = "Access denied. You do not have permission to perform this action or access this resource.";
        facts.push("body.error.message.lang", Value::Str("en-US".into()), None);
        facts.push("body.error.message.value", Value::Str(value.into()), None);
        messages(&mut facts);
        assert_eq!(facts.str("message"), Some(value));
    }

    #[test]
    fn a_reason_phrase_names_its_status_in_any_case() {
        use crate::parse::status_of_reason;
        assert_eq!(status_of_reason("Forbidden"), Some(403));
        assert_eq!(status_of_reason(" too many requests "), Some(429));
        assert_eq!(status_of_reason("Request Entity Too Large"), Some(413));
        assert_eq!(status_of_reason("Unprocessable Entity"), Some(422));
        assert_eq!(status_of_reason("Forbidden resource"), None);
    }

    #[test]
    fn proxy_status_as_each_client_words_it() {
        let status = |text: &str| {
            let mut facts = Facts::default();
            facts.push("text", Value::Str(text.to_string().into()), None);
            proxy_status(&mut facts);
            facts.num("proxy.status")
        };
        for (text, want) in [
            ("curl: (56) CONNECT tunnel failed, response 407", 407.0),
            (
                "fatal: unable to access 'https://github.com/a/b.git/': Received HTTP code 403 from proxy after CONNECT",
                403.0,
            ),
            (
                "OSError('Tunnel connection failed: 503 Service Unavailable')",
                503.0,
            ),
            (
                "HttpRequestException: The proxy tunnel request to proxy 'http://proxy:8080/' failed with status code '502'.",
                502.0,
            ),
            (
                r#"java.io.IOException: Unable to tunnel through proxy. Proxy returns "HTTP/1.0 407 Proxy Authentication Required""#,
                407.0,
            ),
        ] {
            assert_eq!(status(text), Some(want), "{text}");
        }
        // The API's own status through an open tunnel is not the proxy's.
        assert_eq!(
            status("< HTTP/1.1 403 Forbidden\n{\"message\":\"tunnel quota\"}"),
            None
        );
    }

    /// A member whose string is a JSON object is read as one, one level
    /// deep and bounded; other strings (prose, a lone brace) stay as they are.
    #[test]
    fn json_in_a_body_string_is_read_one_level_deep() {
        let read = |value: &str| {
            let mut facts = Facts::default();
            facts.push("body.error", Value::Str(value.to_string().into()), None);
            json_in_body_strings(&mut facts);
            facts
        };
        let facts =
            read(r#"{"message":"Bad credentials","errors":[{"code":"x"}],"inner":"{\"a\":1}"}"#);
        assert_eq!(facts.str("body.error.message"), Some("Bad credentials"));
        assert_eq!(facts.str("body.error.errors.0.code"), Some("x"));
        assert_eq!(facts.str("body.error.inner"), Some(r#"{"a":1}"#));
        assert!(facts.get("body.error.inner.a").is_empty());
        for prose in ["{not json}", "token {expired}", "{"] {
            let facts = read(prose);
            assert_eq!(facts.iter().count(), 1, "{prose}");
        }
        let many: String = (0..200)
            .map(|i| format!("\"k{i}\":{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let facts = read(&format!("{{{many}}}"));
        assert_eq!(facts.iter().count(), 1 + MAX_JSON_IN_STRING_FACTS);
    }

    fn params(c: &Challenge) -> Vec<(&str, &str)> {
        c.params
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect()
    }

    #[test]
    fn bearer_challenge_with_quoted_params() {
        let cs = parse_challenges(
            r#"Bearer realm="example", error="invalid_token", error_description="The access token expired""#,
        );
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0].scheme, "Bearer");
        assert_eq!(
            params(&cs[0]),
            vec![
                ("realm", "example"),
                ("error", "invalid_token"),
                ("error_description", "The access token expired")
            ]
        );
    }

    #[test]
    fn several_challenges_and_token68() {
        let cs = parse_challenges(r#"Negotiate abc123==, Basic realm="okta", charset="UTF-8""#);
        assert_eq!(cs.len(), 2);
        assert_eq!(cs[0].scheme, "Negotiate");
        assert_eq!(params(&cs[0]), vec![("token68", "abc123==")]);
        assert_eq!(cs[1].scheme, "Basic");
        assert_eq!(
            params(&cs[1]),
            vec![("realm", "okta"), ("charset", "UTF-8")]
        );
    }

    #[test]
    fn bare_scheme_unquoted_and_escaped_values() {
        let cs = parse_challenges(r#"Bearer"#);
        assert_eq!(cs.len(), 1);
        assert!(cs[0].params.is_empty());
        let cs = parse_challenges(r#"Bearer error=invalid_token, error_description="say \"hi\"""#);
        assert_eq!(
            params(&cs[0]),
            vec![
                ("error", "invalid_token"),
                ("error_description", "say \"hi\"")
            ]
        );
        // Malformed input never loops or panics.
        for bad in ["=", ",,,", "\"", "Bearer =", "Bearer realm=\"open", "é=ü"] {
            let _ = parse_challenges(bad);
        }
    }

    #[test]
    fn formats() {
        assert_eq!(format_of("  {\"a\":1}"), "json");
        assert_eq!(format_of("<!DOCTYPE html><html>"), "html");
        assert_eq!(
            format_of("<html>\n<head><title>502 Bad Gateway</title></head>"),
            "html"
        );
        assert_eq!(
            format_of("<?xml version=\"1.0\"?><Error><Code>X</Code></Error>"),
            "xml"
        );
        assert_eq!(format_of("<Error><Code>X</Code></Error>"), "xml");
        assert_eq!(format_of("Bad Gateway"), "text");
    }

    #[test]
    fn title_is_cleaned() {
        let (t, _) = inner_text(
            html_title_re(),
            "<html><head><title>\n  Attention Required! | Cloud &amp; Co\n</title>",
        )
        .unwrap();
        assert_eq!(t, "Attention Required! | Cloud & Co");
    }

    #[test]
    fn shapes_replace_indices() {
        assert_eq!(shape("errors.0.message"), "errors.*.message");
        assert_eq!(shape("0.errorCode"), "*.errorCode");
        assert_eq!(shape("error.code"), "error.code");
    }

    #[test]
    fn has_shape_reads_a_path_as_shape_does() {
        for (path, pattern) in [
            ("error.code", "error.code"),
            ("error_codes.0", "error_codes.*"),
            ("errors.12.extensions.code", "errors.*.extensions.code"),
            ("0.errorCode", "*.errorCode"),
        ] {
            assert!(has_shape(path, pattern), "{path}");
            assert_eq!(shape(path), pattern);
        }
        for (path, pattern) in [
            ("error.code.x", "error.code"),
            ("error", "error.code"),
            ("errors.a.code", "errors.*.code"),
            ("errors..code", "errors.*.code"),
        ] {
            assert!(!has_shape(path, pattern), "{path}");
        }
        assert!(is_code_path("Code") && is_code_path("error.errors.3.reason"));
        assert!(!is_code_path("message") && !is_code_path("error.message"));
    }
}
