"""analyse(): per-variant numbers, comparisons, SRM, power and the verdict basics.

The decision rule itself (roles, levels, guardrails, exposure, keep running) is in
test_decision_rule.py."""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import date

import numpy as np
import pytest
from scipy import stats as sps

from movierec.analysis.config import AnalysisConfig
from movierec.analysis.data import DailyPoint, ExperimentData, VariantData
from movierec.analysis.metrics import METRIC_LABELS
from movierec.analysis.plan import sequential_sample_size
from movierec.analysis.readout import analyse
from movierec.analysis.timeline import timeline
from movierec.errors import ConfigError
from movierec.events import Experiment, Variant
from movierec.stats.calibration import CtrModel, draw_sums, to_stats
from movierec.stats.power import sample_size_per_variant
from movierec.stats.sequential import sequential_test
from movierec.stats.statistics import RatioStats, SampleMeanStats
from tests.fixtures.abdata import (
    ab_data,
    experiment_data,
    simulate_users,
    two_arm_experiment,
    variant_data,
)

CONFIG = AnalysisConfig()
EXPERIMENT = two_arm_experiment()


def three_arm_experiment() -> Experiment:
    return Experiment(
        experiment_id="exp-3",
        salt="s",
        variants=(
            Variant("A", "svd", None, 1 / 3),
            Variant("B", "ease", None, 1 / 3),
            Variant("C", "knn", None, 1 / 3),
        ),
    )


# --------------------------------------------------------------------------- numbers


def test_variant_numbers_match_direct_computation_on_the_user_arrays() -> None:
    rng = np.random.default_rng(7)
    users = simulate_users(rng, 3000)
    data = experiment_data("exp-1", {"A": users, "B": simulate_users(rng, 3000)})
    a = analyse(EXPERIMENT, data, CONFIG).variant("A")

    clicks, imps = users.clicks.astype(float), users.impressions.astype(float)
    ctr = clicks.sum() / imps.sum()
    assert a.users == 3000 and a.impressions == int(imps.sum()) and a.clicks == int(clicks.sum())
    assert a.ctr == pytest.approx(ctr, rel=1e-12)
    # Delta-method standard error from the linearised per-user values (m_i − R d_i) / d̄,
    # the interval on the log scale (a CTR is never below 0).
    linearised = (clicks - ctr * imps) / imps.mean()
    se = linearised.std(ddof=1) / math.sqrt(linearised.size)
    half = sps.norm.ppf(0.975) * se / ctr
    assert a.ctr_ci == pytest.approx((ctr * math.exp(-half), ctr * math.exp(half)), rel=1e-9)
    rated = users.ratings > 0
    assert a.mean_rating == pytest.approx(users.rating_sum.sum() / users.ratings[rated].sum())
    assert a.clicks_per_user == pytest.approx(clicks.mean())


def test_comparisons_agree_with_scipy_and_with_the_engine() -> None:
    rng = np.random.default_rng(3)
    ua, ub = simulate_users(rng, 4000), simulate_users(rng, 4000, lift=0.1)
    data = experiment_data("exp-1", {"A": ua, "B": ub})
    report = analyse(EXPERIMENT, data, CONFIG)

    # clicks per user is a plain mean: its absolute CI is Welch's t interval.
    cpu = report.comparison("clicks_per_user", "B")
    welch = sps.ttest_ind(ub.clicks, ua.clicks, equal_var=False)
    ci = welch.confidence_interval(0.95)
    assert cpu.ci_abs == pytest.approx((ci.low, ci.high), rel=1e-8)
    assert cpu.lift_abs == pytest.approx(ub.clicks.mean() - ua.clicks.mean())

    # CTR: the always-valid numbers are those of the sequential engine.
    ctr = report.comparison("ctr", "B")
    seq = sequential_test(data.variants["A"].ctr, data.variants["B"].ctr, alpha=0.05)
    assert ctr.seq_ci_rel == pytest.approx(seq.ci_rel)
    assert ctr.seq_p_value == pytest.approx(seq.p_value)
    assert ctr.lift_rel == pytest.approx(
        (ub.clicks.sum() / ub.impressions.sum()) / (ua.clicks.sum() / ua.impressions.sum()) - 1
    )
    assert 0.0 <= ctr.chance_to_beat_control <= 1.0
    assert ctr.expected_loss >= 0.0
    # Always-valid intervals are wider than the fixed-horizon ones.
    assert ctr.seq_ci_rel[0] < ctr.ci_rel[0] and ctr.seq_ci_rel[1] > ctr.ci_rel[1]


# --------------------------------------------------------------------------- verdicts


def test_a_clear_ctr_lift_wins() -> None:
    report = analyse(EXPERIMENT, ab_data(1, 5000, 5000, lift=0.3), CONFIG)
    assert report.decision.verdict == "wins"
    assert report.decision.text.startswith(f"B wins on {METRIC_LABELS['ctr']}")
    assert report.comparison("ctr", "B").significant
    assert report.comparison("ctr", "B").chance_to_beat_control > 0.99


def test_a_clear_ctr_drop_loses() -> None:
    report = analyse(EXPERIMENT, ab_data(2, 5000, 5000, lift=-0.3), CONFIG)
    assert report.decision.verdict == "loses"
    assert report.decision.text.startswith(f"B loses on {METRIC_LABELS['ctr']}")


def test_an_undecided_test_says_what_it_still_needs() -> None:
    report = analyse(EXPERIMENT, ab_data(4, 2000, 2000), CONFIG)
    assert report.decision.verdict == "keep_running"
    power = report.power
    assert power.users_per_variant == 2000
    (projection,) = report.decision.projections
    assert projection.mde_more == power.required_sequential - 2000
    assert f"a +5% lift (the plan's MDE) needs about {projection.mde_more:,} more" in report.decision.text
    assert "the data already rule out a drop worse than" in report.decision.text
    # The fixed-horizon number is that of the power module at the control's variance.
    control = ab_data(4, 2000, 2000).variants["A"].ctr
    assert power.required_fixed == sample_size_per_variant(control.mean, control.variance, 0.05)
    assert power.required_sequential > power.required_fixed


def test_a_flat_test_past_its_planned_size_says_there_is_no_difference() -> None:
    report = analyse(EXPERIMENT, ab_data(5, 5000, 5000), AnalysisConfig(mde=0.5))
    assert report.power.users_per_variant >= report.power.target
    assert report.decision.verdict == "no_difference"
    assert f"no significant difference on {METRIC_LABELS['ctr']}" in report.decision.text
    planned = AnalysisConfig(planned_users_per_variant=6000)  # the plan's size, not reached yet
    assert analyse(EXPERIMENT, ab_data(5, 5000, 5000), planned).decision.verdict == "keep_running"


def test_sample_ratio_mismatch_takes_precedence_over_a_win() -> None:
    report = analyse(EXPERIMENT, ab_data(6, 5000, 5600, lift=0.3), CONFIG)
    assert report.comparison("ctr", "B").significant
    assert report.srm.alarm and report.srm.p_value < 0.001
    assert report.decision.verdict == "srm"
    assert report.decision.text.startswith("SRM: do not trust")


def test_the_srm_check_uses_the_configured_weights() -> None:
    uneven = two_arm_experiment(weights=(0.9, 0.1))
    report = analyse(uneven, ab_data(6, 9000, 1000), CONFIG)
    assert not report.srm.alarm
    assert report.srm.expected == pytest.approx((9000.0, 1000.0))


# --------------------------------------------------------------------------- degenerate data


def test_no_data_at_all_is_a_verdict_not_an_error() -> None:
    report = analyse(EXPERIMENT, ExperimentData("exp-1", {}), CONFIG)
    assert report.decision.verdict == "no_data"
    assert report.decision.text == "no data yet: no variant has impressions"
    assert [v.ctr for v in report.variants] == [None, None]
    assert all(c.message for c in report.comparisons)
    assert report.srm.message == "not checked: no users yet"
    json.dumps(report.to_dict(), allow_nan=False)


def test_assigned_users_without_impressions_are_no_data() -> None:
    data = ExperimentData(
        "exp-1",
        {n: dataclasses.replace(VariantData.empty(n), users=10) for n in ("A", "B")},
    )
    assert analyse(EXPERIMENT, data, CONFIG).decision.verdict == "no_data"


def test_a_variant_with_zero_impressions_is_named_in_the_report() -> None:
    data = ab_data(8, 3000, 3000)
    silent = dataclasses.replace(VariantData.empty("B"), users=3000)
    report = analyse(EXPERIMENT, dataclasses.replace(data, variants={**data.variants, "B": silent}), CONFIG)
    ctr = report.comparison("ctr", "B")
    assert ctr.message == "B has no impressions yet" and ctr.p_value is None
    assert report.variant("B").ctr is None and report.variant("B").ctr_ci is None
    assert report.decision.verdict == "keep_running"
    assert report.decision.text == "keep running: B has no impressions yet"


def test_zero_variance_and_a_zero_control_are_explained() -> None:
    no_clicks = RatioStats.from_arrays(np.zeros(50), np.full(50, 4.0))
    control = dataclasses.replace(
        VariantData.empty("A"),
        users=50,
        exposed_users=50,
        impressions=200,
        ctr=no_clicks,
        clicks_per_user=SampleMeanStats.from_arrays(np.zeros(50)),
    )
    data = ab_data(9, 50, 50)
    data = dataclasses.replace(data, variants={"A": control, "B": data.variants["B"]})
    report = analyse(EXPERIMENT, data, CONFIG)
    ctr = report.comparison("ctr", "B")
    assert ctr.message == f"{METRIC_LABELS['ctr']} of A has no variance yet (every user has the same value)"
    assert report.variant("A").ctr == 0.0
    assert report.power.required_fixed is None and report.power.message
    assert report.decision.verdict == "keep_running"
    json.dumps(report.to_dict(), allow_nan=False)


def test_misconfigured_experiments_raise_config_errors() -> None:
    with pytest.raises(ConfigError, match="names metric 'dwell_time'"):
        analyse(dataclasses.replace(EXPERIMENT, primary_metric="dwell_time"), ab_data(1, 10, 10), CONFIG)
    with pytest.raises(ConfigError, match="no variants"):
        analyse(dataclasses.replace(EXPERIMENT, variants=()), ab_data(1, 10, 10), CONFIG)
    with pytest.raises(ConfigError, match="mde"):
        AnalysisConfig(mde=0)


def test_data_for_an_unknown_variant_is_ignored_with_a_note() -> None:
    data = ab_data(10, 500, 500)
    stray = variant_data("Z", simulate_users(np.random.default_rng(0), 10))
    report = analyse(EXPERIMENT, dataclasses.replace(data, variants={**data.variants, "Z": stray}), CONFIG)
    assert [v.variant for v in report.variants] == ["A", "B"]
    assert any("'Z'" in n for n in report.notes)


def test_a_single_variant_experiment_skips_the_srm_check() -> None:
    solo = dataclasses.replace(EXPERIMENT, variants=EXPERIMENT.variants[:1])
    report = analyse(solo, ab_data(1, 100, 100), CONFIG)
    assert report.comparisons == ()
    assert report.srm.message.startswith("not checked")


# --------------------------------------------------------------------------- power and timeline


def test_the_sequential_sample_size_gives_the_configured_power() -> None:
    """Simulate experiments at the computed size: the always-valid test detects the lift ~80%.

    A 5% lift on a low-variance click model keeps the sample small while the
    relative-lift estimate stays close to normal (at 20% lifts its right skew
    alone adds a few points of power).
    """
    model = CtrModel(p_impressions=0.05, ctr_a=50.0, ctr_b=450.0)
    rng = np.random.default_rng(2026)
    lift, runs = 0.05, 600
    pilot = to_stats(draw_sums(rng, model, 200_000, 1)[0])
    pilot_b = to_stats(draw_sums(rng, model, 200_000, 1, lift=lift)[0])
    n = sequential_sample_size(
        pilot.mean,
        pilot.variance,
        lift,
        alpha=0.05,
        power=0.8,
        tuning_parameter=5000,
        treatment_variance=pilot_b.variance,
    )
    fixed = sample_size_per_variant(
        pilot.mean, pilot.variance, lift, treatment_variance=pilot_b.variance
    )
    assert n is not None and 1.5 * fixed < n < 3 * fixed
    control = draw_sums(rng, model, n, runs)
    treatment = draw_sums(rng, model, n, runs, lift=lift)
    detected = np.mean(
        [
            sequential_test(to_stats(a), to_stats(b), tuning_parameter=5000).ci_rel[0] > 0
            for a, b in zip(control, treatment)
        ]
    )
    assert abs(detected - 0.8) < 0.05  # 3 binomial standard errors at 600 runs


def test_sequential_sample_size_is_none_for_degenerate_baselines() -> None:
    kwargs = {"alpha": 0.05, "power": 0.8, "tuning_parameter": 5000.0}
    assert sequential_sample_size(0.0, 1.0, 0.05, **kwargs) is None
    assert sequential_sample_size(0.1, 0.0, 0.05, **kwargs) is None


def test_the_timeline_is_cumulative_and_ends_at_the_totals() -> None:
    data = ab_data(12, 3000, 3000, lift=0.2, days=5)
    points = timeline(data, ["A", "B"], "ctr", CONFIG)
    assert [p.day for p in points] == [f"2026-11-0{d}" for d in range(1, 6)]
    report = analyse(EXPERIMENT, data, CONFIG)
    assert points[-1].values["A"] == pytest.approx(report.variant("A").ctr)
    assert points[-1].lifts["B"] == pytest.approx(report.comparison("ctr", "B").lift_rel)
    assert points[-1].seq_cis["B"] == pytest.approx(report.comparison("ctr", "B").seq_ci_rel)
    widths = [p.seq_cis["B"][1] - p.seq_cis["B"][0] for p in points]
    assert widths == sorted(widths, reverse=True)  # more users, narrower sequence


def test_a_day_without_a_variant_is_an_empty_point() -> None:
    data = ab_data(13, 200, 200, days=2)
    first = DailyPoint(date(2026, 10, 31), {"A": data.daily[0].variants["A"]})
    points = timeline(dataclasses.replace(data, daily=[first, *data.daily]), ["A", "B"], "ctr", CONFIG)
    assert points[0].values["B"] is None and points[0].lifts["B"] is None
