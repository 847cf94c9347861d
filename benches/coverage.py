#!/usr/bin/env python3
"""Coverage table for the README: per provider, how many built-in rules,
which input formats their examples and field cases come in, and the field
corpus top-1/top-3 (from benches/field.py --json).

  python3 benches/coverage.py [--binary PATH]   # markdown table on stdout

Formats are read from what exists, not declared: a rule example counts as
a format by the shape of its input (curl transcript, Python traceback,
bare JSON body, HTTP message, log line, CLI/console text); field cases by
their `shape`.
"""

import argparse
import collections
import json
import pathlib
import re
import subprocess
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"


def example_format(text):
    t = text.lstrip()
    if re.search(r"^[<>*] ", text, re.M):
        return "curl"
    if "Traceback (most recent call last)" in text or re.search(r"^\w[\w.]*(Error|Exception): ", text, re.M) and "File \"" in text:
        return "traceback"
    if re.match(r"HTTP/\d", t) or re.match(r"(GET|POST|PUT|PATCH|DELETE) \S+ HTTP/", t):
        return "http"
    if t.startswith("{") or t.startswith("["):
        return "json" if "\n{" not in t.strip() else "jsonl"
    if t.startswith("<"):
        return "xml/html"
    if re.search(r"^\w[\w.$]*(Error|Exception)\b", text, re.M):
        return "exception"
    return "log/cli"


def rules_by_provider():
    counts = collections.Counter()
    formats = collections.defaultdict(set)
    for path in sorted(RULES.glob("*/*.toml")):
        provider = path.parent.name
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as e:
            print(f"skipping {path}: {e}", file=sys.stderr)
            continue
        for rule in data.get("rule", []):
            counts[provider] += 1
            for ex in rule.get("example", []):
                if ex.get("matches", True):
                    formats[provider].add(example_format(ex.get("input", "")))
    return counts, formats


def field_by_provider(binary):
    cmd = [sys.executable, str(ROOT / "benches" / "field.py"), "--json"]
    if binary:
        cmd += ["--binary", binary]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode not in (0, 1):
        sys.exit(f"field.py failed: {run.stderr.strip()}")
    return json.loads(run.stdout)


def field_shapes():
    shapes = collections.defaultdict(set)
    for case in (ROOT / "tests" / "field" / "cases").glob("*/*/case.toml"):
        meta = tomllib.loads(case.read_text())
        shapes[meta.get("provider", case.parent.parent.name)].add(meta.get("shape", "?"))
    return shapes


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary")
    args = ap.parse_args()
    counts, formats = rules_by_provider()
    field = field_by_provider(args.binary)
    shapes = field_shapes()
    by_provider = field.get("by_provider", {})
    providers = sorted(set(counts) | set(by_provider), key=lambda p: (-counts.get(p, 0), p))
    print("| provider | built-in rules | example formats | field cases (shapes) | field top-1 | field top-3 |")
    print("|---|---:|---|---|---:|---:|")
    for p in providers:
        f = by_provider.get(p, {})
        n = f.get("positives", 0)
        top1 = f"{f['top1']}/{n}" if n else "–"
        top3 = f"{f['top3']}/{n}" if n else "–"
        cases = f.get("positives", 0) + f.get("negatives", 0)
        sh = ", ".join(sorted(shapes.get(p, ()))) or "–"
        print(f"| {p} | {counts.get(p, 0)} | {', '.join(sorted(formats.get(p, ()))) or '–'} | {cases} ({sh}) | {top1} | {top3} |")
    total = sum(counts.values())
    o = field.get("overall", {})
    all_cases = o.get("positives", 0) + o.get("negatives", 0)
    print(f"| **all** | **{total}** | | {all_cases} | {o.get('top1', '?')}/{o.get('positives', '?')} | {o.get('top3', '?')}/{o.get('positives', '?')} |")
    print()
    print(f"False alarms on {o.get('negatives', 0)} negative cases: {o.get('false_alarms', '?')}.")


if __name__ == "__main__":
    main()
