"""Loaders against the real MovieLens files, and against broken copies of them."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movierec.data import (
    MOVIES_COLUMNS,
    RATINGS_COLUMNS,
    MovieLens,
    load_movielens,
    load_movies,
    load_ratings,
)
from movierec.errors import DataError

RATINGS_DTYPES = {"user_id": "int64", "item_id": "int64", "rating": "float64", "timestamp": "int64"}


def _assert_frame_contract(data: MovieLens) -> None:
    assert tuple(data.ratings.columns) == RATINGS_COLUMNS
    assert {c: str(t) for c, t in data.ratings.dtypes.items()} == RATINGS_DTYPES
    assert tuple(data.movies.columns) == MOVIES_COLUMNS
    assert str(data.movies["item_id"].dtype) == "int64"
    assert str(data.movies["year"].dtype) == "Int64"
    for column in ("title", "genres"):
        assert data.movies[column].map(type).eq(str).all(), column


def test_ml100k_matches_its_published_shape(ml100k: MovieLens) -> None:
    _assert_frame_contract(ml100k)
    ratings, movies = ml100k.ratings, ml100k.movies
    assert ml100k.name == "ml-100k"
    assert ml100k.rating_scale == (1.0, 5.0)
    assert len(ratings) == 100_000
    assert ratings["user_id"].nunique() == 943
    assert ratings["item_id"].nunique() == 1_682
    assert len(movies) == 1_682 and movies["item_id"].is_unique
    assert set(ratings["rating"].unique()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert ratings["item_id"].isin(movies["item_id"]).all()
    # u.data's first line is "196\t242\t3\t881250949".
    assert ratings.iloc[0].tolist() == [196, 242, 3.0, 881250949]


def test_ml100k_movies_decode_genre_flags_and_years(ml100k: MovieLens) -> None:
    movies = ml100k.movies.set_index("item_id")
    assert movies.loc[1, "title"] == "Toy Story (1995)"
    assert movies.loc[1, "genres"] == "Animation|Children's|Comedy"
    assert movies.loc[1, "year"] == 1995
    # Item 267 has no title, date or genre (only the "unknown" flag): no genre, no year.
    assert movies.loc[267, "genres"] == ""
    assert pd.isna(movies.loc[267, "year"])
    # latin-1 titles decode to the right characters, not mojibake.
    assert movies["title"].str.contains("é").any()
    assert not movies["title"].str.contains("Ã").any()
    # Every genre name comes from u.genre; "unknown" is never kept as a genre.
    names = set(movies["genres"].str.split("|").explode()) - {""}
    assert "unknown" not in names and len(names) == 18


def test_latest_small_matches_its_published_shape(latest_small: MovieLens) -> None:
    _assert_frame_contract(latest_small)
    ratings, movies = latest_small.ratings, latest_small.movies
    assert latest_small.rating_scale == (0.5, 5.0)
    assert len(movies) == 9_742 and movies["item_id"].is_unique
    # Published: 100,836 ratings by 610 users, all of movies listed in movies.csv.
    # (The reference copy carries one extra row for a movie not in movies.csv, which
    # fetch_dataset rejects by checksum; counting known movies holds for both copies.)
    known = ratings[ratings["item_id"].isin(movies["item_id"])]
    assert len(known) == 100_836
    assert known["user_id"].nunique() == 610
    half_stars = known["rating"] * 2
    assert np.array_equal(half_stars, half_stars.round())
    assert known["rating"].between(0.5, 5.0).all()


def test_latest_small_movies_genres_and_years(latest_small: MovieLens) -> None:
    movies = latest_small.movies.set_index("item_id")
    assert movies.loc[1, "genres"] == "Adventure|Animation|Children|Comedy|Fantasy"
    assert movies.loc[1, "year"] == 1995
    assert not movies["genres"].str.contains("no genres listed", regex=False).any()
    assert (movies["genres"] == "").sum() == 34
    assert pd.isna(movies.loc[40697, "year"])  # "Babylon 5" has no year in its title
    assert movies["year"].notna().mean() > 0.99


def _copy_dataset(movielens_root: Path, name: str, destination: Path) -> Path:
    shutil.copytree(movielens_root / name, destination)
    return destination


def test_malformed_u_data_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "u.data").write_text("196\t242\t3\t881250949\n186\t302\tthree\t891717742\n")

    with pytest.raises(DataError, match=r"u\.data is not a readable MovieLens file"):
        load_ratings(tmp_path, "ml-100k")


def test_a_row_with_an_extra_field_is_an_error_not_a_shifted_row(tmp_path: Path) -> None:
    (tmp_path / "u.data").write_text("196\t242\t3\t881250949\n1\t186\t302\t3\t891717742\n")

    with pytest.raises(DataError, match=r"u\.data is not a readable MovieLens file"):
        load_ratings(tmp_path, "ml-100k")


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"ratings\.csv does not exist"):
        load_ratings(tmp_path, "ml-latest-small")


def test_csv_without_the_expected_columns_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "movies.csv").write_text("id,name\n1,Toy Story (1995)\n")

    with pytest.raises(DataError, match=r"movies\.csv is not a readable MovieLens file"):
        load_movies(tmp_path, "ml-latest-small")


def test_u_item_with_a_bad_genre_flag_names_the_file(movielens_root: Path, tmp_path: Path) -> None:
    folder = _copy_dataset(movielens_root, "ml-100k", tmp_path / "ml-100k")
    item = folder / "u.item"
    item.chmod(0o644)
    lines = item.read_bytes().split(b"\n")
    lines[0] = lines[0][:-1] + b"x"  # last genre flag of Toy Story becomes "x"
    item.write_bytes(b"\n".join(lines))

    with pytest.raises(DataError, match=r"u\.item"):
        load_movies(folder, "ml-100k")


def test_malformed_u_genre_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "u.genre").write_text("unknown|0\nAction\n")

    with pytest.raises(DataError, match=r"u\.genre, line 2"):
        load_movies(tmp_path, "ml-100k")


def test_unknown_dataset_name(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="known datasets: ml-100k, ml-latest-small"):
        load_movielens("ml-25m", tmp_path)
