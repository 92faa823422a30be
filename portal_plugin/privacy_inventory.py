"""The data inventory for the city's personal-information review board (個人情報審査会).

Generated, never written by hand: every table of residents' data and each of its columns with
its meaning and legal basis come from the models' own markers (marketplace/personal_data.py),
retention from the settings, who can read it from the access policy (the routes that show it),
and where anything is sent from portal_plugin/privacy_notice.py. `portal-marketplace privacy
inventory [--format md|json]` prints it; `unaccounted` is what the test and the command refuse.

A table holds residents' data when it carries a `ResidentTable` marker, or when it has a
column that ties a row to one resident (`RESIDENT_LINK_COLUMNS`: the keyed hash, the
profile's id, an offer's id) or a foreign key to a table that holds residents' data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Final

from sqlalchemy import MetaData, Table

from marketplace.personal_data import (
    BASIS_LABELS,
    INFO_KEY,
    RESIDENT_LINK_COLUMNS,
    ResidentColumn,
    ResidentTable,
    retention_text,
)
from portal_plugin.access_policy import ROUTE_ACCESS, Party, access_for
from portal_plugin.privacy_notice import TRANSMISSIONS
from portal_plugin.settings import Settings

# The routes whose answers show a table's rows (the resident's own pages); nothing else shows a
# row of residents' data: shops and staff see rollups of 10 residents or more.
TABLE_READERS: Final[dict[str, tuple[str, ...]]] = {
    "residents": ("resident_data", "resident_data_download"),
    "interaction_events": ("resident_data", "resident_data_download"),
    "resident_ad_choices": (
        "about_ads",
        "resident_data",
        "resident_data_download",
        "feed_fragment",
        "side_fragment",
    ),
    "resident_hidden_shops": ("about_ads", "resident_data", "resident_data_download"),
    "ad_offers": ("resident_data", "resident_data_download"),
    "ad_impressions": ("resident_data", "resident_data_download"),
    "ad_clicks": ("resident_data", "resident_data_download"),
}
# Beyond the routes: whoever runs the servers can read the database (and the CLI's forget,
# purge and backup); the board approves that too.
OPERATORS: Final = "システム管理者（データベースと portal-marketplace コマンド）"
PARTY_LABELS: Final[dict[Party, str]] = {
    Party.ANYONE: "だれでも",
    Party.RESIDENT: "本人（住民）",
    Party.SHOP: "お店（自分のお店の分だけ）",
    Party.REVIEWER: "市の審査担当",
    Party.FINANCE: "市の会計担当",
    Party.ADMIN: "市の管理者",
    Party.HOST_CMS: "会津若松＋のCMS",
    Party.STRIPE: "Stripe",
}
WHOSE_LABELS: Final = {"resident": "住民", "shop": "お店", "staff": "市の職員"}


@dataclass(frozen=True)
class ColumnEntry:
    name: str
    meaning: str
    basis: str  # a Basis value
    basis_label: str


@dataclass(frozen=True)
class TableEntry:
    table: str
    title: str
    purpose: str
    retention: str
    readers: tuple[str, ...]
    sent_to: str
    columns: tuple[ColumnEntry, ...]


@dataclass(frozen=True)
class TransmissionEntry:
    recipient: str
    whose: str
    what: str
    purpose: str
    enabled: bool


@dataclass(frozen=True)
class Inventory:
    tables: tuple[TableEntry, ...]
    transmissions: tuple[TransmissionEntry, ...]
    residents_sent_to: str


def _linked_tables(metadata: MetaData) -> set[str]:
    """Tables holding residents' data by their marker, a link column or a foreign key."""
    found = {t.name for t in metadata.tables.values() if INFO_KEY in t.info}
    for table in metadata.tables.values():
        if any(column.name in RESIDENT_LINK_COLUMNS for column in table.columns):
            found.add(table.name)
    changed = True
    while changed:  # a foreign key to such a table makes a table one too
        changed = False
        for table in metadata.tables.values():
            if table.name in found:
                continue
            if any(fk.column.table.name in found for fk in table.foreign_keys):
                found.add(table.name)
                changed = True
    return found


def unaccounted(metadata: MetaData) -> list[str]:
    """What the inventory cannot describe: residents' data without its markers or readers."""
    problems: list[str] = []
    for name in sorted(_linked_tables(metadata)):
        table = metadata.tables[name]
        if not isinstance(table.info.get(INFO_KEY), ResidentTable):
            problems.append(f"{name}: holds residents' data but has no ResidentTable marker")
        for column in table.columns:
            if not isinstance(column.info.get(INFO_KEY), ResidentColumn):
                problems.append(f"{name}.{column.name}: no ResidentColumn marker")
        routes = TABLE_READERS.get(name)
        if routes is None:
            problems.append(f"{name}: no entry in TABLE_READERS (who can read it)")
        else:
            problems.extend(
                f"{name}: reader route {route!r} has no access rule"
                for route in routes
                if route not in ROUTE_ACCESS
            )
    return problems


def _readers(table: str) -> tuple[str, ...]:
    parties: set[Party] = set()
    for route in TABLE_READERS[table]:
        parties |= access_for(route).allowed
    ordered = [PARTY_LABELS[p] for p in Party if p in parties]
    return (*ordered, OPERATORS)


def _entry(table: Table, settings: Settings) -> TableEntry:
    described: ResidentTable = table.info[INFO_KEY]
    columns = []
    for column in table.columns:
        marker: ResidentColumn = column.info[INFO_KEY]
        columns.append(
            ColumnEntry(column.name, marker.meaning, marker.basis.value, BASIS_LABELS[marker.basis])
        )
    return TableEntry(
        table=table.name,
        title=described.title,
        purpose=described.purpose,
        retention=retention_text(described.retention, settings.raw_event_retention_months),
        readers=_readers(table.name),
        sent_to="なし",
        columns=tuple(columns),
    )


class InventoryIncomplete(Exception):
    """Some residents' data is not described; the message lists what."""


def build_inventory(metadata: MetaData, settings: Settings) -> Inventory:
    problems = unaccounted(metadata)
    if problems:
        raise InventoryIncomplete("; ".join(problems))
    tables = sorted(_linked_tables(metadata))
    return Inventory(
        tables=tuple(_entry(metadata.tables[name], settings) for name in tables),
        transmissions=tuple(
            TransmissionEntry(
                t.recipient, WHOSE_LABELS[t.whose], t.what, t.purpose, t.enabled(settings)
            )
            for t in TRANSMISSIONS
        ),
        residents_sent_to="なし（住民の情報を外部の事業者に送ることはありません）",
    )


def as_json(inventory: Inventory) -> dict[str, object]:
    return asdict(inventory)


def as_markdown(inventory: Inventory) -> str:
    lines = [
        "# 住民データの一覧（個人情報審査会向け）",
        "",
        "`portal-marketplace privacy inventory` がモデルと設定から生成しました。手で書いた部分はありません。",
        "",
    ]
    for table in inventory.tables:
        lines += [
            f"## {table.title}（`{table.table}`）",
            "",
            f"- 利用目的: {table.purpose}",
            f"- 保存期間: {table.retention}",
            f"- 見ることができる人: {'、'.join(table.readers)}",
            f"- 外部への送信: {table.sent_to}",
            "",
            "| 列 | 内容 | 取得の根拠 |",
            "| --- | --- | --- |",
            *(f"| `{c.name}` | {c.meaning} | {c.basis_label} |" for c in table.columns),
            "",
        ]
    lines += [
        "## 外部送信（電気通信事業法の外部送信規律）",
        "",
        f"- 住民の情報: {inventory.residents_sent_to}",
        "",
        "| 送信先 | 誰の情報 | 送る情報 | 目的 | この設定で有効 |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| {t.recipient} | {t.whose} | {t.what} | {t.purpose} | "
            f"{'はい' if t.enabled else 'いいえ'} |"
            for t in inventory.transmissions
        ),
        "",
    ]
    return "\n".join(lines)
