#!/usr/bin/env python3
"""Generates synthetic rule files for the rule-scale bench (issue 10 goal 4):
N rules in the shapes real packs have, at the size of real ones (a cause and
a fix paragraph, three examples), deterministic.

Most rules key on literals that do not occur in benches/gen_corpus.py's logs
(as most of a large pack does not match a given log): a status with an error
code, a list of codes, a message regex, a body field tested with `contains`,
a URL path prefix, an input-wide phrase. One rule in ten keys on something the
corpus does contain (a Genesys permission message, `invalid_client`, a
`Forbidden for url` exception), so matching rules are also evaluated and
ranked; those are `info`, so they never change the exit status.

usage: gen_scale_rules.py N OUTDIR   (files of 50 rules each)
"""
import os
import sys

CAUSE = ("The provider rejects the call because synthetic condition {i} holds: this paragraph is as long as a "
         "real rule's cause, so that reading and storing it costs what a real pack costs. It explains the "
         "mechanism, names the setting involved and what usually triggers it in client code.")
FIX = ("Change synthetic setting {i}, then retry the call. If the error persists, check the client's "
       "configuration and the provider's status page.")


def shape(i):
    """(when, scope, positive example, second positive in another format, near miss)."""
    k = i % 10
    if k == 0:  # matches the corpus: a Genesys permission body
        return ('{ status = 403, "body.message" = { contains = "missing the following permission" } }', "",
                '< HTTP/1.1 403 Forbidden\n< Content-Type: application/json\n<\n'
                '{"message":"You are missing the following permission(s): a:b:c","code":"missing.permissions","status":403}',
                "requests.exceptions.HTTPError: 403 Client Error: Forbidden for url: https://api.example.com/x\n"
                '{"message":"You are missing the following permission(s): a:b:c","status":403}',
                'HTTP/1.1 403 Forbidden\n\n{"message":"denied"}')
    if k == 5:  # matches the corpus: a client-credentials failure
        return ('{ status = 400, error = "invalid_client" }', "",
                "requests.exceptions.HTTPError: 400 Client Error: Bad Request for url: https://login.example.com/token\n"
                '{"error":"invalid_client"}',
                'HTTP/1.1 400 Bad Request\n\n{"error":"invalid_client"}',
                'HTTP/1.1 400 Bad Request\n\n{"error":"invalid_grant"}')
    if k in (1, 6):
        return (f'{{ status = 400, error = "bench_code_{i}" }}', "",
                f'HTTP/1.1 400 Bad Request\n\n{{"error": "bench_code_{i}"}}',
                "requests.exceptions.HTTPError: 400 Client Error: Bad Request for url: https://api.example.com/v1\n"
                f'{{"error": "bench_code_{i}"}}',
                'HTTP/1.1 400 Bad Request\n\n{"error": "other_code"}')
    if k in (2, 7):
        return (f'{{ error = ["bench_{i}_a", "bench_{i}_b"] }}', "",
                f'HTTP/1.1 401 Unauthorized\n\n{{"error": "bench_{i}_b"}}',
                f'{{"level":"error","status":401,"response":{{"error":"bench_{i}_a"}}}}',
                'HTTP/1.1 401 Unauthorized\n\n{"error": "bench_x"}')
    if k == 3:
        return (f"{{ \"exception.message\" = {{ regex = '(?i)bench failure {i} (?:of|for) (?P<what>\\w+)' }} }}", "",
                f"Traceback (most recent call last):\nValueError: bench failure {i} of widgets",
                f"java.lang.IllegalStateException: Bench failure {i} for gears",
                "Traceback (most recent call last):\nValueError: another failure")
    if k == 4:
        return (f'{{ status = 403, "body.message" = {{ contains = "bench denial {i}" }} }}', "",
                f'HTTP/1.1 403 Forbidden\n\n{{"message": "Bench denial {i} applies"}}',
                f'< HTTP/1.1 403 Forbidden\n< Content-Type: application/json\n<\n{{"message": "bench denial {i}"}}',
                'HTTP/1.1 403 Forbidden\n\n{"message": "denied"}')
    if k == 8:
        return (f'{{ status = 404, "url.path" = {{ starts_with = "/bench/{i}/" }} }}', "",
                f"requests.exceptions.HTTPError: 404 Client Error: Not Found for url: https://api.example.com/bench/{i}/x",
                f"< HTTP/1.1 404 Not Found\n\n* url https://api.example.com/bench/{i}/y\n"
                f"curl: (22) The requested URL returned error: 404 for https://api.example.com/bench/{i}/y",
                "requests.exceptions.HTTPError: 404 Client Error: Not Found for url: https://api.example.com/other")
    return (f"{{ \"input.text\" = {{ regex = '(?i)\\bbench marker {i}\\b' }} }}", 'scope = "input"\n',
            f"we saw bench marker {i} in the log", f"ERROR Bench Marker {i}", "nothing here")


def rule(i):
    when, scope, pos, pos2, neg = shape(i)
    severity = "info" if i % 10 in (0, 5) else "error"
    return f'''[[rule]]
id = "bench.synthetic-{i}"
title = "Synthetic rule {i} matched"
severity = "{severity}"
confidence = 0.3
{scope}when = {when}
cause = "{CAUSE.format(i=i)}"
fix = "{FIX.format(i=i)}"
docs = ["https://example.com/bench/{i}"]

[[rule.example]]
name = "positive"
input = \'\'\'
{pos}
\'\'\'
matches = true

[[rule.example]]
name = "positive, another format"
input = \'\'\'
{pos2}
\'\'\'
matches = true

[[rule.example]]
name = "near miss"
input = \'\'\'
{neg}
\'\'\'
matches = false

'''


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for start in range(0, n, 50):
        with open(os.path.join(out, f"bench-{start // 50:04d}.toml"), "w") as f:
            f.write("".join(rule(i) for i in range(start, min(n, start + 50))))


if __name__ == "__main__":
    main()
