"""The password-hashing gate: never more hashes at once than its concurrency, and past its
queue an immediate 503 that says how long to wait (issue 16 item 3)."""

from __future__ import annotations

import os
import threading
import time

import anyio
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from marketplace.accounts.passwords import hash_password, verify_password
from portal_plugin.security.hashing_gate import HashingBusy, HashingGate
from tests.support.marketplace_http import csrf_from, post_form

HASH = hash_password("correct horse battery")


def test_at_most_concurrency_checks_run_at_once_and_the_rest_wait() -> None:
    gate = HashingGate(concurrency=2, queue=20)
    lock = threading.Lock()
    running, most = 0, 0

    def check() -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            return verify_password(HASH, "a wrong guess!")
        finally:
            with lock:
                running -= 1

    async def flood() -> list[bool]:
        results: list[bool] = []

        async def one() -> None:
            results.append(await gate.run(check))

        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(one)
        return results

    assert anyio.run(flood) == [False] * 8
    assert most == 2
    assert gate.inside == 0


def test_hashing_runs_at_the_lowest_cpu_priority() -> None:
    gate = HashingGate(concurrency=1, queue=0)

    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before = niceness()
    assert anyio.run(gate.run, niceness) == 19
    assert niceness() == before  # the caller's own thread is untouched


def test_past_the_queue_the_answer_is_busy_at_once() -> None:
    gate = HashingGate(concurrency=1, queue=1, seconds_per_hash=0.5)
    release = threading.Event()
    outcomes: list[str] = []

    async def scenario() -> None:
        async def hold() -> None:
            await gate.run(release.wait, 10)
            outcomes.append("done")

        async with anyio.create_task_group() as group:
            group.start_soon(hold)  # hashing
            group.start_soon(hold)  # waiting: the queue is full
            await anyio.sleep(0.1)
            started = time.monotonic()
            with pytest.raises(HashingBusy) as busy:
                await gate.run(release.wait, 10)
            assert time.monotonic() - started < 0.05
            assert busy.value.params["seconds"] == 1
            assert "秒ほどたってから再度お試しください" in busy.value.message
            release.set()

    anyio.run(scenario)
    assert outcomes == ["done", "done"]


def test_a_login_while_the_gate_is_full_is_503_with_retry_after(
    app: Starlette, client: TestClient
) -> None:
    app.state.ctx.hashing = HashingGate(concurrency=1, queue=0)
    app.state.ctx.hashing._inside = 1  # another request is hashing right now
    response = post_form(
        client, "/shop/login", {"email": "soba@example.jp", "password": "x" * 12}, "/shop/login"
    )
    assert response.status_code == 503
    assert "混み合っています" in response.text
    assert int(response.headers["retry-after"]) >= 1
    english = client.post(
        "/shop/login?lang=en",
        data={
            "email": "soba@example.jp",
            "password": "x",
            "csrf_token": csrf_from(client, "/shop/login"),
        },
        headers={"accept": "text/html"},
    )
    assert "Busy right now" in english.text
    app.state.ctx.hashing._inside = 0  # the other request finished: the attempt did not count
    for _ in range(10):
        assert (
            post_form(
                client,
                "/shop/login",
                {"email": "soba@example.jp", "password": "x" * 12},
                "/shop/login",
            ).status_code
            == 400
        )
