"""`portal-marketplace worker`: run every periodic job on its schedule (or one job now)."""

from __future__ import annotations

import typer

from portal_plugin.cli.common import fail, job_environment, settings_or_exit
from portal_plugin.logs import configure_logging
from portal_plugin.worker.jobs import JOBS_BY_NAME, jobs_for


def worker(
    run: str = typer.Option(
        "", "--run", metavar="JOB", help="Run one job now (under its lock) and exit."
    ),
    list_jobs: bool = typer.Option(False, "--list", help="Print the schedule and exit."),
) -> None:
    """Run every periodic job on its schedule (Asia/Tokyo), each under a database lock.

    Several workers may run side by side: a job that another worker is running is skipped.
    Stop with Ctrl-C or SIGTERM.
    """
    settings = settings_or_exit()
    jobs = jobs_for(settings)
    if list_jobs:
        for job in jobs:
            typer.echo(f"{job.name:<18} {job.schedule:<22} {job.label}")
        return
    configure_logging(log_format=settings.log_format)
    from portal_plugin.worker.runner import run_job
    from portal_plugin.worker.scheduler import run_worker

    with job_environment(settings) as env:
        if run:
            if run not in JOBS_BY_NAME:
                fail(f"no job named {run!r}; jobs: {', '.join(JOBS_BY_NAME)}")
            job = JOBS_BY_NAME[run]
            result = run_job(env, job)
            typer.echo(f"{job.name}: {result.outcome} {result.message}".rstrip())
            if result.outcome == "failed":
                raise typer.Exit(1)
            return
        run_worker(env, jobs)
