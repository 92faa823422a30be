"""One ad card, as residents see it, built from whatever is being shown.

The feed, the gadget column, the shop's previews ("住民にはこう見えます") and the review page
all render `fragments/ad_card.html` from an `AdCard`, so the card a shop previews is the card a
resident gets: the same label, the approved image at its own size (lazy-loaded, with alt text),
the headline and the body. `tests/portal_plugin/test_ad_cards.py` compares the rendered markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal, NamedTuple, Protocol

from marketplace.delivery.service import ServedAd, ServedHouse
from marketplace.delivery.types import Audience
from marketplace.delivery.why import ATTRIBUTE_LABELS, matched_attributes


class CreativeLike(Protocol):
    id: int
    headline: str
    body: str
    landing_url: str
    image_width: int
    image_height: int


@dataclass(frozen=True)
class CardImage:
    src: str
    width: int
    height: int
    alt: str


class AboutItem(NamedTuple):
    label: str  # the dimension, as residents read it
    value: str  # the resident's own value that matched


@dataclass(frozen=True)
class AdAbout:
    """「この広告について」 on a resident's card (fragments/_about_ad.html): who paid, which of
    the resident's attributes matched, whether their reading shaped the order, and the forms
    to hide the shop or stop personalised ads (`form_token` None: anonymous, no forms)."""

    prefix: str
    shop_id: int
    matched: tuple[AboutItem, ...]
    personalized: bool
    form_token: str | None


@dataclass(frozen=True)
class CardViewer:
    """Who a page of cards is for: the viewer as the ad decision saw them (their token's consent
    and their own choices applied) and their form token (None when anonymous)."""

    audience: Audience
    form_token: str | None


@dataclass(frozen=True)
class AdCard:
    """What one card shows. `sponsor` is the shop's name; house ads are the city's own; a
    flyer (fragments/flyer_card.html) shows the top of its first page and its 特売期間."""

    kind: Literal["ad", "house", "flyer"]
    sponsor: str | None
    headline: str
    body: str
    href: str | None  # None: not a link (an empty preview would be a link with no name)
    image: CardImage | None = None
    pixel: str | None = None  # the impression URL, loaded when the card is shown
    live_preview: bool = False  # the shop's preview while typing (marketplace-preview.js)
    new_tab: bool = False  # previews open the landing page beside the shop's form
    sale: tuple[date, date] | None = None  # a flyer's 特売期間
    about: AdAbout | None = None  # residents' cards only


def creative_image_src(prefix: str, version_id: int) -> str:
    return f"{prefix}/creative-images/{version_id}"


def _image(prefix: str, version_id: int, width: int, height: int, alt: str) -> CardImage | None:
    if width <= 0 or height <= 0:
        return None
    return CardImage(creative_image_src(prefix, version_id), width, height, alt)


def about_card(prefix: str, served: ServedAd, viewer: CardViewer | None) -> AdAbout:
    ad = served.slot.ad
    audience = viewer.audience if viewer is not None else None
    personalized = audience is not None and audience.personalized
    matched = (
        tuple(
            AboutItem(ATTRIBUTE_LABELS[m.dimension], m.value)
            for m in matched_attributes(ad.targeting, audience)
        )
        if audience is not None
        else ()
    )
    return AdAbout(
        prefix=prefix,
        shop_id=ad.shop_id,
        matched=matched,
        personalized=personalized,
        form_token=viewer.form_token if viewer is not None else None,
    )


def served_card(prefix: str, served: ServedAd, viewer: CardViewer | None = None) -> AdCard:
    """A resident's card for an ad placed in their feed or gadget column."""
    ad = served.slot.ad
    flyer = ad.kind == "flyer"
    return AdCard(
        kind="flyer" if flyer else "ad",
        sponsor=ad.shop_name,
        headline=ad.headline,
        body=ad.body,
        href=f"{prefix}/c/{served.click_token}",
        image=_image(prefix, ad.creative_version_id, ad.image_width, ad.image_height, ad.headline),
        pixel=f"{prefix}/i/{served.impression_token}",
        sale=(ad.sale_from, ad.sale_until) if ad.sale_from and ad.sale_until else None,
        about=about_card(prefix, served, viewer),
    )


def house_card(prefix: str, served: ServedHouse) -> AdCard:
    """A city house ad: the city's label, no shop, a plain link to its page."""
    house = served.slot.house
    return AdCard(
        kind="house",
        sponsor=None,
        headline=house.headline,
        body=house.body,
        href=house.link_url,
        pixel=f"{prefix}/h/{served.view_token}",
    )


def resident_card(
    prefix: str, served: ServedAd | ServedHouse, viewer: CardViewer | None = None
) -> AdCard:
    if isinstance(served, ServedAd):
        return served_card(prefix, served, viewer)
    return house_card(prefix, served)


def version_card(prefix: str, version: CreativeLike, shop_name: str | None) -> AdCard:
    """A creative version shown as residents would see it (previews, review)."""
    return AdCard(
        kind="ad",
        sponsor=shop_name or None,
        headline=version.headline,
        body=version.body,
        href=version.landing_url,
        image=_image(
            prefix, version.id, version.image_width, version.image_height, version.headline
        ),
        new_tab=True,
    )


def live_preview_card(
    prefix: str,
    shop_name: str | None,
    values: Mapping[str, str],
    version: CreativeLike | None = None,
) -> AdCard:
    """The preview a shop's typing updates: the form's text over the latest version's image."""
    headline = values.get("headline") or ""
    image = None
    if version is not None:
        image = _image(prefix, version.id, version.image_width, version.image_height, headline)
    return AdCard(
        kind="ad",
        sponsor=shop_name or None,
        headline=headline,
        body=values.get("body") or "",
        href=(values.get("landing_url") or None) if headline else None,
        image=image,
        live_preview=True,
        new_tab=True,
    )
