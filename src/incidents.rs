//! Stage 3, incidents: ties a request, its status, headers, JSON body and the
//! exception that reported it into one failing exchange (by adjacency and
//! shared URL), then classifies it: endpoint kind, provider, region, client.

use crate::facts::{Facts, Line};
use crate::input::{Chunk, LineIndex, Loc, SourceId, Span};
use crate::parse::{Event, EventKind, Value};
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
        match f.str("url") {
            Some(u) => out.push_str(u),
            None if out.is_empty() => out.push_str(match f.str("exception.type") {
                Some(t) => t,
                None => "response",
            }),
            None => out.push_str("(unknown URL)"),
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

/// Events further apart than this many lines are not one exchange. Generous
/// enough to span a Python traceback between a printed body and its exception.
const MAX_GAP: usize = 15;
/// Longest excerpt kept per incident.
const MAX_EXCERPT: usize = 1 << 20;

#[derive(Default)]
struct Draft {
    events: Vec<(Event, usize, usize)>,
    last_line: usize,
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
    let strip = |u: &str| u.split('?').next().unwrap_or(u).trim_end_matches('/').to_string();
    let (a, b) = (strip(a), strip(b));
    a == b || a.ends_with(&b) || b.ends_with(&a)
}

/// Whether `event` continues the exchange in `draft`.
fn continues(draft: &Draft, event: &Event, line: usize) -> bool {
    if draft.is_empty() || line.saturating_sub(draft.last_line) > MAX_GAP {
        return false;
    }
    let url_ok = match (draft.url(), event.field("url").and_then(|f| f.value.as_str())) {
        (Some(a), Some(b)) => same_resource(a, b),
        _ => true,
    };
    let status_ok = match (draft.status(), event.field("status").and_then(|f| f.value.as_num())) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    match event.kind {
        // A request continues only what came before it: a curl command line
        // (Host) and its body.
        EventKind::Request => draft
            .events
            .iter()
            .all(|(e, _, _)| matches!(e.kind, EventKind::Host | EventKind::RequestBody)),
        EventKind::Status => {
            !draft.has(EventKind::Status) && !draft.has(EventKind::Body) && status_ok
        }
        EventKind::Header => line.saturating_sub(draft.last_line) <= 1,
        EventKind::Body => !draft.has(EventKind::Body),
        EventKind::RequestBody => !draft.has(EventKind::RequestBody) && !draft.has(EventKind::Status),
        EventKind::Exception => url_ok && status_ok,
        EventKind::Record => false,
        EventKind::Host => false,
    }
}

/// Groups a chunk's events into failing incidents.
pub fn build(chunk: &Chunk, events: Vec<Event>, index: &LineIndex, providers: &Providers) -> Vec<Incident> {
    let mut out = Vec::new();
    let mut draft = Draft::default();
    for event in events {
        let (first, _) = index.position(event.span.start);
        let (last, _) = index.position(event.span.end.saturating_sub(1).max(event.span.start));
        if !continues(&draft, &event, first) {
            finish(std::mem::take(&mut draft), chunk, index, providers, &mut out);
        }
        draft.last_line = draft.last_line.max(last);
        draft.events.push((event, first, last));
    }
    finish(draft, chunk, index, providers, &mut out);
    out
}

/// A draft becomes an incident only if something failed.
fn is_failure(facts: &Facts) -> bool {
    let status = facts.num("status").or_else(|| facts.num("body.status"));
    status.is_some_and(|s| s >= 400.0)
        || !facts.get("exception.type").is_empty()
        || !facts.get("exception.message").is_empty()
        || ["body.error", "body.error_description", "body.errorCode", "body.errorSummary", "error"]
            .iter()
            .any(|k| !facts.get(k).is_empty())
        || facts.str("body.ok") == Some("false")
}

fn finish(draft: Draft, chunk: &Chunk, index: &LineIndex, providers: &Providers, out: &mut Vec<Incident>) {
    if draft.is_empty() {
        return;
    }
    let source = chunk.source;
    let mut facts = Facts::default();
    for (event, _, _) in &draft.events {
        for f in &event.fields {
            facts.push(f.name.clone(), f.value.clone(), Some(index.loc(source, f.span)));
        }
    }
    if !is_failure(&facts) {
        return;
    }
    let first = draft.events.iter().map(|(e, _, _)| e.span.start).min().unwrap_or(0);
    let last = draft.events.iter().map(|(e, _, _)| e.span.end).max().unwrap_or(first);
    let loc = index.loc(source, Span::new(first, first));
    // Whole lines, so rendering shows each line from its start.
    let rel_start = chunk.text[..first - chunk.offset].rfind('\n').map_or(0, |p| p + 1);
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
        Some(index.loc(source, Span::new(excerpt.offset, excerpt.offset + excerpt.text.len()))),
    );
    classify(&mut facts, providers);
    out.push(Incident {
        source,
        loc,
        facts,
        excerpt,
        repeats: Vec::new(),
    });
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
    } else {
        facts.push("endpoint", Value::Str("unknown".into()), None);
    }
    if let Some(host) = facts.first("url.host").cloned() {
        if let Some(m) = providers.lookup_host(&host.value.to_string()) {
            facts.push("provider", Value::Str(m.provider.id.clone()), host.loc);
            if let Some(r) = m.region {
                facts.push("region", Value::Str(r.id.clone()), host.loc);
                facts.push("region.domain", Value::Str(r.domain.clone()), host.loc);
                if let Some(sdk) = &r.sdk {
                    facts.push("region.sdk", Value::Str(sdk.clone()), host.loc);
                }
            }
        }
    }
    let error = ["body.error", "body.code", "body.errorCode", "error"]
        .iter()
        .find_map(|k| facts.first(k).filter(|v| !matches!(v.value, Value::Str(ref s) if s.starts_with('{'))).cloned());
    if let Some(e) = error {
        if facts.get("error").is_empty() {
            facts.push("error", e.value, e.loc);
        }
    }
    // A bare body that states its status (Genesys error bodies do) stands in
    // for the missing status line.
    if facts.get("status").is_empty() {
        if let Some(v) = facts.first("body.status").cloned() {
            if v.value.as_num().is_some_and(|n| (100.0..600.0).contains(&n)) {
                facts.push("status", Value::Num(v.value.as_num().unwrap_or(0.0)), v.loc);
            }
        }
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
        return (u.host_str().map(str::to_string), path, u.query().map(str::to_string));
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
    let by_type: [(&str, &str); 10] = [
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
    ];
    for v in facts.get("exception.type") {
        let t = v.value.to_string();
        if let Some((_, c)) = by_type.iter().find(|(p, _)| t.starts_with(p) || t == p.trim_end_matches('.')) {
            return Some((c, v.loc));
        }
    }
    if let Some(v) = facts.first("exception.call") {
        return Some(("genesys-python-sdk", v.loc));
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
pub fn fold_repeats(incidents: Vec<Incident>) -> Vec<Incident> {
    let mut kept: Vec<Incident> = Vec::new();
    'next: for inc in incidents {
        for k in kept.iter_mut() {
            if is_repeat(k, &inc) {
                k.repeats.push(inc.loc);
                continue 'next;
            }
        }
        kept.push(inc);
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
    urls && same("method") && same("status") && same("exception.type")
        && (same("error") || !later_body)
        && (same("body") || !later_body)
}
