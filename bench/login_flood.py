"""Benchmark: feed latency while a login flood hits the same server (issue 16 item 3).

Serves the demo portal with uvicorn (2 workers by default) on a seeded SQLite city and loads
`GET /marketplace/api/feed?limit=10` with wrk (signed resident tokens, as feed_throughput.py
does): first idle, then again while shop logins arrive at 50 attempts/s from 10 addresses for
30 s. Each attempt guesses a password for one of 400 sprayed accounts, from a browser session
with its CSRF token; the address comes in X-Forwarded-For, which uvicorn's command line trusts
from 127.0.0.1 (the product's `serve` does not: it sees every local client as one address).
The flood is open-loop: attempts are sent on schedule whatever the answers.

Prints idle and under-flood feed p50/p99 and their ratio (the reference is the idle run of the
same server just before), what the flood got back (400 wrong password, 429 throttled, 503
hashing busy), and the server's CPU, for --rounds pairs; the verdict is the median ratio (the
machines are shared, and one busy neighbour moves a p99). Target: p99 under the flood <= 2x
idle.

    .venv/bin/python bench/login_flood.py [--residents 3000] [--rate 50] [--addresses 10]
        [--duration 30] [--connections 8] [--workers 2] [--rounds 3] [--json]

Needs wrk (Debian package `wrk`, installed by scripts/system-deps.sh).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import feed_throughput as feed_bench  # noqa: E402

LOGIN_PATH = "/marketplace/shop/login"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _flood(base: str, rate: float, addresses: int, seconds: float) -> dict[str, object]:
    """Send `rate` login attempts a second for `seconds`, round-robin over `addresses`."""
    network = random.randrange(1, 250)  # a fresh /24 per run: earlier runs' locks do not count
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    clients = []
    tokens = []
    for n in range(addresses):
        headers = {"X-Forwarded-For": f"10.77.{network}.{n + 1}", "Accept": "text/html"}
        client = httpx.AsyncClient(base_url=base, headers=headers, timeout=60, limits=limits)
        page = await client.get(LOGIN_PATH)
        match = CSRF.search(page.text)
        assert match, "no CSRF token on the login page"
        clients.append(client)
        tokens.append(match.group(1))

    async def attempt(number: int) -> None:
        which = number % addresses
        data = {
            "email": f"shop{random.randrange(400)}@example.jp",
            "password": f"guess-{random.randrange(10**9)}",
            "csrf_token": tokens[which],
        }
        started = time.perf_counter()
        try:
            response = await clients[which].post(LOGIN_PATH, data=data)
            statuses[str(response.status_code)] += 1
        except httpx.HTTPError as exc:
            statuses[type(exc).__name__] += 1
        latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    tasks = []
    for number in range(int(rate * seconds)):
        delay = started + number / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(attempt(number)))
    sent_in = time.perf_counter() - started
    await asyncio.gather(*tasks)
    for client in clients:
        await client.aclose()
    latencies.sort()
    return {
        "attempts": len(tasks),
        "sent_per_second": round(len(tasks) / sent_in, 1),
        "statuses": dict(sorted(statuses.items())),
        "login_p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
        "login_p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 1),
    }


def flood_in_background(base: str, args: argparse.Namespace) -> tuple[threading.Thread, dict]:
    outcome: dict[str, object] = {}

    def run() -> None:
        outcome.update(asyncio.run(_flood(base, args.rate, args.addresses, args.duration)))

    thread = threading.Thread(target=run, name="login-flood")
    thread.start()
    return thread, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=3_000)
    parser.add_argument("--tokens", type=int, default=3_000)
    parser.add_argument("--rate", type=float, default=50.0, help="login attempts per second")
    parser.add_argument("--addresses", type=int, default=10)
    parser.add_argument("--duration", type=int, default=30, help="seconds of each phase")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (feed)")
    parser.add_argument("--rounds", type=int, default=3, help="idle-then-flood pairs (median)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", type=Path, default=ROOT / "var/bench/login_flood.db")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk (scripts/system-deps.sh)")
    feed_bench.prepare(args.database, args.residents)
    feed_bench.clear_deliveries(args.database)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        env = {
            "DATABASE_URL": f"sqlite:///{args.database}",
            "SECRET_KEY": feed_bench.SECRET,
            "PORTAL_IDENTITY_SECRET": feed_bench.IDENTITY_SECRET,
            "SESSION_COOKIE_SECURE": "false",
            "MODEL_STORE_DIR": str(ROOT / "var/models"),
            "DELIVERY_SPOOL_DIR": str(Path(folder) / "spool"),
        }
        tokens = feed_bench.mint_tokens(ROOT, args.database, args.tokens)
        port = feed_bench.next_port(args)
        server = feed_bench.serve(feed_bench.FEED_APP, port, env, args.workers)
        try:
            feed_bench.wait_until_ready(port)
            script = feed_bench.lua_script(tokens, Path(folder))
            url = f"http://127.0.0.1:{port}{feed_bench.FEED_PATH}"
            feed_bench.run_wrk(url, args.connections, 3, script)  # warm-up
            rounds = [measure_round(url, script, server, port, args) for _ in range(args.rounds)]
        finally:
            server.terminate()
            server.wait(30)
    ratios = sorted(r["p99_ratio"] for r in rounds)
    ratio = ratios[len(ratios) // 2]
    result = {
        "workers": args.workers,
        "connections": args.connections,
        "cpus": os.cpu_count(),
        "load_average_1m": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "duration_s": args.duration,
        "rounds": rounds,
        "median_p99_ratio": ratio,
        "target_met": ratio <= 2.0,
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{args.workers} workers, wrk {args.connections} connections, {args.duration} s per "
          f"phase, {args.rounds} rounds of idle then flood ({args.rate:g}/s from "
          f"{args.addresses} addresses); load average {result['load_average_1m'][0]} before, "
          f"{result['load_average_1m'][1]} after on {os.cpu_count()} CPUs")  # fmt: skip
    print("| round | feed | req/s | p50 ms | p99 ms | server CPU s | non-2xx | p99 ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for number, row in enumerate(rounds, start=1):
        for name in ("idle", "flooded"):
            phase = row[name]
            ratio_cell = f"{row['p99_ratio']:.2f}x" if name == "flooded" else ""
            print(f"| {number} | {name} | {phase['requests_per_second']:,.0f} | "
                  f"{phase['p50_ms']:.2f} | {phase['p99_ms']:.2f} | {phase['server_cpu_s']:.1f} | "
                  f"{phase['non_2xx']:.0f} | {ratio_cell} |")  # fmt: skip
    for number, row in enumerate(rounds, start=1):
        flood = row["flood"]
        print(f"flood {number}: {flood['attempts']} attempts at {flood['sent_per_second']}/s, "
              f"answers {flood['statuses']}, login p50 {flood['login_p50_ms']} ms, "
              f"p99 {flood['login_p99_ms']} ms")  # fmt: skip
    print(f"feed p99 under the flood / idle, median of {args.rounds} rounds: {ratio:.2f}x "
          f"(target <= 2x): {'met' if ratio <= 2.0 else 'NOT met'}")  # fmt: skip


def measure_round(
    url: str, script: Path, server: object, port: int, args: argparse.Namespace
) -> dict[str, object]:
    """The feed idle, then under the flood, on the same server: one pair of figures."""
    pid = server.pid  # type: ignore[attr-defined]
    cpu_before = feed_bench.cpu_seconds(pid)[0]
    idle = feed_bench.run_wrk(url, args.connections, args.duration, script)
    idle["server_cpu_s"] = round(feed_bench.cpu_seconds(pid)[0] - cpu_before, 1)
    thread, flood = flood_in_background(f"http://127.0.0.1:{port}", args)
    time.sleep(0.5)  # the flood's sessions are open and its first attempts are out
    cpu_before = feed_bench.cpu_seconds(pid)[0]
    flooded = feed_bench.run_wrk(url, args.connections, args.duration, script)
    flooded["server_cpu_s"] = round(feed_bench.cpu_seconds(pid)[0] - cpu_before, 1)
    thread.join()
    return {
        "idle": idle,
        "flooded": flooded,
        "flood": flood,
        "p99_ratio": round(flooded["p99_ms"] / idle["p99_ms"], 2),
    }


if __name__ == "__main__":
    main()
