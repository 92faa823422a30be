"""What an article from the host CMS must look like before it is stored."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from marketplace.vocab import ARTICLE_CATEGORIES, ArticlePriority

EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$"
MAX_TAGS = 20
# Control characters other than tab and line breaks: NUL cannot even be stored in PostgreSQL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
DATETIME_EXAMPLE = "2026-04-01T09:00:00+09:00"


class ArticleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200)
    summary: str = Field(default="", max_length=2000)
    url: str = Field(max_length=500)
    category: str
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    priority: ArticlePriority = ArticlePriority.NORMAL
    published_at: datetime
    expires_at: datetime | None = None

    @field_validator("title", "summary")
    @classmethod
    def _text(cls, value: str) -> str:
        if CONTROL_CHARACTERS.search(value):
            raise ValueError("制御文字（NUL など）は使えません")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        # urlsplit drops tabs and line breaks silently; the stored URL would still hold them.
        if "\\" in value or any(ch.isspace() or not ch.isprintable() for ch in value):
            raise ValueError("URL に空白・制御文字・バックスラッシュは使えません")
        parts = urlsplit(value)
        if parts.scheme not in {"https", "http"} or not parts.netloc:
            raise ValueError("URL は http(s):// で始まる絶対 URL にしてください")
        return value

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        if value not in ARTICLE_CATEGORIES:
            shown = repr(value[:40]) + ("…" if len(value) > 40 else "")
            raise ValueError(f"未知のカテゴリです: {shown}（{'、'.join(ARTICLE_CATEGORIES)}）")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        cleaned = []
        for tag in value:
            tag = tag.strip()
            if not tag or len(tag) > 40 or re.search(r"[\x00-\x1f]", tag):
                raise ValueError(f"タグが不正です: {tag!r}")
            if tag not in cleaned:
                cleaned.append(tag)
        return cleaned

    @field_validator("published_at", "expires_at", mode="before")
    @classmethod
    def _written_out(cls, value: Any) -> Any:
        # A number would be read as Unix seconds (or milliseconds, by its size): refuse the guess.
        if value is not None and not isinstance(value, str | datetime):
            raise ValueError(f"日時は文字列で書いてください（例: {DATETIME_EXAMPLE}）")
        return value

    @field_validator("published_at", "expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"タイムゾーン付きの日時にしてください（例: {DATETIME_EXAMPLE}）")
        try:
            value.astimezone(UTC)  # stored in UTC: 0001-01-01T00:00+09:00 has no UTC time
        except OverflowError:
            raise ValueError("日時が範囲外です") from None
        return value

    @field_validator("expires_at")
    @classmethod
    def _expiry_after_publication(
        cls, value: datetime | None, info: ValidationInfo
    ) -> datetime | None:
        published_at = info.data.get("published_at")  # absent when it was itself invalid
        if value is not None and published_at is not None and value <= published_at:
            raise ValueError("expires_at は published_at より後にしてください")
        return value


def valid_external_id(value: str) -> bool:
    return re.fullmatch(EXTERNAL_ID_PATTERN, value) is not None
