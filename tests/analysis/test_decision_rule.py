"""The decision rule, one test per part: the primary alone decides, at α split over arms;
guardrails are one-sided non-inferiority tests on the always-valid interval; secondary
metrics are BH-adjusted and never decide; SRM and multiple exposure block; keep running
says what the observed effect and the MDE need; every interval is the decision's."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from movierec.analysis.comparison import guardrail_alpha, primary_alpha
from movierec.analysis.config import AnalysisConfig
from movierec.analysis.data import Exclusions, ExperimentData
from movierec.analysis.metrics import METRIC_LABELS, metric_stats
from movierec.analysis.plan import sequential_sample_size
from movierec.analysis.readout import analyse
from movierec.analysis.timeline import timeline
from movierec.events import Experiment, Guardrail, Plan, Variant
from movierec.reporting.report import render_text
from movierec.reporting.view import build_view, interval
from movierec.stats.sequential import sequential_test
from tests.fixtures.abdata import experiment_data, simulate_users, two_arm_experiment

PLAN = Plan(mde=0.1, alpha=0.05, power=0.8)  # recorded, so no default secondaries
CTR, RATING = METRIC_LABELS["ctr"], METRIC_LABELS["rating"]


def arms(seed: int, n: int, **treatments: dict) -> ExperimentData:
    """A control A and one arm per keyword, each with ``simulate_users`` options."""
    rng = np.random.default_rng(seed)
    users = {"A": simulate_users(rng, n)}
    users.update({name: simulate_users(rng, n, **opts) for name, opts in treatments.items()})
    return experiment_data("exp-1", users)


def three_arms(**kwargs) -> Experiment:
    return Experiment(
        "exp-1", "s",
        tuple(Variant(name, "svd", None, 1 / 3) for name in ("A", "B", "C")),
        plan=PLAN, **kwargs,
    )


def config(n_per_arm: int) -> AnalysisConfig:
    return AnalysisConfig(tuning_parameter=2 * n_per_arm)


# --------------------------------------------------------------------------- the primary


def test_the_primary_alone_decides_and_more_metrics_do_not_change_it() -> None:
    data = arms(1, 4000, B={"lift": 0.12})
    cfg = config(4000)
    alone = analyse(two_arm_experiment(plan=PLAN), data, cfg)
    crowded = analyse(
        two_arm_experiment(plan=PLAN, guardrails=(Guardrail("rating", 0.05),),
                           secondary_metrics=("clicks_per_user", "rating")),
        data, cfg,
    )
    a, b = alone.comparison("ctr", "B"), crowded.comparison("ctr", "B")
    assert [c.metric for c in alone.comparisons] == ["ctr"]
    # rating is a guardrail, so it is not also a secondary metric
    assert [(c.metric, c.role) for c in crowded.comparisons] == [
        ("ctr", "primary"), ("rating", "guardrail"), ("clicks_per_user", "secondary")]
    for field in ("seq_ci_rel", "seq_p_value", "adjusted_p_value", "ci_rel", "significant", "outcome"):
        assert getattr(a, field) == getattr(b, field), field
    # One treatment: all of alpha, no correction at all.
    seq = sequential_test(data.variants["A"].ctr, data.variants["B"].ctr, alpha=0.05, tuning_parameter=8000)
    assert a.alpha == 0.05 and a.seq_ci_rel == pytest.approx(seq.ci_rel)
    assert a.adjusted_p_value == pytest.approx(seq.p_value)


def test_the_primary_is_corrected_across_arms_only_and_secondaries_are_bh_adjusted() -> None:
    data = arms(11, 3000, B={"lift": 0.15}, C={"lift": -0.05})
    cfg = config(3000)
    report = analyse(three_arms(secondary_metrics=("rating", "clicks_per_user")), data, cfg)
    for name in ("B", "C"):
        c = report.comparison("ctr", name)
        seq = sequential_test(data.variants["A"].ctr, data.variants[name].ctr, alpha=0.025,
                              tuning_parameter=6000)
        assert c.alpha == primary_alpha(0.05, 2) == 0.025
        assert c.seq_ci_rel == pytest.approx(seq.ci_rel)
        assert c.adjusted_p_value == pytest.approx(min(1.0, 2 * seq.p_value))
        assert c.significant == (c.seq_ci_rel[0] > 0 or c.seq_ci_rel[1] < 0)
        assert c.significant == (c.adjusted_p_value < 0.05)
    assert report.comparison("ctr", "B").outcome == "better"
    secondary = [c for c in report.comparisons if c.role == "secondary"]
    assert {c.metric for c in secondary} == {"rating", "clicks_per_user"} and len(secondary) == 4
    reject, expected, _, _ = multipletests([c.seq_p_value for c in secondary], alpha=0.05, method="fdr_bh")
    assert [c.adjusted_p_value for c in secondary] == pytest.approx(list(expected))
    assert [c.significant for c in secondary] == list(reject)
    assert all(c.alpha == 0.05 for c in secondary)


def test_secondary_metrics_never_change_the_verdict() -> None:
    # clicks per user rises as much as CTR, but only the primary (mean rating, flat) decides.
    data = arms(3, 5000, B={"lift": 0.3})
    report = analyse(two_arm_experiment(plan=PLAN, primary_metric="rating",
                                        secondary_metrics=("clicks_per_user",)), data, config(5000))
    assert report.comparison("clicks_per_user", "B").outcome == "better"
    assert report.decision.verdict in ("keep_running", "no_difference")


# --------------------------------------------------------------------------- guardrails


def guarded(margin: float) -> Experiment:
    return two_arm_experiment(plan=PLAN, guardrails=(Guardrail("rating", margin),))


def test_a_guardrail_is_a_one_sided_level_alpha_test_on_the_always_valid_interval() -> None:
    data = arms(2, 20000, B={"lift": 0.3, "rating_shift": -0.2})
    report = analyse(guarded(0.10), data, config(20000))
    g = report.comparison("rating", "B")
    # Two-sided 2α/(1+α): each bound is a one-sided level-α bound (comparison docstring).
    assert g.alpha == pytest.approx(guardrail_alpha(0.05)) == pytest.approx(0.1 / 1.05)
    seq = sequential_test(data.variants["A"].rating, data.variants["B"].rating,
                          alpha=0.1 / 1.05, tuning_parameter=40000)
    assert g.seq_ci_rel == pytest.approx(seq.ci_rel)
    # A significant drop, within its 10% margin: the guardrail passes and B wins.
    assert g.seq_ci_rel[1] < 0 and g.seq_ci_rel[0] > -0.10
    assert g.outcome == "non_inferior"
    assert report.decision.verdict == "wins"
    assert "every guardrail non-inferior" in report.decision.text
    assert any(r.startswith(f"guardrail {RATING}, B vs A") and "non-inferior" in r for r in report.decision.reasons)


def test_a_guardrail_significantly_worse_than_its_margin_blocks_a_win() -> None:
    data = arms(1, 5000, B={"lift": 0.3, "rating_shift": -1.0})
    report = analyse(guarded(0.01), data, config(5000))
    assert report.comparison("ctr", "B").outcome == "better"
    g = report.comparison("rating", "B")
    assert g.seq_ci_rel[1] < -0.01 and g.outcome == "inferior"
    assert report.decision.verdict == "loses"
    assert report.decision.text.startswith(f"B loses: guardrail {RATING} is worse than its -1% margin")


def test_a_guardrail_not_yet_shown_within_its_margin_keeps_the_test_running() -> None:
    data = arms(3, 5000, B={"lift": 0.3})
    report = analyse(guarded(0.02), data, config(5000))
    g = report.comparison("rating", "B")
    assert report.comparison("ctr", "B").outcome == "better"
    assert g.seq_ci_rel[0] < -0.02 < g.lift_rel and g.outcome == "inconclusive"
    assert report.decision.verdict == "keep_running"
    (projection,) = report.decision.projections
    assert projection.metric == "rating" and projection.role == "guardrail"
    # To pass, the lower bound must climb to -2%: a half-width of lift + margin.
    m = projection.observed_more
    size = lambda more: round(g.n * (5000 + more) / 5000)  # noqa: E731
    width = lambda more: halfwidth_by_hand(  # noqa: E731
        g.se_rel * math.sqrt(g.n / size(more)), size(more), g.alpha, 10_000)
    assert width(m) <= g.lift_rel + 0.02 < width(m - 1)
    assert f"on {RATING} is shown within its -2% margin after about {m:,} more" in report.decision.text
    # Observed beyond the margin: what it takes to show it worse than the margin.
    tight = analyse(guarded(0.005), data, config(5000))
    assert tight.comparison("rating", "B").outcome == "inconclusive"
    assert "is shown worse than its -0.5% margin" in tight.decision.text


# --------------------------------------------------------------------------- data quality


@pytest.mark.parametrize(("multiple", "verdict"), [(100, "wins"), (101, "multiple_exposure")])
def test_more_than_one_percent_multiple_exposure_blocks_a_win(multiple: int, verdict: str) -> None:
    data = dataclasses.replace(
        arms(1, 5000, B={"lift": 0.3}),
        exclusions=Exclusions(multiple_variants=multiple, assigned_users=10_000),
    )
    report = analyse(two_arm_experiment(plan=PLAN), data, config(5000))
    assert report.comparison("ctr", "B").outcome == "better"
    assert report.decision.verdict == verdict
    assert report.exposure.alarm == (verdict == "multiple_exposure")
    assert any(r.startswith("exposure: ") for r in report.decision.reasons)
    if report.exposure.alarm:
        assert report.decision.text.startswith("do not trust -- multiple exposure: 101 of 10,000")


def test_no_exclusion_counts_means_the_exposure_check_did_not_run() -> None:
    report = analyse(two_arm_experiment(plan=PLAN), arms(1, 500, B={}), config(500))
    assert not report.exposure.alarm and report.exposure.message.startswith("not checked")


# --------------------------------------------------------------------------- keep running


def halfwidth_by_hand(se: float, n: int, alpha: float, tuning: float) -> float:
    """The confidence sequence's half-width, typed out from movierec.stats.sequential's docstring."""
    rho2 = (-2 * math.log(alpha) + math.log(1 - 2 * math.log(alpha))) / tuning
    s2 = se * se * n
    return math.sqrt(s2 * 2 * (n * rho2 + 1) / (n * n * rho2) * math.log(math.sqrt(n * rho2 + 1) / alpha))


def test_keep_running_numbers_recomputed_by_hand() -> None:
    data = arms(4, 2000, B={"lift": 0.06})
    cfg = config(2000)
    report = analyse(two_arm_experiment(plan=PLAN), data, cfg)
    assert report.decision.verdict == "keep_running"
    c = report.comparison("ctr", "B")
    (p,) = report.decision.projections

    # The standard error of the relative lift, by the delta method on the two arms' stats.
    a, b = data.variants["A"].ctr, data.variants["B"].ctr
    var_rel = b.variance / (b.n * a.mean**2) + b.mean**2 * a.variance / (a.n * a.mean**4)
    assert c.se_rel == pytest.approx(math.sqrt(var_rel), rel=1e-9)
    assert c.n == a.n + b.n

    # Observed effect: the fewest more users per variant whose half-width is <= |lift|,
    # with the standard error shrinking as 1/sqrt(size).
    users = 2000

    def width(more: int) -> float:
        size = round(c.n * (users + more) / users)
        return halfwidth_by_hand(c.se_rel * math.sqrt(c.n / size), size, 0.05, cfg.tuning_parameter)

    m = p.observed_more
    assert m is not None and m > 0
    assert width(m) <= abs(c.lift_rel) < width(m - 1)
    assert f"{c.lift_rel:+.1%} on {CTR} reaches the decision boundary after about {m:,} more users" in (
        report.decision.text)

    # The planned MDE at the control's observed variance.
    required = sequential_sample_size(a.mean, a.variance, 0.05, alpha=0.05, power=0.8,
                                      tuning_parameter=cfg.tuning_parameter)
    assert p.mde_more == math.ceil(users * required / min(a.n, b.n)) - users
    # What the data already rule out: the decision's interval.
    lo, hi = c.seq_ci_rel
    assert p.ruled_out == c.seq_ci_rel
    assert f"rule out a drop worse than {lo:+.1%} and a gain above {hi:+.1%}" in report.decision.text


def test_a_zero_observed_effect_never_decides() -> None:
    from movierec.analysis.keep_running import more_users

    assert more_users(0.0, 0.1, 1000, 500, 0.05, 1000.0) is None
    assert more_users(0.5, 0.1, 1000, 500, 0.05, 1000.0) == 0  # already narrower than that


# --------------------------------------------------------------------------- intervals shown


def test_every_interval_shown_is_at_the_level_the_decision_used() -> None:
    data = arms(11, 3000, B={"lift": 0.15}, C={"lift": -0.05})
    report = analyse(three_arms(guardrails=(Guardrail("rating", 0.05),),
                                secondary_metrics=("clicks_per_user",)), data, config(3000))
    view = build_view(report)
    levels = {"primary": "97.5%", "guardrail": "90.5% (1-sided 95%)", "secondary": "95%"}
    text = render_text(report)
    for c, row in zip(report.comparisons, view.comparisons, strict=True):
        assert row.level == levels[c.role]
        assert row.ci == interval(c.seq_ci_rel, "+.1%")  # the interval the outcome was read from
        # the fixed-horizon reference interval is at the same level
        a, b = metric_stats(data.variants["A"], c.metric), metric_stats(data.variants[c.variant], c.metric)
        from movierec.stats.frequentist import two_sample_test

        assert c.ci_rel == pytest.approx(two_sample_test(a, b, alpha=c.alpha).ci_rel)
        assert row.ci in text
    for c in report.comparisons:
        if c.role != "secondary":
            assert any(f"CI {interval(c.seq_ci_rel, '+.1%')}" in r for r in report.decision.reasons)
    # The plot's last lift interval is the primary's.
    points = timeline(data, ["A", "B", "C"], "ctr", report.config)
    assert points[-1].seq_cis["B"] == pytest.approx(report.comparison("ctr", "B").seq_ci_rel)
