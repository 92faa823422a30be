"""Column helpers used by every model module."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import UTCDateTime, utcnow
from marketplace.personal_data import resident_column


def enum_column(enum_cls: type[enum.Enum], name: str) -> Enum:
    """Store an enum as its value in a VARCHAR with a CHECK constraint, portable across backends."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
    )


class Timestamps:
    # Described for the residents' data inventory; other tables' inventories ignore it.
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, nullable=False, info=resident_column("記録した日時")
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(),
        default=utcnow,
        onupdate=utcnow,
        nullable=False,
        info=resident_column("最後に更新した日時"),
    )
