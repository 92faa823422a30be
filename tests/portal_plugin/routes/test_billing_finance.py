from __future__ import annotations

import re
from datetime import date

from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from billing.check import check_ledger
from billing.config import BillingConfig
from billing.invoices import LineDraft, issue_invoice
from billing.models import BankTransaction, BankTransactionStatus
from marketplace.accounts.staff import create_staff
from marketplace.models import Shop
from marketplace.vocab import ShopStatus, StaffRole
from tests.support.settings import TEST_BANK_ACCOUNT

PASSWORD = "correct horse battery"
CONFIG = BillingConfig(
    issuer_name="会津若松市",
    issuer_registration_number="T7000012050002",
    bank_account=TEST_BANK_ACCOUNT,
)


def _login(client: TestClient, session_factory: sessionmaker[Session], role: StaffRole) -> str:
    with session_factory.begin() as session:
        create_staff(session, f"{role.value}@city.example.jp", "経理 花子", PASSWORD, role)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/login").text)
    assert token
    client.post(
        "/staff/login",
        data={
            "email": f"{role.value}@city.example.jp",
            "password": PASSWORD,
            "csrf_token": token.group(1),
            "next": "",
        },
        follow_redirects=False,
    )
    page = client.get("/staff/billing/bank")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    return found.group(1) if found else ""


def _invoice(session: Session) -> tuple[Shop, str, str]:
    shop = Shop(
        business_name="鶴ヶ城そば処",
        business_name_kana="ツルガジョウソバドコロ",
        category="restaurant",
        district="tsuruga",
        contact_name="会津 太郎",
        contact_email="soba@example.jp",
        status=ShopStatus.APPROVED,
    )
    session.add(shop)
    session.flush()
    invoice = issue_invoice(
        session,
        CONFIG,
        shop_id=shop.id,
        lines=[LineDraft("広告", 11_000)],
        issue_date=date(2026, 5, 1),
    )
    return shop, invoice.number, invoice.payment_reference or ""


def test_finance_pages_need_the_finance_role(client, session_factory) -> None:
    assert (
        client.get("/staff/billing/invoices", headers={"accept": "application/json"}).status_code
        == 401
    )
    _login(client, session_factory, StaffRole.REVIEWER)
    assert client.get("/staff/billing/invoices").status_code == 403


def test_finance_sees_invoices_pdf_aging_and_imports_a_statement(
    client, session_factory, session
) -> None:
    _, number, reference = _invoice(session)
    session.flush()
    csrf = _login(client, session_factory, StaffRole.FINANCE)
    listing = client.get("/staff/billing/invoices")
    assert listing.status_code == 200 and number in listing.text and "未入金" in listing.text
    page = client.get(f"/staff/billing/invoices/{number}")
    assert "適格請求書" in page.text and "T7000012050002" in page.text
    assert "script-src 'self';" in page.headers["content-security-policy"]
    pdf = client.get(f"/staff/billing/invoices/{number}/pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert "鶴ヶ城そば処" in client.get("/staff/billing/aging").text

    bad = client.post(
        "/staff/billing/bank/import",
        files={
            "statement": (
                "s.csv",
                "取引日,入金額,振込依頼人名,摘要\n2026-05-10,abc,ｿﾊﾞ,\n".encode(),
                "text/csv",
            )
        },
        data={"csrf_token": csrf},
    )
    assert bad.status_code == 400 and "2行目「入金額」" in bad.text
    statement = (
        "取引日,入金額,振込依頼人名,摘要\n"
        f"2026-05-10,11000,{reference} ﾂﾙｶﾞｼﾞﾖｳｿﾊﾞﾄﾞｺﾛ,\n"
        "2026-05-11,3000,ﾀﾞﾚｶ,\n"
    )
    ok = client.post(
        "/staff/billing/bank/import",
        files={"statement": ("may.csv", statement.encode("cp932"), "text/csv")},
        data={"csrf_token": csrf},
    )
    assert ok.status_code == 200 and "2件を取り込み、1件を照合、1件を確認待ち" in ok.text
    queued = session.query(BankTransaction).filter_by(status=BankTransactionStatus.REVIEW).one()
    dismissed = client.post(
        f"/staff/billing/bank/{queued.id}/resolve",
        data={"csrf_token": csrf, "action": "dismiss", "note": "返却済み"},
        follow_redirects=False,
    )
    assert dismissed.status_code == 303
    assert "入金済み" in client.get("/staff/billing/invoices").text
    report = check_ledger(session)
    assert report.ok, report.lines()


def test_finance_marks_a_bank_refund_paid_out(client, session_factory, session) -> None:
    from billing.models import Invoice, Refund, RefundStatus
    from billing.payments import record_bank_transfer
    from billing.refunds import credit_and_refund

    _, number, _ = _invoice(session)
    invoice = session.query(Invoice).filter_by(number=number).one()
    record_bank_transfer(session, invoice, 11_000, reference="bank:x", value_date=date(2026, 5, 2))
    _, (refund,) = credit_and_refund(
        session,
        CONFIG,
        invoice_id=invoice.id,
        amount=5_500,
        reason="一部キャンセル",
        issue_date=date(2026, 5, 3),
    )
    session.flush()
    csrf = _login(client, session_factory, StaffRole.FINANCE)
    page = client.get("/staff/billing/refunds")
    assert "振込済みにする" in page.text and "一部キャンセル" in page.text
    done = client.post(
        f"/staff/billing/refunds/{refund.id}/paid-out",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303
    session.expire_all()
    assert session.get(Refund, refund.id).status is RefundStatus.SUCCEEDED
    again = client.post(f"/staff/billing/refunds/{refund.id}/paid-out", data={"csrf_token": csrf})
    assert again.status_code == 400
    assert check_ledger(session).ok
