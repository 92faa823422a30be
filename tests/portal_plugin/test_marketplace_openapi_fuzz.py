"""Schemathesis against /openapi.json: no 5xx, and every response matches the document.

`positive_data_acceptance` is excluded on purpose: the schema cannot say "a Monday within the
next 52 weeks" or "an existing placement", so schema-valid requests may rightly get 422/404.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy.orm import Session
from starlette.applications import Starlette

from marketplace.accounts.shops import create_api_token
from portal_plugin.demo.inventory import seed_inventory
from tests.support.marketplace_factories import make_shop

pytestmark = pytest.mark.slow


def test_api_conforms_to_its_openapi_document(app: Starlette, session: Session) -> None:
    seed_inventory(session)
    shop = make_shop(session)
    _token, secret = create_api_token(session, shop.id, None, "fuzz")
    session.flush()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 20  # 19 of the marketplace API and the feed
    for operation in operations:

        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {secret}"}
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        check()
