import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from stub import Stub  # noqa: E402

# What the tests send, and what must never appear in anything faultline
# renders: the client secret, the Basic credentials it is sent in, and the
# bearer token the stub issues.
CLIENT_ID = "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"
CLIENT_SECRET = "Zq8vR2mT5xW9yB3nK7pL1sD4fG6hJ0cVaE2uI8oQ"


def basic(client_id=CLIENT_ID, secret=CLIENT_SECRET):
    import base64

    return base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture(scope="session")
def stub():
    with Stub() as s:
        yield s


@pytest.fixture
def no_proxy_env(monkeypatch):
    for k in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(k, raising=False)
