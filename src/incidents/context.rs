//! Facts an incident takes from around its events: when it happened, and the
//! JWT it sent (or the last one logged before it).

use crate::facts::{Facts, Line};
use crate::incidents::builder::ChunkCx;
use crate::input::{Chunk, LineIndex, Span};
use crate::parse::{Value, jwt, time};

/// Lines before an incident searched for the log line's timestamp.
const TIME_LOOKBACK: usize = 20;

/// The incident's `time`: a time its events carry (JSON-lines record, HAR
/// entry), else the response's `Date` header, else the timestamp of the
/// first timestamped line of the incident or of the nearest line before it.
pub fn incident_time(facts: &mut Facts, chunk: &Chunk, index: &LineIndex, first: usize) {
    if let Some(t) = facts.first("time").cloned() {
        facts.remove("time");
        facts.push("time", t.value, t.loc);
        facts.push("time.source", Value::Str("record".into()), t.loc);
        return;
    }
    if let Some(d) = facts.first("header.date").cloned()
        && let Some(ts) = time::parse_timestamp(&d.value.to_string())
    {
        facts.push("time", Value::Str(time::format(ts).into()), d.loc);
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
            facts.push("time", Value::Str(time::format(ts).into()), loc);
            facts.push("time.source", Value::Str("log line".into()), loc);
            return;
        }
    }
}

/// `jwt.*` facts: the JWT the request sent (its Authorization header), else
/// the first in the incident's lines, else the last one before the incident
/// in the same chunk (a token response logged earlier). Header and payload
/// only; the derived `jwt.expired_seconds` / `jwt.issued_ahead_seconds` /
/// `jwt.expired_at` compare the claims with the incident's `time`.
pub fn token_facts(facts: &mut Facts, cx: &ChunkCx, first: usize, excerpt: &Line) {
    let jwts = &cx.jwts;
    let end = excerpt.offset + excerpt.text.len();
    // JWTs are in input order: find by position, not by scanning them all.
    let at_or_after = |pos: usize| jwts.partition_point(|(p, _)| *p < pos);
    let auth = facts
        .get("request.header.authorization")
        .iter()
        .find_map(|v| v.loc.map(|l| l.span))
        .and_then(|span| {
            jwts.get(at_or_after(span.start))
                .filter(|(p, _)| *p < span.end.max(span.start + 1))
        });
    let within = || {
        jwts.get(at_or_after(excerpt.offset))
            .filter(|(p, _)| *p < end)
    };
    let before = || at_or_after(first).checked_sub(1).and_then(|i| jwts.get(i));
    let Some(&(at, token)) = auth.or_else(within).or_else(before) else {
        return;
    };
    let Some(decoded) = jwt::decode(token) else {
        return;
    };
    let part = jwt::signed_part(token);
    let loc = Some(
        cx.index
            .loc(cx.chunk.source, Span::new(at, at + part.len())),
    );
    let scalar = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Value::Str(s.clone().into()),
        serde_json::Value::Number(n) => Value::Num(n.as_f64().unwrap_or(0.0)),
        other => Value::Str(other.to_string().into()),
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
    if let Some(exp) = facts.num("jwt.exp")
        && let Some(ts) = time::from_epoch(exp)
    {
        facts.push("jwt.expired_at", Value::Str(time::format(ts).into()), loc);
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
