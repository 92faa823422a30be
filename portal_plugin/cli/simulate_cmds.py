"""`portal-marketplace simulate delivery`: replay synthetic traffic through the real decisions."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True)


class ScorerChoice(StrEnum):
    LIGHTFM = "lightfm"
    PROFILE = "profile"


@app.command("delivery")
def delivery(
    days: int = typer.Option(7, "--days", min=1, max=28, help="Days of traffic to simulate."),
    residents: int = typer.Option(
        10_000, "--residents", min=500, max=200_000, help="Residents in the synthetic city."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed (same seed, same result)."),
    scorer: ScorerChoice = typer.Option(
        ScorerChoice.LIGHTFM, "--scorer", help="Relevance: the LightFM hybrid or tag profiles."
    ),
    chart: Path = typer.Option(
        Path("var/simulation/delivery.png"), "--chart", help="Chart file (.png or .html)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Pace bookings of different shares and targeting over a realistic daily curve."""
    from marketplace.delivery.simulation import simulate
    from marketplace.delivery.simulation_chart import save_chart
    from marketplace.delivery.simulation_scorers import lightfm_scorer, profile_scorer

    if chart.suffix not in {".png", ".html"}:
        raise typer.BadParameter("must end in .png or .html", param_hint="--chart")
    factory = lightfm_scorer if scorer is ScorerChoice.LIGHTFM else profile_scorer
    result = simulate(factory, days=days, residents=residents, seed=seed)
    save_chart(result, chart)
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False))
        return
    typer.echo(f"{result.visits:,} feed views, {result.opportunities:,} ad slots over {days} days")
    typer.echo(f"{'booking':>8} {'category':<14} {'bought':>8} {'delivered':>10} {'dev':>8} "
               f"{'clicks':>8} {'rotation':>9}")  # fmt: skip
    for b in result.bookings:
        typer.echo(
            f"{b.booking_id:>8} {b.shop_category:<14} {b.share_bought:>8.2%} "
            f"{b.share_delivered:>10.2%} {b.deviation:>+8.2%} {b.expected_clicks:>8.1f} "
            f"{b.rotation_expected_clicks:>9.1f}"
        )
    typer.echo(f"max |deviation| {result.max_abs_deviation:.2%} (target ≤ 5%)")
    typer.echo(f"CTR lift over rotation {result.ctr_lift:.3f}× (target > 1.2)")
    typer.echo(f"chart: {chart}")
