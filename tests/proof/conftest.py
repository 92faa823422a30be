"""Fixtures for whole-system proof tests: a seeded live demo portal and a real browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from portal_plugin.demo.app import create_demo_app
from portal_plugin.settings import Settings
from tests.proof.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, Journey, artifact_dir
from tests.proof.callers import STRIPE_API_KEY, STRIPE_WEBHOOK_SECRET
from tests.proof.livesite import LiveServer, live_server, seeded_database
from tests.support.settings import make_settings


@pytest.fixture(scope="session")
def seeded_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with seeded_database(tmp_path_factory.mktemp("live-db")) as url:
        yield url


@pytest.fixture(scope="session")
def live_site(
    seeded_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The demo portal (plugin mounted at /marketplace) over plain http on loopback."""
    settings = make_settings(
        seeded_database_url,
        session_cookie_secure=False,
        model_store_dir=tmp_path_factory.mktemp("live-models"),
    )
    with live_server(create_demo_app(settings)) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("chromium is missing: run `bash scripts/system-deps.sh` as root")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def journey(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Journey]:
    """A fresh browser context (no cookies) at desktop width, with screenshots per step."""
    context = browser.new_context(viewport=DESKTOP, locale="ja-JP")
    context.set_default_timeout(15_000)
    page: Page = context.new_page()
    yield Journey(page, artifact_dir(request.node.name))
    context.close()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """As the shared fixture, with Stripe configured so the webhook route is live."""
    return make_settings(
        database_url,
        model_store_dir=tmp_path / "models",
        stripe_api_key=STRIPE_API_KEY,
        stripe_webhook_secret=STRIPE_WEBHOOK_SECRET,
        stripe_api_base="http://127.0.0.1:9",  # nothing listens: no test here may reach Stripe
    )
