"""How an experiment is analysed: the levels, the planned effect and the tests' settings."""

from __future__ import annotations

import math
from dataclasses import dataclass

from movierec.errors import ConfigError
from movierec.stats.effect import check_alpha
from movierec.stats.frequentist import TestKind
from movierec.stats.multiple import Method
from movierec.stats.sequential import DEFAULT_TUNING_PARAMETER
from movierec.stats.srm import DEFAULT_SRM_THRESHOLD


@dataclass(frozen=True)
class AnalysisConfig:
    """How to analyse; defaults are the conventional ones.

    ``tuning_parameter`` is the total number of users (all arms) at which the
    confidence sequence is tightest; it must be fixed before the data are seen
    (any value keeps validity, a good guess of the final size keeps power).
    """

    alpha: float = 0.05
    power: float = 0.8
    mde: float = 0.05  # relative lift on the primary metric
    correction: Method = "holm"
    test: TestKind = "welch"
    srm_threshold: float = DEFAULT_SRM_THRESHOLD
    tuning_parameter: float = DEFAULT_TUNING_PARAMETER

    def __post_init__(self) -> None:
        check_alpha(self.alpha)
        if not 0.0 < self.power < 1.0:
            raise ConfigError(f"power must be in (0, 1), got {self.power!r}")
        if not (math.isfinite(self.mde) and self.mde > 0):
            raise ConfigError(f"mde must be a positive relative lift such as 0.05, got {self.mde!r}")
        if self.correction not in ("holm", "bh"):
            raise ConfigError(f"correction must be 'holm' or 'bh', got {self.correction!r}")
        if self.test not in ("welch", "z"):
            raise ConfigError(f"test must be 'welch' or 'z', got {self.test!r}")
        if not 0.0 < self.srm_threshold < 1.0:
            raise ConfigError(f"srm_threshold must be in (0, 1), got {self.srm_threshold!r}")
        if not self.tuning_parameter > 0:
            raise ConfigError(f"tuning_parameter must be positive, got {self.tuning_parameter!r}")
