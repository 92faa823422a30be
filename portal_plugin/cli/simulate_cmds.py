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
    seeds: int = typer.Option(
        1,
        "--seeds",
        min=1,
        max=20,
        help="Run this many seeds (from --seed on) and report the CTR lift with its 95% "
        "confidence interval.",
    ),
    scenario: Path | None = typer.Option(
        None,
        "--scenario",
        help="A JSON scenario (docs/delivery.md, Scenarios): bookings, targeting, pauses, "
        "disaster windows, workers and restarts, run through the real delivery service.",
    ),
) -> None:
    """Pace bookings of different shares and targeting over a realistic daily curve."""
    if scenario is not None:
        _run_scenario(scenario, scorer, as_json)
        return
    if seeds > 1:
        _run_seeds(scorer, range(seed, seed + seeds), days, residents, as_json)
        return
    from marketplace.synthetic.simulation import simulate
    from marketplace.synthetic.simulation_chart import save_chart
    from marketplace.synthetic.simulation_scorers import lightfm_scorer, profile_scorer

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


def _run_scenario(path: Path, scorer: ScorerChoice, as_json: bool) -> None:
    import tempfile

    from marketplace.db import make_engine
    from marketplace.synthetic.scenario import ScenarioError, load_scenario
    from marketplace.synthetic.scenario_run import run_scenario
    from marketplace.synthetic.simulation_scorers import lightfm_scorer, profile_scorer
    from portal_plugin.migrate import upgrade

    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        raise typer.BadParameter(str(exc), param_hint="--scenario") from None
    factory = lightfm_scorer if scorer is ScorerChoice.LIGHTFM else profile_scorer
    with tempfile.TemporaryDirectory(prefix="scenario-") as folder:
        url = f"sqlite:///{Path(folder) / 'scenario.db'}"
        upgrade(url)
        engine = make_engine(url)
        try:
            result = run_scenario(scenario, engine, factory, Path(folder) / "spool")
        except ScenarioError as exc:
            raise typer.BadParameter(str(exc), param_hint="--scenario") from None
        finally:
            engine.dispose()
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False))
        return
    typer.echo(f"{result.feeds:,} feed views")
    typer.echo(f"{'booking':>12} {'bought':>8} {'forecast':>9} {'delivered':>10} {'dev':>8} "
               f"{'max rate':>9} {'make-good':>10}")  # fmt: skip
    for b in result.bookings:
        typer.echo(
            f"{b.booking_id:>12} {b.share_bought:>8.2%} {b.forecast_share:>9.2%} "
            f"{b.share_delivered:>10.2%} {b.deviation:>+8.2%} {b.max_hourly_rate_ratio:>8.2f}× "
            f"{b.make_good_yen:>9,}円"
        )
    typer.echo(f"max |deviation| {result.max_abs_deviation:.2%}; CTR lift {result.ctr_lift:.3f}×")


def _run_seeds(
    scorer: ScorerChoice, seeds: range, days: int, residents: int, as_json: bool
) -> None:
    from marketplace.synthetic.simulation import lift_over_seeds
    from marketplace.synthetic.simulation_scorers import lightfm_scorer, profile_scorer

    factory = lightfm_scorer if scorer is ScorerChoice.LIGHTFM else profile_scorer
    interval, results = lift_over_seeds(factory, list(seeds), days=days, residents=residents)
    worst = max(r.max_abs_deviation for r in results)
    if as_json:
        body = {
            "seeds": list(seeds),
            "ctr_lift": round(interval.mean, 4),
            "ctr_lift_ci95": [round(interval.low, 4), round(interval.high, 4)],
            "ctr_lifts": [round(v, 4) for v in interval.lifts],
            "max_abs_deviation": round(worst, 6),
        }
        typer.echo(json.dumps(body))
        return
    for number, result in zip(seeds, results, strict=True):
        typer.echo(f"seed {number}: CTR lift {result.ctr_lift:.3f}×, "
                   f"max |deviation| {result.max_abs_deviation:.2%}")  # fmt: skip
    typer.echo(f"CTR lift {interval.mean:.3f}× (95% CI {interval.low:.3f}–{interval.high:.3f}, "
               f"{len(seeds)} seeds); max |deviation| {worst:.2%}")  # fmt: skip
