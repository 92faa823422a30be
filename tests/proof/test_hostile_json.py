"""Hostile JSON bodies on the two JSON write APIs: the CMS article push and the shops' API.

What each case breaks: the body is not UTF-8, nests 100,000 levels deep (Python's parser
recurses and would raise RecursionError), or carries a 5,000-digit integer (int() refuses more
than 4,300 digits with ValueError). Each must be refused with the API's documented error (400
`invalid_json` on the push API, 422 `invalid_input` on the shop API) and a Japanese message,
never a 500, and nothing may be written.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.models import Article, Booking
from portal_plugin.demo.inventory import seed_inventory
from tests.support.marketplace_http import api_client
from tests.support.settings import TEST_ARTICLE_API_KEY

HOSTILE_BODIES = {
    "not_utf8": '{"title": "除雪"}'.encode("shift_jis"),
    "nested_arrays": b"[" * 100_000 + b"]" * 100_000,
    "nested_objects": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "huge_integer": b'{"placement_id": ' + b"9" * 5_000 + b"}",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
def test_article_push_refuses_hostile_json_with_400(
    client: TestClient, session: Session, name: str
) -> None:
    response = client.put(
        "/api/articles/cms-hostile",
        content=HOSTILE_BODIES[name],
        headers={
            "Authorization": f"Bearer {TEST_ARTICLE_API_KEY}",
            "content-type": "application/json",
        },
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"] == "JSON として読めません"
    assert session.scalar(select(func.count()).select_from(Article)) == 0


@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
def test_shop_api_refuses_hostile_json_with_422(
    client: TestClient, session: Session, name: str
) -> None:
    seed_inventory(session)
    auth = api_client(client, session)
    response = client.post(
        "/api/marketplace/bookings",
        content=HOSTILE_BODIES[name],
        headers={**auth, "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == {
        "code": "invalid_input",
        "message": "JSONとして読み取れません",
        "field": "body",
    }
    assert session.scalar(select(func.count()).select_from(Booking)) == 0
