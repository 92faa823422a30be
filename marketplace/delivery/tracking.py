"""Signed one-time tracking tokens, invalid-traffic checks and IP anonymisation.

A token names one offer: `offer.booking.version.resident.issued.signature`, where the signature
is HMAC-SHA256 over the purpose ("impression" or "click") and the rest, truncated to 128 bits.
A token is refused when tampered with, used for the other purpose, or older than two hours
(an impression token: older than its signer's `impression_max_age`). The resident field carries the
client's key first (`client_key`: 16 hex digits, a keyed hash of the client's anonymised address
and User-Agent), then the resident's keyed hash, so an impression can be tied to the client that
was served the offer.
Whether it was already used is the caller's state, not the token's. Every field is hex or
digits, so the dot-separated form needs no escaping; it is built for the feed's hot path
(a few microseconds, against ~60 µs for a compressed itsdangerous token).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import time
from typing import NamedTuple

from marketplace.delivery.house import HouseSlot, Surface

TOKEN_MAX_AGE_SECONDS = 2 * 60 * 60
CLOCK_SKEW_SECONDS = 60
CLICK_RATE_RULES = "1/minute;3/10minute;10/hour;25/day"
CLIENT_KEY_LENGTH = 16
_FIELD = re.compile(r"[0-9a-f]{0,64}")

_BOT_PATTERN = re.compile(
    r"bot|crawl|spider|slurp|curl|wget|python-requests|httpx|headless|phantomjs|scrapy|"
    r"facebookexternalhit|preview|monitor|uptime",
    re.IGNORECASE,
)


class TrackingTokenError(Exception):
    """The token was tampered with, has expired, or is not a tracking token."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OfferToken(NamedTuple):
    offer_id: str
    booking_id: int
    creative_version_id: int
    resident_key: str = ""  # keyed hash of the resident, "" when anonymous
    client_key: str = ""  # keyed hash of the client's anonymised address and User-Agent


class TrafficLimits(NamedTuple):
    """What one client can add to valid impressions (issue 16 item 4; settings TRACKING_*).

    Over a limit an impression is still answered 204 and recorded, as invalid (rate_limited);
    an anonymous feed over its address's budget is still a 200, with articles only.
    """

    # An impression pixel loads when the card is seen, normally within seconds of the feed.
    impression_window_seconds: int = 30 * 60
    # Valid impressions per anonymised address (and per resident) a minute, shared by workers.
    impressions_per_address_per_minute: int = 120
    # Valid anonymous impressions per anonymised address and booking a minute: what one
    # address can add to one chosen shop.
    impressions_per_booking_per_minute: int = 10
    # Anonymous feeds carrying ads per anonymised address a minute, per worker (AddressBudget).
    anonymous_feeds_per_minute: int = 60

    @property
    def impression_rules(self) -> str:
        """The per-address rules: a burst, the minute, the day (limits' syntax)."""
        per_minute = self.impressions_per_address_per_minute
        return f"{max(1, per_minute // 4)}/10second;{per_minute}/minute;{per_minute * 16}/day"

    @property
    def booking_rules(self) -> str:
        per_minute = self.impressions_per_booking_per_minute
        return f"{per_minute}/minute;{per_minute * 6}/hour;{per_minute * 20}/day"


class HouseView(NamedTuple):
    """One placement of a city house ad, named by its view pixel's token."""

    view_id: str
    house_ad_id: int
    surface: Surface


_SURFACE_CODES = {Surface.FEED: 0, Surface.SIDE: 1}
_SURFACES = {code: surface for surface, code in _SURFACE_CODES.items()}


class TokenSigner:
    def __init__(self, secret: str, impression_max_age: int = TOKEN_MAX_AGE_SECONDS) -> None:
        key = hashlib.sha256(b"delivery-tracking:" + secret.encode()).digest()
        self._hmac = prepared_hmac(key)
        self.impression_max_age = impression_max_age

    def impression_token(self, offer: OfferToken, issued_at: float | None = None) -> str:
        return self._sign("impression", offer, issued_at)

    def click_token(self, offer: OfferToken, issued_at: float | None = None) -> str:
        return self._sign("click", offer, issued_at)

    def tokens(self, offer: OfferToken, issued_at: float | None = None) -> tuple[str, str]:
        """The impression token and the click token of one offer, issued together."""
        body = self._body(offer, issued_at)
        return (
            f"{body}.{self._mac('impression', body)}",
            f"{body}.{self._mac('click', body)}",
        )

    def house_view_token(self, slot: HouseSlot, issued_at: float | None = None) -> str:
        """The view pixel's token of a house ad placed in a page (its own purpose: it can never
        pass for an ad's impression or click token)."""
        body = OfferToken(slot.view_id, slot.house.house_ad_id, _SURFACE_CODES[slot.surface])
        return self._sign("house-view", body, issued_at)

    def read_house_view(self, token: str, now: float | None = None) -> HouseView:
        read = self._read("house-view", token, now)
        surface = _SURFACES.get(read.creative_version_id)
        if surface is None or read.resident_key:
            raise TrackingTokenError("malformed token")
        return HouseView(read.offer_id, read.booking_id, surface)

    def read_impression(self, token: str, now: float | None = None) -> OfferToken:
        return self._read("impression", token, now, self.impression_max_age)

    def read_click(self, token: str, now: float | None = None) -> OfferToken:
        return self._read("click", token, now)

    def _mac(self, purpose: str, body: str) -> str:
        digest = keyed_digest(self._hmac, f"{purpose}:{body}".encode())
        return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()

    def _sign(self, purpose: str, offer: OfferToken, issued_at: float | None) -> str:
        body = self._body(offer, issued_at)
        return f"{body}.{self._mac(purpose, body)}"

    @staticmethod
    def _body(offer: OfferToken, issued_at: float | None) -> str:
        issued = int(time.time() if issued_at is None else issued_at)
        return (
            f"{offer.offer_id}.{offer.booking_id}.{offer.creative_version_id}."
            f"{offer.client_key}{offer.resident_key}.{issued}"
        )

    def _read(
        self, purpose: str, token: str, now: float | None, max_age: int = TOKEN_MAX_AGE_SECONDS
    ) -> OfferToken:
        if len(token) > 512:
            raise TrackingTokenError("token too long")
        body, _, signature = token.rpartition(".")
        # As bytes: compare_digest refuses str with non-ASCII characters (from %-escapes).
        if not body or not hmac.compare_digest(
            signature.encode(), self._mac(purpose, body).encode()
        ):
            raise TrackingTokenError("bad signature")
        parts = body.split(".")
        if len(parts) != 5 or not all(_FIELD.fullmatch(p) for p in (parts[0], parts[3])):
            raise TrackingTokenError("malformed token")
        offer_id, booking, version, resident, issued = parts
        if not (booking.isdigit() and version.isdigit() and issued.isdigit()) or not offer_id:
            raise TrackingTokenError("malformed token")
        current = time.time() if now is None else now
        if int(issued) < current - max_age:
            raise TrackingTokenError("expired")
        if int(issued) > current + CLOCK_SKEW_SECONDS:
            raise TrackingTokenError("issued in the future")
        client, resident = split_client(resident)
        return OfferToken(offer_id, int(booking), int(version), resident, client)


def split_client(field: str) -> tuple[str, str]:
    """The token's resident field as (client key, resident key): the client key is the first
    16 hex digits when present (resident keys are 32 digits or empty)."""
    if len(field) % 32 == CLIENT_KEY_LENGTH:
        return field[:CLIENT_KEY_LENGTH], field[CLIENT_KEY_LENGTH:]
    return "", field


def address_prefix(host: str | None) -> str:
    """The anonymised address for limits and client keys, cheaply: an IPv4 address's /24 by
    string, anything else through `anonymise_ip`."""
    if not host:
        return "unknown"
    if ":" not in host and host.count(".") == 3:
        return host.rpartition(".")[0]
    return anonymise_ip(host) or "unknown"


class AddressBudget:
    """A fixed-window counter per key, in this worker's memory (a few hundred nanoseconds per
    call, no lock: the feed runs on one event loop per worker).

    Per worker: with N workers, one address gets at most N × `per_window` in a window. The
    table is emptied when a window ends, and a new key is refused nothing but not remembered
    once `max_keys` are counted (so a spray of addresses cannot grow memory).
    """

    def __init__(self, per_window: int, window_seconds: float = 60.0, max_keys: int = 65536):
        self.per_window = per_window
        self.window_seconds = window_seconds
        self.max_keys = max_keys
        self._window = 0
        self._counts: dict[str, int] = {}

    def take(self, key: str, now: float | None = None) -> bool:
        """Count one use of `key`; False once it has used its budget in this window."""
        window = int((time.monotonic() if now is None else now) // self.window_seconds)
        if window != self._window:
            self._window = window
            self._counts = {}
        used = self._counts.get(key, 0)
        if used >= self.per_window:
            return False
        if used or len(self._counts) < self.max_keys:
            self._counts[key] = used + 1
        return True


def prepared_hmac(key: bytes) -> hmac.HMAC:
    """An HMAC-SHA256 keyed once, for `keyed_digest` to copy."""
    return hmac.new(key, digestmod="sha256")


def keyed_digest(prepared: hmac.HMAC, message: bytes) -> bytes:
    """HMAC-SHA256 of a short message from a keyed copy.

    Not `hmac.digest`: that one-shot call lets go of the GIL on every call, and on the feed's
    event loop each release lets the event writer's thread take the interpreter (tens of
    microseconds to get it back under load). Copying a keyed HMAC and hashing a short message
    keeps the GIL (hashlib lets go only for inputs of 2 KiB and more).
    """
    mac = prepared.copy()
    mac.update(message)
    return mac.digest()


def is_bot(user_agent: str | None) -> bool:
    return not user_agent or bool(_BOT_PATTERN.search(user_agent))


def anonymise_ip(address: str | None) -> str | None:
    """Keep only the network: /24 for IPv4, /48 for IPv6. Never store a full address."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
