//! Streaming output (issue 10 §6, issue 11 §6): `--format jsonl`, short and
//! jsonl printed as the run goes, a closed pipe, `--follow`, Ctrl-C and the
//! progress bar, each through the real binary.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command as StdCommand, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use assert_cmd::Command;
use assert_cmd::cargo::cargo_bin;

const FAILURE: &str = "requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://api.mypurecloud.com/oauth/token\n{\"error\": \"invalid_grant\"}\n\n";

fn faultline(home: &tempfile::TempDir) -> Command {
    let mut cmd = Command::cargo_bin("faultline").unwrap();
    cmd.env("XDG_CONFIG_HOME", home.path())
        .env("HOME", home.path())
        .env_remove("FAULTLINE_RULES")
        .env_remove("FAULTLINE_PROGRESS")
        .env("NO_COLOR", "1");
    cmd
}

fn spawn(home: &tempfile::TempDir, args: &[&str], envs: &[(&str, &str)]) -> Child {
    let mut cmd = StdCommand::new(cargo_bin("faultline"));
    cmd.env("XDG_CONFIG_HOME", home.path())
        .env("HOME", home.path())
        .env_remove("FAULTLINE_RULES")
        .env_remove("FAULTLINE_PROGRESS")
        .env("NO_COLOR", "1")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Lines of the child's stdout, read on a thread (so a test can wait for
/// one with a timeout instead of hanging).
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn jsonl_streams_the_json_report_line_by_line() {
    let home = tempfile::tempdir().unwrap();
    let json = faultline(&home)
        .args(["-f", "json", "fixtures/seed/forum-thread.txt"])
        .output()
        .unwrap();
    let jsonl = faultline(&home)
        .args(["-f", "jsonl", "fixtures/seed/forum-thread.txt"])
        .output()
        .unwrap();
    assert_eq!(jsonl.status.code(), json.status.code());
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let text = String::from_utf8(jsonl.stdout).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records[0]["type"], "header");
    assert_eq!(records[0]["schema"], "faultline/jsonl@1");
    assert_eq!(
        records[0]["sources"][0]["name"],
        "fixtures/seed/forum-thread.txt"
    );
    let summary = records.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["incidents"], doc["stats"]["incidents"]);
    assert_eq!(summary["diagnosed"], doc["stats"]["diagnosed"]);
    assert_eq!(summary["exit_status"], json.status.code().unwrap());
    let strip = |kind: &str| -> Vec<serde_json::Value> {
        records
            .iter()
            .filter(|r| r["type"] == kind)
            .map(|r| {
                let mut r = r.clone();
                r.as_object_mut().unwrap().remove("type");
                r
            })
            .collect()
    };
    assert_eq!(&strip("incident"), doc["incidents"].as_array().unwrap());
    let mut streamed = strip("diagnosis");
    let mut reported = doc["diagnoses"].as_array().unwrap().clone();
    let key = |d: &serde_json::Value| (d["incident"].to_string(), d["rule"].to_string());
    streamed.sort_by_key(key);
    reported.sort_by_key(key);
    assert_eq!(streamed, reported);
    // Each incident's diagnoses follow it.
    let mut current = serde_json::Value::Null;
    for r in &records {
        match r["type"].as_str() {
            Some("incident") => current = r["id"].clone(),
            Some("diagnosis") if !r["incident"].is_null() => assert_eq!(r["incident"], current),
            _ => {}
        }
    }
}

#[test]
fn jsonl_masks_secrets_as_the_report_does() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secret = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlX3NlY3JldF92YWx1ZQ";
    std::fs::write(
        dir.path().join("run.log"),
        format!("GET https://api.mypurecloud.com/api/v2/users/me\nAuthorization: Bearer {secret}\nHTTP/1.1 401 Unauthorized\n{{\"code\": \"bad.credentials\", \"message\": \"Invalid token {secret}\"}}\n"),
    )
    .unwrap();
    for format in ["jsonl", "short", "json"] {
        let out = faultline(&home)
            .current_dir(dir.path())
            .args(["-f", format, "run.log"])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(!text.is_empty(), "{format}");
        assert!(!text.contains("c2lnbmF0dXJl"), "{format}: {text}");
    }
}

/// A log of `n` distinct failing calls, a few MiB each way.
fn big_log(dir: &tempfile::TempDir, megabytes: usize) -> std::path::PathBuf {
    let path = dir.path().join("big.log");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let filler = "2026-11-30T10:00:00Z INFO worker heartbeat ok queue=default depth=0\n";
    let mut written = 0;
    let mut n = 0;
    while written < megabytes << 20 {
        for _ in 0..2000 {
            f.write_all(filler.as_bytes()).unwrap();
            written += filler.len();
        }
        let call = format!(
            "requests.exceptions.HTTPError: 404 Client Error: Not Found for url: https://api.mypurecloud.com/api/v2/users/{n}\n\n"
        );
        f.write_all(call.as_bytes()).unwrap();
        written += call.len();
        n += 1;
    }
    path
}

/// With one thread the file is read between the batches; with two, on a
/// thread of its own, which must stop too.
#[test]
fn short_prints_before_the_end_and_a_closed_pipe_stops_quietly() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = big_log(&dir, 24);
    for threads in ["1", "2"] {
        short_until_the_pipe_closes(&home, &path, threads);
    }
}

fn short_until_the_pipe_closes(home: &tempfile::TempDir, path: &std::path::Path, threads: &str) {
    let mut child = spawn(
        home,
        &["-f", "short", "-j", threads, path.to_str().unwrap()],
        &[],
    );
    let lines = lines_of(&mut child);
    let first = lines.recv_timeout(WAIT).expect("a line before the end");
    assert!(first.contains("big.log:"), "{first}");
    // Reading the first line and closing the pipe, as `| head -1` does.
    drop(lines);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "{stderr}");
    assert!(matches!(out.status.code(), Some(0 | 1)), "{:?}", out.status);
}

#[test]
fn follow_reports_a_failure_while_stdin_is_still_open() {
    let home = tempfile::tempdir().unwrap();
    let mut child = spawn(&home, &["--follow", "--follow-gap", "200ms"], &[]);
    let mut stdin = child.stdin.take().unwrap();
    let lines = lines_of(&mut child);
    stdin.write_all(FAILURE.as_bytes()).unwrap();
    stdin.flush().unwrap();
    let line = lines
        .recv_timeout(WAIT)
        .expect("reported while stdin is open");
    assert!(line.starts_with("<stdin>:1:"), "{line}");
    assert!(
        line.contains("invalid_grant") || line.contains("error "),
        "{line}"
    );
    // A second failure, after the gap, is reported on its own.
    stdin
        .write_all(FAILURE.replace("403", "401").as_bytes())
        .unwrap();
    stdin.flush().unwrap();
    let second = lines.recv_timeout(WAIT).expect("a second report");
    assert!(second.starts_with("<stdin>:4:"), "{second}");
    drop(stdin);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
}

#[test]
fn follow_reads_a_file_then_its_growth() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    std::fs::write(&path, "starting\n").unwrap();
    let mut child = spawn(
        &home,
        &[
            "--follow",
            "--follow-gap",
            "200ms",
            "-f",
            "jsonl",
            path.to_str().unwrap(),
        ],
        &[],
    );
    let lines = lines_of(&mut child);
    let header: serde_json::Value =
        serde_json::from_str(&lines.recv_timeout(WAIT).unwrap()).unwrap();
    assert_eq!(header["type"], "header");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(FAILURE.as_bytes()).unwrap();
    f.flush().unwrap();
    let incident: serde_json::Value =
        serde_json::from_str(&lines.recv_timeout(WAIT).unwrap()).unwrap();
    assert_eq!(incident["type"], "incident");
    assert_eq!(incident["line"], 2);
    interrupt(&child);
    let rest: Vec<String> = lines.iter().collect();
    let last: serde_json::Value = serde_json::from_str(rest.last().unwrap()).unwrap();
    assert_eq!(last["type"], "summary");
    assert_eq!(last["interrupted"], true);
    assert_eq!(child.wait().unwrap().code(), Some(130));
}

#[cfg(unix)]
fn interrupt(child: &Child) {
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
}

/// What a run stopped by Ctrl-C printed after it: whole JSON lines, the
/// last its summary, which says it was interrupted.
#[cfg(unix)]
fn until_the_summary(lines: mpsc::Receiver<String>) -> (Vec<String>, serde_json::Value) {
    let rest: Vec<String> = lines.iter().collect();
    for line in &rest {
        let _: serde_json::Value = serde_json::from_str(line).expect("whole JSON lines");
    }
    let summary: serde_json::Value = serde_json::from_str(rest.last().unwrap()).unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["interrupted"], true);
    (rest, summary)
}

#[cfg(unix)]
#[test]
fn ctrl_c_exits_130_with_whole_lines_and_the_summary() {
    let home = tempfile::tempdir().unwrap();
    // Reading a pipe that never ends, as a long run would.
    let mut child = spawn(&home, &["-f", "jsonl"], &[]);
    let mut stdin = child.stdin.take().unwrap();
    let lines = lines_of(&mut child);
    stdin.write_all(FAILURE.as_bytes()).unwrap();
    stdin.flush().unwrap();
    let header = lines.recv_timeout(WAIT).unwrap();
    assert!(header.contains("\"header\""), "{header}");
    std::thread::sleep(Duration::from_millis(300));
    interrupt(&child);
    let (rest, summary) = until_the_summary(lines);
    assert_eq!(summary["exit_status"], 130);
    assert!(
        rest.iter().any(|l| l.contains("\"incident\"")),
        "what was read before Ctrl-C is reported: {rest:?}"
    );
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    drop(stdin);
}

/// Ctrl-C while a big file is read on a thread of its own (beside two scan
/// threads): reading stops, what was read is reported in whole lines.
#[cfg(unix)]
#[test]
fn ctrl_c_stops_a_file_read_beside_the_scan() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = big_log(&dir, 48);
    let size = std::fs::metadata(&path).unwrap().len();
    let mut child = spawn(
        &home,
        &["-f", "jsonl", "-j", "2", path.to_str().unwrap()],
        &[],
    );
    let lines = lines_of(&mut child);
    let header = lines.recv_timeout(WAIT).unwrap();
    assert!(header.contains("\"header\""), "{header}");
    let first = lines.recv_timeout(WAIT).unwrap();
    assert!(first.contains("\"incident\""), "{first}");
    interrupt(&child);
    let (_, summary) = until_the_summary(lines);
    assert!(
        summary["bytes"].as_u64().unwrap() < size,
        "reading stopped before the end: {summary}"
    );
    assert_eq!(child.wait().unwrap().code(), Some(130));
}

#[test]
fn progress_goes_to_stderr_only_when_asked_and_never_to_stdout() {
    let home = tempfile::tempdir().unwrap();
    for (forced, quiet) in [(true, false), (false, false)] {
        let envs: &[(&str, &str)] = if forced {
            &[("FAULTLINE_PROGRESS", "always")]
        } else {
            &[]
        };
        let mut args = vec!["-f", "short"];
        if quiet {
            args.push("-q");
        }
        let mut child = spawn(&home, &args, envs);
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"starting\n").unwrap();
        stdin.flush().unwrap();
        // Past the half second after which a bar may show.
        std::thread::sleep(Duration::from_millis(800));
        stdin.write_all(FAILURE.as_bytes()).unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stdout.contains("read,"), "{stdout}");
        assert!(stdout.starts_with("<stdin>:2:"), "{stdout}");
        assert_eq!(
            stderr.contains("read,"),
            forced,
            "forced {forced}: {stderr:?}"
        );
    }
}

#[test]
fn help_completions_and_man_page_know_the_streaming_flags() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        &["--help"][..],
        &["completions", "bash"],
        &["completions", "zsh"],
        &["man"],
    ] {
        let out = faultline(&home).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout).replace("\\-", "-");
        for flag in ["--follow", "--follow-gap"] {
            assert!(text.contains(flag), "{args:?} lacks {flag}");
        }
        if args[0] != "completions" {
            assert!(text.contains("jsonl"), "{args:?} lacks jsonl");
        }
    }
    // --follow takes the formats that stream.
    let out = faultline(&home)
        .args(["--follow", "-f", "json", "x.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--format short"));
}
