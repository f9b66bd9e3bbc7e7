"""The promotion gate: the metric rule with known answers, sanity checks on real scorers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movierec.errors import ConfigError
from movierec.models.base import TrainingData
from movierec.models.ease import EASE
from movierec.models.scoring import scorer_for
from movierec.retraining.gate import GatePolicy, SanityReport, decide, primary_metric, sanity_checks

OK = SanityReport(users_checked=10, finite=True, coverage=0.3, seen_recommended=0)
POLICY = GatePolicy(tolerance=0.02, coverage_floor=0.05)


def test_primary_metric_follows_what_the_model_predicts():
    assert (primary_metric(True).name, primary_metric(True).higher_is_better) == ("rmse", False)
    assert (primary_metric(False).name, primary_metric(False).higher_is_better) == ("ndcg@10", True)


@pytest.mark.parametrize(
    ("candidate", "promote"),
    [(0.40, True), (0.392, True), (0.3919, False), (0.10, False)],
)
def test_ranking_metric_may_drop_by_the_tolerance_and_no_more(candidate, promote):
    decision = decide(primary_metric(False), {"ndcg@10": candidate}, {"ndcg@10": 0.40}, OK, POLICY)
    assert decision.promote is promote
    assert decision.threshold == pytest.approx(0.392)


@pytest.mark.parametrize(("candidate", "promote"), [(0.90, True), (0.918, True), (0.9181, False)])
def test_rating_metric_may_rise_by_the_tolerance_and_no_more(candidate, promote):
    decision = decide(primary_metric(True), {"rmse": candidate}, {"rmse": 0.90}, OK, POLICY)
    assert decision.promote is promote
    if not promote:
        assert decision.reasons == [f"rmse {candidate:.4f} > 0.9180 (live 0.9000 with tolerance 2%)"]


def test_without_a_live_model_only_sanity_decides():
    assert decide(primary_metric(False), {"ndcg@10": 0.01}, None, OK, POLICY).promote
    bad = SanityReport(10, finite=False, coverage=0.01, seen_recommended=3)
    decision = decide(primary_metric(False), {"ndcg@10": 0.5}, None, bad, POLICY, checksums_ok=False)
    assert not decision.promote
    assert len(decision.reasons) == 4
    assert "catalogue coverage 0.0100 below the floor 0.0500" in decision.reasons


def test_policy_values_are_checked():
    with pytest.raises(ConfigError, match="tolerance"):
        GatePolicy(tolerance=1.5)


def test_sanity_checks_pass_on_a_real_model_and_catch_seen_items(base):
    ratings = base.training.ratings[base.training.ratings["user_id"] <= 60]
    artifact = EASE(l2=200.0).fit(TrainingData(ratings, base.training.rating_scale))
    scorer = scorer_for(artifact.kind, artifact.arrays)
    report = sanity_checks(scorer, ratings, k=10, max_users=30)
    assert (report.users_checked, report.finite, report.seen_recommended) == (30, True, 0)
    assert report.coverage > 0.02

    # Training data the artifact does not know about (a history array out of step):
    # what the model recommends to user 1 is, per this data, already rated.
    recommended = scorer.recommend(1, 10).item_ids
    extra = ratings.iloc[:3].assign(item_id=recommended[:3], user_id=1)
    stale = sanity_checks(scorer, pd.concat([ratings, extra]), k=10, max_users=30)
    assert stale.seen_recommended == 3

    arrays = dict(artifact.arrays)
    arrays["weights"] = arrays["weights"].copy()
    arrays["weights"][0, 0] = np.nan
    assert not sanity_checks(scorer_for("item_item", arrays), ratings, k=10, max_users=30).finite
