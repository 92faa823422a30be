"""Synthetic municipal articles: category, tags, Japanese text, priority and lifetime."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from marketplace.synthetic.affinity import CATEGORIES
from marketplace.synthetic.notices import notice_text
from marketplace.synthetic.text import CATEGORY_TAGS

CATEGORY_SHARES: dict[str, float] = {
    "子育て": 0.10,
    "健康・医療": 0.11,
    "除雪": 0.05,
    "防災": 0.07,
    "観光": 0.09,
    "イベント": 0.14,
    "学校": 0.08,
    "ごみ・環境": 0.08,
    "行政手続き": 0.14,
    "福祉・介護": 0.07,
    "スポーツ・文化": 0.07,
}
# Days over which readers' interest in an article decays (an exponential time constant).
INTEREST_DAYS: dict[str, float] = {"行政手続き": 20.0, "健康・医療": 12.0, "福祉・介護": 12.0}
DEFAULT_INTEREST_DAYS = 6.0
URGENT_INTEREST_DAYS = 2.0
PRIORITY_P = {"normal": 0.93, "important": 0.062, "urgent": 0.008}
URGENT_CATEGORIES = ("防災", "除雪")
BACKLOG_DAYS = 30  # articles published this long before the window still draw some views
CROSS_TAG_RATE = 0.1
URL_BASE = "https://www.city.aizuwakamatsu.fukushima.jp/docs"
# Two draws per article that once picked word patterns; still drawn (and now seeding each
# article's wording) so that every draw after them, and so the whole city, stays the same.
TEXT_DRAWS = (8, 4)


def all_tags() -> tuple[str, ...]:
    return tuple(tag for c in CATEGORIES for tag in CATEGORY_TAGS[c])


@dataclass(frozen=True)
class Catalogue:
    frame: pd.DataFrame
    category_idx: np.ndarray  # int16
    tag_idx: list[list[int]]  # indices into all_tags()
    published_ns: np.ndarray  # int64 epoch nanoseconds
    expires_ns: np.ndarray  # int64; INT64 max when the article never expires
    interest_days: np.ndarray  # float64
    priority: np.ndarray  # object array of "normal"/"important"/"urgent"


NEVER = np.iinfo(np.int64).max


def generate_articles(
    rng: np.random.Generator, n: int, start: datetime, end: datetime
) -> Catalogue:
    shares = np.array([CATEGORY_SHARES[c] for c in CATEGORIES])
    category_idx = rng.choice(len(CATEGORIES), size=n, p=shares / shares.sum()).astype(np.int16)
    priority = rng.choice(list(PRIORITY_P), size=n, p=list(PRIORITY_P.values())).astype(object)
    # Urgent notices are about snow and disasters; move stray urgent ones there.
    urgent = np.flatnonzero(priority == "urgent")
    category_idx[urgent] = rng.choice([CATEGORIES.index(c) for c in URGENT_CATEGORIES], len(urgent))

    first = pd.Timestamp(start) - pd.Timedelta(days=BACKLOG_DAYS)
    span_ns = pd.Timestamp(end).value - first.value
    published_ns = first.value + (rng.random(n) * span_ns).astype(np.int64)
    published_ns = (published_ns // 60_000_000_000) * 60_000_000_000  # whole minutes, like a CMS
    expires = rng.random(n) < 0.4
    lifetime_days = rng.integers(14, 61, size=n).astype(np.int64)
    # Notices are short-lived, as on a real city site: an urgent one is taken down within
    # three days and an important one within a month. Derived from the same draw, so the
    # rest of the city stays identical for a given seed.
    is_urgent = priority == "urgent"
    is_important = priority == "important"
    lifetime_days = np.where(is_urgent, lifetime_days % 3 + 1, lifetime_days)
    lifetime_days = np.where(is_important, np.minimum(lifetime_days, 30), lifetime_days)
    expires = expires | is_urgent | is_important
    lifetime_ns = lifetime_days * 86_400 * 10**9
    expires_ns = np.where(expires, published_ns + lifetime_ns, NEVER)

    tags_by_cat = [CATEGORY_TAGS[c] for c in CATEGORIES]
    offsets = np.cumsum([0] + [len(t) for t in tags_by_cat])
    n_tags = rng.choice([1, 2, 3], size=n, p=[0.3, 0.45, 0.25])
    cross = rng.random(n) < CROSS_TAG_RATE
    other_cat = rng.integers(0, len(CATEGORIES), size=n)
    title_pick = rng.integers(0, TEXT_DRAWS[0], size=n)
    summary_pick = rng.integers(0, TEXT_DRAWS[1], size=n)
    published_days = pd.to_datetime(published_ns, utc=True).tz_convert("Asia/Tokyo").date
    names = all_tags()
    tag_idx: list[list[int]] = []
    titles: list[str] = []
    summaries: list[str] = []
    for i in range(n):  # a few thousand rows: a plain loop keeps the text logic readable
        c = int(category_idx[i])
        own = rng.choice(len(tags_by_cat[c]), size=int(n_tags[i]), replace=False)
        picked = [int(offsets[c] + j) for j in own]
        if cross[i]:
            o = int(other_cat[i])
            extra = int(offsets[o] + rng.integers(0, len(tags_by_cat[o])))
            if extra not in picked:
                picked.append(extra)
        tag_idx.append(picked)
        words = random.Random(f"{i}:{title_pick[i]}:{summary_pick[i]}:{published_ns[i]}")
        title, summary = notice_text(
            words, CATEGORIES[c], names[picked[0]], priority[i], published_days[i]
        )
        titles.append(title)
        summaries.append(summary)

    interest = np.array(
        [INTEREST_DAYS.get(CATEGORIES[c], DEFAULT_INTEREST_DAYS) for c in category_idx]
    )
    interest = np.where(priority == "urgent", URGENT_INTEREST_DAYS, interest)
    published = pd.to_datetime(published_ns, utc=True)
    expires_raw = np.where(expires, expires_ns, 0).astype("datetime64[ns]")
    expires_raw[~expires] = np.datetime64("NaT")
    expires_at = pd.DatetimeIndex(expires_raw).tz_localize("UTC")
    day_codes = published.strftime("%Y%m%d")
    frame = pd.DataFrame(
        {
            "external_id": [f"article-{i:05d}" for i in range(1, n + 1)],
            "title": titles,
            "summary": summaries,
            "url": [f"{URL_BASE}/{d}{i:05d}/" for i, d in enumerate(day_codes, start=1)],
            "category": np.array(CATEGORIES, dtype=object)[category_idx],
            "tags": [[names[j] for j in t] for t in tag_idx],
            "priority": priority,
            "published_at": published,
            "expires_at": expires_at,
        }
    )
    return Catalogue(frame, category_idx, tag_idx, published_ns, expires_ns, interest, priority)
