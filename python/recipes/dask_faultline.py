#!/usr/bin/env python3
"""faultline as a Dask map step: diagnoses over a directory tree of logs,
aggregated by rule, day and host.

    python dask_faultline.py 'logs/*/*.log'                 # a local cluster
    python dask_faultline.py 'logs/*/*.log' --scheduler tcp://host:8786

Each file is one partition (``blocksize=None``), so a failing exchange is
never split between two workers. ``faultline.analyze_partition`` turns a
partition of ``(line, path)`` pairs into flat records (source, line, rule,
severity, confidence, title, incident, status, host, provider, error).
"""

import argparse
import re
import time

import dask.bag as db
from dask.distributed import Client, LocalCluster

import faultline

DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def day_of(path):
    m = DAY.search(path or "")
    return m.group(0) if m else None


def diagnose(paths):
    """A bag of flat records, one per diagnosis."""
    lines = db.read_text(paths, include_path=True, blocksize=None)
    return lines.map_partitions(faultline.analyze_partition)


def failures_by_rule_day_host(records):
    """{(rule, day, host): count} over the error and warning diagnoses."""
    return dict(
        records.filter(lambda r: r["severity"] in ("error", "warning"))
        .map(lambda r: (r["rule"], day_of(r["source"]), r["host"]))
        .frequencies()
        .compute()
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+", help="files or globs (local, or any fsspec URL)")
    ap.add_argument("--scheduler", help="address of a running scheduler (default: a local cluster)")
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    cluster = None if a.scheduler else LocalCluster(n_workers=a.workers, threads_per_worker=1)
    with Client(a.scheduler or cluster):
        start = time.perf_counter()
        counts = failures_by_rule_day_host(diagnose(a.paths))
        took = time.perf_counter() - start
    for (rule, day, host), n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"{n:8d}  {rule:<50} {day or '-':<10} {host or '-'}")
    print(f"{sum(counts.values())} diagnoses in {took:.1f} s")
    if cluster is not None:
        cluster.close()


if __name__ == "__main__":
    main()
