//! `faultline rules …` and `faultline explain` end to end: list, show,
//! check (snapshots of the rendered problems), test, new, schema, fields,
//! rule discovery, overrides, and the docs/rules.md walk-through.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

/// A sandbox: HOME and XDG_CONFIG_HOME point into it (the developer's own
/// rules never leak in), and commands run inside its `work` directory.
struct Sandbox {
    root: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("home")).unwrap();
        std::fs::create_dir_all(root.path().join("config")).unwrap();
        std::fs::create_dir_all(root.path().join("work")).unwrap();
        Sandbox { root }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    fn work(&self) -> PathBuf {
        self.path("work")
    }

    /// Writes `text` to `rel` under the sandbox, creating directories.
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// faultline, run in `work`.
    fn cmd(&self) -> Command {
        self.cmd_in(&self.work())
    }

    fn cmd_in(&self, dir: &Path) -> Command {
        let mut cmd = Command::cargo_bin("faultline").unwrap();
        cmd.current_dir(dir)
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env_remove("FAULTLINE_RULES")
            .env_remove("NO_COLOR");
        cmd
    }
}

/// faultline run from the crate root, for the checked-in test data.
fn in_repo(sandbox: &Sandbox) -> Command {
    sandbox.cmd_in(Path::new(env!("CARGO_MANIFEST_DIR")))
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// A small valid user rule.
fn rule(id: &str, error: &str) -> String {
    format!(
        r#"[[rule]]
id = "{id}"
title = "The API said {error}"
when = {{ error = "{error}" }}
cause = "Because."
fix = "Fix it."
docs = ["https://example.com/{error}"]

[[rule.example]]
input = '''{{"ok": false, "error": "{error}"}}'''
matches = true

[[rule.example]]
input = '''{{"ok": false, "error": "something_else"}}'''
matches = false
"#
    )
}

const SLACK_LOG: &str = "{\"ok\": false, \"error\": \"invalid_auth\"}\n";

// ---------------------------------------------------------------- check

fn check_snapshot(sandbox: &Sandbox, rel: &str) -> String {
    let out = in_repo(sandbox)
        .args(["rules", "check", rel])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{rel} should have problems:\n{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());
    stderr(&out)
}

#[test]
fn check_renders_each_kind_of_problem() {
    let sandbox = Sandbox::new();
    insta::glob!("data/bad-rules/*.toml", |path| {
        let name = path.file_name().unwrap().to_str().unwrap();
        let rendered = check_snapshot(&sandbox, &format!("tests/data/bad-rules/{name}"));
        insta::assert_snapshot!(rendered);
    });
}

#[test]
fn check_reports_a_duplicate_id_across_files_at_both_places() {
    let sandbox = Sandbox::new();
    let rendered = check_snapshot(&sandbox, "tests/data/bad-rules/duplicate-id");
    insta::assert_snapshot!(rendered);
}

#[test]
fn check_reports_every_file_in_one_run() {
    let sandbox = Sandbox::new();
    let rendered = check_snapshot(&sandbox, "tests/data/bad-rules");
    for code in [
        "rule::toml-syntax",
        "rule::unknown-key",
        "rule::bad-regex",
        "rule::unknown-field",
        "rule::duplicate-id",
        "rule::no-docs",
        "rule::no-examples",
        "rule::unknown-supersedes",
    ] {
        assert!(rendered.contains(code), "{code} missing:\n{rendered}");
    }
    let files =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bad-rules"))
            .unwrap()
            .count()
            + 1; // duplicate-id/ holds two files
    // duplicate-id/first.toml is fine: the problem is in second.toml.
    assert!(
        rendered.ends_with(&format!("in {} of {files} rule files\n", files - 1)),
        "{rendered}"
    );
}

#[test]
fn check_passes_good_rules_and_colours_nothing_when_piped() {
    let sandbox = Sandbox::new();
    sandbox.write("work/rules/a.toml", &rule("acme.a", "a_failed"));
    sandbox.write("work/rules/nested/b.toml", &rule("acme.b", "b_failed"));
    sandbox
        .cmd()
        .args(["rules", "check", "rules"])
        .assert()
        .code(0)
        .stdout("faultline: 2 rules in 2 files: no problems\n");
    sandbox.write("work/rules/c.toml", "[[rule]]\nid = 'acme.c'\n");
    let out = sandbox
        .cmd()
        .args(["rules", "check", "rules"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !stderr(&out).contains('\u{1b}'),
        "escape codes in piped output"
    );
}

#[test]
fn check_without_paths_uses_discovered_rules_or_says_there_are_none() {
    let sandbox = Sandbox::new();
    sandbox
        .cmd()
        .args(["rules", "check"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no user rules found"));
    sandbox.write("config/faultline/rules/a.toml", &rule("acme.a", "a_failed"));
    sandbox
        .cmd()
        .args(["rules", "check"])
        .assert()
        .code(0)
        .stdout("faultline: 1 rule in 1 file: no problems\n");
}

// ---------------------------------------------------------------- test

#[test]
fn test_reports_failures_with_the_condition_and_the_value() {
    let sandbox = Sandbox::new();
    let text = rule("acme.a", "a_failed")
        + "\n[[rule.example]]\nname = \"wrong-expectation\"\ninput = '''{\"ok\": false, \"error\": \"something_else\"}'''\nmatches = true\n";
    sandbox.write("work/rules/a.toml", &text);
    let out = sandbox
        .cmd()
        .args(["rules", "test", "rules"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn test_explains_a_missing_fact_and_a_negative_that_matched() {
    let sandbox = Sandbox::new();
    let text = r#"[[rule]]
id = "acme.quota"
title = "Quota"
when = { "body.quota" = "exceeded" }
unless = { status = 500 }
cause = "c"
fix = "f"
docs = ["https://example.com"]

[[rule.example]]
name = "no-such-key"
input = '''{"error": "quota", "limit": 10}'''
matches = true

[[rule.example]]
name = "matches-but-should-not"
input = '''{"error": "quota", "quota": "exceeded"}'''
matches = false
"#;
    sandbox.write("work/rules/quota.toml", text);
    let out = sandbox
        .cmd()
        .args(["rules", "test", "rules"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn test_with_problems_exits_2() {
    let sandbox = Sandbox::new();
    in_repo(&sandbox)
        .args(["rules", "test", "tests/data/bad-rules/bad-regex.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("rule::bad-regex"))
        .stdout(predicate::str::contains("0 passed, 0 failed"));
}

#[test]
fn builtin_pack_passes_through_the_same_runner() {
    let sandbox = Sandbox::new();
    sandbox
        .cmd()
        .args(["rules", "test", "--builtin"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(" 0 failed\n"));
}

// ---------------------------------------------------------------- list, show, explain

#[test]
fn list_shows_origin_and_overrides_in_text_and_json() {
    let sandbox = Sandbox::new();
    sandbox.write("work/rules/acme.toml", &rule("acme.a", "a_failed"));
    sandbox.write(
        "work/rules/override.toml",
        &rule("oauth.invalid-client", "invalid_client"),
    );
    let out = sandbox
        .cmd()
        .args(["rules", "list", "--rules", "rules"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let line = |id: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("{id} not listed:\n{text}"))
            .to_string()
    };
    assert!(line("acme.a").contains(" --rules "), "{}", line("acme.a"));
    assert!(line("acme.a").contains("rules/acme.toml:2"));
    assert!(line("oauth.invalid-client").contains("--rules, overrides built-in"));
    assert!(line("oauth.invalid-grant").contains("built-in"));
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("oauth.invalid-client "))
            .count(),
        1
    );
    assert!(text.contains("(1 overriding a built-in rule)"));
    assert!(text.contains(
        "user rules: rules (from --rules): 2 rules, overriding oauth.invalid-client (built-in)"
    ));

    let out = sandbox
        .cmd()
        .args(["rules", "list", "--format", "json", "--rules", "rules"])
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    let find = |id: &str| rows.iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!(find("acme.a")["builtin"], false);
    assert_eq!(find("acme.a")["severity"], "error");
    assert_eq!(find("acme.a")["file"], "rules/acme.toml");
    assert_eq!(find("oauth.invalid-client")["overrides_builtin"], true);
    assert_eq!(find("oauth.invalid-grant")["builtin"], true);
    assert!(find("genesys.token-locked-user")["provider"].is_string());
}

#[test]
fn no_builtin_lists_and_runs_only_user_rules() {
    let sandbox = Sandbox::new();
    sandbox.write("work/rules/acme.toml", &rule("acme.a", "a_failed"));
    let out = sandbox
        .cmd()
        .args([
            "rules",
            "list",
            "--format",
            "json",
            "--no-builtin",
            "--rules",
            "rules",
        ])
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["acme.a"]);
    sandbox.write("work/token.json", "{\"error\": \"invalid_client\"}\n");
    sandbox
        .cmd()
        .args([
            "--no-builtin",
            "--rules",
            "rules",
            "--format",
            "short",
            "token.json",
        ])
        .assert()
        // A failing exchange no rule explains still fails the run.
        .code(1)
        .stdout("token.json:1:1: error unexplained: response → invalid_client\n");
}

#[test]
fn show_and_explain_find_rules_by_id_and_by_error_code() {
    let sandbox = Sandbox::new();
    let out = sandbox
        .cmd()
        .args(["rules", "show", "oauth.invalid-grant"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for part in [
        "oauth.invalid-grant — ",
        "defined in: the built-in rule pack",
        "Matches when all of\n  error = \"invalid_grant\"",
        "unless any of\n",
        "Cause\n",
        "Fix\n",
        "hidden by: ",
        "oauth.invalid-grant-client-credentials",
        "Example google-refresh (matches):",
    ] {
        assert!(text.contains(part), "{part:?} missing:\n{text}");
    }
    // An installed faultline has no rules/ directory: built-in rules cite none.
    assert!(!text.contains("rules/oauth"), "{text}");
    let out = sandbox
        .cmd()
        .args(["explain", "missing.permissions"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("test for `missing.permissions`:"), "{text}");
    assert!(text.contains("genesys.missing-permissions — "), "{text}");
    sandbox
        .cmd()
        .args(["explain", "oauth.invalid-grnat"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "no exact match for `oauth.invalid-grnat`; showing `oauth.invalid-grant`",
        ));
    sandbox
        .cmd()
        .args(["explain", "zzzz-nothing-like-it"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("see `faultline rules list`"));
}

// ---------------------------------------------------------------- discovery

#[test]
fn discovery_config_dir_project_dir_env_and_flag() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "config/faultline/rules/a.toml",
        &rule("acme.from-config", "a_failed"),
    );
    sandbox.write(
        "work/project/.faultline/rules/b.toml",
        &rule("acme.from-project", "b_failed"),
    );
    sandbox.write("env1/c.toml", &rule("acme.from-env-1", "c_failed"));
    sandbox.write("env2.toml", &rule("acme.from-env-2", "d_failed"));
    sandbox.write("flag/d.toml", &rule("acme.from-flag", "e_failed"));
    let deep = sandbox.path("work/project/src/deeper");
    std::fs::create_dir_all(&deep).unwrap();
    let paths = std::env::join_paths([sandbox.path("env1"), sandbox.path("env2.toml")]).unwrap();
    let out = sandbox
        .cmd_in(&deep)
        .env("FAULTLINE_RULES", &paths)
        .args(["rules", "list", "--no-builtin", "--rules"])
        .arg(sandbox.path("flag"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let ids: Vec<&str> = text
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "acme.from-config",
            "acme.from-project",
            "acme.from-env-1",
            "acme.from-env-2",
            "acme.from-flag"
        ]
    );
    assert!(text.contains("(from config)"));
    assert!(text.contains(".faultline/rules (from project)"));
    assert!(text.contains("(from FAULTLINE_RULES)"));
    assert!(text.contains("(from --rules)"));

    // The project rule fires when analysing from inside the project.
    sandbox.write(
        "work/project/src/deeper/b.json",
        "{\"ok\": false, \"error\": \"b_failed\"}\n",
    );
    sandbox
        .cmd_in(&deep)
        .args(["--format", "short", "b.json"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("acme.from-project"));
    // Outside it, it does not.
    sandbox
        .cmd()
        .args(["--format", "short", "project/src/deeper/b.json"])
        .assert()
        .stdout(predicate::str::contains("acme.from-project").not());
}

#[test]
fn the_same_directory_given_twice_is_loaded_once() {
    let sandbox = Sandbox::new();
    sandbox.write("config/faultline/rules/a.toml", &rule("acme.a", "a_failed"));
    let dir = sandbox.path("config/faultline/rules");
    sandbox
        .cmd()
        .env("FAULTLINE_RULES", &dir)
        .args(["rules", "list", "--no-builtin", "--rules"])
        .arg(&dir)
        .assert()
        .code(0)
        .stderr("");
}

#[test]
fn unreadable_rules_path_is_reported_and_the_analysis_still_runs() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "work/rules/slack.toml",
        &rule("slack.invalid-auth", "invalid_auth"),
    );
    sandbox.write("work/slack.json", SLACK_LOG);
    let out = sandbox
        .cmd()
        .args([
            "--rules",
            "missing-dir",
            "--rules",
            "rules",
            "--format",
            "short",
            "slack.json",
        ])
        .env("FAULTLINE_RULES", "also-missing")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("slack.invalid-auth"),
        "{}",
        stdout(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("rule::unreadable"), "{err}");
    assert!(
        err.contains("rules path `missing-dir` does not exist"),
        "{err}"
    );
    assert!(
        err.contains("rules path `also-missing` does not exist"),
        "{err}"
    );
}

// ---------------------------------------------------------------- new

#[test]
fn new_scaffolds_a_rule_that_checks_and_passes_in_the_config_dir() {
    let sandbox = Sandbox::new();
    let out = sandbox
        .cmd()
        .args(["rules", "new", "acme.token-expired"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let path = sandbox.path("config/faultline/rules/acme.token-expired.toml");
    assert!(stdout(&out).starts_with(&format!("created {}\n", path.display())));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("id = \"acme.token-expired\""));
    assert!(text.contains("provider = \"acme\""));
    // Discovered without flags, valid, and its examples pass.
    sandbox.cmd().args(["rules", "check"]).assert().code(0);
    sandbox
        .cmd()
        .args(["rules", "test"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("2 passed, 0 failed"));
    sandbox
        .cmd()
        .args(["rules", "list"])
        .assert()
        .stdout(predicate::str::contains("acme.token-expired"));
    // No overwrite without --force; bad ids refused.
    sandbox
        .cmd()
        .args(["rules", "new", "acme.token-expired"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
    sandbox
        .cmd()
        .args(["rules", "new", "acme.token-expired", "--force"])
        .assert()
        .code(0);
    sandbox
        .cmd()
        .args(["rules", "new", "Not An Id"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a valid rule id"));
}

// ---------------------------------------------------------------- schema, fields

fn schema_of_cli(sandbox: &Sandbox) -> serde_json::Value {
    let out = sandbox.cmd().args(["rules", "schema"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn toml_as_json(text: &str) -> serde_json::Value {
    let value: toml::Value = toml::from_str(text).unwrap();
    serde_json::to_value(value).unwrap()
}

#[test]
fn schema_fields_come_from_the_catalogue() {
    let sandbox = Sandbox::new();
    let schema = schema_of_cli(&sandbox);
    assert_eq!(schema, faultline::rules::schema::schema());
    let properties = schema["definitions"]["conditions"]["properties"]
        .as_object()
        .unwrap();
    let names: std::collections::BTreeSet<&str> = properties.keys().map(String::as_str).collect();
    let fields: std::collections::BTreeSet<&str> = faultline::facts::FIELDS
        .iter()
        .map(|(n, _, _)| *n)
        .collect();
    assert_eq!(names, fields);
    let patterns = schema["definitions"]["conditions"]["patternProperties"]
        .as_object()
        .unwrap();
    assert_eq!(patterns.len(), faultline::facts::FIELD_PREFIXES.len());
    let field_enum = &schema["definitions"]["field"]["anyOf"][0]["enum"];
    assert_eq!(field_enum.as_array().unwrap().len(), fields.len());
}

#[test]
fn every_builtin_rule_file_and_the_template_validate_against_the_schema() {
    let schema = faultline::rules::schema::schema();
    let validator = jsonschema::draft7::new(&schema).expect("a valid draft 7 schema");
    let mut checked = 0;
    for source in faultline::rules::builtin_sources() {
        let doc = toml_as_json(source.text());
        if doc.get("rule").is_none() {
            continue; // provider data, not rules
        }
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}:\n{}", source.name, errors.join("\n"));
        checked += 1;
    }
    assert!(checked >= 2);
    let sandbox = Sandbox::new();
    sandbox
        .cmd()
        .args(["rules", "new", "acme.x", "--dir", "r"])
        .assert()
        .code(0);
    let template = std::fs::read_to_string(sandbox.path("work/r/acme.x.toml")).unwrap();
    assert!(validator.is_valid(&toml_as_json(&template)));
    // And it does reject what `rules check` rejects structurally.
    let bad = toml_as_json(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bad-rules/many.toml"),
        )
        .unwrap(),
    );
    let errors: Vec<String> = validator
        .iter_errors(&bad)
        .map(|e| e.instance_path().to_string())
        .collect();
    for place in [
        "/rule/0/when",
        "/rule/0/severity",
        "/rule/0/confidence",
        "/rule/1/id",
    ] {
        assert!(
            errors.iter().any(|e| e.starts_with(place)),
            "{place} not flagged: {errors:?}"
        );
    }
}

#[test]
fn fields_lists_every_field_and_the_docs_table_is_its_markdown() {
    let sandbox = Sandbox::new();
    let out = sandbox.cmd().args(["rules", "fields"]).output().unwrap();
    let text = stdout(&out);
    for (name, meaning, example) in faultline::facts::FIELDS {
        assert!(
            text.contains(name) && text.contains(meaning) && text.contains(example),
            "{name}"
        );
    }
    for (prefix, _, _) in faultline::facts::FIELD_PREFIXES {
        assert!(text.contains(&format!("{prefix}*")), "{prefix}");
    }
    let out = sandbox
        .cmd()
        .args(["rules", "fields", "--format", "json"])
        .output()
        .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        rows.as_array().unwrap().len(),
        faultline::facts::FIELDS.len() + faultline::facts::FIELD_PREFIXES.len()
    );
    let out = sandbox
        .cmd()
        .args(["rules", "fields", "--format", "markdown"])
        .output()
        .unwrap();
    let markdown = stdout(&out);
    let docs = docs();
    let begin = docs.find("<!-- fields:begin -->\n").unwrap() + "<!-- fields:begin -->\n".len();
    let end = docs.find("<!-- fields:end -->").unwrap();
    assert_eq!(
        &docs[begin..end],
        markdown,
        "docs/rules.md's fields table is stale: paste `faultline rules fields --format markdown` between the fields markers"
    );
}

#[test]
fn docs_describe_every_rule_key_operator_and_problem_code() {
    let docs = docs();
    for (key, required, _) in faultline::rules::load::RULE_KEYS {
        let row = format!("| `{key}` | {} |", if *required { "yes" } else { "no" });
        assert!(docs.contains(&row), "docs/rules.md lacks the row {row:?}");
    }
    for (op, takes, _) in faultline::rules::load::OPERATORS {
        let row = format!("| `{op}` | {takes} |");
        assert!(docs.contains(&row), "docs/rules.md lacks the row {row:?}");
    }
    // Every problem code the loader can emit, from its sources.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rules/load");
    let mut load_rs = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        load_rs.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    let codes = regex::Regex::new(r#""(rule::[a-z-]+)""#).unwrap();
    for c in codes.captures_iter(&load_rs) {
        assert!(
            docs.contains(&format!("`{}`", &c[1])),
            "docs/rules.md does not document {}",
            &c[1]
        );
    }
}

// ---------------------------------------------------------------- the walk-through

fn docs() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md")).unwrap()
}

/// The fenced block after `<!-- walkthrough:NAME -->` in docs/rules.md.
fn docs_block(name: &str) -> String {
    let docs = docs();
    let marker = format!("<!-- walkthrough:{name} -->\n");
    let start = docs.find(&marker).unwrap_or_else(|| panic!("no {marker}")) + marker.len();
    let rest = &docs[start..];
    let body = &rest[rest.find('\n').unwrap() + 1..];
    body[..body.find("\n```\n").unwrap() + 1].to_string()
}

/// A console block: its command line (without `$ `) and its output.
fn console(name: &str) -> (String, String) {
    let block = docs_block(name);
    let (command, output) = block.split_once('\n').unwrap();
    (
        command.strip_prefix("$ faultline ").unwrap().to_string(),
        output.to_string(),
    )
}

fn args(command: &str) -> Vec<String> {
    shlex::split(command).unwrap()
}

#[test]
fn docs_walkthrough_new_check_test_run() {
    let sandbox = Sandbox::new();
    let rule_path = sandbox.work().join("my-rules/slack.invalid-auth.toml");

    // 1. Scaffold.
    sandbox
        .cmd()
        .args(["rules", "new", "slack.invalid-auth", "--dir", "my-rules"])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with(
            "created my-rules/slack.invalid-auth.toml\n",
        ));
    assert!(rule_path.exists());

    // 2-3. The draft with a typo: `rules check` output as in the docs.
    let rule = docs_block("rule");
    let typo = rule.replacen("error = \"invalid_auth\"", "eror = \"invalid_auth\"", 1);
    assert_ne!(typo, rule);
    std::fs::write(&rule_path, &typo).unwrap();
    let (command, expected) = console("check");
    let out = sandbox.cmd().args(args(&command)).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        expected,
        "docs/rules.md's `rules check` output is stale"
    );

    // The edited rule checks clean.
    std::fs::write(&rule_path, &rule).unwrap();
    sandbox
        .cmd()
        .args(args(&command))
        .assert()
        .code(0)
        .stdout("faultline: 1 rule in 1 file: no problems\n");

    // 4. `rules test` output as in the docs.
    let (command, expected) = console("test");
    let out = sandbox.cmd().args(args(&command)).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(
        stdout(&out),
        expected,
        "docs/rules.md's `rules test` output is stale"
    );

    // 5. The rule fires on the log from the docs.
    std::fs::write(sandbox.work().join("notify.log"), docs_block("log")).unwrap();
    let docs = docs();
    let run = docs
        .lines()
        .skip_while(|l| !l.starts_with("$ faultline --rules my-rules"))
        .take(2)
        .collect::<Vec<_>>();
    let out = sandbox
        .cmd()
        .args(args(run[0].strip_prefix("$ faultline ").unwrap()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim_end(),
        run[1],
        "docs/rules.md's run output is stale"
    );

    // Explain finds it by id and by the error code it tests.
    for query in ["slack.invalid-auth", "invalid_auth"] {
        sandbox
            .cmd()
            .args(["explain", query, "--rules", "my-rules"])
            .assert()
            .code(0)
            .stdout(predicate::str::contains(
                "slack.invalid-auth — Slack rejected the token ({error})",
            ));
    }
}

/// `unless` as an array of tables blocks only when a whole table holds.
#[test]
fn unless_array_tables_are_conjunctions() {
    let home = tempfile::tempdir().unwrap();
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(
        rules.path().join("acme.toml"),
        r#"
[[rule]]
id = "acme.teapot"
title = "teapot"
when = { status = 418 }
unless = [{ "body.code" = "brewing", "body.temp" = { gt = 90 } }]
cause = "c"
fix = "f"
docs = ["https://example.com/teapot"]

[[rule.example]]
input = '''{"status": 418, "code": "brewing", "temp": 40}'''
matches = true

[[rule.example]]
input = '''{"status": 418, "code": "brewing", "temp": 95}'''
matches = false
"#,
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_faultline"))
        .env("XDG_CONFIG_HOME", home.path())
        .env("HOME", home.path())
        .env_remove("FAULTLINE_RULES")
        .args(["rules", "test"])
        .arg(rules.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("2 passed, 0 failed"), "{stdout}");
}

// ------------------------------------------------------------- expected

/// A user rule that says an answer is the API working as designed: [`rule`]
/// with `expected = true` (and `severity`) on lines 4 and 5.
fn expected_rule(id: &str, error: &str, severity: Option<&str>) -> String {
    let severity = severity.map_or(String::new(), |s| format!("severity = \"{s}\"\n"));
    rule(id, error).replacen(
        "\nwhen = ",
        &format!("\nexpected = true\n{severity}when = "),
        1,
    )
}

/// A JSON report of `log` with only the user rules in `work/rules`, and
/// the exit status.
fn user_rules_json(sandbox: &Sandbox, log: &str) -> (Option<i32>, serde_json::Value) {
    let out = sandbox
        .cmd()
        .args(["--rules", "rules", "--no-builtin", "--format", "json"])
        .write_stdin(log)
        .output()
        .unwrap();
    let json =
        serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    (out.status.code(), json)
}

#[test]
fn an_expected_rule_reports_its_incident_as_expected_and_the_run_as_passing() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "work/rules/acme.toml",
        &expected_rule("acme.export-pending", "export_pending", None),
    );
    let log = "{\"ok\": false, \"error\": \"export_pending\"}\n";
    let (code, json) = user_rules_json(&sandbox, log);
    assert_eq!(code, Some(0));
    assert_eq!(json["incidents"][0]["expected"], true);
    assert_eq!(json["diagnoses"][0]["rule"], "acme.export-pending");
    assert_eq!(json["diagnoses"][0]["severity"], "info");
    let human = sandbox
        .cmd()
        .args(["--rules", "rules", "--no-builtin", "--color", "never"])
        .write_stdin(log)
        .output()
        .unwrap();
    assert_eq!(human.status.code(), Some(0));
    let text = stdout(&human);
    assert!(text.contains("(expected: not a failure)"), "{text}");
    assert!(
        stderr(&human).contains("1 incident (1 expected, not failing)")
            || text.contains("1 incident (1 expected, not failing)"),
        "{text}"
    );
    // A real failure beside it still fails the run, and only it is a failure.
    let both = format!("{log}{}", SLACK_LOG);
    sandbox.write(
        "work/rules/slack.toml",
        &rule("acme.invalid-auth", "invalid_auth"),
    );
    let (code, json) = user_rules_json(&sandbox, &both);
    assert_eq!(code, Some(1));
    let expected: Vec<bool> = json["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["expected"].as_bool().unwrap())
        .collect();
    assert_eq!(expected, [true, false]);
}

#[test]
fn an_error_beside_an_expected_rule_on_the_same_incident_keeps_it_failing() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "work/rules/acme.toml",
        &format!(
            "{}\n{}",
            expected_rule("acme.export-pending", "export_pending", None),
            rule("acme.export-broken", "export_pending")
        ),
    );
    let (code, json) =
        user_rules_json(&sandbox, "{\"ok\": false, \"error\": \"export_pending\"}\n");
    assert_eq!(code, Some(1));
    assert_eq!(json["incidents"][0]["expected"], false);
}

#[test]
fn an_expected_rule_with_a_failing_severity_is_a_problem_at_the_severity() {
    let sandbox = Sandbox::new();
    let check = |text: &str| {
        sandbox.write("work/rules/acme.toml", text);
        let out = sandbox.cmd().args(["rules", "check", "rules"]).output();
        let out = out.unwrap();
        assert_eq!(out.status.code(), Some(2));
        stderr(&out)
    };
    let text = expected_rule("acme.export-pending", "export_pending", Some("error"));
    let err = check(&text);
    assert!(err.contains("rule::bad-severity"), "{err}");
    assert!(err.contains("contradicts `expected = true`"), "{err}");
    // Pointed at the severity's value, line 5 of the file.
    assert!(err.contains("acme.toml:5:"), "{err}");
    // A non-boolean is a type problem.
    let not_bool = text
        .replace("expected = true", "expected = \"yes\"")
        .replace("severity = \"error\"\n", "");
    assert!(check(&not_bool).contains("`expected` must be true or false"));
}
