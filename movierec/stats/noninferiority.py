"""Non-inferiority of a guardrail: is the variant no worse than a margin?

A guardrail metric need not improve; it must not degrade by more than a margin
m > 0 (m = 0.02 on the relative scale: "not worse than −2%"). With the
always-valid confidence sequence of the lift from
:func:`movierec.stats.sequential.sequential_test`, the variant is shown
non-inferior at a look when the whole sequence lies on the acceptable side::

    higher is better (CTR):      lower bound  > −m
    lower is better (latency):   upper bound  < +m

This is the test of H0: lift ≤ −m (resp. ≥ +m). Because the sequence holds at every
look, the verdict may be read daily and acted on the day it appears; each side of
the two-sided (1 − α) sequence alone errs with probability at most α (about α/2 in
practice: the two sides are symmetric and rarely both crossed), so the check is
conservative at level α. Plan the sample size with
:func:`movierec.stats.power.sequential_non_inferiority_sample_size`.

"Not shown non-inferior" is not "inferior": the bound may still straddle −m
because the experiment is too small. A fixed-horizon result
(:func:`~movierec.stats.frequentist.two_sample_test`) is accepted too, but is valid
for one pre-planned look only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from movierec.errors import ConfigError
from movierec.stats.effect import Difference, check_difference
from movierec.stats.frequentist import FrequentistResult
from movierec.stats.statistics import ErrorCode


@dataclass(frozen=True)
class NonInferiority:
    non_inferior: bool
    margin: float  # m > 0, on the scale of ``difference``
    bound: float  # the confidence bound compared with the margin (nan on error)
    higher_is_better: bool
    difference: Difference = "relative"
    error: ErrorCode | None = None  # the comparison could not be analysed: not shown


def non_inferiority(
    result: FrequentistResult,
    margin: float,
    *,
    higher_is_better: bool = True,
    difference: Difference = "relative",
) -> NonInferiority:
    """Whether ``result``'s confidence bound clears the margin (see the module docstring).

    ``margin`` is relative (0.02 = 2%) for ``difference="relative"``, else in metric
    units, and must be positive.
    """
    check_difference(difference)
    if not (math.isfinite(margin) and margin > 0):
        raise ConfigError(f"margin must be a positive number, got {margin!r}")
    if result.error is not None:
        return NonInferiority(False, margin, math.nan, higher_is_better, difference, result.error)
    lower, upper = result.ci_rel if difference == "relative" else result.ci_abs
    if higher_is_better:
        return NonInferiority(lower > -margin, margin, lower, higher_is_better, difference)
    return NonInferiority(upper < margin, margin, upper, higher_is_better, difference)
