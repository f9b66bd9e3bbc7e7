"""Calibration checks of the A/B engine by simulation on sufficient statistics.

The user model is that of a recommender's click log, with the two features that
make naive impression-level tests wrong: users see different numbers of
impressions, and users differ in how much they click::

    impressions_i ~ Geometric(p_imp)        (>= 1, mean 1/p_imp)
    ctr_i         ~ Beta(a, b)              (mean a/(a+b))
    clicks_i      ~ Binomial(impressions_i, min(1, ctr_i (1 + lift)))

Users are drawn in vectorised batches and reduced at once to the six sums of
:class:`RatioStats`; each check then calls the same public test functions that
reports use. Used by ``scripts/bench_calibration.py`` (large runs) and by
``tests/stats/test_calibration.py`` (small runs). The CUPED simulation, with its
own user model of pre- and post-exposure activity, is in
:mod:`movierec.stats.calibration_cuped`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import chisquare, norm

from movierec.stats.frequentist import two_sample_test
from movierec.stats.noninferiority import non_inferiority
from movierec.stats.power import sample_size_per_variant
from movierec.stats.sequential import sequential_test
from movierec.stats.srm import (
    DEFAULT_SRM_THRESHOLD,
    sequential_p_values,
    srm_check,
    srm_concentration,
    srm_log_bayes_factor,
)
from movierec.stats.statistics import RatioStats

_MAX_USERS_PER_BATCH = 2_000_000


@dataclass(frozen=True)
class CtrModel:
    p_impressions: float = 0.2  # geometric: mean 5 impressions per user
    ctr_a: float = 1.0  # Beta(1, 9): mean CTR 0.10, strongly heterogeneous
    ctr_b: float = 9.0

    @property
    def mean_ctr(self) -> float:
        return self.ctr_a / (self.ctr_a + self.ctr_b)


DEFAULT_MODEL = CtrModel()


def draw_sums(
    rng: np.random.Generator, model: CtrModel, n_users: int, n_groups: int, lift: float = 0.0
) -> np.ndarray:
    """Sufficient statistics of ``n_groups`` independent groups of ``n_users`` users.

    Returns an array of shape (n_groups, 6): Σclicks, Σclicks², Σimpressions,
    Σimpressions², Σclicks·impressions, and n.
    """
    out = np.empty((n_groups, 6))
    batch = max(1, _MAX_USERS_PER_BATCH // n_users)
    for start in range(0, n_groups, batch):
        rows = min(batch, n_groups - start)
        imp = rng.geometric(model.p_impressions, size=(rows, n_users))
        ctr = np.minimum(1.0, rng.beta(model.ctr_a, model.ctr_b, size=(rows, n_users)) * (1 + lift))
        clicks = rng.binomial(imp, ctr).astype(float)
        imp = imp.astype(float)
        out[start : start + rows] = np.column_stack(
            [
                clicks.sum(1),
                (clicks * clicks).sum(1),
                imp.sum(1),
                (imp * imp).sum(1),
                (clicks * imp).sum(1),
                np.full(rows, n_users, dtype=float),
            ]
        )
    return out


def to_stats(row: np.ndarray) -> RatioStats:
    m, m2, d, d2, md, n = row
    return RatioStats(int(n), float(m), float(m2), float(d), float(d2), float(md))


def binomial_se(rate: float, trials: int) -> float:
    """Standard error of an observed rate over ``trials`` Bernoulli trials."""
    return float(np.sqrt(rate * (1.0 - rate) / trials))


@dataclass(frozen=True)
class AAResult:
    n_experiments: int
    users_per_arm: int
    fpr: float  # delta-method Welch test on CTR, users as the unit
    fpr_naive_impressions: float  # pooled two-proportion z test on impressions (wrong unit)


def aa_false_positive_rate(
    rng: np.random.Generator,
    n_experiments: int,
    users_per_arm: int,
    *,
    alpha: float = 0.05,
    model: CtrModel = DEFAULT_MODEL,
) -> AAResult:
    """Share of A/A experiments whose CTR test rejects at ``alpha``."""
    sums = draw_sums(rng, model, users_per_arm, 2 * n_experiments).reshape(n_experiments, 2, 6)
    rejections = sum(
        two_sample_test(to_stats(a), to_stats(b), alpha=alpha).p_value < alpha for a, b in sums
    )
    # The mistake this engine exists to avoid: treating impressions as independent.
    clicks, imps = sums[:, :, 0], sums[:, :, 2]
    pooled = clicks.sum(1) / imps.sum(1)
    z = (clicks[:, 1] / imps[:, 1] - clicks[:, 0] / imps[:, 0]) / np.sqrt(
        pooled * (1 - pooled) * (1 / imps[:, 0] + 1 / imps[:, 1])
    )
    naive = float(np.mean(2 * norm.sf(np.abs(z)) < alpha))
    return AAResult(n_experiments, users_per_arm, rejections / n_experiments, naive)


@dataclass(frozen=True)
class PeekingResult:
    n_experiments: int
    days: int
    users_per_day_per_arm: int
    tuning_parameter: float
    fpr_naive: float  # stop at the first daily fixed-horizon p < alpha
    fpr_sequential: float  # stop at the first daily always-valid p < alpha


def peeking_false_positive_rates(
    rng: np.random.Generator,
    n_experiments: int,
    days: int,
    users_per_day_per_arm: int,
    *,
    alpha: float = 0.05,
    model: CtrModel = DEFAULT_MODEL,
) -> PeekingResult:
    """A/A experiments looked at daily: how often does any look reject?

    New users arrive every day; daily aggregates are merged by adding
    sufficient statistics, exactly as a report over a date range does. The
    sequential test is tuned to the final total sample size.
    """
    daily = draw_sums(rng, model, users_per_day_per_arm, n_experiments * days * 2)
    cumulative = np.cumsum(daily.reshape(n_experiments, days, 2, 6), axis=1)
    tuning = 2.0 * days * users_per_day_per_arm
    naive = sequential = 0
    for experiment in cumulative:
        looks = [(to_stats(a), to_stats(b)) for a, b in experiment]
        naive += any(two_sample_test(a, b, alpha=alpha).p_value < alpha for a, b in looks)
        sequential += any(
            sequential_test(a, b, alpha=alpha, tuning_parameter=tuning).p_value < alpha
            for a, b in looks
        )
    return PeekingResult(
        n_experiments,
        days,
        users_per_day_per_arm,
        tuning,
        naive / n_experiments,
        sequential / n_experiments,
    )


@dataclass(frozen=True)
class PowerResult:
    n_experiments: int
    relative_lift: float
    target_power: float
    users_per_arm: int  # from power.sample_size_per_variant, planned on a pilot
    power: float  # observed share of experiments that detect the lift


def power_at_planned_size(
    rng: np.random.Generator,
    n_experiments: int,
    relative_lift: float,
    *,
    alpha: float = 0.05,
    target_power: float = 0.8,
    pilot_users: int = 200_000,
    model: CtrModel = DEFAULT_MODEL,
) -> PowerResult:
    """Plan the sample size on a pilot (historical) sample, then measure the power."""
    pilot = to_stats(draw_sums(rng, model, pilot_users, 1)[0])
    n = sample_size_per_variant(
        pilot.mean, pilot.variance, relative_lift, alpha=alpha, power=target_power
    )
    control = draw_sums(rng, model, n, n_experiments)
    treatment = draw_sums(rng, model, n, n_experiments, lift=relative_lift)
    detected = 0
    for a, b in zip(control, treatment, strict=True):
        result = two_sample_test(to_stats(a), to_stats(b), alpha=alpha)
        detected += result.p_value < alpha and result.lift_rel > 0
    return PowerResult(n_experiments, relative_lift, target_power, n, detected / n_experiments)


@dataclass(frozen=True)
class SrmRates:
    n_seeds: int
    users: int
    mismatch: float
    detection_rate: float  # alarms with `mismatch` of the treatment's users lost
    false_alarm_rate: float  # alarms with a correct 50/50 split
    threshold: float


def srm_rates(
    rng: np.random.Generator,
    n_seeds: int,
    users: int,
    *,
    mismatch: float = 0.10,
    threshold: float = 0.001,
) -> SrmRates:
    """Alarm rates of the SRM check on a 50/50 split, broken and intact.

    The broken split loses ``mismatch`` of the treatment's users (a crash or a
    logging gap), so the observed shares are 1 : (1 − mismatch).
    """
    broken_share = (1 - mismatch) / (2 - mismatch)
    broken = rng.multinomial(users, [1 - broken_share, broken_share], size=n_seeds)
    balanced = rng.multinomial(users, [0.5, 0.5], size=n_seeds)
    weights = (1.0, 1.0)
    detected = sum(srm_check(row, weights, threshold=threshold).alarm for row in broken)
    false_alarms = sum(srm_check(row, weights, threshold=threshold).alarm for row in balanced)
    return SrmRates(
        n_seeds, users, mismatch, detected / n_seeds, false_alarms / n_seeds, threshold
    )


@dataclass(frozen=True)
class DailySrmRates:
    """Share of experiments alarmed at any of ``days`` daily looks (the report's reading)."""

    n_experiments: int
    days: int
    users_per_day: int
    mismatch: float  # share of the treatment's users lost; 0 is a healthy (A/A) split
    threshold: float
    concentration: float
    sequential: float  # sequential_srm_check: always-valid p < threshold at any look
    chi_square_daily: float  # srm_check at every look: p < threshold at any look
    chi_square_final: float  # srm_check once, on the last day
    mean_alarm_day: float | None  # sequential: mean first-alarm day (1-based), when alarmed


def daily_srm_alarm_rates(
    rng: np.random.Generator,
    n_experiments: int,
    days: int,
    users_per_day: int,
    *,
    mismatch: float = 0.0,
    threshold: float = DEFAULT_SRM_THRESHOLD,
    concentration: float | None = None,
) -> DailySrmRates:
    """A 50/50 experiment read daily; with ``mismatch`` of the treatment's users lost.

    ``concentration`` defaults to :func:`srm_concentration` of the final number of
    users, as a report tuned to the planned sample size would use. Both tests run
    vectorised over all experiments and looks on the same statistics as
    :func:`sequential_srm_check` and :func:`srm_check`.
    """
    c = srm_concentration(days * users_per_day, threshold) if concentration is None else concentration
    share = (1 - mismatch) / (2 - mismatch)
    daily = rng.multinomial(users_per_day, [1 - share, share], size=(n_experiments, days))
    cumulative = np.cumsum(daily, axis=1).astype(float)
    p_seq = sequential_p_values(srm_log_bayes_factor(cumulative, (1.0, 1.0), c))
    expected = np.repeat(cumulative.sum(axis=-1, keepdims=True) / 2, 2, axis=-1)
    p_chi = chisquare(cumulative, expected, axis=-1).pvalue
    alarmed = p_seq < threshold
    any_alarm = alarmed.any(axis=1)
    first_day = alarmed.argmax(axis=1)[any_alarm] + 1
    return DailySrmRates(
        n_experiments=n_experiments,
        days=days,
        users_per_day=users_per_day,
        mismatch=mismatch,
        threshold=threshold,
        concentration=c,
        sequential=float(any_alarm.mean()),
        chi_square_daily=float((p_chi < threshold).any(axis=1).mean()),
        chi_square_final=float((p_chi[:, -1] < threshold).mean()),
        mean_alarm_day=float(first_day.mean()) if first_day.size else None,
    )


@dataclass(frozen=True)
class NonInferiorityRates:
    n_experiments: int
    days: int
    users_per_day_per_arm: int
    margin: float
    true_lift: float
    claimed: float  # share of experiments declared non-inferior at any daily look


def non_inferiority_claim_rate(
    rng: np.random.Generator,
    n_experiments: int,
    days: int,
    users_per_day_per_arm: int,
    *,
    margin: float = 0.02,
    true_lift: float | None = None,
    alpha: float = 0.05,
    model: CtrModel = DEFAULT_MODEL,
) -> NonInferiorityRates:
    """How often the daily guardrail check declares the CTR non-inferior.

    With ``true_lift`` = −``margin`` (the default: the variant is exactly as bad as
    the margin allows, the worst case of H0) every claim is false, and the rate
    must stay at most ``alpha``; with a true lift inside the margin it is the power.
    """
    lift = -margin if true_lift is None else true_lift
    control = draw_sums(rng, model, users_per_day_per_arm, n_experiments * days)
    treatment = draw_sums(rng, model, users_per_day_per_arm, n_experiments * days, lift=lift)
    cumulative_a = np.cumsum(control.reshape(n_experiments, days, 6), axis=1)
    cumulative_b = np.cumsum(treatment.reshape(n_experiments, days, 6), axis=1)
    tuning = 2.0 * days * users_per_day_per_arm
    claimed = 0
    for looks_a, looks_b in zip(cumulative_a, cumulative_b, strict=True):
        claimed += any(
            non_inferiority(
                sequential_test(to_stats(a), to_stats(b), alpha=alpha, tuning_parameter=tuning),
                margin,
            ).non_inferior
            for a, b in zip(looks_a, looks_b, strict=True)
        )
    return NonInferiorityRates(
        n_experiments, days, users_per_day_per_arm, margin, lift, claimed / n_experiments
    )
