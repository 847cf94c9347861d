//! The command line as people meet it (issue 11 §1–§5): flags anywhere,
//! "did you mean", layout for the terminal's width (60, 120, 200 columns,
//! and the real width of a pseudo-terminal), control characters from the
//! input made visible, closed pipes, missing and binary inputs, the output
//! modes (short, brief, quiet, --output).

use std::io::Read;
use std::path::Path;
use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;
use predicates::prelude::*;

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_faultline"))
}

/// faultline with the developer's own rule directories and terminal
/// settings kept out.
fn faultline(home: &tempfile::TempDir) -> Command {
    let mut cmd = Command::cargo_bin("faultline").unwrap();
    cmd.env("XDG_CONFIG_HOME", home.path())
        .env("HOME", home.path())
        .env_remove("FAULTLINE_RULES")
        .env_remove("COLUMNS")
        .env_remove("PAGER")
        .env_remove("FAULTLINE_PAGER")
        .env("NO_COLOR", "1");
    cmd
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const FORUM: &str = "fixtures/seed/forum-thread.txt";
const TRACE: &str = "requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://api.mypurecloud.com/oauth/token\n{\"error\": \"invalid_grant\"}\n";

// ------------------------------------------------------------ §1 arguments

#[test]
fn global_flags_work_before_and_after_the_subcommand() {
    let home = tempfile::tempdir().unwrap();
    let rules = tempfile::tempdir().unwrap();
    for args in [
        vec![
            "--no-builtin",
            "--rules",
            "R",
            "rules",
            "list",
            "--format",
            "json",
        ],
        vec![
            "rules",
            "list",
            "--no-builtin",
            "--rules",
            "R",
            "-f",
            "json",
        ],
        vec![
            "-f",
            "json",
            "--color",
            "never",
            "rules",
            "--no-builtin",
            "list",
            "--rules",
            "R",
        ],
    ] {
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                if *a == "R" {
                    rules.path().display().to_string()
                } else {
                    a.to_string()
                }
            })
            .collect();
        let out = faultline(&home).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", stdout(&out)));
        assert_eq!(json, serde_json::json!([]), "{args:?}");
    }
    // `--rules DIR explain X`: the subcommand is still a subcommand.
    faultline(&home)
        .arg("--rules")
        .arg(rules.path())
        .args(["explain", "invalid_grant", "--color", "never"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("oauth.invalid-grant — "));
    // Analysis flags after the paths.
    faultline(&home)
        .args([FORUM, "-f", "short", "-q"])
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with(
            "fixtures/seed/forum-thread.txt:",
        ));
}

#[test]
fn a_misspelt_command_gets_did_you_mean_not_cannot_read() {
    let home = tempfile::tempdir().unwrap();
    let out = faultline(&home)
        .args(["expalin", "invalid_grant"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("no such command or file: `expalin`"), "{err}");
    assert!(err.contains("did you mean `explain`?"), "{err}");
    assert!(!err.contains("cannot read"), "{err}");
    assert!(stdout(&out).is_empty());
    // A rules subcommand without `rules`.
    faultline(&home)
        .arg("check")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `rules check`?"));
    // A path-like word is a missing file, said as such.
    faultline(&home)
        .arg("expalin.log")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read expalin.log"));
    // A file that exists with a command-like name is analysed.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("expalin"), TRACE).unwrap();
    faultline(&home)
        .current_dir(dir.path())
        .args(["expalin", "-f", "short"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("expalin:1:96: error"));
}

#[test]
fn format_flags_that_do_not_exist_suggest_format() {
    let home = tempfile::tempdir().unwrap();
    for (flag, word) in [("--json", "json"), ("--short", "short")] {
        faultline(&home)
            .args([flag, FORUM])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "tip: use '--format {word}' (or '-f {word}')"
            )));
    }
    // A value a command does not take names the ones it does.
    faultline(&home)
        .args(["rules", "list", "-f", "markdown"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("rules list takes: text, json"));
    faultline(&home)
        .args(["-f", "jsno", FORUM])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("a similar value exists: 'json'"));
}

// ------------------------------------------------------------ §2 rendering

/// Lines wider than `width` that are not one unbreakable piece (a URL, a
/// backticked span, a path) after their indent.
fn overflowing(text: &str, width: usize) -> Vec<String> {
    text.lines()
        .filter(|l| l.chars().count() > width)
        .filter(|l| {
            let t = l.trim_start();
            let t = ["docs: ", "help: ", "check: ", "── ", "╭─[", "╰─▶ ", "│ "]
                .iter()
                .find_map(|p| t.strip_prefix(p))
                .unwrap_or(t);
            let long_piece = t.split(' ').any(|w| w.chars().count() > width / 2);
            !(long_piece || t.starts_with('`'))
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn renders_at_60_120_and_200_columns() {
    let home = tempfile::tempdir().unwrap();
    for width in [60, 120, 200] {
        let out = faultline(&home)
            .args(["--width", &width.to_string(), FORUM])
            .output()
            .unwrap();
        let text = stdout(&out);
        assert_eq!(
            overflowing(&text, width),
            Vec::<String>::new(),
            "at {width}"
        );
        // The incident header: on one line when it fits, else the place below.
        let header = text.lines().next().unwrap();
        assert!(
            header.starts_with("── https://api.mypurecloud.com/oauth/token → 403 invalid_grant")
        );
        if width >= 100 {
            assert!(
                header.ends_with("── fixtures/seed/forum-thread.txt:7"),
                "{header}"
            );
        } else {
            assert_eq!(
                text.lines().nth(1),
                Some("   fixtures/seed/forum-thread.txt:7")
            );
        }
        // URLs and code are never broken across lines.
        assert!(text.contains("https://login.mypurecloud.com/oauth/token"));
        assert!(text.contains(
            "`PureCloudPlatformClientV2.api_client.ApiClient().get_client_credentials_token(client_id, client_secret)`"
        ));
        insta::assert_snapshot!(format!("forum-thread-at-{width}"), text);
    }
}

#[test]
fn long_source_lines_are_cut_around_the_evidence() {
    let home = tempfile::tempdir().unwrap();
    let line = format!(
        "2026-11-24T10:00:00Z worker-7 {} requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://api.mypurecloud.com/oauth/token\n",
        "context=abc ".repeat(30)
    );
    let out = faultline(&home)
        .args(["--width", "60", "-"])
        .write_stdin(line + "{\"error\": \"invalid_grant\"}\n")
        .output()
        .unwrap();
    let text = stdout(&out);
    let shown: Vec<&str> = text.lines().filter(|l| l.starts_with(" 1 │ ")).collect();
    assert!(!shown.is_empty(), "{text}");
    for l in &shown {
        assert!(l.chars().count() <= 60, "{l}");
        assert!(l.contains('…'), "{l}");
    }
    // Every label on one line, within the width.
    for l in text.lines().filter(|l| l.contains("╰── ")) {
        assert!(l.chars().count() <= 60, "{l}");
    }
}

#[test]
fn control_characters_from_input_and_file_names_are_escaped() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let name = "evil\x1b]0;pwned\x07\nname.log";
    let input = "POST https://api.example.com/v1/x\x1b[2J -> 500\x1b[31m\r\n{\"error\": \"boom\x1b[0m\\u001b[1m\", \"message\": \"a\\u0000b\"}\n";
    std::fs::write(dir.path().join(name), input).unwrap();
    for format in ["human", "short", "incidents"] {
        let out = faultline(&home)
            .current_dir(dir.path())
            .args(["-f", format, "."])
            .output()
            .unwrap();
        let text = stdout(&out) + &stderr(&out);
        assert!(!text.is_empty());
        for bad in ['\x1b', '\x07', '\0', '\r'] {
            assert!(
                !text.contains(bad),
                "{format}: {bad:?} reached the terminal:\n{text}"
            );
        }
        assert!(
            text.contains("evil␛]0;pwned␇␊name.log"),
            "{format}:\n{text}"
        );
    }
    // `short` stays one line per failing call.
    let out = faultline(&home)
        .current_dir(dir.path())
        .args(["-f", "short", "."])
        .output()
        .unwrap();
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stdout(&out));
}

/// Runs `command` in a pseudo-terminal of `cols` columns (util-linux
/// `script`); `None` where there is none.
fn in_terminal(cols: usize, command: &str, env: &[(&str, &str)]) -> Option<String> {
    in_terminal_typing(cols, command, env, None)
}

/// [`in_terminal`], typing `keys` into the terminal after a second.
fn in_terminal_typing(
    cols: usize,
    command: &str,
    env: &[(&str, &str)],
    keys: Option<&str>,
) -> Option<String> {
    let shell = format!("stty cols {cols} rows 50; {command}");
    let mut cmd = StdCommand::new("script");
    let stdin = if keys.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    };
    cmd.args(["-qec", &shell, "/dev/null"])
        .stdin(stdin)
        .stdout(Stdio::piped())
        .env_remove("COLUMNS")
        .env_remove("NO_COLOR")
        .env("TERM", "xterm-256color")
        .env("PAGER", "cat");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().ok()?;
    if let (Some(keys), Some(mut input)) = (keys, child.stdin.take()) {
        use std::io::Write;
        std::thread::sleep(std::time::Duration::from_secs(1));
        input.write_all(keys.as_bytes()).ok()?;
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let out = child.wait_with_output().ok()?;
    if !out.status.success() && out.stdout.is_empty() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"))
}

#[test]
fn the_real_terminal_width_is_used_not_only_columns() {
    let bin = bin().display().to_string();
    let run = |cols| in_terminal(cols, &format!("{bin} --color never {FORUM}; true"), &[]);
    let (Some(narrow), Some(wide)) = (run(60), run(200)) else {
        eprintln!("no `script` here to make a terminal; skipped");
        return;
    };
    assert_eq!(overflowing(&narrow, 60), Vec::<String>::new());
    assert!(narrow.lines().any(|l| l.chars().count() > 50));
    // At 200 columns the snippet shows the whole 107-column line, at 60 a
    // window of it.
    let whole = " 7 │ requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://api.mypurecloud.com/oauth/token\n";
    assert!(wide.contains(whole), "{wide}");
    assert!(!narrow.contains(whole), "{narrow}");
    assert!(narrow.contains(" 7 │ …"), "{narrow}");
}

#[test]
fn hyperlinks_only_where_the_terminal_supports_them() {
    let bin = bin().display().to_string();
    let Some(linked) = in_terminal(
        120,
        &format!("{bin} {FORUM}; true"),
        &[("FORCE_HYPERLINK", "1")],
    ) else {
        eprintln!("no `script` here to make a terminal; skipped");
        return;
    };
    assert!(
        linked.contains("\x1b]8;;https://developer.genesys.cloud/api/rest/authorization/use-client-credentials\x1b\\"),
        "{linked}"
    );
    // Piped: no escape codes at all.
    let home = tempfile::tempdir().unwrap();
    let out = faultline(&home)
        .env("FORCE_HYPERLINK", "1")
        .arg(FORUM)
        .output()
        .unwrap();
    assert!(!stdout(&out).contains('\x1b'));
}

// ------------------------------------------------------------ §3 pipes

#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    let home = tempfile::tempdir().unwrap();
    let commands: &[&[&str]] = &[
        &[FORUM],
        &["-f", "json", FORUM],
        &["-f", "short", FORUM],
        &["-f", "incidents", FORUM],
        &["--brief", FORUM],
        &["explain", "invalid_grant"],
        &["explain", "--full", "429"],
        &["rules", "list"],
        &["rules", "list", "-f", "json"],
        &["rules", "show", "oauth.invalid-grant"],
        &["rules", "test", "--builtin"],
        &["rules", "check", "rules"],
        &["rules", "schema"],
        &["rules", "fields"],
        &["rules", "fields", "-f", "markdown"],
        &["completions", "bash"],
        &["man"],
        &["report-schema"],
        &["--help"],
        &["--version"],
    ];
    for args in commands {
        let mut child = StdCommand::new(bin())
            .args(*args)
            .env("XDG_CONFIG_HOME", home.path())
            .env("HOME", home.path())
            .env_remove("FAULTLINE_RULES")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end before anything is written.
        drop(child.stdout.take());
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert_ne!(status.code(), Some(101), "{args:?} panicked: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
        assert!(
            matches!(status.code(), Some(0..=2)),
            "{args:?}: {status:?} {err}"
        );
    }
}

// ------------------------------------------------------------ §4 inputs

#[test]
fn a_missing_path_is_an_error_only() {
    let home = tempfile::tempdir().unwrap();
    let out = faultline(&home).arg("missing.log").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "faultline: cannot read missing.log: no such file or directory\n"
    );
    assert!(stdout(&out).is_empty(), "not a report: {}", stdout(&out));
    // The JSON report is written all the same, for tools, with the problem.
    let out = faultline(&home)
        .args(["-f", "json", "missing.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["stats"]["sources"], 0);
    assert_eq!(json["problems"][0]["code"], "input::unreadable");
    // With a readable one, the report covers only the readable source.
    let out = faultline(&home)
        .args(["-f", "json", "missing.log", "fixtures/seed/body-only.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["stats"]["sources"], 1);
    assert_eq!(json["problems"][0]["code"], "input::unreadable");
    assert_eq!(json["problems"][0]["source"], "missing.log");
}

#[test]
fn binary_files_are_skipped_with_a_note() {
    let home = tempfile::tempdir().unwrap();
    // An ELF executable: this very program.
    let out = faultline(&home).arg(bin()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(": binary file (a NUL byte at offset"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "", "nothing was read, so no report");
    // In a directory: silent, unless --verbose; the text files are read.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(bin(), dir.path().join("tool.bin")).unwrap();
    std::fs::write(dir.path().join("run.log"), TRACE).unwrap();
    let out = faultline(&home)
        .args(["-f", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["stats"]["sources"], 1);
    assert_eq!(json["problems"][0]["code"], "input::binary");
    assert_eq!(json["problems"][0]["severity"], "note");
    faultline(&home)
        .arg("-v")
        .arg(dir.path())
        .assert()
        .stderr(predicate::str::contains("tool.bin: binary file"));
    // UTF-16 text is named as such.
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(
            "HTTP/1.1 500\n"
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes()),
        )
        .collect();
    std::fs::write(dir.path().join("win.log"), utf16).unwrap();
    faultline(&home)
        .arg(dir.path().join("win.log"))
        .assert()
        .stderr(predicate::str::contains("UTF-16 text"));
}

#[test]
fn stdin_on_a_terminal_says_how_to_paste_and_no_input_says_what_to_do() {
    let bin = bin().display().to_string();
    // Typed: a status line, then Ctrl-D.
    let Some(out) = in_terminal_typing(
        80,
        &format!("{bin} -f short -; true"),
        &[],
        Some("HTTP/1.1 500 Internal Server Error\n\x04"),
    ) else {
        eprintln!("no `script` here to make a terminal; skipped");
        return;
    };
    assert!(
        out.contains("paste the error, then press Ctrl-D (Ctrl-Z then Enter on Windows)"),
        "{out}"
    );
    assert!(
        out.contains("<stdin>:1:10: warning http.server-error: "),
        "{out}"
    );
    let Some(out) = in_terminal(80, &format!("{bin}; echo status=$?"), &[]) else {
        return;
    };
    assert!(out.contains("faultline: nothing to read."), "{out}");
    assert!(
        out.contains("Ctrl-D (Ctrl-Z then Enter on Windows)"),
        "{out}"
    );
    assert!(!out.contains("pbpaste"), "not macOS-only: {out}");
    assert!(out.contains("status=2"), "{out}");
}

// ------------------------------------------------------------ §5 modes

#[test]
fn short_is_a_compiler_style_listing_sorted_by_place() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("b.log"), TRACE).unwrap();
    std::fs::write(
        dir.path().join("a.log"),
        "GET https://api.example.com/v1/things -> 502\nnothing else\nPOST https://api.example.com/v1/other -> 500\n",
    )
    .unwrap();
    let out = faultline(&home)
        .current_dir(dir.path())
        .args(["-f", "short", "b.log", "a.log"])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out),
        "a.log:1:42: warning http.gateway-error: A gateway, proxy or overloaded server answered 502: not an authentication problem\n\
         a.log:3:42: warning http.server-error: The server failed while handling the request (500)\n\
         b.log:1:96: error genesys.token-request-on-api-host: Token requested from the API host api.mypurecloud.com instead of login.mypurecloud.com (+3 other causes)\n"
    );
}

#[test]
fn brief_keeps_causes_and_fixes_only() {
    let home = tempfile::tempdir().unwrap();
    let full = stdout(&faultline(&home).arg(FORUM).output().unwrap());
    let brief = stdout(&faultline(&home).args(["--brief", FORUM]).output().unwrap());
    assert!(
        brief.len() * 2 < full.len(),
        "{} vs {}",
        brief.len(),
        full.len()
    );
    for gone in ["not this:", "check:", "── Notes on the input ──", "╭─["] {
        assert!(full.contains(gone), "{gone}");
        assert!(!brief.contains(gone), "{gone} in --brief");
    }
    assert!(brief.contains("help: POST to https://login.mypurecloud.com/oauth/token"));
    assert!(brief.contains("5 notes on the input (shown without --brief)"));
    assert!(brief.contains("  │ fixtures/seed/forum-thread.txt:7:96"));
}

#[test]
fn info_notes_are_compact_in_the_full_report() {
    let home = tempfile::tempdir().unwrap();
    let full = stdout(&faultline(&home).arg(FORUM).output().unwrap());
    let notes = &full[full.find("── Notes on the input ──").unwrap()..];
    assert!(notes.contains("genesys.claim-oauth2-token-path\n\n  ☞ "));
    assert!(notes.contains("  │ fixtures/seed/forum-thread.txt:26:177: no such endpoint"));
    assert!(!notes.contains("not this:"));
    assert!(!notes.contains("╭─["));
}

#[test]
fn output_file_and_quiet() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    faultline(&home)
        .args(["-f", "json", "-o"])
        .arg(&report)
        .arg(FORUM)
        .assert()
        .code(1)
        .stdout("");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["schema"], "faultline/report@1");
    // -q: the report without the summary; -qq: nothing, the status says it.
    let q = stdout(&faultline(&home).args(["-q", FORUM]).output().unwrap());
    assert!(q.contains("genesys.token-request-on-api-host\n\n  × "));
    assert!(!q.contains("faultline: 1 source"));
    faultline(&home)
        .args(["-qq", FORUM])
        .assert()
        .code(1)
        .stdout("")
        .stderr("");
    // An output file that cannot be written is an error.
    faultline(&home)
        .args(["-o", "/nonexistent-dir/x.txt", FORUM])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot write /nonexistent-dir/x.txt",
        ));
}

#[test]
fn an_unexplained_failure_shows_the_command_to_write_its_rule() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.log"),
        // A body with an error code no rule knows, and no status: every
        // failing status has at least a generic rule now.
        "INFO start\n{\"error\": {\"code\": \"widget_jammed\", \"message\": \"The widget jammed.\"}}\n",
    )
    .unwrap();
    let out = faultline(&home)
        .current_dir(dir.path())
        .arg("app.log")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(
        text.contains("No rule explains this failure. Write one from it:"),
        "{text}"
    );
    let command = text
        .lines()
        .find(|l| l.trim_start().starts_with("faultline rules new "))
        .unwrap()
        .trim();
    assert!(command.ends_with(" --from app.log:2"), "{command}");
    // The command works as shown.
    let args = shlex::split(command.strip_prefix("faultline ").unwrap()).unwrap();
    faultline(&home)
        .current_dir(dir.path())
        .args(&args)
        .args(["--dir", "r"])
        .assert()
        .code(0);
    faultline(&home)
        .current_dir(dir.path())
        .args(["rules", "test", "r"])
        .assert()
        .code(0);
}
