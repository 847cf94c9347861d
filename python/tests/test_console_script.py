"""The `faultline` command the wheel puts on PATH: run from the virtual
environment's bin directory as a user would type it, on fixtures; its
diagnosis, exit status and masking must be the command line's."""

import json
import os
import subprocess
import sys

import pytest

from conftest import CLIENT_ID, CLIENT_SECRET, basic

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
SEED = os.path.join(ROOT, "fixtures", "seed", "forum-thread.txt")
# The environment's scripts directory (bin/, or Scripts\ on Windows): not
# sys.executable's resolved path, which may be the base interpreter's.
BIN = os.path.dirname(sys.executable)
SCRIPT = os.path.join(BIN, "faultline.exe" if os.name == "nt" else "faultline")


def faultline(*args, stdin=None, cwd):
    # PATH as a user's shell has it after `activate`: the script is found by
    # name, not by its path.
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""), NO_COLOR="1")
    return subprocess.run(["faultline", *args], input=stdin, cwd=cwd, env=env, capture_output=True,
                          timeout=120)


def test_the_wheel_installs_the_command():
    assert os.access(SCRIPT, os.X_OK), f"no executable {SCRIPT}"
    # A console script of this package, not some other faultline on PATH.
    with open(SCRIPT, "rb") as f:
        assert b"faultline._cli" in f.read(4096)


def test_seed_case_diagnosis_and_exit_status(tmp_path):
    out = faultline(SEED, cwd=tmp_path)
    assert out.returncode == 1, out.stderr  # a failing call was found
    text = out.stdout.decode()
    assert "genesys.token-request-on-api-host" in text
    assert "403 invalid_grant" in text

    out = faultline("-f", "json", SEED, cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    top = report["diagnoses"][0]  # best first (docs/report.md)
    assert top["rule"] == "genesys.token-request-on-api-host"
    assert top["severity"] == "error"


def test_healthy_input_exits_zero(tmp_path):
    out = faultline("-", stdin=b"2026-11-24 03:00:01,000 INFO etl.loader: wrote batch 1 (20 rows)\n",
                    cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert b"No failing API call" in out.stdout


def test_usage_error_exits_two(tmp_path):
    out = faultline("--no-such-option", cwd=tmp_path)
    assert out.returncode == 2
    assert b"--no-such-option" in out.stderr


def test_secrets_on_stdin_are_masked(tmp_path):
    transcript = (
        "> POST /oauth/token HTTP/1.1\n> Host: api.mypurecloud.com\n"
        f"> Authorization: Basic {basic()}\n>\n"
        f"client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}&grant_type=client_credentials\n"
        "< HTTP/1.1 400 Bad Request\n< Content-Type: application/json\n<\n"
        '{"error":"invalid_client","description":"client not found"}\n'
    ).encode()
    out = faultline("-v", "-", stdin=transcript, cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    assert b"invalid_client" in out.stdout
    for secret in (CLIENT_SECRET, basic()):
        assert secret.encode() not in out.stdout + out.stderr


@pytest.mark.skipif(os.name == "nt", reason="POSIX pipes")
def test_closed_pipe_ends_quietly_with_the_exit_status(tmp_path):
    sys.path.insert(0, os.path.join(ROOT, "python", "recipes"))
    from make_corpus import make_corpus

    # enough diagnoses that the report outgrows a pipe's buffer
    (log,) = make_corpus(str(tmp_path / "logs"), files=1, mib=2, every=5)
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""), NO_COLOR="1")
    p = subprocess.Popen(["faultline", "-v", log], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    assert p.stdout.readline()  # the report started; then the reader goes away
    p.stdout.close()
    status = p.wait(timeout=120)
    stderr = p.stderr.read()
    p.stderr.close()
    assert status == 1, stderr  # not killed by SIGPIPE (-13), not a Python traceback
    assert b"Traceback" not in stderr and b"Broken pipe" not in stderr
