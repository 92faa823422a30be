"""Synthetic articles read like the city's notices: whole sentences, dates that fit, no codes."""

from __future__ import annotations

import random
import re
from datetime import date

import pytest

from marketplace.synthetic import generate_city
from marketplace.synthetic.notices import (
    NOTICES,
    SEASONS,
    japanese_day,
    notice_text,
    reiwa_fiscal_year,
)
from marketplace.synthetic.text import CATEGORY_TAGS

FIELD = re.compile(r"[{}]")
JAPANESE_DAY = re.compile(r"(\d{1,2})月(\d{1,2})日（([月火水木金土日])）")


def test_every_tag_of_every_category_has_its_own_notices() -> None:
    tags = {tag for tags in CATEGORY_TAGS.values() for tag in tags}
    assert set(NOTICES) == tags


@pytest.mark.parametrize("category", list(CATEGORY_TAGS))
def test_notices_fill_every_field_and_mark_their_priority(category: str) -> None:
    rng = random.Random(0)
    for tag in CATEGORY_TAGS[category]:
        for month in range(1, 13):
            for priority in ("normal", "important", "urgent"):
                title, summary = notice_text(rng, category, tag, priority, date(2026, month, 10))
                assert not FIELD.search(title + summary), (title, summary)
                assert summary.endswith("。")
                mark = {"normal": "", "important": "【重要】", "urgent": "【緊急】"}[priority]
                assert title.startswith(mark) and title.count("【") == (1 if mark else 0)


def test_dates_in_a_notice_lie_ahead_of_it_and_name_the_right_weekday() -> None:
    rng = random.Random(1)
    published = date(2026, 11, 20)
    for category, tags in CATEGORY_TAGS.items():
        for tag in tags:
            title, summary = notice_text(rng, category, tag, "normal", published)
            for month, day, weekday in JAPANESE_DAY.findall(title + summary):
                year = published.year + (1 if int(month) < published.month else 0)
                when = date(year, int(month), int(day))
                assert published < when
                assert japanese_day(when).endswith(f"（{weekday}）")


def test_seasonal_notices_appear_only_in_their_season() -> None:
    rng = random.Random(2)
    for month in range(1, 13):
        for category, tags in CATEGORY_TAGS.items():
            for tag in tags:
                title, summary = notice_text(rng, category, tag, "normal", date(2026, month, 5))
                for phrase, months in SEASONS.items():
                    if phrase in title + summary:
                        assert month in months, (month, title, summary)


def test_snow_emergencies_happen_in_winter_and_disasters_otherwise() -> None:
    winter = notice_text(random.Random(3), "除雪", "除雪車", "urgent", date(2027, 1, 15))[0]
    summer = notice_text(random.Random(3), "除雪", "除雪車", "urgent", date(2026, 7, 15))[0]
    assert "雪" in winter
    assert "雪" not in summer


def test_the_fiscal_year_named_is_the_one_applications_are_for() -> None:
    assert reiwa_fiscal_year(date(2026, 5, 1)) == "令和8年度"
    assert reiwa_fiscal_year(date(2026, 11, 1)) == "令和9年度"  # autumn: April's intake
    assert reiwa_fiscal_year(date(2027, 2, 1)) == "令和9年度"


def test_the_city_reads_as_whole_notices_and_is_the_same_for_a_seed() -> None:
    first = generate_city(500, n_articles=200, days=20, seed=7).articles
    again = generate_city(500, n_articles=200, days=20, seed=7).articles
    assert first[["title", "summary"]].equals(again[["title", "summary"]])
    # The word salad of earlier versions: a topic noun used as a verb's object.
    assert not first.summary.str.contains("市では").any()
    assert first.title.nunique() > 120  # of 200: dated events tell repeated notices apart


def test_a_holiday_counter_opens_on_a_sunday() -> None:
    for seed in range(20):
        title, _ = notice_text(
            random.Random(seed), "行政手続き", "マイナンバー", "normal", date(2026, 11, 2)
        )
        assert "（日）" in title
