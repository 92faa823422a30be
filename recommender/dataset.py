"""An immutable, validated dataset: interactions and long-form features with id maps.

Ids are compared as strings, so ``42`` and ``"42"`` are the same user. Internal ids are row
numbers in the order ids were first seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from recommender.columns import Columns
from recommender.errors import DataError, UnknownIdError

Duplicates = Literal["sum", "refuse"]


@dataclass(frozen=True, eq=False)
class IdMap:
    """Two-way map between external ids (strings) and internal ids (0..n-1)."""

    external_ids: np.ndarray  # object array of str, unique
    _index: pd.Index = field(init=False, repr=False)

    def __post_init__(self) -> None:
        index = pd.Index(self.external_ids, dtype=object)
        if not index.is_unique:
            raise DataError(f"duplicate id {index[index.duplicated()][0]!r} in an id map")
        object.__setattr__(self, "_index", index)

    @classmethod
    def from_values(cls, values: Iterable[object]) -> IdMap:
        """Ids in order of first appearance."""
        as_str = pd.Series(list(values) if not isinstance(values, pd.Series) else values)
        return cls(np.asarray(pd.unique(as_str.astype(str)), dtype=object))

    def __len__(self) -> int:
        return len(self.external_ids)

    def __contains__(self, external_id: object) -> bool:
        return str(external_id) in self._index

    def to_internal(self, values: Iterable[object], *, what: str = "id") -> np.ndarray:
        """Internal ids of ``values``; an unknown value raises UnknownIdError naming it."""
        positions = self.lookup(values)
        missing = positions < 0
        if missing.any():
            bad = np.asarray(pd.Series(list(values)).astype(str))[missing][0]
            raise UnknownIdError(f"unknown {what} {bad!r}")
        return positions

    def lookup(self, values: Iterable[object]) -> np.ndarray:
        """Internal ids of ``values``, -1 where unknown."""
        keys = pd.Index(pd.Series(list(values), dtype=object).astype(str))
        return np.asarray(self._index.get_indexer(keys), dtype=np.int64)

    def to_external(self, internal: np.ndarray) -> np.ndarray:
        return self.external_ids[np.asarray(internal, dtype=np.int64)]

    def add(self, values: Iterable[object]) -> IdMap:
        """A new map with the unseen values appended after the existing ids."""
        new = IdMap.from_values(values).external_ids
        unseen = new[self._index.get_indexer(pd.Index(new, dtype=object)) < 0]
        return IdMap(np.concatenate([self.external_ids, unseen]).astype(object))


@dataclass(frozen=True, eq=False)
class FeatureSet:
    """Attribute features of users or items: a sparse (entities x features) matrix."""

    matrix: sp.csr_matrix  # float32
    names: IdMap


def _first_bad_row(mask: pd.Series | np.ndarray, frame: pd.DataFrame) -> Any:
    # The frame's own index label: for a frame read from a CSV that is the data row number.
    return frame.index[np.flatnonzero(np.asarray(mask))[0]]


def _show(value: object) -> str:
    # numpy scalars print as np.float64(nan); people reading an error want "nan".
    return repr(value.item() if isinstance(value, np.generic) else value)


def _require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{what} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{what}: missing column {missing[0]!r} (have {list(frame.columns)})")


def _check_ids(frame: pd.DataFrame, column: str, what: str) -> None:
    values = frame[column]
    as_text = values.astype(str)
    # Ids repeat a lot, so test blankness on the distinct values only (fast at 2M rows).
    blank = [v for v in pd.unique(as_text) if not v.strip()]
    null = values.isna().to_numpy() | as_text.isin(blank).to_numpy()
    if null.any():
        row = _first_bad_row(null, frame)
        raise DataError(f"{what}: empty {column!r} at row {row}")


def _numbers(frame: pd.DataFrame, column: str, what: str, *, negative_ok: bool) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() | ~np.isfinite(values.fillna(0.0))
    if bad.any():
        row = _first_bad_row(bad, frame)
        raise DataError(
            f"{what}: {column!r} at row {row} is {_show(frame[column].loc[row])}, not a number"
        )
    if not negative_ok and (values < 0).any():
        row = _first_bad_row(values < 0, frame)
        raise DataError(f"{what}: {column!r} at row {row} is negative ({values.loc[row]})")
    return values.to_numpy(dtype=np.float32)


def validate_features(frame: pd.DataFrame, id_column: str, what: str) -> pd.DataFrame:
    """Check a long-form feature frame; return it with string ids/features and a value column."""
    _require_columns(frame, (id_column, Columns.Feature), what)
    _check_ids(frame, id_column, what)
    _check_ids(frame, Columns.Feature, what)
    if Columns.Value in frame.columns:
        values = _numbers(frame, Columns.Value, what, negative_ok=True)
    else:
        values = np.ones(len(frame), dtype=np.float32)
    clean = pd.DataFrame(
        {
            id_column: frame[id_column].astype(str).to_numpy(),
            Columns.Feature: frame[Columns.Feature].astype(str).to_numpy(),
            Columns.Value: values,
        },
        index=frame.index,
    )
    duplicated = clean.duplicated([id_column, Columns.Feature])
    if duplicated.any():
        row = _first_bad_row(duplicated, clean)
        raise DataError(
            f"{what}: duplicate feature {clean.loc[row, Columns.Feature]!r} for "
            f"{id_column} {clean.loc[row, id_column]!r} at row {row}"
        )
    return clean


def feature_rows(
    clean: pd.DataFrame, id_column: str, ids: IdMap, names: IdMap
) -> tuple[sp.csr_matrix, int]:
    """Rows for ``ids`` over the known feature ``names``; unknown features are dropped.

    Returns the matrix and how many feature rows were dropped because the model has never
    seen that feature (a new tag, say), which callers may report.
    """
    rows = ids.lookup(clean[id_column])
    cols = names.lookup(clean[Columns.Feature])
    keep = (rows >= 0) & (cols >= 0)
    matrix = sp.csr_matrix(
        (clean[Columns.Value].to_numpy()[keep], (rows[keep], cols[keep])),
        shape=(len(ids), len(names)),
        dtype=np.float32,
    )
    return matrix, int((cols < 0).sum())


@dataclass(frozen=True, eq=False)
class Dataset:
    """Interactions (users x items, summed weights) plus optional attribute features."""

    user_map: IdMap
    item_map: IdMap
    interactions: sp.csr_matrix  # float32 weights
    user_features: FeatureSet | None = None
    item_features: FeatureSet | None = None
    # Latest timestamp of each (user, item) pair in seconds since the epoch, aligned with
    # ``interactions.data``; None when the interactions had no timestamp column.
    last_seen: np.ndarray | None = None

    @property
    def n_users(self) -> int:
        return len(self.user_map)

    @property
    def n_items(self) -> int:
        return len(self.item_map)

    @classmethod
    def construct(
        cls,
        interactions: pd.DataFrame,
        user_features: pd.DataFrame | None = None,
        item_features: pd.DataFrame | None = None,
        *,
        users: Iterable[object] | None = None,
        items: Iterable[object] | None = None,
        duplicates: Duplicates = "sum",
    ) -> Dataset:
        """Validate and build a dataset in one call.

        ``interactions`` has ``user_id``, ``item_id`` and optionally ``weight`` (>= 0, default 1)
        and ``timestamp``. Feature frames are long form: ``user_id``/``item_id``, ``feature`` and
        optionally ``value`` (default 1). Repeated (user, item) rows are summed, or refused with
        ``duplicates="refuse"``. ``users``/``items`` declare ids without interactions (a cold
        item with tags only, say); features may only describe known or declared ids.
        """
        what = "interactions"
        _require_columns(interactions, Columns.Interactions, what)
        if len(interactions) == 0:
            raise DataError("interactions: no rows")
        _check_ids(interactions, Columns.User, what)
        _check_ids(interactions, Columns.Item, what)
        if Columns.Weight in interactions.columns:
            weights = _numbers(interactions, Columns.Weight, what, negative_ok=False)
        else:
            weights = np.ones(len(interactions), dtype=np.float32)
        parsed = None
        if Columns.Datetime in interactions.columns:
            parsed = pd.to_datetime(interactions[Columns.Datetime], errors="coerce", utc=True)
            if parsed.isna().any():
                row = _first_bad_row(parsed.isna(), interactions)
                value = interactions[Columns.Datetime].loc[row]
                raise DataError(f"{what}: {Columns.Datetime!r} at row {row} is {_show(value)}")
        user_ids = interactions[Columns.User].astype(str)
        item_ids = interactions[Columns.Item].astype(str)
        if duplicates == "refuse":
            dup = pd.DataFrame({"u": user_ids, "i": item_ids}).duplicated()
            if dup.any():
                row = _first_bad_row(dup, interactions)
                raise DataError(
                    f"{what}: duplicate ({user_ids.loc[row]!r}, {item_ids.loc[row]!r}) at row {row}"
                )
        user_map = _declared_map(users, user_ids, "user_id")
        item_map = _declared_map(items, item_ids, "item_id")
        matrix = sp.csr_matrix(
            (weights, (user_map.lookup(user_ids), item_map.lookup(item_ids))),
            shape=(len(user_map), len(item_map)),
            dtype=np.float32,
        )
        matrix.sum_duplicates()
        last_seen = None
        if parsed is not None:
            last_seen = _latest_per_pair(
                matrix, user_map.lookup(user_ids), item_map.lookup(item_ids), parsed
            )
        return cls(
            user_map,
            item_map,
            matrix,
            _features(user_features, Columns.User, user_map, "user_features"),
            _features(item_features, Columns.Item, item_map, "item_features"),
            last_seen,
        )


def _latest_per_pair(
    matrix: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray, when: pd.Series
) -> np.ndarray:
    """The latest timestamp of each stored pair, in the order of ``matrix.data``."""
    seconds = when.astype("int64").to_numpy() / 1e9
    key = rows.astype(np.int64) * matrix.shape[1] + cols
    order = np.lexsort((seconds, key))
    key, seconds = key[order], seconds[order]
    last = np.r_[key[1:] != key[:-1], True]  # the last row of each key holds its maximum
    coo_rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    stored = coo_rows.astype(np.int64) * matrix.shape[1] + matrix.indices
    return seconds[last][np.searchsorted(key[last], stored)]


def _declared_map(declared: Iterable[object] | None, seen: pd.Series, column: str) -> IdMap:
    if declared is None:
        return IdMap.from_values(seen)
    declared_map = IdMap.from_values(declared)
    missing = declared_map.lookup(seen) < 0
    if missing.any():
        raise UnknownIdError(
            f"interactions: {column} {seen.to_numpy()[missing][0]!r} is not in the declared ids"
        )
    return declared_map


def _features(
    frame: pd.DataFrame | None, id_column: str, ids: IdMap, what: str
) -> FeatureSet | None:
    if frame is None:
        return None
    clean = validate_features(frame, id_column, what)
    unknown = ids.lookup(clean[id_column]) < 0
    if unknown.any():
        row = _first_bad_row(unknown, clean)
        raise UnknownIdError(
            f"{what}: {id_column} {clean.loc[row, id_column]!r} at row {row} has no interactions "
            f"and is not declared (pass it in {'users' if id_column == Columns.User else 'items'}=)"
        )
    names = IdMap.from_values(clean[Columns.Feature])
    matrix, _ = feature_rows(clean, id_column, ids, names)
    return FeatureSet(matrix, names)
