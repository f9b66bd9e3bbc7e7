"""Turn raw ratings into a table models can train on, and say what was removed and why."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from movierec.data.frames import (
    ITEM_ID,
    RATING,
    RATINGS_COLUMNS,
    TIMESTAMP,
    USER_ID,
    require_columns,
)
from movierec.errors import DataError


@dataclass
class CleaningReport:
    """Row and entity counts of one :func:`clean_ratings` run.

    ``users_removed`` and ``items_removed`` count distinct ids present in the input
    and absent from the output, whichever filter removed their last rating.
    """

    input_rows: int
    duplicates_dropped: int
    out_of_range_dropped: int
    min_count_dropped: int
    unknown_movie_dropped: int
    users_removed: int
    items_removed: int
    output_rows: int
    # (user_id, item_id) of the first ratings of movies missing from the catalogue
    unknown_movie_examples: tuple[tuple[int, int], ...] = ()

    @property
    def dropped_rows(self) -> int:
        return self.input_rows - self.output_rows

    def summary(self) -> str:
        """One line: how many rows were dropped and why."""
        parts = [
            f"{self.duplicates_dropped} duplicate",
            f"{self.out_of_range_dropped} out of the rating scale",
            f"{self.unknown_movie_dropped} of movies missing from the catalogue"
            + (f" (user, movie: {', '.join(map(str, self.unknown_movie_examples))})" if self.unknown_movie_examples else ""),
            f"{self.min_count_dropped} under the minimum counts",
        ]
        return f"cleaning dropped {self.dropped_rows} of {self.input_rows} rows: " + ", ".join(parts)


def clean_ratings(
    ratings: pd.DataFrame,
    *,
    rating_scale: tuple[float, float],
    min_user_ratings: int = 1,
    min_item_ratings: int = 1,
    known_items: np.ndarray | pd.Series | None = None,
) -> tuple[pd.DataFrame, CleaningReport]:
    """Deduplicate, range-filter and core-filter ``ratings``; the original index is kept.

    1. Each (user, item) pair keeps its latest rating (highest timestamp; among equal
       timestamps the one that comes last in the input).
    2. Ratings outside ``rating_scale`` (inclusive) or missing are dropped, and so are
       ratings of movies absent from ``known_items`` (the catalogue) when it is given:
       a movie without a title cannot be shown.
    3. Users with fewer than ``min_user_ratings`` ratings and items with fewer than
       ``min_item_ratings`` are dropped, repeatedly, since removing one can push the
       other below its minimum, until every remaining user and item meets its minimum
       (the "k-core" of the rating graph).

    Raises DataError when the input is empty, lacks a column, or a step empties it.
    """
    require_columns(ratings, RATINGS_COLUMNS)
    low, high = rating_scale
    if not low < high:
        raise ValueError(f"rating_scale must be (low, high) with low < high, got {rating_scale}")
    if min_user_ratings < 1 or min_item_ratings < 1:
        raise ValueError(
            "min_user_ratings and min_item_ratings must be at least 1, "
            f"got {min_user_ratings} and {min_item_ratings}"
        )
    if ratings.empty:
        raise DataError("there are no ratings to clean: the ratings table is empty")

    deduplicated = _keep_latest(ratings)  # never empty: every pair keeps one row

    in_range = deduplicated[RATING].between(low, high)  # NaN compares False
    ranged = deduplicated[in_range.to_numpy()]
    catalogued = np.ones(len(ranged), dtype=bool)
    if known_items is not None:
        catalogued = ranged[ITEM_ID].isin(np.asarray(known_items)).to_numpy()
    scaled, orphans = ranged[catalogued], ranged[~catalogued]
    if scaled.empty:
        raise DataError(
            f"every rating is missing or outside the rating scale [{low}, {high}]; "
            "is the scale right for this dataset?"
        )

    cored = _k_core(scaled, min_user_ratings, min_item_ratings)
    if cored.empty:
        raise DataError(
            f"no user/item is left with min_user_ratings={min_user_ratings} and "
            f"min_item_ratings={min_item_ratings} ({len(scaled)} ratings before that filter); "
            "lower the minimums"
        )

    report = CleaningReport(
        input_rows=len(ratings),
        duplicates_dropped=len(ratings) - len(deduplicated),
        out_of_range_dropped=len(deduplicated) - len(ranged),
        unknown_movie_dropped=len(ranged) - len(scaled),
        min_count_dropped=len(scaled) - len(cored),
        users_removed=ratings[USER_ID].nunique() - cored[USER_ID].nunique(),
        items_removed=ratings[ITEM_ID].nunique() - cored[ITEM_ID].nunique(),
        output_rows=len(cored),
        unknown_movie_examples=tuple(
            (int(u), int(i)) for u, i in orphans[[USER_ID, ITEM_ID]].head(_EXAMPLES).itertuples(index=False)
        ),
    )
    return cored, report


_EXAMPLES = 5


def _keep_latest(ratings: pd.DataFrame) -> pd.DataFrame:
    """One row per (user, item): the latest, ties going to the later row; input order kept."""
    # Work on positions, not labels: the caller's index may be anything, even non-unique.
    by_time = np.argsort(ratings[TIMESTAMP].to_numpy(), kind="stable")
    keys = ratings[[USER_ID, ITEM_ID]].iloc[by_time]
    latest = by_time[~keys.duplicated(keep="last").to_numpy()]
    return ratings.iloc[np.sort(latest)]


def _k_core(ratings: pd.DataFrame, min_user: int, min_item: int) -> pd.DataFrame:
    """Largest subset where every user has >= min_user and every item >= min_item ratings."""
    users = ratings[USER_ID].to_numpy()
    items = ratings[ITEM_ID].to_numpy()
    keep = np.ones(len(ratings), dtype=bool)
    while True:
        user_counts = pd.Series(users[keep]).value_counts()
        item_counts = pd.Series(items[keep]).value_counts()
        enough = (
            keep
            & (pd.Series(users).map(user_counts).fillna(0).to_numpy() >= min_user)
            & (pd.Series(items).map(item_counts).fillna(0).to_numpy() >= min_item)
        )
        if (enough == keep).all():
            return ratings[keep]
        keep = enough
