"""Read the recommender's CSV forms with errors that name the file, line and column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from recommender.columns import Columns
from recommender.errors import DataError

ID_COLUMNS = (Columns.User, Columns.Item, Columns.Feature)


def read_csv(path: str | Path, required: tuple[str, ...]) -> pd.DataFrame:
    """Read a CSV whose id columns stay strings; row labels are the file's line numbers.

    Errors raised later by ``Dataset.construct`` say "at row N": with this index N is the line
    in the file (the header is line 1).
    """
    path = Path(path)
    try:
        frame = pd.read_csv(
            path,
            dtype={c: str for c in ID_COLUMNS},
            keep_default_na=False,
            na_values={Columns.Weight: [""], Columns.Value: [""]},
            skipinitialspace=True,
        )
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV ({str(exc).strip()})") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: missing column {missing[0]!r} (have {', '.join(map(str, frame.columns))})"
        )
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    return frame
