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


MAIL = {"SMTP_HOST": "smtp.example.jp", "MAIL_FROM": "no-reply@example.jp"}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({**MAIL}, "PUBLIC_BASE_URL is required when SMTP_HOST is set"),
        (
            {"SMTP_HOST": "smtp.example.jp", "PUBLIC_BASE_URL": "https://plus.example.jp"},
            "MAIL_FROM is required when SMTP_HOST is set",
        ),
        (
            {**MAIL, "PUBLIC_BASE_URL": "https://plus.example.jp", "SMTP_SECURITY": "none"},
            "SMTP_SECURITY=none is only allowed for an SMTP server on this machine",
        ),
        ({**MAIL, "SMTP_USERNAME": "u"}, "SMTP_USERNAME and SMTP_PASSWORD are set together"),
        ({**MAIL, "MAIL_FROM": "not an address"}, "MAIL_FROM: Value error, must be an address"),
        ({**MAIL, "SMTP_PORT": "70000"}, "SMTP_PORT"),
        ({**MAIL, "PUBLIC_BASE_URL": "https://plus.example.jp/x?y"}, "PUBLIC_BASE_URL"),
        ({**MAIL, "SMTP_HOST": "smtp example"}, "SMTP_HOST"),
    ],
)
def test_mail_settings_are_checked_with_one_line(
    monkeypatch: pytest.MonkeyPatch, values: dict[str, str], message: str
) -> None:
    for name, value in {**SECRETS, **values}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_a_local_sink_may_be_plain_smtp(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        **SECRETS,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": "8025",
        "SMTP_SECURITY": "none",
        "MAIL_FROM": "会津若松+ <no-reply@example.jp>",
        "PUBLIC_BASE_URL": "http://127.0.0.1:8000/",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.mail_enabled and settings.public_base_url == "http://127.0.0.1:8000"


def test_tracking_limits_default_and_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    limits = load_settings().traffic_limits
    assert limits.impression_window_seconds == 30 * 60
    assert limits.impression_rules == "30/10second;120/minute;1920/day"
    assert limits.booking_rules == "10/minute;60/hour;200/day"
    monkeypatch.setenv("TRACKING_IMPRESSION_WINDOW_MINUTES", "5")
    assert load_settings().traffic_limits.impression_window_seconds == 300
    for value in ("0", "121", "half an hour"):
        monkeypatch.setenv("TRACKING_IMPRESSION_WINDOW_MINUTES", value)
        with pytest.raises(SettingsError, match="TRACKING_IMPRESSION_WINDOW_MINUTES"):
            load_settings()
