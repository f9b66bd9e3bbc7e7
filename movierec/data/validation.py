"""Declarative checks of the ratings and movies frames (pandera), reported all at once.

Validation is lazy: every failing check is collected, then one DataError lists each
(column, check) with its number of failing rows and a few examples, so a user fixes
a file in one pass instead of one traceback at a time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from movierec.data.frames import GENRES, ITEM_ID, RATING, TIMESTAMP, TITLE, USER_ID, YEAR
from movierec.errors import DataError

_EXAMPLES = 5
# "Roundhay Garden Scene" (1888) is the oldest surviving film; allow some slack.
_FIRST_FILM_YEAR = 1870
# Genre names joined by "|": no empty names, no leading/trailing separator; "" = none.
_GENRES_PATTERN = r"^([^|]+(\|[^|]+)*)?$"


def ratings_schema(rating_scale: tuple[float, float], now: float) -> pa.DataFrameSchema:
    """Schema of a clean ratings frame: positive int64 ids, ratings within ``rating_scale``,
    timestamps in (0, ``now``] epoch seconds, at most one rating per (user, item)."""
    low, high = rating_scale
    return pa.DataFrameSchema(
        {
            USER_ID: pa.Column("int64", pa.Check.gt(0)),
            ITEM_ID: pa.Column("int64", pa.Check.gt(0)),
            RATING: pa.Column("float64", pa.Check.in_range(low, high)),
            TIMESTAMP: pa.Column("int64", [pa.Check.gt(0), pa.Check.le(now)]),
        },
        unique=[USER_ID, ITEM_ID],
        name="ratings",
    )


def movies_schema(now: float | None = None) -> pa.DataFrameSchema:
    """Schema of a movies frame; years must be >= 1870 and, given ``now``, not beyond next year."""
    year_checks = [pa.Check.ge(_FIRST_FILM_YEAR)]
    if now is not None:
        next_year = dt.datetime.fromtimestamp(now, tz=dt.timezone.utc).year + 1
        year_checks.append(pa.Check.le(next_year))
    return pa.DataFrameSchema(
        {
            ITEM_ID: pa.Column("int64", pa.Check.gt(0), unique=True),
            TITLE: pa.Column(str),
            GENRES: pa.Column(str, pa.Check.str_matches(_GENRES_PATTERN)),
            YEAR: pa.Column("Int64", year_checks, nullable=True),
        },
        name="movies",
    )


def validate_ratings(
    df: pd.DataFrame, rating_scale: tuple[float, float], now: float
) -> pd.DataFrame:
    """Return ``df`` unchanged if it passes :func:`ratings_schema`, else raise DataError."""
    return _validate(ratings_schema(rating_scale, now), df)


def validate_movies(df: pd.DataFrame, now: float | None = None) -> pd.DataFrame:
    """Return ``df`` unchanged if it passes :func:`movies_schema`, else raise DataError."""
    return _validate(movies_schema(now), df)


def _validate(schema: pa.DataFrameSchema, df: pd.DataFrame) -> pd.DataFrame:
    try:
        return schema.validate(df, lazy=True)
    except SchemaErrors as errors:
        raise DataError(format_failures(str(schema.name), errors.failure_cases)) from errors


def format_failures(what: str, failure_cases: pd.DataFrame) -> str:
    """One readable line per failed (column, check) of pandera's ``failure_cases`` table."""
    problems: list[str] = []
    table_level = failure_cases["schema_context"] == "DataFrameSchema"
    for check, group in failure_cases[table_level].groupby("check", sort=False):
        if check == "column_in_dataframe":
            missing = ", ".join(map(str, group["failure_case"]))
            problems.append(f"missing column(s): {missing}")
            continue
        # A table-level check lists each failing row once per column: regroup by row.
        columns = list(dict.fromkeys(group["column"]))
        rows = group.groupby("index", sort=False, dropna=False)["failure_case"].agg(tuple)
        examples = ", ".join(
            f"{_show(v)} (row {_show(i)})" for i, v in rows.head(_EXAMPLES).items()
        )
        problems.append(
            f"columns {', '.join(columns)}, check {check}: {_rows(len(rows))}, e.g. {examples}"
        )
    for (column, column_check), group in failure_cases[~table_level].groupby(
        ["column", "check"], sort=False
    ):
        if group["index"].isna().all():  # a whole-column failure such as a wrong dtype
            found = ", ".join(map(_show, group["failure_case"]))
            problems.append(f"column {column}, check {column_check}: failed with {found}")
            continue
        head = group.head(_EXAMPLES)
        examples = ", ".join(
            f"{_show(v)} (row {_show(i)})"
            for v, i in zip(head["failure_case"], head["index"], strict=True)
        )
        problems.append(f"column {column}, check {column_check}: {_rows(len(group))}, e.g. {examples}")
    lines = "\n".join(f"  - {problem}" for problem in problems)
    count = f"{len(problems)} problem{'' if len(problems) == 1 else 's'}"
    return f"{what} failed validation ({count}):\n{lines}"


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(map(_show, value)) + ")"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows(count: int) -> str:
    return f"{count} failing row{'' if count == 1 else 's'}"
