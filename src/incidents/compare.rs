//! Cross-checks: facts that compare what different places of the input say
//! about one failure — two clocks (`clock.*`), the region or tenant of the
//! call against the one the token came from (`region.other*`, `tenant*`),
//! and a logged token's lifetime against when it was used (`token.*`).
//! Provider knowledge (message templates, tenant shapes, region domains)
//! comes from rules/providers.toml; nothing here names a provider.

use std::sync::OnceLock;

use jiff::Timestamp;
use regex::Regex;

use crate::facts::{Facts, Line};
use crate::incidents::builder::ChunkCx;
use crate::input::{Loc, Span};
use crate::parse::lean::Regex as Lean;
use crate::parse::{Value, time};

/// How far before an incident its chunk is searched for the token's
/// origin (the login host, the authority, the token response).
const LOOKBACK_BYTES: usize = 32 * 1024;
/// Time zones are whole quarter hours: a log time without an offset that
/// differs from a server's clock by more than this may be local time.
const ZONE_STEP: f64 = 900.0;
/// A `Date` this far from the log time belongs to a replayed response.
const REPLAYED: f64 = 86_400.0;

pub fn cross_facts(facts: &mut Facts, cx: &ChunkCx, first: usize, excerpt: &Line) {
    let rel_first = first
        .saturating_sub(cx.chunk.offset)
        .min(cx.chunk.text.len());
    let rel_end = (excerpt.offset + excerpt.text.len())
        .saturating_sub(cx.chunk.offset)
        .min(cx.chunk.text.len());
    let start = cx
        .chunk
        .text
        .floor_char_boundary(rel_first.saturating_sub(LOOKBACK_BYTES));
    let window = Window {
        text: &cx.chunk.text[start..rel_end.max(start)],
        base: cx.chunk.offset + start,
        cx,
    };
    clock(facts, cx, excerpt, &window);
    other_region(facts, &window);
    tenant(facts, &window);
    token_lifetime(facts, &window);
}

/// The text searched around an incident, and where it sits in the input.
struct Window<'a> {
    text: &'a str,
    base: usize,
    cx: &'a ChunkCx<'a>,
}

impl Window<'_> {
    fn loc(&self, start: usize, end: usize) -> Option<Loc> {
        Some(self.cx.index.loc(
            self.cx.chunk.source,
            Span::new(self.base + start, self.base + end),
        ))
    }
}

/// A skew found: the named clock minus its reference, in seconds.
struct Skew {
    seconds: f64,
    /// Whose clock is off: `host` (the machine that made or logged the
    /// request) or `server` (the API, judged by its `Date` header).
    off: &'static str,
    /// What was compared.
    source: &'static str,
    allowed: Option<f64>,
    loc: Option<Loc>,
}

fn clock(facts: &mut Facts, cx: &ChunkCx, excerpt: &Line, window: &Window) {
    let skew = quoted_skew(cx, excerpt)
        .or_else(|| jwt_skew(facts))
        .or_else(|| date_vs_log(facts, window));
    let Some(s) = skew else {
        return;
    };
    let secs = s.seconds.round();
    facts.push("clock.skew_seconds", Value::Num(secs), s.loc);
    facts.push("clock.off_by_seconds", Value::Num(secs.abs()), s.loc);
    let direction = match secs {
        s if s > 0.0 => "ahead",
        s if s < 0.0 => "behind",
        _ => "in step",
    };
    facts.push("clock.direction", Value::Str(direction.into()), s.loc);
    facts.push("clock.off", Value::Str(s.off.into()), s.loc);
    facts.push("clock.source", Value::Str(s.source.into()), s.loc);
    if let Some(a) = s.allowed {
        facts.push("clock.allowed_seconds", Value::Num(a.round()), s.loc);
    }
}

/// A message quoting the client's time and the server's (provider data's
/// `clock_quotes`).
fn quoted_skew(cx: &ChunkCx, excerpt: &Line) -> Option<Skew> {
    let text = &excerpt.text;
    cx.providers.clock_quotes(text).find_map(|re| {
        let c = re.captures(text)?;
        let host = any_time(c.name("host")?.as_str())?;
        let server = any_time(c.name("server")?.as_str())?;
        let allowed = c
            .name("allowed_ms")
            .and_then(|m| m.as_str().parse::<f64>().ok())
            .map(|ms| ms / 1000.0)
            .or_else(|| {
                c.name("allowed_min")
                    .and_then(|m| m.as_str().parse::<f64>().ok())
                    .map(|m| m * 60.0)
            });
        let m = c.get(0)?;
        Some(Skew {
            seconds: seconds_between(host, server),
            off: "host",
            source: "message",
            allowed,
            loc: Some(cx.index.loc(
                cx.chunk.source,
                Span::new(excerpt.offset + m.start(), excerpt.offset + m.end()),
            )),
        })
    })
}

/// A JWT's `iat`/`nbf` against the failure's time. A token made here (an
/// assertion sent to a token endpoint) is stamped by this host's clock and
/// judged by the server's `Date`; a token an issuer made claims a time in
/// the future only when the clock reading it is behind the issuer's.
fn jwt_skew(facts: &Facts) -> Option<Skew> {
    let now = time::parse_timestamp(facts.str("time")?)?;
    let now = now.as_second() as f64;
    let source_of_time = facts.str("time.source").unwrap_or("");
    let (claim, stamped, loc) = ["jwt.nbf", "jwt.iat"].into_iter().find_map(|name| {
        let v = facts.first(name)?;
        Some((name, v.value.as_num()?, v.loc))
    })?;
    let made_here = facts.str("endpoint") == Some("token");
    let by_server = source_of_time == "header.date";
    let source = if claim == "jwt.nbf" {
        "jwt.nbf"
    } else {
        "jwt.iat"
    };
    if made_here {
        // Only the server's clock can judge this host's stamp.
        return by_server.then_some(Skew {
            seconds: stamped - now,
            off: "host",
            source,
            allowed: None,
            loc,
        });
    }
    // An issued token's stamp in the past says nothing (tokens live on).
    (stamped > now).then_some(Skew {
        seconds: now - stamped,
        off: if by_server { "server" } else { "host" },
        source,
        allowed: None,
        loc,
    })
}

/// The response's `Date` (the server's clock) against the time this host
/// wrote for the exchange: its JSON-lines record's time, else the
/// timestamp of the nearest log line at or before the `Date` header.
fn date_vs_log(facts: &Facts, window: &Window) -> Option<Skew> {
    let date = facts.first("header.date")?;
    let server = time::parse_timestamp(date.value.as_str()?)?;
    if facts.str("time.source") == Some("record") {
        let written = facts.str("time")?;
        let host = time::parse_timestamp(written)?;
        return skew_from_log(host, written, server, facts.first("time")?.loc);
    }
    let date_at = date.loc?.span.start;
    let rel = date_at.checked_sub(window.base)?.min(window.text.len());
    let head = &window.text[..window.text.floor_char_boundary(rel)];
    let (host, start, end) = line_time_before(head)?;
    skew_from_log(host, &head[start..end], server, window.loc(start, end))
}

/// A host's log time against a server's clock; a log time written without
/// its zone counts only within one time-zone step (it may be local time).
fn skew_from_log(
    host: Timestamp,
    written: &str,
    server: Timestamp,
    loc: Option<Loc>,
) -> Option<Skew> {
    let secs = seconds_between(host, server);
    if !has_offset(written) && secs.abs() >= ZONE_STEP {
        return None;
    }
    // Beyond a day the response was recorded or replayed (a stub, a HAR
    // saved long ago), not timed by a wrong clock.
    if secs.abs() > REPLAYED {
        return None;
    }
    Some(Skew {
        seconds: if secs.abs() < 1.0 { 0.0 } else { secs },
        off: "host",
        source: "header.date",
        allowed: None,
        loc,
    })
}

/// The timestamp of the last timestamped line of `head` (searching at most
/// 40 lines up), with its byte range in `head`.
fn line_time_before(head: &str) -> Option<(Timestamp, usize, usize)> {
    let mut end = head.len();
    for _ in 0..40 {
        let start = head[..end].rfind('\n').map_or(0, |p| p + 1);
        if let Some((t, s, e)) = time::leading_timestamp(&head[start..end]) {
            return Some((t, start + s, start + e));
        }
        if start == 0 {
            break;
        }
        end = start - 1;
    }
    None
}

fn has_offset(written: &str) -> bool {
    // Lean (see `parse::lean`): its search is of one short value, and the
    // `regex` crate's build took 1.05 M instructions to 0.14 M (callgrind).
    static RE: OnceLock<Lean> = OnceLock::new();
    RE.get_or_init(|| Lean::new(r"(?:Z|[+-][0-9]{2}:?[0-9]{2}|GMT|UTC)$").expect("offset regex"))
        .is_match(written.trim())
}

/// ISO 8601 in either form (`20231101T101010Z` as AWS writes it, or
/// extended), an HTTP date or an epoch.
fn any_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() >= 15 && b[8] == b'T' && b[..8].iter().all(u8::is_ascii_digit) {
        let ext = format!(
            "{}-{}-{}T{}:{}:{}{}",
            &s[..4],
            &s[4..6],
            &s[6..8],
            &s[9..11],
            &s[11..13],
            &s[13..15],
            if s[15..].starts_with('Z') { "Z" } else { "" }
        );
        return time::parse_timestamp(&ext);
    }
    time::parse_timestamp(s)
}

fn seconds_between(a: Timestamp, b: Timestamp) -> f64 {
    (a.as_millisecond() - b.as_millisecond()) as f64 / 1000.0
}

/// Another region of the same provider named by a host near the incident
/// (typically the login host the token came from): `region.other*`.
fn other_region(facts: &mut Facts, window: &Window) {
    let Some(here) = facts.str("region").map(str::to_owned) else {
        return;
    };
    let providers = window.cx.providers;
    let Some((provider, _)) = providers.region(&here) else {
        return;
    };
    // Every host under another region's domain, as (host start, region,
    // where the domain is, its end). The nearest host wins; of two at the
    // same place, the first region, then the first place.
    let mut hosts: Vec<(usize, usize, usize, usize)> = Vec::new();
    let mut take = |k: usize, at: usize, end: usize| {
        if let Some(host_start) = host_start(window.text, at)
            && !continues_host(&window.text[end..])
        {
            hosts.push((host_start, k, at, end));
        }
    };
    let base = window.base - window.cx.chunk.offset;
    let found = window
        .cx
        .region_domains_in(provider, base, base + window.text.len());
    for (k, at) in found {
        let at = at - base;
        let r = &provider.region[k];
        if r.id != here {
            take(k, at, at + r.domain.len());
        }
    }
    hosts.sort_unstable_by_key(|&(s, k, at, _)| (std::cmp::Reverse(s), k, at));
    // Only the nearest host whose line names a token path is asked about
    // its path, not every host in the window.
    let nearest = hosts
        .into_iter()
        .find(|&(_, _, _, end)| token_path_follows(window, end));
    if let Some((s, k, _, e)) = nearest {
        let r = &provider.region[k];
        let loc = window.loc(s, e);
        facts.push("region.other", Value::Str(r.id.clone().into()), loc);
        facts.push(
            "region.other.domain",
            Value::Str(r.domain.clone().into()),
            loc,
        );
        facts.push(
            "region.other.host",
            Value::Str(window.text[s..e].to_ascii_lowercase().into()),
            loc,
        );
    }
}

/// Whether the rest of the host's line names a token endpoint's path (the
/// host's URL, or a debug line's request): a host merely listed (a DNS
/// cache, a config dump) says nothing about where the token came from.
fn token_path_follows(window: &Window, end: usize) -> bool {
    let rest = &window.text[end..];
    let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
    line.find('/').is_some_and(|p| {
        let path = &line[p..];
        let stop = path
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '?' | '#' | ')' | ','))
            .unwrap_or(path.len());
        window.cx.is_token_path(&path[..stop])
    })
}

/// Where the host holding a domain found at `at` starts: the domain must
/// follow a `.` (it is a host under it, `login.<domain>`).
fn host_start(text: &str, at: usize) -> Option<usize> {
    let before = &text.as_bytes()[..at];
    if before.last() != Some(&b'.') {
        return None;
    }
    let label = before
        .iter()
        .rposition(|b| !(b.is_ascii_alphanumeric() || *b == b'.' || *b == b'-'))
        .map_or(0, |p| p + 1);
    (label < at - 1).then_some(label)
}

/// Whether the text after a domain continues the host name (`.au` after
/// `mypurecloud.com`, or more letters).
fn continues_host(after: &str) -> bool {
    let b = after.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_alphanumeric() || *c == b'-' => true,
        Some(b'.') => b.get(1).is_some_and(u8::is_ascii_alphanumeric),
        _ => false,
    }
}

/// The tenant the call addressed (its URL, else the nearest authority URL
/// before it) against the tenant its token names: `tenant`,
/// `tenant.issuer`, and `tenant.mismatch` when they differ.
fn tenant(facts: &mut Facts, window: &Window) {
    let providers = window.cx.providers;
    let claims = providers
        .providers
        .iter()
        .flat_map(|p| p.tenant_claims.iter().map(move |c| (p, c)));
    let from_claim = claims.into_iter().find_map(|(p, c)| {
        let v = facts.first(&format!("jwt.{c}"))?;
        Some((p, v.value.as_str()?.to_owned(), v.loc))
    });
    let from_iss = || {
        let v = facts.first("jwt.iss")?;
        let iss = v.value.as_str()?;
        providers.tenant_patterns().find_map(|(p, re)| {
            let t = re.captures(iss)?.name("tenant")?.as_str().to_owned();
            Some((p, t, v.loc))
        })
    };
    let Some((provider, token_tenant, token_loc)) = from_claim.or_else(from_iss) else {
        return;
    };
    let patterns: Vec<&Regex> = providers
        .tenant_patterns()
        .filter(|(p, _)| p.id == provider.id)
        .map(|(_, re)| re)
        .collect();
    let in_url = facts.first("url").and_then(|u| {
        let url = u.value.as_str()?;
        patterns.iter().find_map(|re| {
            let t = re.captures(url)?.name("tenant")?.as_str().to_owned();
            Some((t, u.loc))
        })
    });
    let nearest = || {
        patterns
            .iter()
            .filter_map(|re| {
                re.captures_iter(window.text)
                    .filter_map(|c| c.name("tenant"))
                    .last()
            })
            .max_by_key(|m| m.start())
            .map(|m| (m.as_str().to_owned(), window.loc(m.start(), m.end())))
    };
    facts.push(
        "tenant.issuer",
        Value::Str(token_tenant.clone().into()),
        token_loc,
    );
    let Some((url_tenant, url_loc)) = in_url.or_else(nearest) else {
        return;
    };
    facts.push("tenant", Value::Str(url_tenant.clone().into()), url_loc);
    let alias = |t: &str| {
        provider
            .tenant_aliases
            .iter()
            .any(|a| a.eq_ignore_ascii_case(t))
    };
    // A tenant can be written as an id or as a domain name: only two of the
    // same shape can be told apart.
    let comparable = is_guid(&url_tenant) == is_guid(&token_tenant);
    if comparable
        && !alias(&url_tenant)
        && !alias(&token_tenant)
        && !url_tenant.eq_ignore_ascii_case(&token_tenant)
    {
        facts.push("tenant.mismatch", Value::Str("true".into()), url_loc);
    }
}

fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A token response logged before the failure (`expires_in`, on a
/// timestamped line) against the time of the failure's own line: `token.*`.
fn token_lifetime(facts: &mut Facts, window: &Window) {
    // Lean (see `parse::lean`): it searches a window already known to hold
    // the key, and the `regex` crate's build took 0.78 M instructions to
    // 0.40 M (callgrind), on every run whose report has a failure.
    static RE: OnceLock<Lean> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Lean::new(r#"["']?\bexpires_in["']?\s*[:=]\s*["']?([0-9]{1,9})\b"#)
            .expect("expires_in regex")
    });
    // The line that reports the failure: its status, else its message.
    let Some(fail_at) = ["status", "exception.message", "message"]
        .iter()
        .find_map(|n| facts.first(n)?.loc)
        .and_then(|l| l.span.start.checked_sub(window.base))
    else {
        return;
    };
    let fail_at = window
        .text
        .floor_char_boundary(fail_at.min(window.text.len()));
    let fail_line = window.text[..fail_at].rfind('\n').map_or(0, |p| p + 1);
    // Every match holds the key: most windows have none, and iterating the
    // regex's captures over 32 KiB is what a failure cost (so did reading
    // the failure's time first, forty lines' timestamps at worst).
    if memchr::memmem::find(&window.text.as_bytes()[..fail_line], b"expires_in").is_none() {
        return;
    }
    let line_end = window.text[fail_line..]
        .find('\n')
        .map_or(window.text.len(), |p| fail_line + p);
    let Some((now, ..)) = line_time_before(&window.text[..line_end]) else {
        return;
    };
    let Some(c) = re.captures_iter(&window.text[..fail_line]).last() else {
        return;
    };
    let Some(m) = c.get(1) else {
        return;
    };
    let Ok(lifetime) = m.as_str().parse::<f64>() else {
        return;
    };
    // The timestamp of the line that logged it, or of one a few lines above
    // (a pretty-printed response).
    let line_end = window.text[m.end()..]
        .find('\n')
        .map_or(window.text.len(), |p| m.end() + p);
    let Some((issued, ..)) = line_time_before(&window.text[..line_end]) else {
        return;
    };
    let age = seconds_between(now, issued);
    if age < 0.0 {
        return;
    }
    let loc = window.loc(m.start(), m.end());
    facts.push("token.expires_in", Value::Num(lifetime), loc);
    facts.push(
        "token.issued_at",
        Value::Str(time::format(issued).into()),
        loc,
    );
    facts.push("token.age_seconds", Value::Num(age.round()), loc);
    facts.push(
        "token.expired_seconds",
        Value::Num((age - lifetime).round()),
        loc,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Windows moving along a chunk (and back) are given what a search of
    /// each window alone gives, though the chunk keeps what it found.
    #[test]
    fn kept_region_domains_are_those_of_each_window() {
        let mut providers = crate::providers::Providers::default();
        let file = toml::from_str(include_str!("../../rules/providers.toml")).unwrap();
        providers.add(file).unwrap();
        let genesys = &providers.providers[0];
        let mut text = String::new();
        for i in 0..400 {
            let host = match i % 7 {
                0 => "login.mypurecloud.com.au",
                1 => "api.usw2.pure.cloud",
                2 => "x.mypurecloud.de.mypurecloud.ie",
                3 => "apne2.pure.cloudapne3.pure.cloud",
                4 => "é.mypurecloud.jp",
                5 => "nothing here at all",
                _ => "login.mypurecloud.commypurecloud.com",
            };
            text.push_str(&format!("{i} GET https://{host}/oauth/token\n"));
        }
        let chunk = crate::input::Chunk {
            source: 0,
            offset: 1000,
            first_line: 1,
            text,
        };
        let index = crate::input::LineIndex::new(&chunk);
        let cx = crate::incidents::builder::ChunkCx::new(&chunk, &index, &providers);
        let t = &chunk.text;
        let mut windows = Vec::new();
        for k in 0..60 {
            let from = t.floor_char_boundary(k * 211 % t.len());
            let to = t.floor_char_boundary((from + 50 + k * 97 % 3000).min(t.len()));
            windows.push((from, to));
        }
        windows.push((0, t.len()));
        windows.push((5, 5));
        for (from, to) in windows {
            let mut kept = cx.region_domains_in(genesys, from, to);
            let mut alone: Vec<(usize, usize)> = (providers
                .region_domains_in(genesys, &t[from..to]))
            .into_iter()
            .map(|(k, at)| (k, from + at))
            .collect();
            kept.sort_unstable();
            alone.sort_unstable();
            assert_eq!(kept, alone, "{from}..{to}");
        }
    }

    #[test]
    fn compact_and_extended_times() {
        let a = any_time("20231101T101010Z").unwrap();
        let b = any_time("2023-11-01T10:25:12Z").unwrap();
        assert_eq!(seconds_between(a, b), -902.0);
        assert!(any_time("not a time").is_none());
    }

    #[test]
    fn host_boundaries() {
        let text = "login.mypurecloud.de then api.mypurecloud.com.au";
        let at = text.find("mypurecloud.de").unwrap();
        assert_eq!(host_start(text, at), Some(0));
        assert!(!continues_host(&text[at + "mypurecloud.de".len()..]));
        let at = text.find("mypurecloud.com").unwrap();
        assert!(continues_host(&text[at + "mypurecloud.com".len()..]));
        assert_eq!(host_start("xmypurecloud.de", 1), None);
    }

    #[test]
    fn guid_shape() {
        assert!(is_guid("72f988bf-86f1-41af-91ab-2d7cd011db47"));
        assert!(!is_guid("contoso.onmicrosoft.com"));
    }

    #[test]
    fn offsets() {
        assert!(has_offset("2026-11-24T21:08:22Z"));
        assert!(has_offset("2026-11-24 21:08:22+0100"));
        assert!(!has_offset("2026-11-24 21:08:22,123"));
    }
}
