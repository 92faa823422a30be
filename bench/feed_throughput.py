"""Benchmark: blended feed throughput and latency against a bare Starlette endpoint.

Seeds (once) a synthetic city with the demo placements and campaigns into SQLite, serves the
demo portal with uvicorn (one worker), and loads `GET /marketplace/api/feed?limit=10` with wrk
using real signed resident tokens spread over many residents (a Lua script picks one per
request). In the same run it loads a bare Starlette endpoint returning a constant JSON body of
the same size. Reports requests/s, p50 and p99 for both, and their ratio.

Targets: feed throughput >= 30% of the bare endpoint, feed p99 < 25 ms at 32 connections.

    .venv/bin/python bench/feed_throughput.py [--residents 20000] [--tokens 20000]
        [--connections 32] [--duration 20] [--json]

Needs wrk (Debian package `wrk`, installed by scripts/system-deps.sh).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select, text  # noqa: E402

from marketplace.db import make_engine, make_session_factory  # noqa: E402
from marketplace.delivery.demo import seed_demo_campaigns  # noqa: E402
from marketplace.demo_seed import seed_inventory  # noqa: E402
from marketplace.models import Resident  # noqa: E402
from marketplace.seeding import database_is_seeded, load_city  # noqa: E402
from marketplace.synthetic import generate_city  # noqa: E402
from portal_plugin.demo.app import identity_of  # noqa: E402
from portal_plugin.identity import mint_token  # noqa: E402
from portal_plugin.migrate import upgrade  # noqa: E402

SECRET = "bench-secret-key-" + "s" * 32
IDENTITY_SECRET = "bench-identity-secret-" + "i" * 32
FEED_PATH = "/marketplace/api/feed?limit=10"


def prepare(database: Path, residents: int, tokens: int) -> list[str]:
    url = f"sqlite:///{database}"
    database.parent.mkdir(parents=True, exist_ok=True)
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        if not database_is_seeded(session):
            city = generate_city(residents, n_articles=max(200, residents // 50), days=30, seed=0)
            load_city(session, city)
        seed_inventory(session)
        seed_demo_campaigns(session)
    with make_session_factory(engine).begin() as session:
        # A scratch database: each run starts with no deliveries, so caps and pacing start fresh.
        for table in ("ad_offers", "ad_impressions", "ad_clicks", "slot_opportunities"):
            session.execute(text(f"DELETE FROM {table}"))
    with make_session_factory(engine)() as session:
        chosen = session.scalars(select(Resident).order_by(Resident.id).limit(tokens)).all()
        minted = [mint_token(IDENTITY_SECRET, identity_of(r), ttl_seconds=3600) for r in chosen]
    engine.dispose()
    return minted


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(factory: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, **env},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{factory} did not start on port {port}")


def wait_for_relevance(port: int, token: str, timeout: float = 120.0) -> bytes:
    """The relevance model loads in the background after start-up; measure once it serves."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{FEED_PATH}", headers={"X-Portal-Resident": token}
    )
    deadline = time.monotonic() + timeout
    while True:
        with urllib.request.urlopen(request) as response:
            sample = response.read()
        if json.loads(sample)["relevance_model"] != "loading" or time.monotonic() > deadline:
            return bytes(sample)
        time.sleep(1)


def lua_script(tokens: list[str], folder: Path) -> Path:
    path = folder / "tokens.lua"
    quoted = ",\n".join(json.dumps(t) for t in tokens)
    path.write_text(
        "local tokens = {\n" + quoted + "\n}\n"
        "local n = 0\n"
        "request = function()\n"
        "  n = n + 1\n"
        "  local token = tokens[(n * 7919) % #tokens + 1]\n"
        '  return wrk.format("GET", nil, {["X-Portal-Resident"] = token})\n'
        "end\n"
    )
    return path


def run_wrk(url: str, connections: int, duration: int, script: Path | None) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    latency = {p: _ms(re.search(rf"\s{p}%\s+([\d.]+\w+)", output).group(1))  # type: ignore[union-attr]
               for p in ("50", "99")}  # fmt: skip
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests_per_second": rps,
        "p50_ms": latency["50"],
        "p99_ms": latency["99"],
        "non_2xx": float(errors.group(1)) if errors else 0.0,
    }


def measure(url: str, args: argparse.Namespace, script: Path | None) -> dict[str, float]:
    """A 3-second warm-up, then the measured run."""
    run_wrk(url, args.connections, 3, script)
    return run_wrk(url, args.connections, args.duration, script)


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--database", type=Path, default=ROOT / "var/bench/feed.db")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk (scripts/system-deps.sh)")
    tokens = prepare(args.database, args.residents, args.tokens)
    with tempfile.TemporaryDirectory() as folder:
        env = {
            "DATABASE_URL": f"sqlite:///{args.database}",
            "SECRET_KEY": SECRET,
            "PORTAL_IDENTITY_SECRET": IDENTITY_SECRET,
            "SESSION_COOKIE_SECURE": "false",
            "MODEL_STORE_DIR": str(ROOT / "var/models"),
            "DELIVERY_SPOOL_DIR": str(Path(folder) / "spool"),
        }
        feed_port = free_port()
        feed_server = serve(
            "portal_plugin.demo.app:create_demo_app_from_environment", feed_port, env
        )
        try:
            wait_for_relevance(feed_port, tokens[0])
            # A resident who has not been asked yet (polling used up tokens[0]'s frequency caps).
            request = urllib.request.Request(
                f"http://127.0.0.1:{feed_port}{FEED_PATH}", headers={"X-Portal-Resident": tokens[1]}
            )
            with urllib.request.urlopen(request) as response:
                sample = response.read()
            ads = sum(1 for item in json.loads(sample)["items"] if item["type"] == "ad")
            script = lua_script(tokens, Path(folder))
            feed = measure(f"http://127.0.0.1:{feed_port}{FEED_PATH}", args, script)
        finally:
            feed_server.terminate()
            feed_server.wait(30)
        bare_port = free_port()
        bare_server = serve(
            "bench.bare_app:create_bare_app", bare_port, {"BARE_BODY_BYTES": str(len(sample))}
        )
        try:
            bare = measure(f"http://127.0.0.1:{bare_port}/feed", args, None)
        finally:
            bare_server.terminate()
            bare_server.wait(30)
    ratio = feed["requests_per_second"] / bare["requests_per_second"]
    result = {
        "connections": args.connections,
        "duration_s": args.duration,
        "residents_with_tokens": len(tokens),
        "body_bytes": len(sample),
        "ads_in_sample_feed": ads,
        "relevance_model": json.loads(sample)["relevance_model"],
        "feed": feed,
        "bare": bare,
        "throughput_ratio": round(ratio, 3),
        "targets_met": ratio >= 0.30 and feed["p99_ms"] < 25.0,
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{args.connections} connections, {args.duration}s each, body {len(sample)} bytes, "
          f"{len(tokens)} residents' tokens, {ads} ads in a sample feed")  # fmt: skip
    print("| endpoint | req/s | p50 ms | p99 ms | non-2xx |")
    print("| --- | --- | --- | --- | --- |")
    for name, row in (("blended feed", feed), ("bare Starlette", bare)):
        print(f"| {name} | {row['requests_per_second']:,.0f} | {row['p50_ms']:.2f} | "
              f"{row['p99_ms']:.2f} | {row['non_2xx']:.0f} |")  # fmt: skip
    print(f"feed / bare throughput: {ratio:.1%} (target >= 30%); "
          f"feed p99 {feed['p99_ms']:.1f} ms (target < 25 ms)")  # fmt: skip


if __name__ == "__main__":
    main()
