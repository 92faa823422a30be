"""No page a shop or city staff member reads shows a vocabulary code instead of its label.

A seeded world (the demo's campaigns, flyers, house ads, a fiscal year of bookings, invoices and
payments) is served by the plugin; each party signs in and follows every link from its menu, as
a person clicking through would, one page per path shape and query. Every page of the access
matrix that the party may open is reached this way or asked for directly.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from marketplace.db import make_engine, make_session_factory
from marketplace.models import Placement
from portal_plugin.access_policy import Party, access_for
from portal_plugin.app import create_app
from portal_plugin.demo.accounts import DEMO_PASSWORD, DEMO_SHOP_EMAIL, DEMO_STAFF
from tests.proof.livesite import demo_world_database
from tests.proof.probes import PROBES
from tests.support.marketplace_http import HTML, post_form
from tests.support.page_text import codes_shown, vocabulary_codes
from tests.support.settings import make_settings

HREF = re.compile(r'href="(/[^"#]*)"')
# Not pages: downloads, images, logging out, and ad clicks and views (they would count).
NOT_PAGES = re.compile(r"[./](csv|xlsx|png|pdf|css|js|json)(\?|$)|/logout$|/static/|^/[cih]/")
PAGES_PER_SHAPE = 3
MAX_PAGES = 400


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, frozenset[str]]]:
    with demo_world_database(tmp_path_factory.mktemp("vocabulary-world")) as url:
        engine = make_engine(url)
        with make_session_factory(engine)() as session:
            placement_codes = frozenset(session.scalars(select(Placement.code)))
        engine.dispose()
        yield url, vocabulary_codes(placement_codes)


@pytest.fixture(scope="module")
def site(
    world: tuple[str, frozenset[str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    url, _codes = world
    settings = make_settings(url, model_store_dir=tmp_path_factory.mktemp("models"))
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        yield client


def shape(path: str) -> str:
    """A path with its ids replaced, and its query's names: pages of one kind share a shape."""
    parts = urlsplit(path)
    names = sorted(pair.split("=")[0] for pair in parts.query.split("&") if pair)
    return re.sub(r"/[^/]*[0-9][^/]*", "/N", parts.path) + "?" + "&".join(names)


def crawl(client: TestClient, starts: list[str]) -> dict[str, str]:
    """Every page reachable from `starts` by links, at most PAGES_PER_SHAPE per shape."""
    pages: dict[str, str] = {}
    per_shape: dict[str, int] = {}
    queue = deque(starts)
    while queue and len(pages) < MAX_PAGES:
        path = queue.popleft()
        if path in pages or NOT_PAGES.search(path):
            continue
        if per_shape.get(shape(path), 0) >= PAGES_PER_SHAPE and path not in starts:
            continue
        answer = client.get(path, headers=HTML, follow_redirects=True)
        if "text/html" not in answer.headers.get("content-type", ""):
            continue
        per_shape[shape(path)] = per_shape.get(shape(path), 0) + 1
        pages[path] = answer.text
        queue.extend(link.replace("&amp;", "&") for link in HREF.findall(answer.text))
    return pages


def matrix_pages(party: Party) -> list[str]:
    """The access matrix's GET pages this party may open whose probe needs no id."""
    return [
        probe.path
        for name, probe in PROBES.items()
        if probe.method == "GET"
        and 200 in probe.ok
        and "999999" not in probe.path
        and "NONE" not in probe.path
        and access_for(name).allows(party)
    ]


def targeted_quote(client: TestClient) -> str:
    """The quote the booking form asks for, narrowed on every targeting dimension."""
    form = client.get("/shop/book", headers=HTML).text
    placement = re.search(r'name="placement_id"[^>]*>\s*<option value="(\d+)"', form)
    week = re.search(r'name="first_week"[^>]*>\s*<option value="(\d{4}-\d{2}-\d{2})"', form)
    assert placement and week, "the booking form offers no placement or week"
    targeting = "&".join(
        f"targeting.{name}={value}"
        for name, value in (
            ("age_bands", "70%2B"),
            ("households", "young_children"),
            ("districts", "tsuruga"),
            ("interests", "除雪"),
        )
    )
    return (
        f"/shop/book/quote?placement_id={placement.group(1)}&first_week={week.group(1)}"
        f"&weeks=1&shares=1&{targeting}"
    )


def signed_in(site: TestClient, party: Party) -> TestClient:
    # Each party signs in from its own address, as real ones do (login limits are per address).
    address = f"192.0.2.{list(Party).index(party) + 10}"
    client = TestClient(site.app, base_url="https://testserver", client=(address, 50000))
    if party is Party.SHOP:
        email, form = DEMO_SHOP_EMAIL, "/shop/login"
    else:
        email = next(s.email for s in DEMO_STAFF if s.role.value == party.value)
        form = "/staff/login"
    answer = post_form(client, form, {"email": email, "password": DEMO_PASSWORD, "next": ""}, form)
    assert answer.status_code == 303, f"{party} could not sign in: {answer.text[:300]}"
    return client


@pytest.mark.parametrize("party", [Party.SHOP, Party.REVIEWER, Party.FINANCE, Party.ADMIN])
def test_no_page_shows_a_vocabulary_code(
    site: TestClient, world: tuple[str, frozenset[str]], party: Party
) -> None:
    _url, codes = world
    client = signed_in(site, party)
    home = "/shop/" if party is Party.SHOP else "/staff/"
    starts = [home, *matrix_pages(party)]
    if party is Party.SHOP:
        starts.append(targeted_quote(client))
    pages = crawl(client, starts)
    assert len(pages) >= 8, f"the crawl reached only {sorted(pages)}"
    problems = [
        f"{path}: {found}" for path, html in pages.items() for found in codes_shown(html, codes)
    ]
    assert not problems, f"{len(problems)} codes shown:\n" + "\n".join(problems[:80])


def test_the_finder_sees_codes_people_would_read() -> None:
    codes = vocabulary_codes({"feed-3"})
    page = (
        '<p>世帯: young_children</p><td><span class="status approved">承認済み</span></td>'
        '<img alt="feed-3"><script>var s = "in_review";</script><option value="live">掲載中</option>'
        "<p>booking_whatever</p>"
    )
    found = " ".join(codes_shown(page, codes))
    assert "'young_children'" in found and "'feed-3'" in found and "'booking_whatever'" in found
    assert "approved" not in found and "in_review" not in found and "live" not in found
