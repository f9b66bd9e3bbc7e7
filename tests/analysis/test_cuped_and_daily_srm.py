"""The read-out uses each user's pre-exposure activity (CUPED) and checks the split daily.

Both mechanisms are tested in movierec.stats against gbstats and ssrm-test values; here
the point is that ``analyse`` actually uses them, and falls back when it can't.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from movierec.analysis.config import AnalysisConfig
from movierec.analysis.readout import analyse
from movierec.stats.adjusted import PrePostRatioStats
from movierec.stats.statistics import RatioStats
from tests.fixtures.abdata import ab_data, two_arm_experiment

EXPERIMENT = two_arm_experiment()


def with_correlated_history(data, seed: int = 3):
    """Each user's pre-exposure clicks and lists track their post ones (persistent taste)."""
    rng = np.random.default_rng(seed)
    variants = {}
    for name, v in data.variants.items():
        n = v.ctr.n
        lists = rng.poisson(20, n) + 1
        rate = rng.beta(1, 6, n)
        clicks = rng.binomial(lists, rate)
        pre_lists = rng.poisson(20, n) + 1
        pre_clicks = rng.binomial(pre_lists, rate)
        post = RatioStats.from_arrays(clicks, lists)
        pre = RatioStats.from_arrays(pre_clicks, pre_lists)
        paired = PrePostRatioStats(
            post, pre,
            float(clicks @ pre_clicks), float(lists @ pre_lists),
            float(clicks @ pre_lists), float(lists @ pre_clicks),
        )
        variants[name] = dataclasses.replace(v, ctr=post, ctr_pre=paired)
    return dataclasses.replace(data, variants=variants)


def test_cuped_narrows_the_primary_interval_and_can_be_turned_off() -> None:
    data = with_correlated_history(ab_data(11, 3000, 3000))
    adjusted = analyse(EXPERIMENT, data, AnalysisConfig()).comparison("ctr", "B")
    plain = analyse(EXPERIMENT, data, AnalysisConfig(cuped=False)).comparison("ctr", "B")
    assert adjusted.variance_ratio is not None and adjusted.variance_ratio < 0.9
    assert plain.variance_ratio is None
    width = lambda c: c.seq_ci_rel[1] - c.seq_ci_rel[0]  # noqa: E731
    assert width(adjusted) < width(plain)
    assert adjusted.control_value == plain.control_value  # the shown CTR stays unadjusted


def test_without_pre_exposure_data_the_test_is_the_plain_one() -> None:
    data = ab_data(12, 2000, 2000, lift=0.1)  # pre-exposure statistics empty
    on = analyse(EXPERIMENT, data, AnalysisConfig()).comparison("ctr", "B")
    off = analyse(EXPERIMENT, data, AnalysisConfig(cuped=False)).comparison("ctr", "B")
    assert on.variance_ratio is None and on.seq_ci_rel == off.seq_ci_rel


def test_the_split_is_checked_over_the_daily_looks() -> None:
    report = analyse(EXPERIMENT, ab_data(13, 3000, 3000, days=7), AnalysisConfig())
    assert "sequential p over 7 daily looks" in report.srm.message and not report.srm.alarm
    broken = analyse(EXPERIMENT, ab_data(14, 3000, 2400, days=7), AnalysisConfig())
    assert broken.srm.alarm and "sequential p" in broken.srm.message
    assert broken.decision.verdict == "srm"
