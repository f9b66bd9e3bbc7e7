"""The read-out of an interleaved experiment: do users prefer ranker B's items to A's?

Every shown item of an interleaved list is credited to one ranker
(:mod:`movierec.experiments.interleaving`). Users, not clicks, are the unit (a user's
clicks are not independent of each other), so per user u the preference is::

    d_u = (clicks credited to B) - (clicks credited to A)

over the users with at least one credited click (a user who never clicked states no
preference; counting such users as 0 would leave the test statistic nearly unchanged
and only dilute the mean). Under "no preference" (H0) team-draft's coin makes every
click as likely to be credited to A as to B, so E[d_u] = 0. With n users, mean d̄ and
sample standard deviation s::

    t = d̄ / (s / sqrt(n)),   p = 2 (1 - F_{n-1}(|t|)),   CI = d̄ ± F_{n-1}^{-1}(1 - α/2) s / sqrt(n)

(one-sample t test of the mean; Chapelle, Joachims, Radlinski & Yue 2012, ACM TOIS
30(1), section 4). Its always-valid version, safe to look at every day, is the
Gaussian-mixture confidence sequence of :mod:`movierec.stats.sequential` with
se = s / sqrt(n) and ``tuning_parameter`` users. As a robustness check that assumes
nothing of d's distribution, the sign test: among the users with d_u != 0 ("decided"),
the number preferring B is Binomial(decided, 1/2) under H0 (scipy's ``binomtest``).

Degenerate data is not an exception, as in the A/B engine: no users, one user, or
every user with the same preference give a result whose ``error`` names the problem.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from scipy import stats as sps

from movierec.errors import DataError
from movierec.stats.effect import check_alpha
from movierec.stats.sequential import (
    DEFAULT_TUNING_PARAMETER,
    always_valid_p_value,
    halfwidth,
    mixing_rho,
)
from movierec.stats.statistics import ErrorCode


@dataclass(frozen=True)
class PreferenceStats:
    """Sums over users of the per-user preference d_u; they add across days or shards."""

    n: int  # users with at least one credited click
    sum: float  # Σ d_u
    sum_squares: float  # Σ d_u²
    prefer_b: int  # users with d_u > 0
    prefer_a: int  # users with d_u < 0

    def __post_init__(self) -> None:
        counts = (self.n, self.prefer_a, self.prefer_b)
        if any(isinstance(c, bool) or not isinstance(c, int) or c < 0 for c in counts):
            raise DataError(f"user counts must be non-negative integers, got {counts}")
        if self.prefer_a + self.prefer_b > self.n:
            raise DataError(f"{self.prefer_a} + {self.prefer_b} decided users but only {self.n} users")
        if not (math.isfinite(self.sum) and math.isfinite(self.sum_squares)):
            raise DataError(f"preference sums must be finite, got {self.sum!r}, {self.sum_squares!r}")

    @classmethod
    def of(cls, preferences: Iterable[float]) -> PreferenceStats:
        values = [float(d) for d in preferences]
        return cls(len(values), math.fsum(values), math.fsum(d * d for d in values),
                   sum(d > 0 for d in values), sum(d < 0 for d in values))

    def __add__(self, other: PreferenceStats) -> PreferenceStats:
        return PreferenceStats(self.n + other.n, self.sum + other.sum, self.sum_squares + other.sum_squares,
                               self.prefer_b + other.prefer_b, self.prefer_a + other.prefer_a)

    @property
    def mean(self) -> float:
        return self.sum / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        """Unbiased sample variance of d_u; 0 when n < 2."""
        if self.n < 2:
            return 0.0
        return max(0.0, (self.sum_squares - self.sum * self.sum / self.n) / (self.n - 1))

    @property
    def decided(self) -> int:
        return self.prefer_a + self.prefer_b


@dataclass(frozen=True)
class InterleavingResult:
    """Mean preference for B (> 0: users click B's items more), its tests and intervals.

    With ``error`` set the numbers are neutral (mean 0, CIs (0, 0), p-values 1).
    """

    n_users: int
    mean: float
    ci: tuple[float, float]
    p_value: float
    always_valid_ci: tuple[float, float]
    always_valid_p_value: float
    decided: int  # users with a non-zero preference
    share_b: float  # share of the decided users preferring B (0.5 with none decided)
    sign_test_p_value: float
    alpha: float
    error: ErrorCode | None = None

    @property
    def winner(self) -> str | None:
        """"B" or "A" when the always-valid interval excludes 0, else None."""
        if self.error is not None or self.always_valid_p_value >= self.alpha:
            return None
        return "B" if self.mean > 0 else "A"


def _sign_test(stats: PreferenceStats) -> tuple[float, float]:
    if stats.decided == 0:
        return 0.5, 1.0
    return stats.prefer_b / stats.decided, float(sps.binomtest(stats.prefer_b, stats.decided, 0.5).pvalue)


def interleaving_test(
    stats: PreferenceStats, *, alpha: float = 0.05, tuning_parameter: float = DEFAULT_TUNING_PARAMETER
) -> InterleavingResult:
    """The fixed-horizon and always-valid tests of "no preference", and the sign test."""
    check_alpha(alpha)
    rho = mixing_rho(alpha, tuning_parameter)
    share_b, sign_p = _sign_test(stats)
    error = (ErrorCode.NO_UNITS if stats.n == 0 else ErrorCode.TOO_FEW_UNITS if stats.n < 2
             else ErrorCode.ZERO_VARIANCE if stats.variance <= 0 else None)
    if error is not None:
        return InterleavingResult(stats.n, 0.0, (0.0, 0.0), 1.0, (0.0, 0.0), 1.0, stats.decided,
                                  share_b, sign_p, alpha, error)
    n, mean = stats.n, stats.mean
    se = math.sqrt(stats.variance / n)
    t = mean / se
    quantile = float(sps.t.ppf(1 - alpha / 2, n - 1))
    hw = halfwidth(se, n, alpha, rho)
    return InterleavingResult(
        n_users=n,
        mean=mean,
        ci=(mean - quantile * se, mean + quantile * se),
        p_value=float(2 * sps.t.sf(abs(t), n - 1)),
        always_valid_ci=(mean - hw, mean + hw),
        always_valid_p_value=always_valid_p_value(t, n, rho),
        decided=stats.decided,
        share_b=share_b,
        sign_test_p_value=sign_p,
        alpha=alpha,
    )
