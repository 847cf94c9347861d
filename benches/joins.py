#!/usr/bin/env python3
"""Counts failures glued to the failure before them, on a log of back-to-back failures.

In a log where failures follow one another with nothing between (the bench
generator's `--distinct --density 2000`), the lines of one failure must not
join the exchange before it. A join that should not have happened shows as
an incident whose URL's provider (from its host) is not the provider of the
rule that diagnosed it: a Genesys URL diagnosed `aws.…`. This counts them
(a lower bound: joins within one provider do not show).

  python3 benches/joins.py                  # 3 MB of distinct failures, target/release/faultline
  python3 benches/joins.py --size 16M -v    # and list them
"""

import argparse
import collections
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default=str(ROOT / "target" / "release" / "faultline"))
    ap.add_argument("--size", default="3M", help="size of the distinct-failures log")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--dir", default=os.environ.get("FAULTLINE_BENCH_DIR", str(ROOT / "target" / "bench-corpus")))
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    os.makedirs(a.dir, exist_ok=True)
    log = Path(a.dir) / f"joins-{a.size}-seed{a.seed}.log"
    if not log.exists():
        subprocess.run([sys.executable, str(ROOT / "benches" / "gen_corpus.py"), str(log),
                        "--size", a.size, "--seed", str(a.seed), "--distinct", "--density", "2000"],
                       check=True)
    out = subprocess.run([a.binary, "--format", "json", str(log)], capture_output=True, text=True)
    report = json.loads(out.stdout)
    incidents = {i["id"]: i for i in report["incidents"]}
    top = {}
    for d in report["diagnoses"]:
        if d.get("incident") is not None:
            top.setdefault(d["incident"], d)
    glued = collections.Counter()
    listed = []
    for id_, d in top.items():
        inc = incidents[id_]
        if inc.get("provider") and d.get("provider") and inc["provider"] != d["provider"]:
            glued[(inc["provider"], d["provider"])] += 1
            listed.append((inc["line"], inc["end_line"], d["rule"], inc["headline"]))
    print(f"{log.name}: {len(incidents)} incidents listed, {len(top)} diagnosed; "
          f"{sum(glued.values())} diagnosed with another provider's rule than their URL's")
    for (url_provider, rule_provider), n in glued.most_common():
        print(f"  {n:4}  {url_provider} URL, {rule_provider} rule")
    if a.verbose:
        for line, end, rule, headline in listed:
            print(f"  lines {line}-{end}: {rule}: {headline}")


if __name__ == "__main__":
    main()
