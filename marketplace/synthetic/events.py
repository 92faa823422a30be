"""View and click events drawn from the hidden preference model.

Each resident has an activity level (how many articles they open in the window). Which articles
they open follows a softmax over: their interest logit (category affinity + latent taste), the
article's popularity, and how much of the article's attention window falls inside the event
window (interest decays exponentially after publication and stops at expiry). The time of each
view is then drawn from that decay, truncated to the window. A view becomes a click with the
ground-truth click probability, a few seconds to minutes later.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from marketplace.synthetic.articles import Catalogue
from marketplace.synthetic.ground_truth import GroundTruth

MEAN_VIEWS = 16.0  # per active resident over 90 days: ~2M events with clicks at Aizu scale
INACTIVE_SHARE = 0.1  # registered but never opened an article in the window: cold residents
ACTIVITY_SIGMA = 0.9
# Portal use by age band (0-19 ... 70+): residents aged 70+ use it a lot, teenagers less.
AGE_ACTIVITY = np.array([0.55, 0.9, 1.2, 1.1, 1.0, 1.0, 0.95])
PREFERENCE_SHARPNESS = 1.3  # how strongly interest drives what is opened, vs. popularity
CHUNK = 2048
NS_PER_DAY = 86_400 * 10**9
KIND_DTYPE = pd.CategoricalDtype(["view", "click"])


def _exposure(
    catalogue: Catalogue, start_ns: int, end_ns: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share of each article's attention inside the window, and its delay bounds in days."""
    pub = catalogue.published_ns
    lo = np.maximum(start_ns - pub, 0) / NS_PER_DAY
    hi = (np.minimum(end_ns, catalogue.expires_ns) - pub) / NS_PER_DAY
    hi = np.maximum(hi, lo)
    tau = catalogue.interest_days
    share = np.exp(-lo / tau) - np.exp(-hi / tau)
    return share, lo, hi


def _sample_articles(
    rng: np.random.Generator,
    logits: np.ndarray,
    counts: np.ndarray,
) -> np.ndarray:
    """For row r, draw counts[r] columns from softmax(logits[r]) with replacement."""
    z = logits - logits.max(axis=1, keepdims=True)
    # A single running sum over the whole chunk: row r owns the interval (total[r-1], total[r]],
    # so one searchsorted serves every row. float64 keeps the small rows distinguishable.
    flat = np.cumsum(np.exp(z).astype(np.float64).ravel())
    width = logits.shape[1]
    row_end = flat[width - 1 :: width]
    row_start = np.concatenate([[0.0], row_end[:-1]])
    rows = np.repeat(np.arange(len(counts)), counts)
    target = row_start[rows] + rng.random(len(rows)) * (row_end - row_start)[rows]
    pos = np.searchsorted(flat, target, side="left")
    return np.clip(pos - rows * width, 0, width - 1)


def generate_events(
    rng: np.random.Generator,
    truth: GroundTruth,
    catalogue: Catalogue,
    age_idx: np.ndarray,
    popularity: np.ndarray,
    start_ns: int,
    end_ns: int,
    progress: Callable[[float], None] | None = None,
) -> pd.DataFrame:
    n = truth.n_residents
    activity = rng.lognormal(0.0, ACTIVITY_SIGMA, size=n) * AGE_ACTIVITY[age_idx]
    activity *= MEAN_VIEWS / activity.mean()
    activity[rng.random(n) < INACTIVE_SHARE] = 0.0
    counts = rng.poisson(activity)

    share, lo, hi = _exposure(catalogue, start_ns, end_ns)
    with np.errstate(divide="ignore"):
        item_logit = (popularity + np.log(share)).astype(np.float32)

    residents: list[np.ndarray] = []
    articles: list[np.ndarray] = []
    for first in range(0, n, CHUNK):
        block = np.arange(first, min(first + CHUNK, n))
        interest = truth.article_logits(block) - np.float32(truth.click_bias)
        logits = PREFERENCE_SHARPNESS * interest + item_logit[None, :]
        picked = _sample_articles(rng, logits, counts[block])
        residents.append(np.repeat(block, counts[block]).astype(np.int32))
        articles.append(picked.astype(np.int32))
        if progress is not None:
            progress(min(first + CHUNK, n) / n)
    view_r = np.concatenate(residents) if residents else np.zeros(0, np.int32)
    view_a = np.concatenate(articles) if articles else np.zeros(0, np.int32)

    # Delay after publication from the truncated exponential decay (inverse CDF).
    tau = catalogue.interest_days[view_a]
    upper = np.exp(-lo[view_a] / tau)
    lower = np.exp(-hi[view_a] / tau)
    delay_days = -tau * np.log(upper - rng.random(len(view_a)) * (upper - lower))
    view_ns = catalogue.published_ns[view_a] + (delay_days * NS_PER_DAY).astype(np.int64)
    view_ns = np.clip(view_ns, start_ns, end_ns)

    clicked = rng.random(len(view_a)) < truth.article_click_probability(view_r, view_a)
    click_ns = np.minimum(
        view_ns[clicked] + rng.integers(2, 180, size=int(clicked.sum())) * 10**9, end_ns
    )

    resident_idx = np.concatenate([view_r, view_r[clicked]])
    article_idx = np.concatenate([view_a, view_a[clicked]])
    kind = np.concatenate([np.zeros(len(view_r), np.int8), np.ones(int(clicked.sum()), np.int8)])
    when = np.concatenate([view_ns, click_ns])
    order = np.lexsort((kind, when))  # by time; a click never sorts before its view
    return pd.DataFrame(
        {
            "resident_idx": resident_idx[order],
            "article_idx": article_idx[order],
            "kind": pd.Categorical.from_codes(kind[order], dtype=KIND_DTYPE),
            "occurred_at": pd.DatetimeIndex(when[order].astype("datetime64[ns]"), tz="UTC"),
        }
    )
