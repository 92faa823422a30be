"""Row locks for read-modify-write use cases (SELECT … FOR UPDATE; SQLite serialises writers)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

M = TypeVar("M")


def lock_by_id(session: Session, model: type[M], row_id: int) -> M | None:
    """The row, locked until the transaction ends and refreshed from the database."""
    column: Any = model.id  # type: ignore[attr-defined]
    return session.execute(
        select(model)
        .where(column == row_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
