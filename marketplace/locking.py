"""Row locks for read-modify-write use cases (SELECT … FOR UPDATE; SQLite serialises writers)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

M = TypeVar("M")


def lock_by_id(
    session: Session, model: type[M], row_id: int, *, key_share: bool = False
) -> M | None:
    """The row, locked until the transaction ends and refreshed from the database.

    `key_share=True` takes PostgreSQL's FOR NO KEY UPDATE: it still serialises the lockers but
    lets other transactions insert rows that reference this one (their foreign-key check takes
    FOR KEY SHARE). Use it when the row is locked only to serialise work, not to change its key,
    or a writer that references the row while holding other locks can deadlock with the locker.
    """
    column: Any = model.id  # type: ignore[attr-defined]
    return session.execute(
        select(model)
        .where(column == row_id)
        .with_for_update(key_share=key_share)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
