#!/usr/bin/env python3
"""Writes a multi-file log corpus for the cluster recipes and their tests:
OUT/<day>/<worker>.log, mostly healthy lines with a failing exchange every
~EVERY lines, in the shapes faultline reads (requests tracebacks with
bodies, Genesys SDK ApiExceptions, curl -v token calls, JSON-lines records).
Deterministic (seeded per file), like benches/gen_corpus.py.

usage: make_corpus.py OUT --files N --mib TOTAL [--every LINES]
"""

import argparse
import os
import random

HOSTS = ["api.mypurecloud.com", "api.mypurecloud.ie", "api.apne2.pure.cloud", "api.usw2.pure.cloud"]
PATHS = ["/api/v2/analytics/conversations/details/query", "/api/v2/users", "/api/v2/routing/queues",
         "/api/v2/analytics/conversations/aggregates/query"]


def failure(rng, h, p):
    kind = rng.randrange(5)
    if kind == 0:
        return (
            'Traceback (most recent call last):\n  File "etl.py", line 88, in fetch\n    resp.raise_for_status()\n'
            f"requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://{h}{p}\n"
            '{"message":"Unable to perform the requested action. You are missing the following permission(s): '
            'analytics:conversationDetail:view","code":"missing.permissions","status":403,'
            '"contextId":"c0ffee00-1111-2222-3333-444455556666","details":[],"errors":[]}\n'
        )
    if kind == 1:
        return (
            f'DEBUG:urllib3.connectionpool:https://{h}:443 "POST {p} HTTP/1.1" 429 None\n'
            "PureCloudPlatformClientV2.rest.ApiException: (429)\nReason: Too Many Requests\n"
            "HTTP response headers: HTTPHeaderDict({'Content-Type': 'application/json', 'Retry-After': '42'})\n"
            'HTTP response body: {"message":"Rate limit exceeded the maximum. Retry the request in [42] seconds",'
            '"code":"too.many.requests.retry.after","status":429,"details":[],"errors":[]}\n'
        )
    if kind == 2:
        login = h.replace("api.", "login.")
        return (
            f"> POST /oauth/token HTTP/1.1\n> Host: {login}\n> Authorization: Basic c2VjcmV0OnNlY3JldA==\n>\n"
            "< HTTP/1.1 400 Bad Request\n< Content-Type: application/json\n<\n"
            '{"error":"invalid_client","description":"authentication failed",'
            '"error_description":"authentication failed"}\n'
        )
    if kind == 3:
        return (
            f"requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://{h}/oauth/token\n"
            '{"error": "invalid_grant", "error_description": "The client credentials are invalid or the grant '
            'type is not supported."}\n'
        )
    return (
        f'{{"ts":"2026-11-24T03:00:0{rng.randint(0, 9)}Z","level":"error","msg":"call failed","method":"GET",'
        f'"url":"https://{h}{p}","status":401,"response":{{"message":"Invalid login credentials.",'
        '"code":"bad.credentials","status":401}}\n'
    )


def write_file(path, size, seed, every):
    rng = random.Random(seed)
    written = n = 0
    with open(path, "w") as f:
        while written < size:
            n += 1
            h, p = rng.choice(HOSTS), rng.choice(PATHS)
            if n % every == 0:
                chunk = failure(rng, h, p) + "\n"
            elif n % 3 == 0:
                chunk = (f'2026-11-24 03:00:{n % 60:02d},{n % 1000:03d} DEBUG urllib3.connectionpool '
                         f'https://{h}:443 "GET {p}?pageSize=100&pageNumber={n % 50} HTTP/1.1" 200 '
                         f"{rng.randint(200, 90000)}\n")
            else:
                chunk = (f"2026-11-24 03:00:{n % 60:02d},{n % 1000:03d} INFO etl.loader: wrote batch {n} "
                         f"({rng.randint(1, 500)} rows) to warehouse table conversations_{n % 7}\n")
            f.write(chunk)
            written += len(chunk)


def make_corpus(out, files, mib, every=2000):
    """Writes the corpus; returns the list of file paths."""
    size = max(1, int(mib * (1 << 20)) // files)
    paths = []
    for i in range(files):
        day = f"2026-11-{20 + i % 7:02d}"
        os.makedirs(os.path.join(out, day), exist_ok=True)
        path = os.path.join(out, day, f"worker-{i:03d}.log")
        write_file(path, size, seed=i, every=every)
        paths.append(path)
    return paths


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--files", type=int, default=16)
    ap.add_argument("--mib", type=float, default=64)
    ap.add_argument("--every", type=int, default=2000)
    a = ap.parse_args()
    print(len(make_corpus(a.out, a.files, a.mib, a.every)), "files written under", a.out)
