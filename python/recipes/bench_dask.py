#!/usr/bin/env python3
"""Throughput of the Dask recipe against the command line on the same files.

    python bench_dask.py OUT_DIR [--mib 1024] [--files 64] [--workers 2]
                                 [--repeat 2] [--binary target/release/faultline]

Generates (once) a multi-file corpus under OUT_DIR with make_corpus.py, warms
the page cache, then times, best of --repeat runs each:
  - `faultline -f short OUT_DIR` (the CLI of this package, one process);
  - with --binary, the same command with a standalone binary (cargo's);
  - the Dask recipe (read_text per file → analyze_partition) on a local
    cluster of --workers single-threaded worker processes;
  - Dask over paths (from_sequence(paths) → analyze_files): workers read the
    files themselves, no lines shipped through Python.
Prints MiB/s overall and per worker, and the load average around each
timing (the machine may be shared). Speed is measured here, never in tests.
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


def load():
    return "load %.1f" % os.getloadavg()[0]


def best(f, repeat):
    """Best of `repeat` runs; also the load averages seen around them."""
    times, loads = [], [load()]
    for _ in range(repeat):
        t = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - t)
        loads.append(load())
    return min(times), result, "runs " + " ".join(f"{x:.1f}s" for x in times) + "; " + ", ".join(loads)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--mib", type=float, default=1024)
    ap.add_argument("--files", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--binary", help="also time this standalone faultline binary")
    a = ap.parse_args()
    paths = sorted(glob.glob(os.path.join(a.out, "*", "*.log")))
    if len(paths) != a.files:
        paths = make_corpus(a.out, a.files, a.mib)
    mib = sum(os.path.getsize(p) for p in paths) / (1 << 20)
    for p in paths:  # page cache
        with open(p, "rb") as f:
            while f.read(1 << 24):
                pass

    def cli(*command):
        def run():
            out = subprocess.run([*command, "-f", "short", a.out], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL)
            return out.stdout.count(b"\n")
        return run

    w = a.workers
    print(f"corpus: {len(paths)} files, {mib:.0f} MiB; {os.cpu_count()} CPUs; best of {a.repeat}", flush=True)
    t, n, how = best(cli(sys.executable, "-m", "faultline._cli"), a.repeat)
    print(f"  CLI (this package), 1 process  {t:8.1f} s  {mib / t:7.1f} MiB/s  ({n} lines of -f short; {how})",
          flush=True)
    if a.binary:
        t, n, how = best(cli(a.binary), a.repeat)
        print(f"  CLI ({a.binary})  {t:8.1f} s  {mib / t:7.1f} MiB/s  ({n} lines of -f short; {how})", flush=True)
    with LocalCluster(n_workers=w, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster):
        lines = db.read_text(paths, include_path=True, blocksize=None)
        t, rows, how = best(lambda: lines.map_partitions(faultline.analyze_partition).count().compute(), a.repeat)
        print(f"  Dask read_text, {w} workers      {t:8.1f} s  {mib / t:7.1f} MiB/s  "
              f"{mib / t / w:7.1f} MiB/s per worker  ({rows} records; {how})", flush=True)
        files = db.from_sequence(paths, partition_size=1)
        t, rows2, how = best(lambda: files.map_partitions(faultline.analyze_files).count().compute(), a.repeat)
        print(f"  Dask paths, {w} workers          {t:8.1f} s  {mib / t:7.1f} MiB/s  "
              f"{mib / t / w:7.1f} MiB/s per worker  ({rows2} records; {how})", flush=True)
    if rows != rows2:
        sys.exit(f"the two Dask runs disagree: {rows} and {rows2} records")

if __name__ == "__main__":
    main()
