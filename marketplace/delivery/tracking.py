"""Signed one-time tracking tokens, invalid-traffic checks and IP anonymisation.

A token names one offer; it is signed (itsdangerous, HMAC-SHA1 over a per-purpose salt) and
refused after two hours. Whether it was already used is the caller's state, not the token's.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

TOKEN_MAX_AGE_SECONDS = 2 * 60 * 60
CLICK_RATE_RULES = "1/minute;3/10minute;10/hour;25/day"
IMPRESSION_RATE_RULES = "120/minute;2000/day"

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


@dataclass(frozen=True)
class OfferToken:
    offer_id: str
    booking_id: int
    creative_version_id: int
    resident_key: str = ""  # keyed hash of the resident, "" when anonymous


class TokenSigner:
    def __init__(self, secret: str) -> None:
        self._impression = URLSafeTimedSerializer(secret, salt="ad-impression")
        self._click = URLSafeTimedSerializer(secret, salt="ad-click")

    def impression_token(self, offer: OfferToken) -> str:
        return str(self._impression.dumps(_payload(offer)))

    def click_token(self, offer: OfferToken) -> str:
        return str(self._click.dumps(_payload(offer)))

    def read_impression(self, token: str) -> OfferToken:
        return _read(self._impression, token)

    def read_click(self, token: str) -> OfferToken:
        return _read(self._click, token)


def _payload(offer: OfferToken) -> list[object]:
    return [offer.offer_id, offer.booking_id, offer.creative_version_id, offer.resident_key]


def _read(serializer: URLSafeTimedSerializer, token: str) -> OfferToken:
    if len(token) > 512:
        raise TrackingTokenError("token too long")
    try:
        data = serializer.loads(token, max_age=TOKEN_MAX_AGE_SECONDS)
    except SignatureExpired:
        raise TrackingTokenError("expired") from None
    except BadSignature:
        raise TrackingTokenError("bad signature") from None
    if (
        not isinstance(data, list)
        or len(data) != 4
        or not isinstance(data[0], str)
        or not isinstance(data[3], str)
        or not all(isinstance(v, int) for v in data[1:3])
    ):
        raise TrackingTokenError("malformed token")
    return OfferToken(data[0], data[1], data[2], data[3])


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
