"""What residents chose about the ads they see: hidden shops and personalised ads off.

Keyed by delivery's keyed hash of the resident's pseudonymous id (the same key as
`ad_offers.resident_key`), so a choice can be honoured without knowing who the resident is,
and even for residents the `residents` table has never heard of.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigIntId, UTCDateTime, utcnow
from marketplace.personal_data import Basis, Retention, resident_column, resident_table

RESIDENT_KEY_LENGTH = 64


class ResidentAdChoice(Base):
    """One resident's ad choices; `revision` counts changes, so workers notice any of them."""

    __tablename__ = "resident_ad_choices"

    resident_key: Mapped[str] = mapped_column(
        String(RESIDENT_KEY_LENGTH),
        primary_key=True,
        info=resident_column(
            "仮名IDから作った鍵付きハッシュ（元のIDには戻せません）", Basis.CHOICE
        ),
    )
    personalized_ads: Mapped[bool] = mapped_column(
        Boolean,
        default=True,
        nullable=False,
        info=resident_column("好みに合わせた広告のオン・オフ", Basis.CHOICE),
    )
    revision: Mapped[int] = mapped_column(
        Integer, default=1, nullable=False, info=resident_column("変更の回数", Basis.CHOICE)
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(),
        default=utcnow,
        nullable=False,
        info=resident_column("最後に変更した日時", Basis.CHOICE),
    )

    __table_args__ = (
        resident_table(
            "広告の設定", "あなたが選んだとおりに広告を表示するため", Retention.UNTIL_CHANGED
        ),
    )


class ResidentHiddenShop(Base):
    """A shop whose ads one resident asked not to see."""

    __tablename__ = "resident_hidden_shops"

    resident_key: Mapped[str] = mapped_column(
        ForeignKey("resident_ad_choices.resident_key", ondelete="CASCADE"),
        primary_key=True,
        info=resident_column("仮名IDから作った鍵付きハッシュ", Basis.CHOICE),
    )
    shop_id: Mapped[int] = mapped_column(
        BigIntId,
        ForeignKey("shops.id", ondelete="CASCADE"),
        primary_key=True,
        info=resident_column("広告を表示しないお店", Basis.CHOICE),
    )
    hidden_at: Mapped[datetime] = mapped_column(
        UTCDateTime(),
        default=utcnow,
        nullable=False,
        info=resident_column("表示しないことにした日時", Basis.CHOICE),
    )

    __table_args__ = (
        resident_table(
            "広告を表示しないお店",
            "あなたが選んだお店の広告を表示しないため",
            Retention.UNTIL_CHANGED,
        ),
    )
