"""The card a shop previews ("住民にはこう見えます") is the card residents get.

The shop's creative page has two previews (each version's card, and the live preview beside the
form); residents get the card in their feed and in the gadget column. All four are compared
element by element: the same label, the same image (its URL, size, lazy loading and alt text),
the same headline and body. Only where the link goes differs (previews link to the shop's page,
residents' cards through the click-counting URL), and only residents' cards carry the pixel
and 「この広告について」 (what the ad means for that resident: tests/portal_plugin/routes/
test_ad_choices.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.accounts.passwords import hash_password
from marketplace.models import Booking, Shop, ShopUser
from tests.support.delivery_world import BROWSER, World, build_world, world_client
from tests.support.marketplace_http import HTML, post_form

PASSWORD = "correct horse battery staple"
# Attributes that differ by design between a preview and a resident's card.
WHERE_IT_LINKS = {"href", "target", "id"}


class Cards(HTMLParser):
    """Each element whose class list holds "card" and "ad": its inside, as (tag, attrs, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[list[tuple[str, tuple[tuple[str, str | None], ...], str]]] = []
        self._depth = 0  # inside a card: how deep
        self._current: list[tuple[str, tuple[tuple[str, str | None], ...], str]] = []
        self._skipping = 0  # inside a resident's 「この広告について」: how deep

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if self._skipping:
            if tag not in ("input", "img"):
                self._skipping += 1
            return
        if self._depth and "about-ad" in classes:
            self._skipping = 1
            return
        if self._depth:
            if tag != "img":  # a void element: no end tag to balance
                self._depth += 1
            kept = tuple(sorted((k, v) for k, v in attrs if k not in WHERE_IT_LINKS))
            if "pixel" not in classes:
                self._current.append((tag, kept, ""))
        elif {"card", "ad"} <= set(classes):
            self._depth = 1
            self._current = []

    def handle_endtag(self, tag: str) -> None:
        if self._skipping:
            self._skipping -= 1
            return
        if self._depth:
            self._depth -= 1
            if not self._depth:
                self.cards.append(self._current)

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if self._depth and data.strip() and self._current:
            tag, attrs, text = self._current[-1]
            self._current[-1] = (tag, attrs, (text + " " + data.strip()).strip())


def cards_in(html: str) -> list[list[tuple[str, tuple[tuple[str, str | None], ...], str]]]:
    parser = Cards()
    parser.feed(html)
    return parser.cards


@pytest.fixture
def world(world_engine: Engine) -> World:
    return build_world(world_engine, shops=1, side=True)


@pytest.fixture
def client(world: World, tmp_path: Path) -> Iterator[TestClient]:
    with world_client(world, tmp_path / "spool") as client:
        yield client


def test_previews_and_residents_cards_are_the_same_card(client: TestClient, world: World) -> None:
    with Session(world.engine) as session, session.begin():
        booking = session.get(Booking, world.bookings[0])
        assert booking is not None and booking.creative_id is not None
        creative_id = booking.creative_id
        shop = session.get(Shop, booking.shop_id)
        assert shop is not None
        shop_name = shop.business_name
        email = f"owner-{shop.id}@example.jp"
        if session.scalar(select(ShopUser.id).where(ShopUser.email == email)) is None:
            session.add(
                ShopUser(shop_id=shop.id, email=email, password_hash=hash_password(PASSWORD))
            )
    login = post_form(client, "/shop/login", {"email": email, "password": PASSWORD}, "/shop/login")
    assert login.status_code == 303, login.text
    page = client.get(f"/shop/creatives/{creative_id}", headers=HTML)
    assert page.status_code == 200
    version_card, live_preview = cards_in(page.text)
    resident = TestClient(client.app, base_url="https://testserver", headers=BROWSER)
    feed_cards = cards_in(resident.get("/fragment/feed").text)
    side_cards = cards_in(resident.get("/fragment/side").text)
    assert len(feed_cards) == 1 and len(side_cards) == 1  # one shop: once per feed

    assert version_card == live_preview == side_cards[0] == feed_cards[0]
    tags = [(tag, dict(attrs).get("class")) for tag, attrs, _ in version_card]
    assert tags == [
        ("p", "ad-label"),
        ("span", "badge ad-badge"),
        ("span", "ad-sponsor"),
        ("a", "ad-link"),
        ("img", "ad-image"),
        ("h3", "ad-headline"),
        ("p", "ad-body"),
    ]
    image = dict(version_card[4][1])
    assert image["loading"] == "lazy" and image["alt"] == "紅葉の季節の限定メニュー"
    assert (image["width"], image["height"]) == ("600", "314")
    assert version_card[2][2] == shop_name
