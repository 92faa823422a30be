"""Staff over HTTP: a new staff member of a role, logged in; the CSRF token in a page."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from marketplace.accounts.staff import create_staff
from marketplace.vocab import StaffRole

PASSWORD = "correct-horse-battery-staple-42"


def log_in(client: TestClient, session: Session, role: StaffRole, email: str | None = None) -> None:
    email = email or f"{role.value}@city.example"
    create_staff(session, email, f"{role.value} 職員", PASSWORD, role)
    session.flush()
    response = client.post(
        "/staff/login",
        data={"email": email, "password": PASSWORD, "next": "/staff/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def csrf_from(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]
