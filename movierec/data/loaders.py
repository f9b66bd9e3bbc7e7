"""Parse MovieLens files into the ratings and movies frames of :mod:`movierec.data.frames`.

Two on-disk layouts exist: ml-100k (``u.data`` tab-separated without header;
``u.item`` ``|``-separated latin-1 with one 0/1 flag per genre of ``u.genre``) and the
"latest" CSV layout (``ratings.csv``, ``movies.csv`` with ``|``-joined genres). These
functions only parse: checksums are :func:`movierec.data.fetch.fetch_dataset`'s job,
value checks are :mod:`movierec.data.validation`'s.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pandas as pd

from movierec.data.frames import (
    GENRE_SEPARATOR,
    GENRES,
    ITEM_ID,
    RATING,
    RATINGS_COLUMNS,
    RATINGS_DTYPES,
    TIMESTAMP,
    TITLE,
    USER_ID,
    YEAR,
    MovieLens,
)
from movierec.data.registry import dataset_spec
from movierec.errors import DataError

T = TypeVar("T")

# A four-digit year in parentheses closing a title: "Toy Story (1995)".
_TITLE_YEAR = r"\((\d{4})\)\s*$"
# ml-100k flags "unknown" as a genre; it means "no genre", like latest's placeholder.
_NO_GENRE_100K = "unknown"
_NO_GENRE_LATEST = "(no genres listed)"
_ML100K_ITEM_FIELDS = ("item_id", "title", "release_date", "video_release_date", "imdb_url")


def load_movielens(name: str, path: Path) -> MovieLens:
    """Load dataset ``name`` from its unpacked folder ``path`` (see ``fetch_dataset``)."""
    spec = dataset_spec(name)
    return MovieLens(
        name=spec.name,
        ratings=load_ratings(path, name),
        movies=load_movies(path, name),
        rating_scale=spec.rating_scale,
    )


def load_ratings(path: Path, name: str) -> pd.DataFrame:
    """The ratings of dataset ``name`` stored in folder ``path``, in file order."""
    if dataset_spec(name).layout == "100k":
        file = Path(path) / "u.data"
        return _parse(
            file,
            lambda: pd.read_csv(
                file,
                sep="\t",
                header=None,
                names=list(RATINGS_COLUMNS),
                index_col=False,
                dtype=RATINGS_DTYPES,
            ),
        )
    file = Path(path) / "ratings.csv"
    raw = _parse(
        file,
        lambda: pd.read_csv(
            file,
            usecols=["userId", "movieId", "rating", "timestamp"],
            dtype={
                "userId": "int64",
                "movieId": "int64",
                "rating": "float64",
                "timestamp": "int64",
            },
        ),
    )
    ratings = raw.rename(columns={"userId": USER_ID, "movieId": ITEM_ID})
    return ratings[[USER_ID, ITEM_ID, RATING, TIMESTAMP]]


def load_movies(path: Path, name: str) -> pd.DataFrame:
    """The movies of dataset ``name`` stored in folder ``path``, in file order."""
    if dataset_spec(name).layout == "100k":
        return _load_movies_100k(Path(path))
    return _load_movies_latest(Path(path))


def _load_movies_100k(folder: Path) -> pd.DataFrame:
    genre_names = _read_genres_100k(folder / "u.genre")
    file = folder / "u.item"
    fields = [*_ML100K_ITEM_FIELDS, *genre_names]
    raw = _parse(
        file,
        lambda: pd.read_csv(
            file,
            sep="|",
            header=None,
            names=fields,
            index_col=False,
            dtype=str,
            encoding="latin-1",
            keep_default_na=False,
        ),
    )
    flags = _parse(file, lambda: raw[genre_names].astype("int64"))
    if not flags.isin([0, 1]).all().all():
        raise DataError(f"{file}: genre flags must be 0 or 1")
    names = [genre for genre in genre_names if genre != _NO_GENRE_100K]
    genres = [
        GENRE_SEPARATOR.join(genre for genre, flag in zip(names, row, strict=True) if flag)
        for row in flags[names].to_numpy(dtype=bool)
    ]
    # The release date ("01-Jan-1995") ends with the year; a few movies lack one,
    # then the title's "(1995)" is the next best source.
    year = raw["release_date"].str.extract(r"(\d{4})\s*$", expand=False)
    year = year.fillna(raw["title"].str.extract(_TITLE_YEAR, expand=False))
    return pd.DataFrame(
        {
            ITEM_ID: _parse(file, lambda: raw["item_id"].astype("int64")),
            TITLE: raw["title"].astype(str),
            GENRES: pd.Series(genres, index=raw.index, dtype=str),
            YEAR: year.astype("Int64"),
        }
    )


def _read_genres_100k(file: Path) -> list[str]:
    """Genre names of ``u.genre`` ("Action|1" lines) ordered by their flag column."""
    lines = _parse(file, lambda: file.read_text(encoding="latin-1").splitlines())
    by_index: dict[int, str] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        genre, separator, index = line.rpartition("|")
        if not separator or not genre or not index.strip().isdigit():
            raise DataError(f"{file}, line {number}: expected 'Genre|index', got {line!r}")
        by_index[int(index)] = genre
    if sorted(by_index) != list(range(len(by_index))) or not by_index:
        raise DataError(f"{file}: genre indexes must be 0..n-1, got {sorted(by_index)}")
    return [by_index[i] for i in range(len(by_index))]


def _load_movies_latest(folder: Path) -> pd.DataFrame:
    file = folder / "movies.csv"
    raw = _parse(
        file,
        lambda: pd.read_csv(
            file, usecols=["movieId", "title", "genres"], dtype=str, keep_default_na=False
        ),
    )
    titles = raw["title"].str.strip()
    return pd.DataFrame(
        {
            ITEM_ID: _parse(file, lambda: raw["movieId"].astype("int64")),
            TITLE: titles.astype(str),
            GENRES: raw["genres"].replace(_NO_GENRE_LATEST, "").astype(str),
            YEAR: titles.str.extract(_TITLE_YEAR, expand=False).astype("Int64"),
        }
    )


def _parse(file: Path, read: Callable[[], T]) -> T:
    """Run ``read``, turning any parse or I/O failure into a DataError naming ``file``."""
    try:
        with warnings.catch_warnings():
            # A row with extra fields only warns (and loses data): make it an error.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return read()
    except FileNotFoundError:
        raise DataError(f"{file} does not exist; is this the unpacked MovieLens folder?") from None
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserWarning) as error:
        # pandas' ParserError and EmptyDataError are ValueErrors.
        raise DataError(f"{file} is not a readable MovieLens file: {error}") from error
