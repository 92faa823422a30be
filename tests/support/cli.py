"""Running the `portal-marketplace` CLI in a test: its working directory and environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.settings import TEST_IDENTITY_SECRET, TEST_SECRET_KEY


def point_cli_at(monkeypatch: pytest.MonkeyPatch, folder: Path, url: str) -> str:
    """Run CLI commands in `folder` with the test secrets and `url` as their database."""
    monkeypatch.chdir(folder)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("PORTAL_IDENTITY_SECRET", TEST_IDENTITY_SECRET)
    return url
