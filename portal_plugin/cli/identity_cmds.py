"""`portal-marketplace resident-token …`: mint a token as the host portal would, for testing."""

from __future__ import annotations

import typer

from marketplace.vocab import DISTRICTS, INTERESTS, AgeBand, Household, Language
from portal_plugin.cli.common import fail, settings_or_exit
from portal_plugin.identity import DEFAULT_TTL_SECONDS, ResidentIdentity, mint_token


def resident_token(
    external_id: str = typer.Argument(
        ..., help="The resident's pseudonymous id, e.g. resident-000001."
    ),
    age_band: AgeBand | None = typer.Option(None, "--age-band", help="Age band."),
    household: Household | None = typer.Option(None, "--household", help="Household type."),
    district: str | None = typer.Option(None, "--district", help="District id."),
    language: Language = typer.Option(Language.JA, "--language", help="Preferred language."),
    interest: list[str] = typer.Option([], "--interest", help="Opted-in interest (repeatable)."),
    consent: bool = typer.Option(True, "--consent/--no-consent", help="Personalization consent."),
    ttl: int = typer.Option(
        DEFAULT_TTL_SECONDS, "--ttl", min=1, max=86_400, help="Lifetime in seconds."
    ),
) -> None:
    """Print a signed X-Portal-Resident token."""
    settings = settings_or_exit()
    if not external_id or len(external_id) > 64:
        fail("EXTERNAL_ID must be 1–64 characters")
    if district is not None and district not in DISTRICTS:
        fail(f"--district: unknown district {district!r}; one of {', '.join(DISTRICTS)}")
    unknown = [i for i in interest if i not in INTERESTS]
    if unknown:
        fail(f"--interest: unknown interest {unknown[0]!r}; one of {', '.join(INTERESTS)}")
    identity = ResidentIdentity(
        external_id=external_id,
        age_band=age_band,
        household=household,
        district=district,
        language=language,
        interests=tuple(interest),
        personalization_consent=consent,
    )
    typer.echo(mint_token(settings.portal_identity_secret, identity, ttl_seconds=ttl))
