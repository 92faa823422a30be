"""The test installation's secrets, the database backends of this run, and `make_settings`."""

from __future__ import annotations

import os
from typing import Any

from portal_plugin.settings import Settings

TEST_SECRET_KEY = "test-secret-key-" + "k" * 32
TEST_IDENTITY_SECRET = "test-identity-secret-" + "i" * 32
TEST_ARTICLE_API_KEY = "test-article-push-key-0123456789"
# A fictional account: issuing an invoice without one is refused.
TEST_BANK_ACCOUNT = "東邦銀行 会津支店 普通 1234567 アイヅワカマツシ"
# Every database test runs on SQLite, and also on PostgreSQL when TEST_DATABASE_URL is set.
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET_KEY,
        "portal_identity_secret": TEST_IDENTITY_SECRET,
        "article_push_api_key": TEST_ARTICLE_API_KEY,
        "model_store_dir": "var/test-models",
        # Confirming a booking issues an invoice, so every test installation has an issuer.
        "invoice_issuer_name": "会津若松市",
        "invoice_issuer_registration_number": "T7000012050002",
        "invoice_bank_account": TEST_BANK_ACCOUNT,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]
