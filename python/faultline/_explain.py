"""A live exception → the failing exchange as text → a report.

Only client libraries the process has already imported are looked at
(``sys.modules``): explaining never imports requests, httpx, aiohttp or the
Genesys SDK, and never makes a network call. The request side (headers and
body) is masked before it is analysed; the response is analysed as it came
(the report masks whatever it prints)."""

from __future__ import annotations

import io
import sys
import traceback
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, List, Optional, Tuple

from . import _native

# A response body beyond this is cut: error bodies are small, and an HTML
# error page's head says what it is.
MAX_BODY = 64 * 1024

Headers = List[Tuple[str, str]]


@dataclass
class Exchange:
    """What an exception reveals of the failed call."""

    method: Optional[str] = None
    url: Optional[str] = None
    status: Optional[int] = None
    reason: Optional[str] = None
    request_headers: Headers = field(default_factory=list)
    request_body: Optional[str] = None
    response_headers: Headers = field(default_factory=list)
    response_body: Optional[str] = None

    def text(self) -> str:
        """The exchange as a raw HTTP transcript (request, then response)."""
        out: List[str] = []
        if self.method or self.url:
            out.append(f"{self.method or 'GET'} {self.url or '/'} HTTP/1.1")
            out += [f"{k}: {v}" for k, v in self.request_headers]
            if self.request_body:
                out += ["", self.request_body]
            out.append("")
        if self.status:
            out.append(f"HTTP/1.1 {self.status} {self.reason or ''}".rstrip())
            out += [f"{k}: {v}" for k, v in self.response_headers]
            if self.response_body:
                out += ["", self.response_body]
        return "\n".join(out) + "\n"


def _decode(body: Any) -> Optional[str]:
    if body is None:
        return None
    if isinstance(body, (bytes, bytearray, memoryview)):
        body = bytes(body[:MAX_BODY]).decode("utf-8", "replace")
    elif not isinstance(body, str):
        return None  # a stream or generator: not read, it may be consumed
    return body[:MAX_BODY]


def _headers(h: Any) -> Headers:
    if not h:
        return []
    try:
        items = h.items() if hasattr(h, "items") else h
        return [(str(k), str(v)) for k, v in items]
    except Exception:  # an exotic mapping: leave it out rather than fail
        return []


def _masked(text: Optional[str]) -> Optional[str]:
    return _native.mask(text) if text else text


def _masked_headers(h: Headers) -> Headers:
    # Masked as header lines: a credential alone does not look like one.
    out = []
    for k, v in h:
        line = _native.mask(f"{k}: {v}")
        name, _, value = line.partition(": ")
        out.append((name, value))
    return out


def _mod(name: str) -> Any:
    return sys.modules.get(name)


def _from_requests(exc: BaseException) -> Optional[Exchange]:
    req_mod = _mod("requests.exceptions")
    if req_mod is None or not isinstance(exc, req_mod.RequestException):
        return None
    ex = Exchange()
    request = getattr(exc, "request", None)
    response = getattr(exc, "response", None)
    if request is None and response is not None:
        request = getattr(response, "request", None)
    if request is not None:
        ex.method = getattr(request, "method", None)
        ex.url = getattr(request, "url", None)
        ex.request_headers = _headers(getattr(request, "headers", None))
        ex.request_body = _decode(getattr(request, "body", None))
    if response is not None:
        ex.status = getattr(response, "status_code", None)
        ex.reason = getattr(response, "reason", None)
        ex.url = ex.url or getattr(response, "url", None)
        ex.response_headers = _headers(getattr(response, "headers", None))
        # Not `.content`: on a streamed response never read it would read
        # from the network. `_content` is the body already in memory (False
        # when unread).
        ex.response_body = _decode(getattr(response, "_content", None))
    return ex


def _from_httpx(exc: BaseException) -> Optional[Exchange]:
    httpx = _mod("httpx")
    if httpx is None or not isinstance(exc, (httpx.HTTPStatusError, httpx.RequestError)):
        return None
    ex = Exchange()
    try:
        request = exc.request
    except RuntimeError:  # a RequestError raised without its request
        request = None
    if request is not None:
        ex.method = request.method
        ex.url = str(request.url)
        ex.request_headers = _headers(request.headers.multi_items())
        try:
            ex.request_body = _decode(request.content)
        except Exception:  # a streaming request body was not read
            pass
    response = getattr(exc, "response", None)
    if response is not None:
        ex.status = response.status_code
        ex.reason = response.reason_phrase
        ex.response_headers = _headers(response.headers.multi_items())
        try:
            ex.response_body = _decode(response.content)
        except Exception:  # httpx.ResponseNotRead: a stream left unread
            pass
    return ex


def _from_urllib(exc: BaseException) -> Optional[Exchange]:
    err = _mod("urllib.error")
    if err is None or not isinstance(exc, err.HTTPError):
        return None
    ex = Exchange(status=exc.code, reason=str(exc.reason or ""), url=exc.url or exc.filename)
    ex.response_headers = _headers(exc.headers)
    ex.response_body = _decode(_urllib_body(exc))
    request = _local(exc, "req", lambda v: hasattr(v, "get_method") and hasattr(v, "full_url"))
    if request is not None:
        ex.method = request.get_method()
        ex.url = ex.url or request.full_url
        ex.request_headers = _headers(list(request.header_items()))
        ex.request_body = _decode(request.data)
    return ex


def _urllib_body(exc: Any) -> Optional[bytes]:
    """The body of an HTTPError, read once and put back so that the caller's
    own ``exc.read()`` still returns it."""
    cached = getattr(exc, "_faultline_body", None)
    if cached is not None:
        return cached
    fp = getattr(exc, "fp", None)
    if fp is None:
        return None
    try:
        data = exc.read()
    except Exception:
        return None
    replay = io.BytesIO(data)
    exc.fp = replay
    exc.__dict__["file"] = replay
    # tempfile's wrapper (HTTPError's base) caches bound methods of the old
    # file on the instance: drop them so reads go to the replay.
    for name in ("read", "readline", "readlines", "readinto", "read1", "close"):
        exc.__dict__.pop(name, None)
    exc._faultline_body = data
    return data


def _from_aiohttp(exc: BaseException) -> Optional[Exchange]:
    aiohttp = _mod("aiohttp")
    if aiohttp is None or not isinstance(exc, aiohttp.ClientResponseError):
        return None
    ex = Exchange(status=exc.status, reason=exc.message)
    ex.response_headers = _headers(exc.headers)
    info = exc.request_info
    if info is not None:
        ex.method = info.method
        ex.url = str(info.real_url or info.url)
        ex.request_headers = _headers(info.headers)
    return ex  # the body is gone with the released connection


def _from_genesys(exc: BaseException) -> Optional[Exchange]:
    # PureCloudPlatformClientV2.rest.ApiException: status, reason, body
    # (str) and headers (urllib3 HTTPHeaderDict); method and URL are only in
    # the SDK's RESTClientObject.request frame.
    rest = _mod("PureCloudPlatformClientV2.rest")
    if rest is None or not isinstance(exc, rest.ApiException):
        return None
    ex = Exchange(status=getattr(exc, "status", None) or None, reason=getattr(exc, "reason", None))
    ex.response_headers = _headers(getattr(exc, "headers", None))
    ex.response_body = _decode(getattr(exc, "body", None))
    for frame in _frames(exc):
        if frame.f_globals.get("__name__") != rest.__name__ or frame.f_code.co_name != "request":
            continue
        f = frame.f_locals
        if isinstance(f.get("url"), str):
            ex.method = str(f.get("method") or "") or None
            ex.url = f["url"]
            ex.request_headers = _headers(f.get("headers"))
            params = f.get("post_params")
            if params:
                from urllib.parse import urlencode

                ex.request_body = urlencode(list(params.items()) if hasattr(params, "items") else params)
            elif f.get("body") is not None:
                import json

                try:
                    ex.request_body = json.dumps(f["body"])
                except (TypeError, ValueError):
                    pass
            break
    return ex


_EXTRACTORS = (_from_requests, _from_httpx, _from_urllib, _from_aiohttp, _from_genesys)


def _frames(exc: BaseException) -> Iterator[Any]:
    tb = exc.__traceback__
    while tb is not None:
        yield tb.tb_frame
        tb = tb.tb_next


def _local(exc: BaseException, name: str, ok) -> Any:
    """A local variable of the traceback's frames, innermost first."""
    for frame in reversed(list(_frames(exc))):
        value = frame.f_locals.get(name)
        if value is not None and ok(value):
            return value
    return None


def chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, then its causes and contexts (each once)."""
    seen = set()
    todo = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [e.__cause__, e.__context__]


def exchange_of(exc: BaseException) -> Optional[Exchange]:
    """The first failing exchange any exception of the chain carries."""
    for e in chain(exc):
        for extract in _EXTRACTORS:
            try:
                ex = extract(e)
            except Exception:  # a client's internals changed: explain the rest
                ex = None
            if ex is not None:
                return ex
    return None


def exception_text(exc: BaseException) -> Tuple[str, bool]:
    """The text faultline analyses for ``exc``, and whether an HTTP exchange
    was found in its chain."""
    ex = exchange_of(exc)
    parts: List[str] = []
    if ex is not None:
        ex.request_headers = _masked_headers(ex.request_headers)
        ex.request_body = _masked(ex.request_body)
        parts.append(ex.text())
    # After the exchange, so that the traceback's last line joins it as one
    # incident rather than starting a second.
    parts.append("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    return "\n".join(parts), ex is not None


def lines_of(items: Iterable[str]) -> str:
    return "".join(s if s.endswith("\n") else s + "\n" for s in items)
