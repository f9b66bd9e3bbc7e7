"""The metrics an experiment is read on, and each variant's numbers for them.

All per user, the randomisation unit:

* ``ctr`` -- list CTR: clicks / served lists, a ratio metric with delta-method variance;
* ``item_ctr`` -- item CTR: clicks / shown items (the sum of the lists' lengths), ratio
  metric; unlike list CTR it does not rise just because a variant shows longer lists;
* ``rating`` -- mean rating given (sum of ratings / number of ratings, ratio metric);
* ``clicks_per_user`` -- clicks per exposed user (mean metric).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from scipy.stats import norm

from movierec.analysis.data import VariantData
from movierec.errors import ConfigError
from movierec.stats.statistics import ErrorCode, RatioStats, Stats

METRICS: tuple[str, ...] = ("ctr", "item_ctr", "rating", "clicks_per_user")
METRIC_LABELS: Mapping[str, str] = {
    "ctr": "list CTR",
    "item_ctr": "item CTR",
    "rating": "mean rating",
    "clicks_per_user": "clicks per user",
}
# What each metric measures, printed once under the report's tables: "CTR" alone is
# ambiguous (a user may click several titles of one served list).
METRIC_DEFINITIONS: Mapping[str, str] = {
    "ctr": "clicks per served list (may exceed 1)",
    "item_ctr": "clicks per shown item",
    "rating": "mean of the ratings given",
    "clicks_per_user": "clicks per exposed user",
}


def metric_stats(data: VariantData, metric: str) -> Stats:
    if metric == "ctr":
        return data.ctr
    if metric == "item_ctr":
        return data.item_ctr
    if metric == "rating":
        return data.rating
    if metric == "clicks_per_user":
        return data.clicks_per_user
    raise ConfigError(f"unknown metric {metric!r}; known metrics: {', '.join(METRICS)}")


def value_of(stats: Stats) -> float | None:
    """The metric's point estimate, None when it is undefined (no users / no denominator)."""
    if stats.n == 0 or (isinstance(stats, RatioStats) and stats.d_sum == 0):
        return None
    return stats.mean


def mean_ci(stats: Stats, alpha: float) -> tuple[float, float] | None:
    """Normal CI of a per-variant mean or ratio: μ̂ ± z_{1−α/2} sqrt(s²/n) (None if degenerate)."""
    if stats.error is not None:
        return None
    half = float(norm.ppf(1.0 - alpha / 2.0)) * math.sqrt(stats.variance / stats.n)
    return (stats.mean - half, stats.mean + half)


def explain(error: ErrorCode, metric: str, variant: str) -> str:
    """A plain-words reason why ``metric`` of ``variant`` cannot be analysed."""
    label = METRIC_LABELS.get(metric, metric)
    if error is ErrorCode.NO_UNITS:
        what = "ratings" if metric == "rating" else "impressions"
        return f"{variant} has no {what} yet"
    if error is ErrorCode.TOO_FEW_UNITS:
        return f"{variant} has fewer than 2 users with {label} data"
    if error is ErrorCode.ZERO_DENOMINATOR:
        what = {"ctr": "impressions", "item_ctr": "shown items", "rating": "ratings"}.get(metric, "data")
        return f"{variant} has no {what} yet"
    if error is ErrorCode.ZERO_VARIANCE:
        return f"{label} of {variant} has no variance yet (every user has the same value)"
    if error is ErrorCode.ZERO_BASELINE:
        return f"{label} of the control {variant} is 0, so a relative lift is undefined"
    return f"{label} of {variant} cannot be analysed ({error.value})"
