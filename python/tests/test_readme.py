"""The README's "From Python" snippets, run as written (the live-exception
one against the loopback stub: its https:// URL becomes http:// so that the
stub, an HTTP proxy, can answer it)."""

import ast
import os
import re
import subprocess
import sys
from collections import Counter

import pytest

import faultline
from conftest import CLIENT_ID, CLIENT_SECRET, basic
from stub import SEED_BODY

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
RECIPES = os.path.join(ROOT, "python", "recipes")


def snippet(name):
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"<!-- python-snippet: %s -->\s*```python\n(.*?)```" % re.escape(name), text, re.S)
    assert m, f"README has no python snippet {name!r}"
    return m.group(1)


def run(code, cwd, env=None):
    e = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    e.update(env or {})
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=e, capture_output=True,
                          text=True, timeout=600)


def test_saved_log_snippet():
    out = run(snippet("saved-log"), cwd=ROOT)
    assert out.returncode == 0, out.stderr
    first = out.stdout.splitlines()[0]
    top = faultline.analyze_file(os.path.join(ROOT, "fixtures/seed/forum-thread.txt")).top
    assert first == f"{top.rule} - {top.title}"
    assert "genesys.token-request-on-api-host" in first


def test_live_exception_snippet(stub):
    code = snippet("live-exception")
    # The comments after the prints are what the README promises.
    promised = re.search(r"print\(report\.top\.title\)\s*#\s*(.+)", code).group(1).strip()
    code = code.replace("https://api.mypurecloud.com", "http://api.mypurecloud.com")
    out = run(code, cwd=ROOT, env={"http_proxy": stub.proxy, "GENESYS_CLIENT_ID": CLIENT_ID,
                                   "GENESYS_CLIENT_SECRET": CLIENT_SECRET})
    assert out.returncode == 0, out.stderr
    logged, headline, title, fix = out.stdout.splitlines()[:4]
    # The seed case: what requests' message says, and what only the response
    # body (the stub's, as reported in the seed thread) says.
    assert logged == "403 Client Error: Forbidden for url: http://api.mypurecloud.com/oauth/token"
    assert SEED_BODY["error"] not in logged
    assert headline == "POST http://api.mypurecloud.com/oauth/token → 403 " + SEED_BODY["error"]
    assert title == promised
    assert "login.mypurecloud.com/oauth/token" in fix
    report = out.stdout.split(fix, 1)[1]
    assert "genesys.token-request-on-api-host" in report and SEED_BODY["error"] in report
    for s in (CLIENT_SECRET, basic()):
        assert s not in out.stdout and s not in out.stderr


def test_dask_snippet(tmp_path):
    pytest.importorskip("dask.distributed")
    sys.path.insert(0, RECIPES)
    from make_corpus import make_corpus

    paths = make_corpus(str(tmp_path / "logs"), files=4, mib=0.3, every=150)
    script = tmp_path / "job.py"  # Dask's worker processes re-import the main module
    script.write_text(snippet("dask"))
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    top = ast.literal_eval(out.stdout.strip().splitlines()[-1])
    want = Counter(
        (r["rule"], r["host"])
        for p in paths
        for r in faultline.records(faultline.analyze_file(p))
        if r["severity"] == "error"
    )
    assert top, "the corpus has errors to find"
    assert all(want[k] == n for k, n in top)
    assert [n for _, n in top] == sorted(want.values(), reverse=True)[:10]
