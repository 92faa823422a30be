"""The LightFM model's configuration: validated, immutable, refusing unknown keys."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from recommender.errors import ConfigError


class LightFMConfig(BaseModel):
    """Hyper-parameters. Defaults are the ones measured best on the synthetic city (README)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    no_components: int = Field(32, ge=1, le=1024)
    loss: Literal["warp", "bpr", "logistic", "warp-kos"] = "warp"
    learning_schedule: Literal["adagrad", "adadelta"] = "adagrad"
    learning_rate: float = Field(0.05, gt=0, le=10)
    item_alpha: float = Field(0.0, ge=0)
    user_alpha: float = Field(0.0, ge=0)
    max_sampled: int = Field(5, ge=1)
    epochs: int = Field(10, ge=1, le=1000)
    num_threads: int = Field(1, ge=1, le=256)
    random_state: int = Field(0, ge=0)
    # Identity features give every known user/item its own embedding; attribute features carry
    # over to cold users and items. Both on measured best (see README).
    user_identity: bool = True
    item_identity: bool = True
    normalize_features: bool = False
    # Give cold users/new items the average identity embedding of trained ones with the same
    # attributes (a ridge regression after training). Measured no gain on the synthetic city
    # (README), so off by default; kept for datasets where identities share more structure.
    cold_correction: bool = False
    use_weights: bool = True
    # Users without history: the model's weight in their scores, the rest being their segment's
    # popularity (`baselines.blend_cold`); 1 = the model alone. Chosen by `recommender.selection`
    # on validation newcomers.
    cold_blend: float = Field(1.0, ge=0.0, le=1.0)
    segment_prefixes: tuple[str, ...] = ("age", "household")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> LightFMConfig:
        try:
            return cls.model_validate(dict(values))
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(p) for p in first["loc"]) or "(config)"
            raise ConfigError(f"config key {key!r}: {first['msg']}") from None

    @classmethod
    def from_file(cls, path: str | Path) -> LightFMConfig:
        """Read a JSON object of overrides; unknown keys are refused."""
        try:
            values = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read config: {exc}") from None
        if not isinstance(values, dict):
            raise ConfigError(f"{path}: config must be a JSON object")
        return cls.from_mapping(values)

    def with_overrides(self, **values: Any) -> LightFMConfig:
        return LightFMConfig.from_mapping({**self.model_dump(), **values})
