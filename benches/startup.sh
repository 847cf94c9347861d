#!/usr/bin/env bash
# Start-up and rule-count scaling, measured in one run (issue 10 §1 and §4):
#
#   paste        a one-line pasted body (the seed's invalid_grant body, on
#                stdin) with the built-in pack, with --no-builtin, with a
#                pack ten times the size embedded at build time (as the
#                provider packs will be), and with the same synthetic rules
#                given as user rules (--rules DIR, read from TOML each run)
#   rules list   with the built-in pack and with the 10x pack
#   1 MiB log    benches/gen_corpus.py, with the built-in and the 10x pack
#   rules check  10 000 synthetic user rules, every pattern compiled (issue
#                12 §2: they load in seconds), 3 runs, with peak RSS
#
# hyperfine runs each command (3 warm-ups, then RUNS runs, default 31) and
# the medians of wall time are printed with the ratios the goals are stated
# in; CPU time (user + sys) is hyperfine's mean. Without hyperfine a Python
# loop takes its place (median wall and CPU). Wall time on a shared machine
# is noisy; CPU time is the steadier figure. Speed lives here, never in
# timed tests.
#
# The 10x pack binary is built in this worktree's target/ (only the
# faultline crate recompiles), copied aside, and the normal build restored.
#
# usage: benches/startup.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs="${1:-31}"
work="${TMPDIR:-/tmp}/faultline-startup"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

cargo build --release -q
cp target/release/faultline "$work/faultline"
bin="$work/faultline"
builtin=$("$bin" rules list --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
extra=$((builtin * 9))
python3 benches/gen_rules.py "$extra" "$work/synthetic" >/dev/null
# The synthetic rules load clean, or the comparison would be of error paths.
"$bin" --no-builtin rules check "$work/synthetic" >/dev/null
FAULTLINE_BENCH_EXTRA_RULES="$work/synthetic" cargo build --release -q
cp target/release/faultline "$work/faultline-10x"
bin10="$work/faultline-10x"
cargo build --release -q
python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' \
    fixtures/seed/body-only.json >"$work/paste.json"
python3 benches/gen_corpus.py "$work/corpus-1mb.log" 1 >/dev/null

# No user rules but the ones named: no config dir, no FAULTLINE_RULES, and
# a working directory outside any project's .faultline/rules.
export XDG_CONFIG_HOME=/nonexistent NO_COLOR=1
unset FAULTLINE_RULES
cd "$work"

names=(
    "paste, built-in pack"
    "paste, --no-builtin"
    "paste, 10x pack (built in)"
    "paste, 10x as user rules"
    "rules list, built-in pack"
    "rules list, 10x pack"
    "1 MiB log, built-in pack"
    "1 MiB log, 10x pack"
)
cmds=(
    "$bin -f short < paste.json"
    "$bin -f short --no-builtin < paste.json"
    "$bin10 -f short < paste.json"
    "$bin -f short --rules synthetic < paste.json"
    "$bin rules list"
    "$bin10 rules list"
    "$bin -f short corpus-1mb.log"
    "$bin10 -f short corpus-1mb.log"
)

if command -v hyperfine >/dev/null; then
    args=()
    for i in "${!names[@]}"; do
        args+=(-n "${names[$i]}" "${cmds[$i]}")
    done
    # -i: faultline exits 1 when it finds a failure, as it does here.
    hyperfine -i --style none --warmup 3 --runs "$runs" \
        --export-json results.json "${args[@]}" >/dev/null 2>&1
    tool=hyperfine
else
    python3 - "$runs" "${names[@]}" "${cmds[@]}" <<'PY'
import json, os, statistics, subprocess, sys, time
runs = int(sys.argv[1])
rest = sys.argv[2:]
half = len(rest) // 2
results = []
for name, cmd in zip(rest[:half], rest[half:]):
    walls, cpus = [], []
    for i in range(3 + runs):
        t = time.perf_counter()
        p = subprocess.Popen(["sh", "-c", cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, _, usage = os.wait4(p.pid, 0)
        if i >= 3:
            walls.append(time.perf_counter() - t)
            cpus.append(usage.ru_utime + usage.ru_stime)
    results.append({"command": name, "median": statistics.median(walls),
                    "user": statistics.median(cpus), "system": 0.0})
json.dump({"results": results}, open("results.json", "w"))
PY
    tool="python loop (sh -c included)"
fi

python3 "$root/benches/gen_rules.py" 10000 synthetic-10k >/dev/null
for _ in 1 2 3; do
    /usr/bin/env time -f "%e %U %S %M" "$bin" --no-builtin rules check synthetic-10k \
        2>>check-10k.txt >/dev/null || true
done

python3 - "$tool" "$runs" "$builtin" <<'PY'
import json, sys
tool, runs, builtin = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = {x["command"]: (x["median"], x["user"] + x["system"]) for x in json.load(open("results.json"))["results"]}
print(f"built-in pack: {builtin} rules; 10x pack: {builtin * 10} rules; {runs} runs each ({tool})")
print(f"  {'':30} {'wall median':>12} {'cpu':>9}")
for name, (wall, cpu) in r.items():
    print(f"  {name:30} {wall * 1000:10.1f}ms {cpu * 1000:7.1f}ms")

def ratio(label, a, b, goal):
    (wa, ca), (wb, cb) = r[a], r[b]
    print(f"  {label:42} wall {wa / wb:5.2f}x  cpu {ca / cb:5.2f}x   (goal {goal})")

print("ratios:")
ratio("paste: built-in pack / --no-builtin", "paste, built-in pack", "paste, --no-builtin", "<= 2x")
ratio("paste: 10x pack built in / built-in pack", "paste, 10x pack (built in)", "paste, built-in pack", "<= 2x")
ratio("paste: 10x user rules / built-in pack", "paste, 10x as user rules", "paste, built-in pack", "<= 2x")
ratio("rules list: 10x pack / built-in pack", "rules list, 10x pack", "rules list, built-in pack", "<= 2x")
ratio("1 MiB log: 10x pack / built-in pack", "1 MiB log, 10x pack", "1 MiB log, built-in pack", "<= 1.3x")
wall, _ = r["paste, built-in pack"]
print(f"  paste with the built-in pack: {wall * 1000:.1f} ms wall median (goal <= 15 ms)")
runs = [line.split() for line in open("check-10k.txt") if line.strip()]
runs = [r for r in runs if len(r) == 4]
if runs:
    import statistics
    wall = statistics.median(float(r[0]) for r in runs)
    cpu = statistics.median(float(r[1]) + float(r[2]) for r in runs)
    rss = max(int(r[3]) for r in runs) / 1024
    print(f"  rules check, 10 000 user rules: {wall:.2f} s wall, {cpu:.2f} s cpu (medians of {len(runs)}), peak RSS {rss:.0f} MiB")
PY
