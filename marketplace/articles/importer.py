"""Reading article files (JSON or CSV) from the host CMS, all or nothing.

Every problem is collected with the file, row and column it was found in; if there is any, the
import writes nothing.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ImportProblem:
    file: str
    row: int  # 1-based data row (CSV header is row 0); JSON array index + 1
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: row {self.row}, column {self.column}: {self.message}"


class ArticleImportError(Exception):
    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def parse_article_file(path: Path) -> list[tuple[str, ArticleIn]]:
    """Parse and validate a .json or .csv article file; raise ArticleImportError on any problem."""
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ArticleImportError(
            [ImportProblem(name, 0, "-", f"cannot read file: {exc.strerror}")]
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ArticleImportError([ImportProblem(name, 0, "-", "file is not UTF-8")]) from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        records = _json_records(name, text)
    elif suffix == ".csv":
        records = _csv_records(name, text)
    else:
        raise ArticleImportError([ImportProblem(name, 0, "-", "use a .json or .csv file")])
    return _validate(name, records)


def _json_records(name: str, text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArticleImportError(
            [ImportProblem(name, exc.lineno, "-", f"invalid JSON: {exc.msg}")]
        ) from None
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ArticleImportError(
            [ImportProblem(name, 0, "-", "expected a list of article objects")]
        )
    return data


def _csv_records(name: str, text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [column for column in REQUIRED_CSV_COLUMNS if column not in header]
    unknown = [column for column in header if column not in CSV_COLUMNS]
    problems = [ImportProblem(name, 0, c, "required column is missing") for c in missing]
    problems += [ImportProblem(name, 0, c, "unknown column") for c in unknown]
    if problems:
        raise ArticleImportError(problems)
    records: list[dict[str, Any]] = []
    for row in reader:
        if None in row:
            records.append({"__extra__": True})
            continue
        record: dict[str, Any] = {k: v for k, v in row.items() if v not in (None, "")}
        if "tags" in record:
            record["tags"] = [t for t in str(record["tags"]).split("|") if t.strip()]
        records.append(record)
    return records


def _validate(name: str, records: list[dict[str, Any]]) -> list[tuple[str, ArticleIn]]:
    problems: list[ImportProblem] = []
    if len(records) > MAX_ROWS:
        raise ArticleImportError([ImportProblem(name, 0, "-", f"more than {MAX_ROWS} rows")])
    seen: dict[str, int] = {}
    parsed: list[tuple[str, ArticleIn]] = []
    for index, record in enumerate(records, start=1):
        if record.get("__extra__"):
            problems.append(ImportProblem(name, index, "-", "more values than columns"))
            continue
        external_id = str(record.pop("id", "") or "")
        if not valid_external_id(external_id):
            problems.append(
                ImportProblem(name, index, "id", f"invalid or missing id {external_id!r}")
            )
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
            article = ArticleIn.model_validate(record)
        except ValidationError as exc:
            for error in exc.errors():
                column = ".".join(str(part) for part in error["loc"]) or "-"
                problems.append(ImportProblem(name, index, column, error["msg"]))
            continue
        parsed.append((external_id, article))
    if problems:
        raise ArticleImportError(problems)
    return parsed
