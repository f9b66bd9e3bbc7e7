r"""Recommendation drift: what was served and how users reacted, now versus a reference window.

Inputs are the rows of the event log (``impressions``: the ranked ``movie_ids`` of each
request; ``feedback``: clicks and ratings) of two time windows, plus the popularity of
every catalogue item (training interactions, from the live model artifact, or exposures
in the reference window). No I/O here: :mod:`movierec.reporting.drift` reads
the events, writes the HTML and sends the alert.

Per window (:class:`WindowSummary`):

- *popularity rank* of each recommended item, 1 = most popular (ties share their mean
  rank; items outside the catalogue rank :math:`n+1`), and its mean over all exposures;
- *Gini coefficient of exposure* over the :math:`n` catalogue items, with exposure counts
  sorted ascending :math:`x_{(1)} \le \dots \le x_{(n)}`:
  :math:`G = \frac{\sum_{i=1}^{n} (2i - n - 1)\, x_{(i)}}{n \sum_i x_i}`,
  0 when every item is shown equally often, :math:`1 - 1/n` when one item takes all;
- *catalogue coverage*: distinct recommended items / :math:`n`;
- *rating distribution*: share of each rating value among rating events;
- *CTR per variant*: click events / impressions (requests), as in the A/B analysis.

Drift tests (:class:`DriftCheck`), each failing or not:

- the distributions of exposure popularity rank and of rating values, current window
  per day against the reference window, by popmon (ING's population-shift monitor:
  :math:`\chi^2`, Kolmogorov-Smirnov, PSI and Jensen-Shannon comparisons turned into
  traffic lights); a red light on a day-versus-reference test fails it;
- Gini of exposure up by more than ``gini_increase``;
- catalogue coverage down by more than ``coverage_drop`` (relative).

A window with too few events gives a check with ``status="insufficient_data"``, not a
failure: an empty week is a different alarm (the CTR/traffic alerts of the A/B job).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from movierec.errors import DataError

log = logging.getLogger(__name__)

CheckStatus = Literal["passed", "failed", "insufficient_data"]
DAY_NS = 86_400 * 10**9
# popmon statistics that compare a day of the current window with the reference window.
REFERENCE_TESTS = ("ref_chi2_zscore", "ref_ks_zscore")


# --------------------------------------------------------------------------- popularity
@dataclass(frozen=True)
class Popularity:
    """Interaction counts of the catalogue items and where they came from."""

    item_ids: np.ndarray  # int64, unique
    counts: np.ndarray  # float64, same length
    source: str

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
        it never showed rank last, so the tests lean toward flagging drift. Prefer the
        live artifact's ``item_popularity``.
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


def feedback_frame(feedback: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per feedback event: ts (UTC), variant, type, value, position."""
    frame = pd.DataFrame(
        [(r["ts"], r["variant"], r["type"], r.get("value"), r.get("position")) for r in feedback],
        columns=["ts", "variant", "type", "value", "position"],
    )
    frame["ts"] = pd.to_datetime(frame["ts"].astype(np.float64), unit="s", utc=True)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(np.float64)
    return frame


def requests_per_variant(impressions: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in impressions:
        out[row["variant"]] = out.get(row["variant"], 0) + 1
    return out


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
class VariantCTR:
    impressions: int
    clicks: int

    @property
    def ctr(self) -> float | None:
        return self.clicks / self.impressions if self.impressions else None


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
    rating_distribution: dict[float, float]
    ctr: dict[str, VariantCTR] = field(default_factory=dict)


def summarize(
    start: float, end: float, requests: Mapping[str, int], exposures: pd.DataFrame, feedback: pd.DataFrame, popularity: Popularity
) -> WindowSummary:
    """The window's popularity bias, exposure concentration, coverage, ratings and CTR."""
    exposed = len(exposures)
    in_catalogue = exposures["movie_id"][np.isin(exposures["movie_id"], popularity.item_ids)]
    counts = in_catalogue.value_counts().reindex(popularity.item_ids, fill_value=0).to_numpy()
    ratings = feedback.loc[feedback["type"] == "rating", "value"].dropna()
    clicks = feedback.loc[feedback["type"] == "click"].groupby("variant").size()
    return WindowSummary(
        start=start,
        end=end,
        requests=int(sum(requests.values())),
        exposures=exposed,
        mean_popularity_rank=float(exposures["popularity_rank"].mean()) if exposed else None,
        gini=gini(counts) if exposed else None,
        coverage=float(in_catalogue.nunique() / popularity.n_items) if exposed else None,
        ratings=len(ratings),
        mean_rating=float(ratings.mean()) if len(ratings) else None,
        rating_distribution=_shares(ratings),
        ctr={
            variant: VariantCTR(int(requests.get(variant, 0)), int(clicks.get(variant, 0)))
            for variant in sorted(set(requests) | set(clicks.index))
        },
    )


# --------------------------------------------------------------------------- checks
@dataclass(frozen=True)
class DriftThresholds:
    gini_increase: float = 0.05  # absolute
    coverage_drop: float = 0.25  # relative to the reference coverage
    min_exposures: int = 200  # per window, for the exposure tests
    min_ratings: int = 50  # per window, for the rating test


@dataclass(frozen=True)
class DriftCheck:
    name: str
    status: CheckStatus
    reference: float | None
    current: float | None
    detail: str

    @property
    def failed(self) -> bool:
        return self.status == "failed"


def threshold_checks(reference: WindowSummary, current: WindowSummary, thresholds: DriftThresholds) -> list[DriftCheck]:
    """Gini of exposure and catalogue coverage against their allowed change."""
    if min(reference.exposures, current.exposures) < thresholds.min_exposures:
        detail = f"needs {thresholds.min_exposures} exposures per window, got {reference.exposures} and {current.exposures}"
        return [
            DriftCheck("gini_of_exposure", "insufficient_data", reference.gini, current.gini, detail),
            DriftCheck("catalogue_coverage", "insufficient_data", reference.coverage, current.coverage, detail),
        ]
    assert reference.gini is not None and current.gini is not None
    assert reference.coverage is not None and current.coverage is not None
    gini_up = current.gini - reference.gini
    coverage_drop = 1 - current.coverage / reference.coverage if reference.coverage else 0.0
    return [
        DriftCheck(
            "gini_of_exposure",
            "failed" if gini_up > thresholds.gini_increase else "passed",
            reference.gini,
            current.gini,
            f"change {gini_up:+.3f}, allowed up to +{thresholds.gini_increase:.3f}",
        ),
        DriftCheck(
            "catalogue_coverage",
            "failed" if coverage_drop > thresholds.coverage_drop else "passed",
            reference.coverage,
            current.coverage,
            f"relative drop {coverage_drop:.1%}, allowed up to {thresholds.coverage_drop:.0%}",
        ),
    ]


@dataclass(frozen=True)
class DistributionTest:
    """A popmon comparison of one feature's distribution, and its HTML report."""

    check: DriftCheck
    html: str
    traffic_lights: dict[str, int]  # n_green, n_yellow, n_red over all statistics and days


def distribution_test(
    name: str,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    column: str,
    *,
    current_start: float,
    bin_width: float,
    min_rows: int,
) -> DistributionTest:
    """Compare ``current[column]`` per day with the whole ``reference[column]`` using popmon.

    The test fails when any day of the current window gets a red traffic light on a
    comparison with the reference (:data:`REFERENCE_TESTS`: the z-scores of popmon's
    :math:`\\chi^2` and Kolmogorov-Smirnov tests; red beyond 7, popmon's default bound).
    """
    ref = reference[["ts", column]].dropna()
    cur = current[["ts", column]].dropna()
    ref_mean = float(ref[column].mean()) if len(ref) else None
    cur_mean = float(cur[column].mean()) if len(cur) else None
    if min(len(ref), len(cur)) < min_rows:
        detail = f"needs {min_rows} values per window, got {len(ref)} and {len(cur)}"
        return DistributionTest(DriftCheck(name, "insufficient_data", ref_mean, cur_mean, detail), "", {})
    lights, html = _popmon_compare(ref, cur, column, current_start=current_start, bin_width=bin_width, title=name)
    status: CheckStatus = "failed" if lights["n_red"] > 0 else "passed"
    detail = f"popmon traffic lights: {lights['n_red']} red, {lights['n_yellow']} yellow, {lights['n_green']} green"
    return DistributionTest(DriftCheck(name, status, ref_mean, cur_mean, detail), html, lights)


def _popmon_compare(
    reference: pd.DataFrame, current: pd.DataFrame, column: str, *, current_start: float, bin_width: float, title: str
) -> tuple[dict[str, int], str]:
    # Imported here: popmon (and plotly) are only needed by the weekly job, not by serving.
    import popmon
    from popmon.config import Settings as PopmonSettings

    # A fresh Settings every call: popmon writes the binning into the object it is given.
    settings = PopmonSettings(
        time_axis="ts",
        features=[f"ts:{column}"],
        reference_type="external",
        bin_specs={column: {"bin_width": float(bin_width), "bin_offset": 0.0}},
    )
    settings.report.title = title
    settings.report.online_report = False  # inline the scripts: the report opens offline
    settings.report.extended_report = False
    # popmon bins time on naive timestamps (ns since the epoch).
    ref, cur = (frame.assign(ts=frame["ts"].dt.tz_localize(None)) for frame in (reference, current))
    offset = pd.Timestamp(current_start, unit="s").value
    report = popmon.df_stability_report(
        cur, settings=settings, time_width=DAY_NS, time_offset=offset, reference=ref
    )
    # Only the day-versus-reference tests decide: popmon's other lights (day versus the
    # previous day, pulls of statistics across the days of the window) measure how
    # steady the current week is, and a steady shift would pass them.
    lights_table = report.datastore["traffic_lights"][column]
    decisive = lights_table[[c for c in lights_table.columns if c in REFERENCE_TESTS]].to_numpy()
    lights = {name: int((decisive == level).sum()) for level, name in enumerate(("n_green", "n_yellow", "n_red"))}
    return lights, report.to_html()


def _shares(values: pd.Series) -> dict[float, float]:
    """Each distinct value's share of ``values``, in increasing order of value."""
    shares = values.value_counts(normalize=True).sort_index()
    return dict(zip(shares.index.astype(float).tolist(), shares.astype(float).tolist(), strict=True))
