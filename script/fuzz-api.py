#!/usr/bin/env python3
"""script/fuzz-api.py BASE_URL REPORT_DIR: logs in as each role of the demo
data and runs schemathesis against BASE_URL/api/openapi.json once per role
(anonymous, resident, grid worker, community staff, street admin), with the
checks that matter to a client: no 5xx, status codes, content types, headers
and bodies as the document declares them. Prints a table of requests and
failures per role; exits non-zero on any failure or when fewer than
FUZZ_API_MIN_REQUESTS requests were made in all.

Run by script/fuzz-api, which starts the server; not meant to be run alone.
"""
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

BASE = sys.argv[1].rstrip("/")
REPORTS = os.path.abspath(sys.argv[2])
SCHEMATHESIS = os.path.abspath(os.environ["SCHEMATHESIS"]) if "SCHEMATHESIS" in os.environ else "schemathesis"
EXAMPLES = os.environ.get("FUZZ_API_EXAMPLES", "60")
SEED = os.environ.get("FUZZ_API_SEED", "20261202")
MIN_REQUESTS = int(os.environ.get("FUZZ_API_MIN_REQUESTS", "5000"))
# script/fuzz-api sets 1 on a Python whose ast.parse is not thread-safe
WORKERS = os.environ.get("FUZZ_API_WORKERS", "2")

ROLES = [
    ("anonymous", None, None),
    ("resident", "13800000001", None),
    ("grid_worker", "13700000001", None),
    ("staff", "13900000002", "demo1234"),
    ("admin", "13900000001", "demo1234"),
]

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        # an operation that asks for a login answers 401/403 when sent without one
        "ignored_auth",
    ]
)

# Operations that end the caller's own login (the rest of the run would be
# anonymous) or never end (the event stream): exercised in the anonymous run
# only, and the stream not at all (tests/api/events.rs covers it).
AUTHED_EXCLUDE = r"^(logout|refresh|events_stream)$"
ANON_EXCLUDE = r"^(events_stream)$"


def call(method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def login(phone, password):
    if password:
        status, body = call("POST", "/api/v1/auth/password", {"phone": phone, "password": password})
    else:
        status, body = call("POST", "/api/v1/auth/code", {"phone": phone})
        if status != 204:
            sys.exit(f"requesting a code for {phone}: {status} {body}")
        _, page = call("GET", "/dev/codes")
        codes = re.findall(r'class="phone">(?:<!---->)?(\d+)(?:<!---->)?</td><td class="code">(?:<!---->)?(\d+)', page)
        code = next((c for p, c in codes if p == phone), None)
        if code is None:
            sys.exit(f"no code for {phone} on /dev/codes")
        status, body = call("POST", "/api/v1/auth/login", {"phone": phone, "code": code})
    if status != 200:
        sys.exit(f"login {phone}: {status} {body}")
    return json.loads(body)["access_token"]


def run(role, token):
    ndjson = os.path.join(REPORTS, f"{role}.ndjson")
    cmd = [
        SCHEMATHESIS,
        "run",
        BASE + "/api/openapi.json",
        "--url",
        BASE,
        "--checks",
        CHECKS,
        "--max-examples",
        EXAMPLES,
        "--seed",
        SEED,
        "--workers",
        WORKERS,
        "--request-timeout",
        "20",
        "--max-redirects",
        "0",
        "--phases",
        "examples,coverage,fuzzing",
        "--exclude-operation-id-regex",
        AUTHED_EXCLUDE if token else ANON_EXCLUDE,
        "--suppress-health-check",
        "all",
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "ndjson,junit",
        "--report-ndjson-path",
        ndjson,
        "--report-junit-path",
        os.path.join(REPORTS, f"{role}.xml"),
    ]
    if token:
        cmd += ["--header", "Authorization: Bearer " + token]
    started = time.time()
    # its cache (.schemathesis/) goes beside the reports
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPORTS)
    with open(os.path.join(REPORTS, f"{role}.log"), "w") as f:
        f.write(out.stdout)
        f.write(out.stderr)
    requests, statuses = count(ndjson)
    failed = out.returncode != 0
    if failed:
        # the summary of what failed, without the token
        text = out.stdout.replace(token or "\0", "<token>")
        start = text.find("FAILURES")
        print(text[start if start >= 0 else max(0, len(text) - 6000):][:12000])
    return requests, statuses, time.time() - started, failed


def count(ndjson):
    """Requests schemathesis made, by status class, from its event log."""
    requests, statuses = 0, {}
    if not os.path.exists(ndjson):
        return 0, statuses
    with open(ndjson) as f:
        for line in f:
            for status in re.findall(r'"status_code":\s*(\d{3})', line):
                requests += 1
                k = status[0] + "xx"
                statuses[k] = statuses.get(k, 0) + 1
    return requests, statuses


def main():
    os.makedirs(REPORTS, exist_ok=True)
    rows, total, any_failed = [], 0, False
    # every login first: the anonymous run tries the login routes too, and
    # is rate limited for it
    tokens = {role: login(phone, password) if phone else None for role, phone, password in ROLES}
    for role, _, _ in ROLES:
        token = tokens[role]
        requests, statuses, secs, failed = run(role, token)
        total += requests
        any_failed |= failed
        rows.append((role, requests, statuses, secs, failed))
        print(f"{role}: {requests} requests {statuses} in {secs:.0f} s{' FAILED' if failed else ''}", flush=True)
    table = "| role | requests | 2xx | 3xx | 4xx | 5xx | seconds | result |\n"
    table += "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n"
    for role, requests, st, secs, failed in rows:
        cells = " | ".join(str(st.get(k, 0)) for k in ("2xx", "3xx", "4xx", "5xx"))
        table += f"| {role} | {requests} | {cells} | {secs:.0f} | {'failed' if failed else 'passed'} |\n"
    table += f"| all | {total} | | | | | | {'failed' if any_failed else 'passed'} |\n"
    print("\n" + table)
    with open(os.path.join(REPORTS, "table.md"), "w") as f:
        f.write(table)
    if total < MIN_REQUESTS:
        sys.exit(f"only {total} requests (at least {MIN_REQUESTS} wanted)")
    if any_failed:
        sys.exit("schemathesis found failures (reports in " + REPORTS + ")")


if __name__ == "__main__":
    main()
