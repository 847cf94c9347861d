//! Replays every input the fuzzer ever crashed on (tests/fuzz/TARGET/*)
//! through the same target body (fuzz/src/targets.rs), so a fixed crash
//! stays fixed. `fuzz/run.sh TARGET SECONDS` finds new ones.

#[path = "../fuzz/src/targets.rs"]
#[allow(dead_code)]
mod targets;

use std::path::Path;

#[test]
fn every_kept_crasher_runs_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    let mut ran = 0;
    for (name, target) in targets::TARGETS {
        let dir = root.join(name);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for file in files {
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{name}: {} panics again", file.display());
            ran += 1;
        }
    }
    assert!(ran > 0, "no crashers found under {}", root.display());
}

/// Crashers found but not yet fixed (tests/fuzz/open/TARGET/*), kept so
/// the next fix has them: this fails until each runs clean, and then the
/// file moves to tests/fuzz/TARGET/. Open now: a redact crasher (session 8)
/// on which masking is not idempotent. A keyed JSON value overlapped by
/// other secret shapes is masked up to the last one's end, past the value's
/// closing quote; a second pass reads the rest of the line up to the next
/// quote as the value and hides it too (no secret shows either time).
#[test]
#[ignore = "open crashers: fails until they are fixed"]
fn open_crashers_run_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/open");
    for (name, target) in targets::TARGETS {
        let Ok(entries) = std::fs::read_dir(root.join(name)) else {
            continue;
        };
        for file in entries.flatten().map(|e| e.path()) {
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{name}: {} panics", file.display());
        }
    }
}

/// Every target accepts the empty input and a few awkward ones.
#[test]
fn targets_take_edge_inputs() {
    for (_, target) in targets::TARGETS {
        for data in [
            &b""[..],
            b"\xff\xfe\x00",
            b"\r\r\n\r",
            b"\x1f\x8b\x08\x00",
            b"{\"a\\\xc3\xa9\": 1}",
        ] {
            target(data);
        }
    }
}
