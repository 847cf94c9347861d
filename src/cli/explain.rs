//! `faultline explain QUERY` and `faultline rules show ID`: finds rules by
//! id, by an error code they test for (fuzzy: `invalid-grant`,
//! `missing.permision`), by HTTP status (`429`) or by transport error
//! (`ECONNREFUSED`), and prints them — short by default (title, cause, fix,
//! check, docs), everything with `--full` — through a pager on a terminal.

use std::process::ExitCode;

use faultline::report::text::{self, Paint, visible};
use faultline::rules::{Condition, Literal, Op, Rule, RuleSet, Scope};

use super::output::{self, Output};
use super::rules::{print_problems, visible_lines};
use super::{GlobalArgs, discover, finish};

/// Fields whose conditions name what a failure *is* (its code, status,
/// message, exception); conditions on where it happened (host, endpoint,
/// provider, method) are not what a lookup means.
fn is_lookup_field(field: &str) -> bool {
    !(field == "endpoint"
        || field == "provider"
        || field == "method"
        || field == "region"
        || field.starts_with("url")
        || field.starts_with("provider.")
        || field.starts_with("input.")
        || field.starts_with("request.")
        || field.starts_with("jwt.")
        || field.starts_with("time"))
}

/// Lower-case, with `-`, `.`, ` ` and `_` as one separator, so
/// `invalid-grant`, `Invalid Grant` and `invalid_grant` are one code.
fn normalise(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            '-' | '.' | ' ' | '_' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

fn status_query(q: &str) -> Option<f64> {
    let n: u16 = q.trim().parse().ok()?;
    (100..=599).contains(&n).then_some(n as f64)
}

/// Values of several shapes (a word, an id, a GUID) that no pattern naming
/// an error matches; one that does captures any value (an id, a name).
const NEUTRAL_PROBES: &[&str] = &[
    "qz0x",
    "Zq9Kx8Lm7Pn6",
    "0f3c2a1b-9d8e-4f7a-b6c5-d4e3f2a1b0c9",
];

/// Whether `op` accepts the query as a value.
fn accepts(set: &RuleSet, op: &Op, field: &str, query: &str) -> bool {
    let status = status_query(query);
    let numeric_field = field == "status" || field.ends_with(".status");
    let lit = |l: &Literal| match l {
        Literal::Str(s) => normalise(s) == normalise(query),
        Literal::Num(n) => status == Some(*n),
        Literal::Bool(_) => false,
    };
    match op {
        Op::Equals(l) => lit(l),
        Op::AnyOf(ls) => ls.iter().any(lit),
        // A pattern that matches anything (a capture of any value) says
        // nothing about the query.
        Op::Regex(op) => {
            let Some(re) = set.regex_of(op) else {
                return false;
            };
            status.is_none()
                && ((re.is_match(query.trim()) && !NEUTRAL_PROBES.iter().any(|p| re.is_match(p)))
                    || mentions(re.as_str(), query))
        }
        Op::Contains(s) => s.len() >= 4 && query.to_lowercase().contains(s.as_str()),
        Op::Gt(n) => numeric_field && status.is_some_and(|v| v > *n),
        Op::Lt(n) => numeric_field && status.is_some_and(|v| v < *n),
        Op::Gte(n) => numeric_field && status.is_some_and(|v| v >= *n),
        Op::Lte(n) => numeric_field && status.is_some_and(|v| v <= *n),
        Op::StartsWith(_) | Op::EndsWith(_) | Op::Exists(_) | Op::SameAs(_) | Op::Input(_) => false,
    }
}

/// Whether a pattern names the query literally, as a whole word: a
/// transport error code (`ENOTFOUND`) the pattern only accepts in context
/// (`getaddrinfo ENOTFOUND`).
fn mentions(pattern: &str, query: &str) -> bool {
    let q = query.trim();
    if q.len() < 4 || !q.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return false;
    }
    let p = pattern.to_ascii_lowercase();
    let q = q.to_ascii_lowercase();
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    p.match_indices(&q)
        .any(|(i, _)| !word(p[..i].chars().next_back()) && !word(p[i + q.len()..].chars().next()))
}

/// A condition that tests for the query (every op of it accepts it, and at
/// least one says something about the value).
fn tests_for(set: &RuleSet, c: &Condition, query: &str) -> bool {
    if !is_lookup_field(&c.field) {
        return false;
    }
    let meaningful = c.ops.iter().any(|op| !matches!(op, Op::Exists(_)));
    meaningful
        && c.ops
            .iter()
            .filter(|op| !matches!(op, Op::Exists(_)))
            .all(|op| accepts(set, op, &c.field, query))
}

fn conditions(r: &Rule) -> impl Iterator<Item = &Condition> {
    let logic = r.logic();
    logic.when.iter().chain(logic.any.iter().flatten())
}

/// Rules that test for `query` (failure rules first, input notes after).
fn find<'a>(set: &'a RuleSet, query: &str) -> Vec<&'a Rule> {
    if let Some(r) = set.get(query.trim()) {
        return vec![r];
    }
    let mut found: Vec<&Rule> = set
        .rules
        .iter()
        .filter(|r| conditions(r).any(|c| tests_for(set, c, query)))
        .collect();
    // Rules keyed on something else (an error code in the body) that
    // explain failures with this status: their own examples show it.
    if let Some(status) = status_query(query) {
        let parse_only = RuleSet::new(Vec::new(), set.providers.clone());
        for r in &set.rules {
            if found.iter().any(|f| f.id == r.id) {
                continue;
            }
            let examples = faultline::rules::examples(r);
            let shows_status = examples.iter().filter(|e| e.matches).any(|e| {
                faultline::analyze_text("example", &e.input, &parse_only)
                    .incidents
                    .iter()
                    .any(|i| i.facts.num("status") == Some(status))
            });
            if shows_status {
                found.push(r);
            }
        }
    }
    // Failures before notes; the most general rule (fewest conditions)
    // first: it says what the code means, the others when it happens.
    found.sort_by_key(|r| {
        (
            r.scope == Scope::Input,
            r.logic().when.len() + r.logic().any.len(),
            r.severity,
        )
    });
    found
}

/// Every code a rule compares with, and every rule id: what a misspelt
/// query may have meant.
fn vocabulary(set: &RuleSet) -> Vec<String> {
    let mut words: Vec<String> = set.rules.iter().map(|r| r.id.clone()).collect();
    for r in &set.rules {
        for c in conditions(r).filter(|c| is_lookup_field(&c.field)) {
            for op in &c.ops {
                let lits: Vec<&Literal> = match op {
                    Op::Equals(l) => vec![l],
                    Op::AnyOf(ls) => ls.iter().collect(),
                    _ => Vec::new(),
                };
                for l in lits {
                    if let Literal::Str(s) = l {
                        words.push(s.clone());
                    }
                }
            }
        }
    }
    words.sort();
    words.dedup();
    words
}

/// The known code or id closest to a misspelt query.
fn nearest(set: &RuleSet, query: &str) -> Option<String> {
    let q = normalise(query);
    vocabulary(set)
        .into_iter()
        .map(|w| {
            let n = normalise(&w);
            let distance = strsim::damerau_levenshtein(&q, &n);
            let similarity = strsim::jaro_winkler(&q, &n);
            (distance, similarity, w, n.len())
        })
        // A typo rarely hits the first letter; `ENOTFOUND` is not `not.found`.
        .filter(|(_, _, w, _)| normalise(w).chars().next() == q.chars().next())
        .filter(|(d, s, _, len)| (*d <= 2 && *len > 4) || *s >= 0.93)
        .min_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)))
        .map(|(_, _, w, _)| w)
}

/// One rule, short: title, cause, fix, how to confirm, docs.
fn short(rule: &Rule, width: usize, paint: Paint) -> String {
    let mut out = String::new();
    let head = format!("{} — {}", rule.id, rule.prose().title);
    for l in text::wrap(&head, width, "", "  ") {
        out.push_str(&paint.bold(&l));
        out.push('\n');
    }
    let scope = match rule.scope {
        Scope::Incident => "a failing call",
        Scope::Input => "the input as a whole",
    };
    out.push_str(&format!(
        "  {} · {:.0}% confidence · provider: {} · about {scope}\n",
        rule.severity.as_str(),
        rule.confidence * 100.0,
        rule.provider.as_deref().unwrap_or("any"),
    ));
    let mut section = |name: &str, body: &str| {
        out.push('\n');
        out.push_str(&paint.bold(name));
        out.push('\n');
        for l in text::wrap(body, width, "  ", "  ") {
            out.push_str(&paint.link_urls(&l));
            out.push('\n');
        }
    };
    section("Cause", &rule.prose().cause);
    section("Fix", &rule.prose().fix);
    if let Some(check) = &rule.prose().check {
        section("How to confirm", check);
    }
    out.push('\n');
    out.push_str(&paint.bold("Docs"));
    out.push('\n');
    for d in rule.prose().docs.iter() {
        out.push_str(&format!("  {}\n", paint.link_urls(&visible(d))));
    }
    out
}

pub fn run(query: &str, full: bool, global: &GlobalArgs) -> ExitCode {
    lookup(query, full, global, "explain")
}

/// `faultline rules show ID`: the same lookup, everything shown.
pub fn show(query: &str, global: &GlobalArgs) -> ExitCode {
    lookup(query, true, global, "rules show")
}

fn lookup(query: &str, full: bool, global: &GlobalArgs, command: &str) -> ExitCode {
    if query.trim().is_empty() {
        note!(
            "error: `faultline {command}` needs something to look up: a rule id, an error code, an HTTP status or a transport error\n\n  e.g. faultline {command} invalid_grant\n\nFor more information, try '--help'."
        );
        return ExitCode::from(2);
    }
    // Rules are shown with their examples.
    let loaded = discover::load_rules_with_examples(global);
    print_problems(&loaded.problems, "the other rules were loaded");
    let set = &loaded.set;
    let mut query = query.trim().to_string();
    let mut found = find(set, &query);
    let mut preface = String::new();
    if found.is_empty()
        && status_query(&query).is_none()
        && let Some(near) = nearest(set, &query)
    {
        preface.push_str(&format!(
            "no exact match for `{}`; showing `{near}`\n\n",
            visible(&query)
        ));
        query = near;
        found = find(set, &query);
    }
    if found.is_empty() {
        let shown = visible(&query);
        match status_query(&query) {
            Some(s) => {
                let phrase = faultline::parse::reason_phrase(s as u16)
                    .map(|p| format!(" ({p})"))
                    .unwrap_or_default();
                note!("faultline: no rule tests for HTTP status {shown}{phrase}");
            }
            None => note!(
                "faultline: no rule has the id `{shown}`, and none tests for an error code, status or transport error `{shown}`"
            ),
        }
        note!(
            "  see `faultline rules list`; write one: `faultline rules new provider.what-failed`"
        );
        return ExitCode::from(2);
    }
    let look = output::look(global.color, global.width, global.output.is_some());
    let paint = Paint {
        color: look.color,
        links: look.links,
    };
    let masker = faultline::mask::Masker {
        show_secrets: global.show_secrets,
    };
    let mut text = preface;
    if found.len() > 1 || found[0].id != query {
        let what = match status_query(&query) {
            Some(s) => format!(
                "HTTP {query}{}",
                faultline::parse::reason_phrase(s as u16)
                    .map(|p| format!(" {p}"))
                    .unwrap_or_default()
            ),
            None => format!("`{}`", visible(&query)),
        };
        let ids: Vec<&str> = found.iter().map(|r| r.id.as_str()).collect();
        let n = found.len();
        text.push_str(&format!(
            "{n} rule{} test{} for {what}: {}\n\n",
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" },
            ids.join(", ")
        ));
    }
    for (i, rule) in found.iter().enumerate() {
        if i > 0 {
            text.push_str(&format!("\n{}\n\n", "─".repeat(look.width.min(60))));
        }
        if full {
            let body = faultline::rules::explain::render(rule, &set.rules, masker);
            text.push_str(&visible_lines(&body));
        } else {
            text.push_str(&short(rule, look.width, paint));
        }
    }
    if !full {
        let example = found.first().map(|r| r.id.as_str()).unwrap_or("");
        text.push_str(&format!(
            "\nEverything (conditions, ranking, examples): faultline explain --full {example}\n"
        ));
    }
    let out = if global.output.is_some() {
        match super::open_output(global) {
            Ok(o) => o,
            Err(c) => return c,
        }
    } else if global.no_pager {
        Output::stdout()
    } else {
        Output::paged()
    };
    let mut out = out;
    out.write_str(&text);
    let code = if loaded.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    };
    finish(out, code)
}
