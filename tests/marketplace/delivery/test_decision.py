from __future__ import annotations

import gc
from dataclasses import replace
from datetime import timedelta

import pytest

from marketplace.delivery.decision import AdDecider, DeliveryLedger, SharedCounts
from marketplace.delivery.events import EligibleCount
from marketplace.delivery.pacing import RATE_CEILING, HourlyPace, PacingParams
from marketplace.delivery.relevance import AdRelevance, TagProfileScorer, UniformScorer
from marketplace.delivery.types import ANONYMOUS, Audience
from marketplace.inventory.targeting import parse_targeting
from tests.support.delivery_factories import START, ad

NOW = START + timedelta(hours=10)
PERSON = Audience("r1", "70+", "elderly_only", "ohto", ("除雪",), consent=True)


def decider(cap: int = 3, scorer: object | None = None) -> AdDecider:
    relevance = AdRelevance(scorer or UniformScorer(), [PERSON])  # type: ignore[arg-type]
    return AdDecider(DeliveryLedger(), PacingParams(), cap, relevance)


def test_frequency_cap_per_resident_per_day() -> None:
    d = decider(cap=2)
    booking = ad(1, share=1.0)
    picks = [d.pick([booking], PERSON, frozenset(), NOW) for _ in range(4)]
    assert picks[:2] == [booking, booking] and picks[2:] == [None, None]
    # The next Tokyo day starts a new count.
    assert d.pick([booking], PERSON, frozenset(), NOW + timedelta(days=1)) == booking


def test_frequency_cap_counts_other_workers() -> None:
    d = decider(cap=2)
    d.ledger.shared = SharedCounts(day=(NOW + timedelta(hours=9)).date(), caps={1: {"r1": 2}})
    assert d.pick([ad(1, share=1.0)], PERSON, frozenset(), NOW) is None


def test_cap_counts_stay_out_of_the_garbage_collector() -> None:
    """Per-resident counts grow all day; the collector's full passes must not walk them."""
    d = decider(cap=5)
    booking = ad(1, share=1.0)
    for n in range(200):
        viewer = Audience(f"resident-{n}", "30-39", None, None, consent=True)
        assert d.pick([booking], viewer, frozenset(), NOW) == booking
    # Without a collection first: a full pass may untrack a dict of untracked tuples, but one
    # that keeps growing is tracked again at its next insert; this one is never tracked.
    local, _ = d.ledger.caps_on((NOW + timedelta(hours=9)).date())
    assert sum(local[1].values()) == 200
    assert not gc.is_tracked(local[1])


def test_anonymous_and_non_consenting_see_only_untargeted_ads() -> None:
    targeted = ad(1, share=1.0, targeting=parse_targeting({"age_bands": ["70+"]}))
    assert decider().pick([targeted], ANONYMOUS, frozenset(), NOW) is None
    no_consent = Audience("r9", "70+", None, None, consent=False)
    assert decider().pick([targeted], no_consent, frozenset(), NOW) is None
    assert decider().pick([targeted], PERSON, frozenset(), NOW) == targeted


def test_excluded_shops_and_expired_bookings_are_skipped() -> None:
    d = decider()
    assert d.pick([ad(1, share=1.0)], PERSON, frozenset({1}), NOW) is None
    assert d.pick([ad(2, share=1.0)], PERSON, frozenset(), START - timedelta(seconds=1)) is None


def test_relevance_prefers_the_matching_ad() -> None:
    scorer = TagProfileScorer.fit(
        [("r1", "70+", "elderly_only", ("category:除雪", "tag:除雪車"))] * 5
        + [("r2", "20-29", "single", ("category:観光", "tag:紅葉"))] * 5
    )
    reference = [PERSON, Audience("r2", "20-29", "single", None, consent=True)]
    d = AdDecider(DeliveryLedger(), PacingParams(), 3, AdRelevance(scorer, reference))
    snow = ad(1, share=0.4, tags=("除雪車",))
    leaves = ad(2, share=0.4, tags=("紅葉",))
    assert d.pick([leaves, snow], PERSON, frozenset(), NOW) == snow
    young = Audience("r2", "20-29", "single", None, consent=True)
    assert d.pick([snow, leaves], young, frozenset(), NOW) == leaves


def test_remembered_eligibility_follows_bookings_starting_and_ending() -> None:
    """The snapshot's candidate tuple is filtered for live bookings once, not per slot; a
    booking starting or ending later must still be seen to start or end."""
    d = decider(cap=100)
    later = ad(2, share=1.0, starts_at=NOW + timedelta(hours=1))
    ending = ad(1, share=1.0, ends_at=NOW + timedelta(hours=2))
    candidates = (ending, later)
    assert d.pick(candidates, PERSON, frozenset({2}), NOW) == ending
    assert d.pick(candidates, PERSON, frozenset({1}), NOW) is None  # `later` not started yet
    assert d.pick(candidates, PERSON, frozenset({1}), NOW + timedelta(hours=1)) == later
    assert d.pick(candidates, PERSON, frozenset(), NOW + timedelta(hours=3)) == later
    assert d.live(candidates, NOW + timedelta(hours=3)).live == [later]


def test_remembered_live_bookings_still_check_each_viewers_targeting() -> None:
    d = decider()
    targeted = ad(1, share=1.0, targeting=parse_targeting({"age_bands": ["70+"]}))
    candidates = (targeted,)
    assert d.pick(candidates, PERSON, frozenset(), NOW) == targeted
    younger = Audience("r2", "20-29", "single", "ohto", (), consent=True)
    assert d.pick(candidates, younger, frozenset(), NOW) is None
    assert d.pick(candidates, ANONYMOUS, frozenset(), NOW) is None


def test_caps_start_afresh_at_midnight_in_tokyo_not_in_utc() -> None:
    d = decider(cap=1)
    booking = ad(1, share=1.0)
    midnight_tokyo = START + timedelta(days=1)  # START is 00:00 in Tokyo (15:00 UTC)
    assert d.pick([booking], PERSON, frozenset(), midnight_tokyo - timedelta(seconds=1))
    assert (
        d.pick([booking], PERSON, frozenset(), midnight_tokyo - timedelta(microseconds=1)) is None
    )
    assert d.pick([booking], PERSON, frozenset(), midnight_tokyo) == booking  # a new Tokyo day
    assert d.pick([booking], PERSON, frozenset(), midnight_tokyo + timedelta(hours=8)) is None
    assert d.pick([booking], PERSON, frozenset(), midnight_tokyo + timedelta(hours=24)) == booking


def test_reach_is_remembered_per_profile_never_across_profiles() -> None:
    d = decider(cap=100)
    in_ohto = ad(1, share=1.0, targeting=parse_targeting({"districts": ["ohto"]}))
    likes_snow = ad(2, share=1.0, targeting=parse_targeting({"interests": ["除雪"]}))
    live = d.live((in_ohto, likes_snow), NOW)
    neighbour = Audience("r2", "70+", "elderly_only", "ohto", (), consent=True)
    elsewhere = Audience("r3", "70+", "elderly_only", "minato", ("除雪",), consent=True)
    withheld = Audience("r4", "70+", "elderly_only", "ohto", ("除雪",), consent=False)
    for _ in range(2):  # the second time from what was remembered
        assert live.reaching(PERSON) == (in_ohto, likes_snow)
        assert live.reaching(neighbour) == (in_ohto,)
        assert live.reaching(elsewhere) == (likes_snow,)
        assert live.reaching(withheld) == live.reaching(ANONYMOUS) == ()
    same_profile = Audience("r5", "70+", "elderly_only", "ohto", ("除雪",), consent=True)
    assert live.reaching(same_profile) is live.reaching(PERSON)


def test_eligible_slots_are_those_a_booking_could_have_won() -> None:
    """The one measure's denominator: live, reached, under the cap, shop not hidden by the
    resident; whether or not it may be shown now (paused, its shop already on the page)."""
    d = decider(cap=1)
    untargeted = ad(1, share=0.5)
    elderly = ad(2, share=0.5, targeting=parse_targeting({"age_bands": ["70+"]}))
    young = ad(3, share=0.5, targeting=parse_targeting({"age_bands": ["20-29"]}))
    paused = replace(ad(4, share=0.5), serving=False)
    bookings = [untargeted, elderly, young, paused]
    shown = d.pick(bookings, PERSON, frozenset(), NOW)  # 1, 2 and 4 reach this resident
    assert shown in (untargeted, elderly)
    d.pick(bookings, PERSON, frozenset(), NOW)  # the one shown is at its cap of 1
    assert d.pick(bookings, PERSON, frozenset({1, 2, 4}), NOW) is None  # shops on the page
    offers, eligible = d.ledger.local_totals()
    assert offers[shown.booking_id] == 1 and 4 not in offers  # never shown while paused
    other = 3 - shown.booking_id
    assert eligible == {shown.booking_id: 1, other: 3 - offers.get(other, 0), 4: 3}
    # A shop the resident hid is not even eligible.
    d.pick(bookings, PERSON, frozenset({4}), NOW, hidden_shops=frozenset({4}))
    assert d.ledger.local_totals()[1][4] == 3
    hour = NOW.replace(minute=0, second=0, microsecond=0)
    reported = d.ledger.drain_eligible()
    assert sorted(reported) == sorted(EligibleCount(b, hour, n) for b, n in eligible.items())
    assert d.ledger.drain_eligible() == []  # each slot reported once
    d.pick(bookings, PERSON, frozenset(), NOW)
    assert d.ledger.drain_eligible() == [EligibleCount(4, hour, 1)]


def test_pacing_works_on_the_hour_with_the_shared_hourly_share() -> None:
    d = decider()
    booking = ad(1, share=0.25)
    d.ledger.at(NOW)
    hour = NOW.replace(minute=0, second=0, microsecond=0)
    d.ledger.shared = SharedCounts(
        hour=hour,
        delivered={1: 30},
        eligible={1: 100},
        hourly_pace={1: HourlyPace(0.5, ahead=2.0, owed_before=400.0)},
    )
    d.ledger.record_eligible([booking])
    state = d.ledger.pace(booking)
    # The catch-up share, this hour's counts of every worker, the slots it started ahead, and
    # its ceiling: RATE_CEILING × the share bought of the hour's slots (plus the head start).
    assert state[:4] == (0.5, 101, 32, 400)
    assert state.ceiling == pytest.approx(RATE_CEILING * 0.25 * 101 + 2)
    # Counts of another hour are not this hour's; the pace holds until the next refresh.
    d.ledger.at(NOW + timedelta(hours=1))
    assert d.ledger.pace(booking)[:4] == (0.5, 0, 2, 400)
