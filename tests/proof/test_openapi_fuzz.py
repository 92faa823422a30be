"""schemathesis against the app's own OpenAPI document: no 500s, every answer fits the schema.

Runs in-process over ASGI with a bounded, derandomised number of examples per operation, with
the credentials the operations need (a resident token and the host CMS key). schemathesis'
pytest plugin does not work with pytest 9 here (it reads a removed `_nodeid`), so the test
drives each operation's Hypothesis strategy itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.testclient import TestClient

from marketplace.accounts.shops import create_api_token
from portal_plugin.demo.inventory import seed_inventory
from portal_plugin.identity import HEADER
from tests.proof.routetable import route_table
from tests.support.marketplace_factories import make_shop

OPENAPI_PATH = "/openapi.json"
MAX_EXAMPLES = 30
# What the issue asks of every answer: never a 500, a documented status, the documented body
# and content type. `positive_data_acceptance` is left out on purpose: the document does not
# bound integer ids, so a 40-digit id (refused with 422) counts as "valid" to it.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


def fuzz_operation(operation: Any, headers: dict[str, str], max_examples: int) -> None:
    @settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def fuzz_schema(
    api_schema: Any, headers: dict[str, str], max_examples: int
) -> tuple[int, dict[str, str]]:
    """Fuzz every operation; return how many there were and the failures by label."""
    failures: dict[str, str] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    for operation in operations:
        try:
            fuzz_operation(operation, headers, max_examples)
        except Exception as exc:  # each operation's failure is reported, then the next runs
            failures[operation.label] = str(exc)[:2000]
    return len(operations), failures


def shop_api_token(session: Session) -> str:
    """An approved shop with the demo ad placements, and an API token for it."""
    seed_inventory(session)
    shop = make_shop(session)
    _, secret = create_api_token(session, shop.id, None, "fuzz")
    session.commit()
    return secret


def test_api_never_fails_and_keeps_its_schema(
    app: Starlette, client: TestClient, session: Session, resident_token: Callable[..., str]
) -> None:
    if not any(entry.path == OPENAPI_PATH for entry in route_table(app)):
        pytest.skip(f"the app serves no {OPENAPI_PATH} yet (issue 3 adds it)")
    api_schema = schemathesis.openapi.from_asgi(OPENAPI_PATH, app)
    headers = {
        HEADER: resident_token("resident-fuzz"),
        "Authorization": f"Bearer {shop_api_token(session)}",
    }
    fuzzed, failures = fuzz_schema(api_schema, headers, MAX_EXAMPLES)
    assert fuzzed >= 10, f"only {fuzzed} operations in {OPENAPI_PATH}"
    assert not failures, "\n\n".join(f"{label}:\n{error}" for label, error in failures.items())
