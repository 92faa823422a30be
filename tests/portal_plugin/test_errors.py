"""One error shape: every domain error has English, and one handler answers it as JSON or a page."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

import analytics.errors
import billing.bank_import
import billing.errors
import marketplace.errors
from billing.stripe_adapter import DECLINE_MESSAGES, DEFAULT_DECLINE
from marketplace.errors import DomainError, InvalidTransition
from portal_plugin import i18n
from tests.support.marketplace_http import HTML, api_client, sign_up

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("marketplace", "billing", "analytics", "portal_plugin")
# Importing these defines every error class, so DomainError.__subclasses__() sees them all.
ERROR_MODULES = (marketplace.errors, billing.errors, analytics.errors, billing.bank_import)
# Kana and kanji: a template without them is an internal error, already in English.
JAPANESE = re.compile("[\u3040-\u30ff\u4e00-\u9fff]")


def error_classes() -> dict[str, type[DomainError]]:
    found: dict[str, type[DomainError]] = {}
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return found


def error_calls() -> list[tuple[Path, ast.Call]]:
    """Every call that builds a DomainError by its class name, in the product's source."""
    names = error_classes()
    calls = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in names
                    and node.args
                ):
                    calls.append((path, node))
    return calls


def raised_templates() -> set[str]:
    """Every literal template a DomainError is built with, and every class's own."""
    templates = {cls.template for cls in error_classes().values()}
    for _, call in error_calls():
        first = call.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            templates.add(first.value)
    return templates | set(DECLINE_MESSAGES.values()) | {DEFAULT_DECLINE}


def test_errors_are_built_from_templates_not_formatted_text() -> None:
    formatted = [
        f"{path.relative_to(ROOT)}:{call.lineno}"
        for path, call in error_calls()
        if isinstance(call.args[0], ast.JoinedStr)
    ]
    assert not formatted, (
        f"pass the values as keywords, so the template can be translated: {formatted}"
    )


def fields_of(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_the_source_scan_finds_templates() -> None:
    templates = raised_templates()
    assert "{week} の週は空き枠が足りません(残り {free} 枠)" in templates  # a class template
    assert "{field}: 金額を入力してください" in templates  # raised in analytics
    assert "請求書 {invoice_id} が見つかりません" in templates  # raised in billing


def test_every_error_message_has_english_with_the_same_values() -> None:
    english = i18n.catalogue("en")
    japanese = [t for t in raised_templates() if JAPANESE.search(t)]
    missing = sorted(t for t in japanese if t not in english)
    assert not missing, f"add these to portal_plugin/locale/en/errors.po: {missing}"
    mismatched = sorted(t for t in japanese if fields_of(t) != fields_of(english[t]))
    assert not mismatched, f"the English names other values than the Japanese: {mismatched}"


def test_every_error_has_a_code_and_an_http_status() -> None:
    for cls in error_classes().values():
        assert cls.code and cls.code.isidentifier(), cls
        assert 400 <= cls.status < 600, cls


def test_message_fills_the_template_and_translates_the_values() -> None:
    error = InvalidTransition(subject="予約", current="仮押さえ中", target="掲載中")
    assert str(error) == error.message == "予約 は「仮押さえ中」から「掲載中」に変更できません"
    english = {
        "{subject} は「{current}」から「{target}」に変更できません": "{subject}: {current} → {target}",
        "予約": "Booking",
    }
    assert error.message_in(lambda text: english.get(text, text)) == "Booking: 仮押さえ中 → 掲載中"
    named = analytics.errors.InvalidAmount("{field}: 金額を入力してください", field="amount_yen")
    assert named.message == "amount_yen: 金額を入力してください" and named.field == "amount_yen"


def test_the_api_answers_json_in_the_requested_language(
    client: TestClient, session: Session
) -> None:
    auth = api_client(client, session)
    missing = client.get("/api/marketplace/bookings/999999", headers={**auth, **HTML})
    assert missing.status_code == 404
    assert missing.json() == {"error": {"code": "not_found", "message": "予約が見つかりません"}}
    english = client.get("/api/marketplace/bookings/999999?lang=en", headers=auth)
    assert english.json()["error"]["message"] == "Booking not found"
    bad = client.get("/api/marketplace/availability?placement_id=x", headers=auth)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "placement_id"


def test_a_page_answers_with_a_page_that_keeps_the_menu(client: TestClient) -> None:
    assert sign_up(client).status_code == 303
    page = client.get("/shop/bookings/999999", headers=HTML)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in page.text and "見つかりません" in page.text
    assert "/shop/creatives" in page.text  # the shop's menu
    invoice = client.get("/shop/billing/invoices/NO-SUCH?lang=en", headers=HTML)
    assert invoice.status_code == 404
    assert i18n.catalogue("en")[billing.errors.InvoiceNotFound.template] in invoice.text


@pytest.mark.parametrize("accept", ["*/*", "application/json"])
def test_clients_that_do_not_ask_for_html_get_json(client: TestClient, accept: str) -> None:
    assert sign_up(client).status_code == 303
    response = client.get("/shop/bookings/999999", headers={"accept": accept})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_unknown_paths_and_methods_answer_in_the_same_shape(client: TestClient) -> None:
    page = client.get("/no-such-page?lang=en", headers=HTML)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in page.text and "Page not found" in page.text
    api = client.get("/api/no-such-thing?lang=ja")
    assert api.status_code == 404
    assert api.json() == {"error": {"code": "not_found", "message": "ページが見つかりません"}}
    wrong = client.get("/billing/stripe/webhook")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    assert wrong.headers["allow"] == "POST"


def test_an_unexpected_exception_is_a_page_for_people_and_json_for_programs(
    app: Starlette,
) -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("a bug")

    app.router.routes.append(Route("/broken", broken))
    client = TestClient(app, raise_server_exceptions=False)
    page = client.get("/broken", headers={**HTML, "X-Request-ID": "bug-report-7"})
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "サーバーで問題が発生しました" in page.text and "bug-report-7" in page.text
    assert page.headers["x-request-id"] == "bug-report-7" and "a bug" not in page.text
    api = client.get("/broken")
    assert api.status_code == 500 and api.json()["error"]["code"] == "server_error"


def test_a_refused_tracking_token_is_a_domain_error_answered_as_json(client: TestClient) -> None:
    response = client.get("/c/forged-token", headers=HTML)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_tracking_token"
    assert response.json()["error"]["message"].startswith("無効な計測トークンです: ")
    english = client.get("/i/forged-token?lang=en").json()["error"]["message"]
    assert english.startswith("Invalid tracking token: ")
