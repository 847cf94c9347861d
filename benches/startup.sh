#!/usr/bin/env bash
# Start-up and rule-count scaling, measured in one run (issue 10 §1 and §4):
#
#   paste        a pasted body (fixtures/seed/body-only.json on stdin)
#                with the built-in pack, with --no-builtin, with a pack ten
#                times the size (synthetic rules embedded at build time, as
#                the provider packs will be), and with the same synthetic
#                rules given as user rules (--rules DIR, read from TOML)
#   rules list   with the built-in pack and with the 10x pack
#   1 MiB log    benches/gen_corpus.py, with the built-in and the 10x pack
#
# Each command runs 3 times to warm up, then RUNS times (default 31); the
# medians of wall time and of CPU time (user + sys) are printed, and the
# ratios the goals are stated in. Wall time on a shared machine is noisy;
# CPU time is the steadier figure. Speed lives here, never in timed tests.
#
# usage: benches/startup.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-31}"
work="${TMPDIR:-/tmp}/faultline-startup"
mkdir -p "$work"

cargo build --release -q
bin=target/release/faultline
builtin=$("$bin" rules list --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
extra=$((builtin * 9))
rm -rf "$work/synthetic"
python3 benches/gen_rules.py "$extra" "$work/synthetic"
"$bin" rules check "$work/synthetic" >/dev/null
# The same sources with the synthetic rules embedded: a pack of 10x rules.
FAULTLINE_BENCH_EXTRA_RULES="$work/synthetic" cargo build --release -q --target-dir target/bench-10x
bin10=target/bench-10x/release/faultline
corpus="$work/corpus-1mb.log"
[ -f "$corpus" ] || python3 benches/gen_corpus.py "$corpus" 1
cat "$corpus" >/dev/null

python3 - "$runs" "$bin" "$bin10" "$work/synthetic" "$corpus" "$builtin" <<'PY'
import os, statistics, subprocess, sys, time

runs, binary, binary10, synthetic, corpus, builtin = sys.argv[1:]
runs, builtin = int(runs), int(builtin)
paste = "fixtures/seed/body-only.json"

def measure(cmd, stdin=None):
    walls, cpus = [], []
    for i in range(3 + runs):
        src = open(stdin, "rb") if stdin else subprocess.DEVNULL
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=src, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, _, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        if stdin:
            src.close()
        if i >= 3:
            walls.append(wall)
            cpus.append(usage.ru_utime + usage.ru_stime)
    return statistics.median(walls), statistics.median(cpus)

cases = [
    ("paste, built-in pack", [binary], paste),
    ("paste, --no-builtin", [binary, "--no-builtin"], paste),
    ("paste, 10x pack (built in)", [binary10], paste),
    ("paste, 10x as user rules", [binary, "--rules", synthetic], paste),
    ("rules list, built-in pack", [binary, "rules", "list"], None),
    ("rules list, 10x pack", [binary10, "rules", "list"], None),
    ("1 MiB log, built-in pack", [binary, "--format", "short", corpus], None),
    ("1 MiB log, 10x pack", [binary10, "--format", "short", corpus], None),
]
r = {}
print(f"built-in pack: {builtin} rules; 10x pack: {builtin * 10} rules; {runs} runs each, medians")
print(f"  {'':30} {'wall':>9} {'cpu':>9}")
for name, cmd, stdin in cases:
    wall, cpu = measure(cmd, stdin)
    r[name] = (wall, cpu)
    print(f"  {name:30} {wall * 1000:7.1f}ms {cpu * 1000:7.1f}ms")

def ratio(label, a, b, goal):
    wa, ca = r[a]
    wb, cb = r[b]
    print(f"  {label:44} wall {wa / wb:5.2f}x  cpu {ca / cb:5.2f}x   (goal {goal})")

print("ratios:")
ratio("paste: built-in pack / --no-builtin", "paste, built-in pack", "paste, --no-builtin", "<= 2x")
ratio("paste: 10x pack / built-in pack", "paste, 10x pack (built in)", "paste, built-in pack", "<= 2x")
ratio("paste: 10x user rules / built-in pack", "paste, 10x as user rules", "paste, built-in pack", "(TOML read each run)")
ratio("rules list: 10x pack / built-in pack", "rules list, 10x pack", "rules list, built-in pack", "<= 2x")
ratio("1 MiB log: 10x pack / built-in pack", "1 MiB log, 10x pack", "1 MiB log, built-in pack", "<= 1.3x")
wall, _ = r["paste, built-in pack"]
print(f"  paste with the built-in pack: {wall * 1000:.1f} ms wall (goal <= 15 ms)")
PY
