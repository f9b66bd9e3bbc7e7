"""Multiple-comparison adjustment of p-values (several variants or metrics).

A thin, typed front to ``statsmodels.stats.multitest.multipletests``:

* ``"holm"`` -- Holm's step-down procedure, controls the family-wise error rate
  (the chance of any false positive) at α; uniformly more powerful than
  Bonferroni. Use it for guardrails and ship decisions.
* ``"bh"`` -- Benjamini–Hochberg, controls the false discovery rate (the expected
  share of false positives among the rejections) at α for independent or
  positively dependent tests. Use it when screening many metrics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from statsmodels.stats.multitest import multipletests

from movierec.errors import ConfigError

Method = Literal["holm", "bh"]
_STATSMODELS_NAME = {"holm": "holm", "bh": "fdr_bh"}


@dataclass(frozen=True)
class Adjusted:
    p_values: tuple[float, ...]  # adjusted, in the input order
    reject: tuple[bool, ...]  # rejected at alpha (adjusted p-value <= alpha)


def adjust_p_values(p_values: Sequence[float], method: Method, *, alpha: float = 0.05) -> Adjusted:
    """Adjusted p-values and rejections at ``alpha`` for the given method."""
    if method not in _STATSMODELS_NAME:
        raise ConfigError(f"method must be 'holm' or 'bh', got {method!r}")
    if not 0.0 < alpha < 1.0:
        raise ConfigError(f"alpha must be in (0, 1), got {alpha!r}")
    if not all(math.isfinite(p) and 0.0 <= p <= 1.0 for p in p_values):
        raise ConfigError(f"p-values must lie in [0, 1], got {list(p_values)}")
    if len(p_values) == 0:
        return Adjusted((), ())
    reject, adjusted, _, _ = multipletests(
        np.asarray(p_values, dtype=float), alpha=alpha, method=_STATSMODELS_NAME[method]
    )
    return Adjusted(
        p_values=tuple(float(p) for p in adjusted),
        reject=tuple(bool(r) for r in reject),
    )
