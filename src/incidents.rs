//! Stage 3, incidents: ties a request, its status, headers, JSON body and the
//! exception that reported it into one failing exchange (by adjacency and
//! shared URL), then classifies it: endpoint kind, provider, region, client.

use std::collections::HashMap;

use crate::facts::{Facts, Line};
use crate::input::{Chunk, LineIndex, Loc, SourceId, Span};
use crate::parse::{Event, EventKind, Value, jwt, time};
use crate::providers::Providers;

/// One failing exchange.
#[derive(Debug, Clone)]
pub struct Incident {
    pub source: SourceId,
    /// Where it starts (its first event).
    pub loc: Loc,
    pub facts: Facts,
    /// The incident's lines, kept to render evidence without the whole source.
    pub excerpt: Line,
    /// Later occurrences of the same failure, folded into this one.
    pub repeats: Vec<Loc>,
}

impl Incident {
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
                    .unwrap_or("response"),
            ),
            (None, None) => out.push_str("(unknown URL)"),
        }
        if f.get("status").is_empty() {
            // A transport failure: say which, briefly.
            if let Some(t) = f
                .str("exception.type")
                .filter(|_| f.str("url").is_some() || f.str("url.host").is_some())
            {
                outcome_push(&mut out, t);
            }
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
        out
    }
}

fn outcome_push(out: &mut String, what: &str) {
    out.push_str(" → ");
    out.push_str(what);
}

/// Events further apart than this many lines are not one exchange. Generous
/// enough to span a Python traceback between a printed body and its exception.
const MAX_GAP: usize = 15;
/// Longest excerpt kept per incident.
const MAX_EXCERPT: usize = 1 << 20;

#[derive(Default)]
struct Draft {
    events: Vec<(Event, usize, usize)>,
    last_line: usize,
    /// The document parser's exchange (HAR entry) this draft is.
    group: Option<usize>,
}

impl Draft {
    fn has(&self, kind: EventKind) -> bool {
        self.events.iter().any(|(e, _, _)| e.kind == kind)
    }
    fn value(&self, name: &str) -> Option<&Value> {
        self.events
            .iter()
            .find_map(|(e, _, _)| e.field(name).map(|f| &f.value))
    }
    fn status(&self) -> Option<f64> {
        self.value("status").and_then(Value::as_num)
    }
    fn url(&self) -> Option<&str> {
        self.value("url").and_then(Value::as_str)
    }
    fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// Two URLs name the same resource when one (minus query) is a suffix of the
/// other: a log may give a bare path where the exception gives the full URL.
fn same_resource(a: &str, b: &str) -> bool {
    let strip = |u: &str| {
        u.split('?')
            .next()
            .unwrap_or(u)
            .trim_end_matches('/')
            .to_string()
    };
    let (a, b) = (strip(a), strip(b));
    a == b || a.ends_with(&b) || b.ends_with(&a)
}

/// Whether `event` continues the exchange in `draft`.
fn continues(draft: &Draft, event: &Event, line: usize) -> bool {
    if let Some(g) = event.group {
        return !draft.is_empty() && draft.group == Some(g);
    }
    // After a grouped exchange only a client error continues it (curl's
    // `curl: (35) …` after its trace).
    if draft.group.is_some() && event.kind != EventKind::Exception {
        return false;
    }
    if draft.is_empty() || line.saturating_sub(draft.last_line) > MAX_GAP {
        return false;
    }
    let url_ok = match (
        draft.url(),
        event.field("url").and_then(|f| f.value.as_str()),
    ) {
        (Some(a), Some(b)) => same_resource(a, b),
        _ => true,
    };
    let status_ok = match (
        draft.status(),
        event.field("status").and_then(|f| f.value.as_num()),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    let method_ok = match (
        draft.value("method").and_then(Value::as_str),
        event.field("method").and_then(|f| f.value.as_str()),
    ) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => true,
    };
    // The same exchange told again before its body: urllib3's access line
    // after http.client's debug lines, an app's `POST /x -> 403` after both.
    let restates = draft.has(EventKind::Request)
        && !draft.has(EventKind::Body)
        && !draft.has(EventKind::Exception);
    match event.kind {
        // A request continues what came before it (a curl command line and
        // its body), or restates the request already seen.
        EventKind::Request => {
            draft
                .events
                .iter()
                .all(|(e, _, _)| matches!(e.kind, EventKind::Host | EventKind::RequestBody))
                || (restates && url_ok && method_ok && event.field("url").is_some())
        }
        EventKind::Status => {
            (!draft.has(EventKind::Status) && !draft.has(EventKind::Body) && status_ok)
                || (restates && draft.status().is_some() && status_ok)
        }
        EventKind::Header => line.saturating_sub(draft.last_line) <= 1,
        EventKind::Body => !draft.has(EventKind::Body),
        EventKind::RequestBody => {
            !draft.has(EventKind::RequestBody) && !draft.has(EventKind::Status)
        }
        EventKind::Exception => url_ok && status_ok,
        EventKind::Record => false,
        EventKind::Host => false,
    }
}

/// Groups a chunk's events into failing incidents.
pub fn build(
    chunk: &Chunk,
    events: Vec<Event>,
    index: &LineIndex,
    providers: &Providers,
) -> Vec<Incident> {
    let mut out = Vec::new();
    let jwts: Jwts = jwt::find_all(&chunk.text)
        .map(|(p, t)| (chunk.offset + p, t))
        .collect();
    let mut draft = Draft::default();
    for event in events {
        let (first, _) = index.position(event.span.start);
        let (last, _) = index.position(event.span.end.saturating_sub(1).max(event.span.start));
        if !continues(&draft, &event, first) {
            finish(
                std::mem::take(&mut draft),
                chunk,
                index,
                providers,
                &jwts,
                &mut out,
            );
        }
        draft.last_line = draft.last_line.max(last);
        if draft.events.is_empty() {
            draft.group = event.group;
        }
        draft.events.push((event, first, last));
    }
    finish(draft, chunk, index, providers, &jwts, &mut out);
    out
}

/// Every JWT in the chunk, in order: (absolute offset, token).
type Jwts<'c> = Vec<(usize, &'c str)>;

/// A draft becomes an incident only if something failed.
fn is_failure(facts: &Facts) -> bool {
    let status = facts.num("status").or_else(|| facts.num("body.status"));
    status.is_some_and(|s| s >= 400.0)
        || !facts.get("exception.type").is_empty()
        || !facts.get("exception.message").is_empty()
        || [
            "body.error",
            "body.error_description",
            "body.errorCode",
            "body.errorSummary",
            "error",
        ]
        .iter()
        .any(|k| !facts.get(k).is_empty())
        || facts.str("body.ok") == Some("false")
}

fn finish(
    draft: Draft,
    chunk: &Chunk,
    index: &LineIndex,
    providers: &Providers,
    jwts: &Jwts,
    out: &mut Vec<Incident>,
) {
    if draft.is_empty() {
        return;
    }
    let source = chunk.source;
    let mut facts = Facts::default();
    for (event, _, _) in &draft.events {
        for f in &event.fields {
            // A value told again (a restated request, a chain's causes) once.
            if facts.get(&f.name).iter().any(|v| v.value == f.value) {
                continue;
            }
            facts.push(
                f.name.clone(),
                f.value.clone(),
                Some(index.loc(source, f.span)),
            );
        }
    }
    if !is_failure(&facts) {
        return;
    }
    let first = draft
        .events
        .iter()
        .map(|(e, _, _)| e.span.start)
        .min()
        .unwrap_or(0);
    let last = draft
        .events
        .iter()
        .map(|(e, _, _)| e.span.end)
        .max()
        .unwrap_or(first);
    let loc = index.loc(source, Span::new(first, first));
    // Whole lines, so rendering shows each line from its start.
    let rel_start = chunk.text[..first - chunk.offset]
        .rfind('\n')
        .map_or(0, |p| p + 1);
    let rel_end = chunk.text[last - chunk.offset..]
        .find('\n')
        .map_or(chunk.text.len(), |p| last - chunk.offset + p);
    let rel_end = rel_end.min(rel_start + MAX_EXCERPT);
    let rel_end = chunk.text.floor_char_boundary(rel_end);
    let excerpt = Line {
        source,
        offset: chunk.offset + rel_start,
        number: index.position(chunk.offset + rel_start).0,
        text: chunk.text[rel_start..rel_end].to_string(),
    };
    facts.push(
        "text",
        Value::Str(excerpt.text.clone()),
        Some(index.loc(
            source,
            Span::new(excerpt.offset, excerpt.offset + excerpt.text.len()),
        )),
    );
    incident_time(&mut facts, chunk, index, first);
    token_facts(&mut facts, chunk, index, jwts, first, &excerpt);
    classify(&mut facts, providers);
    out.push(Incident {
        source,
        loc,
        facts,
        excerpt,
        repeats: Vec::new(),
    });
}

/// Lines before an incident searched for the log line's timestamp.
const TIME_LOOKBACK: usize = 20;

/// The incident's `time`: a time its events carry (JSON-lines record, HAR
/// entry), else the response's `Date` header, else the timestamp of the
/// first timestamped line of the incident or of the nearest line before it.
fn incident_time(facts: &mut Facts, chunk: &Chunk, index: &LineIndex, first: usize) {
    if let Some(t) = facts.first("time").cloned() {
        facts.remove("time");
        facts.push("time", t.value, t.loc);
        facts.push("time.source", Value::Str("record".into()), t.loc);
        return;
    }
    if let Some(d) = facts.first("header.date").cloned()
        && let Some(ts) = time::parse_timestamp(&d.value.to_string())
    {
        facts.push("time", Value::Str(time::format(ts)), d.loc);
        facts.push("time.source", Value::Str("header.date".into()), d.loc);
        return;
    }
    let rel_first = first - chunk.offset;
    let line_start = chunk.text[..rel_first].rfind('\n').map_or(0, |p| p + 1);
    // The incident's own lines, then the lines before it, nearest first.
    let own = chunk.text[line_start..]
        .split_inclusive('\n')
        .scan(line_start, |pos, l| {
            let at = *pos;
            *pos += l.len();
            Some((at, l))
        })
        .take(TIME_LOOKBACK);
    let before = chunk.text[..line_start]
        .rsplit_terminator('\n')
        .scan(line_start, |pos, l| {
            *pos -= l.len() + 1;
            Some((*pos, l))
        })
        .take(TIME_LOOKBACK);
    for (at, line) in own.chain(before) {
        if let Some((ts, s, e)) = time::leading_timestamp(line) {
            let span = Span::new(chunk.offset + at + s, chunk.offset + at + e);
            let loc = Some(index.loc(chunk.source, span));
            facts.push("time", Value::Str(time::format(ts)), loc);
            facts.push("time.source", Value::Str("log line".into()), loc);
            return;
        }
    }
}

/// `jwt.*` facts: the JWT the request sent (its Authorization header), else
/// the first in the incident's lines, else the last one before the incident
/// in the same chunk (a token response logged earlier). Header and payload
/// only; the derived `jwt.expired_seconds` / `jwt.issued_ahead_seconds`
/// compare the claims with the incident's `time`.
fn token_facts(
    facts: &mut Facts,
    chunk: &Chunk,
    index: &LineIndex,
    jwts: &Jwts,
    first: usize,
    excerpt: &Line,
) {
    let end = excerpt.offset + excerpt.text.len();
    let auth = facts
        .get("request.header.authorization")
        .iter()
        .find_map(|v| v.loc.map(|l| l.span))
        .and_then(|span| {
            jwts.iter()
                .find(|(p, _)| *p >= span.start && *p < span.end.max(span.start + 1))
        });
    let within = || jwts.iter().find(|(p, _)| *p >= excerpt.offset && *p < end);
    let before = || jwts.iter().rev().find(|(p, _)| *p < first);
    let Some(&(at, token)) = auth.or_else(within).or_else(before) else {
        return;
    };
    let Some(decoded) = jwt::decode(token) else {
        return;
    };
    let part = jwt::signed_part(token);
    let loc = Some(index.loc(chunk.source, Span::new(at, at + part.len())));
    let scalar = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Value::Str(s.clone()),
        serde_json::Value::Number(n) => Value::Num(n.as_f64().unwrap_or(0.0)),
        other => Value::Str(other.to_string()),
    };
    for (k, v) in &decoded.header {
        facts.push(format!("jwt.header.{k}"), scalar(v), loc);
    }
    for (k, v) in &decoded.payload {
        match v {
            serde_json::Value::Array(items) => {
                for item in items {
                    facts.push(format!("jwt.{k}"), scalar(item), loc);
                }
            }
            other => facts.push(format!("jwt.{k}"), scalar(other), loc),
        }
    }
    let when = facts
        .str("time")
        .and_then(time::parse_timestamp)
        .map(|t| t.as_second() as f64);
    if let Some(now) = when {
        if let Some(exp) = facts.num("jwt.exp") {
            facts.push("jwt.expired_seconds", Value::Num(now - exp), loc);
        }
        if let Some(iat) = facts.num("jwt.iat") {
            facts.push("jwt.issued_ahead_seconds", Value::Num(iat - now), loc);
        }
    }
}

/// Derives url parts, endpoint kind, provider, region, error code and client.
fn classify(facts: &mut Facts, providers: &Providers) {
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
                facts.push("url", Value::Str(full), url.loc);
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
            facts.push_default("url.host", Value::Str(host.clone()), loc);
        }
        if let Some(path) = &path {
            facts.push("url.path", Value::Str(path.clone()), sub(path));
        }
        if let Some(q) = &query {
            facts.push("url.query", Value::Str(q.clone()), sub(q));
        }
        let endpoint = match &path {
            Some(p) if providers.is_token_path(p) => "token",
            _ => "api",
        };
        let loc = path.as_deref().map(sub).unwrap_or(url.loc);
        facts.push("endpoint", Value::Str(endpoint.into()), loc);
    } else if let Some(call) = facts
        .first("exception.call")
        .filter(|c| c.value.to_string().ends_with("_token"))
        .cloned()
    {
        // The Genesys SDK's token helpers (`get_client_credentials_token`).
        facts.push("endpoint", Value::Str("token".into()), call.loc);
    } else {
        facts.push("endpoint", Value::Str("unknown".into()), None);
    }
    if let Some(host) = facts.first("url.host").cloned()
        && let Some(m) = providers.lookup_host(&host.value.to_string())
    {
        facts.push("provider", Value::Str(m.provider.id.clone()), host.loc);
        if let Some(r) = m.region {
            facts.push("region", Value::Str(r.id.clone()), host.loc);
            facts.push("region.domain", Value::Str(r.domain.clone()), host.loc);
            if let Some(sdk) = &r.sdk {
                facts.push("region.sdk", Value::Str(sdk.clone()), host.loc);
            }
        }
    }
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
    // A bare body that states its status (Genesys error bodies do) stands in
    // for the missing status line.
    if facts.get("status").is_empty()
        && let Some(v) = facts.first("body.status").cloned()
        && v.value
            .as_num()
            .is_some_and(|n| (100.0..600.0).contains(&n))
    {
        facts.push("status", Value::Num(v.value.as_num().unwrap_or(0.0)), v.loc);
    }
    if let Some(body) = facts.first("request.body").cloned() {
        let text = body.value.to_string();
        if !text.trim_start().starts_with('{') {
            for (k, v) in url::form_urlencoded::parse(text.as_bytes()) {
                facts.push(format!("form.{k}"), Value::Str(v.into_owned()), body.loc);
            }
        }
    }
    if let Some((client, loc)) = detect_client(facts) {
        facts.push("client", Value::Str(client.into()), loc);
    }
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
    let by_type: [(&str, &str); 11] = [
        ("PureCloudPlatformClientV2.", "genesys-python-sdk"),
        ("requests.", "python-requests"),
        ("urllib3.", "urllib3"),
        ("urllib.error.", "python-urllib"),
        ("curl: (", "curl"),
        ("AxiosError", "axios"),
        ("java.", "java"),
        ("javax.", "java"),
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
    if let Some(v) = facts.first("exception.call") {
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

/// Folds repeats of the same failure into the first occurrence. Two incidents
/// are the same failure when method, status, error and exception type agree
/// and one URL equals or truncates the other (a quoted, cut-off log line).
///
/// Exact repeats (a retry loop) are found by hash; only a body-less
/// occurrence, which may be a truncated quote, is compared with the recent
/// incidents of its kind, so a log with many distinct failures stays linear.
pub fn fold_repeats(incidents: Vec<Incident>) -> Vec<Incident> {
    /// How many earlier incidents of the same kind a possible quote is compared with.
    const QUOTE_WINDOW: usize = 256;
    type Kind = [Option<String>; 3];
    let text = |inc: &Incident, name: &str| inc.facts.first(name).map(|v| v.value.to_string());
    let mut kept: Vec<Incident> = Vec::new();
    let mut exact: HashMap<(Kind, Option<String>, Option<String>), usize> = HashMap::new();
    let mut by_kind: HashMap<Kind, Vec<usize>> = HashMap::new();
    for inc in incidents {
        let kind: Kind = [
            text(&inc, "method"),
            text(&inc, "status"),
            text(&inc, "exception.type"),
        ];
        let exact_key = (kind.clone(), text(&inc, "url"), text(&inc, "error"));
        let found = exact.get(&exact_key).copied().or_else(|| {
            let candidates = by_kind.get(&kind)?;
            candidates
                .iter()
                .rev()
                .take(QUOTE_WINDOW)
                .copied()
                .find(|&k| is_repeat(&kept[k], &inc))
        });
        match found {
            Some(k) => kept[k].repeats.push(inc.loc),
            None => {
                let index = kept.len();
                exact.insert(exact_key, index);
                by_kind.entry(kind).or_default().push(index);
                kept.push(inc);
            }
        }
    }
    kept
}

fn is_repeat(first: &Incident, later: &Incident) -> bool {
    let same = |name: &str| {
        first.facts.first(name).map(|v| v.value.to_string())
            == later.facts.first(name).map(|v| v.value.to_string())
    };
    let later_body = !later.facts.get("body").is_empty();
    let urls = match (first.facts.str("url"), later.facts.str("url")) {
        (Some(a), Some(b)) => a == b || (!later_body && a.starts_with(b)),
        (None, None) => true,
        _ => false,
    };
    urls && same("method")
        && same("status")
        && same("exception.type")
        // The error code, not the body, identifies the failure: bodies differ
        // per response (Genesys' contextId), so a retry loop folds into one.
        && (same("error") || !later_body)
}
