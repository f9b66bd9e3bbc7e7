"""The plan: a sample size from the always-valid test's power, recorded and used as its
tuning parameter; configs without a plan get the documented defaults and say so. And
per-variant intervals that stay in their metric's range."""

from __future__ import annotations

import math

import numpy as np
import pytest

from movierec.analysis.config import AnalysisConfig
from movierec.analysis.intervals import clip_lift, rate_ci
from movierec.analysis.plan import analysis_config, make_plan, sequential_sample_size
from movierec.analysis.readout import analyse
from movierec.errors import ConfigError
from movierec.reporting.report import render_text
from movierec.reporting.view import build_view
from movierec.stats.statistics import RatioStats, SampleMeanStats
from tests.fixtures.abdata import ab_data, two_arm_experiment


def test_the_plan_is_the_fixed_point_of_sample_size_and_tuning() -> None:
    plan = make_plan("ctr", 2, mde=0.1, alpha=0.05, power=0.8, baseline=0.25)
    assert plan.baseline_variance == pytest.approx(0.25 * 0.75)  # the documented default
    assert plan.total_users == 2 * plan.users_per_variant
    assert plan.users_per_variant == sequential_sample_size(
        0.25, 0.1875, 0.1, alpha=0.05, power=0.8, tuning_parameter=plan.total_users
    )


def test_a_plan_with_more_arms_uses_the_primarys_share_of_alpha() -> None:
    two = make_plan("ctr", 2, mde=0.2, baseline=0.1)
    three = make_plan("ctr", 3, mde=0.2, baseline=0.1)
    assert three.users_per_variant == sequential_sample_size(
        0.1, 0.09, 0.2, alpha=0.025, power=0.8, tuning_parameter=three.total_users
    )
    assert three.users_per_variant > two.users_per_variant


def test_plans_refuse_what_they_cannot_size() -> None:
    with pytest.raises(ConfigError, match="baseline-variance"):
        make_plan("rating", 2, baseline=3.5)
    assert make_plan("rating", 2, baseline=3.5, baseline_variance=1.2).users_per_variant
    with pytest.raises(ConfigError, match="alpha"):
        make_plan("ctr", 2, alpha=1.5, baseline=0.1)
    with pytest.raises(ConfigError, match="needs --baseline"):
        make_plan("ctr", 2, baseline_variance=0.1)
    assert make_plan("ctr", 2).users_per_variant is None  # no baseline: levels only


def test_the_recorded_plan_fixes_the_analysis() -> None:
    plan = make_plan("ctr", 2, mde=0.5, alpha=0.1, power=0.9, baseline=0.1)
    config, summary = analysis_config(two_arm_experiment(plan=plan))
    assert (config.alpha, config.power, config.mde) == (0.1, 0.9, 0.5)
    assert config.tuning_parameter == plan.total_users
    assert config.planned_users_per_variant == plan.users_per_variant
    assert summary.recorded and f"{plan.users_per_variant:,} users per variant" in summary.text
    report = analyse(two_arm_experiment(plan=plan), ab_data(1, 800, 800, lift=0.3))
    assert report.config == config and report.plan == summary
    assert report.comparison("ctr", "B").alpha == 0.1


def test_an_old_config_gets_the_documented_defaults_and_the_report_says_so() -> None:
    config, summary = analysis_config(two_arm_experiment())
    assert config == AnalysisConfig() and not summary.recorded
    assert config.tuning_parameter == 5000 and config.mde == 0.05
    text = render_text(analyse(two_arm_experiment(), ab_data(1, 500, 500)))
    assert "no recorded plan (experiment created before plans): the documented defaults apply" in text
    no_baseline = analyse(two_arm_experiment(plan=make_plan("ctr", 2)), ab_data(1, 500, 500))
    assert "plan without a baseline" in no_baseline.plan.text


# --------------------------------------------------------------------------- intervals in range


def test_a_rate_interval_never_leaves_its_range() -> None:
    # 40 users, 3 clicks in 120 lists: the normal interval would go below 0.
    clicks = np.zeros(40)
    clicks[:3] = 1
    ctr = RatioStats.from_arrays(clicks, np.full(40, 3.0))
    half = 1.96 * math.sqrt(ctr.variance / ctr.n)
    assert ctr.mean - half < 0
    lo, hi = rate_ci(ctr, 0.05, "ctr")
    assert 0 < lo < ctr.mean < hi
    # log scale: the point estimate is the geometric middle
    assert math.sqrt(lo * hi) == pytest.approx(ctr.mean)
    # A proportion (item CTR) stays inside [0, 1] on the logit scale, even near 1.
    shown = np.full(30, 2.0)
    item = RatioStats.from_arrays(np.r_[np.full(29, 2.0), [1.0]], shown)
    lo, hi = rate_ci(item, 0.05, "item_ctr")
    assert 0 < lo < item.mean < hi < 1
    # The rating stays in [1, 5].
    rating = RatioStats.from_arrays(np.r_[np.full(9, 5.0), [4.0]], np.ones(10))
    lo, hi = rate_ci(rating, 0.05, "rating")
    assert 1 <= lo < rating.mean < hi <= 5
    # Clicks per user: never below 0.
    lo, _ = rate_ci(SampleMeanStats.from_arrays(np.r_[np.zeros(30), [4.0]]), 0.05, "clicks_per_user")
    assert lo > 0


def test_relative_lifts_are_cut_at_minus_100_percent_and_the_report_says_so() -> None:
    assert clip_lift((-1.4, 0.3), "ctr") == ((-1.0, 0.3), True)
    assert clip_lift((-0.4, 0.3), "ctr") == ((-0.4, 0.3), False)
    report = analyse(two_arm_experiment(), ab_data(7, 12, 12, lift=-0.6))
    view = build_view(report)
    raw = report.comparison("ctr", "B").seq_ci_rel
    assert raw is not None and raw[0] < -1  # a dozen users per arm: very wide
    row = next(r for r in view.comparisons if r.metric == "ctr")
    assert row.ci.startswith("[-100.0%") and row.ci.endswith("^")
    assert any("cut at -100%" in n for n in view.notes)
    assert report.comparison("ctr", "B").seq_ci_rel == raw  # the decision reads the real bound
