"""The shop page (店舗ページ): what a shop tells residents about itself, and what they see.

Every approved shop has a page on the portal: its name, category and district from sign-up,
and the address, opening hours, closed days and phone the shop fills in here. It is the landing
page of any ad without a website, so a shop needs no website to advertise.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Final
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.audit import Actor, record
from marketplace.errors import InvalidInput, NotFound
from marketplace.flyers.services import current_flyers
from marketplace.lifecycle import CreativeKind, CreativeStatus
from marketplace.models import Creative, CreativeVersion, Shop
from marketplace.vocab import ShopStatus

MAP_SEARCH_URL: Final = "https://www.google.com/maps/search/?api=1&query="
# Japanese numbers as people write them: 0242-39-1111, (0242)39-1111, +81 242 39 1111.
_PHONE = re.compile(r"^\+?[0-9][0-9\-() ]{8,18}[0-9]$")
_DIGITS = re.compile(r"[^0-9+]")
# Dashes people type in a phone number on a Japanese keyboard (NFKC leaves these alone).
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−ーｰ", "-"))


@dataclass(frozen=True)
class ShopPageDetails:
    address: str
    opening_hours: str
    closed_days: str
    public_phone: str


LIMITS: Final = {"address": 200, "opening_hours": 200, "closed_days": 100, "public_phone": 32}
LABELS: Final = {
    "address": "住所",
    "opening_hours": "営業時間",
    "closed_days": "定休日",
    "public_phone": "お店の電話番号",
}


def _text(data: Mapping[str, Any], name: str, multiline: bool = False) -> str:
    value = unicodedata.normalize("NFKC", str(data.get(name) or "")).strip()
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        value = value.replace("\n", " ")
    else:
        value = "\n".join(line.strip() for line in value.split("\n") if line.strip())
    label, limit = LABELS[name], LIMITS[name]
    if len(value) > limit:
        raise InvalidInput(
            "{label}は{limit}文字以内で入力してください", field=name, label=label, limit=limit
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf") and ch != "\n" for ch in value):
        raise InvalidInput("{label}に使えない文字が含まれています", field=name, label=label)
    return value


def parse_shop_page(data: Mapping[str, Any]) -> ShopPageDetails:
    """Validate the shop page form; every field is optional, and NFKC makes ０２４２ 0242."""
    phone = _text(data, "public_phone").translate(_DASHES)
    if phone and not _PHONE.match(phone):
        raise InvalidInput(
            "電話番号は 0242-39-1111 のように数字とハイフンで入力してください",
            field="public_phone",
        )
    return ShopPageDetails(
        address=_text(data, "address"),
        opening_hours=_text(data, "opening_hours", multiline=True),
        closed_days=_text(data, "closed_days"),
        public_phone=phone,
    )


def tel_link(phone: str) -> str:
    """`tel:` URI of a phone number as written (RFC 3966 keeps only digits and a leading +)."""
    return "tel:" + _DIGITS.sub("", phone)


def map_link(address: str) -> str:
    """A plain link to a map search for the address: no embed, nothing loaded until tapped."""
    return MAP_SEARCH_URL + quote(address, safe="")


def shop_page_values(session: Session, shop_id: int) -> dict[str, str]:
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise NotFound("お店が見つかりません")
    values = {field.name: getattr(shop, field.name) for field in fields(ShopPageDetails)}
    values["status"] = shop.status.value
    return values


def update_shop_page(
    session: Session, shop_id: int, details: ShopPageDetails, actor: Actor
) -> Shop:
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise NotFound("お店が見つかりません")
    changes = {}
    for field in fields(ShopPageDetails):
        new = getattr(details, field.name)
        if getattr(shop, field.name) != new:
            changes[field.name] = new
            setattr(shop, field.name, new)
    if changes:
        record(
            session, actor, "shop_page_updated", "shop", shop.id, shop_id=shop.id, changes=changes
        )
    return shop


@dataclass(frozen=True)
class ShopPage:
    shop: Shop
    flyers: list[CreativeVersion]
    ads: list[CreativeVersion]


def public_shop_page(session: Session, shop_id: int, today: date) -> ShopPage:
    """An approved shop's page with its current flyers and its approved ads; NotFound else."""
    shop = session.get(Shop, shop_id)
    if shop is None or shop.status is not ShopStatus.APPROVED:
        raise NotFound("お店が見つかりません")
    ads = list(
        session.scalars(
            select(CreativeVersion)
            .join(Creative, Creative.id == CreativeVersion.creative_id)
            .where(
                Creative.shop_id == shop_id,
                Creative.kind == CreativeKind.AD,
                Creative.archived.is_(False),
                CreativeVersion.status == CreativeStatus.APPROVED,
            )
            .order_by(CreativeVersion.decided_at.desc(), CreativeVersion.id.desc())
        )
    )
    return ShopPage(shop, current_flyers(session, shop_id, today), ads)
