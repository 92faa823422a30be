"""The version recorded with each trained model: the package version and the git commit."""

from __future__ import annotations

from pathlib import Path


def code_version() -> str:
    """Package version plus the git commit when run from a checkout."""
    import subprocess

    from recommender import __version__

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{__version__}+{commit}" if commit else __version__
