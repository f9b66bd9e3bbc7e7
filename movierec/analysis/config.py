"""How an experiment is analysed: the levels, the planned effect and the tests' settings.

:func:`movierec.analysis.plan.analysis_config` builds one from the experiment's
recorded plan; tests and tools may build one directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from movierec.errors import ConfigError
from movierec.stats.effect import check_alpha
from movierec.stats.frequentist import TestKind
from movierec.stats.sequential import DEFAULT_TUNING_PARAMETER
from movierec.stats.srm import DEFAULT_SRM_THRESHOLD

# GrowthBook's multiple-exposure alarm: above 1% of assigned users served more than one
# variant, assignment or caching is broken and the comparison is not trusted.
DEFAULT_MULTIPLE_EXPOSURE_THRESHOLD = 0.01


@dataclass(frozen=True)
class AnalysisConfig:
    """How to analyse; defaults are the documented ones for a config without a plan.

    ``tuning_parameter`` is the number of users at which each comparison's confidence
    sequence is tightest -- those of the control and one treatment arm, so all users of
    an A/B test; it must be fixed before the data are seen
    (any value keeps validity, a good guess of the final size keeps power), which
    is why it comes from the recorded plan. ``planned_users_per_variant`` is the
    plan's sample size (None: computed from the control's observed variance).
    """

    alpha: float = 0.05
    power: float = 0.8
    mde: float = 0.05  # relative lift on the primary metric
    test: TestKind = "welch"
    srm_threshold: float = DEFAULT_SRM_THRESHOLD
    tuning_parameter: float = DEFAULT_TUNING_PARAMETER
    planned_users_per_variant: int | None = None
    multiple_exposure_threshold: float = DEFAULT_MULTIPLE_EXPOSURE_THRESHOLD
    # Regression adjustment on each user's pre-exposure activity (list CTR, clicks per user).
    cuped: bool = True

    def __post_init__(self) -> None:
        check_alpha(self.alpha)
        if not 0.0 < self.power < 1.0:
            raise ConfigError(f"power must be in (0, 1), got {self.power!r}")
        if not (math.isfinite(self.mde) and self.mde > 0):
            raise ConfigError(f"mde must be a positive relative lift such as 0.05, got {self.mde!r}")
        if self.test not in ("welch", "z"):
            raise ConfigError(f"test must be 'welch' or 'z', got {self.test!r}")
        if not 0.0 < self.srm_threshold < 1.0:
            raise ConfigError(f"srm_threshold must be in (0, 1), got {self.srm_threshold!r}")
        if not self.tuning_parameter > 0:
            raise ConfigError(f"tuning_parameter must be positive, got {self.tuning_parameter!r}")
        if self.planned_users_per_variant is not None and self.planned_users_per_variant < 1:
            raise ConfigError(
                f"planned_users_per_variant must be at least 1, got {self.planned_users_per_variant!r}"
            )
        if not 0.0 < self.multiple_exposure_threshold < 1.0:
            raise ConfigError(
                "multiple_exposure_threshold must be in (0, 1), got "
                f"{self.multiple_exposure_threshold!r}"
            )
