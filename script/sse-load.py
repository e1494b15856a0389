#!/usr/bin/env python3
"""Holds N server-sent-events connections open against one zhsq instance and
measures how long an event takes to reach every one of them.

Each round, staff publish an announcement to the resident's community; the
resident (whose token every connection uses) gets an inbox item, and its
`inbox` event fans out to all N connections. The latency measured is the
whole real path: HTTP request -> transaction -> job -> bus -> N streams.

usage: sse-load.py BASE RESIDENT_TOKEN STAFF_TOKEN ORG_ID CONNECTIONS ROUNDS
prints one JSON line with the figures."""
import asyncio, json, sys, time, urllib.request

base, resident, staff, org, n, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
host, port = base.split("//")[1].split(":")
port = int(port)


class Round:
    def __init__(self):
        self.t0 = 0.0
        self.latencies = []
        self.done = asyncio.Event()
        self.expected = n


current = {"round": None}
opened = {"n": 0, "failed": 0}


async def listen(sem):
    async with sem:
        try:
            r, w = await asyncio.open_connection(host, port)
            w.write((f"GET /api/v1/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
                     f"Authorization: Bearer {resident}\r\nAccept: text/event-stream\r\n\r\n").encode())
            await w.drain()
            status = await r.readline()
            if b" 200 " not in status:
                opened["failed"] += 1
                return
            while (await r.readline()) not in (b"\r\n", b""):
                pass
        except OSError:
            opened["failed"] += 1
            return
    opened["n"] += 1
    event = None
    while True:
        line = await r.readline()
        if not line:
            return
        if line.startswith(b"event: "):
            event = line[7:].strip()
        elif line.startswith(b"data: ") and event == b"inbox":
            rd = current["round"]
            if rd is not None:
                rd.latencies.append(time.perf_counter() - rd.t0)
                if len(rd.latencies) >= rd.expected:
                    rd.done.set()


def publish(i):
    body = json.dumps({"org_unit_id": org, "title": f"压测通知 {i}", "body": "SSE benchmark"}).encode()
    req = urllib.request.Request(f"{base}/api/v1/announcements", data=body, method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {staff}"})
    urllib.request.urlopen(req, timeout=30).read()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")


async def main():
    sem = asyncio.Semaphore(500)
    t = time.perf_counter()
    tasks = [asyncio.create_task(listen(sem)) for _ in range(n)]
    while opened["n"] + opened["failed"] < n and time.perf_counter() - t < 120:
        await asyncio.sleep(0.2)
    connect_s = time.perf_counter() - t
    await asyncio.sleep(1)
    all_lat, delivered, expected = [], 0, 0
    for i in range(rounds):
        rd = Round()
        rd.expected = opened["n"]
        current["round"] = rd
        rd.t0 = time.perf_counter()
        await asyncio.to_thread(publish, i)
        try:
            await asyncio.wait_for(rd.done.wait(), timeout=15)
        except asyncio.TimeoutError:
            pass
        current["round"] = None
        delivered += len(rd.latencies)
        expected += rd.expected
        all_lat += rd.latencies
        await asyncio.sleep(0.5)
    print(json.dumps({
        "connections": opened["n"], "failed": opened["failed"], "connect_seconds": round(connect_s, 1),
        "rounds": rounds, "delivered": delivered, "expected": expected,
        "p50_ms": round(pct(all_lat, 50) * 1000, 1), "p99_ms": round(pct(all_lat, 99) * 1000, 1),
        "max_ms": round(max(all_lat) * 1000, 1) if all_lat else None,
    }))
    for task in tasks:
        task.cancel()


asyncio.run(main())
