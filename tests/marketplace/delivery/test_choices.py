"""Residents' ad choices: stored once, honoured by the worker that took them at once and by the
other workers at their next refresh; the consent in the token still wins when stricter."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from marketplace.db import make_session_factory, utcnow
from marketplace.delivery import choices as choices_module
from marketplace.delivery.choices import (
    NO_CHOICES,
    AdChoices,
    ChoiceBook,
    choices_of,
    forget_choices,
    hidden_shops,
    hide_shop,
    set_personalized_ads,
    show_shop,
)
from marketplace.delivery.service import DeliveryService, ServedAd, ServedFeed
from marketplace.delivery.types import Audience
from marketplace.errors import NotFound
from marketplace.models import Booking, ResidentAdChoice, ResidentHiddenShop
from tests.support.delivery_world import World, build_world, started_worker

RESIDENT = "resident-choices-1"
TARGETED = {"age_bands": ["30-39"]}


@pytest.fixture
def world(world_engine: Engine) -> World:
    return build_world(world_engine, shops=2)


def worker(engine: Engine, tmp_path: Path, name: str) -> DeliveryService:
    return started_worker(engine, tmp_path, name)


def shops_shown(feed: ServedFeed) -> set[int]:
    return {item.slot.ad.shop_id for item in feed.items if isinstance(item, ServedAd)}


def shop_ids(world: World) -> list[int]:
    with Session(world.engine) as session:
        return sorted(
            set(session.scalars(select(Booking.shop_id).where(Booking.id.in_(world.bookings))))
        )


def test_choices_are_stored_and_each_change_moves_the_revision(world: World) -> None:
    first, second = shop_ids(world)
    now = utcnow()
    key = "k" * 32
    with Session(world.engine) as session, session.begin():
        assert choices_of(session, key) == NO_CHOICES
        hidden = hide_shop(session, key, first, now)
        assert hidden.hidden_shops == {first} and hidden.personalized_ads
        again = hide_shop(session, key, first, now)  # hiding twice changes nothing
        assert again.revision == hidden.revision
        both = hide_shop(session, key, second, now + timedelta(seconds=1))
        off = set_personalized_ads(session, key, False, now)
        assert off.revision > both.revision > hidden.revision
        listed = hidden_shops(session, key)
        assert [shop_id for shop_id, _, _ in listed] == [second, first]  # latest first
        assert {name for _, name, _ in listed} == set(world.shop_names.values())
        shown = show_shop(session, key, first, now)
        assert shown.hidden_shops == {second} and not shown.personalized_ads
        with pytest.raises(NotFound):
            hide_shop(session, key, 987_654_321, now)
        assert forget_choices(session, key) == 2  # the hidden shop and the choice row
        assert choices_of(session, key) == NO_CHOICES
        assert session.scalar(select(ResidentHiddenShop).limit(1)) is None
        assert session.scalar(select(ResidentAdChoice).limit(1)) is None
        session.rollback()


def test_a_choice_counts_on_the_worker_that_took_it_at_once_and_on_others_after_refresh(
    world: World, tmp_path: Path
) -> None:
    a, b = worker(world.engine, tmp_path, "a"), worker(world.engine, tmp_path, "b")
    first, second = shop_ids(world)
    viewer = Audience(RESIDENT, consent=True)
    key = a.resident_key(RESIDENT)
    assert shops_shown(a.feed(viewer, 10)) == {first, second}

    with Session(world.engine) as session, session.begin():
        stored = hide_shop(session, key, first, utcnow())
    a.choices.remember(key, stored)  # what the route does after its commit

    for _ in range(5):
        assert shops_shown(a.feed(viewer, 10)) == {second}
    # Worker b has not refreshed yet: it still shows the shop, then honours the choice.
    assert first in shops_shown(b.feed(viewer, 10))
    assert b.refresh()
    for _ in range(5):
        assert shops_shown(b.feed(viewer, 10)) == {second}
    # Other residents are not affected.
    assert shops_shown(b.feed(Audience("someone-else", consent=True), 10)) == {first, second}
    for service in (a, b):
        service.stop()


def test_personalised_ads_off_keeps_targeted_ads_away_and_records_no_segment(
    world_engine: Engine, tmp_path: Path
) -> None:
    world = build_world(world_engine, shops=1, targeting=TARGETED)
    a, b = worker(world.engine, tmp_path, "pa"), worker(world.engine, tmp_path, "pb")
    viewer = Audience(RESIDENT, age_band="30-39", district="tsuruga", consent=True)
    shown = a.feed(viewer, 10)
    assert shops_shown(shown) and shown.ads_personalized
    key = a.resident_key(RESIDENT)
    with Session(world.engine) as session, session.begin():
        stored = set_personalized_ads(session, key, False, utcnow())
    a.choices.remember(key, stored)
    after = a.feed(viewer, 10)
    assert not shops_shown(after) and not after.ads_personalized
    assert after.personalized  # the articles still follow the host's consent
    assert b.refresh()
    assert not shops_shown(b.feed(viewer, 10))
    # The token's consent wins when it is stricter: allowing again in the plugin does not
    # personalise a resident whose host setting is off.
    with Session(world.engine) as session, session.begin():
        again = set_personalized_ads(session, key, True, utcnow())
    a.choices.remember(key, again)
    assert shops_shown(a.feed(viewer, 10))
    refused = a.feed(viewer._replace(consent=False), 10)
    assert not shops_shown(refused) and not refused.ads_personalized
    for service in (a, b):
        service.stop()


def test_a_reload_that_began_before_a_commit_keeps_the_newer_local_choice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = ChoiceBook()
    key = "q" * 32
    factory = make_session_factory(world.engine)
    chosen = AdChoices(False, frozenset(), 1)
    read_before_commit = choices_module.load_all

    def load_while_a_choice_arrives(session: Session) -> dict[str, AdChoices]:
        loaded = read_before_commit(session)  # does not hold the choice ...
        book.remember(key, chosen)  # ... committed and remembered meanwhile
        return loaded

    monkeypatch.setattr(choices_module, "load_all", load_while_a_choice_arrives)
    with factory() as session:
        assert book.reload(session, force=True)
    assert book.get(key) == chosen
    monkeypatch.setattr(choices_module, "load_all", read_before_commit)
    # A reload that began after the remember reads the database, which is then the truth
    # (here the choice was never committed, so it is gone).
    with factory() as session:
        assert book.reload(session, force=True)
    assert book.get(key) is None
