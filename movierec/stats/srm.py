"""Sample ratio mismatch: are users split across variants as configured?

If the observed user counts per variant depart from the configured weights by
more than chance allows, assignment or logging is broken (a variant crashes
and loses users, a bot filter hits one arm, ...) and every metric comparison of
that experiment is suspect. Pearson's chi-square goodness-of-fit test::

    X² = Σ_i (O_i − E_i)² / E_i,   E_i = N w_i / Σw,   X² ~ χ²(k − 1) under H0

The alarm threshold is deliberately strict (p < 0.001 by default): the check
runs on every experiment every day, so a 5% threshold would cry wolf often.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import chisquare

from movierec.errors import ConfigError, DataError
from movierec.stats.statistics import ErrorCode

DEFAULT_SRM_THRESHOLD = 0.001


@dataclass(frozen=True)
class SrmResult:
    p_value: float
    chi2: float
    alarm: bool
    expected: tuple[float, ...]  # expected users per variant given the total
    error: ErrorCode | None = None


def srm_check(
    observed: Sequence[int],
    weights: Sequence[float],
    *,
    threshold: float = DEFAULT_SRM_THRESHOLD,
) -> SrmResult:
    """Chi-square test of observed users per variant against the configured weights.

    ``observed[i]`` users were assigned to the variant of weight ``weights[i]``.
    No users at all is not an alarm: the result carries ``NO_UNITS_IN_VARIATION``.
    """
    if len(observed) != len(weights):
        raise ConfigError(
            f"got {len(observed)} observed counts for {len(weights)} variant weights"
        )
    if len(weights) < 2:
        raise ConfigError("a sample ratio check needs at least two variants")
    if not all(math.isfinite(w) and w > 0 for w in weights):
        raise ConfigError(f"variant weights must be positive numbers, got {list(weights)}")
    if not 0.0 < threshold < 1.0:
        raise ConfigError(f"threshold must be in (0, 1), got {threshold!r}")
    counts = np.asarray(observed, dtype=float)
    if np.any(counts < 0) or np.any(counts != np.round(counts)):
        raise DataError(f"observed user counts must be non-negative integers, got {list(observed)}")
    total = counts.sum()
    w = np.asarray(weights, dtype=float)
    expected = total * w / w.sum()
    if total == 0:
        return SrmResult(1.0, 0.0, False, tuple(expected.tolist()), ErrorCode.NO_UNITS)
    chi2, p_value = chisquare(counts, expected)
    return SrmResult(
        p_value=float(p_value),
        chi2=float(chi2),
        alarm=bool(p_value < threshold),
        expected=tuple(expected.tolist()),
    )
