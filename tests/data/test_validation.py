"""Pandera validation: the real datasets pass; each kind of bad value is reported readably."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movierec.data import MovieLens, validate_movies, validate_ratings
from movierec.errors import DataError

NOW = 1_700_000_000.0  # 2023-11-14, after every MovieLens timestamp used here


def _ratings(**columns: list) -> pd.DataFrame:
    base = {"user_id": [1, 2, 3], "item_id": [10, 20, 30], "rating": [1.0, 3.5, 5.0]}
    base["timestamp"] = [874_965_758, 964_982_703, 1_493_846_415]
    base.update(columns)
    return pd.DataFrame(base).astype(
        {"user_id": "int64", "item_id": "int64", "rating": "float64", "timestamp": "int64"}
    )


def test_real_datasets_pass(ml100k: MovieLens, latest_small: MovieLens) -> None:
    for data in (ml100k, latest_small):
        assert validate_ratings(data.ratings, data.rating_scale, NOW) is not None
        assert validate_movies(data.movies, NOW) is not None


def test_valid_frame_is_returned_unchanged() -> None:
    ratings = _ratings()

    pd.testing.assert_frame_equal(validate_ratings(ratings, (0.5, 5.0), NOW), ratings)


def test_every_failure_is_reported_with_column_check_count_and_examples() -> None:
    bad = _ratings(
        user_id=[1, -4, 1],
        item_id=[10, 20, 10],  # (1, 10) twice
        rating=[0.0, np.nan, 4.0],
        timestamp=[874_965_758, int(NOW) + 3600, 0],
    )

    with pytest.raises(DataError) as caught:
        validate_ratings(bad, (1.0, 5.0), NOW)

    message = str(caught.value)
    assert message.startswith("ratings failed validation (6 problems):")
    assert "column user_id, check greater_than(0): 1 failing row, e.g. -4 (row 1)" in message
    assert "column rating, check in_range(1.0, 5.0): 1 failing row, e.g. 0 (row 0)" in message
    assert "column rating, check not_nullable: 1 failing row" in message
    assert "column timestamp, check greater_than(0): 1 failing row, e.g. 0 (row 2)" in message
    assert f"less_than_or_equal_to({NOW}): 1 failing row, e.g. {int(NOW) + 3600} (row 1)" in message
    assert "columns user_id, item_id, check multiple_fields_uniqueness: 2 failing rows" in message
    assert "(1, 10) (row 0)" in message


def test_examples_are_capped_but_counts_are_complete() -> None:
    n = 50
    bad = pd.DataFrame(
        {
            "user_id": np.arange(1, n + 1, dtype="int64"),
            "item_id": np.ones(n, dtype="int64"),
            "rating": np.full(n, 7.0),
            "timestamp": np.full(n, 874_965_758, dtype="int64"),
        }
    )

    with pytest.raises(DataError, match=r"in_range\(1.0, 5.0\): 50 failing rows") as caught:
        validate_ratings(bad, (1.0, 5.0), NOW)

    assert str(caught.value).count("(row ") == 5


def test_missing_column_and_wrong_dtype() -> None:
    bad = _ratings().drop(columns="timestamp").astype({"user_id": "float64"})

    with pytest.raises(DataError) as caught:
        validate_ratings(bad, (1.0, 5.0), NOW)

    message = str(caught.value)
    assert "missing column(s): timestamp" in message
    assert "column user_id, check dtype('int64'): failed with float64" in message


def test_bad_movies_are_reported() -> None:
    movies = pd.DataFrame(
        {
            "item_id": pd.Series([1, 1, 3], dtype="int64"),
            "title": ["Toy Story (1995)", "Jumanji (1995)", "Future Film (2150)"],
            "genres": ["Animation|Comedy", "|Adventure", ""],
            "year": pd.array([1995, 1995, 2150], dtype="Int64"),
        }
    )

    with pytest.raises(DataError) as caught:
        validate_movies(movies, NOW)

    message = str(caught.value)
    assert message.startswith("movies failed validation (3 problems):")
    assert "column item_id, check field_uniqueness: 2 failing rows" in message
    assert "column genres" in message and "|Adventure (row 1)" in message
    assert (
        "column year, check less_than_or_equal_to(2024): 1 failing row, e.g. 2150 (row 2)"
        in message
    )
