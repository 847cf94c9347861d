#!/usr/bin/env python3
"""faultline's speed and memory benches (issue 10), beside rg and grep on the
same files in the same run. Called by benches/run.sh; see benches/README.md.

Each comparison runs its commands in turn, A B A B …, after a warm-up round,
with the page cache warm, and quotes medians: on a shared machine a pair
measured together keeps its ratio even when the machine's speed drifts. Wall
time and CPU time (user + sys, from wait4) are both given; CPU time is the
steadier figure when other work competes for the cores, wall time is what a
user waits. Peak RSS is the child's maxrss from wait4 (the same figure
/usr/bin/time -v prints as "Maximum resident set size"), checked against
/usr/bin/time -v in the memory rows.
"""
import argparse
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The lines faultline must at least look at: one line of every failure shape
# gen_corpus.py writes matches (checked below against the generator's count).
# Valid for both rg (Rust regex) and grep -E (POSIX ERE).
SIGNALS = (r'Traceback|Exception|Error:|HTTP/1\.[01]"? [45][0-9][0-9] |"status": ?"?[45][0-9][0-9]|"error"'
           r'|AADSTS[0-9]|errorCode|<Code>|<title>[45][0-9][0-9]|curl: \([0-9]+\)|status code [45][0-9][0-9]'
           r'|"ok":false')

PASTE = '{"error": "invalid_grant", "error_description": "The client credentials are invalid or the grant type is not supported."}\n'


def parse_size(text):
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(t[-1:], 1)
    return int(float(t[:-1] if t[-1:] in "KMG" else t) * mult)


def human_size(n):
    for unit, div in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= div and n % div == 0:
            return f"{n // div}{unit}"
    return str(n)


class Bench:
    def __init__(self, a):
        self.a = a
        self.dir = os.path.abspath(a.dir)
        os.makedirs(self.dir, exist_ok=True)
        # Measure a private copy: a rebuild of the checkout during a long run
        # would otherwise change the binary between cases.
        with open(a.binary, "rb") as f:
            self.sha = hashlib.sha256(f.read()).hexdigest()[:12]
        self.binary = os.path.join(self.dir, f"faultline-{self.sha}")
        if not os.path.exists(self.binary):
            shutil.copy2(a.binary, self.binary + ".tmp")
            os.rename(self.binary + ".tmp", self.binary)
        self.source = os.path.abspath(a.binary)
        self.rows = []  # (section, name, runs, wall, cpu, rss_kib, mib, note)
        self.ratios = []  # (name, wall ratio, cpu ratio, goal)
        self.notes = []

    # --- corpora ------------------------------------------------------------
    def corpus(self, size, density=1, distinct=False, files=0):
        name = f"mixed-{human_size(size)}-seed{self.a.seed}-x{density:g}"
        name += "-distinct" if distinct else ""
        name += f"-{files}files" if files else ".log"
        path = os.path.join(self.dir, name)
        if not os.path.exists(path):
            tmp = path + ".partial"
            shutil.rmtree(tmp, ignore_errors=True)
            if os.path.exists(tmp):
                os.unlink(tmp)
            cmd = [sys.executable, os.path.join(HERE, "gen_corpus.py"), tmp, "--size", str(size),
                   "--seed", str(self.a.seed), "--density", f"{density:g}", "--stats"]
            cmd += ["--distinct"] if distinct else []
            cmd += ["--files", str(files)] if files else []
            t = time.perf_counter()
            r = subprocess.run(cmd, stderr=subprocess.PIPE, text=True, check=True)
            stats = r.stderr.splitlines()[0] if r.stderr else ""
            # Beside the corpus, not in it: a directory corpus is scanned whole.
            with open(path + ".stats", "w") as f:
                f.write(r.stderr)
            os.rename(tmp, path)
            print(f"  generated {name} in {time.perf_counter() - t:.1f} s ({stats})", file=sys.stderr)
        return path

    def failures_in(self, path):
        try:
            with open(path + ".stats") as f:
                m = re.search(r"(\d+) failures", f.read())
                return int(m.group(1)) if m else None
        except OSError:
            return None

    @staticmethod
    def warm(path):
        files = [os.path.join(path, f) for f in sorted(os.listdir(path))] if os.path.isdir(path) else [path]
        for p in files:
            with open(p, "rb") as f:
                while f.read(1 << 24):
                    pass

    @staticmethod
    def size_of(path):
        if os.path.isdir(path):
            return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path) if not f.startswith("."))
        return os.path.getsize(path)

    # --- timing -------------------------------------------------------------
    @staticmethod
    def run_once(cmd, stdin_bytes=None, with_rss=False):
        """Wall, CPU seconds, peak RSS (KiB, with_rss only) and exit code of
        one run; output to a pipe (not /dev/null: GNU grep stops at the first
        match when its output is /dev/null)."""
        rss_file = None
        if with_rss:
            fd, rss_file = tempfile.mkstemp(prefix="faultline-bench-rss-")
            os.close(fd)
            cmd = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + cmd
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin_bytes is not None else subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if stdin_bytes is not None:
            try:
                p.stdin.write(stdin_bytes)
            except BrokenPipeError:
                pass
            p.stdin.close()
        while p.stdout.read(1 << 16):
            pass
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t
        rss = 0
        if rss_file:
            with open(rss_file) as f:
                m = re.search(r"^(\d+)\s*$", f.read(), re.M)
            os.unlink(rss_file)
            rss = int(m.group(1)) if m else 0
        return wall, ru.ru_utime + ru.ru_stime, rss, p.returncode

    def measure(self, cmds, runs, stdin_bytes=None, big=False):
        """cmds: [(name, argv)]; medians of `runs` interleaved rounds.
        Fast cases: a warm-up round under /usr/bin/time -v gives each
        command's peak RSS (wait4's maxrss of a child forked from Python
        counts Python's own pages from before the exec). Big cases (files
        already in the page cache): no warm-up; every run goes through
        /usr/bin/time, whose fork and exec cost a millisecond of seconds."""
        rss = {name: None for name, _ in cmds}
        if not big:
            rss = {name: self.time_v(argv, stdin_bytes) for name, argv in cmds}
        if self.a.timer == "hyperfine":
            res = self.measure_hyperfine(cmds, runs, stdin_bytes)
            if big:
                rss = {name: self.time_v(argv, stdin_bytes) for name, argv in cmds}
        else:
            samples = {n: [] for n, _ in cmds}
            for _ in range(runs):
                for name, argv in cmds:
                    samples[name].append(self.run_once(argv, stdin_bytes, with_rss=big))
            res = {name: (statistics.median(x[0] for x in s), statistics.median(x[1] for x in s),
                          sorted({x[3] for x in s})) for name, s in samples.items()}
            if big:
                rss = {name: max(x[2] for x in s) for name, s in samples.items()}
        return {name: (wall, cpu, rss[name] or 0, codes) for name, (wall, cpu, codes) in res.items()}

    def measure_hyperfine(self, cmds, runs, stdin_bytes):
        with tempfile.TemporaryDirectory() as tmp:
            exp = os.path.join(tmp, "h.json")
            args = ["hyperfine", "-N", "-i", "--output=pipe", "--style=none", "--warmup", "1", "--runs", str(runs),
                    "--export-json", exp]
            if stdin_bytes is not None:
                # hyperfine 1.15 has no --input: give the paste as a file path.
                paste = os.path.join(tmp, "paste.json")
                with open(paste, "wb") as f:
                    f.write(stdin_bytes)
                cmds = [(n, argv + [paste]) for n, argv in cmds]
            for _, argv in cmds:
                args.append(shlex.join(argv))
            subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
            with open(exp) as f:
                res = json.load(f)["results"]
        return {name: (r["median"], r["user"] + r["system"], sorted(set(r.get("exit_codes", []))))
                for (name, _), r in zip(cmds, res)}

    def record(self, section, res, runs, nbytes=None, notes=None):
        for name, (wall, cpu, rss, codes) in res.items():
            mib = nbytes / (1 << 20) / wall if nbytes else None
            self.rows.append((section, name, runs, wall, cpu, rss, mib, (notes or {}).get(name, "")))

    def ratio(self, label, res, a, b, goal):
        wa, ca = res[a][0], res[a][1]
        wb, cb = res[b][0], res[b][1]
        self.ratios.append((label, wa / wb, ca / cb if cb else float("nan"), goal))

    @staticmethod
    def time_v(argv, stdin_bytes=None):
        """Peak RSS in KiB as /usr/bin/time -v reports it (None without it)."""
        if not os.path.exists("/usr/bin/time"):
            return None
        r = subprocess.run(["/usr/bin/time", "-v"] + argv, input=stdin_bytes,
                           stdin=None if stdin_bytes is not None else subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        m = re.search(rb"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
        return int(m.group(1)) if m else None

    # --- sections -----------------------------------------------------------
    def startup(self):
        fl = self.binary
        res = self.measure([("paste, built-in pack", [fl]), ("paste, --no-builtin", [fl, "--no-builtin"])],
                           self.a.runs_startup, PASTE.encode())
        self.record("a start-up", res, self.a.runs_startup)
        self.ratio("start-up: built-in pack / --no-builtin", res, "paste, built-in pack", "paste, --no-builtin",
                   "≤ 2×, and ≤ 15 ms wall")
        return res

    def small(self):
        path = self.corpus(1 << 20)
        self.warm(path)
        res = self.measure([("1 MiB mixed log, human report", [self.binary, path]),
                            ("1 MiB mixed log, --format short", [self.binary, "--format", "short", path])],
                           self.a.runs_fast)
        self.record("b 1 MiB log", res, self.a.runs_fast, 1 << 20)

    def throughput(self, density):
        path = self.corpus(self.size, density)
        self.warm(path)
        n = self.size_of(path)
        tag = f"{human_size(self.size)}, {density:g}× density"
        cmds = [(f"faultline --format short ({tag})", [self.binary, "--format", "short", path]),
                (f"rg -c -e SIGNALS ({tag})", ["rg", "-c", "-e", SIGNALS, path]),
                (f"grep -cE SIGNALS ({tag})", ["grep", "-cE", SIGNALS, path])]
        res = self.measure(cmds, self.a.runs_big, big=True)
        # The signal regex must see every failure the generator wrote.
        rg_lines = int(subprocess.run(["rg", "-c", "-e", SIGNALS, path], capture_output=True, text=True).stdout or 0)
        fails = self.failures_in(path)
        self.record("c throughput", res, self.a.runs_big, n,
                    {cmds[1][0]: f"{rg_lines} lines; {fails} failures written"})
        self.ratio(f"throughput {tag}: faultline / rg", res, cmds[0][0], cmds[1][0], "≤ 3×")
        self.ratio(f"throughput {tag}: faultline / grep", res, cmds[0][0], cmds[2][0], "")
        return path, res

    def directory(self):
        files = self.a.files
        path = self.corpus(self.size, 1, files=files)
        self.warm(path)
        n = self.size_of(path)
        tag = f"{files} files, {human_size(self.size)}"
        cmds = [(f"faultline --format short DIR ({tag})", [self.binary, "--format", "short", path]),
                (f"rg -c -e SIGNALS DIR ({tag})", ["rg", "-c", "-e", SIGNALS, path]),
                (f"grep -rcE SIGNALS DIR ({tag})", ["grep", "-rcE", SIGNALS, path])]
        res = self.measure(cmds, self.a.runs_big, big=True)
        self.record("d directory", res, self.a.runs_big, n)
        self.ratio(f"directory ({tag}): faultline / rg", res, cmds[0][0], cmds[1][0], "≤ 3× (rg uses every core)")

    def storm(self, lines=1_000_000):
        """A retry storm: one failure line, a million times (issue 12)."""
        path = os.path.join(self.dir, f"storm-{lines}.log")
        if not os.path.exists(path):
            line = b"requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://api.example.com/v2/users/me\n"
            with open(path + ".partial", "wb") as f:
                for _ in range(lines // 1000):
                    f.write(line * 1000)
            with open(path + ".stats", "w") as f:
                f.write(f"{lines} failures (one, repeated)\n")
            os.rename(path + ".partial", path)
        return path

    def big_body(self, size=48_000_000):
        """One error response whose JSON body is `size` bytes (issue 12: a
        body past the cap is parsed up to it, not skipped)."""
        path = os.path.join(self.dir, f"body-{size}.log")
        if not os.path.exists(path):
            item = b'{"resource": "/api/v2/users/00000000-0000-0000-0000-000000000000", "permission": "directory:user:view"},'
            with open(path + ".partial", "wb") as f:
                f.write(b"POST https://api.example.com/api/v2/analytics/query\nHTTP/1.1 403 Forbidden\n"
                        b"Content-Type: application/json\n\n")
                f.write(b'{"message": "You are missing the following permission(s)", "code": "missing.permissions", '
                        b'"status": 403, "details": [')
                for _ in range(size // len(item)):
                    f.write(item)
                f.write(b'{"resource": "end"}]}\n')
            with open(path + ".stats", "w") as f:
                f.write("1 failures (one body)\n")
            os.rename(path + ".partial", path)
        return path

    def memory(self, normal_path):
        dsize = min(self.size, parse_size(self.a.distinct_size))
        distinct = self.corpus(dsize, self.a.distinct_density, distinct=True)
        dense = self.corpus(self.size, 10)
        for label, path in ((f"peak RSS, {human_size(self.size)} mixed log, 1× density", normal_path),
                            (f"peak RSS, {human_size(self.size)} mixed log, 10× density", dense),
                            (f"peak RSS, {human_size(dsize)} of distinct failures "
                             f"({self.a.distinct_density:g}× density{', failures only' if self.a.distinct_density >= 2000 else ''})", distinct),
                            ("peak RSS, retry storm (a million identical failure lines)", self.storm()),
                            ("peak RSS, one 48 MB JSON error body", self.big_body())):
            self.warm(path)
            argv = [self.binary, "--format", "short", path]
            wall, cpu, rss, _ = self.run_once(argv, with_rss=True)
            n = self.size_of(path)
            self.rows.append(("e memory", label, 1, wall, cpu, rss, n / (1 << 20) / wall,
                              f"{self.failures_in(path)} failures written"))
            self.ratios.append((f"{label}: peak RSS (MiB)", rss / 1024, float("nan"), "≤ 64 MiB"))

    def rules_scale(self, normal_path):
        listing = subprocess.run([self.binary, "rules", "list", "--format", "json"], capture_output=True, text=True)
        try:
            builtin = len(json.loads(listing.stdout))
        except ValueError:
            builtin = 85
        extra = builtin * 9
        tmp = tempfile.mkdtemp(prefix="faultline-bench-rules-", dir=self.dir)
        try:
            subprocess.run([sys.executable, os.path.join(HERE, "gen_scale_rules.py"), str(extra), tmp], check=True)
            chk = subprocess.run([self.binary, "rules", "check", tmp], capture_output=True, text=True)
            if chk.returncode != 0:
                self.notes.append(f"rules check on the synthetic rules: {chk.stdout.strip()[-300:]}")
            fl = self.binary
            # Rule files changed within the last 3 s are "racy" for the
            # cache (src/rules/load/cache.rs: their entries also hold the
            # text and compare it); a user's rules are older than that.
            # Measured past that window, as the cache's steady state.
            time.sleep(max(0.0, 3.5 - (time.time() - max(
                os.stat(os.path.join(tmp, f)).st_ctime for f in os.listdir(tmp)))))
            # The validated-rules cache in a directory of the bench's own
            # (the warm-up run fills it), and the same run without it.
            saved_cache = os.environ.get("XDG_CACHE_HOME")
            os.environ["XDG_CACHE_HOME"] = os.path.join(tmp, "cache")
            res = self.measure([(f"paste, built-in ({builtin} rules)", [fl]),
                                (f"paste, built-in + {extra} synthetic (--rules, cached)", [fl, "--rules", tmp]),
                                (f"paste, built-in + {extra} synthetic (--rules --no-cache)",
                                 [fl, "--rules", tmp, "--no-cache"])],
                               self.a.runs_startup, PASTE.encode())
            self.record("f rule scale", res, self.a.runs_startup)
            names = list(res)
            self.ratio("rules ×10: start-up", res, names[1], names[0], "≤ 2×")
            self.ratio("rules ×10: start-up, --no-cache", res, names[2], names[0], "")
            self.warm(normal_path)
            n = self.size_of(normal_path)
            tag = human_size(self.size)
            # Still the bench's cache, which the pastes filled: every run is
            # the steady state (with the user's own cache the first run
            # validated the rules and wrote their entries, about 5 MiB more
            # peak RSS, and the max of the runs showed it).
            res = self.measure([(f"{tag} log, built-in", [fl, "--format", "short", normal_path]),
                                (f"{tag} log, + {extra} synthetic", [fl, "--rules", tmp, "--format", "short",
                                                                     normal_path]),
                                (f"{tag} log, + {extra} synthetic, --no-cache",
                                 [fl, "--rules", tmp, "--no-cache", "--format", "short", normal_path])],
                               self.a.runs_big, big=True)
            if saved_cache is None:
                del os.environ["XDG_CACHE_HOME"]
            else:
                os.environ["XDG_CACHE_HOME"] = saved_cache
            self.record("f rule scale", res, self.a.runs_big, n)
            names = list(res)
            self.ratio(f"rules ×10: {tag} log", res, names[1], names[0], "≤ 1.3×")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # --- report -------------------------------------------------------------
    def table(self):
        out = []
        ver = subprocess.run([self.binary, "--version"], capture_output=True, text=True).stdout.strip()
        rg = subprocess.run(["rg", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        gr = subprocess.run(["grep", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        out.append(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · {ver} ({self.source}, sha256 {self.sha}) · {rg} · {gr} · "
                   f"{os.cpu_count()} cores · load {os.getloadavg()[0]:.1f} · timer: {self.a.timer} · "
                   f"seed {self.a.seed}")
        out.append("")
        out.append("| case | what | runs | wall (median) | CPU (median) | MiB/s (wall) | peak RSS | note |")
        out.append("|---|---|---:|---:|---:|---:|---:|---|")
        for sec, name, runs, wall, cpu, rss, mib, note in self.rows:
            w = f"{wall * 1000:.1f} ms" if wall < 1 else f"{wall:.2f} s"
            c = f"{cpu * 1000:.1f} ms" if cpu < 1 else f"{cpu:.2f} s"
            m = f"{mib:.1f}" if mib else ""
            r = f"{rss / 1024:.1f} MiB" if rss else ""
            out.append(f"| {sec} | {name} | {runs} | {w} | {c} | {m} | {r} | {note} |")
        out.append("")
        out.append("| ratio | wall | CPU | goal (issue 10) |")
        out.append("|---|---:|---:|---|")
        for label, w, c, goal in self.ratios:
            cs = "" if c != c else f"{c:.2f}×"
            ws = f"{w:.1f}" if "MiB" in label else f"{w:.2f}×"
            out.append(f"| {label} | {ws} | {cs} | {goal} |")
        for n in self.notes:
            out.append(f"\nnote: {n}")
        return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description="faultline benches (issue 10)")
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "faultline"))
    ap.add_argument("--size", default="1G", help="throughput corpus size (1G, 256M, …)")
    ap.add_argument("--quick", action="store_true", help="64M corpora, fewer runs: a smoke test of the bench")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--dir", default=os.environ.get("FAULTLINE_BENCH_DIR", os.path.join(ROOT, "target", "bench-corpus")))
    ap.add_argument("--timer", choices=["pairs", "hyperfine"], default="pairs",
                    help="pairs: interleaved A B A B runs timed here (default); hyperfine: each group by hyperfine")
    ap.add_argument("--runs-fast", type=int, default=15, help="runs of the fast cases (start-up, 1 MiB)")
    ap.add_argument("--runs-big", type=int, default=3, help="runs of the big cases")
    ap.add_argument("--runs-startup", type=int, default=41,
                    help="runs of the paste cases (start-up ratios): their ratios moved by 0.1 between runs at 15")
    ap.add_argument("--files", type=int, default=32, help="files in the directory case")
    ap.add_argument("--distinct-size", default="64M", help="size of the distinct-failures corpus (memory row)")
    ap.add_argument("--distinct-density", type=float, default=2000, help="2000: failures only")
    ap.add_argument("--only", default="abcdef", help="sections to run, e.g. 'ac'")
    ap.add_argument("--out", help="also write the table to this file")
    a = ap.parse_args()
    if a.quick:
        a.size, a.runs_fast, a.runs_big, a.distinct_size = "64M", 5, 3, "8M"
    a.runs_fast = max(a.runs_fast, 5)
    a.runs_big = max(a.runs_big, 3)
    if not os.access(a.binary, os.X_OK):
        sys.exit(f"no faultline binary at {a.binary}: build one (cargo build --release) or pass --binary PATH")
    for tool in ("rg", "grep") + (("hyperfine",) if a.timer == "hyperfine" else ()):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed (apt-get install ripgrep / hyperfine)")
    b = Bench(a)
    b.size = parse_size(a.size)
    print(f"faultline benches: {a.binary} (copied to {b.binary}), corpus {human_size(b.size)} in {b.dir}", file=sys.stderr)
    normal = None
    steps = [("a", b.startup), ("b", b.small)]
    for key, fn in steps:
        if key in a.only:
            print(f"  {key}: {fn.__name__}", file=sys.stderr)
            fn()
    if "c" in a.only:
        print("  c: throughput", file=sys.stderr)
        normal, _ = b.throughput(1)
        b.throughput(10)
    if "d" in a.only:
        print("  d: directory", file=sys.stderr)
        b.directory()
    normal = normal or b.corpus(b.size)
    if "e" in a.only:
        print("  e: memory", file=sys.stderr)
        b.memory(normal)
    if "f" in a.only:
        print("  f: rule scale", file=sys.stderr)
        b.rules_scale(normal)
    table = b.table()
    print(table)
    if a.out:
        with open(a.out, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
