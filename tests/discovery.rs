//! Where user rules come from (issue 11 §9, issue 12 §4): precedence (a
//! project's rule overrides the config dir's), each file read once, the
//! search for `.faultline/rules` stopping at the repository root, unsafe
//! directories refused, and symlinks, loops, special files and unreadable
//! directories reported rather than skipped in silence.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

struct Sandbox {
    root: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        for d in ["home", "config", "work"] {
            std::fs::create_dir_all(root.path().join(d)).unwrap();
        }
        Sandbox { root }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn mkdir(&self, rel: &str) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    fn cmd_in(&self, rel: &str) -> Command {
        let mut cmd = Command::cargo_bin("faultline").unwrap();
        cmd.current_dir(self.path(rel))
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env_remove("FAULTLINE_RULES")
            .env("NO_COLOR", "1");
        cmd
    }
}

fn rule(id: &str, title: &str) -> String {
    format!(
        r#"[[rule]]
id = "{id}"
title = "{title}"
when = {{ error = "quota_exhausted" }}
cause = "Because."
fix = "Fix it."
docs = ["https://example.com/quota"]

[[rule.example]]
input = '''{{"error": "quota_exhausted"}}'''
matches = true

[[rule.example]]
input = '''{{"error": "something_else"}}'''
matches = false
"#
    )
}

fn text(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const BODY: &str = "{\"error\": \"quota_exhausted\"}\n";

#[test]
fn a_project_rule_overrides_the_config_dirs_and_says_so() {
    let s = Sandbox::new();
    let config = s.write(
        "config/faultline/rules/quota.toml",
        &rule("acme.quota", "from config"),
    );
    s.write(
        "work/.faultline/rules/quota.toml",
        &rule("acme.quota", "from project"),
    );
    s.write("work/run.json", BODY);
    let out = s
        .cmd_in("work")
        .args(["rules", "list", "--no-builtin"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "an override is not a problem: {stderr}"
    );
    let row = stdout
        .lines()
        .find(|l| l.starts_with("acme.quota "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        row.contains(&format!("project, overrides {}", config.display())),
        "{row}"
    );
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.starts_with("acme.quota "))
            .count(),
        1
    );
    assert!(
        stdout.contains("(from project): 1 rule, overriding acme.quota ("),
        "{stdout}"
    );
    // The project's text is the one reported.
    s.cmd_in("work")
        .args(["-f", "short", "run.json"])
        .assert()
        .stdout(predicate::str::contains("acme.quota: from project"));
    // --rules beats both.
    s.write("flag/quota.toml", &rule("acme.quota", "from flag"));
    s.cmd_in("work")
        .args(["-f", "short", "run.json", "--rules"])
        .arg(s.path("flag"))
        .assert()
        .stdout(predicate::str::contains("acme.quota: from flag"));
    // Within one place, a duplicate id is still a problem.
    s.write(
        "work/.faultline/rules/again.toml",
        &rule("acme.quota", "twice"),
    );
    s.cmd_in("work")
        .args(["rules", "check"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("duplicate rule id `acme.quota`"));
}

#[test]
fn the_report_summary_names_user_rules_and_what_they_override() {
    let s = Sandbox::new();
    s.write(
        "work/.faultline/rules/mine.toml",
        &rule("oauth.invalid-client", "mine"),
    );
    s.write("work/run.json", BODY);
    let out = s
        .cmd_in("work")
        .args(["--width", "400", "run.json"])
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("faultline: 1 user rule from")
            && stdout
                .contains(".faultline/rules (project); overriding oauth.invalid-client (built-in)"),
        "{stdout}"
    );
    let out = s
        .cmd_in("work")
        .args(["-f", "json", "run.json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let user = &json["rules"]["user"][0];
    assert_eq!(user["from"], "project");
    assert_eq!(user["rules"], 1);
    assert_eq!(user["overrides"][0]["id"], "oauth.invalid-client");
    assert_eq!(user["overrides"][0]["replaces"], "built-in");
}

#[test]
fn the_same_file_reached_twice_is_read_once() {
    let s = Sandbox::new();
    let file = s.write("work/rules/quota.toml", &rule("acme.quota", "once"));
    #[cfg(unix)]
    std::os::unix::fs::symlink(&file, s.path("work/rules/alias.toml")).unwrap();
    let out = s
        .cmd_in("work")
        .env("FAULTLINE_RULES", s.path("work/rules/quota.toml"))
        .args([
            "rules",
            "list",
            "--no-builtin",
            "--rules",
            "rules",
            "--rules",
            "rules/quota.toml",
        ])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.starts_with("acme.quota "))
            .count(),
        1,
        "{stdout}"
    );
}

/// A file reached through a symlinked directory is known by its real
/// path, as one reached directly or through a symlink to itself.
#[cfg(unix)]
#[test]
fn a_file_under_a_symlinked_directory_is_read_once() {
    let s = Sandbox::new();
    s.write("work/rules/acme/quota.toml", &rule("acme.quota", "once"));
    s.write("work/more/local.toml", &rule("acme.local", "local"));
    std::os::unix::fs::symlink(s.path("work/rules/acme"), s.path("work/more/linked")).unwrap();
    for order in [["rules", "more"], ["more", "rules"]] {
        let out = s
            .cmd_in("work")
            .args([
                "rules",
                "list",
                "--no-builtin",
                "--rules",
                order[0],
                "--rules",
                order[1],
            ])
            .output()
            .unwrap();
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        for id in ["acme.quota ", "acme.local "] {
            assert_eq!(
                stdout.lines().filter(|l| l.starts_with(id)).count(),
                1,
                "{order:?}: {stdout}"
            );
        }
    }
}

#[test]
fn the_upward_search_stops_at_the_repository_root() {
    let s = Sandbox::new();
    // A rules directory above the repository is not the project's.
    s.write(
        "work/.faultline/rules/outside.toml",
        &rule("acme.outside", "outside"),
    );
    s.mkdir("work/repo/.git");
    s.mkdir("work/repo/src/deep");
    let out = s
        .cmd_in("work/repo/src/deep")
        .args(["rules", "list", "--no-builtin"])
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    assert!(!stdout.contains("acme.outside"), "{stdout}");
    // One at the repository root is found from below it.
    s.write(
        "work/repo/.faultline/rules/inside.toml",
        &rule("acme.inside", "inside"),
    );
    let out = s
        .cmd_in("work/repo/src/deep")
        .args(["rules", "list", "--no-builtin"])
        .output()
        .unwrap();
    let (stdout, _) = text(&out);
    assert!(stdout.contains("acme.inside"), "{stdout}");
    assert!(!stdout.contains("acme.outside"), "{stdout}");
    // A worktree's `.git` is a file: still the root.
    s.write("work/tree/.git", "gitdir: /elsewhere\n");
    s.mkdir("work/tree/src");
    let out = s
        .cmd_in("work/tree/src")
        .args(["rules", "list", "--no-builtin"])
        .output()
        .unwrap();
    assert!(!text(&out).0.contains("acme.outside"));
}

#[cfg(unix)]
#[test]
fn a_rules_directory_writable_by_everyone_or_owned_by_another_user_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let s = Sandbox::new();
    // A shared directory where someone planted rules that would replace a
    // built-in one.
    s.write(
        "work/shared/.faultline/rules/evil.toml",
        &rule("oauth.invalid-client", "planted").replace("quota_exhausted", "invalid_client"),
    );
    let planted = s.path("work/shared/.faultline/rules");
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o777)).unwrap();
    s.write("work/shared/run.json", "{\"error\": \"invalid_client\"}\n");
    let out = s
        .cmd_in("work/shared")
        .args(["-f", "short", "run.json"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stdout.contains("planted"), "{stdout}");
    assert!(
        stdout.contains("oauth.invalid-client"),
        "the built-in rule still runs: {stdout}"
    );
    assert!(stderr.contains("rule::unsafe-directory"), "{stderr}");
    assert!(stderr.contains("is writable by everyone"), "{stderr}");
    assert!(stderr.contains("--rules"), "says how to trust it: {stderr}");
    // Named explicitly, it is the user's choice.
    s.cmd_in("work")
        .args(["-f", "short", "shared/run.json", "--rules"])
        .arg(&planted)
        .assert()
        .stdout(predicate::str::contains("planted"));
    // Owned by another user (needs root to arrange).
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o755)).unwrap();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let c = std::ffi::CString::new(planted.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::chown(c.as_ptr(), 65534, 65534) }, 0);
        let out = s
            .cmd_in("work/shared")
            .args(["-f", "short", "run.json"])
            .output()
            .unwrap();
        let (stdout, stderr) = text(&out);
        assert!(
            stderr.contains("belongs to another user (uid 65534)"),
            "{stderr}"
        );
        assert!(!stdout.contains("planted"));
    }
}

#[cfg(unix)]
#[test]
fn special_files_loops_and_missing_paths_are_reported_not_skipped() {
    let s = Sandbox::new();
    s.write("work/rules/good.toml", &rule("acme.good", "good"));
    // A FIFO would block a reader forever.
    let fifo = s.path("work/rules/pipe.toml");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status();
    // A symlink loop.
    std::os::unix::fs::symlink(s.path("work/rules"), s.path("work/rules/loop")).unwrap();
    let out = s
        .cmd_in("work")
        .args([
            "rules",
            "list",
            "--no-builtin",
            "--rules",
            "rules",
            "--rules",
            "/dev/null",
        ])
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stdout.contains("acme.good"),
        "the good rule still loads: {stdout}"
    );
    if status.is_ok_and(|s| s.success()) {
        assert!(
            stderr.contains("pipe.toml` is not a regular file"),
            "{stderr}"
        );
    }
    assert!(stderr.contains("a symlink loop"), "{stderr}");
    assert!(
        stderr.contains("rules path `/dev/null` is neither a file nor a directory"),
        "{stderr}"
    );
    s.cmd_in("work")
        .args(["rules", "check", "nowhere"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "rules path `nowhere` does not exist",
        ));
}

#[cfg(unix)]
#[test]
fn an_unreadable_rules_subdirectory_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let s = Sandbox::new();
    s.write("work/rules/good.toml", &rule("acme.good", "good"));
    let locked = s.write(
        "work/rules/locked/hidden.toml",
        &rule("acme.hidden", "hidden"),
    );
    let dir: &Path = locked.parent().unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o000)).unwrap();
    let readable = std::fs::read_dir(dir).is_ok();
    let out = s
        .cmd_in("work")
        .args(["rules", "list", "--no-builtin", "--rules", "rules"])
        .output()
        .unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    if readable {
        eprintln!("running as a user who can read any directory (root); skipped");
        return;
    }
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout.contains("acme.good"));
    assert!(stderr.contains("cannot read rules under"), "{stderr}");
}
