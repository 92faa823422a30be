from __future__ import annotations

import pytest

from portal_plugin.settings import SettingsError, load_settings

SECRETS = {"SECRET_KEY": "s" * 40, "PORTAL_IDENTITY_SECRET": "p" * 40}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in [
        "DATABASE_URL",
        "SECRET_KEY",
        "PORTAL_IDENTITY_SECRET",
        "TIMEZONE",
        "STRIPE_API_KEY",
    ]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_are_sqlite_under_var_and_tokyo(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.database_url == "sqlite:///var/portal.db"
    assert settings.timezone == "Asia/Tokyo"
    assert settings.currency == "JPY"


def test_missing_secret_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value) == "configuration error: PORTAL_IDENTITY_SECRET is not set"


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("DATABASE_URL", "mysql://x/y", "unsupported database"),
        ("DATABASE_URL", "::not a url::", "not a database URL"),
        ("DATABASE_URL", "postgresql+psycopg2://localhost/x", "psycopg driver"),
        ("TIMEZONE", "Mars/Olympus", "unknown time zone"),
        ("STRIPE_API_KEY", "pk_test_123", "sk_test_"),
        ("SECRET_KEY", "short", "at least 32"),
    ],
)
def test_malformed_values_fail_with_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, fragment: str
) -> None:
    for name, secret in SECRETS.items():
        monkeypatch.setenv(name, secret)
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(f"configuration error: {variable}: ")
    assert fragment in message
    assert "\n" not in message


def test_plain_postgresql_url_uses_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    assert load_settings().database_url == "postgresql+psycopg://postgres@127.0.0.1/test"


def test_rate_limit_storage_must_be_memory_or_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RATE_LIMIT_STORAGE_URL", "redis://127.0.0.1:6379/0")
    assert load_settings().rate_limit_storage_url == "redis://127.0.0.1:6379/0"
    monkeypatch.setenv("RATE_LIMIT_STORAGE_URL", "mongodb://x")
    with pytest.raises(SettingsError, match=r"RATE_LIMIT_STORAGE_URL: .*memory://"):
        load_settings()
