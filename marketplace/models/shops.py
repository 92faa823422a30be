"""Local businesses that advertise on the portal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigIntId, UTCDateTime
from marketplace.models._columns import Timestamps, enum_column
from marketplace.vocab import ShopStatus


class Shop(Timestamps, Base):
    __tablename__ = "shops"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    business_name: Mapped[str] = mapped_column(String(120), nullable=False)
    # Katakana reading, used to match bank transfers (振込依頼人名) to invoices.
    business_name_kana: Mapped[str] = mapped_column(String(120), default="", nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    district: Mapped[str] = mapped_column(String(32), nullable=False)
    in_city: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    contact_name: Mapped[str] = mapped_column(String(80), nullable=False)
    contact_email: Mapped[str] = mapped_column(String(254), nullable=False)
    contact_phone: Mapped[str] = mapped_column(String(32), default="", nullable=False)
    # 適格請求書発行事業者登録番号: "T" + 13 digits, optional.
    invoice_registration_number: Mapped[str | None] = mapped_column(String(14))
    # The shop page (店舗ページ) residents see; all optional, all shown as the shop wrote them.
    address: Mapped[str] = mapped_column(String(200), default="", server_default="", nullable=False)
    opening_hours: Mapped[str] = mapped_column(
        String(200), default="", server_default="", nullable=False
    )
    closed_days: Mapped[str] = mapped_column(
        String(100), default="", server_default="", nullable=False
    )
    public_phone: Mapped[str] = mapped_column(
        String(32), default="", server_default="", nullable=False
    )
    status: Mapped[ShopStatus] = mapped_column(
        enum_column(ShopStatus, "shop_status"), default=ShopStatus.PENDING, nullable=False
    )
    # A new name asked for by a shop that advertises: shown nowhere until staff approve it
    # (marketplace.accounts.shop_names); ads and the shop page keep business_name meanwhile.
    pending_business_name: Mapped[str | None] = mapped_column(String(120))
    pending_business_name_kana: Mapped[str | None] = mapped_column(String(120))
    name_change_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
