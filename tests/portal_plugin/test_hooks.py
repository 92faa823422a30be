from __future__ import annotations

import inspect
from collections.abc import Callable

from starlette.testclient import TestClient

from marketplace.vocab import AgeBand
from portal_plugin.hooks import PortalHooks
from portal_plugin.identity import ResidentIdentity, mint_token


def public_hooks() -> list[str]:
    return [
        name
        for name, member in inspect.getmembers(PortalHooks, inspect.isfunction)
        if not name.startswith("_")
    ]


def test_every_hook_has_a_one_line_docstring() -> None:
    assert set(public_hooks()) >= {"resolve_resident", "authenticate_article_push", "page_chrome"}
    for name in public_hooks():
        doc = inspect.getdoc(getattr(PortalHooks, name))
        assert doc, f"hook {name} is undocumented"
        assert "\n" not in doc.strip(), f"hook {name} needs a one-line docstring"


def test_resident_from_a_valid_token(
    client: TestClient, resident_token: Callable[..., str]
) -> None:
    token = resident_token("resident-000123", age_band=AgeBand.AGE_70_PLUS, district="minato")
    body = client.get("/api/me", headers={"X-Portal-Resident": token}).json()
    assert body["external_id"] == "resident-000123"
    assert body["age_band"] == "70+"
    assert body["district"] == "minato"


def test_missing_tampered_and_expired_tokens_get_401_with_a_reason(client: TestClient) -> None:
    assert client.get("/api/me").json()["error"]["code"] == "no_resident"
    forged = mint_token(
        "someone-else-secret-" + "z" * 30, ResidentIdentity(external_id="resident-000001")
    )
    response = client.get("/api/me", headers={"X-Portal-Resident": forged})
    assert response.status_code == 401
    assert "bad signature" in response.json()["error"]["message"]
    from tests.support.settings import TEST_IDENTITY_SECRET

    expired = mint_token(
        TEST_IDENTITY_SECRET, ResidentIdentity(external_id="r"), ttl_seconds=1, now=1_000
    )
    response = client.get("/api/me", headers={"X-Portal-Resident": expired})
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]
