"""What an article from the host CMS must look like before it is stored."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from marketplace.vocab import ARTICLE_CATEGORIES, ArticlePriority

EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$"
MAX_TAGS = 20


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

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"https", "http"} or not parts.netloc:
            raise ValueError("URL は http(s):// で始まる絶対 URL にしてください")
        return value

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        if value not in ARTICLE_CATEGORIES:
            raise ValueError(f"未知のカテゴリです: {value}（{'、'.join(ARTICLE_CATEGORIES)}）")
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

    @field_validator("published_at", "expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError(
                "タイムゾーン付きの日時にしてください（例: 2026-04-01T09:00:00+09:00）"
            )
        return value

    @model_validator(mode="after")
    def _expiry_after_publication(self) -> ArticleIn:
        if self.expires_at is not None and self.expires_at <= self.published_at:
            raise ValueError("expires_at は published_at より後にしてください")
        return self


def valid_external_id(value: str) -> bool:
    return re.fullmatch(EXTERNAL_ID_PATTERN, value) is not None
