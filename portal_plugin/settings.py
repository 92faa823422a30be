"""The one Settings object, read from the environment (and `.env`) once at start-up."""

from __future__ import annotations

import re
from email.utils import parseaddr
from ipaddress import ip_address
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from marketplace.accounts.registration_number import is_valid_invoice_registration_number
from marketplace.bookings.holds import HoldLimits
from marketplace.db import normalise_database_url
from marketplace.delivery.layout import DEFAULT_SIDE_SLOTS, HostLayout
from marketplace.delivery.tracking import TrafficLimits

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
    # Password hashes (login, sign-up, password changes) at once per worker process, and how
    # many more may wait before the answer is 503 (a login flood must not starve the feed).
    password_hash_concurrency: int = Field(default=1, ge=1, le=16)
    password_hash_queue: int = Field(default=4, ge=0, le=1000)
    default_language: Literal["ja", "en"] = "ja"
    # Ad delivery: where undeliverable events wait for the database, and how fresh serving is.
    delivery_spool_dir: Path = Path("var/spool")
    delivery_refresh_seconds: float = Field(default=2.0, gt=0, le=60)
    delivery_ad_positions: tuple[int, ...] = (3, 8)
    delivery_frequency_cap: int = Field(default=3, ge=1, le=100)
    # How many ad cards the host's gadget column shows (0: the host has no gadget column).
    delivery_side_slots: int = Field(default=DEFAULT_SIDE_SLOTS, ge=0, le=4)
    # Share of article positions that show fresh articles to residents they fit (exploration).
    delivery_exploration_share: float = Field(default=0.05, ge=0, le=0.2)
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
    # What one shop may hold unpaid at once (issue 16): shares of one placement-week, share-weeks
    # over all placements, holds of the same weeks again after one lapsed within 24 hours, and
    # holds placed per hour and per day.
    hold_max_shares_per_week: int = Field(default=2, ge=1, le=100)
    hold_max_share_weeks: int = Field(default=52, ge=1, le=5200)
    hold_max_renewals: int = Field(default=2, ge=0, le=20)
    hold_rate_per_hour: int = Field(default=10, ge=1, le=10000)
    hold_rate_per_day: int = Field(default=30, ge=1, le=100000)
    # What one client can add to valid impressions (issue 16 item 4; TrafficLimits): an
    # impression counts only from the client served the offer, within this many minutes; valid
    # impressions per anonymised address a minute (all workers), and per address and booking
    # for anonymous offers; anonymous feeds with ads per address a minute, per worker (over it:
    # articles only, still 200). Impressions over a limit are 204 and recorded invalid.
    tracking_impression_window_minutes: int = Field(default=30, ge=1, le=120)
    tracking_impressions_per_address_per_minute: int = Field(default=120, ge=1, le=10000)
    tracking_impressions_per_booking_per_minute: int = Field(default=10, ge=1, le=1000)
    tracking_anonymous_feeds_per_minute: int = Field(default=60, ge=1, le=100000)
    # Peers allowed to name the client in X-Forwarded-For: a host that fetches the feed for a
    # resident, a reverse proxy (portal_plugin/client_address.py). Comma-separated addresses.
    forwarded_allow_ips: Annotated[tuple[str, ...], NoDecode] = ("127.0.0.1", "::1")
    # Outgoing mail (password reset, account notices). Unset SMTP_HOST: no mail is sent.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    # starttls (port 587), tls (implicit TLS, port 465) or none (only to this machine).
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    mail_from: str | None = None
    # Where links in mail point: the host portal's origin, e.g. https://plus.example.jp (the
    # plugin's mount prefix is added). Never taken from a request's Host header.
    public_base_url: str | None = None
    # Log lines as text (one readable line) or json (one object per line, for a collector).
    log_format: Literal["text", "json"] = "text"
    # Set by `serve --workers N` (N > 1): where each process keeps its metrics' counts so any
    # of them answers /metrics for all (prometheus-client's multiprocess mode).
    prometheus_multiproc_dir: Path | None = None

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("prometheus_multiproc_dir")
    @classmethod
    def _multiproc_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"no such folder: {value}")
        return value

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

    @field_validator("forwarded_allow_ips", mode="before")
    @classmethod
    def _forwarded_allow_ips(cls, value: object) -> object:
        parts = value.split(",") if isinstance(value, str) else value
        if not isinstance(parts, list | tuple):
            raise ValueError("a comma-separated list of IP addresses")
        addresses = []
        for part in parts:
            try:
                addresses.append(str(ip_address(str(part).strip())))
            except ValueError:
                raise ValueError(f"not an IP address: {str(part).strip()!r}") from None
        return tuple(addresses)

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

    @field_validator("invoice_bank_account")
    @classmethod
    def _bank_account(cls, value: str) -> str:
        value = " ".join(value.split())
        # Bank, branch, 普通/当座 and the 7-digit number: what a shop types into its bank's app.
        if value and not re.search(r"(普通|当座)\D*(?<!\d)\d{7}(?!\d)", value):
            raise ValueError(
                "name the bank, the branch, 普通 or 当座 and the 7-digit account number, "
                "e.g. 東邦銀行 会津支店 普通 1234567 会津若松市"
            )
        return value

    @field_validator("stripe_publishable_key")
    @classmethod
    def _publishable_key(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"pk_(test|live)_[A-Za-z0-9]+", value):
            raise ValueError("must look like pk_test_… or pk_live_…")
        return value or None

    @field_validator("smtp_host")
    @classmethod
    def _smtp_host(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if value and not re.fullmatch(r"[A-Za-z0-9.\-]{1,253}|\[[0-9A-Fa-f:.]+\]", value):
            raise ValueError("must be a host name or an IP address, e.g. smtp.example.jp")
        return value or None

    @field_validator("smtp_username", "smtp_password")
    @classmethod
    def _smtp_credentials(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("mail_from")
    @classmethod
    def _mail_from(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if not value:
            return None
        _name, address = parseaddr(value)
        if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", address):
            raise ValueError("must be an address such as 会津若松+ <no-reply@example.jp>")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _public_base_url(cls, value: str | None) -> str | None:
        value = (value or "").strip().rstrip("/")
        if value and not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+", value):
            raise ValueError("must be an origin such as https://plus.example.jp (no path)")
        return value or None

    @model_validator(mode="after")
    def _hold_settings(self) -> Settings:
        if self.hold_max_share_weeks < self.hold_max_shares_per_week:
            raise ValueError(
                "HOLD_MAX_SHARE_WEEKS must be at least HOLD_MAX_SHARES_PER_WEEK "
                "(else no hold of the largest allowed size fits)"
            )
        if self.hold_rate_per_day < self.hold_rate_per_hour:
            raise ValueError("HOLD_RATE_PER_DAY must be at least HOLD_RATE_PER_HOUR")
        return self

    @model_validator(mode="after")
    def _mail_settings(self) -> Settings:
        if bool(self.smtp_username) != bool(self.smtp_password):
            raise ValueError("SMTP_USERNAME and SMTP_PASSWORD are set together or not at all")
        if self.smtp_host is None:
            return self
        if self.mail_from is None:
            raise ValueError("MAIL_FROM is required when SMTP_HOST is set")
        if self.public_base_url is None:
            raise ValueError("PUBLIC_BASE_URL is required when SMTP_HOST is set (links in mail)")
        if self.smtp_security == "none" and not is_loopback_host(self.smtp_host):
            raise ValueError(
                "SMTP_SECURITY=none is only allowed for an SMTP server on this machine"
            )
        return self

    @property
    def mail_enabled(self) -> bool:
        return self.smtp_host is not None

    @property
    def host_layout(self) -> HostLayout:
        """Where the host's pages can show ads: what serving fills and what may be sold."""
        return HostLayout(
            ad_positions=self.delivery_ad_positions,
            side_slots=self.delivery_side_slots,
            frequency_cap=self.delivery_frequency_cap,
        )

    @property
    def hold_limits(self) -> HoldLimits:
        return HoldLimits(
            max_shares_per_week=self.hold_max_shares_per_week,
            max_share_weeks=self.hold_max_share_weeks,
            max_renewals=self.hold_max_renewals,
        )

    @property
    def traffic_limits(self) -> TrafficLimits:
        return TrafficLimits(
            impression_window_seconds=self.tracking_impression_window_minutes * 60,
            impressions_per_address_per_minute=self.tracking_impressions_per_address_per_minute,
            impressions_per_booking_per_minute=self.tracking_impressions_per_booking_per_minute,
            anonymous_feeds_per_minute=self.tracking_anonymous_feeds_per_minute,
        )

    @property
    def hold_rate_rules(self) -> str:
        """The rate limit of holds per shop, in the `limits` library's notation."""
        return f"{self.hold_rate_per_hour}/hour;{self.hold_rate_per_day}/day"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment, turning validation errors into one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    if not first["loc"]:  # a rule across several variables names them in its message
        return f"configuration error: {str(first['msg']).removeprefix('Value error, ')}"
    variable = str(first["loc"][0]).upper()
    if first["type"] == "missing":
        return f"configuration error: {variable} is not set"
    return f"configuration error: {variable}: {first['msg']}"
