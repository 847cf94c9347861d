#!/usr/bin/env python3
"""Field corpus figures: how faultline does on real public failure reports.

Runs the release binary on every case under tests/field/cases/<provider>/<slug>/
(an input file and a case.toml, see tests/field/README.md) and prints top-1,
top-3, unexplained positives and false alarms — overall, by provider and by
input shape.

  python3 benches/field.py                 # builds nothing; uses target/release/faultline
  python3 benches/field.py --binary PATH   # another build
  python3 benches/field.py -v              # also list every case that missed
  python3 benches/field.py --json          # figures as JSON (for the README table)

The answer of a run is its diagnoses in report order (best first), keeping
error and warning severities only: info notes are context, not a cause.
"""

import argparse
import collections
import json
import pathlib
import subprocess
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "field" / "cases"


def load_cases(root):
    cases = []
    for case_toml in sorted(root.glob("*/*/case.toml")):
        folder = case_toml.parent
        inputs = [p for p in folder.iterdir() if p.name.startswith("input.")]
        meta = tomllib.loads(case_toml.read_text())
        cases.append((folder, inputs, meta))
    return cases


def answers(binary, path):
    """Rule ids of the error/warning diagnoses, best first, without repeats."""
    run = subprocess.run(
        [binary, "--format", "json", "--color", "never", str(path)],
        capture_output=True,
        text=True,
    )
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        return None, run.returncode, run.stderr.strip()[:200]
    ids = []
    for d in report.get("diagnoses", []):
        if d.get("severity") in ("error", "warning") and d["rule"] not in ids:
            ids.append(d["rule"])
    return ids, run.returncode, ""


def grade(meta, ids, code):
    """(top1, top3, false_alarm, unexplained) for one case."""
    if meta.get("negative", False):
        return None, None, bool(ids) or code not in (0, None), False
    expect = set(meta.get("expect", []))
    expect_top3 = expect | set(meta.get("expect_top3", []))
    top1 = bool(ids) and ids[0] in expect
    top3 = any(i in expect_top3 for i in ids[:3])
    return top1, top3, False, not ids


class Tally:
    def __init__(self):
        self.pos = self.top1 = self.top3 = self.unexplained = 0
        self.neg = self.false_alarms = 0

    def add(self, top1, top3, false_alarm, unexplained, negative):
        if negative:
            self.neg += 1
            self.false_alarms += false_alarm
        else:
            self.pos += 1
            self.top1 += top1
            self.top3 += top3
            self.unexplained += unexplained

    def row(self):
        pct = lambda n, d: f"{100 * n / d:5.1f}%" if d else "    -"
        return (
            f"{self.pos:4} {pct(self.top1, self.pos)} {pct(self.top3, self.pos)} "
            f"{self.unexplained:5} {self.neg:4} {self.false_alarms:5}"
        )

    def as_dict(self):
        return {
            "positives": self.pos,
            "top1": self.top1,
            "top3": self.top3,
            "unexplained": self.unexplained,
            "negatives": self.neg,
            "false_alarms": self.false_alarms,
        }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default=str(ROOT / "target" / "release" / "faultline"))
    ap.add_argument("--cases", default=str(CASES))
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    cases = load_cases(pathlib.Path(args.cases))
    if not cases:
        sys.exit(f"no cases under {args.cases}")
    overall = Tally()
    by_provider = collections.defaultdict(Tally)
    by_shape = collections.defaultdict(Tally)
    misses = []
    for folder, inputs, meta in cases:
        name = folder.relative_to(pathlib.Path(args.cases))
        if len(inputs) != 1:
            misses.append(f"{name}: expected exactly one input.* file, found {len(inputs)}")
            continue
        ids, code, err = answers(args.binary, inputs[0])
        if ids is None:
            misses.append(f"{name}: no JSON report (exit {code}): {err}")
            ids = []
        negative = meta.get("negative", False)
        top1, top3, false_alarm, unexplained = grade(meta, ids, code)
        for t in (overall, by_provider[meta.get("provider", "?")], by_shape[meta.get("shape", "?")]):
            t.add(top1, top3, false_alarm, unexplained, negative)
        if negative and false_alarm:
            misses.append(f"{name}: FALSE ALARM {ids[:3]} (exit {code})")
        elif not negative and not top1:
            what = "UNEXPLAINED" if not ids else ("top-3" if top3 else "miss")
            misses.append(f"{name}: {what}: got {ids[:3]}, expected {meta.get('expect')}")

    if args.json:
        print(json.dumps({
            "overall": overall.as_dict(),
            "by_provider": {k: v.as_dict() for k, v in sorted(by_provider.items())},
            "by_shape": {k: v.as_dict() for k, v in sorted(by_shape.items())},
        }, indent=2))
        return
    header = f"{'':22} {'pos':>4} {'top-1':>6} {'top-3':>6} {'unexp':>5} {'neg':>4} {'false':>5}"
    print(header)
    print(f"{'all':22} {overall.row()}")
    for title, table in (("provider", by_provider), ("shape", by_shape)):
        print(f"-- by {title}")
        for key, tally in sorted(table.items()):
            print(f"{key:22} {tally.row()}")
    if args.verbose and misses:
        print("-- misses")
        for m in misses:
            print(m)


if __name__ == "__main__":
    main()
