//! The command line end to end: stdin, files, directories, formats, exit
//! codes, user rules, invalid rule files, secret masking.

use assert_cmd::Command;
use predicates::prelude::*;

/// faultline with the developer's own rule directories kept out.
fn faultline(home: &tempfile::TempDir) -> Command {
    let mut cmd = Command::cargo_bin("faultline").unwrap();
    cmd.env("XDG_CONFIG_HOME", home.path())
        .env("HOME", home.path())
        .env_remove("FAULTLINE_RULES")
        .env("NO_COLOR", "1");
    cmd
}

const SEED_TRACE: &str = "requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://api.mypurecloud.com/oauth/token\n{\"error\": \"invalid_grant\"}\n";

#[test]
fn stdin_is_read_when_piped() {
    let home = tempfile::tempdir().unwrap();
    faultline(&home)
        .write_stdin(SEED_TRACE)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "genesys.token-request-on-api-host",
        ))
        .stdout(predicate::str::contains("<stdin>:1"));
}

#[test]
fn a_short_paste_is_read_whole_only_when_a_rule_explains_it() {
    let home = tempfile::tempdir().unwrap();
    // A library's one-line message: no status, no request, no error prefix.
    faultline(&home)
        .write_stdin("Token used too early, 1596763845 < 1596763861\n")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "jwt.token-not-yet-valid-clock-skew",
        ))
        .stdout(predicate::str::contains("read as one statement"));
    // Words no rule explains, a notice that it retried, and a second
    // source: nothing is reported.
    for (stdin, args) in [
        ("the sync finished, 3 items copied\n", vec![]),
        (
            "Rate limited on the embeddings API, sleeping before retrying...\n",
            vec![],
        ),
        (
            "Token used too early, 1596763845 < 1596763861\n",
            vec!["-", "fixtures/seed/body-only.json", "-f", "short"],
        ),
    ] {
        let out = faultline(&home)
            .args(&args)
            .write_stdin(stdin)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("<stdin>"), "{stdin}: {text}");
    }
}

#[test]
fn dash_means_stdin_and_files_mix() {
    let home = tempfile::tempdir().unwrap();
    faultline(&home)
        .args(["--format", "short", "-", "fixtures/seed/body-only.json"])
        .write_stdin(SEED_TRACE)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "<stdin>:1:96: error genesys.token-request-on-api-host",
        ))
        .stdout(predicate::str::contains(
            "fixtures/seed/body-only.json:2:12: error oauth.invalid-grant-client-credentials",
        ));
}

#[test]
fn directories_are_walked_recursively() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
    std::fs::write(dir.path().join("a/b/run.log"), SEED_TRACE).unwrap();
    std::fs::write(dir.path().join("ok.log"), "all good\n").unwrap();
    std::fs::write(dir.path().join(".hidden.log"), SEED_TRACE).unwrap();
    let out = faultline(&home)
        .args(["--format", "json"])
        .arg(dir.path())
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["schema"], "faultline/report@1");
    assert_eq!(json["stats"]["sources"], 2, "hidden files are skipped");
    assert_eq!(json["stats"]["incidents"], 1);
    assert!(
        json["incidents"][0]["source"]
            .as_str()
            .unwrap()
            .ends_with("a/b/run.log")
    );
    assert_eq!(json["incidents"][0]["endpoint"], "token");
    assert_eq!(json["incidents"][0]["region"], "us-east-1");
}

#[test]
fn clean_input_exits_zero() {
    let home = tempfile::tempdir().unwrap();
    faultline(&home)
        .write_stdin("2026-11-24 INFO fetched 120 rows\n")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("No failing API call found"));
}

#[test]
fn unreadable_input_is_reported_and_the_rest_still_runs() {
    let home = tempfile::tempdir().unwrap();
    faultline(&home)
        .args([
            "--format",
            "short",
            "does/not/exist.log",
            "fixtures/seed/traceback-and-body.txt",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read does/not/exist.log"))
        .stdout(predicate::str::contains(
            "genesys.token-request-on-api-host",
        ));
}

#[test]
fn invalid_utf8_and_binary_noise_do_not_panic() {
    let home = tempfile::tempdir().unwrap();
    let mut bytes = b"\xff\xfe garbage {\"error\": \n".to_vec();
    bytes.extend_from_slice(SEED_TRACE.as_bytes());
    bytes.extend_from_slice(&[0xc3, 0x28, b'\n', b'{', b'{', b'[']);
    faultline(&home)
        .write_stdin(bytes)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "genesys.token-request-on-api-host",
        ));
}

const USER_RULE: &str = r#"
[[rule]]
id = "acme.quota-exhausted"
title = "ACME quota exhausted for {body.plan}"
severity = "warning"
confidence = 0.8
when = { status = 402, "body.code" = "quota_exhausted" }
cause = "The account's monthly quota is used up."
fix = "Upgrade the plan or wait for the next cycle."
docs = ["https://example.com/docs/quota"]

[[rule.example]]
input = '''{"code": "rate_limited", "plan": "free", "status": 402}'''
matches = false

[[rule.example]]
input = '''
HTTP/1.1 402 Payment Required

{"code": "quota_exhausted", "plan": "free"}
'''
matches = true
"#;

#[test]
fn user_rules_are_added_and_no_builtin_drops_the_pack() {
    let home = tempfile::tempdir().unwrap();
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(rules.path().join("acme.toml"), USER_RULE).unwrap();
    let input =
        "HTTP/1.1 402 Payment Required\n\n{\"code\": \"quota_exhausted\", \"plan\": \"free\"}\n";
    faultline(&home)
        .args(["--format", "short", "--rules"])
        .arg(rules.path())
        .write_stdin(input)
        .assert()
        // A failing exchange fails the run, whatever explains it.
        .code(1)
        .stdout(predicate::str::contains(
            "warning acme.quota-exhausted: ACME quota exhausted for free",
        ));
    faultline(&home)
        .args(["--format", "short", "--no-builtin", "--rules"])
        .arg(rules.path())
        .write_stdin(SEED_TRACE)
        .assert()
        // A failing exchange fails the run even when no rule explains it.
        .code(1)
        .stdout(predicate::str::contains("acme.quota-exhausted").not())
        .stdout(predicate::str::contains("<stdin>:1:1: error unexplained: "));
}

#[test]
fn invalid_rule_file_is_shown_with_spans_and_valid_rules_still_run() {
    let home = tempfile::tempdir().unwrap();
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(rules.path().join("good.toml"), USER_RULE).unwrap();
    std::fs::write(
        rules.path().join("bad.toml"),
        "[[rule]]\nid = \"acme.bad\"\ntitel = \"typo\"\nwhen = { statuss = 500, \"body.code\" = { regex = '(unclosed' } }\n",
    )
    .unwrap();
    let input =
        "HTTP/1.1 402 Payment Required\n\n{\"code\": \"quota_exhausted\", \"plan\": \"free\"}\n";
    faultline(&home)
        .args(["--format", "short", "--rules"])
        .arg(rules.path())
        .write_stdin(input)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("acme.quota-exhausted"))
        .stderr(predicate::str::contains("unknown rule key `titel`"))
        .stderr(predicate::str::contains("did you mean `title`?"))
        .stderr(predicate::str::contains("unknown fact field `statuss`"))
        .stderr(predicate::str::contains("invalid regex"))
        .stderr(predicate::str::contains("bad.toml:3:1"));
}

/// `path:line:col: severity rule-id` of each `--format short` line.
fn short_entries(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(|l| {
            let (place, rest) = l.split_once(": ").unwrap();
            let id = rest
                .split_whitespace()
                .nth(1)
                .unwrap()
                .trim_end_matches(':');
            (place.to_string(), id.to_string())
        })
        .collect()
}

#[test]
fn formats_agree_on_the_diagnoses() {
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = faultline(&home)
            .args(args)
            .arg("fixtures/seed/forum-thread.txt")
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let json: serde_json::Value = serde_json::from_str(&run(&["--format", "json"])).unwrap();
    let mut from_json: Vec<(String, String)> = json["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                format!(
                    "{}:{}:{}",
                    d["source"].as_str().unwrap(),
                    d["line"],
                    d["column"]
                ),
                d["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // Every diagnosis, at the same place, with `--verbose`.
    let mut every = short_entries(&run(&["--format", "short", "--verbose"]));
    every.sort();
    from_json.sort();
    assert_eq!(every, from_json);
    // By default: each incident's best diagnosis, then the notes.
    let best: Vec<String> = short_entries(&run(&["-f", "short"]))
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    let first_of_incident = json["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["incident"] == 1)
        .unwrap()["rule"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(best.contains(&first_of_incident));
    let notes = json["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["incident"].is_null())
        .count();
    assert_eq!(best.len(), 1 + notes, "{best:?}");
}

const PLANTED: &str = "\
> POST /oauth/token HTTP/1.1
> Host: login.mypurecloud.com
> Authorization: Basic M2YxYzJkOWUtcGxhbnRlZDpGTFRQTEFOVEVEU0VDUkVU
> Cookie: session=FLTPLANTEDCOOKIE-abc; theme=dark
>
< HTTP/1.1 401 Unauthorized
< Set-Cookie: session=FLTPLANTEDCOOKIE-def; Path=/
<
{\"error\":\"invalid_client\",\"description\":\"authentication failed\",\"error_description\":\"authentication failed\"}
POST https://login.mypurecloud.com/oauth/token?client_secret=FLTPLANTEDSECRET-xyz
requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: https://login.mypurecloud.com/oauth/token?client_secret=FLTPLANTEDSECRET-xyz
access_token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJldGwiLCJleHAiOjE3NjQwMDAwMDB9.FLTPLANTEDJWTSIGNATURE0123456789
";

#[test]
fn planted_secrets_never_appear_in_any_format() {
    let home = tempfile::tempdir().unwrap();
    for format in ["human", "json", "short"] {
        let out = faultline(&home)
            .args(["--format", format])
            .write_stdin(PLANTED)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(!text.is_empty());
        for secret in ["FLTPLANTED", "M2YxYzJkOWUtcGxhbnRlZDpGTFRQTEFOVEVEU0VDUkVU"] {
            assert!(
                !text.contains(secret),
                "{secret} leaked in --format {format}:\n{text}"
            );
        }
    }
    // Unless the user asks for them.
    faultline(&home)
        .args(["--show-secrets", "--format", "incidents"])
        .write_stdin(PLANTED)
        .assert()
        .stdout(predicate::str::contains("FLTPLANTEDSECRET-xyz"));
}

/// A failure no built-in rule explains: a status the packs know nothing
/// about, with a body in no known shape.
const UNEXPLAINED: &str =
    "HTTP/1.1 418 I'm a teapot\nContent-Type: application/json\n\n{\"teapot\": true}\n";

#[test]
fn a_failing_exchange_exits_one_even_unexplained() {
    let home = tempfile::tempdir().unwrap();
    let out = faultline(&home)
        .args(["--format", "json"])
        .write_stdin(UNEXPLAINED)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["stats"]["incidents"], 1);
    assert!(json["incidents"][0]["explained"].is_boolean());
    assert_eq!(json["incidents"][0]["recovered"], false);
}

#[test]
fn fail_on_sets_the_threshold() {
    let home = tempfile::tempdir().unwrap();
    faultline(&home)
        .args(["--fail-on", "never"])
        .write_stdin(SEED_TRACE)
        .assert()
        .code(0);
    faultline(&home)
        .args(["--fail-on", "warning"])
        .write_stdin(SEED_TRACE)
        .assert()
        .code(1);
    faultline(&home)
        .args(["--fail-on", "bogus"])
        .write_stdin(SEED_TRACE)
        .assert()
        .code(2);
    // An unreadable input is a problem whatever the threshold.
    let missing = home.path().join("no-such.log");
    faultline(&home)
        .args(["--fail-on", "never"])
        .arg(&missing)
        .assert()
        .code(2);
}

#[test]
fn a_failure_a_retry_got_past_does_not_fail_the_run() {
    let home = tempfile::tempdir().unwrap();
    let log = "DEBUG:urllib3.connectionpool:https://api.example.com:443 \"GET /v1/report HTTP/1.1\" 503 None\n\
               DEBUG:urllib3.connectionpool:https://api.example.com:443 \"GET /v1/report HTTP/1.1\" 200 5120\n";
    faultline(&home)
        .args(["--format", "short"])
        .write_stdin(log)
        .assert()
        .code(0);
    faultline(&home)
        .args(["--fail-on", "warning"])
        .write_stdin(log)
        .assert()
        .code(0);
}
