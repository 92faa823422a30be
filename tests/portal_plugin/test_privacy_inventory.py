"""The residents' data inventory: generated from the models' markers, the settings and the
access policy; it fails when residents' data appears that it does not describe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table
from typer.testing import CliRunner

from marketplace.personal_data import Basis, resident_column
from portal_plugin.cli.main import app
from portal_plugin.privacy_inventory import (
    TABLE_READERS,
    InventoryIncomplete,
    as_markdown,
    build_inventory,
    unaccounted,
)
from portal_plugin.schema import metadata
from tests.support.cli import point_cli_at
from tests.support.settings import make_settings

RESIDENT_TABLES = {
    "residents",
    "interaction_events",
    "resident_ad_choices",
    "resident_hidden_shops",
    "ad_offers",
    "ad_impressions",
    "ad_clicks",
}


def copy_of_models() -> MetaData:
    copied = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(copied)
    return copied


def test_every_residents_data_column_of_the_models_is_described() -> None:
    assert unaccounted(metadata) == []
    inventory = build_inventory(metadata, make_settings("sqlite://"))
    assert {t.table for t in inventory.tables} == RESIDENT_TABLES
    for entry in inventory.tables:
        assert [c.name for c in entry.columns] == list(metadata.tables[entry.table].columns.keys())
        assert all(c.meaning and c.basis_label for c in entry.columns)
        assert entry.sent_to == "なし"


def test_a_new_column_in_a_residents_table_fails_until_it_is_described() -> None:
    copied = copy_of_models()
    offers = copied.tables["ad_offers"]
    offers.append_column(Column("user_agent", String(200)))
    assert unaccounted(copied) == ["ad_offers.user_agent: no ResidentColumn marker"]
    with pytest.raises(InventoryIncomplete, match=r"ad_offers\.user_agent"):
        build_inventory(copied, make_settings("sqlite://"))
    offers.c.user_agent.info.update(resident_column("ブラウザの種類"))
    assert unaccounted(copied) == []


def test_a_new_table_keyed_by_a_resident_fails_until_it_is_marked() -> None:
    copied = copy_of_models()
    Table(
        "resident_notes",
        copied,
        Column("resident_key", String(64), primary_key=True),
        Column("note", String(200)),
    )
    Table(  # tied to a resident through a foreign key only
        "resident_note_tags",
        copied,
        Column("id", Integer, primary_key=True),
        Column("note_key", ForeignKey("resident_notes.resident_key")),
    )
    problems = unaccounted(copied)
    assert "resident_notes: holds residents' data but has no ResidentTable marker" in problems
    assert "resident_notes.note: no ResidentColumn marker" in problems
    assert "resident_notes: no entry in TABLE_READERS (who can read it)" in problems
    assert any(p.startswith("resident_note_tags:") for p in problems)


def test_readers_come_from_the_access_policy_and_transfers_from_the_settings() -> None:
    inventory = build_inventory(metadata, make_settings("sqlite://", stripe_api_key=None))
    offers = next(t for t in inventory.tables if t.table == "ad_offers")
    assert offers.readers[0] == "本人（住民）" and "お店" not in "".join(offers.readers)
    assert "13か月" in offers.retention
    stripe = next(t for t in inventory.transmissions if t.recipient.startswith("Stripe"))
    assert stripe.whose == "お店" and stripe.enabled is False
    assert all(t.whose != "住民" for t in inventory.transmissions)
    with_stripe = build_inventory(
        metadata,
        make_settings("sqlite://", stripe_api_key="sk_test_x", raw_event_retention_months=6),
    )
    assert next(t for t in with_stripe.transmissions if t.recipient.startswith("Stripe")).enabled
    assert "6か月" in next(t for t in with_stripe.tables if t.table == "ad_offers").retention
    consent = next(t for t in inventory.tables if t.table == "residents")
    assert {c.name for c in consent.columns if c.basis == Basis.CONSENT} >= {
        "age_band",
        "household",
        "district",
        "interests",
    }
    assert set(TABLE_READERS) == RESIDENT_TABLES


def test_markdown_names_every_table_and_column() -> None:
    text = as_markdown(build_inventory(metadata, make_settings("sqlite://")))
    for name in RESIDENT_TABLES:
        assert f"（`{name}`）" in text
        for column in metadata.tables[name].columns:
            assert f"| `{column.name}` |" in text
    assert "外部送信規律" in text and "Stripe" in text


def test_the_inventory_command_prints_markdown_and_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_cli_at(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'inventory.db'}")
    runner = CliRunner()
    md = runner.invoke(app, ["privacy", "inventory"])
    assert md.exit_code == 0, md.output
    assert md.output.startswith("# 住民データの一覧")
    out = runner.invoke(app, ["privacy", "inventory", "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert {t["table"] for t in data["tables"]} == RESIDENT_TABLES
    assert data["residents_sent_to"].startswith("なし")
    bad = runner.invoke(app, ["privacy", "inventory", "--format", "pdf"])
    assert bad.exit_code == 2
