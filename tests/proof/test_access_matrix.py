"""Every route of the app, called as every party: the expected answer and no one else's data.

The routes come from the app's own route table, the rules from portal_plugin/access_policy.py,
and how to call each route from PROBES in tests/proof/probes.py. A route missing from either
table fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session
from starlette.applications import Starlette

from marketplace.vocab import StaffRole
from portal_plugin.access_policy import ROUTE_ACCESS, STAFF_PARTIES, Party, access_for, staff
from tests.proof.callers import Caller, build_callers
from tests.proof.probes import PROBES, Probe
from tests.proof.routetable import route_table
from tests.support.settings import TEST_ARTICLE_API_KEY


def test_every_route_has_an_access_rule_and_a_probe(app: Starlette) -> None:
    entries = route_table(app)
    names = {entry.name for entry in entries}
    unnamed = [f"{e.method} {e.path}" for e in entries if not e.name]
    by_name: dict[str, set[str]] = {}
    for entry in entries:
        by_name.setdefault(entry.name, set()).add(f"{entry.method} {entry.path}")
    shared = {name: sorted(places) for name, places in by_name.items() if len(places) > 1}
    assert not shared, f"route names must be unique so each has its own rule: {shared}"
    assert not unnamed, f"routes without a name cannot carry an access rule: {unnamed}"
    for entry in entries:
        access_for(entry.name)  # raises MissingAccessRule naming the route
        assert entry.name in PROBES, f"route {entry.name!r} has no probe in tests/proof/probes.py"
        assert PROBES[entry.name].method == entry.method or entry.method == "GET"
    assert set(ROUTE_ACCESS) <= names, (
        f"rules for routes that no longer exist: {set(ROUTE_ACCESS) - names}"
    )
    assert set(PROBES) <= names, f"probes for routes that no longer exist: {set(PROBES) - names}"


def test_guards_in_code_agree_with_the_declared_policy(app: Starlette) -> None:
    for entry in route_table(app):
        declared = access_for(entry.name)
        if getattr(entry.endpoint, "requires_shop", False):
            assert declared.allowed == {Party.SHOP}, f"{entry.name}: require_shop, policy differs"
        roles = getattr(entry.endpoint, "required_roles", None)
        if roles is None:
            continue
        assert declared.allowed == staff(*roles, why="").allowed, (
            f"{entry.name}: require_staff{tuple(r.value for r in roles)} but the policy says "
            f"{sorted(declared.allowed)}"
        )


@pytest.fixture
def callers(app: Starlette, session: Session, client: Any) -> Iterator[dict[str, Caller]]:
    # `client` runs the app's lifespan once; the callers share the app with their own cookies.
    yield build_callers(app, session)


def expected_status(probe: Probe, route_name: str, caller: Caller) -> frozenset[int]:
    access = access_for(route_name)
    if access.allows(caller.party):
        return probe.ok
    staff_only = access.allowed <= STAFF_PARTIES
    if staff_only and caller.party in STAFF_PARTIES:
        return frozenset({probe.forbidden})  # logged in as staff, but not in the right role
    # Everyone else has no credential this route knows: a shop is no one on staff pages,
    # staff are no one on shop pages, and a resident token opens neither.
    return frozenset({probe.unauthenticated})


def personalised(kwargs: dict[str, Any], caller: Caller) -> dict[str, Any]:
    """Fill "{caller}" in form values, so per-account limits (login) do not mix callers up."""
    result = dict(kwargs)
    if isinstance(result.get("data"), dict):
        result["data"] = {
            key: value.format(caller=caller.name) if isinstance(value, str) else value
            for key, value in result["data"].items()
        }
    return result


def may_see(viewer: Caller, owner: Caller) -> bool:
    """Whose private data a party may see: staff oversee shops (approval, review, billing)."""
    return viewer.party in STAFF_PARTIES and owner.party is Party.SHOP


def check_cell(route_name: str, caller: Caller, callers: dict[str, Caller]) -> list[str]:
    """Call one route as one party; return what is wrong (nothing when the cell holds)."""
    probe = PROBES[route_name]
    access = access_for(route_name)
    kwargs = personalised(probe.kwargs, caller)
    if probe.method not in {"GET", "HEAD"} and caller.has_session:
        # Authorisation is under test here, not CSRF (test_security covers that): callers
        # with a session send their token as a page script would.
        kwargs["headers"] = {**kwargs.get("headers", {}), "X-CSRF-Token": caller.csrf_token()}
    answer = caller.request(probe.method, probe.path, **kwargs)
    expected = expected_status(probe, route_name, caller)
    cell = f"{probe.method} {probe.path} as {caller.name}"
    problems = []
    if answer.status_code not in expected:
        problems.append(
            f"{cell}: {answer.status_code}, expected {sorted(expected)}; {answer.text[:160]!r}"
        )
    body = answer.text
    for other in callers.values():
        if other is caller or may_see(caller, other):
            continue
        leaked = [marker for marker in other.private if marker in body]
        if leaked:
            problems.append(f"{cell}: shows {other.name}'s data {leaked}")
    if TEST_ARTICLE_API_KEY in body:
        problems.append(f"{cell}: echoes the article API key")
    shown = any(marker in body for marker in caller.private)
    if probe.shows_own_data and access.allows(caller.party) and caller.private and not shown:
        problems.append(f"{cell}: does not show the caller's own data")
    return problems


def test_every_route_answers_each_party_as_declared(callers: dict[str, Caller]) -> None:
    # Logging out ends the staff sessions the other cells need, so it goes last.
    order = sorted(PROBES, key=lambda name: (name.endswith("_logout"), name))
    problems = [
        problem
        for route_name in order
        for caller in callers.values()
        for problem in check_cell(route_name, caller, callers)
    ]
    assert not problems, "\n".join(problems)


def test_staff_roles_cover_every_staff_role() -> None:
    assert {Party(role.value) for role in StaffRole} == STAFF_PARTIES
