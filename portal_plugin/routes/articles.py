"""Article push API for the host CMS, and the live article list."""

from __future__ import annotations

import json

from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from marketplace.articles.schemas import ArticleIn, valid_external_id
from marketplace.articles.services import live_articles, upsert_article
from marketplace.db import utcnow
from marketplace.models import Article
from portal_plugin.context import context
from portal_plugin.web import json_error, validation_error

MAX_LIMIT = 100


def article_json(article: Article) -> dict[str, object]:
    return {
        "id": article.external_id,
        "title": article.title,
        "summary": article.summary,
        "url": article.url,
        "category": article.category,
        "tags": article.tags,
        "priority": article.priority.value,
        "published_at": article.published_at.isoformat(),
        "expires_at": article.expires_at.isoformat() if article.expires_at else None,
    }


async def put_article(request: Request) -> Response:
    ctx = context(request)
    if not ctx.hooks.authenticate_article_push(request):
        return json_error(401, "invalid_api_key", "API キーが無効です")
    external_id = request.path_params["external_id"]
    if not valid_external_id(external_id):
        return json_error(
            422,
            "invalid_input",
            "記事 ID が不正です",
            fields=[{"field": "id", "message": "英数字と ._:- で 64 文字まで"}],
        )
    try:
        payload = json.loads(await request.body())
    except (ValueError, RecursionError):  # not JSON, not UTF-8, nested or numbers too deep
        return json_error(400, "invalid_json", "JSON として読めません")
    try:
        data = ArticleIn.model_validate(payload)
    except ValidationError as exc:
        return validation_error(exc)

    def store(session: Session) -> tuple[dict[str, object], bool]:
        article, created = upsert_article(session, external_id, data)
        return article_json(article), created

    body, created = await ctx.in_transaction(store)
    return JSONResponse(body, status_code=201 if created else 200)


async def list_articles(request: Request) -> Response:
    raw_limit = request.query_params.get("limit", "20")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
        return json_error(
            422,
            "invalid_input",
            f"limit は 1〜{MAX_LIMIT} の整数にしてください",
            fields=[{"field": "limit", "message": "1〜100"}],
        )
    limit = int(raw_limit)
    articles = await context(request).in_transaction(
        lambda session: [article_json(a) for a in live_articles(session, utcnow(), limit)]
    )
    return JSONResponse({"articles": articles})


routes = [
    Route("/api/articles", list_articles, methods=["GET"], name="list_articles"),
    Route("/api/articles/{external_id}", put_article, methods=["PUT"], name="put_article"),
]
