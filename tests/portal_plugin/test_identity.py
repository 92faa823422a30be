from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

import jwt
import pytest

from marketplace.vocab import AgeBand, Household, Language
from portal_plugin.identity import (
    InvalidIdentityToken,
    ResidentIdentity,
    VerifiedTokens,
    mint_token,
    verify_token,
)

SECRET = "x" * 40
ALICE = ResidentIdentity(
    external_id="resident-000042",
    age_band=AgeBand.AGE_30S,
    household=Household.YOUNG_CHILDREN,
    district="tsuruga",
    interests=("子育て",),
    personalization_consent=True,
)


def test_round_trip_keeps_every_attribute() -> None:
    token = mint_token(SECRET, ALICE, now=1_000_000)
    assert verify_token(SECRET, token, now=1_000_100) == ALICE


def test_expired_token_is_refused() -> None:
    token = mint_token(SECRET, ALICE, ttl_seconds=60, now=1_000_000)
    with pytest.raises(InvalidIdentityToken, match="expired"):
        verify_token(SECRET, token, now=1_000_061)


def test_token_signed_with_another_secret_is_refused() -> None:
    token = mint_token("y" * 40, ALICE, now=1_000_000)
    with pytest.raises(InvalidIdentityToken, match="bad signature"):
        verify_token(SECRET, token, now=1_000_000)


def test_swapping_the_payload_breaks_the_signature() -> None:
    bob = ResidentIdentity(external_id="resident-000043")
    alice_token = mint_token(SECRET, ALICE, now=1_000_000)
    bob_token = mint_token(SECRET, bob, now=1_000_000)
    forged = bob_token.rsplit(".", 1)[0] + "." + alice_token.rsplit(".", 1)[1]
    with pytest.raises(InvalidIdentityToken, match="bad signature"):
        verify_token(SECRET, forged, now=1_000_000)


@pytest.mark.parametrize("algorithm", ["HS512", "none"])
def test_only_hs256_is_accepted(algorithm: str) -> None:
    """`alg` is the sender's word: a token in another algorithm (or none) is never trusted."""
    claims = {"sub": "r1", "iat": 1_000_000, "exp": 1_000_600}
    token = jwt.encode(claims, SECRET * 2 if algorithm != "none" else None, algorithm=algorithm)
    with pytest.raises(InvalidIdentityToken, match="token not signed with HS256"):
        verify_token(SECRET, token, now=1_000_100)


def test_a_token_minted_by_a_host_from_the_documented_claims_is_accepted() -> None:
    """A host in another language mints the token with its own JWT library from the claims in
    docs/host-tokens.md; PyJWT with a plain claims dict stands for it here."""
    claims = {
        "sub": "resident-000042",
        "iat": 1_000_000,
        "exp": 1_000_900,
        "age": "30-39",
        "hh": "young_children",
        "dist": "tsuruga",
        "lang": "ja",
        "int": ["子育て"],
        "consent": True,
    }
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    assert verify_token(SECRET, token, now=1_000_100) == ALICE


def test_a_token_built_from_the_jws_specification_by_hand_is_accepted() -> None:
    """No JWT library at all: base64url(header) "." base64url(claims), HMAC-SHA256 over both."""

    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = part(json.dumps({"sub": "r-7", "iat": 1_000_000, "exp": 1_000_600}).encode())
    signature = hmac.new(SECRET.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    token = f"{header}.{claims}.{part(signature)}"
    identity = verify_token(SECRET, token, now=1_000_100)
    assert identity == ResidentIdentity(external_id="r-7")


@pytest.mark.parametrize("token", ["", "abc", "abc.", ".abc", "a" * 5000])
def test_garbage_is_refused(token: str) -> None:
    with pytest.raises(InvalidIdentityToken):
        verify_token(SECRET, token, now=1_000_000)


def test_future_issue_time_is_refused() -> None:
    token = mint_token(SECRET, ALICE, now=2_000_000)
    with pytest.raises(InvalidIdentityToken, match="future"):
        verify_token(SECRET, token, now=1_000_000)


def signed(payload: dict[str, object]) -> str:
    """A token for any payload, signed with the right secret (so only the payload is wrong)."""
    claims = {"sub": "r1", "iat": 1_000_000, "exp": 1_000_600, **payload}
    return jwt.encode(claims, SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"age": "31-39"}, "'31-39' is not a valid AgeBand"),
        ({"age": 30}, "30 is not a valid AgeBand"),
        ({"age": ["30-39"]}, "is not a valid AgeBand"),
        ({"hh": "commune"}, "'commune' is not a valid Household"),
        ({"lang": "fr"}, "'fr' is not a valid Language"),
        ({"lang": {"x": 1}}, "is not a valid Language"),
        ({"dist": ["tsuruga"]}, "unknown district"),
        ({"dist": "atlantis"}, "unknown district"),
        ({"int": ["gambling"]}, "unknown interest"),
        ({"sub": ""}, "token has no resident id"),
        ({"sub": 42}, "token has no resident id"),
        ({"exp": "1000600"}, "token has no validity period"),
    ],
)
def test_profile_values_outside_the_vocabularies_are_refused(
    payload: dict[str, object], reason: str
) -> None:
    with pytest.raises(InvalidIdentityToken, match=re.escape(reason)):
        verify_token(SECRET, signed(payload), now=1_000_100)


def test_missing_profile_values_are_unknown_and_the_language_defaults_to_japanese() -> None:
    identity = verify_token(SECRET, signed({"lang": ""}), now=1_000_100)
    assert identity.age_band is None and identity.household is None and identity.district is None
    assert identity.language is Language.JA
    english = verify_token(SECRET, signed({"lang": "en", "age": "70+"}), now=1_000_100)
    assert english.language is Language.EN and english.age_band is AgeBand.AGE_70_PLUS


def test_a_verified_token_is_remembered_until_it_expires() -> None:
    tokens = VerifiedTokens(SECRET)
    token = mint_token(SECRET, ALICE, ttl_seconds=60, now=1_000_000)
    first = tokens.verify(token, now=1_000_000)
    assert first == ALICE
    assert tokens.verify(token, now=1_000_060) is first  # remembered, not checked again
    with pytest.raises(InvalidIdentityToken, match="expired"):
        tokens.verify(token, now=1_000_061)


def test_remembered_tokens_do_not_vouch_for_altered_ones() -> None:
    tokens = VerifiedTokens(SECRET)
    bob = ResidentIdentity(external_id="resident-000043")
    alice_token = mint_token(SECRET, ALICE, now=1_000_000)
    bob_token = mint_token(SECRET, bob, now=1_000_000)
    tokens.verify(alice_token, now=1_000_000)
    tokens.verify(bob_token, now=1_000_000)
    forged = bob_token.rsplit(".", 1)[0] + "." + alice_token.rsplit(".", 1)[1]
    for refused in (forged, alice_token + "x", alice_token[:-1]):
        with pytest.raises(InvalidIdentityToken):
            tokens.verify(refused, now=1_000_000)
    assert len(tokens) == 2  # refusals are not remembered


def test_a_token_from_another_secret_is_refused_every_time() -> None:
    tokens = VerifiedTokens(SECRET)
    token = mint_token("y" * 40, ALICE, now=1_000_000)
    for _ in range(2):
        with pytest.raises(InvalidIdentityToken, match="bad signature"):
            tokens.verify(token, now=1_000_000)


def test_the_least_recently_used_tokens_make_room_for_new_ones() -> None:
    tokens = VerifiedTokens(SECRET, size=2)
    minted = [
        mint_token(SECRET, ResidentIdentity(external_id=f"resident-{n}"), now=1_000_000)
        for n in range(3)
    ]
    first, second = (tokens.verify(t, now=1_000_000) for t in minted[:2])
    assert tokens.verify(minted[0], now=1_000_000) is first  # now the most recently used
    third = tokens.verify(minted[2], now=1_000_000)  # the second makes room
    assert len(tokens) == 2
    assert tokens.verify(minted[0], now=1_000_000) is first
    assert tokens.verify(minted[2], now=1_000_000) is third
    again = tokens.verify(minted[1], now=1_000_000)  # forgotten: checked afresh
    assert again == second and again is not second


def test_what_pyjwt_refuses_is_refused_and_what_it_accepts_is_accepted() -> None:
    """Verification is the standard library's HMAC over the JWS segments; PyJWT is the yardstick."""
    good = mint_token(SECRET, ALICE, now=1_000_000)
    header, payload, signature = good.split(".")
    other = jwt.encode({"sub": "r1", "iat": 1_000_000, "exp": 1_000_600}, SECRET + "!")
    candidates = [
        good,
        f"{header}.{payload}.{signature}.x",
        f"{header}.{payload}",
        f"{header}.{payload}.{signature[:-2]}",
        f"{header}.{payload[:-4]}.{signature}",
        f"{header}x.{payload}.{signature}",
        f"{header}.{payload}.{other.split('.')[2]}",
        jwt.encode({"sub": "r1", "iat": 1_000_000, "exp": 1_000_600}, None, algorithm="none"),
        jwt.encode({"sub": "r1", "iat": 1_000_000, "exp": 1_000_600}, SECRET * 2, "HS384"),
    ]
    options = {"verify_exp": False, "verify_iat": False}
    for token in candidates:
        try:
            jwt.decode(token, SECRET, algorithms=["HS256"], options=options)  # type: ignore[arg-type]
        except jwt.InvalidTokenError:
            with pytest.raises(InvalidIdentityToken):
                verify_token(SECRET, token, now=1_000_100)
        else:
            assert verify_token(SECRET, token, now=1_000_100) == ALICE
