from __future__ import annotations

from starlette.testclient import TestClient

from portal_plugin.security.headers import SECURITY_HEADERS


def test_pages_carry_a_strict_csp_and_security_headers(client: TestClient) -> None:
    response = client.get("/staff/login")
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_oversized_body_gets_413_before_the_app_reads_it(client: TestClient) -> None:
    response = client.put(
        "/api/articles/x",
        content=b"x" * (8 * 1024 * 1024 + 1),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_english_is_available_and_remembered(client: TestClient) -> None:
    english = client.get("/staff/login?lang=en")
    assert '<html lang="en">' in english.text
    assert "Staff sign-in" in english.text
    assert "pm_lang=en" in english.headers["set-cookie"]
    assert '<html lang="en">' in client.get("/staff/login").text
    assert '<html lang="ja">' in client.get("/staff/login?lang=ja").text


def test_unknown_route_is_a_json_404(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "ページが見つかりません"
