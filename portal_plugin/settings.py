"""The one Settings object, read from the environment (and `.env`) once at start-up."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from marketplace.db import normalise_database_url
from marketplace.invoice_number import is_valid_invoice_registration_number

DEFAULT_DATABASE_URL = "sqlite:///var/portal.db"


class SettingsError(Exception):
    """A configuration value is missing or malformed; the message is one line for the operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = Field(min_length=32)
    portal_identity_secret: str = Field(min_length=32)
    timezone: str = "Asia/Tokyo"
    currency: Literal["JPY"] = "JPY"
    stripe_api_key: str | None = None
    stripe_api_base: str | None = None
    stripe_webhook_secret: str | None = None
    model_store_dir: Path = Path("var/models")
    article_push_api_key: str | None = Field(default=None, min_length=24)
    session_cookie_secure: bool = True
    rate_limit_storage_url: str = "memory://"
    default_language: Literal["ja", "en"] = "ja"
    # Ad delivery: where undeliverable events wait for the database, and how fresh serving is.
    delivery_spool_dir: Path = Path("var/spool")
    delivery_refresh_seconds: float = Field(default=2.0, gt=0, le=60)
    delivery_ad_positions: tuple[int, ...] = (3, 8)
    delivery_frequency_cap: int = Field(default=3, ge=1, le=100)
    # Qualified invoices (適格請求書): who issues them, and how tax is rounded once per rate.
    invoice_issuer_name: str | None = Field(default=None, max_length=120)
    invoice_issuer_registration_number: str | None = None
    invoice_tax_rounding: Literal["floor", "ceil", "half_up"] = "floor"
    invoice_due_days: int = Field(default=30, ge=1, le=90)
    # Bookings longer than this many weeks are invoiced month by month.
    invoice_monthly_after_weeks: int = Field(default=5, ge=1, le=52)
    invoice_bank_account: str = Field(default="", max_length=200)
    stripe_publishable_key: str | None = None
    stripe_max_network_retries: int = Field(default=2, ge=0, le=10)
    # Raw ad and interaction events are deleted this many months after they happen (rollups stay).
    raw_event_retention_months: int = Field(default=13, ge=1, le=120)
    # The city's ad standards (TOML). Staff edit it from a page; defaults to the packaged file.
    ad_standards_path: Path | None = None

    @field_validator("ad_standards_path")
    @classmethod
    def _ad_standards_path(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        value = normalise_database_url(value.strip())
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL ({exc})") from None
        if url.get_backend_name() not in {"sqlite", "postgresql"}:
            raise ValueError(
                f"unsupported database {url.get_backend_name()!r}; use sqlite or postgresql"
            )
        if url.get_backend_name() == "postgresql" and url.get_driver_name() != "psycopg":
            raise ValueError("PostgreSQL URLs must use the psycopg driver (postgresql+psycopg://)")
        return value

    @field_validator("rate_limit_storage_url")
    @classmethod
    def _rate_limit_storage(cls, value: str) -> str:
        if not re.fullmatch(r"memory://|redis://[^\s/]+(/\d+)?", value.strip()):
            raise ValueError("use memory:// or redis://HOST:PORT[/DB]")
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("stripe_api_key")
    @classmethod
    def _stripe_key(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"(sk|rk)_(test|live)_[A-Za-z0-9]+", value):
            raise ValueError("must look like sk_test_… or sk_live_…")
        return value or None

    @field_validator("stripe_api_base")
    @classmethod
    def _stripe_base(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+(:\d+)?/?", value):
            raise ValueError("must be an http(s) base URL such as http://127.0.0.1:8420")
        return value.rstrip("/") if value else None

    @field_validator("stripe_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: str | None) -> str | None:
        if value and not value.startswith("whsec_"):
            raise ValueError("must start with whsec_")
        return value or None

    @field_validator("delivery_ad_positions")
    @classmethod
    def _ad_positions(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(p < 1 for p in value) or len(set(value)) != len(value):
            raise ValueError("feed positions must be distinct whole numbers of 1 or more")
        return tuple(sorted(value))

    @field_validator("invoice_issuer_name")
    @classmethod
    def _issuer_name(cls, value: str | None) -> str | None:
        return value.strip() or None if value else None

    @field_validator("invoice_issuer_registration_number")
    @classmethod
    def _issuer_number(cls, value: str | None) -> str | None:
        if not value:
            return None
        value = value.strip()
        if not is_valid_invoice_registration_number(value):
            raise ValueError("must be T followed by 13 digits with a valid check digit")
        return value

    @field_validator("stripe_publishable_key")
    @classmethod
    def _publishable_key(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"pk_(test|live)_[A-Za-z0-9]+", value):
            raise ValueError("must look like pk_test_… or pk_live_…")
        return value or None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment, turning validation errors into one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    variable = str(first["loc"][0]).upper() if first["loc"] else "settings"
    if first["type"] == "missing":
        return f"configuration error: {variable} is not set"
    return f"configuration error: {variable}: {first['msg']}"
