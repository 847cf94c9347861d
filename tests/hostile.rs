//! Hostile and broken input end to end (issue 12 §1, §5): no panic, line
//! endings of every kind, a truncated gzip.

use std::io::Write;

use assert_cmd::Command;

fn faultline(home: &tempfile::TempDir) -> Command {
    let mut cmd = Command::cargo_bin("faultline").unwrap();
    cmd.env("XDG_CONFIG_HOME", home.path())
        .env("HOME", home.path())
        .env_remove("FAULTLINE_RULES")
        .env("NO_COLOR", "1");
    cmd
}

const TRACEBACK: &str = "Traceback (most recent call last):\n  File \"app.py\", line 3, in <module>\n    r.raise_for_status()\nrequests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://api.mypurecloud.com/oauth/token\n{\"error\": \"invalid_grant\"}\n";

fn short(home: &tempfile::TempDir, input: &[u8]) -> String {
    let out = faultline(home)
        .args(["--format", "short"])
        .write_stdin(input.to_vec())
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(101), "panicked");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn cr_only_and_mixed_line_endings_read_like_lf() {
    let home = tempfile::tempdir().unwrap();
    let lf = short(&home, TRACEBACK.as_bytes());
    assert!(lf.contains("genesys.token-request-on-api-host"), "{lf}");
    let cr = TRACEBACK.replace('\n', "\r");
    let crlf = TRACEBACK.replace('\n', "\r\n");
    // Mixed: CRLF and LF line by line. (A lone CR after the first LF is a
    // terminal's carriage return, such as a progress meter's: not a break.)
    let mut mixed = String::new();
    for (i, line) in TRACEBACK.lines().enumerate() {
        mixed.push_str(line);
        mixed.push_str(["\r\n", "\n"][i % 2]);
    }
    for (name, text) in [("CR", cr), ("CRLF", crlf), ("mixed", mixed)] {
        assert_eq!(short(&home, text.as_bytes()), lf, "{name} line endings");
    }
}

#[test]
fn a_truncated_gzip_is_analysed_up_to_the_cut_and_reported() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Varied text (a repetitive one compresses into almost nothing before
    // the cut).
    let mut text = String::new();
    for i in 0..300 {
        text.push_str(&format!(
            "req {i} id={:08x}\n{TRACEBACK}\n",
            (i as u64).wrapping_mul(2654435761)
        ));
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let path = dir.path().join("cut.log.gz");
    std::fs::write(&path, &gz[..gz.len() * 2 / 3]).unwrap();
    let out = faultline(&home)
        .args(["--format", "short"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "an input problem");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("genesys.token-request-on-api-host"),
        "{stdout}"
    );
    assert!(stderr.contains("cut short"), "{stderr}");
    assert!(
        stderr.contains("the readable part was analysed"),
        "{stderr}"
    );
}

#[test]
fn escaped_non_ascii_in_json_and_random_bytes_never_panic() {
    let home = tempfile::tempdir().unwrap();
    for input in [
        "{\"a\\é\": 1}\n".as_bytes().to_vec(),
        "{\"msg\": \"C:\\Users\\日本語\\app.log\", \"access_token\": \"SECRET\"}\n"
            .as_bytes()
            .to_vec(),
        (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect(),
    ] {
        short(&home, &input);
    }
}
