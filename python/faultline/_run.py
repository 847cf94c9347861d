"""Running the command line in-process on text or files, and reading its
JSON report back. Text goes to the CLI through an in-memory file on Linux
(``memfd``), so what a caller analyses (a live exception's exchange, a log
partition) never touches the disk; elsewhere through a private temp file."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from typing import Iterator, Optional, Sequence, Union

from . import _native

PathLike = Union[str, "os.PathLike[str]"]
RulesArg = Union[None, PathLike, Sequence[PathLike]]


class FaultlineError(RuntimeError):
    """The command line stopped without writing a report (a usage error)."""


def rule_args(rules: RulesArg, builtin: bool) -> list:
    paths: list = []
    if rules is not None:
        if isinstance(rules, (str, bytes, os.PathLike)):
            rules = [rules]
        for r in rules:
            paths += ["--rules", os.fspath(r)]
    if not builtin:
        paths.append("--no-builtin")
    return paths


@contextlib.contextmanager
def _memfile(data: bytes, name: str) -> Iterator[str]:
    """A path to a readable (and writable) file holding ``data``."""
    if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
        fd = os.memfd_create(name, 0)
        try:
            os.write(fd, data) if data else None
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
    else:
        with tempfile.TemporaryDirectory(prefix="faultline-") as d:
            path = os.path.join(d, name)
            with open(path, "wb") as f:
                f.write(data)
            yield path


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def run_cli(args: Sequence[str], inputs: Sequence[str], quiet: bool = True) -> tuple:
    """Runs ``faultline ARGS -o OUT INPUTS``; returns (status, output text)."""
    with _memfile(b"", "faultline-out") as out:
        q = ["-q"] if quiet else []
        argv = ["faultline", "--color", "never", *q, "-o", out, *args, "--", *inputs]
        status = _native.run(argv)
        return status, _read(out).decode("utf-8", "replace")


def _rename(value, old: str, new: str):
    """Replaces the in-memory file's path by the caller's name wherever a
    source name appears in the report."""
    if isinstance(value, dict):
        return {k: _rename(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, old, new) for v in value]
    if value == old:
        return new
    return value


def json_report(data: Optional[bytes], name: str, files: Sequence[str], extra: Sequence[str]) -> dict:
    """The ``faultline/report@1`` report of ``data`` (named ``name``) or of ``files``."""
    if data is None:
        status, text = run_cli(["-f", "json", *extra], files)
        return _parse(text, status)
    with _memfile(data, "faultline-input") as path:
        status, text = run_cli(["-f", "json", *extra], [path])
        return _rename(_parse(text, status), path, name)


def human_report(data: Optional[bytes], name: str, files: Sequence[str], extra: Sequence[str]) -> str:
    """The plain human report (80 columns, no colour) of the same input."""
    if data is None:
        return run_cli(["-f", "human", "--width", "80", *extra], files, quiet=False)[1]
    with _memfile(data, "faultline-input") as path:
        text = run_cli(["-f", "human", "--width", "80", *extra], [path], quiet=False)[1]
        return text.replace(path, name)


def _parse(text: str, status: int) -> dict:
    if not text.strip():
        raise FaultlineError(f"faultline exited with status {status} without a report")
    return json.loads(text)


def cli_main(argv: Sequence[str]) -> int:
    return _native.run(list(argv))


