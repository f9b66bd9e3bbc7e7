"""Intervals that stay in the range of their metric.

The normal interval μ̂ ± z·se of a rate measured on few users can leave the range the
rate lives in (a CTR interval of [−0.4%, 2.1%]). Per-variant intervals are therefore
computed on a scale that maps the range to the whole line, with the same delta-method
standard error, and mapped back:

* bounded on both sides, [lo, hi] (item CTR in [0, 1], the rating in [1, 5]): the logit
  of p = (μ̂ − lo)/(hi − lo), whose standard error is se / ((hi − lo) p (1 − p));
* bounded below only (list CTR, clicks per user, both ≥ 0): the log of μ̂ − lo, whose
  standard error is se / (μ̂ − lo).

Both are the standard range-respecting intervals for a delta-method estimate; near the
middle of the range they agree with the normal one. A value on the boundary has no
variance (every user at the bound), so it has no interval either.

Relative lifts of a non-negative metric cannot fall below −100%; an always-valid
interval on few users can, and :func:`clip_lift` cuts it there, saying so.
"""

from __future__ import annotations

import math

from scipy.stats import norm

from movierec.analysis.roles import BOUNDS
from movierec.stats.statistics import Stats


def rate_ci(stats: Stats, alpha: float, metric: str) -> tuple[float, float] | None:
    """Two-sided (1 − alpha) interval of the variant's mean, inside the metric's range."""
    if stats.error is not None:
        return None
    mean, se = stats.mean, math.sqrt(stats.variance / stats.n)
    z = float(norm.ppf(1.0 - alpha / 2.0))
    lo, hi = BOUNDS.get(metric, (-math.inf, None))
    if hi is not None and math.isfinite(lo):
        width = hi - lo
        p = (mean - lo) / width
        if not 0.0 < p < 1.0:
            return None
        centre, half = math.log(p / (1.0 - p)), z * se / (width * p * (1.0 - p))
        return (lo + width * _expit(centre - half), lo + width * _expit(centre + half))
    if math.isfinite(lo):
        if not mean > lo:
            return None
        centre, half = math.log(mean - lo), z * se / (mean - lo)
        return (lo + math.exp(centre - half), lo + math.exp(centre + half))
    return (mean - z * se, mean + z * se)


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def clip_lift(ci: tuple[float, float] | None, metric: str) -> tuple[tuple[float, float] | None, bool]:
    """``ci`` of a relative lift cut at −100% for a non-negative metric; True if it was cut."""
    if ci is None:
        return None, False
    lo, _ = BOUNDS.get(metric, (-math.inf, None))
    if lo >= 0.0 and ci[0] < -1.0:
        return (-1.0, max(ci[1], -1.0)), True
    return ci, False


def lift_interval(ci: tuple[float, float] | None, metric: str) -> str:
    """``[+4.0%, +21.0%]``, cut at -100% and marked ``^`` where it was (every renderer's form)."""
    shown, cut = clip_lift(ci, metric)
    if shown is None:
        return "-"
    return f"[{shown[0]:+.1%}, {shown[1]:+.1%}]" + ("^" if cut else "")
