"""Each treatment against the control, metric by metric: three tests, one of which decides.

Each non-control variant (the first variant is the control) is compared to the
control on every metric with three tests, all on the relative lift δ = μ_b/μ_a − 1:

* fixed-horizon Welch (or z) test -- p-value and CI, shown for reference;
* the always-valid Gaussian-mixture confidence sequence -- **drives the decision**;
* the Bayesian posterior under a flat prior -- chance to beat control and
  expected loss of shipping the variant.

Why the sequential test decides: the report runs every day and people read it every
day. Stopping at the first day a fixed-horizon p-value dips under α inflates the
false positive rate several-fold (see ``scripts/bench_calibration.py``); the
confidence sequence holds at every look, so "B wins" may be acted on the day it
appears. The sequential p-values of all metric × variant comparisons are adjusted
together (Holm by default, Benjamini–Hochberg optionally, :func:`adjust`):
always-valid p-values are valid p-values at any stopping time, so the adjustment
keeps its guarantee. A comparison is ``significant`` when its adjusted p < α.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from movierec.analysis.config import AnalysisConfig
from movierec.analysis.data import VariantData
from movierec.analysis.metrics import explain, metric_stats, value_of
from movierec.stats.bayesian import bayesian_test
from movierec.stats.frequentist import two_sample_test
from movierec.stats.multiple import adjust_p_values
from movierec.stats.sequential import sequential_test
from movierec.stats.statistics import ErrorCode


@dataclass(frozen=True)
class Comparison:
    """One metric of one variant against control; lifts are relative unless named ``_abs``."""

    metric: str
    variant: str
    control: str
    control_value: float | None
    variant_value: float | None
    lift_abs: float | None = None
    lift_rel: float | None = None
    ci_rel: tuple[float, float] | None = None  # fixed-horizon (Welch/z)
    ci_abs: tuple[float, float] | None = None
    p_value: float | None = None  # fixed-horizon
    seq_ci_rel: tuple[float, float] | None = None  # always-valid
    seq_ci_abs: tuple[float, float] | None = None
    seq_p_value: float | None = None
    adjusted_p_value: float | None = None  # sequential, Holm/BH across metrics x variants
    chance_to_beat_control: float | None = None
    expected_loss: float | None = None  # of shipping the variant, in relative lift
    significant: bool = False  # adjusted sequential p < alpha
    message: str | None = None  # why the numbers are missing

    @property
    def direction(self) -> Literal["better", "worse", "flat"]:
        if not self.significant or self.lift_rel is None:
            return "flat"
        return "better" if self.lift_rel > 0 else "worse"


def compare(
    metric: str, control: VariantData, treatment: VariantData, config: AnalysisConfig
) -> Comparison:
    """All three tests of ``treatment`` against ``control`` on one metric (unadjusted)."""
    a, b = metric_stats(control, metric), metric_stats(treatment, metric)
    base = Comparison(
        metric=metric,
        variant=treatment.variant,
        control=control.variant,
        control_value=value_of(a),
        variant_value=value_of(b),
    )
    if a.error is not None:
        return replace(base, message=explain(a.error, metric, control.variant))
    if b.error is not None:
        return replace(base, message=explain(b.error, metric, treatment.variant))
    if a.mean == 0:
        return replace(base, message=explain(ErrorCode.ZERO_BASELINE, metric, control.variant))
    fixed = two_sample_test(a, b, alpha=config.alpha, test=config.test)
    seq = sequential_test(a, b, tuning_parameter=config.tuning_parameter, alpha=config.alpha)
    bayes = bayesian_test(a, b, alpha=config.alpha)
    return replace(
        base,
        lift_abs=fixed.lift_abs,
        lift_rel=fixed.lift_rel,
        ci_rel=fixed.ci_rel,
        ci_abs=fixed.ci_abs,
        p_value=fixed.p_value,
        seq_ci_rel=seq.ci_rel,
        seq_ci_abs=seq.ci_abs,
        seq_p_value=seq.p_value,
        chance_to_beat_control=bayes.chance_to_win,
        expected_loss=bayes.risk_treatment,
    )


def adjust(comparisons: list[Comparison], config: AnalysisConfig) -> list[Comparison]:
    """Adjust the sequential p-values of the analysable comparisons together."""
    tested = [i for i, c in enumerate(comparisons) if c.seq_p_value is not None]
    adjusted = adjust_p_values(
        [comparisons[i].seq_p_value for i in tested],  # type: ignore[misc]
        config.correction,
        alpha=config.alpha,
    )
    out = list(comparisons)
    for i, p, reject in zip(tested, adjusted.p_values, adjusted.reject):
        out[i] = replace(out[i], adjusted_p_value=p, significant=reject)
    return out
