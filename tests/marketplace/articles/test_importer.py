from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.articles.importer import ArticleImportError, parse_article_file
from marketplace.articles.services import upsert_articles
from marketplace.models import Article

HEADER = "id,title,summary,url,category,tags,priority,published_at,expires_at\n"
GOOD_ROW = "a-1,ごみ収集日の変更,年末年始の収集日です,https://example.jp/a1,ごみ・環境,年末|ごみ,normal,2026-12-01T09:00:00+09:00,\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_import_parses_tags_and_times(tmp_path: Path) -> None:
    [(external_id, article)] = parse_article_file(write(tmp_path, "a.csv", HEADER + GOOD_ROW))
    assert external_id == "a-1"
    assert article.tags == ["年末", "ごみ"]
    assert article.published_at.utcoffset() is not None


def test_json_import_accepts_a_list_or_an_articles_object(tmp_path: Path) -> None:
    record = {
        "id": "j-1",
        "title": "健診のお知らせ",
        "url": "https://example.jp/j1",
        "category": "健康・医療",
        "published_at": "2026-11-01T00:00:00+09:00",
    }
    assert len(parse_article_file(write(tmp_path, "a.json", json.dumps([record])))) == 1
    assert (
        len(parse_article_file(write(tmp_path, "b.json", json.dumps({"articles": [record]})))) == 1
    )


def test_problems_name_file_row_and_column(tmp_path: Path) -> None:
    bad = (
        HEADER
        + GOOD_ROW
        + "a-2,タイトル,,https://example.jp/a2,宇宙,,normal,2026-12-01T09:00:00+09:00,\n"
        + "a-1,重複,,https://example.jp/a3,防災,,normal,yesterday,\n"
    )
    with pytest.raises(ArticleImportError) as info:
        parse_article_file(write(tmp_path, "bad.csv", bad))
    messages = [str(p) for p in info.value.problems]
    assert any(m.startswith("bad.csv: row 2, column category:") for m in messages)
    assert any(m.startswith("bad.csv: row 3, column id:") and "duplicate" in m for m in messages)
    assert any(m.startswith("bad.csv: row 3, column published_at:") for m in messages)


def test_missing_columns_are_reported_before_rows(tmp_path: Path) -> None:
    with pytest.raises(ArticleImportError) as info:
        parse_article_file(write(tmp_path, "cols.csv", "id,title\nx,y\n"))
    columns = {p.column for p in info.value.problems}
    assert columns == {"url", "category", "published_at"}


def test_unsupported_and_undecodable_files(tmp_path: Path) -> None:
    with pytest.raises(ArticleImportError, match=r"use a \.json or \.csv"):
        parse_article_file(write(tmp_path, "a.txt", "x"))
    latin = tmp_path / "a.csv"
    latin.write_bytes("id,title\n1,\xe9".encode("latin-1"))
    with pytest.raises(ArticleImportError, match="not UTF-8"):
        parse_article_file(latin)
    with pytest.raises(ArticleImportError, match="invalid JSON"):
        parse_article_file(write(tmp_path, "broken.json", "[{"))


def test_upsert_is_all_in_the_callers_transaction(session: Session, tmp_path: Path) -> None:
    articles = parse_article_file(write(tmp_path, "a.csv", HEADER + GOOD_ROW))
    assert upsert_articles(session, articles) == (1, 0)
    assert upsert_articles(session, articles) == (0, 1)
    assert session.scalar(select(func.count()).select_from(Article)) == 1
