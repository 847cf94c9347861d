//! Around the tool (issue 11 §10): shell completions and a man page from
//! the clap definition, package metadata and licence, and the README's
//! commands working as written.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use assert_cmd::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn faultline(home: &tempfile::TempDir) -> Command {
    let mut cmd = Command::cargo_bin("faultline").unwrap();
    cmd.env("XDG_CONFIG_HOME", home.path())
        .env("HOME", home.path())
        .env_remove("FAULTLINE_RULES")
        .env("NO_COLOR", "1")
        .current_dir(root());
    cmd
}

fn output(home: &tempfile::TempDir, args: &[&str]) -> String {
    let out = faultline(home).args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{args:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_for_every_shell_know_the_commands_and_flags() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = output(&home, &["completions", shell]);
        for word in ["explain", "rules", "completions", "report-schema"] {
            assert!(script.contains(word), "{shell}: no {word}");
        }
        // fish spells long flags `-l format`.
        for flag in ["format", "rules", "brief"] {
            assert!(
                script.contains(&format!("--{flag}")) || script.contains(&format!("-l {flag}")),
                "{shell}: no --{flag}"
            );
        }
    }
    // The bash script is valid bash.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("faultline.bash");
    std::fs::write(&file, output(&home, &["completions", "bash"])).unwrap();
    if let Ok(status) = StdCommand::new("bash").arg("-n").arg(&file).status() {
        assert!(status.success(), "bash -n rejects the completion script");
    }
    faultline(&home)
        .args(["completions", "tcsh"])
        .assert()
        .code(2);
}

#[test]
fn the_man_page_comes_from_the_same_definition() {
    let home = tempfile::tempdir().unwrap();
    let page = output(&home, &["man"]);
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq \\(aq"),
        "{}",
        &page[..80]
    );
    for part in [
        ".TH faultline 1",
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH OPTIONS",
        ".SH SUBCOMMANDS",
    ] {
        assert!(page.contains(part), "no {part}");
    }
    for flag in [
        "\\-\\-format",
        "\\-\\-rules",
        "\\-\\-brief",
        "\\-\\-show\\-secrets",
        "\\-\\-width",
    ] {
        assert!(page.contains(flag), "no {flag}");
    }
    assert!(
        page.contains("faultline\\-explain"),
        "the subcommands are named"
    );
    assert!(
        page.contains("Exit status"),
        "the examples and exit codes are there"
    );
    // Where man is installed, it renders the page.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("faultline.1");
    std::fs::write(&file, &page).unwrap();
    if let Ok(out) = StdCommand::new("man")
        .arg("-l")
        .arg(&file)
        .env("MANWIDTH", "80")
        .output()
        && out.status.success()
    {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Explains, offline, why an API call failed"),
            "{text}"
        );
    }
}

#[test]
fn package_metadata_and_licence() {
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(root().join("Cargo.toml")).unwrap()).unwrap();
    let package = manifest["package"].as_table().unwrap();
    for key in [
        "description",
        "license",
        "rust-version",
        "keywords",
        "categories",
        "readme",
    ] {
        assert!(package.contains_key(key), "Cargo.toml has no {key}");
    }
    assert_eq!(package["license"].as_str(), Some("MIT OR Apache-2.0"));
    assert!(
        package["keywords"].as_array().unwrap().len() <= 5,
        "crates.io allows 5"
    );
    let apache = std::fs::read_to_string(root().join("LICENSE-APACHE")).unwrap();
    assert!(apache.contains("Apache License") && apache.contains("Version 2.0, January 2004"));
    let mit = std::fs::read_to_string(root().join("LICENSE-MIT")).unwrap();
    assert!(mit.contains("Permission is hereby granted, free of charge"));
    // The README states the minimum Rust version Cargo.toml declares.
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let msrv = package["rust-version"].as_str().unwrap();
    assert!(
        readme.contains(&format!("version {msrv} or newer")),
        "README: Rust {msrv}"
    );
    assert!(readme.contains("cargo install --path ."));
}

/// Every `faultline …` line of the README's `sh` blocks that names files
/// of this repository runs as written (exit 0 or 1: it read them).
#[test]
fn readme_commands_work_as_written() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut ran = 0;
    let mut in_sh = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let command = line.split(" #").next().unwrap().trim();
        let Some(rest) = command
            .strip_prefix("cargo run --release -- ")
            .or_else(|| command.strip_prefix("faultline "))
        else {
            continue;
        };
        if rest.contains('|') || rest.contains('>') || rest.contains("run.log") {
            continue; // placeholders and redirections: shown, not run
        }
        let args = shlex::split(rest).unwrap();
        if !args.iter().any(|a| root().join(a).exists()) {
            continue;
        }
        let out = faultline(&home).args(&args).output().unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "README: `{command}` exited {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 1, "no README command ran");
    // The seed command's stated exit status.
    faultline(&home)
        .arg("fixtures/seed/forum-thread.txt")
        .assert()
        .code(1);
}
