r"""Recommendation drift: what was served and how users reacted, now versus a reference window.

Inputs are the rows of the event log (``impressions``: the ranked ``movie_ids`` of each
request; ``feedback``: clicks and ratings) of two time windows, plus the popularity
(and genres) of every catalogue item: training interactions from the live model
artifact, or exposures in the reference window. No I/O here:
:mod:`movierec.reporting.drift` reads the events and writes the reports.

Everything is computed per *segment*: all traffic (``"all"``) and each variant.

Per window and segment (:class:`WindowSummary`):

- *popularity rank* of each recommended item, 1 = most popular (ties share their mean
  rank; items outside the catalogue rank :math:`n+1`), and its mean over all exposures;
- *Gini coefficient of exposure* over the :math:`n` catalogue items, with exposure counts
  sorted ascending :math:`x_{(1)} \le \dots \le x_{(n)}`:
  :math:`G = \frac{\sum_{i=1}^{n} (2i - n - 1)\, x_{(i)}}{n \sum_i x_i}`,
  0 when every item is shown equally often, :math:`1 - 1/n` when one item takes all;
- *catalogue coverage*: distinct recommended items / :math:`n`;
- ratings (count, mean) and CTR: click events / requests, as in the A/B analysis.

Two of the drift tests are thresholds on these numbers (:func:`threshold_checks`):
Gini of exposure up by more than ``gini_increase``, catalogue coverage down by more
than ``coverage_drop`` (relative). The distribution tests (popularity ranks, genre mix,
ratings, clicks) are Evidently's (:mod:`movierec.reporting.drift_columns`,
:mod:`movierec.reporting.drift_evidently`).

A window with too few events gives a check with ``status="insufficient_data"``, never
a pass: an empty week is a different alarm (the CTR/traffic alerts of the A/B job), and
a report whose every check lacks data says "insufficient data", not "no drift".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from movierec.errors import DataError

CheckStatus = Literal["passed", "failed", "insufficient_data"]
Verdict = Literal["drift", "no drift", "insufficient data"]
ALL = "all"  # the segment of all traffic, beside one segment per variant


# --------------------------------------------------------------------------- popularity
@dataclass(frozen=True)
class Popularity:
    """Interaction counts of the catalogue items, their genres, and where they came from."""

    item_ids: np.ndarray  # int64, unique
    counts: np.ndarray  # float64, same length
    source: str
    genres: Mapping[int, tuple[str, ...]] = field(default_factory=dict)  # empty: unknown

    def __post_init__(self) -> None:
        if len(self.item_ids) == 0 or len(self.item_ids) != len(self.counts):
            raise DataError(f"popularity needs one count per catalogue item, got {len(self.item_ids)} ids and {len(self.counts)} counts")

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def ranks(self, movie_ids: np.ndarray) -> np.ndarray:
        """Popularity rank of each movie (1 = most popular); unknown movies rank n + 1."""
        rank_of = rankdata(-self.counts, method="average")
        order = np.argsort(self.item_ids)
        sorted_ids = self.item_ids[order]
        pos = np.searchsorted(sorted_ids, movie_ids)
        pos = np.clip(pos, 0, len(sorted_ids) - 1)
        known = sorted_ids[pos] == movie_ids
        return np.where(known, rank_of[order][pos], self.n_items + 1.0)

    @classmethod
    def from_impressions(cls, impressions: Iterable[Mapping[str, Any]]) -> Popularity:
        """Exposure counts of a (reference) window, when no model artifact is at hand.

        A fallback: ranks estimated from the reference sample fit that sample, and items
        it never showed rank last, so the tests lean toward flagging drift. No genres
        are known this way. Prefer the live artifact's ``item_popularity``.
        """
        ids, counts = np.unique(
            np.fromiter((int(m) for row in impressions for m in row["movie_ids"]), dtype=np.int64), return_counts=True
        )
        if len(ids) == 0:
            raise DataError("no impressions in the reference window to estimate item popularity from")
        return cls(ids, counts.astype(np.float64), "reference-window exposures")


# --------------------------------------------------------------------------- frames
def exposure_frame(impressions: Iterable[Mapping[str, Any]], popularity: Popularity) -> pd.DataFrame:
    """One row per recommended item: ts (UTC), request_id, variant, movie_id, position, popularity_rank."""
    rows = [
        (row["ts"], row["request_id"], row["variant"], int(movie_id), position)
        for row in impressions
        for position, movie_id in enumerate(row["movie_ids"], start=1)
    ]
    frame = pd.DataFrame(rows, columns=["ts", "request_id", "variant", "movie_id", "position"])
    frame["ts"] = pd.to_datetime(frame["ts"].astype(np.float64), unit="s", utc=True)
    frame["movie_id"] = frame["movie_id"].astype(np.int64)
    frame["popularity_rank"] = popularity.ranks(frame["movie_id"].to_numpy())
    return frame


def request_frame(impressions: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per request: ts (UTC), request_id, variant."""
    frame = pd.DataFrame(
        [(row["ts"], row["request_id"], row["variant"]) for row in impressions], columns=["ts", "request_id", "variant"]
    )
    frame["ts"] = pd.to_datetime(frame["ts"].astype(np.float64), unit="s", utc=True)
    return frame


def feedback_frame(feedback: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per feedback event: ts (UTC), request_id, variant, type, value, position."""
    frame = pd.DataFrame(
        [(r["ts"], r.get("request_id"), r["variant"], r["type"], r.get("value"), r.get("position")) for r in feedback],
        columns=["ts", "request_id", "variant", "type", "value", "position"],
    )
    frame["ts"] = pd.to_datetime(frame["ts"].astype(np.float64), unit="s", utc=True)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(np.float64)
    frame["position"] = pd.to_numeric(frame["position"], errors="coerce").astype(np.float64)
    return frame


@dataclass(frozen=True)
class WindowFrames:
    """The events of one window (and one segment) as frames."""

    start: float
    end: float
    requests: pd.DataFrame
    exposures: pd.DataFrame
    feedback: pd.DataFrame

    @classmethod
    def from_rows(cls, rows: Mapping[str, list[dict[str, Any]]], window: tuple[float, float], popularity: Popularity) -> WindowFrames:
        return cls(window[0], window[1], request_frame(rows["impressions"]),
                   exposure_frame(rows["impressions"], popularity), feedback_frame(rows["feedback"]))

    @property
    def variants(self) -> set[str]:
        return set(self.requests["variant"]) | set(self.feedback["variant"])

    def segment(self, segment: str) -> WindowFrames:
        """The events of one variant (``ALL``: every event)."""
        if segment == ALL:
            return self
        return WindowFrames(
            self.start,
            self.end,
            *(frame[frame["variant"] == segment] for frame in (self.requests, self.exposures, self.feedback)),
        )

    @property
    def ratings(self) -> pd.Series:
        return self.feedback.loc[self.feedback["type"] == "rating", "value"].dropna()

    @property
    def clicks(self) -> pd.DataFrame:
        return self.feedback[self.feedback["type"] == "click"]


def segments(reference: WindowFrames, current: WindowFrames) -> list[str]:
    """All traffic first, then every variant seen in either window."""
    return [ALL, *sorted(reference.variants | current.variants)]


# --------------------------------------------------------------------------- summaries
def gini(counts: np.ndarray) -> float:
    """Gini coefficient of non-negative counts (see the module docstring); 0 for all zeros."""
    x = np.sort(np.asarray(counts, dtype=np.float64))
    n, total = len(x), x.sum()
    if n == 0 or total == 0:
        return 0.0
    i = np.arange(1, n + 1)
    return float(np.sum((2 * i - n - 1) * x) / (n * total))


@dataclass(frozen=True)
class WindowSummary:
    start: float
    end: float
    requests: int
    exposures: int
    mean_popularity_rank: float | None
    gini: float | None
    coverage: float | None
    ratings: int
    mean_rating: float | None
    clicks: int

    @property
    def ctr(self) -> float | None:
        return self.clicks / self.requests if self.requests else None


def summarize(frames: WindowFrames, popularity: Popularity) -> WindowSummary:
    """The window's popularity bias, exposure concentration, coverage, ratings and CTR."""
    exposures = frames.exposures
    exposed = len(exposures)
    in_catalogue = exposures["movie_id"][np.isin(exposures["movie_id"], popularity.item_ids)]
    counts = in_catalogue.value_counts().reindex(popularity.item_ids, fill_value=0).to_numpy()
    ratings = frames.ratings
    return WindowSummary(
        start=frames.start,
        end=frames.end,
        requests=len(frames.requests),
        exposures=exposed,
        mean_popularity_rank=float(exposures["popularity_rank"].mean()) if exposed else None,
        gini=gini(counts) if exposed else None,
        coverage=float(in_catalogue.nunique() / popularity.n_items) if exposed else None,
        ratings=len(ratings),
        mean_rating=float(ratings.mean()) if len(ratings) else None,
        clicks=len(frames.clicks),
    )


# --------------------------------------------------------------------------- checks
@dataclass(frozen=True)
class DriftThresholds:
    gini_increase: float = 0.05  # absolute
    coverage_drop: float = 0.25  # relative to the reference coverage
    # Distances Evidently compares with (its own defaults for these methods).
    popularity_distance: float = 0.1  # Wasserstein distance normed by the reference's std
    genre_distance: float = 0.1  # Jensen-Shannon distance of the genre shares
    alpha: float = 0.05  # family-wise, split over the report's p-value tests (Bonferroni)
    # Values per window and segment below which a test reports insufficient_data.
    min_exposures: int = 1000  # popularity ranks, genres, Gini, coverage
    min_requests: int = 200  # clicked-or-not per request
    min_ratings: int = 50
    min_clicks: int = 30  # positions of the clicked items
    max_values: int = 50_000  # per column: a seeded sample in time order beyond it


@dataclass(frozen=True)
class DriftCheck:
    segment: str
    name: str
    status: CheckStatus
    reference: float | None
    current: float | None
    detail: str
    method: str = ""  # how it was decided, e.g. Evidently's "Wasserstein distance (normed)"
    score: float | None = None
    threshold: float | None = None

    @property
    def failed(self) -> bool:
        return self.status == "failed"


def verdict(checks: Iterable[DriftCheck]) -> Verdict:
    """'drift' when a check failed; 'insufficient data' when none had data to decide."""
    statuses = {c.status for c in checks}
    if "failed" in statuses:
        return "drift"
    return "no drift" if "passed" in statuses else "insufficient data"


def threshold_checks(segment: str, reference: WindowSummary, current: WindowSummary, thresholds: DriftThresholds) -> list[DriftCheck]:
    """Gini of exposure and catalogue coverage against their allowed change."""
    if min(reference.exposures, current.exposures) < thresholds.min_exposures:
        detail = f"needs {thresholds.min_exposures} exposures per window, got {reference.exposures} and {current.exposures}"
        return [
            DriftCheck(segment, "gini_of_exposure", "insufficient_data", reference.gini, current.gini, detail),
            DriftCheck(segment, "catalogue_coverage", "insufficient_data", reference.coverage, current.coverage, detail),
        ]
    assert reference.gini is not None and current.gini is not None
    assert reference.coverage is not None and current.coverage is not None
    gini_up = current.gini - reference.gini
    coverage_drop = 1 - current.coverage / reference.coverage if reference.coverage else 0.0
    return [
        DriftCheck(
            segment,
            "gini_of_exposure",
            "failed" if gini_up > thresholds.gini_increase else "passed",
            reference.gini,
            current.gini,
            f"change {gini_up:+.3f}, allowed up to +{thresholds.gini_increase:.3f}",
            "absolute increase",
            gini_up,
            thresholds.gini_increase,
        ),
        DriftCheck(
            segment,
            "catalogue_coverage",
            "failed" if coverage_drop > thresholds.coverage_drop else "passed",
            reference.coverage,
            current.coverage,
            f"relative drop {coverage_drop:.1%}, allowed up to {thresholds.coverage_drop:.0%}",
            "relative drop",
            coverage_drop,
            thresholds.coverage_drop,
        ),
    ]
