"""explain() on real exceptions from real clients talking to the loopback
stub, and no secret in any rendering."""

import asyncio
import base64
import json
import subprocess
import tempfile
import sys
import urllib.error
import urllib.request

import pytest

import faultline
from conftest import CLIENT_ID, CLIENT_SECRET, basic
from stub import ACCESS_TOKEN, UNKNOWN_CLIENT

SEED_URL = "http://api.mypurecloud.com/oauth/token"
SEED_RULE = "genesys.token-request-on-api-host"


def renderings(report):
    return {
        "str": str(report),
        "to_dict": json.dumps(report.to_dict()),
        "html": report._repr_html_(),
        "repr": repr(report),
    }


def assert_no_secrets(report, *secrets):
    secrets = secrets or (CLIENT_SECRET, basic(), ACCESS_TOKEN)
    for kind, text in renderings(report).items():
        for s in secrets:
            assert s not in text, f"secret {s[:6]}… in {kind}"


def assert_seed(report):
    assert report.top is not None
    assert report.top.rule == SEED_RULE
    incident = report.incidents[0]
    assert incident.status == 403
    # The body the traceback never printed: only the live response had it.
    assert incident.error == "invalid_grant"
    assert incident.method == "POST"
    assert_no_secrets(report)


def test_requests_http_error_seed_case(stub, no_proxy_env):
    requests = pytest.importorskip("requests")
    s = requests.Session()
    s.proxies = {"http": stub.proxy}
    r = s.post(SEED_URL, auth=(CLIENT_ID, CLIENT_SECRET), data={"grant_type": "client_credentials"})
    with pytest.raises(requests.HTTPError) as info:
        r.raise_for_status()
    assert "invalid_grant" not in str(info.value)  # what a log would have shown
    assert_seed(faultline.explain(info.value))


def test_requests_client_secret_in_form_body_is_masked(stub, no_proxy_env):
    requests = pytest.importorskip("requests")
    r = requests.post(
        SEED_URL,
        data={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        proxies={"http": stub.proxy},
    )
    try:
        r.raise_for_status()
    except requests.HTTPError as e:
        report = faultline.explain(e)
    assert report.top.rule == SEED_RULE
    assert_no_secrets(report)


def test_exception_chain_carrying_an_http_error(stub, no_proxy_env):
    requests = pytest.importorskip("requests")

    def fetch_token():
        r = requests.post(SEED_URL, auth=(CLIENT_ID, CLIENT_SECRET),
                          data={"grant_type": "client_credentials"}, proxies={"http": stub.proxy})
        r.raise_for_status()

    def etl():
        try:
            fetch_token()
        except requests.HTTPError as e:
            raise RuntimeError("nightly export failed") from e

    with pytest.raises(RuntimeError) as info:
        etl()
    assert_seed(faultline.explain(info.value))

    # implicit chaining (__context__) too
    try:
        try:
            fetch_token()
        except requests.HTTPError:
            raise KeyError("token")
    except KeyError as e:
        assert_seed(faultline.explain(e))


def test_httpx_status_error_seed_case(stub, no_proxy_env):
    httpx = pytest.importorskip("httpx")
    with httpx.Client(proxy=stub.proxy) as client:
        r = client.post(SEED_URL, auth=(CLIENT_ID, CLIENT_SECRET), data={"grant_type": "client_credentials"})
        with pytest.raises(httpx.HTTPStatusError) as info:
            r.raise_for_status()
    assert_seed(faultline.explain(info.value))


def test_urllib_http_error_seed_case_keeps_body_readable(stub, no_proxy_env):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": stub.proxy}))
    req = urllib.request.Request(
        SEED_URL, data=b"grant_type=client_credentials", method="POST",
        headers={"Authorization": "Basic " + basic(),
                 "Content-Type": "application/x-www-form-urlencoded"},
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        opener.open(req, timeout=10)
    assert_seed(faultline.explain(info.value))
    # explain() read the body; the caller can still read it.
    assert json.loads(info.value.read())["error"] == "invalid_grant"


def test_aiohttp_client_response_error(stub, no_proxy_env):
    aiohttp = pytest.importorskip("aiohttp")

    async def call():
        async with aiohttp.ClientSession() as session:
            async with session.post(
                SEED_URL, proxy=stub.proxy, data={"grant_type": "client_credentials"},
                headers={"Authorization": "Basic " + basic()},
            ) as r:
                r.raise_for_status()

    with pytest.raises(aiohttp.ClientResponseError) as info:
        asyncio.run(call())
    report = faultline.explain(info.value)
    # aiohttp keeps no body: the host and path alone name the cause.
    assert report.top.rule == SEED_RULE
    assert report.incidents[0].status == 403
    assert_no_secrets(report)


@pytest.fixture
def genesys_sdk(stub, no_proxy_env):
    sdk = pytest.importorskip("PureCloudPlatformClientV2")
    sdk.configuration.host = "http://api.mypurecloud.com"
    sdk.configuration.proxy = stub.proxy
    return sdk


def test_genesys_sdk_api_exception_token_client_not_found(genesys_sdk):
    from PureCloudPlatformClientV2.rest import ApiException

    with pytest.raises(ApiException) as info:
        genesys_sdk.api_client.ApiClient().get_client_credentials_token(UNKNOWN_CLIENT, CLIENT_SECRET)
    report = faultline.explain(info.value)
    assert report.top.rule == "genesys.token-client-not-found"
    incident = report.incidents[0]
    assert (incident.method, incident.status, incident.error) == ("POST", 400, "invalid_client")
    assert incident.url == "http://login.mypurecloud.com/oauth/token"
    assert_no_secrets(report, CLIENT_SECRET, basic(UNKNOWN_CLIENT, CLIENT_SECRET))


def test_genesys_sdk_api_exception_missing_permission(genesys_sdk):
    from PureCloudPlatformClientV2.rest import ApiException

    client = genesys_sdk.api_client.ApiClient().get_client_credentials_token(CLIENT_ID, CLIENT_SECRET)
    body = genesys_sdk.ConversationAggregationQuery()
    body.interval = "2024-05-01T00:00:00.000Z/2024-05-02T00:00:00.000Z"
    body.metrics = ["nOffered"]
    with pytest.raises(ApiException) as info:
        genesys_sdk.AnalyticsApi(client).post_analytics_conversations_aggregates_query(body)
    report = faultline.explain(info.value)
    assert report.top.rule == "genesys.analytics-aggregate-permission"
    assert report.incidents[0].method == "POST"
    assert_no_secrets(report, ACCESS_TOKEN, CLIENT_SECRET)


def test_explain_imports_no_client_library():
    code = (
        "import sys, faultline\n"
        "try:\n    raise ValueError('HTTP 403 for url: https://api.mypurecloud.com/oauth/token')\n"
        "except ValueError as e:\n    faultline.explain(e)\n"
        "loaded = [m for m in ('requests', 'httpx', 'aiohttp', 'PureCloudPlatformClientV2') if m in sys.modules]\n"
        "print(loaded)\n"
    )
    # From a directory without the package sources: `-c` puts the current
    # directory first on sys.path.
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=tempfile.gettempdir(),
    )
    assert out.stdout.strip() == "[]"


def test_install_appends_diagnosis_to_uncaught_error_and_logs(stub, tmp_path):
    pytest.importorskip("requests")
    script = tmp_path / "job.py"
    script.write_text(
        "import logging, sys, requests, faultline\n"
        "faultline.install()\n"
        "logging.basicConfig(stream=sys.stdout, format='%(levelname)s %(message)s')\n"
        f"r = requests.post({SEED_URL!r}, auth=({CLIENT_ID!r}, {CLIENT_SECRET!r}),\n"
        f"    data={{'grant_type': 'client_credentials'}}, proxies={{'http': {stub.proxy!r}}})\n"
        "try:\n    r.raise_for_status()\n"
        "except requests.HTTPError:\n    logging.getLogger('etl').exception('token request failed')\n"
        "r.raise_for_status()\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if "proxy" not in k.lower()}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env)
    assert out.returncode == 1
    # logged: the record's traceback, then the diagnosis
    assert "ERROR token request failed" in out.stdout
    assert f"[{SEED_RULE}, error" in out.stdout.split("requests.exceptions.HTTPError")[-1]
    # uncaught: Python's traceback, then the diagnosis
    assert out.stderr.index("requests.exceptions.HTTPError") < out.stderr.index(f"[{SEED_RULE}, error")
    assert "fix: " in out.stderr
    for text in (out.stdout, out.stderr):
        assert CLIENT_SECRET not in text and basic() not in text


def test_uninstall_restores_hooks():
    import logging

    before = (sys.excepthook, logging.getLogRecordFactory())
    faultline.install()
    assert sys.excepthook is not before[0]
    faultline.uninstall()
    assert (sys.excepthook, logging.getLogRecordFactory()) == before


def test_logging_filter_on_one_handler(stub, no_proxy_env):
    import io
    import logging

    requests = pytest.importorskip("requests")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(faultline.FaultlineFilter())
    log = logging.getLogger("faultline-test")
    log.addHandler(handler)
    log.propagate = False
    try:
        r = requests.post(SEED_URL, auth=(CLIENT_ID, CLIENT_SECRET), proxies={"http": stub.proxy},
                          data={"grant_type": "client_credentials"})
        try:
            r.raise_for_status()
        except requests.HTTPError:
            log.exception("token")
    finally:
        log.removeHandler(handler)
    assert f"[{SEED_RULE}, error" in stream.getvalue()
    assert CLIENT_SECRET not in stream.getvalue()


def test_explain_without_http_exception_analyses_the_traceback():
    try:
        raise ConnectionRefusedError(111, "Connection refused")
    except ConnectionRefusedError as e:
        report = faultline.explain(e)
    assert isinstance(report, faultline.Report)
    assert all(isinstance(d, faultline.Diagnosis) for d in report.diagnoses)
