//! Offline by construction (issue 12 §8): a typical analysis opens no
//! socket, and no network client crate is compiled into the binary.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_faultline"))
}

/// Typical runs: a curl log, a HAR, a directory, every report format,
/// `explain` and `rules test --builtin`.
fn runs() -> Vec<Vec<String>> {
    let f = |p: &str| root().join(p).to_string_lossy().into_owned();
    let s = |x: &str| x.to_string();
    vec![
        vec![f("fixtures/captured/curl/token_auth_failed_verbose.txt")],
        vec![s("--format"), s("json"), f("fixtures/captured/har")],
        vec![s("--format"), s("incidents"), f("fixtures/seed")],
        vec![s("explain"), s("oauth.invalid-client")],
        vec![s("rules"), s("test"), s("--builtin")],
    ]
}

/// Network system calls in an strace log (`socket`, `connect`, …).
fn network_calls(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| {
            [
                "socket(",
                "connect(",
                "sendto(",
                "sendmsg(",
                "bind(",
                "getaddrinfo",
            ]
            .iter()
            .any(|c| l.contains(c))
        })
        .map(str::to_string)
        .collect()
}

/// Runs `cmd` under `strace -f -e trace=network`; `None` when strace is
/// missing or not allowed to trace here.
fn strace(cmd: &[&str], home: &Path) -> Option<String> {
    let log = home.join(format!("strace-{}.log", std::process::id()));
    let status = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=network", "-o"])
        .arg(&log)
        .args(cmd)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env_remove("FAULTLINE_RULES")
        .output()
        .ok()?;
    let text = std::fs::read_to_string(&log).ok()?;
    // strace itself failing (no ptrace permission) writes no trace of the
    // child and exits with its own error.
    if !status.status.success() && text.is_empty() {
        let err = String::from_utf8_lossy(&status.stderr);
        if err.contains("ptrace") || err.contains("strace:") {
            return None;
        }
    }
    Some(text)
}

#[test]
fn a_typical_analysis_opens_no_socket() {
    let home = tempfile::tempdir().unwrap();
    // The detector detects: a shell opening a TCP socket to loopback.
    let Some(probe) = strace(
        &["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9 || true"],
        home.path(),
    ) else {
        return unshare_fallback(home.path());
    };
    if network_calls(&probe).is_empty() {
        eprintln!("strace shows no network calls even for a probe that opens one; trying unshare");
        return unshare_fallback(home.path());
    }
    let bin = bin();
    for args in runs() {
        let mut cmd: Vec<&str> = vec![bin.to_str().unwrap()];
        cmd.extend(args.iter().map(String::as_str));
        let log = strace(&cmd, home.path()).expect("strace worked for the probe");
        let calls = network_calls(&log);
        assert!(
            calls.is_empty(),
            "faultline {args:?} made network calls:\n{}",
            calls.join("\n")
        );
    }
}

/// Without strace: every run, inside a network namespace with no
/// interfaces, gives the same output as outside it.
fn unshare_fallback(home: &Path) {
    let works = Command::new("unshare")
        .args(["-n", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        eprintln!(
            "skipped: neither `strace -e trace=network` nor `unshare -n` works here; \
             the offline promise is still checked by no_network_client_crate_in_the_binary"
        );
        return;
    }
    let bin = bin();
    for args in runs() {
        let run = |prefix: &[&str]| {
            let mut cmd = Command::new(prefix.first().copied().unwrap_or(bin.to_str().unwrap()));
            cmd.args(prefix.iter().skip(1));
            if !prefix.is_empty() {
                cmd.arg(&bin);
            }
            cmd.args(&args)
                .env("HOME", home)
                .env("XDG_CONFIG_HOME", home)
                .env_remove("FAULTLINE_RULES")
                .output()
                .unwrap()
        };
        let outside = run(&[]);
        let inside = run(&["unshare", "-n"]);
        assert_eq!(inside.status.code(), outside.status.code(), "{args:?}");
        assert_eq!(inside.stdout, outside.stdout, "{args:?}");
    }
}

/// Crates that speak a network protocol or open sockets. None may be a
/// (transitive) normal dependency of faultline.
const NETWORK_CRATES: &[&str] = &[
    "reqwest",
    "hyper",
    "hyper-util",
    "h2",
    "ureq",
    "curl",
    "curl-sys",
    "isahc",
    "surf",
    "attohttpc",
    "openssl",
    "openssl-sys",
    "native-tls",
    "rustls",
    "tokio",
    "async-std",
    "mio",
    "socket2",
    "trust-dns-resolver",
    "hickory-resolver",
    "tungstenite",
    "websocket",
];

#[test]
fn no_network_client_crate_in_the_binary() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
            "--manifest-path",
        ])
        .arg(root().join("Cargo.toml"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(
        crates.contains(&"faultline") && crates.contains(&"regex"),
        "{tree}"
    );
    let found: Vec<&&str> = NETWORK_CRATES
        .iter()
        .filter(|c| crates.contains(c))
        .collect();
    assert!(
        found.is_empty(),
        "network crates in the dependency tree: {found:?}"
    );
}
