"""Hostile bank statements, uploaded over HTTP by finance staff to /staff/billing/bank/import.

Each case says what it breaks; every case then checks: 400, the Japanese error names the line
and the column (or the file/header), and nothing was written (no statement, no transaction).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from billing.models.bank import BankStatementImport, BankTransaction
from marketplace.vocab import StaffRole
from tests.support.staff_http import csrf_from, log_in

HEADER = "取引日,入金額,振込依頼人名,摘要\r\n"
GOOD = "2026-04-01,55000,ツルガジョウソバ,INV-1\r\n"


def _post(client: TestClient, data: bytes) -> tuple[int, str]:
    token = csrf_from(client.get("/staff/billing/bank").text)
    response = client.post(
        "/staff/billing/bank/import",
        data={"csrf_token": token},
        files={"statement": ("statement.csv", data, "text/csv")},
    )
    return response.status_code, response.text


def _rows(session: Session) -> tuple[int, int]:
    statements = session.scalar(select(func.count()).select_from(BankStatementImport))
    transactions = session.scalar(select(func.count()).select_from(BankTransaction))
    return int(statements or 0), int(transactions or 0)


@pytest.fixture
def finance(client: TestClient, session: Session) -> TestClient:
    log_in(client, session, StaffRole.FINANCE)
    return client


CASES = [
    # (what it breaks, file bytes, text the error must contain)
    ("UTF-16 (neither UTF-8 nor Shift_JIS)", (HEADER + GOOD).encode("utf-16"), "1行目「ファイル」"),
    ("empty file", b"", "1行目「見出し」"),
    ("a column missing", ("取引日,入金額,振込依頼人名\r\n" + GOOD).encode(), "1行目「見出し」"),
    (
        "columns reordered",
        ("入金額,取引日,振込依頼人名,摘要\r\n" + GOOD).encode(),
        "1行目「見出し」",
    ),
    (
        "formula in the amount",
        (HEADER + GOOD + "2026-04-02,=1+1,A,\r\n").encode(),
        "3行目「入金額」",
    ),
    ("@ formula in the date", (HEADER + "@SUM(1),100,A,\r\n").encode(), "2行目「取引日」"),
    (
        "NUL byte in a field",
        (HEADER + GOOD + "2026-04-02,10\x0000,A,\r\n").encode(),
        "3行目「入金額」",
    ),
    ("extra cells", (HEADER + GOOD + "2026-04-02,100,A,memo,extra\r\n").encode(), "3行目「列数」"),
    ("negative amount", (HEADER + "2026-04-02,-100,A,\r\n").encode(), "2行目「入金額」"),
    (
        "huge payer name",
        (HEADER + "2026-04-02,100," + "ア" * 5000 + ",\r\n").encode(),
        "2行目「振込依頼人名」",
    ),
    (
        "one 200 kB field (over csv's field limit)",
        (HEADER + '2026-04-02,100,"' + "x" * 200_000 + '",\r\n').encode(),
        "「ファイル」",
    ),
    ("an unclosed quote", (HEADER + GOOD + '2026-04-02,100,"A\r\n').encode(), "振込依頼人名"),
    (
        "a valid row after a bad one",
        (HEADER + "2026-13-01,100,A,\r\n" + GOOD).encode(),
        "2行目「取引日」",
    ),
]


@pytest.mark.parametrize(("label", "data", "named"), CASES, ids=[case[0] for case in CASES])
def test_hostile_statement_is_refused_naming_the_place_and_writes_nothing(
    finance: TestClient, session: Session, label: str, data: bytes, named: str
) -> None:
    before = _rows(session)
    status, page = _post(finance, data)
    assert status == 400, (label, status)
    assert "銀行明細を取り込めません(何も登録していません)" in page, label
    assert named in page, (label, page[page.find("取り込めません") :][:300])
    assert _rows(session) == before, f"{label}: something was imported"


def test_oversized_file_is_refused_and_writes_nothing(
    finance: TestClient, session: Session
) -> None:
    """Broke: 2.1 MB of valid rows (over the 2 MB upload limit). Checked: 400, size error, no rows."""
    data = (HEADER + GOOD * (2_200_000 // len(GOOD.encode()))).encode()
    before = _rows(session)
    status, page = _post(finance, data)
    assert status == 400
    assert "ファイルが大きすぎます(2MB まで)" in page
    assert _rows(session) == before


def test_same_statement_twice_is_refused_the_second_time(
    finance: TestClient, session: Session
) -> None:
    """Broke: the same file uploaded twice (a duplicate import). Checked: the first imports one
    row; the second is refused with the "already imported" error and adds nothing."""
    data = (HEADER + GOOD).encode("cp932")
    status, _page = _post(finance, data)
    assert status == 200
    after_first = _rows(session)
    assert after_first[1] >= 1
    status, page = _post(finance, data)
    assert status == 400 and "取り込み済み" in page
    assert _rows(session) == after_first
