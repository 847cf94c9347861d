//! `faultline rules new ID [--from FILE[:LINE]]`: writes a rule file — a
//! commented template, or a rule pre-filled from a failing call faultline
//! could not explain: the call's distinctive facts as conditions (status,
//! endpoint, provider, error code, a message pattern with its variable
//! parts generalised), its own lines (masked) as the matching example, and
//! a near miss. A pre-filled rule is checked and its examples run before it
//! is written, so it passes `rules check` and `rules test` as written.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use faultline::facts::{Facts, is_known_field};
use faultline::incidents::Incident;
use faultline::input::{Origin, SourceRef};
use faultline::mask::Masker;
use faultline::report::text::visible;
use faultline::rules::load::{self, RuleSource};
use faultline::rules::selftest::run_examples;
use regex::Regex;

use super::GlobalArgs;
use super::discover::{self, config_rules_dir};

pub fn new(
    id: &str,
    from: Option<&str>,
    dir: Option<PathBuf>,
    force: bool,
    global: &GlobalArgs,
) -> ExitCode {
    if !load::is_valid_id(id) {
        note!("faultline: `{}` is not a valid rule id", visible(id));
        note!(
            "  use lower-case dotted words, `provider.what-went-wrong`: e.g. `slack.invalid-auth`"
        );
        return ExitCode::from(2);
    }
    let text = match from {
        None => template(id),
        Some(spec) => match from_incident(id, spec, global) {
            Ok(t) => t,
            Err(message) => {
                note!("faultline: {message}");
                return ExitCode::from(2);
            }
        },
    };
    let Some(dir) = dir.or_else(config_rules_dir) else {
        note!(
            "faultline: no user rules directory (neither XDG_CONFIG_HOME nor HOME is set); pass --dir"
        );
        return ExitCode::from(2);
    };
    let path = dir.join(format!("{id}.toml"));
    if path.exists() && !force {
        note!(
            "faultline: {} already exists (--force overwrites it)",
            path.display()
        );
        return ExitCode::from(2);
    }
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &text)) {
        note!("faultline: cannot write {}: {e}", path.display());
        return ExitCode::from(2);
    }
    let shown = faultline::report::shell_quote(&path.display().to_string());
    let edit = if from.is_some() {
        "  1. edit it: the title, cause, fix and docs (the conditions and the matching example come from your log; replace the near miss with a real one)"
    } else {
        "  1. edit it: the `when` conditions, the texts, and the two examples (one real log excerpt that must match, one near miss that must not)"
    };
    let mut out = format!("created {shown}\n\nnext:\n{edit}\n");
    out.push_str(&format!("  2. faultline rules check {shown}\n"));
    out.push_str(&format!("  3. faultline rules test {shown}\n"));
    out.push_str(&format!(
        "  4. faultline --rules {} your.log\n",
        faultline::report::shell_quote(&dir.display().to_string())
    ));
    out.push_str("fields rules can test: `faultline rules fields`; reference: docs/rules.md\n");
    super::emit(global, &out)
}

/// A rule file that loads cleanly and passes its own examples, with every
/// key explained, for the author to edit.
pub fn template(id: &str) -> String {
    let provider = id.split('.').next().unwrap_or("acme");
    TEMPLATE
        .replace("{{id}}", id)
        .replace("{{provider}}", provider)
}

/// `FILE:LINE` → (FILE, LINE); a path that exists as written is all FILE.
fn split_spec(spec: &str) -> (PathBuf, Option<usize>) {
    if Path::new(spec).exists() {
        return (PathBuf::from(spec), None);
    }
    match spec.rsplit_once(':') {
        Some((file, line)) if !file.is_empty() => match line.parse() {
            Ok(n) => (PathBuf::from(file), Some(n)),
            Err(_) => (PathBuf::from(spec), None),
        },
        _ => (PathBuf::from(spec), None),
    }
}

fn last_line(i: &Incident) -> usize {
    i.excerpt.number + i.excerpt.text.trim_end_matches('\n').matches('\n').count()
}

/// The failing call at `line` of `file` (the only one, when no line is given).
fn pick(file: &Path, line: Option<usize>, global: &GlobalArgs) -> Result<Incident, String> {
    let name = file.display().to_string();
    if !file.is_file() {
        return Err(format!("cannot read {name}: no such file"));
    }
    let loaded = discover::load_rules(global);
    let source = SourceRef {
        name: name.clone(),
        origin: Origin::File(file.to_path_buf()),
    };
    let analysis = faultline::analyze(&[source], &loaded.set);
    if let Some(p) = analysis.problems.first() {
        return Err(format!("cannot read {}: {}", p.name, p.message));
    }
    let incidents = analysis.incidents;
    if incidents.is_empty() {
        return Err(format!(
            "no failing API call found in {name}; a rule needs one to start from"
        ));
    }
    let list = |incidents: &[Incident]| {
        incidents
            .iter()
            .map(|i| {
                format!(
                    "  --from {}:{}   {}",
                    name,
                    i.loc.line,
                    visible(
                        &Masker {
                            show_secrets: false
                        }
                        .string(&i.headline())
                    )
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    match line {
        None if incidents.len() == 1 => Ok(incidents.into_iter().next().expect("one")),
        None => Err(format!(
            "{name} holds {} failing calls; say which one:\n{}",
            incidents.len(),
            list(&incidents)
        )),
        Some(n) => {
            let at = incidents
                .iter()
                .position(|i| i.loc.line <= n && n <= last_line(i).max(i.loc.line))
                .or_else(|| {
                    incidents
                        .iter()
                        .position(|i| i.repeats.iter().any(|r| r.line == n))
                });
            match at {
                Some(k) => Ok(incidents.into_iter().nth(k).expect("in range")),
                None => Err(format!(
                    "no failing call at {name}:{n}; the failing calls are at:\n{}",
                    list(&incidents)
                )),
            }
        }
    }
}

/// A TOML string for `s`: a literal string when it can be one, else a
/// basic string with escapes.
fn toml_string(s: &str) -> String {
    if !s.contains('\'') && !s.chars().any(|c| c.is_control()) {
        format!("'{s}'")
    } else {
        toml::Value::String(s.to_string()).to_string()
    }
}

/// A multi-line TOML string holding `s` exactly.
fn toml_block(s: &str) -> String {
    let clean = s.chars().all(|c| !c.is_control() || c == '\n' || c == '\t');
    if clean && !s.contains("'''") && !s.ends_with('\'') {
        format!("'''\n{s}'''")
    } else {
        toml::Value::String(s.to_string()).to_string()
    }
}

/// A regex matching `message` and its variants: URLs, e-mail addresses,
/// GUIDs, host names, long hex ids and numbers become patterns; the rest
/// is kept literally. Long messages are cut to their start.
pub fn message_pattern(message: &str) -> String {
    static VARIABLE: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(
            r"(?x)
            (?P<url>\b[a-zA-Z][a-zA-Z0-9+.-]*://\S+)
          | (?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)
          | (?P<guid>\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)
          | (?P<host>\b[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*\.[a-zA-Z]{2,}\b)
          | (?P<hex>\b[0-9a-fA-F]{16,}\b)
          | (?P<number>\b\d+(?:[.:/-]\d+)*\b)
          | (?P<space>\s+)",
        )
        .expect("a valid pattern")
    });
    let mut message = message.trim();
    if message.len() > 160 {
        let cut = message.floor_char_boundary(120);
        let cut = message[..cut].rfind(' ').unwrap_or(cut);
        message = &message[..cut];
    }
    let mut out = String::from("(?i)");
    let mut last = 0;
    for c in VARIABLE.captures_iter(message) {
        let m = c.get(0).expect("group 0");
        out.push_str(&regex::escape(&message[last..m.start()]));
        let piece = if c.name("url").is_some() {
            r"\S+"
        } else if c.name("email").is_some() {
            r"\S+@\S+"
        } else if c.name("guid").is_some() {
            r"[0-9a-f-]{36}"
        } else if c.name("host").is_some() {
            r"[\w.-]+"
        } else if c.name("hex").is_some() {
            r"[0-9a-f]+"
        } else if c.name("number").is_some() {
            r"\d[\d.:/-]*"
        } else {
            r"\s+"
        };
        out.push_str(piece);
        last = m.end();
    }
    out.push_str(&regex::escape(&message[last..]));
    out
}

/// Where an error code is found, most specific first: the incident's own
/// code facts, then the usual places in a JSON error body.
const CODE_FIELDS: &[&str] = &[
    "error.code",
    "error",
    "body.error.code",
    "body.code",
    "body.error_code",
    "body.errorCode",
    "body.error.type",
    "exception.code",
];

/// Where a human-readable message is found, best first.
const MESSAGE_FIELDS: &[&str] = &[
    "message",
    "body.error_description",
    "body.message",
    "body.error.message",
    "body.detail",
    "exception.message",
    "exception.cause.message",
];

/// The facts worth testing, as `when` entries, most distinctive last
/// (the message, dropped first when the rule does not hold on its example).
fn conditions(facts: &Facts) -> Vec<(String, String)> {
    let mut when: Vec<(String, String)> = Vec::new();
    let known = |name: &str| is_known_field(name);
    if let Some(s) = facts.num("status") {
        when.push(("status".into(), format!("{}", s as i64)));
    }
    if let Some(e) = facts.str("endpoint").filter(|e| *e != "unknown") {
        when.push(("endpoint".into(), toml_string(e)));
    }
    if let Some(p) = facts.str("provider") {
        when.push(("provider".into(), toml_string(p)));
    }
    let code = CODE_FIELDS
        .iter()
        .copied()
        .filter(|f| known(f))
        .find_map(|f| facts.str(f).map(|v| (f, v)));
    if let Some((field, value)) = code {
        when.push((quote_key(field), toml_string(value)));
    }
    if code.is_none()
        && let Some(t) = facts.str("exception.type")
    {
        when.push(("\"exception.type\"".into(), toml_string(t)));
    }
    let message = MESSAGE_FIELDS
        .iter()
        .copied()
        .filter(|f| known(f))
        .find_map(|f| {
            facts
                .str(f)
                .filter(|m| m.chars().any(|c| c.is_alphabetic()) && m.len() >= 8)
                .map(|m| (f, m))
        });
    if let Some((field, m)) = message {
        let pattern = message_pattern(m);
        when.push((
            quote_key(field),
            format!("{{ regex = {} }}", toml_string(&pattern)),
        ));
    }
    when
}

fn quote_key(field: &str) -> String {
    if field
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        field.to_string()
    } else {
        format!("\"{field}\"")
    }
}

/// The incident's lines, masked.
fn example_text(incident: &Incident) -> String {
    let masker = Masker {
        show_secrets: false,
    };
    let text = masker.string(&incident.excerpt.text);
    let mut out = text.trim_end_matches('\n').to_string();
    out.push('\n');
    out
}

/// The call as a curl -v transcript, from its facts: for a call whose own
/// lines do not stand alone (an entry cut out of a HAR document).
fn transcript(facts: &Facts) -> Option<String> {
    let status = facts.num("status")? as i64;
    let masker = Masker {
        show_secrets: false,
    };
    let mut out = String::new();
    if let (Some(method), Some(host)) = (facts.str("method"), facts.str("url.host")) {
        let path = facts.str("url.path").unwrap_or("/");
        out.push_str(&format!("> {method} {path} HTTP/1.1\n> Host: {host}\n>\n"));
    }
    let reason = facts.str("reason").unwrap_or("");
    out.push_str(&format!("< HTTP/1.1 {status} {reason}\n"));
    if let Some(body) = facts.str("body") {
        out.push_str("< Content-Type: application/json\n<\n");
        out.push_str(&masker.string(body));
        out.push('\n');
    } else {
        out.push_str("<\n");
    }
    Some(out)
}

/// Near misses for `example`, most telling first: the same call with its
/// error code, its message, its exception type or its status changed.
fn near_misses(example: &str, facts: &Facts) -> Vec<String> {
    let mut out = Vec::new();
    let mut replace = |from: &str, to: &str| {
        if from.len() >= 3 && example.contains(from) {
            out.push(example.replace(from, to));
        }
    };
    if let Some(code) = CODE_FIELDS.iter().find_map(|f| facts.str(f)) {
        replace(code, "some_other_error");
    }
    for field in MESSAGE_FIELDS {
        if let Some(m) = facts.str(field) {
            replace(m, "Some other failure");
        }
    }
    if let Some(t) = facts.str("exception.type") {
        replace(t, "OtherError");
    }
    if let Some(status) = facts.num("status").map(|s| s as i64) {
        let other = if status == 400 { 422 } else { 400 };
        if let Ok(re) = Regex::new(&format!(r"\b{status}\b")) {
            let changed = re.replace_all(example, other.to_string()).into_owned();
            if changed != example {
                out.push(changed);
            }
        }
    }
    out
}

fn render(
    id: &str,
    incident: &Incident,
    when: &[(String, String)],
    example: &str,
    near: &str,
) -> String {
    let provider = id.split('.').next().unwrap_or("acme");
    let headline = Masker {
        show_secrets: false,
    }
    .string(&incident.headline());
    let mut out = String::new();
    out.push_str(&format!(
        "# Written by `faultline rules new` from this failing call:\n#   {}\n",
        visible(&headline)
    ));
    out.push_str(
        "# The conditions and the first example come from it. Say what the failure\n\
         # means (title, cause, fix, docs), replace the near miss with a real one, then:\n\
         #   faultline rules check THIS_FILE && faultline rules test THIS_FILE\n\n",
    );
    out.push_str("[[rule]]\n");
    out.push_str(&format!("id = {}\n", toml_string(id)));
    out.push_str("title = 'Say in one line what went wrong'\n");
    out.push_str("severity = \"error\"      # error | warning | info\n");
    out.push_str(
        "confidence = 0.5        # 0..1: how sure you are of the cause when this matches\n",
    );
    out.push_str(&format!("provider = {}\n", toml_string(provider)));
    let entries: Vec<String> = when.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    out.push_str(&format!("when = {{ {} }}\n", entries.join(", ")));
    out.push_str(
        "cause = 'Say why this failure happens: what the error means for this API, and what usually triggers it.'\n\
         fix = 'Say what to do, step by step.'\n\
         # check = 'How to confirm this is the cause.'\n\
         # not = ['A cause people suspect, and why it is not this.']\n\
         docs = ['https://example.com/replace-with-the-page-that-documents-this-error']\n\n",
    );
    out.push_str("[[rule.example]]\nname = \"the-failing-call\"\n");
    out.push_str(&format!(
        "input = {}\nmatches = true\n",
        toml_block(example)
    ));
    out.push_str(
        "\n# A near miss: the same call failing for another reason. Replace it with a\n\
         # real one (a different error from the same API) when you have it.\n",
    );
    out.push_str("[[rule.example]]\nname = \"near-miss\"\n");
    out.push_str(&format!("input = {}\nmatches = false\n", toml_block(near)));
    out
}

/// Whether `text` loads without problems and its examples pass.
fn verify(id: &str, text: &str) -> Result<(), String> {
    // Provider data (hosts, regions) but no built-in rule: the new rule is
    // checked and tested on its own, as `rules test` runs it.
    let source = RuleSource::new(format!("{id}.toml"), text, false);
    let report = load::load_over_builtin(&[source], false);
    let mine: Vec<_> = report
        .problems
        .iter()
        .filter(|p| p.file == format!("{id}.toml"))
        .collect();
    if let Some(p) = mine.first() {
        return Err(p.message.clone());
    }
    let rules: Vec<_> = report.rules.into_iter().filter(|r| r.id == id).collect();
    let results = run_examples(&rules, &report.providers);
    match results.iter().find(|r| !r.passed()) {
        None => Ok(()),
        Some(r) => Err(format!(
            "example `{}` {}",
            r.name(),
            if r.expected {
                "does not match"
            } else {
                "matches"
            }
        )),
    }
}

fn from_incident(id: &str, spec: &str, global: &GlobalArgs) -> Result<String, String> {
    let (file, line) = split_spec(spec);
    let incident = pick(&file, line, global)?;
    let when = conditions(&incident.facts);
    if when.is_empty() {
        return Err(
            "this failing call has no status, error code or message to write a rule on".into(),
        );
    }
    let mut examples = vec![example_text(&incident)];
    examples.extend(transcript(&incident.facts));
    // The call's own lines first, with every distinctive fact; then fewer
    // facts (the message pattern goes first), then a transcript of the call
    // when its lines do not stand alone.
    let mut last_error = String::new();
    for example in &examples {
        for n in (1..=when.len()).rev() {
            for near in near_misses(example, &incident.facts) {
                let text = render(id, &incident, &when[..n], example, &near);
                match verify(id, &text) {
                    Ok(()) => return Ok(text),
                    Err(e) => last_error = e,
                }
            }
        }
    }
    Err(format!(
        "could not write a rule that holds on this call's own lines ({last_error}); start from the template: faultline rules new {id}"
    ))
}

const TEMPLATE: &str = r#"# A faultline rule file: one or more [[rule]] tables.
#
#   faultline rules check THIS_FILE    every problem, with its place
#   faultline rules test THIS_FILE     runs the examples below
#   faultline rules fields             the facts `when` can test
#   faultline rules schema             JSON Schema, for editor completion
#
# Reference: docs/rules.md in the faultline repository.

[[rule]]
# Unique id, lower-case dotted words. Reusing a built-in id replaces that rule.
id = "{{id}}"
# The diagnosis headline. `{error}` is filled with the fact's value.
title = "The API refused the request ({error})"
severity = "error"      # error | warning | info
confidence = 0.7        # 0..1: how sure you are of the cause when this matches
provider = "{{provider}}"

# All of these must hold for one failing exchange. Keys are fact fields;
# a value means "equals" (text is compared case-insensitively), an array
# means "one of", a table holds operators: regex, contains, starts_with,
# ends_with, exists, gt, lt, gte, lte, same_as (and label, the text shown).
when = { status = 400, error = "example_error_code" }
# any = [ { "url.path" = { contains = "/v1/" } }, { "exception.type" = { ends_with = "ApiError" } } ]
# unless = { endpoint = "token" }    # each condition here, on its own, stops the rule
#                                      ([{ a, b }, { c }]: a and b together, or c)

cause = "Say why this failure happens: what the error code means for this API, and what usually triggers it."
fix = "Say what to do, step by step."
# check = "How to confirm this is the cause."
# not = ["A cause people suspect, and why it is not this."]
docs = ["https://example.com/replace-with-the-page-that-documents-this-error"]
# supersedes = ["oauth.invalid-request"]   # hide a more generic rule when this one matches

# Examples are the rule's tests: paste a real excerpt (log lines, curl -v
# output, a traceback, or just the response body) between the ''' marks.
[[rule.example]]
name = "matches"
input = '''
HTTP/1.1 400 Bad Request
Content-Type: application/json

{"error": "example_error_code", "error_description": "replace this example"}
'''
matches = true

# A near miss: close to the failure, but not it. It must not match.
[[rule.example]]
name = "near-miss"
input = '''
HTTP/1.1 400 Bad Request
Content-Type: application/json

{"error": "another_error_code"}
'''
matches = false
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_pattern_generalises_variable_parts() {
        let p = message_pattern(
            "Token 3f1c2d9e-0000-4000-8000-aaaaaaaaaaaa expired 42 seconds ago at https://login.example.com/x for api.example.com",
        );
        let re = Regex::new(&p).unwrap();
        assert!(re.is_match(
            "token 00000000-1111-4222-8333-444444444444 expired 7 seconds ago at https://other/y for eu.example.org"
        ));
        assert!(!re.is_match("Token refreshed"));
        assert!(p.contains("expired"), "{p}");
    }

    #[test]
    fn spec_splits_a_line_number_off() {
        assert_eq!(
            split_spec("no/such/file.log:12"),
            (PathBuf::from("no/such/file.log"), Some(12))
        );
        assert_eq!(
            split_spec("no/such/file.log"),
            (PathBuf::from("no/such/file.log"), None)
        );
    }
}
