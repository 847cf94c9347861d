#!/usr/bin/env bash
# Runs one fuzz target for a given time: fuzz/run.sh TARGET SECONDS [JOBS]
#
# Coverage-guided libFuzzer on the stable toolchain: the sanitizer-coverage
# instrumentation is a stable `-C` flag (only AddressSanitizer needs
# nightly, and safe Rust does not need it). The corpus starts from every
# fixture, rule example and kept crasher, lives in fuzz/corpus/TARGET
# (ignored by git) and grows across runs. Crashers land in
# fuzz/artifacts/TARGET; copy each into tests/fuzz/TARGET/ and
# tests/fuzz_regressions.rs replays it under `cargo test`.
#
# Targets: input parse json incidents mask rules redact (see fuzz/src/targets.rs).
set -euo pipefail
cd "$(dirname "$0")"
target=${1:?usage: fuzz/run.sh TARGET SECONDS [JOBS]}
seconds=${2:?usage: fuzz/run.sh TARGET SECONDS [JOBS]}
jobs=${3:-1}
triple=$(rustc -vV | sed -n 's/^host: //p')

export CARGO_TARGET_DIR="$PWD/target"
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# --target keeps the flags off build scripts and proc macros.
cargo build --release --target "$triple" --bin "$target"
bin="$CARGO_TARGET_DIR/$triple/release/$target"

corpus="$PWD/corpus/$target"
mkdir -p "$corpus" "artifacts/$target"
if [ -z "$(ls -A "$corpus")" ]; then
    ./seed.sh "$target" "$corpus"
fi
if [ -d "../tests/fuzz/$target" ]; then
    cp -n ../tests/fuzz/"$target"/* "$corpus"/ 2>/dev/null || true
fi

# -fork with -ignore_crashes keeps going after a crash, so one run finds
# every crasher it can; each is written to artifacts/TARGET.
exec "$bin" "$corpus" \
    -max_total_time="$seconds" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -timeout=30 -rss_limit_mb=4096 -max_len=65536 \
    -artifact_prefix="artifacts/$target/" -print_final_stats=1
