//! `faultline explain` (issue 11 §7): finds rules by id, error code (fuzzy),
//! HTTP status and transport error; short by default, everything with
//! `--full`; pages on a terminal; cites no path an installed faultline does
//! not have; an empty lookup is a usage error.

use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;
use predicates::prelude::*;

fn faultline(home: &tempfile::TempDir) -> Command {
    let mut cmd = Command::cargo_bin("faultline").unwrap();
    cmd.env("XDG_CONFIG_HOME", home.path())
        .env("HOME", home.path())
        .env_remove("FAULTLINE_RULES")
        .env_remove("PAGER")
        .env("NO_COLOR", "1");
    cmd
}

fn explain(query: &str) -> (i32, String, String) {
    let home = tempfile::tempdir().unwrap();
    let out = faultline(&home).args(["explain", query]).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The rule ids listed first in an explain answer.
fn first_id(text: &str) -> String {
    text.lines()
        .find(|l| l.contains(" — "))
        .and_then(|l| l.split(" — ").next())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn finds_rules_by_error_code_status_transport_error_and_id() {
    for (query, expected) in [
        ("invalid_grant", "oauth.invalid-grant"),
        ("invalid-grant", "oauth.invalid-grant"),
        ("Invalid Grant", "oauth.invalid-grant"),
        ("missing.permissions", "genesys.missing-permissions"),
        ("ECONNREFUSED", "http.connection-refused"),
        ("ENOTFOUND", "http.dns-failure"),
        ("oauth.invalid-client", "oauth.invalid-client"),
    ] {
        let (code, out, err) = explain(query);
        assert_eq!(code, 0, "{query}: {err}");
        assert!(
            out.lines()
                .any(|l| l.starts_with(&format!("{expected} — "))),
            "{query}: {expected} not shown:\n{out}"
        );
    }
    // An HTTP status names itself and finds rules keyed on it or whose
    // examples show it.
    let (code, out, _) = explain("429");
    assert_eq!(code, 0);
    assert!(out.contains("for HTTP 429 Too Many Requests:"), "{out}");
    assert!(out.contains("genesys.rate-limited"), "{out}");
    // The most general rule about a code comes first.
    assert_eq!(first_id(&explain("invalid_grant").1), "oauth.invalid-grant");
}

#[test]
fn misspelt_codes_and_ids_find_the_nearest() {
    for (query, nearest) in [
        ("missing.permision", "missing.permissions"),
        ("invalid_grnat", "invalid_grant"),
        ("oauth.invalid-grnat", "oauth.invalid-grant"),
    ] {
        let (code, out, err) = explain(query);
        assert_eq!(code, 0, "{query}: {err}");
        assert!(
            out.starts_with(&format!(
                "no exact match for `{query}`; showing `{nearest}`"
            )),
            "{query}:\n{out}"
        );
    }
    let (code, _, err) = explain("completely-unrelated-words");
    assert_eq!(code, 2);
    assert!(
        err.contains("no rule has the id `completely-unrelated-words`"),
        "{err}"
    );
    // Every failing status has a rule (a generic one at least); a
    // not-modified answer has none (302 has one: Canvas's web routes
    // redirect an API call without `/api/v1` to its login page).
    let (code, _, err) = explain("304");
    assert_eq!(code, 2);
    assert!(err.contains("no rule tests for HTTP status 304"), "{err}");
}

#[test]
fn short_by_default_everything_with_full() {
    let home = tempfile::tempdir().unwrap();
    let short = faultline(&home)
        .args(["explain", "oauth.invalid-grant"])
        .output()
        .unwrap();
    let short = String::from_utf8(short.stdout).unwrap();
    for part in [
        "oauth.invalid-grant — ",
        "\nCause\n",
        "\nFix\n",
        "\nDocs\n  https://",
    ] {
        assert!(short.contains(part), "{part:?} missing:\n{short}");
    }
    for absent in ["Example ", "Matches when", "Not this"] {
        assert!(
            !short.contains(absent),
            "{absent:?} in the short form:\n{short}"
        );
    }
    assert!(short.contains("faultline explain --full oauth.invalid-grant"));
    let full = faultline(&home)
        .args(["explain", "--full", "oauth.invalid-grant"])
        .output()
        .unwrap();
    let full = String::from_utf8(full.stdout).unwrap();
    for part in [
        "Matches when all of",
        "Not this",
        "Example ",
        "(matches)",
        "(does not match)",
    ] {
        assert!(full.contains(part), "{part:?} missing from --full:\n{full}");
    }
}

#[test]
fn built_in_rules_cite_no_path_an_installed_faultline_lacks() {
    let report = faultline::rules::load::load(&faultline::rules::builtin_sources());
    for rule in &report.rules {
        let text = faultline::rules::explain::render(
            rule,
            &report.rules,
            faultline::mask::Masker {
                show_secrets: false,
            },
        );
        assert!(
            !text.contains(&*rule.origin.file),
            "{} cites {}",
            rule.id,
            rule.origin.file
        );
    }
    // A user rule does cite its file: the user has it.
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    faultline(&home)
        .args(["rules", "new", "acme.quota", "--dir"])
        .arg(dir.path())
        .assert()
        .code(0);
    faultline(&home)
        .args(["explain", "--full", "acme.quota", "--rules"])
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("acme.quota.toml:"));
}

#[test]
fn an_empty_lookup_is_a_usage_error() {
    for query in ["", "   "] {
        let (code, out, err) = explain(query);
        assert_eq!(code, 2, "{query:?}");
        assert!(out.is_empty(), "{out}");
        assert!(err.contains("needs something to look up"), "{err}");
    }
    let home = tempfile::tempdir().unwrap();
    faultline(&home)
        .args(["rules", "show", ""])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("needs something to look up"));
}

#[test]
fn pages_through_pager_on_a_terminal_only() {
    let bin = env!("CARGO_BIN_EXE_faultline");
    let home = tempfile::tempdir().unwrap();
    // The pager marks its output; `script` gives faultline a terminal.
    let shell = format!("{bin} explain --color never invalid_grant; true");
    let out = StdCommand::new("script")
        .args(["-qec", &shell, "/dev/null"])
        .stdin(Stdio::null())
        .env("PAGER", "sed s/^/PAGED:/")
        .env("XDG_CONFIG_HOME", home.path())
        .env("HOME", home.path())
        .output();
    let Ok(out) = out else {
        eprintln!("no `script` here to make a terminal; skipped");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("PAGED:oauth.invalid-grant — "), "{text}");
    // --no-pager, and any pipe: no pager.
    let shell = format!("{bin} explain --no-pager invalid_grant; true");
    let out = StdCommand::new("script")
        .args(["-qec", &shell, "/dev/null"])
        .stdin(Stdio::null())
        .env("PAGER", "sed s/^/PAGED:/")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("PAGED:"));
    faultline(&home)
        .env("PAGER", "sed s/^/PAGED:/")
        .args(["explain", "invalid_grant"])
        .assert()
        .stdout(predicate::str::contains("PAGED:").not());
}
