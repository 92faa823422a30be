from __future__ import annotations

import json
import re

import pytest

from marketplace.vocab import AgeBand, Household, Language
from portal_plugin.identity import (
    InvalidIdentityToken,
    ResidentIdentity,
    VerifiedTokens,
    _b64encode,
    _signature,
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
    forged = bob_token.split(".")[0] + "." + alice_token.split(".")[1]
    with pytest.raises(InvalidIdentityToken, match="bad signature"):
        verify_token(SECRET, forged, now=1_000_000)


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
    part = _b64encode(
        json.dumps({"sub": "r1", "iat": 1_000_000, "exp": 1_000_600, **payload}).encode()
    )
    return f"{part}.{_signature(SECRET, part)}"


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
    forged = bob_token.split(".")[0] + "." + alice_token.split(".")[1]
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


def test_the_oldest_tokens_make_room_for_new_ones() -> None:
    tokens = VerifiedTokens(SECRET, size=2)
    minted = [
        mint_token(SECRET, ResidentIdentity(external_id=f"resident-{n}"), now=1_000_000)
        for n in range(3)
    ]
    identities = [tokens.verify(t, now=1_000_000) for t in minted]
    assert len(tokens) == 2
    assert tokens.verify(minted[2], now=1_000_000) is identities[2]
    again = tokens.verify(minted[0], now=1_000_000)  # forgotten: checked afresh
    assert again == identities[0] and again is not identities[0]
