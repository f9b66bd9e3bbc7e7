"""The verdict of an experiment, and the data-quality checks it rests on.

The verdict, in order of precedence (the rule itself: :mod:`movierec.analysis.readout`):

1. ``no_data`` -- no user has an impression yet;
2. ``srm`` -- the user split departs from the weights (chi-square p < 0.001): the
   comparison is biased by whatever broke the split, so no metric is trusted;
3. ``multiple_exposure`` -- more than 1% of the assigned users were served more than
   one variant (GrowthBook's threshold): assignment or caching leaks, and excluding
   those users does not remove the bias of who leaked;
4. ``wins`` -- an arm's primary metric is significantly better on the always-valid
   test *and* every guardrail of that arm is significantly non-inferior;
5. ``loses`` -- an arm's primary metric is significantly worse, or one of its
   guardrails is significantly worse than its margin;
6. ``no_difference`` -- the primary is undecided although the arms reached the
   planned size: the lift, if any, is smaller than the MDE;
7. ``keep_running`` -- anything else, with what each undecided arm still needs
   (:mod:`movierec.analysis.keep_running`).

A decision carries one line of text and the reasons behind it, one per check, in
plain words; every renderer shows both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from movierec.analysis.comparison import Comparison, one_sided_alpha
from movierec.analysis.config import AnalysisConfig
from movierec.analysis.data import DailyPoint, Exclusions, VariantData
from movierec.analysis.intervals import lift_interval
from movierec.analysis.keep_running import Projection, project
from movierec.analysis.plan import PowerSummary
from movierec.analysis.roles import label, margin_text
from movierec.events import Experiment
from movierec.stats.srm import (
    DEFAULT_SRM_CONCENTRATION,
    sequential_srm_check,
    srm_check,
    srm_concentration,
)

Verdict = Literal[
    "no_data", "srm", "multiple_exposure", "wins", "loses", "keep_running", "no_difference"
]


@dataclass(frozen=True)
class SrmSummary:
    observed: tuple[int, ...]
    expected: tuple[float, ...]
    p_value: float | None
    alarm: bool
    message: str


@dataclass(frozen=True)
class ExposureSummary:
    """Users served more than one variant, against the assigned users."""

    multiple_variants: int
    assigned_users: int
    share: float | None
    threshold: float
    alarm: bool
    message: str


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    text: str
    reasons: tuple[str, ...] = ()
    projections: tuple[Projection, ...] = ()


# --------------------------------------------------------------------------- checks


def srm_summary(
    experiment: Experiment,
    variants: list[VariantData],
    threshold: float,
    daily: Sequence[DailyPoint] = (),
    expected_users: float | None = None,
) -> SrmSummary:
    """The split check. With daily points it is the anytime-valid sequential test over
    the cumulative counts of every day (the report is read daily: a chi-square test at
    each look would raise false alarms); without, one chi-square test of the totals."""
    observed = tuple(v.users for v in variants)
    weights = [v.weight for v in experiment.variants]
    if len(weights) < 2:
        return SrmSummary(observed, (), None, False, "not checked: the experiment has one variant")
    fixed = srm_check(observed, weights, threshold=threshold)
    if fixed.error is not None:
        return SrmSummary(observed, fixed.expected, None, False, "not checked: no users yet")
    looks = [[point.variants[v.variant].users if v.variant in point.variants else 0 for v in variants]
             for point in daily]
    if looks and looks[-1] == list(observed) and _never_decreasing(looks):
        concentration = srm_concentration(expected_users) if expected_users else DEFAULT_SRM_CONCENTRATION
        sequential = sequential_srm_check(looks, weights, threshold=threshold, concentration=concentration)
        p_value, alarm = sequential.p_value, sequential.alarm
        test = f"sequential p over {len(looks)} daily look{'s' if len(looks) > 1 else ''}"
    else:
        p_value, alarm, test = fixed.p_value, fixed.alarm, "chi-square p"
    if alarm:
        message = (
            f"sample ratio mismatch: users split {_split(observed)} but the weights expect "
            f"{_split(fixed.expected)} ({test} = {p_value:.2g} < {threshold:g}); "
            "assignment or logging is broken"
        )
    else:
        message = f"ok ({test} = {p_value:.3g})"
    return SrmSummary(observed, fixed.expected, p_value, alarm, message)


def _never_decreasing(looks: list[list[int]]) -> bool:
    return all(b >= a for prev, cur in pairwise(looks) for a, b in zip(prev, cur))


def _split(counts: tuple[float, ...] | tuple[int, ...]) -> str:
    return " / ".join(f"{c:,.0f}" for c in counts)


def exposure_summary(exclusions: Exclusions, threshold: float) -> ExposureSummary:
    multiple, assigned = exclusions.multiple_variants, exclusions.assigned_users
    if assigned <= 0:
        return ExposureSummary(multiple, assigned, None, threshold, False,
                               "not checked: the warehouse reported no exclusion counts")
    share = multiple / assigned
    what = f"{multiple:,} of {assigned:,} assigned users ({share:.2%}) were served more than one variant"
    if share > threshold:
        return ExposureSummary(multiple, assigned, share, threshold, True,
                               f"multiple exposure: {what}, above the {threshold:.0%} alarm; "
                               "assignment or caching is broken")
    return ExposureSummary(multiple, assigned, share, threshold, False,
                           f"ok: {what} (left out; alarm above {threshold:.0%})")


# --------------------------------------------------------------------------- reasons


def level(alpha: float) -> str:
    """``0.05`` -> ``95%``, ``0.025`` -> ``97.5%``: the interval's two-sided level."""
    return f"{100 * (1 - alpha):.1f}".rstrip("0").rstrip(".") + "%"


def _p(p: float | None) -> str:
    return "-" if p is None else f"{p:.2g}"


def effect(c: Comparison) -> str:
    """``+12.3%, always-valid 95% CI [+4.0%, +21.0%], adjusted p = 0.003``."""
    text = f"{c.lift_rel:+.1%}, always-valid {level(c.alpha)} CI {lift_interval(c.seq_ci_rel, c.metric)}"
    if c.role == "primary":
        text += f", adjusted p = {_p(c.adjusted_p_value)}"
    return text


def reason(c: Comparison) -> str:
    """One comparison's part in the decision, in plain words."""
    metric = label(c.metric)
    who = f"{c.variant} vs {c.control}"
    if c.message or c.lift_rel is None or c.seq_ci_rel is None:
        return f"{c.role} {metric}, {who}: not analysable yet ({c.message or 'no data'})"
    if c.role == "guardrail":
        margin = c.margin or 0.0
        one_sided = level(one_sided_alpha(c.alpha))
        verdict = {
            "non_inferior": f"non-inferior: its one-sided {one_sided} bounds keep it within the {margin_text(margin)} margin",
            "inferior": f"worse than its {margin_text(margin)} margin (one-sided {one_sided})",
            "inconclusive": f"not yet shown within its {margin_text(margin)} margin (one-sided {one_sided})",
        }[c.outcome]
        return f"guardrail {metric}, {who}: {effect(c)} -- {verdict}"
    verdict = {
        "better": "significantly better", "worse": "significantly worse",
    }.get(c.outcome, "not significant yet (the interval includes 0)")
    return f"{c.role} {metric}, {who}: {effect(c)} -- {verdict}"


# --------------------------------------------------------------------------- verdict


def _arm_state(primary: Comparison, guards: Sequence[Comparison]) -> str:
    if primary.outcome == "worse" or any(g.outcome == "inferior" for g in guards):
        return "loses"
    if primary.outcome == "better" and all(g.outcome == "non_inferior" for g in guards):
        return "wins"
    return "undecided"


def _loss_text(primary: Comparison, guards: Sequence[Comparison]) -> str:
    if primary.outcome == "worse":
        return f"{primary.variant} loses on {label(primary.metric)} ({effect(primary)})"
    g = next(g for g in guards if g.outcome == "inferior")
    return (f"{g.variant} loses: guardrail {label(g.metric)} is worse than its "
            f"{margin_text(g.margin or 0.0)} margin ({effect(g)})")


def decide(
    variants: Sequence[VariantData],
    primary: Sequence[Comparison],
    guardrails: Sequence[Comparison],
    srm: SrmSummary,
    exposure: ExposureSummary,
    power: PowerSummary,
    config: AnalysisConfig,
) -> Decision:
    """The verdict, its text and reasons (precedence in the module docstring)."""
    checks = (f"split: {srm.message}", f"exposure: {exposure.message}")
    if sum(v.impressions for v in variants) == 0:
        return Decision("no_data", "no data yet: no variant has impressions", checks)
    if srm.alarm:
        return Decision("srm", f"SRM: do not trust -- {srm.message}", checks)
    if exposure.alarm:
        return Decision("multiple_exposure", f"do not trust -- {exposure.message}", checks)
    if not primary:
        return Decision("keep_running", "keep running: the experiment has no treatment arm to compare", checks)
    guards = {c.variant: [g for g in guardrails if g.variant == c.variant] for c in primary}
    reasons = tuple(reason(r) for c in primary for r in (c, *guards[c.variant])) + checks
    states = {c.variant: _arm_state(c, guards[c.variant]) for c in primary}
    winners = sorted((c for c in primary if states[c.variant] == "wins"),
                     key=lambda c: c.lift_rel or 0.0, reverse=True)
    losers = [c for c in primary if states[c.variant] == "loses"]
    if winners:
        best = winners[0]
        held = "every guardrail non-inferior" if guards[best.variant] else "no guardrails declared"
        text = f"{best.variant} wins on {label(best.metric)} ({effect(best)}); {held}"
        if losers:
            text += "; " + "; ".join(_loss_text(c, guards[c.variant]) for c in losers)
        return Decision("wins", text, reasons)
    if losers:
        return Decision("loses", "; ".join(_loss_text(c, guards[c.variant]) for c in losers), reasons)
    blocked = [c.message for c in primary if c.message]
    if blocked:
        return Decision("keep_running", f"keep running: {blocked[0]}", reasons)
    users = {v.variant: v.users for v in variants}
    control = variants[0].users
    target = power.target
    if target is not None and all(c.outcome == "inconclusive" for c in primary) and (
        power.users_per_variant >= target
    ):
        return Decision(
            "no_difference",
            f"no significant difference on {label(primary[0].metric)} after "
            f"{power.users_per_variant:,} users per variant (planned {target:,}): a "
            f"{config.mde:+.0%} lift would have shown, and the data rule out a lift outside "
            + ", ".join(f"{lift_interval(c.seq_ci_rel, c.metric)}"
                        + (f" ({c.variant})" if len(primary) > 1 else "") for c in primary)
            + " -- stop the test",
            reasons,
        )
    projections = []
    for c in primary:
        now = min(control, users[c.variant])
        if c.outcome == "inconclusive":
            projections.append(project(c, now, config, power))
        # A win also needs every guardrail shown within its margin: what each one needs.
        projections += [project(g, now, config) for g in guards[c.variant] if g.outcome == "inconclusive"]
    text = "keep running: " + (projections[0].text if projections else "undecided")
    return Decision("keep_running", text, reasons + tuple(p.text for p in projections[1:]),
                    tuple(projections))
