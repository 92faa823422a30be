"""The README's schedule of the worker's jobs is the schedule the worker runs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from portal_plugin.cli.main import app
from portal_plugin.worker.jobs import JOBS

README = Path(__file__).resolve().parents[3] / "README.md"
ROW = re.compile(r"^\| `(?P<name>[a-z_]+)` \| (?P<schedule>[^|]+) \| `(?P<command>[^`]+)` \|$")
TIME = re.compile(r"\d{1,2}:\d{2}")


def readme_rows() -> list[re.Match[str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("### The worker and its schedule", 1)[1].split("\n## ", 1)[0]
    return [m for line in section.splitlines() if (m := ROW.match(line.strip()))]


def has_command(words: list[str]) -> bool:
    command: Any = typer.main.get_command(app)
    for word in words:
        subcommands = getattr(command, "commands", {})  # a group's; typer's is its own class
        if word not in subcommands:
            return False
        command = subcommands[word]
    return True


def test_the_readme_lists_every_job_in_order_with_its_times_and_a_real_command() -> None:
    rows = readme_rows()
    assert [row["name"] for row in rows] == [job.name for job in JOBS]
    for row, job in zip(rows, JOBS, strict=True):
        # The README's English and the staff page's Japanese name the same clock times.
        assert set(TIME.findall(row["schedule"])) == set(TIME.findall(job.schedule)), job.name
        assert has_command(row["command"].split()), f"{job.name}: no command {row['command']!r}"
