"""Per-week inventory: availability, and the atomic moves of shares between free, held and sold.

Concurrency protocol (PostgreSQL, READ COMMITTED):
- Every change to a week's counters or holds first locks that week's `inventory_weeks` row
  (`SELECT … FOR UPDATE`), and a transaction locks weeks in ascending order, booking row first
  when it has one, so two transactions never wait on each other in a cycle.
- Taking shares is one `UPDATE … SET held_shares = held_shares + n WHERE sold + held + n <=
  total RETURNING`, backed by the table's CHECK: even a buggy caller cannot oversell.
- Expired holds are purged by whoever locks the week next, so they free their shares by
  themselves, without a background job.
SQLite serialises writers, and the first statement (an INSERT) takes its write lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from marketplace.errors import SharesUnavailable
from marketplace.models import InventoryHold, InventoryWeek, Placement


@dataclass(frozen=True)
class WeekAvailability:
    week_start: date
    total: int
    sold: int
    held: int

    @property
    def free(self) -> int:
        return max(self.total - self.sold - self.held, 0)


def week_range(first_week: date, weeks: int) -> list[date]:
    return [first_week + timedelta(weeks=offset) for offset in range(weeks)]


def availability(
    session: Session, placement: Placement, weeks: Sequence[date], now: datetime
) -> list[WeekAvailability]:
    """Sold, live-held and free shares per week; expired holds count as free."""
    if not weeks:
        return []
    rows = {
        row.week_start: row
        for row in session.scalars(
            select(InventoryWeek).where(
                InventoryWeek.placement_id == placement.id,
                InventoryWeek.week_start.in_(list(weeks)),
            )
        )
    }
    held: dict[date, int] = {
        week: int(shares or 0)
        for week, shares in session.execute(
            select(InventoryHold.week_start, func.sum(InventoryHold.shares))
            .where(
                InventoryHold.placement_id == placement.id,
                InventoryHold.week_start.in_(list(weeks)),
                InventoryHold.expires_at > now,
            )
            .group_by(InventoryHold.week_start)
        ).all()
    }
    result = []
    for week in weeks:
        row = rows.get(week)
        total = row.total_shares if row else placement.shares_per_week
        sold = row.sold_shares if row else 0
        result.append(WeekAvailability(week, total, sold, int(held.get(week) or 0)))
    return result


def _ensure_week(session: Session, placement_id: int, week: date, total: int) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(InventoryWeek)
        .values(placement_id=placement_id, week_start=week, total_shares=total)
        .on_conflict_do_nothing(index_elements=["placement_id", "week_start"])
    )


def _lock_week(session: Session, placement_id: int, week: date) -> InventoryWeek:
    return session.execute(
        select(InventoryWeek)
        .where(InventoryWeek.placement_id == placement_id, InventoryWeek.week_start == week)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _update_week(session: Session, placement_id: int, week: date, **values: object) -> None:
    session.execute(
        update(InventoryWeek)
        .where(InventoryWeek.placement_id == placement_id, InventoryWeek.week_start == week)
        .values(**values)
    )


def _lock_existing(session: Session, placement: Placement, week: date) -> InventoryWeek:
    """Create the week's row if needed, then lock it."""
    _ensure_week(session, placement.id, week, placement.shares_per_week)
    return _lock_week(session, placement.id, week)


def _purge_expired(session: Session, placement_id: int, week: date, now: datetime) -> None:
    """Free the shares of this week's expired holds. The week must be locked."""
    freed = session.execute(
        delete(InventoryHold)
        .where(
            InventoryHold.placement_id == placement_id,
            InventoryHold.week_start == week,
            InventoryHold.expires_at <= now,
        )
        .returning(InventoryHold.shares)
    ).scalars()
    total = sum(freed)
    if total:
        _update_week(session, placement_id, week, held_shares=InventoryWeek.held_shares - total)


def _take(session: Session, placement_id: int, week: date, shares: int, column: str) -> bool:
    """Atomically add `shares` to the held or sold counter if they fit; False if they do not."""
    counter = getattr(InventoryWeek, column)
    taken = session.execute(
        update(InventoryWeek)
        .where(
            InventoryWeek.placement_id == placement_id,
            InventoryWeek.week_start == week,
            InventoryWeek.sold_shares + InventoryWeek.held_shares + shares
            <= InventoryWeek.total_shares,
        )
        .values({column: counter + shares})
        .returning(InventoryWeek.id)
    ).first()
    return taken is not None


def _lock_and_purge(
    session: Session, placement: Placement, week: date, now: datetime
) -> InventoryWeek:
    _lock_existing(session, placement, week)
    _purge_expired(session, placement.id, week, now)
    return _lock_week(session, placement.id, week)


def _sold_out(row: InventoryWeek, week: date) -> SharesUnavailable:
    free = max(row.total_shares - row.sold_shares - row.held_shares, 0)
    return SharesUnavailable(field="first_week", week=week.isoformat(), free=free)


def hold_shares(
    session: Session,
    placement: Placement,
    booking_id: int,
    weeks: Iterable[date],
    shares: int,
    now: datetime,
    expires_at: datetime,
) -> None:
    """Reserve `shares` in every week for `booking_id`, or raise SharesUnavailable."""
    for week in sorted(weeks):
        row = _lock_and_purge(session, placement, week, now)
        if not _take(session, placement.id, week, shares, "held_shares"):
            raise _sold_out(row, week)
        session.add(
            InventoryHold(
                booking_id=booking_id,
                placement_id=placement.id,
                week_start=week,
                shares=shares,
                expires_at=expires_at,
            )
        )
    session.flush()


def sell_held_shares(
    session: Session,
    placement: Placement,
    booking_id: int,
    weeks: Iterable[date],
    shares: int,
    now: datetime,
) -> None:
    """Turn a booking's live holds into sold shares. A lapsed hold is re-taken if it still
    fits, so a payment that arrives a little late still gets its shares; otherwise
    SharesUnavailable."""
    for week in sorted(weeks):
        _lock_existing(session, placement, week)
        moved = session.execute(
            delete(InventoryHold)
            .where(
                InventoryHold.booking_id == booking_id,
                InventoryHold.week_start == week,
                InventoryHold.expires_at > now,
            )
            .returning(InventoryHold.shares)
        ).scalar_one_or_none()
        if moved is not None:
            _update_week(
                session,
                placement.id,
                week,
                held_shares=InventoryWeek.held_shares - moved,
                sold_shares=InventoryWeek.sold_shares + moved,
            )
            continue
        _purge_expired(session, placement.id, week, now)
        if not _take(session, placement.id, week, shares, "sold_shares"):
            raise _sold_out(_lock_week(session, placement.id, week), week)


def release_shares(
    session: Session,
    placement: Placement,
    booking_id: int,
    weeks: Iterable[date],
    shares: int,
    *,
    sold: bool,
    now: datetime,
) -> None:
    """Give back a booking's shares in `weeks`: its holds, or its sold shares when `sold`."""
    for week in sorted(weeks):
        _lock_existing(session, placement, week)
        held = session.execute(
            delete(InventoryHold)
            .where(InventoryHold.booking_id == booking_id, InventoryHold.week_start == week)
            .returning(InventoryHold.shares)
        ).scalar_one_or_none()
        values: dict[str, object] = {}
        if held:
            values["held_shares"] = InventoryWeek.held_shares - held
        if sold:
            values["sold_shares"] = InventoryWeek.sold_shares - shares
        if values:
            _update_week(session, placement.id, week, **values)
        _purge_expired(session, placement.id, week, now)


def set_week_capacity(session: Session, placement: Placement, week: date, total: int) -> None:
    """Change one week's total shares; the CHECK refuses going below what is sold and held."""
    _lock_existing(session, placement, week)
    _update_week(session, placement.id, week, total_shares=total)
