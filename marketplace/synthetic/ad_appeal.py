"""What makes a synthetic resident click a synthetic ad: the simulations' hidden click model.

The relevance model sees an ad only through what a shop writes (its tags, the article tags its
text mentions) and its shop category, and sees residents through their profile and reading.
If ad clicks were generated from exactly that structure (the category's mix of article
affinities, the tags' latent vectors), a model handed the same structure would find what the
generator put there, and the simulated lift would measure the generator, not the model.

So an ad's appeal has parts of its own, drawn with their own noise and invisible to the model:

* a latent vector of its own (what the picture, the offer and the shop's reputation speak to),
  as large as the part its tags carry;
* a quality of its own (some ads are simply better);
* a resident × ad noise term (a resident's mood, whether they need it this week).

The structured part stays: a childcare shop's ad still appeals more to young families, which is
what a relevance model can honestly learn. docs/delivery.md ("Simulation") says what the
resulting lift does and does not show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from marketplace.synthetic.ground_truth import GroundTruth, sigmoid
from marketplace.synthetic.text import CATEGORY_TAGS

TAGS_PER_AD = 3
OWN_QUALITY_SD = 0.4
PAIR_NOISE_SD = 0.6


@dataclass(frozen=True, eq=False)
class AdAppeal:
    truth: GroundTruth
    categories: tuple[str, ...]  # shop category per ad
    tags: tuple[tuple[str, ...], ...]  # what each ad's text mentions
    own_latent: np.ndarray  # (ads, latent): appeal beyond its tags
    own_quality: np.ndarray  # (ads,)
    noise_seed: int

    @property
    def headlines(self) -> tuple[str, ...]:
        """Ad texts that mention the ad's tags (delivery extracts tags from the text)."""
        return tuple("・".join(tags) + "のご案内" for tags in self.tags)

    def click_probability(self, residents: np.ndarray) -> np.ndarray:
        """P(click | the ad is shown) per resident and ad: shape (len(residents), ads)."""
        r = np.asarray(residents, dtype=np.int64)
        truth = self.truth
        columns = []
        for n, category in enumerate(self.categories):
            mix = truth.shop_mix[truth.shop_categories.index(category)]
            latent = truth.tags_latent(self.tags[n]) + self.own_latent[n]
            columns.append(truth.resident_affinity[r] @ mix + truth.resident_taste[r] @ latent)
        logits = np.stack(columns, axis=1) + self.own_quality[None, :] + truth.ad_bias
        # One fixed draw per (resident, ad), the same whichever residents are asked about.
        noise = np.random.default_rng(self.noise_seed).normal(
            0.0, PAIR_NOISE_SD, size=(truth.n_residents, len(self.categories))
        )
        return sigmoid(logits + noise[r])


def draw_ad_appeal(
    truth: GroundTruth, categories: Sequence[str], rng: np.random.Generator
) -> AdAppeal:
    """Ads of these shop categories: tags a shop of that kind would write, and hidden appeal."""
    mixes = [truth.shop_mix[truth.shop_categories.index(c)] for c in categories]
    tags = []
    for mix in mixes:
        pool = [t for i, w in enumerate(mix) if w > 0 for t in CATEGORY_TAGS[truth.categories[i]]]
        chosen = rng.choice(pool, size=min(TAGS_PER_AD, len(pool)), replace=False)
        tags.append(tuple(str(t) for t in chosen))
    # The own latent part is as large as what the tags carry (the spread of a tag mean).
    tag_scale = float(np.std([truth.tags_latent(t) for t in tags])) if tags else 0.0
    own = rng.normal(0.0, tag_scale, size=(len(categories), truth.tag_latent.shape[1]))
    return AdAppeal(
        truth=truth,
        categories=tuple(categories),
        tags=tuple(tags),
        own_latent=own.astype(np.float32),
        own_quality=rng.normal(0.0, OWN_QUALITY_SD, size=len(categories)),
        noise_seed=int(rng.integers(2**31)),
    )
