"""Versioned model artifacts in a model store directory.

Layout::

    STORE/versions/<version>/manifest.json   metadata, metrics, checksum of state.npz
    STORE/versions/<version>/state.npz       ModelState arrays (no pickle)
    STORE/versions/<version>/training.npz    LightFM parameters for the incremental refresh
    STORE/PROMOTED                           the version that serves

A version directory is written under a temporary name and renamed into place, and PROMOTED is
replaced with os.replace, so a reader never sees a half-written artifact or pointer.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from recommender.errors import DataError, RecommenderError
from recommender.incremental import TrainingState
from recommender.state import ModelState

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
STATE = "state.npz"
TRAINING = "training.npz"  # not read by serving: only the refresh continues from it
POINTER = "PROMOTED"


class ArtifactError(RecommenderError):
    """An artifact cannot be used."""


class ArtifactNotFoundError(ArtifactError):
    """No such version, or nothing promoted yet."""


class CorruptArtifactError(ArtifactError):
    """Files are missing, unreadable, or do not match their checksum."""


class IncompatibleArtifactError(ArtifactError):
    """Written by a code version whose artifact format this code cannot read."""


@dataclass(frozen=True)
class ArtifactInfo:
    version: str
    created_at: str
    code_version: str
    format_version: int
    metrics: dict[str, Any] = field(default_factory=dict)
    data_window: dict[str, str | None] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    n_users: int = 0
    n_items: int = 0
    state_sha256: str = ""
    # How the settings were chosen (``Selection.as_dict``); None for fixed settings.
    selection: dict[str, Any] | None = None
    training_sha256: str = ""  # empty when no training state was kept


@dataclass(frozen=True, eq=False)
class Artifact:
    info: ArtifactInfo
    state: ModelState


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_artifact(
    store: str | Path,
    state: ModelState,
    *,
    code_version: str,
    metrics: dict[str, Any] | None = None,
    data_window: dict[str, str | None] | None = None,
    config: dict[str, Any] | None = None,
    selection: dict[str, Any] | None = None,
    training: TrainingState | None = None,
    now: datetime | None = None,
) -> ArtifactInfo:
    """Write a new version atomically and return its info (it is not promoted)."""
    state.check()
    root = Path(store)
    (root / "versions").mkdir(parents=True, exist_ok=True)
    created = (now or datetime.now(UTC)).astimezone(UTC)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        with open(tmp / STATE, "wb") as fh:
            np.savez(fh, **state.arrays())  # type: ignore[arg-type]
            fh.flush()
            os.fsync(fh.fileno())
        sha = _sha256(tmp / STATE)
        training_sha = ""
        if training is not None:
            with open(tmp / TRAINING, "wb") as fh:
                np.savez(fh, **training.arrays())  # type: ignore[arg-type]
                fh.flush()
                os.fsync(fh.fileno())
            training_sha = _sha256(tmp / TRAINING)
        version = f"{created:%Y%m%dT%H%M%S}Z-{sha[:8]}"
        suffix = 1
        while (root / "versions" / version).exists():
            # Identical training finished within the same second: still a distinct version.
            suffix += 1
            version = f"{created:%Y%m%dT%H%M%S}Z-{sha[:8]}-{suffix}"
        info = ArtifactInfo(
            version=version,
            created_at=created.isoformat(),
            code_version=code_version,
            format_version=FORMAT_VERSION,
            metrics=metrics or {},
            data_window=data_window or {},
            config=config or {},
            n_users=len(state.user_ids),
            n_items=len(state.item_ids),
            state_sha256=sha,
            selection=selection,
            training_sha256=training_sha,
        )
        with open(tmp / MANIFEST, "w", encoding="utf-8") as fh:
            json.dump(info.__dict__, fh, ensure_ascii=False, indent=2, default=str)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.rename(tmp, root / "versions" / version)
        except OSError as exc:  # a concurrent writer took the name between check and rename
            raise ArtifactError(f"cannot store version {version} in {root}: {exc}") from None
        _fsync_dir(root / "versions")
        return info
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def read_info(store: str | Path, version: str) -> ArtifactInfo:
    path = Path(store) / "versions" / version / MANIFEST
    if not path.parent.is_dir():
        raise ArtifactNotFoundError(f"no model version {version!r} in {store}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CorruptArtifactError(f"{path}: unreadable manifest ({exc})") from None
    if not isinstance(raw, dict):
        raise CorruptArtifactError(f"{path}: manifest is not a JSON object")
    if raw.get("format_version") != FORMAT_VERSION:
        raise IncompatibleArtifactError(
            f"{path}: artifact format {raw.get('format_version')!r}, this code reads "
            f"format {FORMAT_VERSION}; retrain with `portal-marketplace train`"
        )
    try:
        return ArtifactInfo(**raw)
    except TypeError as exc:
        raise CorruptArtifactError(f"{path}: unexpected manifest fields ({exc})") from None


def load_artifact(store: str | Path, version: str | None = None) -> Artifact:
    """Load a version (default: the promoted one), verifying checksum, format and shapes."""
    version = version if version is not None else promoted_version(store)
    if version is None:
        raise ArtifactNotFoundError(f"no promoted model in {store}")
    info = read_info(store, version)
    path = Path(store) / "versions" / version / STATE
    if not path.is_file():
        raise CorruptArtifactError(f"{path}: missing")
    if _sha256(path) != info.state_sha256:
        raise CorruptArtifactError(f"{path}: checksum does not match its manifest")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        state = ModelState.from_arrays(arrays)
    except DataError as exc:
        raise CorruptArtifactError(f"{path}: {exc}") from None
    except (OSError, ValueError) as exc:
        raise CorruptArtifactError(f"{path}: unreadable ({exc})") from None
    return Artifact(info, state)


def load_training_state(store: str | Path, version: str) -> TrainingState:
    """The LightFM parameters kept with a version, verified against the manifest."""
    info = read_info(store, version)
    path = Path(store) / "versions" / version / TRAINING
    if not info.training_sha256:
        raise ArtifactNotFoundError(
            f"model {version} kept no training state; train a new one with `portal-marketplace "
            "train` before refreshing"
        )
    if not path.is_file() or _sha256(path) != info.training_sha256:
        raise CorruptArtifactError(f"{path}: missing or does not match its manifest")
    try:
        with np.load(path, allow_pickle=False) as data:
            return TrainingState.from_arrays({name: data[name] for name in data.files})
    except DataError as exc:
        raise CorruptArtifactError(f"{path}: {exc}") from None
    except (OSError, ValueError) as exc:
        raise CorruptArtifactError(f"{path}: unreadable ({exc})") from None


def promoted_version(store: str | Path) -> str | None:
    pointer = Path(store) / POINTER
    try:
        text = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return text or None


def promote(store: str | Path, version: str) -> None:
    """Point serving at ``version``, after checking that it loads."""
    load_artifact(store, version)
    root = Path(store)
    fd, tmp = tempfile.mkstemp(prefix=".promote-", dir=root)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(version + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / POINTER)
    _fsync_dir(root)


def list_versions(store: str | Path) -> list[tuple[ArtifactInfo | None, str, str | None]]:
    """(info or None, version, error or None) per version, oldest first."""
    root = Path(store) / "versions"
    if not root.is_dir():
        return []
    out: list[tuple[ArtifactInfo | None, str, str | None]] = []
    for child in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            out.append((read_info(store, child.name), child.name, None))
        except ArtifactError as exc:
            out.append((None, child.name, str(exc)))
    return out
