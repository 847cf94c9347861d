#!/usr/bin/env python3
"""Throughput of the Dask recipe against the command line on the same files.

    python bench_dask.py OUT_DIR [--mib 1024] [--files 64] [--workers 2]

Generates (once) a multi-file corpus under OUT_DIR with make_corpus.py, warms
the page cache, then times, best of --repeat runs each:
  - `faultline -f short OUT_DIR` (the CLI of this package, one process);
  - the Dask recipe (read_text per file → analyze_partition) on a local
    cluster of --workers single-threaded worker processes;
  - Dask over paths (from_sequence(paths) → analyze_files): workers read the
    files themselves, no lines shipped through Python.
Prints MiB/s overall and per worker. Speed is measured here, never in tests.
"""

import argparse
import glob
import os
import subprocess
import sys
import time

import dask.bag as db
from dask.distributed import Client, LocalCluster

import faultline

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_corpus import make_corpus  # noqa: E402


def best(f, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - t)
    return min(times), result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--mib", type=float, default=1024)
    ap.add_argument("--files", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    paths = sorted(glob.glob(os.path.join(a.out, "*", "*.log")))
    if len(paths) != a.files:
        paths = make_corpus(a.out, a.files, a.mib)
    mib = sum(os.path.getsize(p) for p in paths) / (1 << 20)
    for p in paths:  # page cache
        with open(p, "rb") as f:
            while f.read(1 << 24):
                pass

    def cli():
        out = subprocess.run([sys.executable, "-m", "faultline._cli", "-f", "short", a.out],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        return out.stdout.count(b"\n")

    t_cli, n_cli = best(cli, a.repeat)
    print(f"corpus: {len(paths)} files, {mib:.0f} MiB; {os.cpu_count()} CPUs")
    print(f"  CLI, one process           {t_cli:8.1f} s  {mib / t_cli:7.1f} MiB/s  ({n_cli} lines of -f short)")
    with LocalCluster(n_workers=a.workers, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster):
        lines = db.read_text(paths, include_path=True, blocksize=None)
        t_lines, rows = best(lambda: lines.map_partitions(faultline.analyze_partition).count().compute(), a.repeat)
        files = db.from_sequence(paths, partition_size=1)
        t_files, rows2 = best(lambda: files.map_partitions(faultline.analyze_files).count().compute(), a.repeat)
    w = a.workers
    print(f"  Dask read_text, {w} workers  {t_lines:8.1f} s  {mib / t_lines:7.1f} MiB/s  "
          f"{mib / t_lines / w:7.1f} MiB/s per worker  ({rows} records)")
    print(f"  Dask paths, {w} workers      {t_files:8.1f} s  {mib / t_files:7.1f} MiB/s  "
          f"{mib / t_files / w:7.1f} MiB/s per worker  ({rows2} records)")


if __name__ == "__main__":
    main()
