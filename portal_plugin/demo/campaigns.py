"""Demo campaigns so the demo portal shows real, paced, labelled ads from the first start.

A handful of approved synthetic shops get an approved creative and bookings on the in-feed
placements and the gadget column's card for the current and the next three weeks, some of
them targeted. Shares are sold in the inventory like any booking, so the availability calendar
agrees. Idempotent.
"""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.calendar import tokyo_date, week_start
from marketplace.db import utcnow
from marketplace.inventory.stock import sell_held_shares
from marketplace.lifecycle import BookingStatus, CreativeStatus
from marketplace.models import Booking, Creative, CreativeVersion, Placement, Shop
from marketplace.vocab import ShopStatus

DEMO_KEY_PREFIX = "demo-campaign-"
WEEKS = 4
# Debian's fonts-ipaexfont (scripts/system-deps.sh installs it).
FONT_PATHS = (
    Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"),
    Path("/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf"),
)
# (placement code, shop category, shares, targeting, headline, body, colour). One share of each
# in-feed placement is left for the demo flyers (demo/flyers.py).
CAMPAIGNS: Final[tuple[tuple[str, str, int, dict[str, Any], str, str, str], ...]] = (
    ("feed-3", "restaurant", 1, {}, "会津の秋、紅葉を眺めながら郷土料理を",
     "こづゆ・ソースカツ丼の昼定食。観光の合間にどうぞ。", "#b45309"),
    ("feed-3", "clinic", 1, {"age_bands": ["60-69", "70+"]}, "健康診断・予防接種のご予約受付中",
     "かかりつけ医として健康相談にも応じます。", "#0f766e"),
    ("feed-3", "childcare", 1, {"households": ["young_children", "school_children"]},
     "子育て中のご家庭へ 一時預かり・習い事体験", "親子で参加できるイベントも開催しています。", "#be185d"),
    ("feed-8", "sake-brewery", 1, {}, "新酒の季節 酒蔵見学と試飲のご案内",
     "会津の米と水で仕込んだ地酒をお楽しみください。", "#1d4ed8"),
    ("feed-8", "construction", 1, {}, "雪囲い・除雪の準備はお早めに",
     "屋根の雪下ろし、防災リフォームのご相談を承ります。", "#475569"),
    ("feed-8", "confectionery", 1, {}, "会津の銘菓 お土産に、イベントのお供に",
     "観光のお客様に人気の詰め合わせをご用意。", "#a16207"),
    ("side-gadget", "retail", 2, {}, "新米と朝どれ野菜 直売所だより",
     "毎週土曜は地元農家の朝市です。", "#15803d"),
    ("side-gadget", "lacquerware", 1, {}, "会津塗の箸に名入れいたします",
     "贈り物に、職人の手仕事を。", "#7f1d1d"),
)  # fmt: skip


def seed_demo_campaigns(session: Session, now: datetime | None = None) -> int:
    """Create the demo campaigns that do not exist yet; returns how many bookings were made."""
    now = now or utcnow()
    placements = {
        p.code: p for p in session.scalars(select(Placement).where(Placement.active.is_(True)))
    }
    first_week = week_start(tokyo_date(now))
    weeks = [first_week + timedelta(weeks=n) for n in range(WEEKS)]
    made = 0
    used: set[int] = set()
    for number, (code, category, shares, targeting, headline, body, colour) in enumerate(CAMPAIGNS):
        key = f"{DEMO_KEY_PREFIX}{number}"
        placement = placements.get(code)
        if placement is None or session.scalar(
            select(Booking.id).where(Booking.idempotency_key == key)
        ):
            continue
        shop = session.scalar(
            select(Shop)
            .where(Shop.status == ShopStatus.APPROVED, Shop.category == category)
            .where(Shop.id.not_in(used or {-1}))
            .order_by(Shop.id)
            .limit(1)
        )
        if shop is None:
            continue
        used.add(shop.id)
        creative = Creative(shop_id=shop.id, name=headline[:40])
        session.add(creative)
        session.flush()
        image = card_image(colour, placement.image_width, placement.image_height, headline)
        session.add(
            CreativeVersion(
                creative_id=creative.id, version=1, headline=headline[: placement.headline_max_chars],
                body=body[: placement.body_max_chars], landing_url=f"https://example.jp/shops/{shop.id}",
                image_data=image, image_content_type="image/png", image_width=placement.image_width,
                image_height=placement.image_height, image_sha256=hashlib.sha256(image).hexdigest(),
                status=CreativeStatus.APPROVED, submitted_at=now, decided_at=now,
            )
        )  # fmt: skip
        price = placement.price_per_share_week_yen * shares * WEEKS
        booking = Booking(
            shop_id=shop.id, placement_id=placement.id, creative_id=creative.id, shares=shares,
            first_week=weeks[0], last_week=weeks[-1], weeks=WEEKS, targeting=targeting,
            status=BookingStatus.LIVE, in_city_rate=True,
            unit_price_yen=placement.price_per_share_week_yen, list_price_yen=price,
            discount_yen=0, surcharge_yen=0, total_yen=price, tax_yen=price * 10 // 110,
            idempotency_key=key, confirmed_at=now,
        )  # fmt: skip
        session.add(booking)
        session.flush()
        sell_held_shares(session, placement, booking.id, weeks, shares, now)
        made += 1
    return made


def card_image(colour: str, width: int, height: int, text: str) -> bytes:
    """A banner in the shop's colour with its headline, as a shop's designer might make one."""
    image = Image.new("RGB", (width, height), colour)
    font = _japanese_font(max(16, height // 7))
    if font is not None:
        draw = ImageDraw.Draw(image)
        margin = width // 15
        lines = _wrap(draw, text, font, width - 2 * margin)
        line_height = int(font.size * 1.5)
        top = (height - line_height * len(lines)) // 2
        for number, line in enumerate(lines):
            draw.text((margin, top + number * line_height), line, font=font, fill="#ffffff")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _japanese_font(size: int) -> ImageFont.FreeTypeFont | None:
    for path in FONT_PATHS:
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return None  # a plain colour card: the demo still works without the font package


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    """Japanese has no spaces to break at: break before the character that would overflow."""
    lines = [""]
    for character in text:
        if character == " " and not lines[-1]:
            continue
        if draw.textlength(lines[-1] + character, font=font) > width:
            lines.append("" if character == " " else character)
        else:
            lines[-1] += character
    return lines
