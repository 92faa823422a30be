"""Where an ad or a flyer leads, as paths inside the plugin when it is not the shop's website.

Delivery redirects a counted click to this target; a path starting with "/" is the plugin's
own page (the host's mount prefix is added by the web layer), anything else is the https URL
the reviewer approved.
"""

from __future__ import annotations

from marketplace.lifecycle import CreativeKind


def shop_page_path(shop_id: int) -> str:
    return f"/shops/{shop_id}"


def flyer_path(creative_id: int) -> str:
    return f"/flyers/{creative_id}"


def click_target(kind: CreativeKind, landing_url: str, creative_id: int, shop_id: int) -> str:
    """A flyer opens its viewer; an ad its website, or the shop's page when it has none."""
    if kind is CreativeKind.FLYER:
        return flyer_path(creative_id)
    return landing_url or shop_page_path(shop_id)


def is_internal(target: str) -> bool:
    return target.startswith("/") and not target.startswith("//")
