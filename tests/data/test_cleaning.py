"""clean_ratings on small tables whose right answer is obvious, and on ml-100k."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movierec.data import CleaningReport, MovieLens, clean_ratings
from movierec.errors import DataError

SCALE = (1.0, 5.0)


def _ratings(
    rows: list[tuple[int, int, float, int]], index: list[int] | None = None
) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"], index=index)
    return frame.astype(
        {"user_id": "int64", "item_id": "int64", "rating": "float64", "timestamp": "int64"}
    )


def test_duplicates_keep_the_latest_rating_and_the_original_index() -> None:
    ratings = _ratings(
        [
            (1, 10, 2.0, 200),  # superseded by the later rating below
            (1, 11, 3.0, 100),
            (1, 10, 4.0, 300),
            (2, 10, 1.0, 50),  # tie on timestamp: the later row wins
            (2, 10, 5.0, 50),
        ],
        index=[70, 71, 72, 73, 74],
    )

    cleaned, report = clean_ratings(ratings, rating_scale=SCALE)

    assert cleaned.index.tolist() == [71, 72, 74]
    assert cleaned["rating"].tolist() == [3.0, 4.0, 5.0]
    assert report == CleaningReport(
        input_rows=5,
        duplicates_dropped=2,
        out_of_range_dropped=0,
        min_count_dropped=0,
        unknown_movie_dropped=0,
        users_removed=0,
        items_removed=0,
        output_rows=3,
    )


def test_ratings_of_movies_missing_from_the_catalogue_are_dropped(latest_small) -> None:
    # The shared latest-small copy carries one rating (user 999, movie 999999) whose movie
    # is not in movies.csv: it must not reach training, where it would have no title.
    cleaned, report = clean_ratings(
        latest_small.ratings, rating_scale=latest_small.rating_scale, known_items=latest_small.movies["item_id"]
    )
    orphans = (~latest_small.ratings["item_id"].isin(latest_small.movies["item_id"])).sum()
    assert report.unknown_movie_dropped == orphans
    assert cleaned["item_id"].isin(latest_small.movies["item_id"]).all()
    assert len(cleaned) == len(latest_small.ratings) - orphans


def test_ratings_outside_the_scale_or_missing_are_dropped() -> None:
    ratings = _ratings(
        [(1, 1, 0.5, 1), (1, 2, 1.0, 1), (1, 3, 5.0, 1), (1, 4, 5.5, 1), (2, 1, np.nan, 1)]
    )

    cleaned, report = clean_ratings(ratings, rating_scale=SCALE)

    assert cleaned["item_id"].tolist() == [2, 3]  # the bounds are inclusive
    assert report.out_of_range_dropped == 3
    assert report.users_removed == 1  # user 2's only rating was missing
    assert report.items_removed == 2  # items 1 and 4


def test_min_counts_are_applied_until_stable() -> None:
    # Users 1-3 rate items 1-2 (a 2-core). User 4 rates items 2 and 3; item 3 has one
    # rating, so it goes, then user 4 has one rating left and goes in a second round.
    rows = [(u, i, 4.0, 1) for u in (1, 2, 3) for i in (1, 2)] + [(4, 2, 4.0, 1), (4, 3, 4.0, 1)]
    ratings = _ratings(rows)

    cleaned, report = clean_ratings(ratings, rating_scale=SCALE, min_user_ratings=2, min_item_ratings=2)

    assert sorted(cleaned["user_id"].unique()) == [1, 2, 3]
    assert sorted(cleaned["item_id"].unique()) == [1, 2]
    assert report.min_count_dropped == 2
    assert (report.users_removed, report.items_removed) == (1, 1)


def test_ml100k_core_meets_both_minimums_and_the_report_adds_up(ml100k: MovieLens) -> None:
    cleaned, report = clean_ratings(
        ml100k.ratings, rating_scale=ml100k.rating_scale, min_user_ratings=50, min_item_ratings=50
    )

    assert cleaned["user_id"].value_counts().min() >= 50
    assert cleaned["item_id"].value_counts().min() >= 50
    assert report.input_rows == 100_000
    assert report.duplicates_dropped == report.out_of_range_dropped == 0
    assert report.output_rows == len(cleaned) == report.input_rows - report.min_count_dropped
    assert report.users_removed == 943 - cleaned["user_id"].nunique()
    assert report.items_removed == 1_682 - cleaned["item_id"].nunique()
    assert cleaned.index.isin(ml100k.ratings.index).all()
    # Nothing dropped that could have stayed: a rating whose user and item both
    # survive only adds to their counts, so the core keeps it.
    removed = ml100k.ratings.drop(cleaned.index)
    assert not (
        removed["user_id"].isin(cleaned["user_id"]) & removed["item_id"].isin(cleaned["item_id"])
    ).any()


def test_empty_results_say_which_filter_emptied_them() -> None:
    ratings = _ratings([(1, 1, 4.0, 1), (2, 2, 9.0, 1)])

    with pytest.raises(DataError, match="ratings table is empty"):
        clean_ratings(ratings.iloc[:0], rating_scale=SCALE)
    with pytest.raises(DataError, match=r"outside the rating scale \[1.0, 5.0\]"):
        clean_ratings(ratings.iloc[1:], rating_scale=SCALE)
    with pytest.raises(DataError, match="min_user_ratings=2"):
        clean_ratings(ratings, rating_scale=SCALE, min_user_ratings=2)


def test_missing_column_and_bad_arguments() -> None:
    ratings = _ratings([(1, 1, 4.0, 1)])

    with pytest.raises(DataError, match=r"missing column.*timestamp"):
        clean_ratings(ratings.drop(columns="timestamp"), rating_scale=SCALE)
    with pytest.raises(ValueError, match="at least 1"):
        clean_ratings(ratings, rating_scale=SCALE, min_item_ratings=0)
    with pytest.raises(ValueError, match="low < high"):
        clean_ratings(ratings, rating_scale=(5.0, 1.0))
