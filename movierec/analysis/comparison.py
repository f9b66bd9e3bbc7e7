"""Each treatment against the control, metric by metric, at the level its role calls for.

Each non-control variant (the first variant is the control) is compared to the
control with three tests, all on the relative lift δ = μ_b/μ_a − 1:

* fixed-horizon Welch (or z) test -- p-value and CI, shown for reference;
* the always-valid Gaussian-mixture confidence sequence -- **drives the decision**;
* the Bayesian posterior under a flat prior -- chance to beat control and
  expected loss of shipping the variant.

Why the sequential test decides: the report runs every day and people read it every
day. Stopping at the first day a fixed-horizon p-value dips under α inflates the
false positive rate several-fold (see ``scripts/bench_calibration.py``); the
confidence sequence holds at every look, so "B wins" may be acted on the day it
appears.

The level of a comparison depends on the role of its metric
(:mod:`movierec.analysis.roles`), and every interval of the row -- always-valid and
fixed-horizon -- is computed at that level, so the interval shown is the one decided on:

* **primary**: all of α, split only across the k treatment arms (Bonferroni): each
  arm's interval is at 1 − α/k and the adjusted p is min(1, k·p). Bonferroni rather
  than Holm because its intervals match its decisions: "significant" is exactly "the
  interval shown excludes 0". With one treatment (A/B) there is no correction at all.
* **guardrail**: a one-sided non-inferiority test at α against the margin m: the arm
  passes when the always-valid lower bound exceeds −m, fails when the upper bound is
  below −m. Both bounds come from the two-sided sequence at level α' = 2α/(1+α)
  (90.5% at α = 0.05): the symmetric mixture martingale M is the mean of the two
  one-sided (half-normal) mixtures M⁺ and M⁻, and on the side where the estimate lies
  the other one is below 1, so M ≥ 1/α' forces M⁺ ≥ 2/α' − 1 = 1/α and Ville's
  inequality gives each bound exact one-sided level α. (The check itself is
  :func:`movierec.stats.noninferiority.non_inferiority`, which on the 1 − α sequence
  would be conservative, at about α/2; read at α' it uses the α it is given.)
* **secondary**: at α, p-values Benjamini–Hochberg-adjusted across all secondary
  metrics × arms; exploratory, they never change the verdict.

Always-valid p-values are valid at any stopping time, so these adjustments keep their
guarantees under continuous monitoring.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from movierec.analysis.config import AnalysisConfig
from movierec.analysis.data import VariantData
from movierec.analysis.metrics import explain, metric_stats, value_of
from movierec.analysis.roles import Role, higher_is_better
from movierec.events import Guardrail
from movierec.stats.adjusted import AnyStats
from movierec.stats.bayesian import bayesian_test
from movierec.stats.cuped import cuped_fit
from movierec.stats.frequentist import FrequentistResult, two_sample_test
from movierec.stats.multiple import adjust_p_values
from movierec.stats.noninferiority import non_inferiority
from movierec.stats.sequential import sequential_test
from movierec.stats.statistics import ErrorCode, Stats

# better / worse: significant in that direction; non_inferior / inferior: a guardrail's
# bound against its margin; inconclusive: neither yet (or not analysable).
Outcome = Literal["better", "worse", "non_inferior", "inferior", "inconclusive"]


def primary_alpha(alpha: float, arms: int) -> float:
    """Two-sided level of each arm's primary interval: α split over the treatment arms."""
    return alpha / max(arms, 1)


def guardrail_alpha(alpha: float) -> float:
    """Two-sided level whose bounds are one-sided level-α bounds (module docstring)."""
    return 2.0 * alpha / (1.0 + alpha)


def one_sided_alpha(guardrail_level: float) -> float:
    """The one-sided α whose guardrail interval is at two-sided ``guardrail_level``."""
    return guardrail_level / (2.0 - guardrail_level)


@dataclass(frozen=True)
class Comparison:
    """One metric of one variant against control; lifts are relative unless named ``_abs``.

    Every interval is two-sided at level 1 − ``alpha``, the level its role decides at.
    """

    metric: str
    variant: str
    control: str
    control_value: float | None
    variant_value: float | None
    role: Role = "secondary"
    alpha: float = 0.05
    margin: float | None = None  # guardrails: the relative drop tolerated
    lift_abs: float | None = None
    lift_rel: float | None = None
    ci_rel: tuple[float, float] | None = None  # fixed-horizon (Welch/z)
    ci_abs: tuple[float, float] | None = None
    p_value: float | None = None  # fixed-horizon
    seq_ci_rel: tuple[float, float] | None = None  # always-valid
    seq_ci_abs: tuple[float, float] | None = None
    seq_p_value: float | None = None
    se_rel: float | None = None  # standard error of lift_rel, for the keep-running numbers
    n: int = 0  # users with data in both arms (the sequence's sample size)
    adjusted_p_value: float | None = None  # primary: Bonferroni over arms; secondary: BH
    chance_to_beat_control: float | None = None
    expected_loss: float | None = None  # of shipping the variant, in relative lift
    significant: bool = False  # the always-valid interval excludes 0 (secondary: BH)
    outcome: Outcome = "inconclusive"
    message: str | None = None  # why the numbers are missing
    # CUPED: the variance of the lift estimator relative to the unadjusted one (None: not used)
    variance_ratio: float | None = None

    @property
    def direction(self) -> Literal["better", "worse", "flat"]:
        """Better or worse for the business when significant (a drop of a cost is better)."""
        if not self.significant or self.lift_rel is None or self.lift_rel == 0:
            return "flat"
        up = self.lift_rel > 0
        return "better" if up == higher_is_better(self.metric) else "worse"


def compare(
    metric: str,
    control: VariantData,
    treatment: VariantData,
    config: AnalysisConfig,
    *,
    alpha: float | None = None,
    role: Role = "secondary",
    margin: float | None = None,
) -> Comparison:
    """All three tests of ``treatment`` against ``control`` on one metric, at level 1 − alpha."""
    return _tests(metric, control, treatment, config, alpha=alpha, role=role, margin=margin)[0]


def _tests(
    metric: str,
    control: VariantData,
    treatment: VariantData,
    config: AnalysisConfig,
    *,
    alpha: float | None,
    role: Role,
    margin: float | None,
) -> tuple[Comparison, FrequentistResult | None]:
    """:func:`compare`, and the always-valid result it read (None when not analysable)."""
    level = config.alpha if alpha is None else alpha
    a, b = metric_stats(control, metric), metric_stats(treatment, metric)
    base = Comparison(
        metric=metric,
        variant=treatment.variant,
        control=control.variant,
        control_value=value_of(a),
        variant_value=value_of(b),
        role=role,
        alpha=level,
        margin=margin,
    )
    if a.error is not None:
        return replace(base, message=explain(a.error, metric, control.variant)), None
    if b.error is not None:
        return replace(base, message=explain(b.error, metric, treatment.variant)), None
    if a.mean == 0:
        return replace(base, message=explain(ErrorCode.ZERO_BASELINE, metric, control.variant)), None
    tested_a, tested_b, variance_ratio = _with_pre_exposure(metric, control, treatment, a, b, config.cuped)
    fixed = two_sample_test(tested_a, tested_b, alpha=level, test=config.test)
    seq = sequential_test(tested_a, tested_b, tuning_parameter=config.tuning_parameter, alpha=level)
    bayes = bayesian_test(tested_a, tested_b, alpha=level)
    return replace(
        base,
        variance_ratio=variance_ratio,
        lift_abs=fixed.lift_abs,
        lift_rel=fixed.lift_rel,
        ci_rel=fixed.ci_rel,
        ci_abs=fixed.ci_abs,
        p_value=fixed.p_value,
        seq_ci_rel=seq.ci_rel,
        seq_ci_abs=seq.ci_abs,
        seq_p_value=seq.p_value,
        se_rel=seq.se_rel,
        n=a.n + b.n,
        chance_to_beat_control=bayes.chance_to_win,
        expected_loss=bayes.risk_treatment,
    ), seq


# Metrics with each user's pre-exposure counterpart in VariantData (filled by the warehouse query).
PRE_EXPOSURE: dict[str, str] = {"ctr": "ctr_pre", "clicks_per_user": "clicks_per_user_pre"}


def _with_pre_exposure(
    metric: str, control: VariantData, treatment: VariantData, a: Stats, b: Stats, cuped: bool
) -> tuple[AnyStats, AnyStats, float | None]:
    """The statistics to test: CUPED-adjusted when both arms carry usable pre-exposure data.

    Falls back to the plain ones (variance_ratio None) when CUPED is off, the metric has
    no pre-exposure counterpart, or the pre-period says nothing (no users, no variance).
    """
    attribute = PRE_EXPOSURE.get(metric)
    if not cuped or attribute is None:
        return a, b, None
    pre_a, pre_b = getattr(control, attribute), getattr(treatment, attribute)
    if pre_a.n != a.n or pre_b.n != b.n or pre_a.n < 2 or pre_b.n < 2:
        return a, b, None
    fit = cuped_fit(pre_a, pre_b)
    if fit.error is not None or fit.theta == 0 or not math.isfinite(fit.variance_ratio):
        return a, b, None
    return pre_a, pre_b, fit.variance_ratio


def _excludes_zero(ci: tuple[float, float] | None) -> bool:
    return ci is not None and (ci[0] > 0.0 or ci[1] < 0.0)


def _by_sign(c: Comparison) -> Comparison:
    outcome: Outcome = {"better": "better", "worse": "worse", "flat": "inconclusive"}[c.direction]  # type: ignore[assignment]
    return replace(c, outcome=outcome)


def primary_comparisons(
    metric: str, control: VariantData, treatments: Sequence[VariantData], config: AnalysisConfig
) -> list[Comparison]:
    """Each arm on the primary metric at 1 − α/k, adjusted p = min(1, k·p)."""
    k = len(treatments)
    alpha = primary_alpha(config.alpha, k)
    out = []
    for t in treatments:
        c = compare(metric, control, t, config, alpha=alpha, role="primary")
        if c.seq_p_value is not None:
            c = _by_sign(replace(
                c, adjusted_p_value=min(1.0, k * c.seq_p_value), significant=_excludes_zero(c.seq_ci_rel)
            ))
        out.append(c)
    return out


def guardrail_outcome(seq: FrequentistResult | None, margin: float, higher_better: bool) -> Outcome:
    """A guardrail's outcome from its always-valid result and relative margin.

    Non-inferior is :func:`movierec.stats.noninferiority.non_inferiority` on the
    sequence at the guardrail's level (the bound on the harmful side within the
    margin); inferior, the verdict "loses" needs, is the other bound beyond it too.
    """
    if seq is None or seq.error is not None:
        return "inconclusive"
    if non_inferiority(seq, margin, higher_is_better=higher_better).non_inferior:
        return "non_inferior"
    lo, hi = seq.ci_rel
    return "inferior" if (hi < -margin if higher_better else lo > margin) else "inconclusive"


def guardrail_comparisons(
    guardrails: Sequence[Guardrail],
    control: VariantData,
    treatments: Sequence[VariantData],
    config: AnalysisConfig,
) -> list[Comparison]:
    """Each guardrail of each arm: a one-sided level-α non-inferiority test (module doc)."""
    alpha = guardrail_alpha(config.alpha)
    out = []
    for g in guardrails:
        for t in treatments:
            c, seq = _tests(g.metric, control, t, config, alpha=alpha, role="guardrail", margin=g.margin)
            out.append(replace(
                c,
                significant=_excludes_zero(c.seq_ci_rel),
                outcome=guardrail_outcome(seq, g.margin, higher_is_better(g.metric)),
            ))
    return out


def secondary_comparisons(
    metrics: Sequence[str],
    control: VariantData,
    treatments: Sequence[VariantData],
    config: AnalysisConfig,
) -> list[Comparison]:
    """Exploratory rows at α, sequential p-values BH-adjusted across metrics × arms."""
    rows = [compare(m, control, t, config, role="secondary") for m in metrics for t in treatments]
    tested = [i for i, c in enumerate(rows) if c.seq_p_value is not None]
    if not tested:
        return rows
    adjusted = adjust_p_values(
        [rows[i].seq_p_value for i in tested],  # type: ignore[misc]
        "bh",
        alpha=config.alpha,
    )
    for i, p, reject in zip(tested, adjusted.p_values, adjusted.reject):
        rows[i] = _by_sign(replace(rows[i], adjusted_p_value=p, significant=bool(reject)))
    return rows
