"""Opt-in hooks: the top diagnosis appended to uncaught HTTP errors and to
logged exceptions (``logger.exception(...)``, ``exc_info=True``)."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from typing import Any, Optional

_state: dict = {}


def summary_for(exc: BaseException) -> Optional[str]:
    """The top diagnosis of ``exc`` as a few lines, or ``None`` when its
    chain carries no HTTP failure or nothing explains it. Never raises:
    a hook must not hide the user's own error behind one of ours."""
    from . import explain
    from ._explain import exchange_of

    try:
        if exchange_of(exc) is None:
            return None
        top = explain(exc).top
        return top.summary() if top is not None else None
    except Exception:
        return None


def _excepthook(exc_type, exc, tb) -> None:
    _state["excepthook"](exc_type, exc, tb)
    if exc is not None:
        text = summary_for(exc)
        if text:
            print(text, file=sys.stderr)


def _thread_excepthook(args: Any) -> None:
    _state["threading_excepthook"](args)
    if args.exc_value is not None:
        text = summary_for(args.exc_value)
        if text:
            print(text, file=sys.stderr)


def annotate(record: logging.LogRecord) -> None:
    """Adds the top diagnosis after the record's traceback (once)."""
    if getattr(record, "faultline", None) is not None or not record.exc_info:
        return
    exc = record.exc_info[1] if isinstance(record.exc_info, tuple) else None
    text = summary_for(exc) if isinstance(exc, BaseException) else None
    record.faultline = text or ""
    if text:
        # Formatters print exc_text when set; it is what they would have
        # printed, with the diagnosis after it.
        tb = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = f"{tb}\n{text}"


class FaultlineFilter(logging.Filter):
    """A logging filter that appends the top diagnosis to records carrying an
    HTTP exception. Add it to a handler (``handler.addFilter(...)``) to
    annotate only what that handler writes; :func:`install` covers every
    record instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        annotate(record)
        return True


def _record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _state["record_factory"](*args, **kwargs)
    if record.exc_info:
        annotate(record)
    return record


def install() -> None:
    """Appends faultline's top diagnosis (title, fix, source) to uncaught
    HTTP errors (``sys.excepthook``, ``threading.excepthook``) and to every
    logging record that carries one (through the log-record factory, so
    every logger and handler sees it). Idempotent; :func:`uninstall` undoes it."""
    if _state:
        return
    _state["excepthook"] = sys.excepthook
    _state["threading_excepthook"] = threading.excepthook
    _state["record_factory"] = logging.getLogRecordFactory()
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook
    logging.setLogRecordFactory(_record_factory)


def uninstall() -> None:
    """Restores the hooks :func:`install` replaced (those still ours)."""
    if not _state:
        return
    if sys.excepthook is _excepthook:
        sys.excepthook = _state["excepthook"]
    if threading.excepthook is _thread_excepthook:
        threading.excepthook = _state["threading_excepthook"]
    if logging.getLogRecordFactory() is _record_factory:
        logging.setLogRecordFactory(_state["record_factory"])
    _state.clear()
