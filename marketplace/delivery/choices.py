"""Residents' own ad choices: shops they hid, and personalised ads switched off.

A choice is stored once (`resident_ad_choices`, `resident_hidden_shops`) and honoured by every
worker: the worker that took the request applies it to its `ChoiceBook` at once, the others
when their refresh notices that the table changed (a cheap fingerprint query every refresh,
a full read only when it moved). The host's own consent (in the resident's token) still
applies on top: the stricter of the two wins.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.delivery.types import Audience
from marketplace.errors import NotFound
from marketplace.models import ResidentAdChoice, ResidentHiddenShop, Shop


@dataclass(frozen=True)
class AdChoices:
    """One resident's choices; the default (no row) hides nothing and allows personalisation."""

    personalized_ads: bool = True
    hidden_shops: frozenset[int] = field(default_factory=frozenset)
    revision: int = 0  # the row's revision; 0 when nothing was ever chosen

    def for_ads(self, audience: Audience) -> Audience:
        """The viewer as the ad decision may see them: no attributes once personalisation is off."""
        if self.personalized_ads or not audience.consent:
            return audience
        return audience._replace(consent=False)


NO_CHOICES = AdChoices()

# (rows, sum of revisions, latest change): moves with every insert, update and delete.
Fingerprint = tuple[int, int, datetime | None]


def fingerprint(session: Session) -> Fingerprint:
    rows, revisions, latest = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(ResidentAdChoice.revision), 0),
            func.max(ResidentAdChoice.updated_at),
        )
    ).one()
    return int(rows), int(revisions), latest


def load_all(session: Session) -> dict[str, AdChoices]:
    hidden: dict[str, set[int]] = {}
    for key, shop_id in session.execute(
        select(ResidentHiddenShop.resident_key, ResidentHiddenShop.shop_id)
    ):
        hidden.setdefault(key, set()).add(shop_id)
    return {
        key: AdChoices(personalized, frozenset(hidden.get(key, ())), revision)
        for key, personalized, revision in session.execute(
            select(
                ResidentAdChoice.resident_key,
                ResidentAdChoice.personalized_ads,
                ResidentAdChoice.revision,
            )
        )
    }


def choices_of(session: Session, resident_key: str) -> AdChoices:
    row = session.get(ResidentAdChoice, resident_key)
    if row is None:
        return NO_CHOICES
    return AdChoices(row.personalized_ads, _hidden(session, resident_key), row.revision)


def hidden_shops(session: Session, resident_key: str) -> list[tuple[int, str, datetime]]:
    """The shops this resident hid, with their names and when, most recent first."""
    rows = session.execute(
        select(ResidentHiddenShop.shop_id, Shop.business_name, ResidentHiddenShop.hidden_at)
        .join(Shop, Shop.id == ResidentHiddenShop.shop_id)
        .where(ResidentHiddenShop.resident_key == resident_key)
        .order_by(ResidentHiddenShop.hidden_at.desc(), ResidentHiddenShop.shop_id)
    )
    return [(shop_id, name, at) for shop_id, name, at in rows]


def hide_shop(session: Session, resident_key: str, shop_id: int, now: datetime) -> AdChoices:
    """Stop showing this shop's ads to the resident (NotFound for a shop that does not exist)."""
    row = _locked_row(session, resident_key, now)
    if session.get(Shop, shop_id) is None:
        raise NotFound("お店が見つかりません", field="shop_id")
    if session.get(ResidentHiddenShop, (resident_key, shop_id)) is None:
        session.add(ResidentHiddenShop(resident_key=resident_key, shop_id=shop_id, hidden_at=now))
        _changed(row, now)
    session.flush()
    return choices_of(session, resident_key)


def show_shop(session: Session, resident_key: str, shop_id: int, now: datetime) -> AdChoices:
    """Undo `hide_shop`; showing a shop that was not hidden changes nothing."""
    removed = session.execute(  # a write first: see _locked_row
        delete(ResidentHiddenShop).where(
            ResidentHiddenShop.resident_key == resident_key, ResidentHiddenShop.shop_id == shop_id
        )
    )
    row = session.get(ResidentAdChoice, resident_key, with_for_update=True)
    if row is None:
        return NO_CHOICES
    if getattr(removed, "rowcount", 0):
        _changed(row, now)
    session.flush()
    return choices_of(session, resident_key)


def set_personalized_ads(
    session: Session, resident_key: str, allowed: bool, now: datetime
) -> AdChoices:
    row = _locked_row(session, resident_key, now)
    if row.personalized_ads != allowed:
        row.personalized_ads = allowed
        _changed(row, now)
    session.flush()
    return choices_of(session, resident_key)


def forget_choices(session: Session, resident_key: str) -> int:
    """Delete the resident's choices (their hidden shops go with them); returns rows deleted."""
    hidden = session.execute(
        delete(ResidentHiddenShop).where(ResidentHiddenShop.resident_key == resident_key)
    )
    rows = session.execute(
        delete(ResidentAdChoice).where(ResidentAdChoice.resident_key == resident_key)
    )
    return int(getattr(hidden, "rowcount", 0) or 0) + int(getattr(rows, "rowcount", 0) or 0)


def _hidden(session: Session, resident_key: str) -> frozenset[int]:
    return frozenset(
        session.scalars(
            select(ResidentHiddenShop.shop_id).where(
                ResidentHiddenShop.resident_key == resident_key
            )
        )
    )


def _locked_row(session: Session, resident_key: str, now: datetime) -> ResidentAdChoice:
    """The resident's row, locked for this transaction; created (revision 0) on first use.

    A write comes first: it locks the row on PostgreSQL and takes SQLite's write lock (waiting
    out the busy timeout). On SQLite a transaction that reads first cannot start writing once
    another connection (the event writer) has committed meanwhile: "database is locked".
    """
    touched = session.execute(
        update(ResidentAdChoice)
        .where(ResidentAdChoice.resident_key == resident_key)
        .values(revision=ResidentAdChoice.revision)
    )
    if not getattr(touched, "rowcount", 0):
        try:
            with session.begin_nested():
                session.add(
                    ResidentAdChoice(
                        resident_key=resident_key,
                        personalized_ads=True,
                        revision=0,
                        updated_at=now,
                    )
                )
        except IntegrityError:  # another request created it meanwhile
            pass
    row = session.get(ResidentAdChoice, resident_key, with_for_update=True, populate_existing=True)
    assert row is not None
    return row


def _changed(row: ResidentAdChoice, now: datetime) -> None:
    row.revision += 1
    row.updated_at = now


class ChoiceBook:
    """All residents' choices as one worker holds them for its feeds.

    The feed reads `get` without a lock: a dict lookup on a dict that is only ever replaced
    whole. `remember` (on the worker that took the request, after the commit) and `reload` (the
    refresh thread) replace it under a lock. A reload that began reading before a choice was
    remembered may not have seen its commit, so it keeps that choice over what it read.
    """

    def __init__(self) -> None:
        self._choices: Mapping[str, AdChoices] = {}
        self._fingerprint: Fingerprint | None = None
        self._lock = threading.Lock()
        self._sequence = 0
        self._pending: dict[str, tuple[int, AdChoices]] = {}

    def get(self, resident_key: str) -> AdChoices | None:
        return self._choices.get(resident_key)

    def __len__(self) -> int:
        return len(self._choices)

    def remember(self, resident_key: str, choices: AdChoices) -> None:
        """A choice this worker just committed: honoured from the next feed on."""
        with self._lock:
            self._sequence += 1
            self._pending[resident_key] = (self._sequence, choices)
            updated = dict(self._choices)
            updated[resident_key] = choices
            self._choices = updated

    def reload(self, session: Session, *, force: bool = False) -> bool:
        """Read every choice if the table changed since the last read; True if it did."""
        with self._lock:
            started = self._sequence
        seen = fingerprint(session)
        if not force and seen == self._fingerprint:
            return False
        loaded = load_all(session)
        with self._lock:
            self._pending = {k: v for k, v in self._pending.items() if v[0] > started}
            for key, (_, choices) in self._pending.items():
                loaded[key] = choices
            self._choices = loaded
            self._fingerprint = seen
        return True
