"""Reading article files (JSON or CSV) from the host CMS, all or nothing.

Every problem is collected with the file, row and column it was found in; if there is any, the
import writes nothing. Values from the file appear in messages only quoted and shortened, so a
hostile file cannot flood or drive the terminal.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from marketplace.articles.schemas import ArticleIn, valid_external_id

CSV_COLUMNS = (
    "id",
    "title",
    "summary",
    "url",
    "category",
    "tags",
    "priority",
    "published_at",
    "expires_at",
)
REQUIRED_CSV_COLUMNS = ("id", "title", "url", "category", "published_at")
MAX_ROWS = 100_000
# The synthetic city's 2,000 articles export to about 1 MB: 64 MB is far beyond any real export
# and still safe to hold in memory.
MAX_FILE_BYTES = 64 * 1024 * 1024
SHOWN_CHARS = 40

Record = dict[str, Any]


@dataclass(frozen=True)
class ImportProblem:
    file: str
    row: int  # 1-based data row (CSV header is row 0); JSON array index + 1; 0 for the file
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: row {self.row}, column {self.column}: {self.message}"


class ArticleImportError(Exception):
    """Every problem of one article file, by row (`articles import` prints them). Only the
    command line raises it, for the operator in English like its other output, so it is not a
    `DomainError` (those reach residents, shops and staff in Japanese and English)."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def parse_article_file(path: Path) -> list[tuple[str, ArticleIn]]:
    """Parse and validate a .json or .csv article file; raise ArticleImportError on any problem."""
    name = _shown(path.name)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise _file_error(name, "use a .json or .csv file")
    text = _decode(name, _read(name, path))
    if not text.strip():
        raise _file_error(name, "file is empty")
    records = _json_records(name, text) if suffix == ".json" else _csv_records(name, text)
    if not records:
        raise _file_error(name, "file holds no articles")
    return _validate(name, records)


def _file_error(name: str, message: str, row: int = 0) -> ArticleImportError:
    return ArticleImportError([ImportProblem(name, row, "-", message)])


def _read(name: str, path: Path) -> bytes:
    too_large = _file_error(name, f"file is larger than {MAX_FILE_BYTES // 2**20} MB; split it")
    try:
        with path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_size > MAX_FILE_BYTES:
                raise too_large
            # Bounded even when the size was not known up front (a pipe, a growing file).
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _file_error(name, f"cannot read file: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise too_large
    return raw


def _decode(name: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise _file_error(
            name, f"file is not UTF-8 (first bad byte on line {line}); save it as UTF-8"
        ) from None


class _JsonObject(dict[str, Any]):
    """A JSON object that remembers the keys it held twice (json.loads keeps the last one)."""

    duplicates: list[str]

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, Any]]) -> _JsonObject:
        obj = cls(pairs)
        obj.duplicates = []
        if len(obj) < len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen and key not in obj.duplicates:
                    obj.duplicates.append(key)
                seen.add(key)
        return obj


def _json_records(name: str, text: str) -> list[Record | ImportProblem]:
    try:
        # Articles hold no numbers: integers stay Decimal, so a 5,000-digit one cannot stop the
        # parser (int() refuses more than 4,300 digits) and is refused at its row as a wrong type.
        data = json.loads(text, parse_int=Decimal, object_pairs_hook=_JsonObject.from_pairs)
    except json.JSONDecodeError as exc:
        raise _file_error(
            name, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise _file_error(
            name, "invalid JSON: nested too deeply (expected a list of flat article objects)"
        ) from None
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    if not isinstance(data, list):
        raise _file_error(name, 'expected a list of article objects (or {"articles": [...]})')
    if len(data) > MAX_ROWS:
        raise _file_error(name, f"more than {MAX_ROWS} rows", row=MAX_ROWS + 1)
    records: list[Record | ImportProblem] = []
    for index, item in enumerate(data, start=1):
        if not isinstance(item, _JsonObject):
            records.append(ImportProblem(name, index, "-", "expected an article object {...}"))
        elif item.duplicates:
            column = _shown(item.duplicates[0])
            records.append(ImportProblem(name, index, column, "key appears more than once"))
        else:
            records.append(item)
    return records


def _csv_records(name: str, text: str) -> list[Record | ImportProblem]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, [])
    except csv.Error as exc:
        raise _file_error(name, f"cannot read the header as CSV: {exc}") from None
    missing = [column for column in REQUIRED_CSV_COLUMNS if column not in header]
    unknown = list(dict.fromkeys(column for column in header if column not in CSV_COLUMNS))
    repeated = [c for c in CSV_COLUMNS if header.count(c) > 1]
    problems = [ImportProblem(name, 0, c, "required column is missing") for c in missing]
    problems += [ImportProblem(name, 0, _shown(c), "unknown column") for c in unknown]
    problems += [ImportProblem(name, 0, c, "column appears more than once") for c in repeated]
    if problems:
        raise ArticleImportError(problems)
    records: list[Record | ImportProblem] = []
    try:
        for cells in reader:
            if not cells:  # a blank line
                continue
            row = len(records) + 1
            if row > MAX_ROWS:
                raise _file_error(name, f"more than {MAX_ROWS} rows", row=row)
            if len(cells) != len(header):
                more_or_fewer = "more" if len(cells) > len(header) else "fewer"
                message = f"{more_or_fewer} values than columns ({len(cells)} for {len(header)})"
                records.append(ImportProblem(name, row, "-", message))
                continue
            record: Record = {k: v for k, v in zip(header, cells, strict=True) if v != ""}
            if "tags" in record:
                record["tags"] = [t for t in str(record["tags"]).split("|") if t.strip()]
            records.append(record)
    except csv.Error as exc:
        hint = " (a quoted value is not closed)" if "end of data" in str(exc) else ""
        records.append(
            ImportProblem(name, len(records) + 1, "-", f"cannot read as CSV: {exc}{hint}")
        )
    return records


def _validate(name: str, records: list[Record | ImportProblem]) -> list[tuple[str, ArticleIn]]:
    problems: list[ImportProblem] = []
    seen: dict[str, int] = {}
    parsed: list[tuple[str, ArticleIn]] = []
    for index, record in enumerate(records, start=1):
        if isinstance(record, ImportProblem):
            problems.append(record)
            continue
        fields = dict(record)
        external_id = fields.pop("id", None)
        if not isinstance(external_id, str) or not valid_external_id(external_id):
            problems.append(ImportProblem(name, index, "id", _id_problem(external_id)))
        elif external_id in seen:
            problems.append(
                ImportProblem(
                    name,
                    index,
                    "id",
                    f"duplicate id {external_id!r} (also row {seen[external_id]})",
                )
            )
        else:
            seen[external_id] = index
        try:
            article = ArticleIn.model_validate(fields)
        except ValidationError as exc:
            for error in exc.errors(include_url=False, include_input=False):
                column = ".".join(str(part) for part in error["loc"]) or "-"
                message = error["msg"].removeprefix("Value error, ")
                problems.append(ImportProblem(name, index, _shown(column), message))
            continue
        if isinstance(external_id, str):
            parsed.append((external_id, article))
    if problems:
        raise ArticleImportError(problems)
    return parsed


def _id_problem(value: object) -> str:
    if value is None or value == "":
        return "id is missing"
    if not isinstance(value, str):
        return "id must be a string in quotes, not a number or other value"
    return f"invalid id {_shown(repr(value))}: use 1 to 64 letters, digits and ._:- only"


def _shown(text: str) -> str:
    """Text from the file as a message shows it: printable and at most SHOWN_CHARS long."""
    if not text.isprintable():
        text = repr(text)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"
