"""Sufficient statistics of A/B metrics: small frozen values that add together.

A warehouse query returns, per variant and per day, a handful of sums over
users (count, sum, sum of squares, cross-products). Those sums are all that the
tests in this package need, and they merge by addition, so daily aggregates can
be combined into any date range without re-reading events.

Two metric shapes are supported:

* :class:`SampleMeanStats` -- one value per user (clicks per user, the rating a
  user gave), compared through its mean.
* :class:`RatioStats` -- two values per user, a numerator ``m`` and a
  denominator ``d`` (clicks and impressions), compared through the ratio of
  sums ``sum(m) / sum(d)`` (the click-through rate). Users are the randomisation
  unit, so the variance must be computed over users, not over impressions.

Degenerate data (no users, one user, zero variance, zero denominator) is not an
exception: :attr:`error` names the problem and the tests return a neutral
result carrying that code, as GrowthBook's gbstats does. Invalid input (negative
counts, NaN sums, mixing metric kinds) is a programming or data error and raises
:class:`movierec.errors.DataError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from enum import Enum
from typing import TYPE_CHECKING, TypeAlias, TypeVar

import numpy as np
from numpy.typing import ArrayLike

from movierec.errors import DataError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


class ErrorCode(str, Enum):
    """Why a statistic or a test could not produce an informative answer."""

    NO_UNITS = "NO_UNITS_IN_VARIATION"
    TOO_FEW_UNITS = "TOO_FEW_UNITS"  # n < 2: a sample variance needs two users
    ZERO_VARIANCE = "ZERO_NEGATIVE_VARIANCE"
    ZERO_DENOMINATOR = "ZERO_DENOMINATOR"  # ratio metric whose denominator sums to 0
    ZERO_BASELINE = "ZERO_BASELINE"  # relative lift against a control mean of 0


def _check_count(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise DataError(f"the user count n must be a non-negative integer, got {n!r}")


def _check_finite(**values: float) -> None:
    for name, value in values.items():
        if not math.isfinite(value):
            raise DataError(f"sufficient statistic {name} must be finite, got {value!r}")


def _sample_variance(n: int, total: float, sum_squares: float) -> float:
    """Unbiased sample variance from sums: (Σx² − (Σx)²/n) / (n − 1); 0 when n < 2."""
    if n < 2:
        return 0.0
    return (sum_squares - total * total / n) / (n - 1)


def sample_covariance(n: int, sum_x: float, sum_y: float, sum_xy: float) -> float:
    """Unbiased sample covariance from sums: (Σxy − ΣxΣy/n) / (n − 1); 0 when n < 2."""
    if n < 2:
        return 0.0
    return (sum_xy - sum_x * sum_y / n) / (n - 1)


def ratio_variance(
    mean_m: float, var_m: float, mean_d: float, var_d: float, cov_md: float
) -> float:
    """Delta-method variance of M / D for random M, D with the given moments.

    First-order Taylor expansion of f(M, D) = M / D around (μ_m, μ_d)::

        Var(M/D) ≈ σ_m²/μ_d² + μ_m² σ_d²/μ_d⁴ − 2 μ_m σ_md/μ_d³

    Returns 0 when ``mean_d`` is 0 (callers flag that case with an error code).
    """
    if mean_d == 0:
        return 0.0
    return (
        var_m / mean_d**2
        + var_d * mean_m**2 / mean_d**4
        - 2.0 * cov_md * mean_m / mean_d**3
    )


@dataclass(frozen=True)
class SampleMeanStats:
    """n users with values x_i: ``n``, ``sum`` = Σx_i, ``sum_squares`` = Σx_i²."""

    n: int
    sum: float
    sum_squares: float

    def __post_init__(self) -> None:
        _check_count(self.n)
        _check_finite(sum=self.sum, sum_squares=self.sum_squares)

    @classmethod
    def empty(cls) -> SampleMeanStats:
        return cls(n=0, sum=0.0, sum_squares=0.0)

    @classmethod
    def from_arrays(cls, values: ArrayLike) -> SampleMeanStats:
        """Aggregate one value per user (mainly for tests and simulations)."""
        x = np.asarray(values, dtype=float).ravel()
        return cls(n=int(x.size), sum=float(x.sum()), sum_squares=float(x @ x))

    def __add__(self, other: SampleMeanStats) -> SampleMeanStats:
        return add_fields(self, other) if isinstance(other, SampleMeanStats) else NotImplemented

    @property
    def mean(self) -> float:
        """x̄ = Σx / n (0 for no users)."""
        return self.sum / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        """Per-user sample variance s² (ddof=1); the variance of the mean is s²/n."""
        return _sample_variance(self.n, self.sum, self.sum_squares)

    @property
    def error(self) -> ErrorCode | None:
        if self.n == 0:
            return ErrorCode.NO_UNITS
        if self.n < 2:
            return ErrorCode.TOO_FEW_UNITS
        if self.variance <= 0:
            return ErrorCode.ZERO_VARIANCE
        return None


@dataclass(frozen=True)
class RatioStats:
    """n users with numerator m_i and denominator d_i (e.g. clicks and impressions).

    Fields: ``n``, ``m_sum`` = Σm, ``m_sum_squares`` = Σm², ``d_sum`` = Σd,
    ``d_sum_squares`` = Σd², ``m_d_sum_of_products`` = Σ m_i d_i.

    The metric is R = Σm / Σd = m̄ / d̄. Its per-user variance, by the delta
    method applied to the pair of sample means (m̄, d̄), is::

        s²_R = s_m²/d̄² + m̄² s_d²/d̄⁴ − 2 m̄ s_md/d̄³
             = Var_i(m_i − R d_i) / d̄²

    with s_m², s_d², s_md the sample (co)variances over users, so that
    Var(R̂) ≈ s²_R / n. Equivalently, R is a mean of the linearised per-user
    values (m_i − R d_i)/d̄ shifted by R, which is why the tests treat a ratio like
    any other mean with ``mean`` = R and ``variance`` = s²_R.
    """

    n: int
    m_sum: float
    m_sum_squares: float
    d_sum: float
    d_sum_squares: float
    m_d_sum_of_products: float

    def __post_init__(self) -> None:
        _check_count(self.n)
        _check_finite(
            m_sum=self.m_sum,
            m_sum_squares=self.m_sum_squares,
            d_sum=self.d_sum,
            d_sum_squares=self.d_sum_squares,
            m_d_sum_of_products=self.m_d_sum_of_products,
        )

    @classmethod
    def empty(cls) -> RatioStats:
        return cls(0, 0.0, 0.0, 0.0, 0.0, 0.0)

    @classmethod
    def from_arrays(cls, numerators: ArrayLike, denominators: ArrayLike) -> RatioStats:
        """Aggregate per-user numerator and denominator arrays of equal length."""
        m = np.asarray(numerators, dtype=float).ravel()
        d = np.asarray(denominators, dtype=float).ravel()
        if m.shape != d.shape:
            raise DataError(
                f"numerators and denominators must have one value per user each, "
                f"got {m.size} and {d.size}"
            )
        return cls(
            n=int(m.size),
            m_sum=float(m.sum()),
            m_sum_squares=float(m @ m),
            d_sum=float(d.sum()),
            d_sum_squares=float(d @ d),
            m_d_sum_of_products=float(m @ d),
        )

    def __add__(self, other: RatioStats) -> RatioStats:
        return add_fields(self, other) if isinstance(other, RatioStats) else NotImplemented

    @property
    def numerator(self) -> SampleMeanStats:
        return SampleMeanStats(self.n, self.m_sum, self.m_sum_squares)

    @property
    def denominator(self) -> SampleMeanStats:
        return SampleMeanStats(self.n, self.d_sum, self.d_sum_squares)

    @property
    def covariance(self) -> float:
        """Sample covariance s_md of numerator and denominator over users."""
        return sample_covariance(self.n, self.m_sum, self.d_sum, self.m_d_sum_of_products)

    @property
    def mean(self) -> float:
        """R = Σm / Σd (0 when the denominator sums to 0)."""
        return self.m_sum / self.d_sum if self.d_sum else 0.0

    @property
    def variance(self) -> float:
        """Per-user delta-method variance s²_R (see the class docstring)."""
        if self.n < 2 or self.d_sum == 0:
            return 0.0
        num, den = self.numerator, self.denominator
        return ratio_variance(num.mean, num.variance, den.mean, den.variance, self.covariance)

    @property
    def error(self) -> ErrorCode | None:
        if self.n == 0:
            return ErrorCode.NO_UNITS
        if self.n < 2:
            return ErrorCode.TOO_FEW_UNITS
        if self.d_sum == 0:
            return ErrorCode.ZERO_DENOMINATOR
        if self.variance <= 0:
            return ErrorCode.ZERO_VARIANCE
        return None


Stats: TypeAlias = SampleMeanStats | RatioStats


def check_same_kind(control: Stats, treatment: Stats) -> None:
    """Raise DataError unless both arms carry the same kind of statistic."""
    if type(control) is not type(treatment) or not isinstance(
        control, (SampleMeanStats, RatioStats)
    ):
        raise DataError(
            "control and treatment must both be SampleMeanStats or both RatioStats, "
            f"got {type(control).__name__} and {type(treatment).__name__}"
        )


_DataclassT = TypeVar("_DataclassT", bound="DataclassInstance")


def add_fields(a: _DataclassT, b: _DataclassT) -> _DataclassT:
    """Field-wise sum: sufficient statistics of disjoint user sets (e.g. two days) add up."""
    return type(a)(**{f.name: getattr(a, f.name) + getattr(b, f.name) for f in fields(a)})
