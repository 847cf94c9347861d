//! Seeded secrets: every example of every secret shape in the masker's table
//! (`faultline::mask::SHAPES`) is planted in input, in a user rule and in a
//! broken rule file, and fed through every output path — the report in
//! every format, `explain`, `rules show`, `rules test`, `rules check` and
//! the analysis' error messages, and the panic hook. None may appear. Each
//! path is also run with `--show-secrets` (where it exists) to prove the
//! planted text does reach the output, so a pass is not a path that never
//! prints the input.

use assert_cmd::Command;
use faultline::mask::SHAPES;

fn faultline(home: &tempfile::TempDir) -> Command {
    let mut cmd = Command::cargo_bin("faultline").unwrap();
    cmd.env("XDG_CONFIG_HOME", home.path())
        .env("HOME", home.path())
        .env_remove("FAULTLINE_RULES")
        .env("NO_COLOR", "1");
    cmd
}

/// Every (shape, secret) pair.
fn secrets() -> Vec<(&'static str, &'static str)> {
    SHAPES
        .iter()
        .flat_map(|s| s.examples.iter().map(move |(_, secret)| (s.name, *secret)))
        .collect()
}

/// A log in which every example sits inside a failing exchange, so each is
/// part of an incident: a request, a 401, the example, a JSON body.
fn planted_log() -> String {
    let mut log = String::new();
    for shape in SHAPES {
        for (example, _) in shape.examples {
            // The URL (in every format's incident summary) carries query secrets.
            log.push_str("> POST /oauth/token?code=SplxlOBeZQQYbYS6WxSbIA&token=qt-9f8e7d HTTP/1.1\n> Host: login.example.com\n");
            log.push_str("< HTTP/1.1 401 Unauthorized\n");
            // Right above the body the diagnosis points at: shown as context.
            log.push_str(example);
            log.push_str("\n{\"error\": \"invalid_client\", \"error_description\": \"Client authentication failed\"}\n\n");
        }
    }
    log
}

fn leaked<'a>(out: &str, secrets: &'a [(&'static str, &'static str)]) -> Vec<&'a str> {
    secrets
        .iter()
        .filter(|(_, s)| out.contains(s))
        .map(|(name, s)| {
            let _ = name;
            *s
        })
        .collect()
}

fn output(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn no_planted_secret_reaches_any_report_format() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("planted.log");
    std::fs::write(&log, planted_log()).unwrap();
    let all = secrets();
    for format in ["human", "json", "short", "incidents"] {
        let masked = output(faultline(&home).args(["--format", format]).arg(&log));
        assert!(
            leaked(&masked, &all).is_empty(),
            "--format {format} leaked {:?}",
            leaked(&masked, &all)
        );
        let shown = output(
            faultline(&home)
                .args(["--format", format, "--show-secrets"])
                .arg(&log),
        );
        // short prints titles only: it never quotes the input.
        if format != "short" {
            assert!(
                !leaked(&shown, &all).is_empty(),
                "--format {format} never prints the planted text: the test proves nothing"
            );
            assert!(masked.contains(faultline::mask::MASK), "--format {format}");
        }
    }
}

/// A user rule whose examples and prose hold every planted secret.
fn planted_rule(dir: &std::path::Path) {
    let mut toml = String::from(
        "[[rule]]\nid = \"acme.planted\"\ntitle = \"Planted rule\"\nseverity = \"error\"\nconfidence = 0.5\n\
         cause = \"Shown by explain.\"\nfix = \"Nothing.\"\ndocs = [\"https://example.com/docs\"]\n\
         when = { status = 401 }\n",
    );
    for shape in SHAPES {
        for (i, (example, _)) in shape.examples.iter().enumerate() {
            toml.push_str(&format!(
                "\n[[rule.example]]\nname = \"{}-{i}\"\ninput = '''\nHTTP/1.1 401 Unauthorized\n{}\n'''\nmatches = true\n",
                shape.name, example
            ));
        }
    }
    std::fs::write(dir.join("planted.toml"), toml).unwrap();
}

#[test]
fn no_planted_secret_reaches_explain_rules_show_or_rules_test() {
    let home = tempfile::tempdir().unwrap();
    let rules = tempfile::tempdir().unwrap();
    planted_rule(rules.path());
    let all = secrets();
    let dir = rules.path().to_str().unwrap();
    for args in [
        vec!["explain", "acme.planted", "--rules", dir],
        vec!["rules", "show", "acme.planted", "--rules", dir],
        vec!["rules", "test", dir],
    ] {
        let out = output(faultline(&home).args(&args));
        assert!(
            out.contains("planted") || out.contains("Planted"),
            "{args:?}: {out}"
        );
        assert!(
            leaked(&out, &all).is_empty(),
            "{args:?} leaked {:?}",
            leaked(&out, &all)
        );
    }
}

#[test]
fn no_planted_secret_reaches_error_messages() {
    let home = tempfile::tempdir().unwrap();
    let rules = tempfile::tempdir().unwrap();
    // A broken rule: the problem's snippet quotes the lines around it.
    let mut toml = String::from("[[rule]]\nid = \"acme.broken\"\n");
    for shape in SHAPES {
        for (example, _) in shape.examples {
            for line in example.lines() {
                toml.push_str(&format!("# {line}\n"));
            }
        }
    }
    toml.push_str("title = 42\nbogus_key = 'Authorization: Bearer ab12'\n");
    std::fs::write(rules.path().join("broken.toml"), toml).unwrap();
    let all = secrets();
    let out = output(faultline(&home).args(["rules", "check"]).arg(rules.path()));
    assert!(out.contains("broken.toml"), "{out}");
    assert!(
        leaked(&out, &all).is_empty(),
        "rules check leaked {:?}",
        leaked(&out, &all)
    );
    assert!(!out.contains("ab12"), "{out}");
    // The same file met during an analysis.
    let out = output(
        faultline(&home)
            .arg("--rules")
            .arg(rules.path())
            .write_stdin("HTTP/1.1 401 Unauthorized\n"),
    );
    assert!(
        leaked(&out, &all).is_empty(),
        "analysis leaked {:?}",
        leaked(&out, &all)
    );
}

#[test]
fn the_panic_hook_never_quotes_the_input() {
    let home = tempfile::tempdir().unwrap();
    let out = faultline(&home)
        .env("FAULTLINE_TEST_PANIC", "Authorization: Bearer ab12-planted")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(101));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("internal error"), "{err}");
    assert!(err.contains(env!("CARGO_PKG_VERSION")), "{err}");
    assert!(err.contains("report"), "{err}");
    assert!(!err.contains("ab12-planted"), "{err}");
    assert!(!err.contains("test panic quoting"), "{err}");
}

#[test]
fn docs_security_lists_every_shape_and_key() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/security.md")).unwrap();
    for shape in SHAPES {
        assert!(
            doc.contains(&format!("| `{}` |", shape.name)),
            "docs/security.md lacks the shape {}",
            shape.name
        );
    }
    for (key, _) in faultline::mask::SECRET_KEYS {
        assert!(
            doc.contains(&format!("`{key}`")),
            "docs/security.md lacks the key name {key}"
        );
    }
}

/// A rule's own prose is printed as written, in every format: advice that
/// looks like a key and its value (`X-Atlassian-Token: no-check`) is not a
/// secret of the input. Values filled into prose are masked as they go in
/// (unit tests in rules::engine).
#[test]
fn rule_prose_is_printed_as_written() {
    let home = tempfile::tempdir().unwrap();
    let input = "$ curl -i -u \"$EMAIL:$TOKEN\" -X POST -F \"file=@r.pdf\" https://acme.atlassian.net/rest/api/3/issue/SEC-1/attachments\nHTTP/2 403\ncontent-type: text/plain;charset=UTF-8\n\nXSRF check failed\n";
    for format in ["human", "json", "short"] {
        let out = output(
            faultline(&home)
                .args(["--format", format, "--color", "never"])
                .write_stdin(input),
        );
        assert!(
            out.contains("atlassian.xsrf-header-missing"),
            "{format}: {out}"
        );
        if format != "short" {
            assert!(
                out.contains("X-Atlassian-Token: no-check"),
                "{format}: {out}"
            );
        }
        assert!(!out.contains("X-Atlassian-Token: ****"), "{format}: {out}");
    }
    // So do `explain --full` and `rules show`, which mask only the examples.
    for args in [
        vec!["explain", "--full", "atlassian.xsrf-header-missing"],
        vec!["rules", "show", "atlassian.xsrf-header-missing"],
    ] {
        let out = output(faultline(&home).args(&args));
        assert!(
            out.contains("X-Atlassian-Token: no-check"),
            "{args:?}: {out}"
        );
        assert!(!out.contains("X-Atlassian-Token: ****"), "{args:?}: {out}");
    }
}
