"""Signed, expiring resident identity tokens sent by the host portal in `X-Portal-Resident`.

A token is a JSON Web Token signed with HS256 (HMAC-SHA256) under `PORTAL_IDENTITY_SECRET`, so
a host in any language mints it with its own JWT library (docs/host-tokens.md lists the
claims). The claims carry the pseudonymous id and the coarse profile attributes the host already
holds, so the feed can be ranked without a database round trip. Nothing here ever guesses: a
token that is missing a claim, expired, signed with another key or with another algorithm is
refused.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from dataclasses import dataclass, field
from typing import Any, TypeVar

import jwt
import orjson

from marketplace.delivery.tracking import keyed_digest, prepared_hmac
from marketplace.lru import LruCache
from marketplace.vocab import DISTRICTS, INTERESTS, AgeBand, Household, Language

HEADER = "X-Portal-Resident"
ALGORITHM = "HS256"
DEFAULT_TTL_SECONDS = 15 * 60
MAX_TOKEN_BYTES = 4096
_CLOCK_SKEW_SECONDS = 30


class InvalidIdentityToken(Exception):
    """The token cannot be trusted; `reason` is safe to show to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ResidentIdentity:
    external_id: str
    age_band: AgeBand | None = None
    household: Household | None = None
    district: str | None = None
    language: Language = Language.JA
    interests: tuple[str, ...] = field(default=())
    personalization_consent: bool = False


def mint_token(
    secret: str,
    identity: ResidentIdentity,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: float | None = None,
) -> str:
    """Sign `identity` for `ttl_seconds`; the host portal does this for every page it serves."""
    issued = int(now if now is not None else time.time())
    payload: dict[str, Any] = {
        "sub": identity.external_id,
        "iat": issued,
        "exp": issued + ttl_seconds,
        "age": identity.age_band.value if identity.age_band else None,
        "hh": identity.household.value if identity.household else None,
        "dist": identity.district,
        "lang": identity.language.value,
        "int": list(identity.interests),
        "consent": identity.personalization_consent,
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str, now: float | None = None) -> ResidentIdentity:
    """Return the identity in `token`, or raise `InvalidIdentityToken` saying why not."""
    return verified_until(secret, token, now)[0]


def verified_until(
    secret: str | hmac.HMAC, token: str, now: float | None = None
) -> tuple[ResidentIdentity, int]:
    """The identity in `token` and the Unix time it expires at; `InvalidIdentityToken`.

    `secret` may be given keyed already (`prepared_hmac`), as `VerifiedTokens` does.
    """
    if len(token) > MAX_TOKEN_BYTES:
        raise InvalidIdentityToken("token too long")
    # Headers arrive decoded as latin-1: a byte from 0x80 up is a character no token contains.
    if not token.isascii():
        raise InvalidIdentityToken("token contains non-ASCII characters")
    key = prepared_hmac(secret.encode()) if isinstance(secret, str) else secret
    payload = _decoded(key, token)
    current = now if now is not None else time.time()
    expires = payload["exp"]
    issued = payload["iat"]
    if not isinstance(expires, int) or not isinstance(issued, int):
        raise InvalidIdentityToken("token has no validity period")
    if expires < current:
        raise InvalidIdentityToken("token expired")
    if issued > current + _CLOCK_SKEW_SECONDS:
        raise InvalidIdentityToken("token issued in the future")
    return _identity_from_payload(payload), expires


def _decoded(key: hmac.HMAC, token: str) -> dict[str, Any]:
    """The claims of an HS256 JWS compact token whose signature holds; InvalidIdentityToken.

    Checked with the standard library, not PyJWT's `decode`: a host mints a token for each page
    it serves, so a page's first request always verifies a new one, and PyJWT's decode costs
    about four times as much (a per-character check of every segment, in Python). The signature
    is compared on the segments as sent, before anything in them is decoded; tests check that
    tokens PyJWT mints are accepted and the ones it would refuse are refused.
    """
    header_part, dot, rest = token.partition(".")
    payload_part, dot2, signature = rest.partition(".")
    if not dot or not dot2 or not header_part or not payload_part or "." in signature:
        raise InvalidIdentityToken("malformed token")
    try:
        header = orjson.loads(_b64decode(header_part))
    except (ValueError, binascii.Error):
        raise InvalidIdentityToken("malformed token") from None
    if not isinstance(header, dict) or header.get("alg") != ALGORITHM:
        raise InvalidIdentityToken(f"token not signed with {ALGORITHM}")
    digest = keyed_digest(key, f"{header_part}.{payload_part}".encode())
    if not hmac.compare_digest(signature.encode(), _b64encode(digest)):
        raise InvalidIdentityToken("bad signature")
    try:
        payload = orjson.loads(_b64decode(payload_part))
    except (ValueError, binascii.Error):
        raise InvalidIdentityToken("malformed token") from None
    if not isinstance(payload, dict):
        raise InvalidIdentityToken("malformed token")
    if not isinstance(payload.get("sub"), str):
        raise InvalidIdentityToken("token has no resident id")
    if "iat" not in payload or "exp" not in payload:
        raise InvalidIdentityToken("token has no validity period")
    return payload


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64encode(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


# A worker's distinct residents over a token's lifetime, with room to spare: at most ~20 MB.
VERIFIED_TOKENS = 32_768


class VerifiedTokens:
    """`verify_token` for one secret, each token checked once and remembered until it expires.

    A host sends a resident's token with every request of a page (the feed, its pixel, the
    fragment) and may keep it for its whole lifetime: the signature, the JSON and the profile
    checks need only run the first time, since nothing in a token can change. An expired token
    is checked (and refused) afresh; refusals are never remembered. The least recently used
    tokens make room for new ones.
    """

    def __init__(self, secret: str, size: int = VERIFIED_TOKENS) -> None:
        self.secret = secret
        self._key = prepared_hmac(secret.encode())
        self._known: LruCache[str, tuple[ResidentIdentity, int]] = LruCache(size)

    def verify(self, token: str, now: float | None = None) -> ResidentIdentity:
        current = now if now is not None else time.time()
        known = self._known.get(token)
        if known is not None and current <= known[1]:
            return known[0]
        return self._known.put(token, verified_until(self._key, token, current))[0]

    def __len__(self) -> int:
        return len(self._known)


# Value -> member: a dict lookup, where calling the enum costs a microsecond per feed.
_AGE_BANDS: dict[object, AgeBand] = {m.value: m for m in AgeBand}
_HOUSEHOLDS: dict[object, Household] = {m.value: m for m in Household}
_LANGUAGES: dict[object, Language] = {m.value: m for m in Language}
E = TypeVar("E")


def _member(members: dict[object, E], value: object, kind: str) -> E | None:
    if value is None:
        return None
    try:
        return members[value]
    except (KeyError, TypeError):  # TypeError: an unhashable value such as a list
        raise InvalidIdentityToken(
            f"unknown profile value: {value!r} is not a valid {kind}"
        ) from None


def _identity_from_payload(payload: dict[str, Any]) -> ResidentIdentity:
    subject = payload.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 64:
        raise InvalidIdentityToken("token has no resident id")
    age = _member(_AGE_BANDS, payload.get("age"), "AgeBand")
    household = _member(_HOUSEHOLDS, payload.get("hh"), "Household")
    language = _member(_LANGUAGES, payload.get("lang") or None, "Language") or Language.JA
    district = payload.get("dist")
    if district is not None and (not isinstance(district, str) or district not in DISTRICTS):
        raise InvalidIdentityToken(f"unknown district {district!r}")
    interests = payload.get("int") or []
    if not isinstance(interests, list) or any(i not in INTERESTS for i in interests):
        raise InvalidIdentityToken("unknown interest in token")
    consent = payload.get("consent", False)
    if not isinstance(consent, bool):
        raise InvalidIdentityToken("consent must be true or false")
    return ResidentIdentity(
        external_id=subject,
        age_band=age,
        household=household,
        district=district,
        language=language,
        interests=tuple(interests),
        personalization_consent=consent,
    )
