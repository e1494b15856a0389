#!/usr/bin/env python3
"""script/chaos.py: faults against a real server on PostgreSQL and Redis.

Run by script/chaos (which builds the binary and makes the database); it
starts and kills the server itself. Four scenarios, each with its invariant:

1. kill -9 during GPS batch ingest: a grid worker's outbox sends batches of
   fixes while the server is killed and restarted; unanswered batches are
   sent again, as the phone does. Afterwards every fix sent is stored exactly
   once (none lost, none doubled).
2. kill -9 during payment notification handling: orders are paid on the
   sandbox cashier (each payment notified twice, by the job worker) and the
   server is killed while notifications are being handled. After a restart
   every paid order is paid, and every bill paid once, never twice.
3. PostgreSQL restart under traffic: while it is down, answers are 503
   `unavailable` with a "try again" message (never a 500); afterwards the
   server serves again by itself, and the fixes refused meanwhile, sent
   again, are stored once.
4. Redis goes away: what needs it (login codes are rate limited there)
   answers 503 `unavailable`; what does not (reading, GPS ingest) goes on;
   when Redis is back, everything works again without a restart.

Prints a table per scenario; exits non-zero when any invariant fails.
"""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

BIN = os.environ["CHAOS_BIN"]
DB_URL = os.environ["CHAOS_DATABASE_URL"]
REDIS_URL = os.environ.get("CHAOS_REDIS_URL", "redis://127.0.0.1:6379")
PORT = int(os.environ.get("CHAOS_PORT", "3908"))
BASE = f"http://127.0.0.1:{PORT}"
DATA_DIR = os.environ["CHAOS_DATA_DIR"]
PG_CLUSTER = os.environ.get("CHAOS_PG_CLUSTER", "15 main").split()
FIXES_PER_BATCH = 50
BATCHES = int(os.environ.get("CHAOS_BATCHES", "120"))
ORDERS = int(os.environ.get("CHAOS_ORDERS", "60"))
PG_DOWN = int(os.environ.get("CHAOS_PG_DOWN", "15"))
# the server waits DATABASE_ACQUIRE_TIMEOUT_SECONDS (5 by default) for a
# connection; a phone gives up long after that
CLIENT_TIMEOUT = 15

failures = []
figures = []


def check(ok, what):
    print(("  ok   " if ok else "  FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


# ------------------------------------------------------------------ plumbing


def headers_of(msg):
    h = {k.lower(): v for k, v in msg.items()}
    h["set-cookie"] = "\n".join(msg.get_all("Set-Cookie") or [])
    return h


def call(method, path, body=None, token=None, form=None, headers=None, timeout=30):
    data, ctype = None, None
    if body is not None:
        data, ctype = json.dumps(body).encode(), "application/json"
    if form is not None:
        data, ctype = urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if ctype:
        req.add_header("Content-Type", ctype)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with NoRedirect.open(req, timeout=timeout) as r:
            return r.status, r.read().decode(), headers_of(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace"), headers_of(e.headers)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as e:
        return None, str(e), {}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


NoRedirect = urllib.request.build_opener(_NoRedirect)

import urllib.parse  # noqa: E402


def psql(sql):
    out = subprocess.run(["psql", DB_URL, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"psql: {out.stderr}")
    return out.stdout.strip()


class Server:
    def __init__(self):
        self.proc = None
        self.log = open(os.path.join(DATA_DIR, "server.log"), "a")

    def start(self):
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": DB_URL,
                "REDIS_URL": REDIS_URL,
                "REDIS_PREFIX": f"zhsq-chaos-{os.getpid()}:",
                "DATA_DIR": DATA_DIR,
                "DEMO_DATA": "true",
                "BIND": f"127.0.0.1:{PORT}",
                "PUBLIC_URL": BASE,
                "SITE_ROOT": "target/site",
                "ACCESS_TOKEN_TTL_SECONDS": "7200",
                # a job claimed by a killed instance is taken over after its lease
                "JOB_LEASE_SECONDS": "5",
                "JOB_POLL_MS": "200",
            }
        )
        self.proc = subprocess.Popen([BIN], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(120):
            status, _, _ = call("GET", "/healthz", timeout=2)
            if status == 200:
                return
            if self.proc.poll() is not None:
                raise SystemExit("the server exited at start (see server.log)")
            time.sleep(0.5)
        raise SystemExit("the server did not come up")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill9()


def login(phone, password=None):
    if password:
        status, body, _ = call("POST", "/api/v1/auth/password", {"phone": phone, "password": password})
    else:
        status, body, _ = call("POST", "/api/v1/auth/code", {"phone": phone})
        assert status == 204, (status, body)
        _, page, _ = call("GET", "/dev/codes")
        codes = re.findall(r'class="phone">(?:<!---->)?(\d+)(?:<!---->)?</td><td class="code">(?:<!---->)?(\d+)', page)
        code = next(c for p, c in codes if p == phone)
        status, body, _ = call("POST", "/api/v1/auth/login", {"phone": phone, "code": code})
    assert status == 200, (status, body)
    return json.loads(body)["access_token"]


def start_patrol(token):
    status, page, _ = call("GET", "/patrol", token=token)
    assert status == 200, (status, page[:300])
    m = re.search(r'action="(/api/start_patrol[^"]*)"', page)
    assert m, "no start form on /patrol"
    status, body, _ = call("POST", m.group(1), form={"route": ""}, token=token)
    assert status in (200, 302, 303), (status, body[:300])
    return int(psql("SELECT id FROM patrols WHERE state = 'active' ORDER BY id DESC LIMIT 1"))


class Outbox:
    """A phone's outbox: batches of fixes, each sent until it is answered."""

    def __init__(self, token, patrol, prefix, start_ms):
        self.token, self.patrol, self.prefix = token, patrol, prefix
        self.t0 = start_ms
        self.sent_ids = set()
        self.statuses = {}
        self.bodies = []
        self.last = (None, "")

    def batch(self, n):
        items = []
        for i in range(FIXES_PER_BATCH):
            k = n * FIXES_PER_BATCH + i
            items.append(
                {
                    "type": "fix",
                    "id": f"{self.prefix}-{k}",
                    "t": self.t0 + k * 200,
                    "lat": 31.2304 + k * 0.000002,
                    "lng": 121.4737 + k * 0.000002,
                    "acc": 8.0,
                }
            )
        return items

    def send(self, n):
        items = self.batch(n)
        status, body, _ = call(
            "POST",
            "/api/v1/patrol/batch",
            {"patrol": self.patrol, "sent_at": int(time.time() * 1000), "items": items},
            token=self.token,
            timeout=CLIENT_TIMEOUT,
        )
        self.last = (status, body)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status is not None and status != 200:
            self.bodies.append((status, body))
        if status == 200:
            self.sent_ids.update(i["id"] for i in items)
        return status == 200

    def stored(self):
        return int(
            psql(f"SELECT count(*) FROM track_points WHERE patrol_id = {self.patrol} AND client_id LIKE '{self.prefix}-%'")
        )


# ------------------------------------------------------------------ scenarios


def gps_kill(server, token):
    print("\n== 1. kill -9 during GPS batch ingest", flush=True)
    patrol = start_patrol(token)
    box = Outbox(token, patrol, "k", int(time.time() * 1000))
    pending = list(range(BATCHES))
    kills = 0
    killer_at = {BATCHES // 4, BATCHES // 2, (3 * BATCHES) // 4}
    done = 0
    started = time.time()
    while pending:
        n = pending[0]
        if done in killer_at:
            killer_at.discard(done)
            # kill while a batch is in flight
            t = threading.Thread(target=box.send, args=(n,))
            t.start()
            time.sleep(0.01)
            server.kill9()
            t.join()
            kills += 1
            server.start()
            continue
        if box.send(n):
            pending.pop(0)
            done += 1
        else:
            time.sleep(0.2)
    stored = box.stored()
    sent = BATCHES * FIXES_PER_BATCH
    dup = int(psql(f"SELECT count(*) - count(DISTINCT client_id) FROM track_points WHERE patrol_id = {patrol}"))
    check(stored == sent, f"every fix stored: {stored} of {sent} after {kills} kills")
    check(dup == 0, f"no fix stored twice ({dup} duplicates)")
    figures.append(("kill -9 during GPS ingest", f"{sent} fixes in {BATCHES} batches, {kills} kills", f"{stored} stored, {dup} doubled", f"{time.time() - started:.0f} s"))
    return patrol


def payments_kill(server, token):
    print("\n== 2. kill -9 during payment notification handling", flush=True)
    status, page, _ = call("GET", "/bills", token=token)
    ids = re.findall(r'name="bill" id="[^"]*" value="(\d+)"', page)
    assert status == 200 and ids, (status, page[:300])
    src = ids[0]
    # more bills of the same household, one per past month
    psql(
        f"""INSERT INTO bills (org_unit_id, household_id, kind, period, title, amount_fen, paid_fen, refunded_fen,
               status, basis, created_by, created_at, updated_at)
            SELECT org_unit_id, household_id, kind, to_char(DATE '2001-01-01' + (g || ' month')::interval, 'YYYY-MM'),
               title || ' #' || g, amount_fen + g, 0, 0, 'unpaid', basis, created_by, now(), now()
            FROM bills, generate_series(1, {ORDERS}) g WHERE id = {src}"""
    )
    bills = psql(f"SELECT id FROM bills WHERE title LIKE '% #%' AND household_id = (SELECT household_id FROM bills WHERE id = {src}) ORDER BY id").split()
    orders = []
    for b in bills:
        s, body, _ = call("POST", "/api/v1/payments/orders", {"bill_ids": [int(b)]}, token=token, headers={"Idempotency-Key": f"chaos-order-{b}"})
        assert s in (200, 201), (s, body)
        no = json.loads(body)["out_trade_no"]
        s, body, _ = call("POST", f"/api/v1/payments/orders/{no}/pay", {}, token=token, headers={"Idempotency-Key": f"chaos-pay-{b}"})
        assert s == 200, (s, body)
        orders.append((no, int(b)))
    started = time.time()
    kills = 0
    decided = set()
    for i, (no, _) in enumerate(orders):
        if i in (len(orders) // 3, (2 * len(orders)) // 3):
            # notifications of the orders paid so far are being handled now
            time.sleep(0.3)
            server.kill9()
            kills += 1
            server.start()
        while True:
            s, body, _ = call("POST", f"/pay/sandbox/{no}", form={"choice": "success"})
            if s == 303:
                decided.add(no)
                break
            time.sleep(0.2)
    # the job worker (and its lease) finishes what the killed one held
    deadline = time.time() + 120
    nos = ",".join(f"'{n}'" for n, _ in orders)
    while time.time() < deadline:
        paid = int(psql(f"SELECT count(*) FROM payment_orders WHERE out_trade_no IN ({nos}) AND status = 'paid'"))
        waiting = int(psql("SELECT count(*) FROM jobs WHERE kind = 'payment.sandbox_notify' AND status <> 'done'"))
        if paid == len(orders) and waiting == 0:
            break
        time.sleep(1)
    bill_ids = ",".join(str(b) for _, b in orders)
    paid_once = int(psql(f"SELECT count(*) FROM bills WHERE id IN ({bill_ids}) AND status = 'paid' AND paid_fen = amount_fen"))
    overpaid = int(psql(f"SELECT count(*) FROM bills WHERE id IN ({bill_ids}) AND paid_fen > amount_fen"))
    notified = int(psql("SELECT count(*) FROM jobs WHERE kind = 'payment.sandbox_notify' AND status = 'done'"))
    check(paid == len(orders), f"every paid order is paid: {paid} of {len(orders)} after {kills} kills")
    check(paid_once == len(orders), f"every bill paid exactly once: {paid_once} of {len(orders)}")
    check(overpaid == 0, f"no bill paid twice ({overpaid})")
    check(waiting == 0 and notified == 2 * len(orders), f"every notification handled: {notified} of {2 * len(orders)} ({waiting} not done)")
    figures.append(("kill -9 during payment notifications", f"{len(orders)} orders paid, each notified twice, {kills} kills", f"{paid} paid, {overpaid} paid twice", f"{time.time() - started:.0f} s"))


def traffic(token, box, stop, log):
    """Readers and a GPS outbox while something breaks; every answer logged."""
    n = 10_000
    pending = []
    while not stop.is_set():
        s, body, h = call("GET", "/api/v1/me", token=token, timeout=CLIENT_TIMEOUT)
        log.append(("me", s, body, h, time.time()))
        # the page as a browser asks for it: the session in a cookie
        s, body, h = call("GET", "/bills", headers={"Accept": "text/html", "Cookie": f"zhsq_at={token}"}, timeout=CLIENT_TIMEOUT)
        if "zhsq_at=;" in h.get("set-cookie", "") or "Max-Age=0" in h.get("set-cookie", ""):
            s = 401  # the browser was logged out
        log.append(("page", s, body, h, time.time()))
        pending.append(n)
        n += 1
        while pending and not stop.is_set():
            if box.send(pending[0]):
                log.append(("batch", 200, "", {}, time.time()))
                pending.pop(0)
            else:
                log.append(("batch", box.last[0], box.last[1], {}, time.time()))
                break
        time.sleep(0.05)
    while pending:
        if box.send(pending[0]):
            pending.pop(0)
        else:
            time.sleep(0.5)
    return n - 10_000


def judge(log, t_down, t_up, name):
    during = [e for e in log if t_down <= e[4] <= t_up + 0.5]
    bad = [e for e in log if e[1] is not None and e[1] >= 500 and e[1] != 503]
    refused = [e for e in during if e[1] == 503]
    api_words = all(("unavailable" in e[2] and "稍后重试" in e[2]) for e in refused if e[0] in ("me", "batch"))
    page_words = all("稍后重试" in e[2] for e in refused if e[0] == "page")
    retry_after = all(e[3].get("retry-after") for e in refused if e[0] == "me")
    unanswered = [e for e in during if e[1] is None]
    # a logged-in caller is never told they are logged out because the database is away
    logged_out = [e for e in log if e[1] in (401, 403)]
    check(not logged_out, f"{name}: no session lost (401/403: {len(logged_out)} {sorted(set((e[0], e[2][:60]) for e in logged_out))})")
    check(not unanswered, f"{name}: every request answered within {CLIENT_TIMEOUT} s ({len(unanswered)} not: {sorted(set((e[0], e[2][:60]) for e in unanswered))})")
    check(not bad, f"{name}: no 500 at any time ({len(bad)}: {sorted(set((e[0], e[1]) for e in bad))})")
    check(api_words and page_words, f"{name}: every refusal says try again (503 unavailable, {len(refused)} refusals)")
    check(retry_after, f"{name}: API refusals carry Retry-After")
    later = [e for e in log if e[4] > t_up]
    recovered = next((e[4] for e in later if e[0] == "me" and e[1] == 200), None)
    check(recovered is not None, f"{name}: serving again without a restart")
    return len(refused), (recovered - t_up) if recovered else None


def postgres_restart(server, token, patrol):
    print("\n== 3. PostgreSQL restart under traffic", flush=True)
    box = Outbox(token, patrol, "pg", int(time.time() * 1000))
    stop, log, result = threading.Event(), [], {}
    t = threading.Thread(target=lambda: result.setdefault("n", traffic(token, box, stop, log)))
    t.start()
    time.sleep(2)
    t_down = time.time()
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", *PG_CLUSTER, "stop", "-m", "fast"], check=True)
    # beyond the pool's 5 s wait for a connection: short outages are only slow answers
    time.sleep(PG_DOWN)
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", *PG_CLUSTER, "start"], check=True)
    t_up = time.time()
    time.sleep(6)
    stop.set()
    t.join()
    refused, recovery = judge(log, t_down, t_up, "PostgreSQL restart")
    sent = result["n"] * FIXES_PER_BATCH
    stored = box.stored()
    check(stored == sent, f"PostgreSQL restart: every fix stored once after sending again: {stored} of {sent}")
    check(refused > 0, f"PostgreSQL restart: an outage longer than the pool's wait is refused in words ({refused})")
    figures.append((f"PostgreSQL down {PG_DOWN} s (stop -m fast, start)", f"{len(log)} requests, {refused} answered 503 unavailable", f"{stored} of {sent} fixes stored once; serving {recovery:.1f} s after start" if recovery is not None else "did not recover", f"{t_up - t_down:.0f} s down"))


def redis_gone(server, token, patrol):
    print("\n== 4. Redis goes away", flush=True)
    box = Outbox(token, patrol, "rd", int(time.time() * 1000))
    stop, log, result = threading.Event(), [], {}
    t = threading.Thread(target=lambda: result.setdefault("n", traffic(token, box, stop, log)))
    t.start()
    time.sleep(2)
    t_down = time.time()
    subprocess.run(["redis-cli", "-u", REDIS_URL, "shutdown", "nosave"], capture_output=True)
    time.sleep(1)
    s, body, _ = call("POST", "/api/v1/auth/code", {"phone": "13800000002"})
    check(s == 503 and "unavailable" in body, f"Redis gone: a login code (rate limited in Redis) is refused with 503 unavailable ({s})")
    time.sleep(2)
    subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379", "--save", "", "--appendonly", "no"], check=True, capture_output=True)
    t_up = time.time()
    time.sleep(5)
    s, body, _ = call("POST", "/api/v1/auth/code", {"phone": "13800000002"})
    check(s == 204, f"Redis back: login codes are sent again ({s} {body[:100]})")
    stop.set()
    t.join()
    during = [e for e in log if t_down <= e[4] <= t_up]
    reads_ok = sum(1 for e in during if e[0] == "me" and e[1] == 200)
    check(reads_ok > 0 and all(e[1] == 200 for e in during if e[0] == "me"), f"Redis gone: reading goes on ({reads_ok} answered)")
    bad = [e for e in log if e[1] is not None and e[1] >= 500 and e[1] != 503]
    check(not bad, f"Redis gone: no 500 ({len(bad)})")
    logged_out = [e for e in log if e[1] in (401, 403)]
    check(not logged_out, f"Redis gone: no session lost ({len(logged_out)})")
    sent = result["n"] * FIXES_PER_BATCH
    stored = box.stored()
    check(stored == sent, f"Redis gone: every fix stored once: {stored} of {sent}")
    figures.append(("Redis shut down 3 s", f"{len(log)} requests; login code refused 503 while down", f"{stored} of {sent} fixes stored once; codes sent again after", f"{t_up - t_down:.0f} s down"))


def main():
    server = Server()
    server.start()
    try:
        worker = login("13700000001")
        resident = login("13800000001")
        patrol = gps_kill(server, worker)
        payments_kill(server, resident)
        postgres_restart(server, worker, patrol)
        redis_gone(server, worker, patrol)
    finally:
        server.stop()
    table = "| fault | load | outcome | time |\n| --- | --- | --- | --- |\n"
    table += "".join("| " + " | ".join(row) + " |\n" for row in figures)
    print("\n" + table)
    if not failures:
        os.makedirs("target/chaos", exist_ok=True)
        with open("target/chaos/chaos.md", "w") as f:
            f.write(table)
    if failures:
        print(f"\n{len(failures)} invariant(s) failed:")
        for f in failures:
            print("  - " + f)
        sys.exit(1)
    print("\nevery invariant held")


if __name__ == "__main__":
    main()
