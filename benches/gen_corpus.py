#!/usr/bin/env python3
"""Generates a large mixed log for benchmarks, deterministic (seeded).

What a day of logs from a fleet looks like: the vast majority healthy lines
(app INFO/DEBUG lines, urllib3 2xx access lines, nginx access lines, JSON-lines
info records, a few near misses such as "error_count=0"), and here and there a
failure, in the shapes of fixtures/captured/ and tests/field/cases/ with their
values varied (hosts, regions, ids, timestamps, codes):

  Python requests tracebacks (raise_for_status, with and without a body),
  Genesys Python SDK ApiExceptions, curl -v transcripts, Node/Java/.NET
  one-liners, proxy 502 HTML pages, OAuth token errors (Genesys, Entra
  AADSTS, Google, Okta, GitHub, Slack, AWS XML, Stripe, Salesforce),
  JSON-lines error records, transport errors, and exchanges that failed and
  were retried until they succeeded.

Every secret-shaped value (Basic credentials, bearer tokens) is a fake made
from the seeded generator, never a real one.

usage:
  gen_corpus.py OUT [--size 1G] [--seed 42] [--density N] [--distinct] [--files K]
  gen_corpus.py OUT MEGABYTES            (the older form, still accepted)

  --size       bytes to write: 1G, 256M, 512K or a plain number of bytes
  --density    multiplies the failure density (1: about one failure every
               2,000 lines; 10: every 200; 2000 or more: failures only)
  --distinct   every failure is distinct (unique URL, ids and message), so
               nothing can be folded: the worst case for memory
  --files K    OUT is a directory of K files of SIZE/K bytes each
  --stats      print what was written (failures by kind) to stderr

Writes in blocks, so memory stays bounded whatever the size; 1 GiB takes
well under a minute.
"""
import argparse
import os
import random
import sys

BASE_RATE = 1 / 2000  # failures per noise line at density 1
BLOCK_LINES = 512  # noise lines per write; they share a timestamp second


def parse_size(text):
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    num = text[:-1] if text[-1:] in "KMG" else text
    return int(float(num) * mult)


# --- values -----------------------------------------------------------------

GENESYS_API = ["api.mypurecloud.com", "api.mypurecloud.ie", "api.mypurecloud.de", "api.apne2.pure.cloud",
               "api.usw2.pure.cloud", "api.euw2.pure.cloud", "api.cac1.pure.cloud", "api.mypurecloud.com.au"]
GENESYS_PATHS = ["/api/v2/analytics/conversations/details/query", "/api/v2/users", "/api/v2/routing/queues",
                 "/api/v2/analytics/conversations/aggregates/query", "/api/v2/conversations/calls",
                 "/api/v2/recording/jobs", "/api/v2/users/me", "/api/v2/routing/wrapupcodes"]
GENESYS_PERMS = ["analytics:conversationDetail:view", "analytics:conversationAggregate:view",
                 "routing:queue:view", "recording:job:add", "directory:user:view", "conversation:call:view"]
OTHER_HOSTS = ["api.internal.example.com", "billing.example.net", "orders.svc.example.org",
               "inventory-api.example.com", "reports.example.io"]
OTHER_PATHS = ["/v1/orders", "/v2/customers/search", "/v1/items?limit=100", "/v3/reports/daily", "/v1/sync"]
LOGGERS = ["etl.loader", "etl.extract", "app.worker", "sync.scheduler", "api.gateway", "billing.jobs",
           "reports.export", "auth.cache", "queue.consumer", "web.request"]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1"]


class Values:
    """Varied values drawn from one seeded generator; `unique` adds a counter
    so that every failure differs (--distinct)."""

    def __init__(self, rng, distinct, first=0):
        self.r = rng
        self.distinct = distinct
        self.n = first

    def pick(self, seq):
        return seq[int(self.r.random() * len(seq))]

    def guid(self):
        h = "%032x" % self.r.getrandbits(128)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def hexid(self, n):
        return "%0*x" % (n, self.r.getrandbits(4 * n))

    def num(self, lo, hi):
        return self.r.randint(lo, hi)

    def fake_token(self):
        # Obviously fake, but long and opaque like a real one.
        return "fake" + self.hexid(40)

    def fake_basic(self):
        import base64
        pair = f"fake-client-{self.hexid(8)}:fake-secret-{self.hexid(16)}"
        return base64.b64encode(pair.encode()).decode()

    def tag(self):
        """A suffix that makes a path or message unique in --distinct mode."""
        if not self.distinct:
            return ""
        self.n += 1
        return f"/{self.n}"

    def word(self):
        if not self.distinct:
            return ""
        return f" (item {self.n})"


# --- noise --------------------------------------------------------------------

def noise_pool(v, size=6000):
    """Healthy line bodies (after the timestamp), generated once and drawn from
    at random: cheap per line, yet thousands of distinct lines."""
    pool = []
    for i in range(size):
        k = i % 20
        lg = v.pick(LOGGERS)
        host = v.pick(GENESYS_API + OTHER_HOSTS)
        if k < 7:
            pool.append(("p", f" INFO {lg}: wrote batch {v.num(1, 99999)} ({v.num(1, 500)} rows) to warehouse table "
                              f"conversations_{v.num(0, 9)}"))
        elif k < 10:
            path = v.pick(GENESYS_PATHS) if "pure" in host else v.pick(OTHER_PATHS).split("?")[0]
            pool.append(("p", f' DEBUG urllib3.connectionpool: https://{host}:443 "GET {path}?pageSize=100&pageNumber='
                              f'{v.num(1, 60)} HTTP/1.1" 200 {v.num(200, 90000)}'))
        elif k < 12:
            pool.append(("j", f'"level":"info","logger":"{lg}","msg":"request completed","method":"GET",'
                              f'"url":"https://{host}{v.pick(OTHER_PATHS)}","status":200,"duration_ms":{v.num(3, 900)},'
                              f'"request_id":"{v.guid()}"}}'))
        elif k < 14:
            pool.append(("n", f'10.{v.num(0, 255)}.{v.num(0, 255)}.{v.num(1, 254)} - - "GET {v.pick(OTHER_PATHS)} '
                              f'HTTP/1.1" {v.pick([200, 200, 200, 204, 304])} {v.num(0, 40000)} "-" '
                              f'"python-requests/2.31.0"'))
        elif k == 14:
            pool.append(("p", f" DEBUG {lg}: cache hit for key user:{v.hexid(12)} (ttl {v.num(1, 3600)} s)"))
        elif k == 15:
            # Near misses: failure words in healthy lines.
            pool.append(("p", f" INFO {lg}: health check ok, error_count=0 retries=0 last_status=200"))
        elif k == 16:
            pool.append(("p", f" INFO auth.cache: access token refreshed for client {v.guid()}, expires in 3599 s"))
        elif k == 17:
            pool.append(("p", f" WARN {lg}: slow query took {v.num(1000, 9000)} ms (threshold 1000 ms)"))
        elif k == 18:
            pool.append(("p", f" INFO {lg}: processed {v.num(1, 4000)} events from partition {v.num(0, 31)} "
                              f"offset {v.num(10**6, 10**9)}"))
        else:
            pool.append(("p", f" DEBUG urllib3.connectionpool: Starting new HTTPS connection (1): {host}:443"))
    return pool


# --- failures -----------------------------------------------------------------
# Each takes (v, ts) where ts is the plain-log timestamp "YYYY-MM-DD HH:MM:SS,mmm"
# and returns the lines of one failure, ending in "\n".

def f_requests_body(v, ts):
    h, p, perm, t = v.pick(GENESYS_API), v.pick(GENESYS_PATHS), v.pick(GENESYS_PERMS), v.tag()
    return (f'{ts} DEBUG urllib3.connectionpool: https://{h}:443 "POST {p}{t} HTTP/1.1" 403 253\n'
            "Traceback (most recent call last):\n"
            f'  File "/srv/etl/{v.pick(["etl.py", "sync.py", "export.py"])}", line {v.num(20, 400)}, in fetch\n'
            "    resp.raise_for_status()\n"
            "  File \"/usr/lib/python3.11/site-packages/requests/models.py\", line 1021, in raise_for_status\n"
            "    raise HTTPError(http_error_msg, response=self)\n"
            f"requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://{h}{p}{t}\n"
            '{"message":"Unable to perform the requested action. You are missing the following permission(s): '
            f'{perm}","code":"missing.permissions","status":403,"contextId":"{v.guid()}","details":[],"errors":[]}}\n')


def f_requests_bare(v, ts):
    code, reason = v.pick([(401, "Unauthorized"), (404, "Not Found"), (500, "Internal Server Error"),
                           (503, "Service Unavailable")])
    kind = "Client" if code < 500 else "Server"
    h, p, t = v.pick(OTHER_HOSTS + GENESYS_API), v.pick(OTHER_PATHS), v.tag()
    return (f"{ts} ERROR {v.pick(LOGGERS)}: sync failed\n"
            "Traceback (most recent call last):\n"
            f'  File "/srv/app/client.py", line {v.num(20, 400)}, in get\n'
            "    r.raise_for_status()\n"
            f"requests.exceptions.HTTPError: {code} {kind} Error: {reason} for url: https://{h}{p}{t}\n")


def f_sdk_429(v, ts):
    h, p, s = v.pick(GENESYS_API), v.pick(GENESYS_PATHS), v.num(1, 60)
    return (f'{ts} DEBUG urllib3.connectionpool: https://{h}:443 "POST {p}{v.tag()} HTTP/1.1" 429 None\n'
            "PureCloudPlatformClientV2.rest.ApiException: (429)\nReason: Too Many Requests\n"
            f"HTTP response headers: HTTPHeaderDict({{'Content-Type': 'application/json', 'Retry-After': '{s}', "
            f"'inin-correlation-id': '{v.guid()}'}})\n"
            f'HTTP response body: {{"message":"Rate limit exceeded the maximum. Retry the request in [{s}] seconds",'
            f'"code":"too.many.requests.retry.after","status":429,"details":[],"errors":[]}}\n')


def f_curl_token(v, ts):
    host, path, body = v.pick([
        ("login.mypurecloud.com", "/oauth/token",
         '{"error":"invalid_client","description":"authentication failed","error_description":"authentication failed"}'),
        ("dev-{n}.okta.com", "/oauth2/default/v1/token",
         '{"error":"invalid_client","error_description":"The client secret supplied for a confidential client is invalid."}'),
        ("login.microsoftonline.com", "/{tenant}/oauth2/v2.0/token",
         '{"error":"unauthorized_client","error_description":"AADSTS700016: Application with identifier \'{app}\' was '
         'not found in the directory \'Contoso\'.","error_codes":[700016]}'),
        ("oauth2.googleapis.com", "/token", '{"error": "invalid_grant", "error_description": "Bad Request"}'),
    ])
    host = host.replace("{n}", str(v.num(100000, 999999)))
    path = path.replace("{tenant}", v.guid()) + v.tag()
    body = body.replace("{app}", v.guid())
    status = "401 Unauthorized" if "okta" in host else "400 Bad Request"
    return (f"*   Trying 203.0.113.{v.num(1, 254)}:443...\n* Connected to {host} port 443 (#0)\n"
            f"> POST {path} HTTP/1.1\n> Host: {host}\n> User-Agent: curl/8.5.0\n"
            f"> Authorization: Basic {v.fake_basic()}\n> Content-Type: application/x-www-form-urlencoded\n>\n"
            f"< HTTP/1.1 {status}\n< Content-Type: application/json\n< Content-Length: {len(body)}\n<\n"
            f"{body}\n* Connection #0 to host {host} left intact\n")


def f_node(v, ts):
    h, p, code = v.pick(GENESYS_API), v.pick(GENESYS_PATHS), v.pick(["bad.credentials", "not.a.user"])
    status = 401 if code == "bad.credentials" else 400
    return (f"{ts} ERROR {v.pick(LOGGERS)}: Request failed with status code {status} (GET https://{h}{p}{v.tag()})\n"
            f"{{ message: '{'Invalid login credentials.' if status == 401 else 'This request requires a user context.'}',"
            f" code: '{code}', status: {status}, contextId: '{v.guid()}', details: [], errors: [] }}\n")


def f_java(v, ts):
    h, p, t = v.pick(OTHER_HOSTS), v.pick(OTHER_PATHS), v.tag()
    return v.pick([
        f"{ts} ERROR {v.pick(LOGGERS)}: java.io.IOException: Server returned HTTP response code: 403 for URL: "
        f"https://{h}{p}{t}\n",
        f"{ts} ERROR {v.pick(LOGGERS)}: org.springframework.web.client.HttpClientErrorException$Unauthorized: "
        f'401 Unauthorized: "{{"error":"invalid_token","error_description":"Access token expired{v.word()}"}}"\n',
    ])


def f_dotnet(v, ts):
    code, reason = v.pick([(403, "Forbidden"), (401, "Unauthorized"), (404, "Not Found"), (503, "Service Unavailable")])
    return (f"{ts} ERROR {v.pick(LOGGERS)}: System.Net.Http.HttpRequestException: Response status code does not "
            f"indicate success: {code} ({reason}).{v.word()}\n"
            "   at System.Net.Http.HttpResponseMessage.EnsureSuccessStatusCode()\n"
            f"   at Contoso.Sync.ApiClient.GetAsync(String path) in /src/ApiClient.cs:line {v.num(20, 300)}\n")


def f_proxy_502(v, ts):
    h, p = v.pick(OTHER_HOSTS), v.pick(OTHER_PATHS)
    return (f"{ts} ERROR {v.pick(LOGGERS)}: upstream call POST https://{h}{p}{v.tag()} returned 502:\n"
            "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n"
            "<hr><center>nginx/1.24.0</center>\n</body>\n</html>\n")


def f_entra(v, ts):
    code, text = v.pick([
        (7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret "
                  "value, not the client secret ID, for a secret added to app '{app}'."),
        (7000222, "The provided client secret keys for app '{app}' are expired. Visit the Azure portal to create new "
                  "keys for your app."),
        (700016, "Application with identifier '{app}' was not found in the directory 'Contoso'."),
        (65001, "The user or administrator has not consented to use the application with ID '{app}'."),
    ])
    text = text.replace("{app}", v.guid()) + v.word()
    trace, corr = v.guid(), v.guid()
    return (f"{ts} ERROR msal.token_cache: token acquisition failed: "
            f'{{"error":"invalid_client","error_description":"AADSTS{code}: {text} Trace ID: {trace} Correlation ID: '
            f'{corr} Timestamp: 2026-11-24 03:{v.num(10, 59)}:{v.num(10, 59)}Z","error_codes":[{code}],'
            f'"trace_id":"{trace}","correlation_id":"{corr}",'
            f'"error_uri":"https://login.microsoftonline.com/error?code={code}"}}\n')


def f_google(v, ts):
    proj = v.num(10**11, 10**12 - 1)
    return v.pick([
        f'{ts} WARNING googleapiclient.http: Encountered 403 Forbidden with reason "accessNotConfigured"\n'
        f"{ts} ERROR core.utils: API error in get_events: <HttpError 403 when requesting "
        f"https://www.googleapis.com/calendar/v3/calendars/primary/events{v.tag()}?alt=json returned \"Google Calendar "
        f"API has not been used in project {proj} before or it is disabled. Enable it by visiting "
        f"https://console.developers.google.com/apis/api/calendar-json.googleapis.com/overview?project={proj} then "
        "retry.\">\n",
        f"{ts} ERROR google.auth.transport: refresh failed: google.auth.exceptions.RefreshError: ('invalid_grant: "
        f"Token has been expired or revoked.{v.word()}', {{'error': 'invalid_grant', 'error_description': "
        "'Token has been expired or revoked.'})\n",
        f'{ts} ERROR gcs.client: {{"error":{{"code":403,"message":"The caller does not have permission{v.word()}",'
        '"status":"PERMISSION_DENIED"}}\n',
    ])


def f_okta(v, ts):
    return (f'{{"ts":"{ts[:10]}T{ts[11:19]}.{ts[20:23]}Z","level":"error","msg":"okta call failed","method":"GET",'
            f'"url":"https://dev-{v.num(100000, 999999)}.okta.com/api/v1/users{v.tag()}","status":401,'
            f'"response":{{"errorCode":"E0000011","errorSummary":"Invalid token provided{v.word()}",'
            f'"errorLink":"E0000011","errorId":"oae{v.hexid(19)}","errorCauses":[]}}}}\n')


def f_github(v, ts):
    return v.pick([
        f'{ts} ERROR ci.sync: GET https://api.github.com/repos/contoso/app{v.tag()}/pulls -> 401 '
        '{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}\n',
        f"Error: You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you "
        f"reach out to GitHub Support for help, please include the request ID {v.hexid(4).upper()}:"
        f"{v.hexid(6).upper()}:{v.hexid(7).upper()}:{v.hexid(7).upper()}:{v.hexid(8).upper()}.{v.word()}\n",
    ])


def f_slack(v, ts):
    err = v.pick(["invalid_auth", "not_in_channel", "channel_not_found", "missing_scope", "account_inactive"])
    return (f"POST https://slack.com/api/chat.postMessage{v.tag()} HTTP/1.1\nHost: slack.com\n"
            f"Authorization: Bearer {v.fake_token()}\n\nHTTP/1.1 200 OK\n"
            f"Content-Type: application/json; charset=utf-8\nX-Slack-Req-Id: {v.hexid(32)}\n\n"
            f'{{"ok":false,"error":"{err}"}}\n')


def f_aws(v, ts):
    rid = v.hexid(16).upper()
    return v.pick([
        f"{ts} ERROR s3sync: botocore.exceptions.ClientError: An error occurred (ExpiredToken) when calling the "
        f"GetObject operation: The provided token has expired.{v.word()}\n",
        f"{ts} ERROR sts: AssumeRole failed (region {v.pick(REGIONS)}):\n"
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n  <Error>\n    <Type>Sender</Type>\n'
        f"    <Code>InvalidClientTokenId</Code>\n    <Message>The security token included in the request is invalid."
        f"{v.word()}</Message>\n  </Error>\n  <RequestId>{v.guid()}</RequestId>\n</ErrorResponse>\n",
        f'{ts} ERROR upload: PUT https://contoso-{v.hexid(6)}.s3.amazonaws.com/exports{v.tag()} -> 403\n'
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>AccessDenied</Code><Message>Access Denied{v.word()}</Message><RequestId>{rid}</RequestId>"
        f"<HostId>{v.hexid(40)}</HostId></Error>\n",
    ])


def f_stripe(v, ts):
    cus = "cus_" + v.hexid(14)
    return (f"{ts} ERROR billing.jobs: stripe call failed: HTTP 404 "
            f'{{"error":{{"code":"resource_missing","doc_url":"https://stripe.com/docs/error-codes/resource-missing",'
            f'"message":"No such customer: \'{cus}\'","param":"customer","type":"invalid_request_error"}}}}\n')


def f_salesforce(v, ts):
    return (f"{ts} ERROR crm.sync: query failed 401 https://contoso.my.salesforce.com/services/data/v59.0/query"
            f'{v.tag()} [{{"message":"Session expired or invalid{v.word()}","errorCode":"INVALID_SESSION_ID"}}]\n')


def f_jsonl(v, ts):
    h, p = v.pick(GENESYS_API), v.pick(GENESYS_PATHS)
    return (f'{{"ts":"{ts[:10]}T{ts[11:19]}.{ts[20:23]}Z","level":"error","msg":"call failed","method":"GET",'
            f'"url":"https://{h}{p}{v.tag()}","status":401,"response":{{"message":"Invalid login credentials.",'
            f'"code":"bad.credentials","status":401,"contextId":"{v.guid()}"}}}}\n')


def f_transport(v, ts):
    h = v.pick(OTHER_HOSTS)
    return v.pick([
        f"{ts} ERROR {v.pick(LOGGERS)}: requests.exceptions.ConnectionError: HTTPSConnectionPool(host='{h}', "
        f"port=443): Max retries exceeded with url: {v.pick(OTHER_PATHS)}{v.tag()} (Caused by "
        "NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f3a2c1e4d90>: Failed to establish a "
        "new connection: [Errno 111] Connection refused'))\n",
        f"curl: (28) Operation timed out after {v.num(10000, 60000)} milliseconds with 0 bytes received{v.word()}\n",
    ])


def f_retried(v, ts):
    # Failed, then retried to success: the same method and URL succeed later.
    h, p, code = v.pick(GENESYS_API), v.pick(GENESYS_PATHS) + v.tag(), v.pick([429, 503, 502])
    return (f'{ts} DEBUG urllib3.connectionpool: https://{h}:443 "GET {p} HTTP/1.1" {code} {v.num(0, 300)}\n'
            f"{ts} DEBUG urllib3.util.retry: Incremented Retry for (url='{p}'): Retry(total=2, connect=None, "
            "read=None, redirect=None, status=None)\n"
            f'{ts} DEBUG urllib3.connectionpool: https://{h}:443 "GET {p} HTTP/1.1" 200 {v.num(200, 90000)}\n')


# (generator, weight): tracebacks and token errors most common, as in real logs.
FAILURES = [
    (f_requests_body, 10), (f_requests_bare, 8), (f_sdk_429, 6), (f_curl_token, 5), (f_node, 5), (f_java, 5),
    (f_dotnet, 4), (f_proxy_502, 4), (f_entra, 6), (f_google, 5), (f_okta, 4), (f_github, 4), (f_slack, 4),
    (f_aws, 5), (f_stripe, 3), (f_salesforce, 3), (f_jsonl, 6), (f_transport, 4), (f_retried, 8),
]


def write_file(path, size, seed, density, distinct, counts, first=0):
    rng = random.Random(seed)
    v = Values(rng, distinct, first)
    pool = noise_pool(v)
    gens = [g for g, _ in FAILURES]
    cum = []
    total = 0
    for _, w in FAILURES:
        total += w
        cum.append(total)
    rate = min(1.0, BASE_RATE * density)
    failures_only = rate >= 1.0
    ms = [f"{i:03d}" for i in range(1000)]
    written = 0
    sec = 0  # seconds since 2026-11-24 00:00:00
    with open(path, "w", newline="\n") as f:
        while written < size:
            sec += 1
            day, rem = divmod(sec, 86400)
            stamp = f"2026-11-{24 + day % 6:02d} {rem // 3600:02d}:{rem // 60 % 60:02d}:{rem % 60:02d}"
            iso = stamp.replace(" ", "T")
            nginx = f' - - [{24 + day % 6}/Nov/2026:{stamp[11:]} +0000] "'
            out = []
            if not failures_only:
                bodies = rng.choices(pool, k=BLOCK_LINES)
                step = 1000 // BLOCK_LINES or 1
                for i, (style, body) in enumerate(bodies):
                    m = ms[(i * step) % 1000]
                    if style == "p":
                        out.append(f"{stamp},{m}{body}\n")
                    elif style == "j":
                        out.append(f'{{"ts":"{iso}.{m}Z",{body}\n')
                    else:
                        out.append(body.replace(' - - "', nginx, 1) + "\n")
            # Failures due in this block: the expected count, its fraction drawn.
            due = BLOCK_LINES * rate if not failures_only else 64
            k = int(due) + (rng.random() < due - int(due))
            for _ in range(k):
                x = rng.random() * total
                g = gens[next(i for i, c in enumerate(cum) if x < c)]
                ts = f"{stamp},{ms[int(rng.random() * 1000)]}"
                text = g(v, ts)
                counts[g.__name__] = counts.get(g.__name__, 0) + 1
                # Insert among the noise so failures are not all at block ends.
                out.insert(int(rng.random() * (len(out) + 1)), text)
            chunk = "".join(out)
            if written + len(chunk) > size:
                # Cut at a line boundary so the file ends with a whole line.
                cut = chunk.rfind("\n", 0, size - written)
                chunk = chunk[:cut + 1] if cut >= 0 else ""
                f.write(chunk)
                written += len(chunk)
                break
            f.write(chunk)
            written += len(chunk)
    return written


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("megabytes", nargs="?", type=int, help="older form of --size, in MiB")
    ap.add_argument("--size", default="1G")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--density", type=float, default=1.0)
    ap.add_argument("--distinct", action="store_true")
    ap.add_argument("--files", type=int, default=0)
    ap.add_argument("--stats", action="store_true")
    a = ap.parse_args()
    size = a.megabytes << 20 if a.megabytes is not None else parse_size(a.size)
    counts = {}
    if a.files > 0:
        os.makedirs(a.out, exist_ok=True)
        # Each file its own seed, and its own range of --distinct counters so
        # that failures stay distinct across files too.
        written = sum(write_file(os.path.join(a.out, f"app-{i:04d}.log"), size // a.files, a.seed + i, a.density,
                                 a.distinct, counts, i * 10**9) for i in range(a.files))
    else:
        written = write_file(a.out, size, a.seed, a.density, a.distinct, counts)
    if a.stats:
        print(f"wrote {written} bytes, {sum(counts.values())} failures", file=sys.stderr)
        for name, c in sorted(counts.items(), key=lambda kv: -kv[1]):
            print(f"  {name:18} {c}", file=sys.stderr)


if __name__ == "__main__":
    main()
