"""Bounded soak: mixed feed, click and booking traffic against several uvicorn workers.

Usage: python bench/soak.py [--minutes 10] [--workers 4] [--connections 32]
       [--admin-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--residents 5000]
       [--warm-up-rounds 6]

Creates a PostgreSQL database for the run (small city, live ads, a shop with an API token),
starts the demo portal (plugin under /marketplace) with uvicorn on loopback, and drives it:
~75% resident feeds (/api/feed, signed X-Portal-Resident tokens), ~15% clicks on the ads those
feeds served (/c/{token}), ~10% booking traffic (quotes; holds that are then cancelled), after
a warm-up that shows every resident's feed a few times. It samples every worker's RSS over time
and fits a linear trend. Stops by itself after --minutes.
Exit status 1 when any request failed (5xx, transport error, unexpected status) or memory grew.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import altair as alt
import httpx
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.soak_world import DEFAULT_ADMIN_URL, SoakWorld, build_soak_world, throwaway_postgres
from marketplace.calendar import tokyo_date, week_start
from marketplace.db import utcnow
from portal_plugin.identity import HEADER, mint_token

RESULTS = Path(__file__).resolve().parent / "results"
PREFIX = "/marketplace"
SAMPLE_SECONDS = 5.0
# A worker whose RSS trend would add more than this over the run is "growing".
MAX_GROWTH_MB_PER_HOUR = 20.0
# Caches fill and the allocator settles in the first minute; the trend is fitted after it.
WARM_UP_SECONDS = 60.0
MIN_TREND_MINUTES = 5.0
# Expected answers per kind; anything else (and every 5xx) is an error.
EXPECTED = {
    "feed": {200},
    "impression": {200, 204},
    "click": {302, 303, 307},
    "quote": {200},
    # 409: the week sold out under concurrent holds, or these weeks were held and let go too
    # often today; 429: the shop's hold rate. Each a correct refusal.
    "hold": {201, 409, 429},
    "cancel": {200, 409},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(world: SoakWorld, port: int, workers: int, spool: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": world.database_url,
        "SECRET_KEY": secrets.token_urlsafe(40),
        "PORTAL_IDENTITY_SECRET": IDENTITY_SECRET,
        "SESSION_COOKIE_SECURE": "false",
        "DELIVERY_SPOOL_DIR": str(spool),
        "MODEL_STORE_DIR": str(spool.parent / "models"),
        # One API token stands for the many shops that book at once: the per-shop hold rate
        # (a product rule against hoarding, tested on its own) is lifted to its settings' ceiling.
        "HOLD_RATE_PER_HOUR": "10000",
        "HOLD_RATE_PER_DAY": "100000",
    }
    command = [
        sys.executable, "-m", "uvicorn", "portal_plugin.cli.process_tuning:create_served_app",
        "--factory", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log", "--timeout-keep-alive", "30",
    ]  # fmt: skip
    return subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parent.parent)


def wait_ready(base: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + PREFIX + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    else:
        raise RuntimeError("the server did not become ready")
    # Each worker loads its relevance model, then ranks known residents ahead, in the
    # background after start-up; the soak measures the steady state, so wait until twenty
    # health answers in a row (any worker) say both are done.
    loaded = 0
    while loaded < 20:
        if time.monotonic() > deadline + 180:
            raise RuntimeError("the relevance model did not load")
        health = httpx.get(base + PREFIX + "/healthz", timeout=5).json()
        ready = (health.get("delivery") or {}).get("residents_ranked_ahead")
        loaded = loaded + 1 if ready else 0
        time.sleep(0.05 if loaded else 1.0)


def worker_pids(parent: int) -> list[int]:
    path = Path(f"/proc/{parent}/task/{parent}/children")
    children = [int(p) for p in path.read_text().split()] if path.exists() else []
    return children or [parent]


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        return None
    return None


class Traffic:
    def __init__(self, base: str, world: SoakWorld, deadline: float, seed: int) -> None:
        self.base = base + PREFIX
        self.world = world
        self.deadline = deadline
        self.random = random.Random(seed)
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.error_samples: list[str] = []
        self.click_urls: list[str] = []
        self.tokens = [
            mint_token(IDENTITY_SECRET, r, ttl_seconds=4 * 3600) for r in world.residents
        ]

    async def run(self, connections: int) -> None:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(limits=limits, timeout=10.0) as client:
            await asyncio.gather(*(self.user(client, i) for i in range(connections)))

    async def user(self, client: httpx.AsyncClient, number: int) -> None:
        rng = random.Random(self.random.random() + number)
        while time.monotonic() < self.deadline:
            roll = rng.random()
            if roll < 0.15 and self.click_urls:
                # Each offer is clicked at most once, as a person would; a second click on the
                # same offer is refused by design (400) and is not what this traffic models.
                url = self.click_urls.pop(rng.randrange(len(self.click_urls)))
                await self.call(client, "click", "GET", url[len(PREFIX) :])
            elif roll < 0.20:
                await self.quote(client, rng)
            elif roll < 0.25:
                await self.hold_and_cancel(client, rng)
            else:
                await self.feed(client, rng)

    async def call(self, client: httpx.AsyncClient, kind: str, method: str, path: str, **kw: object) -> httpx.Response | None:  # fmt: skip
        started = time.perf_counter()
        try:
            answer = await client.request(method, self.base + path, **kw)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            self.record_error(kind, f"{kind}: {type(exc).__name__} {exc}")
            return None
        self.latency[kind].append(time.perf_counter() - started)
        if answer.status_code not in EXPECTED[kind]:
            self.record_error(kind, f"{kind}: {answer.status_code} {answer.text[:200]}")
        return answer

    def record_error(self, kind: str, sample: str) -> None:
        self.errors[kind] += 1
        if len(self.error_samples) < 20:
            self.error_samples.append(sample)

    async def feed(self, client: httpx.AsyncClient, rng: random.Random) -> None:
        headers = {HEADER: rng.choice(self.tokens)} if rng.random() < 0.9 else {}
        answer = await self.call(client, "feed", "GET", "/api/feed?limit=10", headers=headers)
        if answer is None or answer.status_code != 200:
            return
        for item in answer.json()["items"]:
            if item["type"] != "ad" or rng.random() < 0.5:
                continue  # half the ads scroll past unseen
            # The browser loads the impression pixel; only seen ads can be clicked.
            seen = await self.call(client, "impression", "GET", item["impression_url"][len(PREFIX) :])  # fmt: skip
            if seen is not None and seen.status_code in EXPECTED["impression"]:
                self.click_urls.append(item["click_url"])
                del self.click_urls[:-500]

    async def warm_caches(self, connections: int, rounds: int) -> int:
        """Every resident's feed `rounds` times, shuffled, before the measured run.

        Each worker keeps per-resident caches (article rankings, ad relevance, today's caps),
        bounded by residents; with the load spread over four workers, a worker meets most of the
        soak's residents only after several rounds. Warming them first makes the memory trend
        show growth, not caches filling. Failures here count as errors like any other.
        """
        order = [token for _ in range(rounds) for token in self.tokens]
        self.random.shuffle(order)
        pending = iter(order)

        async def resident_views(client: httpx.AsyncClient) -> None:
            for token in pending:  # one iterator shared by all the connections
                try:
                    answer = await client.get(
                        self.base + "/api/feed?limit=10", headers={HEADER: token}
                    )
                except httpx.HTTPError as exc:
                    self.record_error("warm_up", f"warm_up: {type(exc).__name__} {exc}")
                    continue
                if answer.status_code != 200:
                    self.record_error("warm_up", f"warm_up: {answer.status_code}")

        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(limits=limits, timeout=10.0) as client:
            await asyncio.gather(*(resident_views(client) for _ in range(connections)))
        return len(order)

    def booking(self, rng: random.Random) -> dict[str, object]:
        first = week_start(tokyo_date(utcnow())) + timedelta(weeks=rng.randint(2, 40))
        return {
            "placement_id": rng.choice(self.world.placement_ids),
            "first_week": date.isoformat(first),
            "weeks": rng.randint(1, 4),
            "shares": 1,
        }

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.world.shop_token}"}

    async def quote(self, client: httpx.AsyncClient, rng: random.Random) -> None:
        body = self.booking(rng)
        await self.call(client, "quote", "POST", "/api/marketplace/quotes", json=body, headers=self.auth())  # fmt: skip

    async def hold_and_cancel(self, client: httpx.AsyncClient, rng: random.Random) -> None:
        body = {**self.booking(rng), "idempotency_key": secrets.token_hex(12)}
        held = await self.call(client, "hold", "POST", "/api/marketplace/bookings", json=body, headers=self.auth())  # fmt: skip
        if held is not None and held.status_code == 201:
            booking_id = held.json()["id"]
            await self.call(client, "cancel", "POST", f"/api/marketplace/bookings/{booking_id}/cancel", json={}, headers=self.auth())  # fmt: skip


async def sample_memory(parent: int, deadline: float, samples: dict[int, list[tuple[float, float]]]) -> None:  # fmt: skip
    start = time.monotonic()
    while time.monotonic() < deadline:
        for pid in worker_pids(parent):
            value = rss_mb(pid)
            if value is not None:
                samples[pid].append((time.monotonic() - start, value))
        await asyncio.sleep(SAMPLE_SECONDS)


def memory_trend(samples: dict[int, list[tuple[float, float]]]) -> dict[str, dict[str, Any]]:
    """Per worker: first/last/max RSS and the linear slope after the warm-up (the first minute,
    or the first fifth of a longer run)."""
    report: dict[str, dict[str, Any]] = {}
    for pid, series in samples.items():
        points = np.array(series)
        warm_up = max(WARM_UP_SECONDS, float(points[-1, 0]) / 5)
        steady = points[points[:, 0] >= warm_up] if points[-1, 0] > 2 * warm_up else points
        slope = (
            float(np.polyfit(steady[:, 0], steady[:, 1], 1)[0]) * 3600 if len(steady) >= 3 else 0.0
        )
        report[str(pid)] = {
            "first_mb": round(float(points[0, 1]), 1),
            "steady_first_mb": round(float(steady[0, 1]), 1),
            "last_mb": round(float(points[-1, 1]), 1),
            "max_mb": round(float(points[:, 1].max()), 1),
            "slope_mb_per_hour": round(slope, 2),
            "samples": len(points),
            "series": [[round(float(t), 1), round(float(mb), 1)] for t, mb in points],
        }
    return report


def memory_chart(memory: dict[str, dict[str, Any]], path: Path) -> None:
    """Every worker's RSS over the run, the warm-up shaded, as a PNG beside the JSON."""
    rows = [
        {"worker": f"pid {pid}", "minutes": t / 60, "rss_mb": mb}
        for pid, m in memory.items()
        for t, mb in m["series"]
    ]
    frame = pd.DataFrame(rows)
    warm_up = alt.Chart(pd.DataFrame({"start": [0.0], "end": [WARM_UP_SECONDS / 60]}))
    lines = (
        alt.Chart(frame)
        .mark_line()
        .encode(
            x=alt.X("minutes:Q", title="minutes"),
            y=alt.Y("rss_mb:Q", title="RSS (MB)", scale=alt.Scale(zero=True)),
            color=alt.Color("worker:N", title="process"),
        )
    )
    shade = warm_up.mark_rect(opacity=0.1, color="gray").encode(x="start:Q", x2="end:Q")
    chart = (shade + lines).properties(width=640, height=280, title="soak: RSS per process")
    chart.save(str(path), format="png", scale_factor=2)


def summarise(traffic: Traffic, seconds: float, memory: dict[str, dict[str, Any]]) -> dict[str, object]:  # fmt: skip
    kinds = {}
    for kind, values in traffic.latency.items():
        ms = np.array(values) * 1000
        kinds[kind] = {
            "requests": len(values),
            "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "errors": traffic.errors.get(kind, 0),
        }
    total = sum(len(v) for v in traffic.latency.values())
    every = np.array([x for v in traffic.latency.values() for x in v]) * 1000
    return {
        "seconds": round(seconds, 1),
        "requests": total,
        "throughput_rps": round(total / seconds, 1),
        "p99_ms": round(float(np.percentile(every, 99)), 2) if total else None,
        "errors": sum(traffic.errors.values()),
        "error_samples": traffic.error_samples,
        "by_kind": kinds,
        "memory": memory,
    }


IDENTITY_SECRET = "soak-identity-secret-" + "s" * 32


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--residents", type=int, default=5_000)
    parser.add_argument(
        "--warm-up-rounds", type=int, default=6, help="feeds per resident before measuring"
    )
    parser.add_argument(
        "--admin-url", default=os.environ.get("TEST_DATABASE_URL", DEFAULT_ADMIN_URL)
    )
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    with throwaway_postgres(args.admin_url, RESULTS) as url:
        world = build_soak_world(url, args.residents)
        port = free_port()
        spool = RESULTS / f"soak-spool-{os.getpid()}"
        server = start_server(world, port, args.workers, spool)
        try:
            wait_ready(f"http://127.0.0.1:{port}")
            seconds = args.minutes * 60
            traffic = Traffic(f"http://127.0.0.1:{port}", world, 0.0, seed=1)
            warmed = time.monotonic()
            views = asyncio.run(traffic.warm_caches(args.connections, args.warm_up_rounds))
            print(f"warmed the caches with {views} feeds in {time.monotonic() - warmed:.0f} s")
            deadline = traffic.deadline = time.monotonic() + seconds
            samples: dict[int, list[tuple[float, float]]] = defaultdict(list)

            async def drive() -> None:
                await asyncio.gather(traffic.run(args.connections), sample_memory(server.pid, deadline, samples))  # fmt: skip

            started = time.monotonic()
            asyncio.run(drive())
            memory = memory_trend(samples)
            result = summarise(traffic, time.monotonic() - started, memory)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    # A trend needs steady state: runs shorter than MIN_TREND_MINUTES report it but do not judge.
    judged = args.minutes >= MIN_TREND_MINUTES
    growing = [pid for pid, m in memory.items() if m["slope_mb_per_hour"] > MAX_GROWTH_MB_PER_HOUR] if judged else []  # fmt: skip
    result.update(
        warm_up_feeds=views,
        workers=args.workers,
        connections=args.connections,
        memory_trend_judged=judged,
        growing_workers=growing,
    )
    out = RESULTS / f"soak-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    memory_chart(memory, out.with_suffix(".png"))
    print(f"wrote {out.with_suffix('.png')}")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"wrote {out}")
    return 1 if result["errors"] or growing else 0


if __name__ == "__main__":
    sys.exit(main())
