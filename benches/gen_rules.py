#!/usr/bin/env python3
"""Generates synthetic rule files for the start-up bench: N rules of the
shapes real packs have, at the size of real ones (a paragraph of cause and
fix, three examples):

  - an error code with a status (`error = "…"`),
  - a list of codes (`error = ["…", "…"]`),
  - a message regex with a named group (`exception.message`),
  - a body field tested with `contains`,
  - an input-wide phrase (`scope = "input"`, `input.text`).

None of them matches the bench's inputs (their codes and phrases are made
up), as most of a large pack does not match a given failure. Deterministic.

usage: gen_rules.py N OUTDIR   (files of 50 rules each)
"""
import os
import sys

n, out = int(sys.argv[1]), sys.argv[2]
os.makedirs(out, exist_ok=True)

CAUSE = ("The provider rejects the call because the synthetic condition number {i} holds: "
         "this paragraph is as long as a real rule's cause, so that parsing and storing it "
         "costs what a real pack costs. It explains the mechanism, names the setting "
         "involved and what usually triggers it in client code.")
FIX = ("Change the synthetic setting {i}, then retry the call. If the error persists, "
       "check the client's configuration and the provider's status page.")


def rule(i):
    kind = i % 5
    scope = ""
    if kind == 0:
        when = f'{{ status = 400, error = "synthetic_code_{i}" }}'
        pos = f'HTTP/1.1 400 Bad Request\n\n{{"error": "synthetic_code_{i}"}}'
        pos2 = (f"requests.exceptions.HTTPError: 400 Client Error: Bad Request for url: "
                f'https://api.example.com/v1/items\n{{"error": "synthetic_code_{i}"}}')
        neg = 'HTTP/1.1 400 Bad Request\n\n{"error": "other_code"}'
    elif kind == 1:
        when = f'{{ error = ["synthetic_{i}_a", "synthetic_{i}_b"] }}'
        pos = f'HTTP/1.1 401 Unauthorized\n\n{{"error": "synthetic_{i}_b"}}'
        pos2 = f'{{"level":"error","status":401,"response":{{"error":"synthetic_{i}_a"}}}}'
        neg = 'HTTP/1.1 401 Unauthorized\n\n{"error": "synthetic_x"}'
    elif kind == 2:
        when = (f'{{ "exception.message" = {{ regex = '
                f"'(?i)synthetic failure {i} (?:of|for) (?P<what>\\w+)' }} }}")
        pos = f"Traceback (most recent call last):\nValueError: synthetic failure {i} of widgets"
        pos2 = f"java.lang.IllegalStateException: Synthetic failure {i} for gears"
        neg = "Traceback (most recent call last):\nValueError: another failure"
    elif kind == 3:
        when = f'{{ status = 403, "body.message" = {{ contains = "synthetic denial {i}" }} }}'
        pos = f'HTTP/1.1 403 Forbidden\n\n{{"message": "Synthetic denial {i} applies"}}'
        pos2 = f'< HTTP/1.1 403 Forbidden\n< Content-Type: application/json\n<\n{{"message": "synthetic denial {i}"}}'
        neg = 'HTTP/1.1 403 Forbidden\n\n{"message": "denied"}'
    else:
        scope = 'scope = "input"\n'
        when = f'{{ "input.text" = {{ regex = \'(?i)\\bsynthetic marker {i}\\b\' }} }}'
        pos = f"we saw synthetic marker {i} in the log"
        pos2 = f"ERROR Synthetic Marker {i}"
        neg = "nothing here"
    return f'''[[rule]]
id = "synthetic.rule-{i}"
title = "Synthetic rule {i} matched"
confidence = 0.6
provider = "synthetic"
{scope}when = {when}
cause = "{CAUSE.format(i=i)}"
fix = "{FIX.format(i=i)}"
docs = ["https://example.com/synthetic/{i}"]

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


for start in range(0, n, 50):
    with open(os.path.join(out, f"synthetic-{start // 50:04d}.toml"), "w") as f:
        for i in range(start, min(n, start + 50)):
            f.write(rule(i))
