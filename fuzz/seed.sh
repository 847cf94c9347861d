#!/usr/bin/env bash
# Seeds a fuzz corpus: seed.sh TARGET DIR. Inputs from fixtures/ and
# tests/field/ for the text targets, rule files for `rules`, and rule
# examples (each example's input as a file) for all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
target=$1
dir=$2
mkdir -p "$dir"
n=0
add() { # add FILE: copies it under a content name, capped at 64 KiB
    local f=$1
    [ -f "$f" ] || return 0
    head -c 65536 "$f" > "$dir/seed-$n"
    n=$((n + 1))
}
case "$target" in
rules)
    while IFS= read -r f; do add "$f"; done < <(find rules tests -name '*.toml' -size -64k | sort)
    ;;
mask)
    # The mask target's first byte picks a shape; any text follows.
    while IFS= read -r f; do
        for b in 0 1 2 3 4 5 6 7 8 9 10 11; do
            { printf "\\$(printf '%03o' "$b")"; head -c 4096 "$f"; } > "$dir/seed-$n"
            n=$((n + 1))
        done
    done < <(find fixtures -type f -size -16k | sort | head -40)
    ;;
*)
    while IFS= read -r f; do add "$f"; done < <(find fixtures tests/field tests/data -type f \
        \( -name '*.txt' -o -name '*.log' -o -name '*.json' -o -name '*.jsonl' -o -name '*.har' -o -name '*.gz' -o -name 'input.*' \) 2>/dev/null | sort)
    # Every rule example's input.
    python3 - "$dir" <<'PY'
import pathlib, sys, tomllib
out = pathlib.Path(sys.argv[1])
n = 0
for f in sorted(pathlib.Path("rules").rglob("*.toml")):
    try:
        doc = tomllib.loads(f.read_text())
    except Exception:
        continue
    for rule in doc.get("rule", []):
        for ex in rule.get("example", []):
            (out / f"example-{n}").write_text(ex.get("input", ""))
            n += 1
print(f"seeded {n} rule examples")
PY
    ;;
esac
echo "seeded $n inputs into $dir"
