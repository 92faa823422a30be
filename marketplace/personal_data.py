"""What residents' data each table holds, said where the table is defined.

Every table that holds data about a resident carries a `ResidentTable` in its `info` (purpose
and retention), and each of its columns a `ResidentColumn` (what the column is, on what legal
basis it is held). `portal-marketplace privacy inventory` and the resident's own page (`/me`)
read these markers, so the inventory the privacy board approves is the code's own description.
tests/portal_plugin/test_privacy_inventory.py fails when a table keyed by a resident has a
column without one.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import MetaData, Table

INFO_KEY: Final = "resident_data"

# Columns that tie a row to one resident: the keyed hash, the profile's id, an offer's id.
RESIDENT_LINK_COLUMNS: Final = frozenset({"resident_key", "resident_id", "offer_id"})


class Basis(enum.StrEnum):
    """Why the plugin may hold a column (Japanese labels in BASIS_LABELS)."""

    CONSENT = "consent"  # the resident consented to personalisation on the portal
    CHOICE = "choice"  # the resident's own request, taken where the ad is
    SERVICE = "service"  # no consent: running and measuring the service, preventing fraud


BASIS_LABELS: Final[dict[Basis, str]] = {
    Basis.CONSENT: "本人の同意（会津若松＋の「あなたに合わせたおすすめ」）",
    Basis.CHOICE: "本人の申し出（広告の設定）",
    Basis.SERVICE: "同意によらない（サービスの提供、広告の計測と不正防止。仮名の記録）",
}


class Retention(enum.StrEnum):
    """How long a table's rows are kept."""

    RAW_EVENTS = "raw_events"  # settings.raw_event_retention_months, then only rollups remain
    UNTIL_CHANGED = "until_changed"  # until the resident changes or deletes it
    UNTIL_FORGOTTEN = "until_forgotten"  # until the resident (or the city) deletes it


@dataclass(frozen=True)
class ResidentTable:
    """A table of residents' data: what it is for and how long its rows stay."""

    title: str  # how residents and the board read the table's name
    purpose: str
    retention: Retention


@dataclass(frozen=True)
class ResidentColumn:
    """One column of a residents' data table."""

    meaning: str
    basis: Basis


def resident_table(title: str, purpose: str, retention: Retention) -> dict[str, Any]:
    """`__table_args__`'s `{"info": ...}` for a table of residents' data."""
    return {"info": {INFO_KEY: ResidentTable(title, purpose, retention)}}


def resident_column(meaning: str, basis: Basis = Basis.SERVICE) -> dict[str, Any]:
    """A column's `info=` in a table of residents' data."""
    return {INFO_KEY: ResidentColumn(meaning, basis)}


RETENTION_TEXTS: Final[dict[Retention, str]] = {
    Retention.RAW_EVENTS: "{months}か月（その後は10人以上の集計だけを残して削除）",
    Retention.UNTIL_CHANGED: "あなたが変更するか、データを削除するまで",
    Retention.UNTIL_FORGOTTEN: "あなたがデータを削除するまで",
}


def retention_text(
    retention: Retention, raw_event_months: int, translate: Callable[[str], str] = str
) -> str:
    """How long, in the words residents read (`translate`: the page's gettext)."""
    return translate(RETENTION_TEXTS[retention]).format(months=raw_event_months)


def described_tables(metadata: MetaData) -> list[tuple[Table, ResidentTable]]:
    """The tables marked as residents' data, in a stable order (by name)."""
    return [
        (table, table.info[INFO_KEY])
        for name, table in sorted(metadata.tables.items())
        if isinstance(table.info.get(INFO_KEY), ResidentTable)
    ]
