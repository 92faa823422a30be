from __future__ import annotations

import pytest

from marketplace.vocab import AgeBand, Household
from portal_plugin.identity import (
    InvalidIdentityToken,
    ResidentIdentity,
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
