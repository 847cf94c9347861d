#!/usr/bin/env python3
"""Generates a large, realistic application log for benchmarks.

Mostly healthy lines (INFO messages, urllib3 DEBUG access lines with 2xx),
with a failing exchange every ~2,000 lines: requests tracebacks with JSON
bodies, Genesys SDK ApiExceptions, curl -v transcripts and JSON-lines records.
Deterministic (seeded), so runs are comparable.

usage: gen_corpus.py OUT MEGABYTES
"""
import random
import sys

out, megabytes = sys.argv[1], int(sys.argv[2])
rng = random.Random(42)
hosts = ["api.mypurecloud.com", "api.mypurecloud.ie", "api.apne2.pure.cloud", "api.usw2.pure.cloud"]
paths = ["/api/v2/analytics/conversations/details/query", "/api/v2/users", "/api/v2/routing/queues",
         "/api/v2/analytics/conversations/aggregates/query"]

failures = [
    lambda h, p: (
        'Traceback (most recent call last):\n  File "etl.py", line 88, in fetch\n    resp.raise_for_status()\n'
        f"requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://{h}{p}\n"
        '{"message":"Unable to perform the requested action. You are missing the following permission(s): '
        'analytics:conversationDetail:view","code":"missing.permissions","status":403,"contextId":"c0ffee00-1111-2222-3333-444455556666","details":[],"errors":[]}\n'
    ),
    lambda h, p: (
        f'DEBUG:urllib3.connectionpool:https://{h}:443 "POST {p} HTTP/1.1" 429 None\n'
        "PureCloudPlatformClientV2.rest.ApiException: (429)\nReason: Too Many Requests\n"
        "HTTP response headers: HTTPHeaderDict({'Content-Type': 'application/json', 'Retry-After': '42'})\n"
        'HTTP response body: {"message":"Rate limit exceeded the maximum. Retry the request in [42] seconds",'
        '"code":"too.many.requests.retry.after","status":429,"details":[],"errors":[]}\n'
    ),
    lambda h, p: (
        f"> POST /oauth/token HTTP/1.1\n> Host: {h.replace('api.', 'login.')}\n> Authorization: Basic c2VjcmV0OnNlY3JldA==\n>\n"
        "< HTTP/1.1 400 Bad Request\n< Content-Type: application/json\n<\n"
        '{"error":"invalid_client","description":"authentication failed","error_description":"authentication failed"}\n'
    ),
    lambda h, p: (
        f'{{"ts":"2026-11-24T03:00:0{rng.randint(0,9)}Z","level":"error","msg":"call failed","method":"GET",'
        f'"url":"https://{h}{p}","status":401,"response":{{"message":"Invalid login credentials.","code":"bad.credentials","status":401}}}}\n'
    ),
]

target = megabytes << 20
written = 0
n = 0
with open(out, "w") as f:
    while written < target:
        n += 1
        h, p = rng.choice(hosts), rng.choice(paths)
        if n % 2000 == 0:
            chunk = rng.choice(failures)(h, p) + "\n"
        elif n % 3 == 0:
            chunk = f'2026-11-24 03:00:{n % 60:02d},{n % 1000:03d} DEBUG urllib3.connectionpool https://{h}:443 "GET {p}?pageSize=100&pageNumber={n % 50} HTTP/1.1" 200 {rng.randint(200, 90000)}\n'
        else:
            chunk = f"2026-11-24 03:00:{n % 60:02d},{n % 1000:03d} INFO etl.loader: wrote batch {n} ({rng.randint(1, 500)} rows) to warehouse table conversations_{n % 7}\n"
        f.write(chunk)
        written += len(chunk)
