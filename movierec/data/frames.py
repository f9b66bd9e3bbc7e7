"""The two tables every other module speaks: ratings and movies, plus the dataset bundle.

Column names are module constants so that callers never spell them twice.

ratings: ``user_id`` (int64), ``item_id`` (int64), ``rating`` (float64),
``timestamp`` (int64, seconds since the Unix epoch).

movies: ``item_id`` (int64), ``title`` (str), ``genres`` (str, genre names joined
with ``|``, ``""`` when none), ``year`` (pandas ``Int64``, missing when unknown).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from movierec.errors import DataError

USER_ID = "user_id"
ITEM_ID = "item_id"
RATING = "rating"
TIMESTAMP = "timestamp"
TITLE = "title"
GENRES = "genres"
YEAR = "year"

RATINGS_COLUMNS: tuple[str, ...] = (USER_ID, ITEM_ID, RATING, TIMESTAMP)
MOVIES_COLUMNS: tuple[str, ...] = (ITEM_ID, TITLE, GENRES, YEAR)

RATINGS_DTYPES: dict[str, str] = {
    USER_ID: "int64",
    ITEM_ID: "int64",
    RATING: "float64",
    TIMESTAMP: "int64",
}

GENRE_SEPARATOR = "|"


@dataclass(frozen=True)
class MovieLens:
    """One MovieLens dataset, loaded: its ratings, its movies and its rating scale."""

    name: str
    ratings: pd.DataFrame
    movies: pd.DataFrame
    rating_scale: tuple[float, float]


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str = "ratings") -> None:
    """Raise DataError naming the columns of ``columns`` that ``frame`` lacks."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise DataError(
            f"{what} is missing column(s) {', '.join(missing)}; "
            f"it has {', '.join(map(str, frame.columns)) or 'no columns'}"
        )
