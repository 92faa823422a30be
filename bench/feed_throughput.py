"""Benchmark: blended feed throughput and latency against a bare Starlette endpoint.

Seeds (once) a synthetic city with the demo placements and campaigns into SQLite, serves the
demo portal with uvicorn (one worker unless --workers), and loads `GET /marketplace/api/feed?limit=10` with wrk
using real signed resident tokens spread over many residents (a Lua script picks one per
request). In the same run it loads a bare Starlette endpoint returning a constant JSON body of
the same size. Reports requests/s, p50 and p99 for both, and their ratio.

`--before TREE` also serves the feed from another checkout of the project (e.g. a
`git worktree add --detach` of the commit before a change), on the same database with tokens
minted by that checkout's own code, so a change is measured before and after in one run against
the same bare endpoint.

Targets: feed throughput >= 25% of the bare endpoint, feed p99 <= 25 ms at 32 connections.

    .venv/bin/python bench/feed_throughput.py [--residents 20000] [--tokens 20000]
        [--connections 32] [--duration 20] [--workers 1] [--before TREE] [--json]

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

from sqlalchemy import text  # noqa: E402

from marketplace.db import make_engine, make_session_factory  # noqa: E402
from marketplace.synthetic import generate_city  # noqa: E402
from marketplace.synthetic.loader import database_is_seeded, load_city  # noqa: E402
from portal_plugin.demo.campaigns import seed_demo_campaigns  # noqa: E402
from portal_plugin.demo.inventory import seed_inventory  # noqa: E402
from portal_plugin.migrate import upgrade  # noqa: E402

SECRET = "bench-secret-key-" + "s" * 32
IDENTITY_SECRET = "bench-identity-secret-" + "i" * 32
FEED_PATH = "/marketplace/api/feed?limit=10"
HEALTH_PATH = "/marketplace/healthz"
FEED_APP = "portal_plugin.cli.process_tuning:create_served_app"
# The demo app's factory in checkouts from before `serve` owned the process tuning.
OLD_FEED_APP = "portal_plugin.demo.app:create_demo_app_from_environment"
# Run inside a checkout (its own code first on sys.path): tokens as that code mints them.
MINT_SCRIPT = """
import json, sys
from sqlalchemy import select
from marketplace.db import make_engine, make_session_factory
from marketplace.models import Resident
from portal_plugin.demo.app import identity_of
from portal_plugin.identity import mint_token
url, secret, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
with make_session_factory(make_engine(url))() as session:
    chosen = session.scalars(select(Resident).order_by(Resident.id).limit(limit)).all()
    print(json.dumps([mint_token(secret, identity_of(r), ttl_seconds=3600) for r in chosen]))
"""


def prepare(database: Path, residents: int) -> None:
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
    engine.dispose()


def clear_deliveries(database: Path) -> None:
    """Each feed server starts with no deliveries, so caps and pacing start fresh."""
    engine = make_engine(f"sqlite:///{database}")
    with make_session_factory(engine).begin() as session:
        for table in ("ad_offers", "ad_impressions", "ad_clicks", "slot_opportunities"):
            session.execute(text(f"DELETE FROM {table}"))
    engine.dispose()


def mint_tokens(tree: Path, database: Path, count: int) -> list[str]:
    command = [sys.executable, "-c", MINT_SCRIPT, f"sqlite:///{database}", IDENTITY_SECRET]
    output = subprocess.run(
        [*command, str(count)], cwd=tree, capture_output=True, text=True, check=True
    ).stdout
    tokens: list[str] = json.loads(output)
    return tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def next_port(args: argparse.Namespace) -> int:
    """The next of the ports given by --port, or a free one."""
    if not args.port:
        return free_port()
    args.port += 1
    return int(args.port - 1)


def serve(
    factory: str, port: int, env: dict[str, str], workers: int = 1, tree: Path = ROOT
) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log", "--log-level", "warning",
         "--workers", str(workers)],
        cwd=tree, env={**os.environ, **env},
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


def wait_until_ready(port: int, timeout: float = 180.0) -> None:
    """The relevance model loads, then known residents are ranked ahead, in the background
    after start-up: measure once that is done. With several workers a poll reaches any one of
    them: wait for ten answers in a row."""
    deadline = time.monotonic() + timeout
    ready = 0
    while ready < 10:
        if time.monotonic() > deadline:
            raise RuntimeError("the feed server did not finish ranking residents ahead in time")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{HEALTH_PATH}") as response:
                delivery = json.loads(response.read()).get("delivery") or {}
        except OSError:  # a worker still starting
            delivery = {}
        ready = ready + 1 if delivery.get("residents_ranked_ahead") else 0
        time.sleep(1 if ready == 0 else 0.05)


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


def measure(
    url: str, args: argparse.Namespace, script: Path | None, server: subprocess.Popen[bytes]
) -> dict[str, float]:
    """A 3-second warm-up, then the measured run, with the server's CPU time per request.

    CPU time per request (user + system, all the server's processes) does not depend on how
    loaded the machine is, unlike requests/s and latency on a shared machine.
    """
    run_wrk(url, args.connections, 3, script)
    before = cpu_seconds(server.pid)
    result = run_wrk(url, args.connections, args.duration, script)
    after = cpu_seconds(server.pid)
    requests = result["requests_per_second"] * args.duration
    used = after[0] - before[0]
    result["cpu_ms_per_request"] = round(1000 * used / requests, 3) if requests else 0.0
    # Seconds the server's threads were ready to run but waited for a CPU, per second of run:
    # how much the other processes on the machine held it back.
    result["runqueue_wait_per_s"] = round((after[1] - before[1]) / args.duration, 2)
    return result


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) and run-queue wait seconds of a process's threads and its
    children's (uvicorn workers), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = wait = 0.0
    for process in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{process}/task").iterdir():
                wait += int((task / "schedstat").read_text().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            continue
    return cpu, wait


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        for child in children:
            found += [int(child), *_children(int(child))]
    return found


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def measure_feed(
    tree: Path, args: argparse.Namespace, env: dict[str, str], folder: Path
) -> tuple[dict[str, float], bytes]:
    """Serve the demo portal from `tree` and load its feed: the figures and a sample body."""
    clear_deliveries(args.database)
    tokens = mint_tokens(tree, args.database, args.tokens)
    factory = FEED_APP if (tree / "portal_plugin/cli/process_tuning.py").exists() else OLD_FEED_APP
    port = next_port(args)
    server = serve(factory, port, env, args.workers, tree)
    try:
        wait_until_ready(port)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{FEED_PATH}", headers={"X-Portal-Resident": tokens[1]}
        )
        with urllib.request.urlopen(request) as response:
            sample = response.read()
        script = lua_script(tokens, folder)
        result = measure(f"http://127.0.0.1:{port}{FEED_PATH}", args, script, server)
    finally:
        server.terminate()
        server.wait(30)
    result["tokens"] = float(len(tokens))
    return result, sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=20_000)
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--database", type=Path, default=ROOT / "var/bench/feed.db")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers, both servers")
    parser.add_argument("--before", type=Path, help="another checkout, measured first")
    parser.add_argument("--port", type=int, default=0, help="first of 3 ports (default: free)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk (scripts/system-deps.sh)")
    prepare(args.database, args.residents)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        env = {
            "DATABASE_URL": f"sqlite:///{args.database}",
            "SECRET_KEY": SECRET,
            "PORTAL_IDENTITY_SECRET": IDENTITY_SECRET,
            "SESSION_COOKIE_SECURE": "false",
            "MODEL_STORE_DIR": str(ROOT / "var/models"),
            "DELIVERY_SPOOL_DIR": str(Path(folder) / "spool"),
        }
        before = None
        if args.before is not None:
            before, _ = measure_feed(args.before.resolve(), args, env, Path(folder))
        feed, sample = measure_feed(ROOT, args, env, Path(folder))
        bare_port = next_port(args)
        bare_server = serve(
            "bench.bare_app:create_bare_app",
            bare_port,
            {"BARE_BODY_BYTES": str(len(sample))},
            args.workers,
        )
        try:
            bare = measure(f"http://127.0.0.1:{bare_port}/feed", args, None, bare_server)
        finally:
            bare_server.terminate()
            bare_server.wait(30)
    ads = sum(1 for item in json.loads(sample)["items"] if item["type"] == "ad")
    ratio = feed["requests_per_second"] / bare["requests_per_second"]
    result = {
        "connections": args.connections,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        # Other processes on a shared machine: throughput and latency only compare within a run.
        "load_average_1m": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "duration_s": args.duration,
        "residents_with_tokens": int(feed["tokens"]),
        "body_bytes": len(sample),
        "ads_in_sample_feed": ads,
        "relevance_model": json.loads(sample)["relevance_model"],
        "feed": feed,
        "bare": bare,
        "throughput_ratio": round(ratio, 3),
        "targets_met": ratio >= 0.25 and feed["p99_ms"] <= 25.0,
    }
    rows = [("blended feed", feed), ("bare Starlette", bare)]
    if before is not None:
        result["before"] = before
        result["before_throughput_ratio"] = round(
            before["requests_per_second"] / bare["requests_per_second"], 3
        )
        rows.insert(0, (f"blended feed before ({args.before})", before))
    if args.json:
        print(json.dumps(result))
        return
    print(f"{args.connections} connections, {args.workers} worker(s), {args.duration}s each, "
          f"body {len(sample)} bytes, {result['residents_with_tokens']} residents' tokens, "
          f"{ads} ads in a sample feed; load average {result['load_average_1m'][0]} before, "
          f"{result['load_average_1m'][1]} after on {os.cpu_count()} CPUs")  # fmt: skip
    print(
        "| endpoint | req/s | of bare | p50 ms | p99 ms | server CPU ms/req "
        "| run-queue wait s/s | non-2xx |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, row in rows:
        share = row["requests_per_second"] / bare["requests_per_second"]
        print(f"| {name} | {row['requests_per_second']:,.0f} | {share:.1%} | {row['p50_ms']:.2f} | "
              f"{row['p99_ms']:.2f} | {row['cpu_ms_per_request']:.3f} | {row['runqueue_wait_per_s']:.2f} | {row['non_2xx']:.0f} |")  # fmt: skip
    print(f"feed / bare throughput: {ratio:.1%} (target >= 25%); "
          f"feed p99 {feed['p99_ms']:.1f} ms (target <= 25 ms)")  # fmt: skip


if __name__ == "__main__":
    main()
