"""The full-rule calibration (scripts/bench_decision_rule.py) at a small size: the
simulated statistics are the sums they claim, and on the same experiments the new rule
wins whenever the old one (every metric Holm-adjusted together) does, or sooner."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.analysis.config import AnalysisConfig
from movierec.analysis.rule_calibration import (
    UserModel,
    count_decisions,
    draw_sums,
    new_rule,
    old_rule,
    two_arm,
    variant_data,
)
from movierec.events import Plan


def test_the_drawn_sums_are_sufficient_statistics_of_the_model() -> None:
    rows = draw_sums(np.random.default_rng(0), UserModel(), 50_000, 2, lift=0.2)
    v = variant_data("B", rows[0])
    assert v.users == v.exposed_users == 50_000
    assert v.impressions / v.users == pytest.approx(5.0, rel=0.03)  # Geometric(0.2)
    assert v.ctr.mean == pytest.approx(0.12, rel=0.05)  # Beta(1, 9) mean 0.10, +20%
    assert v.rating.mean == pytest.approx(3.5, abs=0.05)
    assert v.rating.n < v.users and v.ctr.error is None and v.rating.error is None


def test_on_the_same_experiments_the_new_rule_wins_at_least_as_often() -> None:
    config = AnalysisConfig(tuning_parameter=12_000, planned_users_per_variant=6000)
    rules = {
        "new": new_rule(two_arm(plan=Plan(mde=0.1, alpha=0.05, power=0.8),
                                secondary_metrics=("rating", "clicks_per_user")), config),
        "old": old_rule(config),
    }
    counts = count_decisions(np.random.default_rng(3), rules, n_experiments=12, days=3,
                             users_per_day_per_arm=2000, lift=0.1)
    assert counts["new"]["wins"] >= counts["old"]["wins"] > 0
    assert counts["new"]["loses"] == counts["old"]["loses"] == 0
