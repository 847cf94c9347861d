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
rss=$( { /usr/bin/time -f '%M' "$bin" --format short "$corpus" >/dev/null || true; } 2>&1 | tail -1 )
incidents=$( { "$bin" --format json "$corpus" || true; } | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["stats"]["incidents"] + sum(i["repeats"] for i in r["incidents"]))')

# Best of 3 wall-clock runs of each command, timed in one Python process.
python3 - "$mb" "$rss" "$incidents" "$bin" "$corpus" "$pattern" <<'PY'
import subprocess, sys, time
mb, rss, inc, binary, corpus, pattern = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:]
def best(cmd):
    times = []
    for _ in range(3):
        t = time.perf_counter()
        # Output to a pipe, not /dev/null: GNU grep stops at the first match
        # when it sees its output is /dev/null.
        subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return min(times)
fl = best([binary, "--format", "short", corpus])
rg = best(["rg", "-c", "-e", pattern, corpus])
gr = best(["grep", "-cE", pattern, corpus])
print(f"corpus: {mb} MiB, {inc} failing exchanges found by faultline (repeats folded in the report)")
for name, t in (("faultline --format short", fl), ("rg -c (regex)", rg), ("grep -cE (regex)", gr)):
    print(f"  {name:<26} {t:7.3f} s  {mb / t:8.1f} MiB/s")
print(f"  faultline / rg   = {fl / rg:6.1f}x slower")
print(f"  faultline / grep = {fl / gr:6.1f}x slower")
print(f"  faultline peak RSS: {rss / 1024:.1f} MiB (input {mb} MiB)")
PY
