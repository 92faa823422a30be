from __future__ import annotations

import pytest

from marketplace.delivery.tracking import (
    TOKEN_MAX_AGE_SECONDS,
    OfferToken,
    TokenSigner,
    TrackingTokenError,
    anonymise_ip,
    is_bot,
)

OFFER = OfferToken("ab" * 16, 12, 34, "cd" * 16)
NOW = 1_800_000_000.0


def test_tokens_round_trip_per_purpose() -> None:
    signer = TokenSigner("k" * 40)
    assert signer.read_click(signer.click_token(OFFER, NOW), NOW) == OFFER
    assert signer.read_impression(signer.impression_token(OFFER, NOW), NOW) == OFFER
    with pytest.raises(TrackingTokenError, match="signature"):
        signer.read_click(signer.impression_token(OFFER, NOW), NOW)


def test_an_offers_two_tokens_are_issued_together_each_for_its_own_purpose() -> None:
    signer = TokenSigner("k" * 40)
    impression, click = signer.tokens(OFFER, NOW)
    assert (impression, click) == (
        signer.impression_token(OFFER, NOW),
        signer.click_token(OFFER, NOW),
    )
    assert signer.read_impression(impression, NOW) == signer.read_click(click, NOW) == OFFER
    with pytest.raises(TrackingTokenError, match="signature"):
        signer.read_impression(click, NOW)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t.replace(".12.", ".13."),
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: "x" + t,
        lambda t: t.rpartition(".")[0],
        lambda t: "",
        lambda t: t * 10,
    ],
)
def test_tampered_tokens_are_refused(mutate) -> None:  # type: ignore[no-untyped-def]
    signer = TokenSigner("k" * 40)
    with pytest.raises(TrackingTokenError):
        signer.read_click(mutate(signer.click_token(OFFER, NOW)), NOW)


def test_tokens_expire_after_two_hours_and_not_before() -> None:
    signer = TokenSigner("k" * 40)
    token = signer.click_token(OFFER, NOW)
    assert signer.read_click(token, NOW + TOKEN_MAX_AGE_SECONDS - 1) == OFFER
    with pytest.raises(TrackingTokenError, match="expired"):
        signer.read_click(token, NOW + TOKEN_MAX_AGE_SECONDS + 1)
    with pytest.raises(TrackingTokenError, match="future"):
        signer.read_click(signer.click_token(OFFER, NOW + 3600), NOW)
    with pytest.raises(TrackingTokenError, match="signature"):
        TokenSigner("other" * 10).read_click(token, NOW)


def test_ips_are_anonymised_and_bots_recognised() -> None:
    assert anonymise_ip("203.0.113.77") == "203.0.113.0/24"
    assert anonymise_ip("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert anonymise_ip("not an ip") is None and anonymise_ip(None) is None
    assert is_bot("Mozilla/5.0 (compatible; Googlebot/2.1)") and is_bot(None) and is_bot("curl/8")
    assert not is_bot("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1")
