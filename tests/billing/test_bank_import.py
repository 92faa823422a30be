from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from billing import ledger
from billing.bank_import import (
    BankStatementInvalid,
    StatementAlreadyImported,
    dismiss,
    import_statement,
    parse_statement,
    resolve_to_invoice,
    review_queue,
)
from billing.invoices import LineDraft, issue_invoice
from billing.models import BankTransaction, BankTransactionStatus, Payment
from billing.payments import invoice_position

HEADER = "取引日,入金額,振込依頼人名,摘要\n"


def _invoice(session, config, shop, amount=44_000):  # type: ignore[no-untyped-def]
    return issue_invoice(
        session,
        config,
        shop_id=shop.id,
        lines=[LineDraft("広告掲載", amount)],
        issue_date=date(2026, 5, 1),
    )


def test_parse_accepts_utf8_and_shift_jis() -> None:
    text = HEADER + '2026/05/10,"44,000",ｱｲﾂﾞﾉｻｶｸﾞﾗ,\n'
    for data in (text.encode("utf-8-sig"), text.encode("cp932")):
        (row,) = parse_statement(data)
        assert (row.value_date, row.amount, row.payer_name) == (
            date(2026, 5, 10),
            44_000,
            "ｱｲﾂﾞﾉｻｶｸﾞﾗ",
        )


@pytest.mark.parametrize(
    ("body", "row", "column"),
    [
        ("2026-05-10,44000.5,ｱｲﾂﾞ,\n", 2, "入金額"),
        ("2026-05-10,44000,ｱｲﾂﾞ,\n2026-02-30,100,ｱｲﾂﾞ,\n", 3, "取引日"),
        ("2026-05-10,-5,ｱｲﾂﾞ,\n", 2, "入金額"),
        ("2026-05-10,44000,,\n", 2, "振込依頼人名"),
        ("2026-05-10,44000\n", 2, "列数"),
    ],
)
def test_malformed_rows_are_named_and_nothing_is_imported(
    session, body: str, row: int, column: str
) -> None:
    with pytest.raises(BankStatementInvalid) as caught:
        import_statement(session, (HEADER + body).encode(), filename="x.csv", staff_id=None)
    assert (caught.value.problems[0].row, caught.value.problems[0].column) == (row, column)
    assert f"{row}行目「{column}」" in str(caught.value)
    assert session.execute(select(func.count()).select_from(BankTransaction)).scalar() == 0


def test_wrong_header_is_refused() -> None:
    with pytest.raises(BankStatementInvalid, match="見出し"):
        parse_statement(b"date,amount\n2026-05-10,1\n")


def test_matching_by_reference_then_by_amount_and_kana(session, make_shop, billing_config) -> None:
    sake = make_shop(business_name_kana="アイヅノサカグラ")
    soba = make_shop(business_name_kana="そばどころあいづあん")
    other = make_shop(business_name_kana="ツルガジョウカフェ")
    by_reference = _invoice(session, billing_config, sake, 44_000)
    by_name = _invoice(session, billing_config, soba, 22_000)
    wrong_amount = _invoice(session, billing_config, other, 11_000)
    csv_text = HEADER + "\n".join(
        [
            f"2026-05-10,44000,{by_reference.payment_reference} ｶ)ｱｲﾂﾞﾉｻｶｸﾞﾗ,",
            "2026-05-11,22000,ｿﾊﾞﾄﾞｺﾛ ｱｲﾂﾞｱﾝ,",
            f"2026-05-12,10000,ﾂﾙｶﾞｼﾞﾖｳｶﾌｴ,{wrong_amount.payment_reference}",
            "2026-05-12,5000,ﾀﾞﾚｶｼﾗﾅｲﾋﾄ,",
        ]
    )
    result = import_statement(session, csv_text.encode(), filename="may.csv", staff_id=None)
    assert (result.rows, result.matched, result.review) == (4, 2, 2)
    assert invoice_position(session, by_reference.id).status == "paid"
    assert invoice_position(session, by_name.id).status == "paid"
    assert invoice_position(session, wrong_amount.id).status == "unpaid"
    queue = review_queue(session)
    assert [t.amount for t in queue] == [10_000, 5_000]
    assert "一致しません" in queue[0].review_reason
    assert queue[0].invoice_id == wrong_amount.id
    assert ledger.balance(session, ledger.BANK) == 66_000

    with pytest.raises(StatementAlreadyImported):
        import_statement(session, csv_text.encode(), filename="again.csv", staff_id=None)

    resolve_to_invoice(session, queue[0].id, wrong_amount.number)  # a partial payment, by a human
    assert invoice_position(session, wrong_amount.id).outstanding == 1_000
    dismiss(session, queue[1].id, "送金元へ返却")
    assert review_queue(session) == []
    assert session.get(BankTransaction, queue[1].id).status is BankTransactionStatus.DISMISSED


def test_ambiguous_and_overpaying_transfers_go_to_review(
    session, make_shop, billing_config
) -> None:
    shop = make_shop(business_name_kana="アイヅノサカグラ")
    first = _invoice(session, billing_config, shop, 11_000)
    _invoice(session, billing_config, shop, 11_000)
    csv_text = HEADER + "2026-05-10,11000,ｱｲﾂﾞﾉｻｶｸﾞﾗ,\n"
    result = import_statement(session, csv_text.encode(), filename="a.csv", staff_id=None)
    assert result.review == 1
    assert "複数" in review_queue(session)[0].review_reason
    over = HEADER + f"2026-05-11,12000,ｱｲﾂﾞﾉｻｶｸﾞﾗ,{first.payment_reference}\n"
    import_statement(session, over.encode(), filename="b.csv", staff_id=None)
    (pending, overpaid) = review_queue(session)
    with pytest.raises(Exception, match="超えています"), session.begin_nested():
        resolve_to_invoice(session, overpaid.id, first.number)
    assert session.execute(select(func.count()).select_from(Payment)).scalar() == 0
    del pending
