"""Login throttling per account (across addresses) and per address (across accounts).

A pair limit (one address, one account) lets one address spray many accounts and many
addresses guess at one account. Failures are counted in the database, so every worker of the
installation shares the counts, with or without Redis. A row is written before the password is
checked and removed when it matches: concurrent attempts count before their hashes finish, and
a refused attempt writes nothing, so retrying during a lock does not lengthen it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import IPv6Address, ip_address, ip_network
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from marketplace.lru import LruCache
from marketplace.models import LoginFailure

Realm = Literal["shop", "staff"]
Scope = Literal["account", "address"]


@dataclass(frozen=True)
class FailureLimit:
    failures: int
    window: timedelta


# An account: enough for its people to mistype, far too few to guess a password.
ACCOUNT_LIMIT = FailureLimit(10, timedelta(minutes=15))
# An address: a shared office or a mobile carrier's NAT mistypes more, but never 40 accounts.
ADDRESS_LIMIT = FailureLimit(20, timedelta(minutes=15))
KEEP_FAILURES = timedelta(days=1)


@dataclass(frozen=True)
class LoginRefused:
    scope: Scope
    wait_seconds: int


def wait_seconds(recent: Sequence[datetime], limit: FailureLimit, now: datetime) -> int:
    """Seconds until one more failure fits the limit (0: it fits now).

    `recent` are the failures inside the window, newest first; the wait ends when the oldest
    of the newest `limit.failures` of them leaves the window.
    """
    if len(recent) < limit.failures:
        return 0
    leaves = recent[limit.failures - 1] + limit.window
    return max(1, math.ceil((leaves - now).total_seconds()))


def account_key(email: str) -> str:
    """A digest of the address tried: the throttle keeps no list of guessed addresses."""
    return hashlib.sha256(email.strip().lower().encode("utf-8", "replace")).hexdigest()


def address_key(host: str) -> str:
    """The client address, IPv6 by its /64 (one subscriber's whole network)."""
    try:
        address = ip_address(host.strip())
    except ValueError:
        return host.strip()[:64] or "unknown"
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ip_network(f"{address}/64", strict=False))
    return str(address)


def start_login_attempt(
    session: Session, realm: Realm, email: str, host: str, now: datetime
) -> int | LoginRefused:
    """Refuse the attempt (with the longer wait) if either limit is full; else count it as a
    failure until `login_succeeded` takes it back, and return its id."""
    account, address = account_key(email), address_key(host)
    waits: tuple[tuple[Scope, int], ...] = (
        ("address", _wait(session, realm, LoginFailure.address, address, ADDRESS_LIMIT, now)),
        ("account", _wait(session, realm, LoginFailure.account, account, ACCOUNT_LIMIT, now)),
    )
    refusals = [LoginRefused(scope, wait) for scope, wait in waits if wait]
    if refusals:
        return max(refusals, key=lambda refusal: refusal.wait_seconds)
    session.execute(delete(LoginFailure).where(LoginFailure.at < now - KEEP_FAILURES))
    failure = LoginFailure(realm=realm, account=account, address=address, at=now)
    session.add(failure)
    session.flush()
    return failure.id


def login_succeeded(session: Session, attempt_id: int) -> None:
    """The password matched (or was never checked): the attempt is not a failure."""
    session.execute(delete(LoginFailure).where(LoginFailure.id == attempt_id))


def _wait(
    session: Session,
    realm: Realm,
    column: InstrumentedAttribute[str],
    key: str,
    limit: FailureLimit,
    now: datetime,
) -> int:
    recent = session.scalars(
        select(LoginFailure.at)
        .where(LoginFailure.realm == realm, column == key, LoginFailure.at > now - limit.window)
        .order_by(LoginFailure.at.desc())
        .limit(limit.failures)
    ).all()
    return wait_seconds(recent, limit, now)


class RecentRefusals:
    """Refusals this process has answered, until their wait ends.

    A refused attempt writes nothing, so until the oldest counted failure leaves its window
    the count cannot drop (other workers cannot add to a full count either): repeating the
    answer needs no database read. A flood of refused attempts then costs the database
    nothing. (The one way a count drops early is an attempt in flight that succeeds; its
    account may then stay refused here a little longer than the database would say.)
    """

    def __init__(self, size: int = 10_000) -> None:
        self._until: LruCache[tuple[str, Scope, str], datetime] = LruCache(size)

    def remember(
        self, realm: Realm, email: str, host: str, refused: LoginRefused, now: datetime
    ) -> None:
        key = account_key(email) if refused.scope == "account" else address_key(host)
        self._until.put((realm, refused.scope, key), now + timedelta(seconds=refused.wait_seconds))

    def check(self, realm: Realm, email: str, host: str, now: datetime) -> LoginRefused | None:
        """The longer remembered refusal of this address or account, or None."""
        waits = []
        keys: tuple[tuple[Scope, str], ...] = (
            ("address", address_key(host)),
            ("account", account_key(email)),
        )
        for scope, key in keys:
            until = self._until.get((realm, scope, key))
            if until is not None and until > now:
                waits.append(LoginRefused(scope, math.ceil((until - now).total_seconds())))
        return max(waits, key=lambda refusal: refusal.wait_seconds, default=None)
