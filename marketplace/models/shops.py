"""Local businesses that advertise on the portal."""

from __future__ import annotations

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, BigIntId
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
    status: Mapped[ShopStatus] = mapped_column(
        enum_column(ShopStatus, "shop_status"), default=ShopStatus.PENDING, nullable=False
    )
