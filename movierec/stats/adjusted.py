"""Sufficient statistics with a pre-exposure covariate, for variance reduction (CUPED).

Each user contributes a post-exposure value (or a numerator/denominator pair) and
the same quantity measured before their first exposure. Besides the sums of each
side (a :class:`SampleMeanStats` / :class:`RatioStats`), regression adjustment
needs the cross-products between the two sides, summed over the arm's users; the
field names follow gbstats' ``RegressionAdjustedStatistic`` and
``RegressionAdjustedRatioStatistic``, so values can be checked against it.

Like the unadjusted statistics, these are frozen values that add together (two days,
two shards), and carry no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from movierec.errors import DataError
from movierec.stats.statistics import ErrorCode, RatioStats, SampleMeanStats, Stats, add_fields


class _PairedPrePost:
    """What both pre/post pairs share: the same users on both sides, read as the post side."""

    post: SampleMeanStats | RatioStats
    pre: SampleMeanStats | RatioStats

    def __post_init__(self) -> None:
        if self.post.n != self.pre.n:
            raise DataError(f"post and pre statistics must cover the same users, got n={self.post.n} and {self.pre.n}")

    @property
    def n(self) -> int:
        return self.post.n

    @property
    def mean(self) -> float:
        """The unadjusted post-exposure value (mean or ratio), the one a report shows."""
        return self.post.mean

    @property
    def error(self) -> ErrorCode | None:
        """The post statistic's error: a degenerate pre-period only turns the adjustment off."""
        return self.post.error


@dataclass(frozen=True)
class PrePostMeanStats(_PairedPrePost):
    """One arm: per-user post value y_i, pre-exposure covariate x_i, and Σ y_i x_i."""

    post: SampleMeanStats
    pre: SampleMeanStats
    post_pre_sum_of_products: float

    @classmethod
    def empty(cls) -> PrePostMeanStats:
        return cls(SampleMeanStats.empty(), SampleMeanStats.empty(), 0.0)

    def __add__(self, other: PrePostMeanStats) -> PrePostMeanStats:
        return add_fields(self, other) if isinstance(other, PrePostMeanStats) else NotImplemented


@dataclass(frozen=True)
class PrePostRatioStats(_PairedPrePost):
    """One arm: per-user post (m_i, d_i), pre-exposure (m'_i, d'_i), and their cross-products.

    ``post.m_d_sum_of_products`` = Σ m d and ``pre.m_d_sum_of_products`` = Σ m' d' live
    in the two :class:`RatioStats`; the four remaining products are fields here.
    """

    post: RatioStats
    pre: RatioStats
    m_post_m_pre_sum_of_products: float
    d_post_d_pre_sum_of_products: float
    m_post_d_pre_sum_of_products: float
    d_post_m_pre_sum_of_products: float

    @classmethod
    def empty(cls) -> PrePostRatioStats:
        return cls(RatioStats.empty(), RatioStats.empty(), 0.0, 0.0, 0.0, 0.0)

    def __add__(self, other: PrePostRatioStats) -> PrePostRatioStats:
        return add_fields(self, other) if isinstance(other, PrePostRatioStats) else NotImplemented


PrePostStats: TypeAlias = PrePostMeanStats | PrePostRatioStats
# What the tests accept: plain statistics, or their pre/post pairs for a CUPED-adjusted lift.
AnyStats: TypeAlias = Stats | PrePostStats
