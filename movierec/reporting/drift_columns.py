"""The columns whose distributions Evidently compares, per segment, and how each is tested.

One column per concern, each a sample of values from one window and segment (all
traffic, or one variant), in time order:

============== ============ ============================== =====================================
column         one value per  Evidently method              why this method
============== ============ ============================== =====================================
popularity_rank exposure     Wasserstein distance (normed)  thousands of values: an effect size,
                                                            not a p-value that flags any shift
genre          genre of an   Jensen-Shannon distance        the genre mix: shares of categories
               exposure
rating         rating event  χ² test (p-value)              tens of values in a few categories
clicked        request       Z-test of two proportions      CTR: clicked or not, per request
click_position click event   Kolmogorov-Smirnov (p-value)   ordinal positions, tens of values
============== ============ ============================== =====================================

The distance thresholds are Evidently's defaults for those methods (0.1). The p-value
tests share one family-wise ``alpha`` (Bonferroni: ``alpha / m`` each, ``m`` the p-value
tests the report runs), so adding segments does not add false alarms. A column with
fewer than its minimum values in either window is not compared: its check says
``insufficient_data``. Beyond ``max_values`` a column keeps a seeded random sample, in
time order, so a busy week costs bounded memory and time. Pure: no I/O, no Evidently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from movierec.reporting.drift_checks import DriftCheck, DriftThresholds, Popularity, WindowFrames

NO_GENRE = "(no genre)"
SAMPLE_SEED = 0


@dataclass(frozen=True)
class ColumnTest:
    name: str
    kind: Literal["numerical", "categorical"]
    method: str  # Evidently's stattest name
    method_name: str  # as Evidently's report names it
    unit: str  # what one value is, for the insufficient_data detail
    minimum: int  # values per window
    distance: float | None  # threshold of a distance method; None: a p-value test


def column_tests(thresholds: DriftThresholds) -> tuple[ColumnTest, ...]:
    t = thresholds
    return (
        ColumnTest("popularity_rank", "numerical", "wasserstein", "Wasserstein distance (normed)", "exposures", t.min_exposures, t.popularity_distance),
        ColumnTest("genre", "categorical", "jensenshannon", "Jensen-Shannon distance", "genre labels", t.min_exposures, t.genre_distance),
        ColumnTest("rating", "categorical", "chisquare", "chi-square p_value", "ratings", t.min_ratings, None),
        ColumnTest("clicked", "categorical", "z", "Z-test p_value", "requests", t.min_requests, None),
        ColumnTest("click_position", "numerical", "ks", "K-S p_value", "clicks", t.min_clicks, None),
    )


def column_values(frames: WindowFrames, popularity: Popularity, max_values: int) -> dict[str, pd.Series]:
    """Every column's values in one window and segment, in time order."""
    exposures = frames.exposures.sort_values("ts", kind="stable")
    requests = frames.requests.sort_values("ts", kind="stable")
    ratings = frames.feedback[frames.feedback["type"] == "rating"].sort_values("ts", kind="stable")
    clicks = frames.clicks.sort_values("ts", kind="stable")
    genres = exposures["movie_id"].map(lambda movie: popularity.genres.get(int(movie)) or (NO_GENRE,)).explode()
    columns = {
        "popularity_rank": exposures["popularity_rank"].astype(np.float64),
        "genre": genres.astype(str) if popularity.genres else pd.Series([], dtype=str),
        # Categories, not numbers: a rating is one of a few star values.
        "rating": ratings["value"].dropna().map(lambda v: f"{v:g}"),
        "clicked": requests["request_id"].isin(set(clicks["request_id"].dropna())).map({True: "yes", False: "no"}),
        "click_position": clicks["position"].dropna().astype(np.float64),
    }
    return {name: _sample_in_order(values, max_values) for name, values in columns.items()}


def _sample_in_order(values: pd.Series, limit: int) -> pd.Series:
    values = values.reset_index(drop=True)
    if len(values) <= limit:
        return values
    keep = np.sort(np.random.default_rng(SAMPLE_SEED).choice(len(values), size=limit, replace=False))
    return values.iloc[keep].reset_index(drop=True)


@dataclass(frozen=True)
class Comparison:
    """One column of one segment that Evidently compares."""

    segment: str
    test: ColumnTest
    reference: pd.Series
    current: pd.Series
    threshold: float  # a distance, or this test's share of alpha

    @property
    def column(self) -> str:
        """The column's name in Evidently's datasets and report."""
        return f"{self.segment}: {self.test.name}"


def plan(
    values: Mapping[str, tuple[Mapping[str, pd.Series], Mapping[str, pd.Series]]],
    thresholds: DriftThresholds,
    genres_known: bool,
) -> tuple[list[Comparison], list[DriftCheck]]:
    """The comparisons to run and the checks that have too little data, from
    ``values[segment] = (reference columns, current columns)``."""
    runnable: list[tuple[str, ColumnTest, pd.Series, pd.Series]] = []
    insufficient: list[DriftCheck] = []
    for segment, (reference, current) in values.items():
        for test in column_tests(thresholds):
            ref, cur = reference[test.name], current[test.name]
            if test.name == "genre" and not genres_known:
                detail = "no genres known: item popularity came from the reference window, not a model's items file"
            elif min(len(ref), len(cur)) < test.minimum:
                detail = f"needs {test.minimum} {test.unit} per window, got {len(ref)} and {len(cur)}"
            else:
                runnable.append((segment, test, ref, cur))
                continue
            insufficient.append(DriftCheck(segment, test.name, "insufficient_data", _mean(ref), _mean(cur), detail))
    p_value_tests = sum(1 for _, test, _, _ in runnable if test.distance is None)
    alpha_each = thresholds.alpha / max(1, p_value_tests)
    comparisons = [
        Comparison(segment, test, ref, cur, test.distance if test.distance is not None else alpha_each)
        for segment, test, ref, cur in runnable
    ]
    return comparisons, insufficient


@dataclass(frozen=True)
class Outcome:
    """Evidently's verdict on one comparison."""

    drifted: bool
    score: float
    description: str  # Evidently's, e.g. "Drift score is 0.49. The drift detection method is ..."


def checks_from(comparisons: Sequence[Comparison], outcomes: Mapping[str, Outcome]) -> list[DriftCheck]:
    """One check per comparison, with Evidently's outcome for its column."""
    checks = []
    for c in comparisons:
        outcome = outcomes[c.column]
        checks.append(
            DriftCheck(
                c.segment,
                c.test.name,
                "failed" if outcome.drifted else "passed",
                _mean(c.reference),
                _mean(c.current),
                outcome.description,
                c.test.method_name,
                outcome.score,
                c.threshold,
            )
        )
    return checks


def _mean(values: pd.Series) -> float | None:
    """The mean of a numeric column (the share of 'yes' for clicked); None for the others."""
    if len(values) == 0:
        return None
    if pd.api.types.is_numeric_dtype(values):
        return float(values.mean())
    if set(values.unique()) <= {"yes", "no"}:
        return float((values == "yes").mean())
    if values.map(_is_number).all():
        return float(values.astype(np.float64).mean())
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
