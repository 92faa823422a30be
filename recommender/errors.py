"""Errors the recommender raises; each message names the column, row or id at fault."""

from __future__ import annotations


class RecommenderError(Exception):
    """Base class for every error raised by this package."""


class DataError(RecommenderError, ValueError):
    """Input data is malformed: a missing column, a bad value, an unknown id."""


class NotFittedError(RecommenderError, RuntimeError):
    """The model is used before ``fit``."""


class UnknownIdError(DataError, KeyError):
    """A user or item id is neither known to the model nor described by features."""

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return str(self.args[0]) if self.args else ""


class ConfigError(RecommenderError, ValueError):
    """A model configuration is invalid or has unknown keys."""
