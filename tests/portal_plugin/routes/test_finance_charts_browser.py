"""The dashboard's charts render in a real browser under the app's strict CSP.

Starts the app with uvicorn on loopback, signs in as finance staff in headless Chromium, and
checks that every chart became a canvas and that the browser reported no CSP violation and no
script error (Vega runs with its expression interpreter, so no 'unsafe-eval' is needed).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from analytics.seeds import seed_services
from marketplace.accounts.staff import create_staff
from marketplace.db import make_engine, make_session_factory
from marketplace.vocab import StaffRole
from portal_plugin.app import create_app
from portal_plugin.migrate import upgrade
from tests.support.settings import make_settings
from tests.support.staff_http import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        seed_services(session, [2025, 2026, 2027])
        create_staff(session, "keiri@city.example", "経理", PASSWORD, StaffRole.FINANCE)
    engine.dispose()
    settings = make_settings(url, session_cookie_secure=False, model_store_dir=tmp_path / "m")
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error")
    app_server = uvicorn.Server(config)
    thread = threading.Thread(target=app_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not app_server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    app_server.should_exit = True
    thread.join(10)


def test_charts_render_without_csp_violations(server: str) -> None:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (scripts/system-deps.sh installs it)")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page()
        problems: list[str] = []
        page.on(
            "console",
            lambda message: (
                problems.append(message.text)
                if message.type == "error" and "favicon" not in message.text
                else None
            ),
        )
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{server}/staff/login")
        page.fill("input[name=email]", "keiri@city.example")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{server}/finance/?fiscal_year=2026")
        # Every chart becomes a canvas (five since the delivery chart; they render one by one).
        page.wait_for_function(
            "document.querySelectorAll('.chart-view canvas').length === 5", timeout=15_000
        )
        assert page.locator(".chart-view canvas").count() == 5
        assert page.locator(".chart-view").first.inner_text() == ""  # no error message
        browser.close()
    assert not [p for p in problems if "404" not in p], problems
