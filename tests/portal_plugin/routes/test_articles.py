from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.testclient import TestClient

from tests.support.settings import TEST_ARTICLE_API_KEY

AUTH = {"Authorization": f"Bearer {TEST_ARTICLE_API_KEY}"}


def article(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "除雪車の出動状況について",
        "summary": "今朝の除雪作業の予定です。",
        "url": "https://www.city.aizuwakamatsu.fukushima.jp/snow/1",
        "category": "除雪",
        "tags": ["除雪", "冬"],
        "priority": "normal",
        "published_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
    }
    body.update(overrides)
    return body


def test_push_creates_then_updates_an_article(client: TestClient) -> None:
    created = client.put("/api/articles/cms-1", json=article(), headers=AUTH)
    assert created.status_code == 201
    assert created.json()["title"] == "除雪車の出動状況について"
    updated = client.put("/api/articles/cms-1", json=article(title="更新しました"), headers=AUTH)
    assert updated.status_code == 200
    listed = client.get("/api/articles").json()["articles"]
    assert [a["title"] for a in listed if a["id"] == "cms-1"] == ["更新しました"]


def test_push_without_the_api_key_is_refused(client: TestClient) -> None:
    assert client.put("/api/articles/cms-2", json=article()).status_code == 401
    wrong = {"Authorization": "Bearer " + "x" * 32}
    assert client.put("/api/articles/cms-2", json=article(), headers=wrong).status_code == 401
    assert not any(a["id"] == "cms-2" for a in client.get("/api/articles").json()["articles"])


def test_invalid_article_gets_422_with_field_errors(client: TestClient) -> None:
    bad = article(category="宇宙", url="javascript:alert(1)", published_at="2026-04-01T09:00:00")
    response = client.put("/api/articles/cms-3", json=bad, headers=AUTH)
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["error"]["fields"]}
    assert fields == {"category", "url", "published_at"}


def test_unknown_fields_and_bad_json_are_refused(client: TestClient) -> None:
    response = client.put("/api/articles/cms-4", json=article(author="x"), headers=AUTH)
    assert response.status_code == 422
    response = client.put(
        "/api/articles/cms-4",
        content=b"{not json",
        headers={**AUTH, "content-type": "application/json"},
    )
    assert response.status_code == 400


def test_invalid_article_id_is_refused(client: TestClient) -> None:
    response = client.put("/api/articles/bad%20id", json=article(), headers=AUTH)
    assert response.status_code == 422


def test_live_list_puts_urgent_notices_first_and_hides_expired(client: TestClient) -> None:
    now = datetime.now(UTC)
    client.put(
        "/api/articles/old",
        json=article(published_at=(now - timedelta(days=3)).isoformat()),
        headers=AUTH,
    )
    client.put(
        "/api/articles/urgent",
        json=article(priority="urgent", published_at=(now - timedelta(days=5)).isoformat()),
        headers=AUTH,
    )
    client.put(
        "/api/articles/expired",
        json=article(
            published_at=(now - timedelta(days=2)).isoformat(),
            expires_at=(now - timedelta(days=1)).isoformat(),
        ),
        headers=AUTH,
    )
    client.put(
        "/api/articles/future",
        json=article(published_at=(now + timedelta(days=1)).isoformat()),
        headers=AUTH,
    )
    ids = [a["id"] for a in client.get("/api/articles?limit=10").json()["articles"]]
    assert ids[0] == "urgent"
    assert "old" in ids
    assert "expired" not in ids
    assert "future" not in ids


def test_bad_limit_is_422(client: TestClient) -> None:
    for value in ["0", "-1", "abc", "101"]:
        assert client.get(f"/api/articles?limit={value}").status_code == 422
