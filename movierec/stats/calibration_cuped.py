"""What CUPED buys on a recommender's click log, by simulation on sufficient statistics.

Users keep their habits across the experiment's start: each has a persistent rate of
activity and a persistent taste for clicking, so what they did before their first
exposure predicts what they do after it::

    rate_i  ~ Gamma(k, mean / k)                  lists served per period
    ctr_i   ~ Beta(a, b)                          the user's click-through rate
    pre:    d'_i ~ Poisson(rate_i)                (0 for users new to the site)
            m'_i ~ Binomial(d'_i, ctr_i)
    post:   d_i  ~ 1 + Poisson(rate_i)            (exposed users saw at least one list)
            m_i  ~ Binomial(d_i, min(1, ctr_i (1 + lift)))

The lift acts on the post period only, so the pre-period is a valid covariate. Each
group of users is reduced to the sums of :class:`PrePostRatioStats` (list CTR, m/d,
adjusted by the pre-period CTR m'/d'); clicks per user (m adjusted by m') comes from
the same sums. The measurements call the same public tests as the reports, with and
without the adjustment, on the same simulated experiments.

Measured by ``scripts/bench_calibration.py`` (2000 experiments each, seed 20240611):
the list-CTR lift estimator's variance falls by 15% (SE 1.6%; the model's own
estimate 14.7%), which lifts the power for +10% at the planned 3439 users per arm
from 0.83 to 0.89 (gain 0.064, paired SE 0.006), with A/A false positives at 0.055
(SE 0.005). Clicks per user: variance −22%, power 0.83 → 0.92.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from movierec.stats.adjusted import PrePostMeanStats, PrePostRatioStats
from movierec.stats.cuped import lift_moments
from movierec.stats.frequentist import FrequentistResult, two_sample_test
from movierec.stats.power import sample_size_per_variant
from movierec.stats.sequential import sequential_test
from movierec.stats.statistics import RatioStats, SampleMeanStats

_MAX_USERS_PER_BATCH = 1_000_000
_FIELDS = 15  # the sums of draw_pre_post_sums, in the order of its docstring


@dataclass(frozen=True)
class HabitModel:
    activity_shape: float = 2.0  # Gamma shape of the per-user rate: CV 0.71
    mean_lists: float = 5.0  # lists served per user and period
    ctr_a: float = 1.5  # Beta(1.5, 10): mean CTR 0.13, heterogeneous
    ctr_b: float = 10.0


DEFAULT_HABITS = HabitModel()


def draw_pre_post_sums(
    rng: np.random.Generator, model: HabitModel, n_users: int, n_groups: int, lift: float = 0.0
) -> np.ndarray:
    """Sufficient statistics of ``n_groups`` groups of ``n_users`` users, shape (n_groups, 15).

    Columns: Σm, Σm², Σd, Σd², Σmd, Σm', Σm'², Σd', Σd'², Σm'd', Σmm', Σdd', Σmd', Σdm', n.
    """
    out = np.empty((n_groups, _FIELDS))
    batch = max(1, _MAX_USERS_PER_BATCH // n_users)
    for start in range(0, n_groups, batch):
        rows = min(batch, n_groups - start)
        shape = (rows, n_users)
        rate = rng.gamma(model.activity_shape, model.mean_lists / model.activity_shape, shape)
        ctr = rng.beta(model.ctr_a, model.ctr_b, shape)
        d_pre = rng.poisson(rate)
        d = 1 + rng.poisson(rate)
        m_pre = rng.binomial(d_pre, ctr).astype(float)
        m = rng.binomial(d, np.minimum(1.0, ctr * (1 + lift))).astype(float)
        d_pre, d = d_pre.astype(float), d.astype(float)
        columns = [m, m * m, d, d * d, m * d, m_pre, m_pre * m_pre, d_pre, d_pre * d_pre,
                   m_pre * d_pre, m * m_pre, d * d_pre, m * d_pre, d * m_pre]  # fmt: skip
        out[start : start + rows, :14] = np.stack([c.sum(axis=1) for c in columns], axis=1)
        out[start : start + rows, 14] = n_users
    return out


def ctr_stats(row: np.ndarray) -> PrePostRatioStats:
    """List CTR of one group, with its pre-exposure CTR as the covariate."""
    m, m2, d, d2, md, mp, mp2, dp, dp2, mdp, m_mp, d_dp, m_dp, d_mp, n = (float(v) for v in row)
    return PrePostRatioStats(
        post=RatioStats(int(n), m, m2, d, d2, md),
        pre=RatioStats(int(n), mp, mp2, dp, dp2, mdp),
        m_post_m_pre_sum_of_products=m_mp,
        d_post_d_pre_sum_of_products=d_dp,
        m_post_d_pre_sum_of_products=m_dp,
        d_post_m_pre_sum_of_products=d_mp,
    )


def clicks_stats(row: np.ndarray) -> PrePostMeanStats:
    """Clicks per user of one group, with the user's pre-exposure clicks as the covariate."""
    n = int(row[14])
    return PrePostMeanStats(
        SampleMeanStats(n, float(row[0]), float(row[1])),
        SampleMeanStats(n, float(row[5]), float(row[6])),
        float(row[10]),
    )


@dataclass(frozen=True)
class Estimate:
    value: float
    se: float


def variance_reduction(plain: np.ndarray, adjusted: np.ndarray, rng: np.random.Generator) -> Estimate:
    """1 − Var(adjusted)/Var(plain) of paired estimates, with a bootstrap standard error."""
    def reduction(index: np.ndarray) -> float:
        return float(1.0 - np.var(adjusted[index], ddof=1) / np.var(plain[index], ddof=1))

    boot = [reduction(rng.integers(0, plain.size, plain.size)) for _ in range(500)]
    return Estimate(reduction(np.arange(plain.size)), float(np.std(boot, ddof=1)))


def paired_difference_se(a: np.ndarray, b: np.ndarray) -> float:
    """Standard error of mean(b) − mean(a) for paired 0/1 outcomes (same experiments)."""
    diff = b.astype(float) - a.astype(float)
    return float(np.std(diff, ddof=1) / np.sqrt(diff.size))


@dataclass(frozen=True)
class CupedResult:
    metric: str
    n_experiments: int
    users_per_arm: int  # planned for 80% power of the unadjusted test at the lift below
    relative_lift: float
    theta_mean: float  # mean fitted θ over the A/A experiments
    variance_reduction: Estimate  # empirical, of the relative-lift estimator, A/A runs
    variance_reduction_model: Estimate  # mean of 1 − CupedFit-style variance ratios
    fpr_plain: float  # A/A, Welch, alpha
    fpr_cuped: float
    power_plain: float  # at the lift, Welch, same experiments for both
    power_cuped: float
    power_gain_se: float  # paired standard error of power_cuped − power_plain
    power_sequential_plain: float  # the always-valid test, same experiments
    power_sequential_cuped: float


def _rejects(result: FrequentistResult, alpha: float, direction: int = 0) -> bool:
    return result.p_value < alpha and (direction == 0 or result.lift_rel * direction > 0)


def cuped_gains(
    rng: np.random.Generator,
    n_experiments: int,
    *,
    metric: str = "ctr",
    relative_lift: float = 0.10,
    alpha: float = 0.05,
    pilot_users: int = 200_000,
    model: HabitModel = DEFAULT_HABITS,
) -> CupedResult:
    """Variance reduction, A/A calibration and power gain of CUPED on ``metric``.

    ``metric`` is ``"ctr"`` (list CTR, ratio CUPED) or ``"clicks_per_user"`` (mean
    CUPED). The sample size is planned with :func:`sample_size_per_variant` on an
    unadjusted pilot, as the report plans it, so the unadjusted power is about 0.8
    and the gain is what CUPED adds at the same number of users.
    """
    build: Callable[[np.ndarray], PrePostRatioStats | PrePostMeanStats] = (
        ctr_stats if metric == "ctr" else clicks_stats
    )
    pilot = build(draw_pre_post_sums(rng, model, pilot_users, 1)[0]).post
    n = sample_size_per_variant(pilot.mean, pilot.variance, relative_lift, alpha=alpha)
    tuning = 2.0 * n

    aa = draw_pre_post_sums(rng, model, n, 2 * n_experiments).reshape(n_experiments, 2, _FIELDS)
    lifts = np.empty((2, n_experiments))
    variances = np.empty((2, n_experiments))
    thetas = np.empty(n_experiments)
    false_positives = np.zeros((2, n_experiments), dtype=bool)
    for j, (row_a, row_b) in enumerate(aa):
        a, b = build(row_a), build(row_b)
        for k, (x, y) in enumerate(((a.post, b.post), (a, b))):
            result = two_sample_test(x, y, alpha=alpha)
            lifts[k, j], variances[k, j] = result.lift_rel, result.se_rel**2
            false_positives[k, j] = _rejects(result, alpha)
        thetas[j] = lift_moments(a, b).theta  # 0 when the test fell back to no adjustment

    control = draw_pre_post_sums(rng, model, n, n_experiments)
    treatment = draw_pre_post_sums(rng, model, n, n_experiments, lift=relative_lift)
    detected = np.zeros((4, n_experiments), dtype=bool)
    for j, (row_a, row_b) in enumerate(zip(control, treatment, strict=True)):
        a, b = build(row_a), build(row_b)
        for k, (x, y) in enumerate(((a.post, b.post), (a, b))):
            detected[k, j] = _rejects(two_sample_test(x, y, alpha=alpha), alpha, 1)
            seq = sequential_test(x, y, alpha=alpha, tuning_parameter=tuning)
            detected[2 + k, j] = _rejects(seq, alpha, 1)

    ratios = 1.0 - variances[1] / variances[0]
    return CupedResult(
        metric=metric,
        n_experiments=n_experiments,
        users_per_arm=n,
        relative_lift=relative_lift,
        theta_mean=float(thetas.mean()),
        variance_reduction=variance_reduction(lifts[0], lifts[1], rng),
        variance_reduction_model=Estimate(
            float(ratios.mean()), float(ratios.std(ddof=1) / np.sqrt(ratios.size))
        ),
        fpr_plain=float(false_positives[0].mean()),
        fpr_cuped=float(false_positives[1].mean()),
        power_plain=float(detected[0].mean()),
        power_cuped=float(detected[1].mean()),
        power_gain_se=paired_difference_se(detected[0], detected[1]),
        power_sequential_plain=float(detected[2].mean()),
        power_sequential_cuped=float(detected[3].mean()),
    )
