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
