"""Calendar days as residents and shops read them, in the page's language (babel's CLDR data)."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_interval, format_skeleton

from marketplace.calendar import TOKYO
from portal_plugin.i18n import current_language


def day_label(day: date, with_year: bool = False) -> str:
    """12月5日(土) / Sat, Dec 5; with the year, 2026年12月5日(土) / Sat, Dec 5, 2026."""
    skeleton = "yMMMEd" if with_year else "MMMEd"
    return str(format_skeleton(skeleton, day, locale=current_language.get()))


def date_range(start: date, end: date) -> str:
    """12月5日(土)～7日(月) / Sat, Dec 5 – Mon, Dec 7; the year is shown when it changes."""
    skeleton = "MMMEd" if start.year == end.year else "yMMMEd"
    return str(format_interval(start, end, skeleton, locale=current_language.get()))


def tokyo_time(moment: datetime | None, seconds: bool = False) -> str:
    """2026-12-04 19:30 in Tokyo time, whatever zone the stored time is in ("—" for none)."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        raise ValueError("a naive time cannot be shown in Tokyo time")  # programmer error
    return moment.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
