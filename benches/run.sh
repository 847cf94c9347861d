#!/usr/bin/env bash
# faultline's speed and memory benches (issue 10), beside rg and grep on the
# same files in the same run; prints a markdown table of medians and ratios.
# Speed lives here, never in timed tests. See benches/README.md.
#
# usage: benches/run.sh [--binary PATH] [--size 1G|256M|…] [--quick] [bench.py options]
#   --binary PATH  the faultline to measure (default: target/release/faultline,
#                  built if missing)
#   --size S       size of the throughput corpora (default 1G)
#   --quick        64M corpora and fewer runs: checks the bench itself
# Corpora are generated once and cached by size, density and seed in
# $FAULTLINE_BENCH_DIR (default target/bench-corpus).
set -euo pipefail
cd "$(dirname "$0")/.."

binary=""
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --binary=*) binary="${1#--binary=}"; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ -z "$binary" ]; then
  binary=target/release/faultline
  [ -x "$binary" ] || cargo build --release -q
fi

if ! command -v rg >/dev/null; then
  echo "installing ripgrep (Debian package) for the comparison" >&2
  apt-get install -y -qq ripgrep >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq ripgrep >/dev/null; }
fi

exec python3 benches/bench.py --binary "$binary" ${args[@]+"${args[@]}"}
