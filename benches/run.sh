#!/usr/bin/env bash
# Throughput of faultline on a generated log, against rg and grep on the same
# file in the same run (a literal search for the failure signals faultline
# must also find). Speed lives here, never in timed tests.
#
# usage: benches/run.sh [MEGABYTES]   (default 256)
set -euo pipefail
cd "$(dirname "$0")/.."
mb="${1:-256}"
work="${TMPDIR:-/tmp}/faultline-bench"
mkdir -p "$work"
corpus="$work/corpus-${mb}mb.log"

if ! command -v rg >/dev/null; then
  echo "installing ripgrep (Debian package) for the comparison" >&2
  apt-get install -y -qq ripgrep >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq ripgrep >/dev/null; }
fi
[ -f "$corpus" ] || python3 benches/gen_corpus.py "$corpus" "$mb"
cargo build --release -q
bin=target/release/faultline

# Warm the page cache so every tool reads from memory.
cat "$corpus" >/dev/null

pattern='HTTPError|ApiException|HTTP/1\.1 [45][0-9][0-9]|"status":[45][0-9][0-9]'
best() { # best of 3 wall-clock seconds
  local b=999999
  for _ in 1 2 3; do
    local s e
    s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N)
    b=$(python3 -c "print(min($b, $e - $s))")
  done
  echo "$b"
}
t_fl=$(best "$bin" --format short "$corpus")
t_rg=$(best rg -c -e "$pattern" "$corpus")
t_grep=$(best grep -cE "$pattern" "$corpus")
rss=$( { /usr/bin/time -f '%M' "$bin" --format short "$corpus" >/dev/null; } 2>&1 | tail -1 )
incidents=$("$bin" --format json "$corpus" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["incidents"])')

python3 - "$mb" "$t_fl" "$t_rg" "$t_grep" "$rss" "$incidents" <<'PY'
import sys
mb, fl, rg, gr, rss, inc = int(sys.argv[1]), *map(float, sys.argv[2:5]), int(sys.argv[5]), int(sys.argv[6])
print(f"corpus: {mb} MiB, {inc} incidents found by faultline")
for name, t in (("faultline --format short", fl), ("rg -c (regex)", rg), ("grep -cE (regex)", gr)):
    print(f"  {name:<26} {t:7.3f} s  {mb / t:8.1f} MiB/s")
print(f"  faultline / rg   = {fl / rg:6.1f}x slower")
print(f"  faultline / grep = {fl / gr:6.1f}x slower")
print(f"  faultline peak RSS: {rss / 1024:.1f} MiB (input {mb} MiB)")
PY
