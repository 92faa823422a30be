from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from marketplace.accounts.registration_number import is_valid_invoice_registration_number
from marketplace.synthetic import GroundTruth, SyntheticCity, generate_city
from marketplace.vocab import ARTICLE_CATEGORIES, DISTRICTS, GADGETS, SHOP_CATEGORIES

END = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = 60


@pytest.fixture(scope="module")
def city() -> SyntheticCity:
    return generate_city(6000, n_articles=400, n_shops=120, days=DAYS, seed=7, end=END)


def test_same_seed_same_city_and_other_seed_differs() -> None:
    a = generate_city(500, n_articles=80, n_shops=20, days=20, seed=3, end=END)
    b = generate_city(500, n_articles=80, n_shops=20, days=20, seed=3, end=END)
    c = generate_city(500, n_articles=80, n_shops=20, days=20, seed=4, end=END)
    for name in ("residents", "articles", "shops", "events"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(
        a.ground_truth.resident_affinity, b.ground_truth.resident_affinity
    )
    assert not a.events.equals(c.events)


def test_resident_contract(city: SyntheticCity) -> None:
    r = city.residents
    assert list(r.columns) == [
        "external_id", "age_band", "household", "district", "language", "interests",
        "gadgets", "personalization_consent",
    ]  # fmt: skip
    assert r.external_id.iloc[0] == "resident-000001"
    assert r.external_id.is_unique
    assert r.external_id.str.fullmatch(r"resident-\d{6}").all()
    assert set(r.language) <= {"ja", "en"}
    assert (r.language == "ja").mean() > 0.9
    assert all(set(i) <= set(ARTICLE_CATEGORIES) for i in r.interests)
    assert all(set(g) <= set(GADGETS) for g in r.gadgets)
    assert r.personalization_consent.dtype == bool
    assert 0.7 < r.personalization_consent.mean() < 0.97


def test_population_is_older_than_average_and_households_follow_age(city: SyntheticCity) -> None:
    r = city.residents
    shares = r.age_band.value_counts(normalize=True)
    assert shares.idxmax() == "70+"
    assert 0.22 < shares["70+"] < 0.32
    assert r.district.nunique() == len(DISTRICTS) == 15
    elderly = r[r.age_band == "70+"]
    assert not (elderly.household == "young_children").any()
    assert (elderly.household == "elderly_only").mean() > 0.4
    thirties = r[r.age_band == "30-39"]
    assert (thirties.household == "young_children").mean() > 0.3
    assert not (thirties.household == "elderly_only").any()
    # Gadgets follow the household: the maternal-health gadget is for families with infants.
    maternal = r.gadgets.map(lambda g: "maternal-health" in g)
    young = r.household == "young_children"
    assert maternal[young].mean() > 5 * maternal[~young].mean()


def test_article_contract(city: SyntheticCity) -> None:
    a = city.articles
    assert a.external_id.iloc[0] == "article-00001"
    assert a.external_id.str.fullmatch(r"article-\d{5}").all()
    assert set(a.category) <= set(ARTICLE_CATEGORIES)
    assert a.url.str.startswith("https://www.city.aizuwakamatsu.fukushima.jp/").all()
    assert a.title.map(lambda t: re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", t) is not None).all()
    assert (a.tags.map(len) >= 1).all()
    priority = a.priority.value_counts(normalize=True)
    assert priority["normal"] > 0.85
    assert priority.get("urgent", 0.0) < 0.03
    assert str(a.published_at.dt.tz) == "UTC" and str(a.expires_at.dt.tz) == "UTC"
    assert (a.published_at <= END).all()
    assert (a.published_at >= END - timedelta(days=DAYS + 31)).all()
    has_expiry = a.expires_at.notna()
    assert 0.2 < has_expiry.mean() < 0.8
    assert (a.expires_at[has_expiry] > a.published_at[has_expiry]).all()


def test_shop_contract(city: SyntheticCity) -> None:
    s = city.shops
    assert s.business_name.is_unique
    assert s.business_name_kana.str.fullmatch(r"[\u30a1-\u30f6\u30fc]+").all()
    assert set(s.category) <= set(SHOP_CATEGORIES)
    assert set(s.district) <= set(DISTRICTS)
    numbers = s.invoice_registration_number
    assert numbers.dropna().map(is_valid_invoice_registration_number).all()
    assert 0.15 < numbers.isna().mean() < 0.45
    assert set(s.status) <= {"approved", "pending"}
    assert (s.status == "approved").mean() > 0.7
    assert s.contact_phone.str.fullmatch(r"0\d{2,3}-\d{2,3}-\d{4}").all()


def test_events_are_ordered_inside_the_window_and_clicks_follow_views(
    city: SyntheticCity,
) -> None:
    e = city.events
    assert e.resident_idx.dtype == np.int32 and e.article_idx.dtype == np.int32
    assert str(e.occurred_at.dt.tz) == "UTC"
    assert e.occurred_at.is_monotonic_increasing
    assert e.occurred_at.min() >= END - timedelta(days=DAYS)
    assert e.occurred_at.max() <= END
    assert set(e.kind.astype(str)) == {"view", "click"}
    assert e.resident_idx.between(0, len(city.residents) - 1).all()
    assert e.article_idx.between(0, len(city.articles) - 1).all()
    first = e.groupby(["resident_idx", "article_idx", "kind"], observed=True).occurred_at.min()
    first = first.unstack("kind")
    clicked = first["click"].notna()
    assert (first.loc[clicked, "view"] <= first.loc[clicked, "click"]).all()
    # No article is read before it is published.
    published = city.articles.published_at.to_numpy()[e.article_idx.to_numpy()]
    assert (e.occurred_at.to_numpy() >= published).all()


def test_event_volume_scales_to_about_two_million_at_aizu_scale(city: SyntheticCity) -> None:
    per_resident = len(city.events) / len(city.residents) * DAYS / 90
    # At 90 days most articles' interest has decayed, so the volume scales sub-linearly in days;
    # the bound is loose on purpose. The exact figure at full scale is in bench/.
    assert 1.4e6 < per_resident * 115_000 * 90 / DAYS < 2.8e6
    clicks = (city.events.kind == "click").mean()
    assert 0.1 < clicks < 0.35
    inactive = 1 - city.events.resident_idx.nunique() / len(city.residents)
    assert 0.05 < inactive < 0.25


def _click_rate(city: SyntheticCity, mask: np.ndarray, category: str) -> float:
    e = city.events
    clicks = e[(e.kind == "click").to_numpy() & mask[e.resident_idx.to_numpy()]]
    return float((city.articles.category.to_numpy()[clicks.article_idx] == category).mean())


def test_attributes_drive_what_residents_click(city: SyntheticCity) -> None:
    r = city.residents
    young = (r.household == "young_children").to_numpy()
    assert _click_rate(city, young, "子育て") > 3 * _click_rate(city, ~young, "子育て")
    school = (r.household == "school_children").to_numpy()
    assert _click_rate(city, school, "学校") > 3 * _click_rate(city, ~school, "学校")
    old = (r.age_band == "70+").to_numpy()
    for category in ("健康・医療", "除雪"):
        assert _click_rate(city, old, category) > 1.5 * _click_rate(city, ~old, category)


def test_events_are_learnable_from_the_ground_truth(city: SyntheticCity) -> None:
    e = city.events
    cut = END - timedelta(days=10)
    test = e[(e.occurred_at > cut) & (e.kind == "click")]
    users = np.unique(test.resident_idx.to_numpy())[:800]
    live = (city.articles.published_at <= END).to_numpy()
    truth = city.ground_truth.article_logits(users)
    truth[:, ~live] = -np.inf
    top = np.argsort(-truth, axis=1)[:, :10]
    rng = np.random.default_rng(0)
    random_top = np.stack([rng.choice(np.flatnonzero(live), 10, replace=False) for _ in users])
    clicked = test.groupby("resident_idx").article_idx.agg(set)

    def hit_rate(lists: np.ndarray) -> float:
        return float(
            np.mean([len(set(row) & clicked[u]) > 0 for u, row in zip(users, lists, strict=True)])
        )

    assert hit_rate(top) > 3 * hit_rate(random_top)


def test_ads_map_onto_the_same_preferences(city: SyntheticCity) -> None:
    truth = city.ground_truth
    r = city.residents
    young = np.flatnonzero(r.household == "young_children")
    old = np.flatnonzero(r.age_band == "70+")
    childcare_young = truth.ad_click_probability(young, "childcare", ["保育園"]).mean()
    childcare_old = truth.ad_click_probability(old, "childcare", ["保育園"]).mean()
    assert childcare_young > 2 * childcare_old
    clinic_old = truth.ad_click_probability(old, "clinic").mean()
    assert clinic_old > truth.ad_click_probability(young, "clinic").mean()
    everyone = np.arange(len(r))
    overall = truth.ad_click_probability(everyone, "restaurant", ["unknown-tag"])
    assert 0.001 < overall.mean() < 0.1
    with pytest.raises(ValueError, match="unknown shop_category 'casino'"):
        truth.ad_click_probability(everyone, "casino")


def test_pairwise_probability_matches_the_logit_matrix(city: SyntheticCity) -> None:
    truth = city.ground_truth
    users = np.array([0, 5, 9])
    logits = truth.article_logits(users)
    articles = np.array([3, 100, 7])
    pairwise = truth.article_click_probability(users, articles)
    expected = 1 / (1 + np.exp(-logits[np.arange(3), articles]))
    np.testing.assert_allclose(pairwise, expected, rtol=1e-5)


def test_ground_truth_round_trips_through_npz(city: SyntheticCity, tmp_path: Path) -> None:
    path = tmp_path / "truth.npz"
    city.ground_truth.save(path)
    loaded = GroundTruth.load(path)
    users, articles = np.arange(50), np.arange(50) % city.ground_truth.n_articles
    np.testing.assert_array_equal(
        loaded.article_click_probability(users, articles),
        city.ground_truth.article_click_probability(users, articles),
    )
    assert loaded.tag_names == city.ground_truth.tag_names


def test_progress_reports_every_stage() -> None:
    seen: list[tuple[str, float]] = []
    generate_city(
        300, n_articles=40, n_shops=5, days=10, end=END, progress=lambda s, f: seen.append((s, f))
    )
    stages = [s for s, _ in seen]
    assert stages[0] == "residents" and stages[-1] == "events"
    assert {"residents", "articles", "shops", "events"} <= set(stages)
    assert all(0.0 <= f <= 1.0 for _, f in seen)
    assert ("events", 1.0) in seen


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="n_residents"):
        generate_city(0, end=END)
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_city(10, end=datetime(2026, 1, 1))
