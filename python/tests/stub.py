"""A loopback stub that plays the Genesys login and API hosts, reached as an
HTTP forward proxy (clients keep the real host names in their URLs, and
nothing leaves 127.0.0.1). Its bodies are the shapes the repository's
capture stub (fixtures/capture/stub_server.py) takes from the knowledge
files, plus the seed case's reported 403 invalid_grant for a token request
sent to the API host."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

ACCESS_TOKEN = "stub-access-token-4f9a7c1e2b8d4e6f9a0b1c2d3e4f5a6b"
UNKNOWN_CLIENT = "0b4e7d2a-1c3f-4e5a-9b8c-7d6e5f4a3b2c"

SEED_BODY = {
    "error": "invalid_grant",
    "error_description": "The client credentials are invalid or the grant type is not supported.",
}
CLIENT_NOT_FOUND = {"error": "invalid_client", "description": "client not found",
                    "error_description": "client not found"}
TOKEN_OK = {"access_token": ACCESS_TOKEN, "token_type": "bearer", "expires_in": 86400}


def api_error(status, code, message, ctx):
    return {"message": message, "code": code, "status": status, "contextId": ctx,
            "details": [], "errors": []}


class Handler(BaseHTTPRequestHandler):
    server_version = "faultline-test-stub/1"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet
        pass

    def _send(self, status, obj, extra=()):
        data = json.dumps(obj, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _client_id(self):
        auth = self.headers.get("Authorization") or ""
        if auth.startswith("Basic "):
            try:
                return base64.b64decode(auth[6:]).decode().split(":", 1)[0]
            except Exception:
                return None
        return None

    def _handle(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        target = urlsplit(self.path)
        host = (target.hostname or self.headers.get("Host") or "").split(":")[0]
        path = target.path if target.scheme else self.path.split("?", 1)[0]
        ctx = str(uuid.uuid4())
        corr = [("ININ-Correlation-Id", ctx)]
        if path == "/oauth/token":
            if host.startswith("api."):
                return self._send(403, SEED_BODY, corr)
            if self._client_id() == UNKNOWN_CLIENT:
                return self._send(400, CLIENT_NOT_FOUND, corr)
            return self._send(200, TOKEN_OK, corr)
        if path.startswith("/api/v2/analytics/conversations/aggregates"):
            perm = "analytics:conversationAggregate:view"
            return self._send(403, api_error(
                403, "missing.permissions",
                "Unable to perform the requested action. You are missing the following permission(s): " + perm,
                ctx), corr)
        return self._send(404, api_error(404, "not.found", "The requested resource was not found.", ctx), corr)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


class Stub:
    """The running stub; ``proxy`` is its URL as an HTTP proxy."""

    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.proxy = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
