from __future__ import annotations

import pytest

from marketplace.vocab import StaffRole
from portal_plugin.access_policy import Party, access_for
from portal_plugin.app import create_app
from portal_plugin.staff_menu import MENU, menu_for
from tests.support.settings import make_settings


def test_every_menu_entry_names_a_real_route() -> None:
    app = create_app(make_settings("sqlite:///:memory:"))
    for route_name, _label in MENU:
        assert app.url_path_for(route_name)


@pytest.mark.parametrize("role", list(StaffRole))
def test_no_role_is_shown_a_page_it_would_be_refused(role: StaffRole) -> None:
    entries = menu_for(role)
    assert entries, "every role has somewhere to go"
    for entry in entries:
        assert access_for(entry.route_name).allows(Party(role.value))


def test_finance_gets_the_dashboard_and_reviewers_get_the_queue() -> None:
    finance = {e.route_name for e in menu_for(StaffRole.FINANCE)}
    reviewer = {e.route_name for e in menu_for(StaffRole.REVIEWER)}
    assert "finance_dashboard" in finance and "staff_review_queue" not in finance
    assert "staff_review_queue" in reviewer and "finance_dashboard" not in reviewer
    assert len(menu_for(StaffRole.ADMIN)) == len(MENU)
