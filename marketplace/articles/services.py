"""Storing and listing articles. The caller owns the session and its transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from marketplace.articles.schemas import ArticleIn
from marketplace.models import Article
from marketplace.vocab import ArticlePriority


def upsert_article(session: Session, external_id: str, data: ArticleIn) -> tuple[Article, bool]:
    """Create or replace the article with this CMS id; returns (article, created)."""
    article = session.scalar(select(Article).where(Article.external_id == external_id))
    created = article is None
    if article is None:
        article = Article(external_id=external_id)
        session.add(article)
    for field, value in data.model_dump().items():
        setattr(article, field, value)
    session.flush()
    return article, created


def upsert_articles(session: Session, items: Iterable[tuple[str, ArticleIn]]) -> tuple[int, int]:
    """Upsert many; returns (created, updated). All-or-nothing is the caller's transaction."""
    created = updated = 0
    for external_id, data in items:
        _, was_created = upsert_article(session, external_id, data)
        created += was_created
        updated += not was_created
    return created, updated


PRIORITY_ORDER = case(
    (Article.priority == ArticlePriority.URGENT, 0),
    (Article.priority == ArticlePriority.IMPORTANT, 1),
    else_=2,
)


def live_articles(session: Session, now: datetime, limit: int) -> list[Article]:
    """Published, unexpired articles: urgent notices first, then newest first."""
    statement = (
        select(Article)
        .where(Article.published_at <= now)
        .where(or_(Article.expires_at.is_(None), Article.expires_at > now))
        .order_by(PRIORITY_ORDER, Article.published_at.desc(), Article.id.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))
