"""faultline explains, offline, why an API call failed.

Three ways in:

- :func:`analyze` / :func:`analyze_file`: a saved log, a traceback, a
  response body → a :class:`Report` (diagnoses, incidents, problems);
- :func:`explain`: a live exception from requests, httpx, urllib, aiohttp or
  the Genesys SDK (or any exception whose chain carries one) → a report on
  the whole failing exchange, body and headers included;
  :func:`install` adds the top diagnosis to uncaught HTTP errors and to
  ``logger.exception(...)`` records;
- :func:`analyze_lines` / :func:`analyze_partition` / :func:`analyze_files`:
  flat records for Dask, Spark or pandas (python/recipes/).

The analysis is the ``faultline`` command line's, run in-process (the same
rules: built-in, plus ``rules=`` directories and the ones the CLI
discovers); nothing leaves the machine, and every text in a report has its
secrets masked.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Iterable, List, Optional, Union

from . import _native
from ._explain import exception_text, lines_of
from ._hooks import FaultlineFilter, install, uninstall
from ._report import Diagnosis, Evidence, Incident, Problem, Report
from ._run import FaultlineError, PathLike, RulesArg, human_report, json_report, rule_args

__version__: str = _native.__version__

__all__ = [
    "RECORD_FIELDS",
    "Diagnosis", "Evidence", "FaultlineError", "FaultlineFilter", "Incident", "Problem", "Report",
    "analyze", "analyze_file", "analyze_files", "analyze_lines", "analyze_partition", "explain",
    "install", "mask", "records", "uninstall",
]


def mask(text: str) -> str:
    """``text`` with the secrets faultline recognises masked (bearer and
    Basic credentials, client secrets, passwords, tokens, JWT signatures,
    cookies), as in its reports."""
    return _native.mask(text)


def _report_of_bytes(data: bytes, name: str, rules: RulesArg, builtin: bool) -> Report:
    extra = rule_args(rules, builtin)
    return Report(
        json_report(data, name, [], extra),
        human=lambda: human_report(data, name, [], extra),
    )


def analyze(
    text_or_bytes: Union[str, bytes],
    *,
    rules: RulesArg = None,
    builtin: bool = True,
    name: str = "<input>",
) -> Report:
    """Analyses a log, traceback, curl transcript, HAR or response body.

    :param text_or_bytes: the text (bytes may be gzip-compressed).
    :param rules: a directory or file of your own TOML rules, or a list of them
        (the CLI's ``--rules``).
    :param builtin: ``False`` to use only your rules (``--no-builtin``).
    :param name: the source name the report gives the text.
    """
    data = text_or_bytes.encode("utf-8") if isinstance(text_or_bytes, str) else bytes(text_or_bytes)
    return _report_of_bytes(data, name, rules, builtin)


def analyze_file(path: PathLike, *, rules: RulesArg = None, builtin: bool = True) -> Report:
    """Analyses a file or a directory of logs (read by the CLI itself:
    gzip, directories and binary-file skipping as on the command line)."""
    files = [os.fspath(path)]
    extra = rule_args(rules, builtin)
    return Report(json_report(None, "", files, extra), human=lambda: human_report(None, "", files, extra))


def analyze_files(paths: Iterable[PathLike], *, rules: RulesArg = None, builtin: bool = True) -> List[Dict[str, Any]]:
    """Flat records (see :func:`records`) for files on a local or mounted
    filesystem, analysed in one run: the fastest way on a cluster worker."""
    files = [os.fspath(p) for p in paths]
    if not files:
        return []
    return records(Report(json_report(None, "", files, rule_args(rules, builtin))))


def explain(exc: BaseException, *, rules: RulesArg = None, builtin: bool = True) -> Report:
    """Explains a live exception.

    Finds, in ``exc`` or its chain (``__cause__``/``__context__``), an
    exception from requests, httpx, urllib, aiohttp or the Genesys SDK
    (``PureCloudPlatformClientV2.rest.ApiException``), writes the failing
    exchange out (method, URL, request headers and body with secrets masked,
    status, response headers and body) followed by the traceback, and
    analyses it. Without such an exception only the traceback is analysed.
    No network call; only client libraries already imported are consulted.
    """
    text, _ = exception_text(exc)
    return _report_of_bytes(text.encode("utf-8", "replace"), "<exception>", rules, builtin)


RECORD_FIELDS = (
    "source", "line", "rule", "severity", "confidence", "title", "incident",
    "status", "host", "provider", "error",
)


def records(report: Report) -> List[Dict[str, Any]]:
    """One flat row per diagnosis: ``source``, ``line``, ``rule``,
    ``severity``, ``confidence``, ``title``, ``incident`` (the incident's id
    within its source's report; ``None`` for a note on the input), and the
    incident's ``status``, ``host``, ``provider`` and ``error``."""
    from urllib.parse import urlsplit

    by_id = {i.id: i for i in report.incidents}
    rows = []
    for d in report.diagnoses:
        inc = by_id.get(d.incident) if d.incident is not None else None
        host = None
        if inc is not None and inc.url:
            try:
                host = urlsplit(inc.url).hostname
            except ValueError:
                host = None
        rows.append({
            "source": d.source if d.source is not None else (inc.source if inc else None),
            "line": d.line,
            "rule": d.rule,
            "severity": d.severity,
            "confidence": d.confidence,
            "title": d.title,
            "incident": d.incident,
            "status": inc.status if inc else None,
            "host": host,
            "provider": d.provider,
            "error": inc.error if inc else None,
        })
    return rows


def analyze_lines(
    lines: Iterable[Union[str, bytes]],
    *,
    source: str = "<lines>",
    rules: RulesArg = None,
    builtin: bool = True,
) -> List[Dict[str, Any]]:
    """Analyses lines as one text named ``source``; returns flat records.

    The lines must be a whole file or a line-aligned piece whose incidents
    are not cut (partition by file: see :func:`analyze_partition`)."""
    text = lines_of(l.decode("utf-8", "replace") if isinstance(l, bytes) else l for l in lines)
    if not text:
        return []
    return records(analyze(text, rules=rules, builtin=builtin, name=source))


def analyze_partition(
    partition: Iterable[Any],
    *,
    source: str = "<partition>",
    rules: RulesArg = None,
    builtin: bool = True,
) -> List[Dict[str, Any]]:
    """Flat records for one partition of a Dask bag or Spark RDD.

    Each item may be

    - a line (``str``/``bytes``): the whole partition is one text named ``source``;
    - a ``(line, path)`` pair, as ``dask.bag.read_text(..., include_path=True)``
      gives: consecutive lines of the same path are analysed together;
    - a ``(path, content)`` pair with ``bytes`` content, as Spark's
      ``binaryFiles`` gives: each file alone.

    Partition by file (Dask: ``blocksize=None``; Spark: ``binaryFiles``), so
    that no failing exchange is split between two partitions.
    """
    rows: List[Dict[str, Any]] = []
    group: List[str] = []
    group_source: Optional[str] = None

    def flush() -> None:
        if group:
            rows.extend(analyze_lines(group, source=group_source or source, rules=rules, builtin=builtin))
            group.clear()

    for item in partition:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], (bytes, bytearray)):
            flush()
            path, content = item
            rows.extend(records(analyze(bytes(content), rules=rules, builtin=builtin, name=str(path))))
            continue
        if isinstance(item, tuple) and len(item) == 2:
            line, path = item
            if path != group_source:
                flush()
                group_source = path
        else:
            line = item
        group.append(line.decode("utf-8", "replace") if isinstance(line, bytes) else line)
    flush()
    return rows
