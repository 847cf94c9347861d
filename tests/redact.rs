//! `faultline redact`: a redacted copy analyses to the same diagnoses as the
//! original, for every fixture, every field case and every rule example;
//! lines stay where they were; and the command line writes files and
//! refuses to overwrite its input.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use faultline::redact::{Options, Placeholders, redact_text};
use faultline::rules::load::load;
use faultline::rules::{RuleSet, builtin_sources};

fn rules() -> RuleSet {
    let report = load(&builtin_sources());
    RuleSet::new(report.rules, report.providers)
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Logs to redact: the captured fixtures and the field corpus' inputs.
fn inputs() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = ["fixtures", "tests/field"]
        .iter()
        .flat_map(|dir| walkdir::WalkDir::new(root().join(dir)).into_iter())
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let rel = p
                .strip_prefix(root())
                .unwrap_or(p)
                .to_string_lossy()
                .to_string();
            p.is_file()
                && !rel.starts_with("fixtures/capture/")
                && (name.starts_with("input.")
                    || [".txt", ".json", ".har", ".log", ".jsonl"]
                        .iter()
                        .any(|ext| name.ends_with(ext)))
        })
        .collect();
    out.sort();
    out
}

/// The diagnoses of a text: (rule id, severity), best first.
fn diagnoses(text: &str, rules: &RuleSet) -> Vec<(String, &'static str)> {
    faultline::analyze_text("input", text, rules)
        .diagnoses
        .iter()
        .map(|d| (d.id.clone(), d.severity.as_str()))
        .collect()
}

/// The text as faultline reads it (line endings normalised).
fn as_read(text: &str) -> String {
    let mut out = String::new();
    faultline::input::read_chunks(0, text.as_bytes(), 1 << 20, |c| out.push_str(&c.text)).unwrap();
    out
}

fn redacted(text: &str, ids: bool) -> String {
    let mut out = Vec::new();
    faultline::redact::redact(text.as_bytes(), &mut out, &Options { ids }).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn redacted_copies_analyse_to_the_same_diagnoses() {
    let rules = rules();
    let mut checked = 0;
    let mut changed = Vec::new();
    for path in inputs() {
        let original = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let expected = diagnoses(&original, &rules);
        // Redaction masks the very value such a rule reads (see
        // READ_THE_SECRET_ITSELF): its diagnosis cannot survive it.
        if expected
            .iter()
            .any(|(id, _)| READ_THE_SECRET_ITSELF.contains(&id.as_str()))
        {
            continue;
        }
        for ids in [false, true] {
            let copy = redacted(&original, ids);
            assert_eq!(
                copy.matches('\n').count(),
                as_read(&original).matches('\n').count(),
                "{}: lines moved",
                path.display()
            );
            let got = diagnoses(&copy, &rules);
            if got != expected {
                changed.push(format!(
                    "{} (ids: {ids}):\n  original {expected:?}\n  redacted {got:?}",
                    path.display()
                ));
            }
        }
        checked += 1;
    }
    assert!(checked > 20, "only {checked} inputs found");
    assert!(changed.is_empty(), "{}", changed.join("\n"));
}

/// Rules whose positive examples rest on the secret's value (see below).
const READ_THE_SECRET_ITSELF: &[&str] = &[
    "entra.client-secret-id-instead-of-value",
    // A `pk_` key sent as the Bearer token: the key's prefix is the evidence.
    "paystack.public-key-as-secret-key",
    // The private key's own text holds the literal `\n` escapes.
    "jwt.private-key-escaped-newlines",
    // A `ptr_` access token sent as the Bearer token: its prefix is the evidence.
    "portainer.api-key-sent-as-bearer",
    // A `phc_` project key sent where a personal key (`phx_`) belongs: the
    // key's prefix is the evidence.
    "posthog.project-api-key-used-as-personal-api-key",
    // The username `sandbox` is the evidence, and `--ids` masks usernames.
    "africastalking.sandbox-credentials-on-live-endpoint",
    // An OAuth access token (a JWT, `eyJ…`) sent under the SSWS scheme:
    // the token's own shape is the evidence.
    "okta.access-token-sent-as-ssws",
    // Jira's `atlassian.xsrf.token` cookie value ending in `lout` (the
    // site served the request as logged out) is the evidence.
    "atlassian.scoped-token-needs-gateway",
    // A bare credential as the whole `Authorization` value, no scheme word:
    // the value's own shape is the evidence, and redacting masks it whole.
    "http.authorization-header-malformed",
    // A Mapbox public token (`pk.eyJ…`) on a Tokens API call: the token's
    // `pk.` prefix is the evidence.
    "mapbox.token-missing-scope",
];

#[test]
fn redacted_rule_examples_still_pass() {
    // Every example of every built-in rule, redacted with --ids, still
    // matches (or not) as its rule says.
    let report = load(&builtin_sources());
    let mut failures = Vec::new();
    for rule in &report.rules {
        let set = RuleSet::new(vec![rule.clone()], report.providers.clone());
        for ex in &rule.examples {
            // A rule whose evidence is the secret's own shape (a GUID sent
            // where a secret value belongs) cannot fire on a copy where the
            // secret is masked: that is redaction doing its job. The full
            // pack still explains such a copy by the error code alone.
            if ex.matches && READ_THE_SECRET_ITSELF.contains(&rule.id.as_str()) {
                continue;
            }
            let mut names = Placeholders::default();
            let copy = redact_text(&ex.input, &Options { ids: true }, &mut names);
            let fired = !faultline::analyze_text("example", &copy, &set)
                .diagnoses
                .is_empty();
            if fired != ex.matches {
                failures.push(format!("{} ({:?}): {copy}", rule.id, ex.name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

#[test]
fn command_line_writes_files_and_never_overwrites_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.log");
    let b = dir.path().join("b.log");
    std::fs::write(
        &a,
        "Authorization: Bearer ab12\nfrom 10.0.0.7 user jane@contoso.com\n",
    )
    .unwrap();
    std::fs::write(&b, "again jane@contoso.com\n").unwrap();
    // One file to stdout.
    Command::cargo_bin("faultline")
        .unwrap()
        .args(["redact", "--ids"])
        .arg(&a)
        .assert()
        .success()
        .stdout("Authorization: Bearer ********\nfrom 10.0.0.1 user user1@example.com\n");
    // Several into a directory, placeholders shared.
    let out = dir.path().join("out");
    Command::cargo_bin("faultline")
        .unwrap()
        .args(["redact", "--ids", "-o"])
        .arg(&out)
        .arg(&a)
        .arg(&b)
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(out.join("b.log")).unwrap(),
        "again user1@example.com\n"
    );
    // Stdin.
    Command::cargo_bin("faultline")
        .unwrap()
        .arg("redact")
        .write_stdin("password=hunter2\n")
        .assert()
        .success()
        .stdout("password=********\n");
    // Onto itself: refused, the input untouched.
    Command::cargo_bin("faultline")
        .unwrap()
        .args(["redact", "-o"])
        .arg(&a)
        .arg(&a)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("refusing to overwrite"));
    assert!(std::fs::read_to_string(&a).unwrap().contains("ab12"));
}
