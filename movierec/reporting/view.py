"""One read-out, formatted once: what the text report, the HTML report and the live panel show.

The three renderers take every number, interval, label, colour and sentence from
:func:`build_view`, so they cannot disagree on the verdict, its reasons or an
interval: they only lay the same strings out differently. Colours (``tone``) follow
the sign of a significant effect in the metric's good direction -- ``good`` for an
improvement, ``bad`` for a harm, ``neutral`` when the interval includes 0.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from movierec.analysis.comparison import Comparison, one_sided_alpha, primary_alpha
from movierec.analysis.decision import level
from movierec.analysis.intervals import clip_lift, lift_interval
from movierec.analysis.metrics import METRIC_DEFINITIONS
from movierec.analysis.readout import ExperimentReport
from movierec.analysis.roles import label, margin_text, short_label

DASH = "-"
Tone = Literal["good", "bad", "neutral"]
CLIPPED = "intervals marked ^ are cut at -100%: a rate cannot fall below 0"


def num(value: float | None, spec: str) -> str:
    if value is None or not math.isfinite(value):
        return DASH
    return format(value, spec)


def interval(ci: tuple[float, float] | None, spec: str) -> str:
    if ci is None:
        return DASH
    return f"[{num(ci[0], spec)}, {num(ci[1], spec)}]"


def p_text(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{value:.3f}" if value >= 0.001 else f"{value:.1e}"


def count(value: int) -> str:
    return f"{value:,}"


@dataclass(frozen=True)
class VariantRow:
    name: str
    label: str  # "A (control)"
    users: str
    exposed: str
    impressions: str
    clicks: str
    ratings: str
    ctr: str
    ctr_ci: str
    item_ctr: str
    item_ctr_ci: str
    mean_rating: str
    clicks_per_user: str

    def cells(self) -> list[str]:
        return [self.label, self.users, self.exposed, self.impressions, self.clicks, self.ctr,
                self.ctr_ci, self.item_ctr, self.item_ctr_ci, self.mean_rating, self.clicks_per_user]


@dataclass(frozen=True)
class ComparisonRow:
    role: str
    role_label: str
    variant: str
    metric: str
    metric_label: str
    lift: str
    ci: str  # always-valid, at ``level``
    level: str
    p: str  # adjusted: Bonferroni over arms (primary), BH (secondary); guardrails: the bound decides
    status: str
    tone: Tone
    fixed_ci: str  # fixed-horizon, same level, for reference
    fixed_p: str
    chance: str
    loss: str
    message: str | None = None

    def cells(self) -> list[str]:
        if self.message:
            return [self.role_label, self.variant, self.metric_label, self.message]
        return [self.role_label, self.variant, self.metric_label, self.lift, self.ci, self.level,
                self.p, self.status, self.fixed_ci, self.fixed_p, self.chance, self.loss]


@dataclass(frozen=True)
class ReadoutView:
    experiment_id: str
    status: str
    control: str
    summary: str
    settings: str
    verdict: str  # the code: wins, loses, keep_running, ...
    verdict_text: str
    reasons: tuple[str, ...]
    variant_header: tuple[str, ...]
    variants: tuple[VariantRow, ...]
    comparison_header: tuple[str, ...]
    comparisons: tuple[ComparisonRow, ...]
    checks: tuple[str, ...]
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _tone(c: Comparison) -> Tone:
    return {"better": "good", "worse": "bad"}.get(c.direction, "neutral")  # type: ignore[return-value]


_STATUS = {
    ("primary", "better"): "significantly better",
    ("primary", "worse"): "significantly worse",
    ("secondary", "better"): "better (exploratory)",
    ("secondary", "worse"): "worse (exploratory)",
    ("guardrail", "non_inferior"): "non-inferior",
    ("guardrail", "inferior"): "worse than margin",
    ("guardrail", "inconclusive"): "not yet within margin",
}


def comparison_row(c: Comparison) -> tuple[ComparisonRow, bool]:
    """The row of one comparison, and whether an interval of it was clipped."""
    role_label = {
        "primary": "primary",
        "guardrail": f"guardrail ({margin_text(c.margin or 0.0)})",
        "secondary": "secondary",
    }[c.role]
    cut_seq, cut_fixed = clip_lift(c.seq_ci_rel, c.metric)[1], clip_lift(c.ci_rel, c.metric)[1]
    row_level = level(c.alpha)
    if c.role == "guardrail":
        row_level += f" (1-sided {level(one_sided_alpha(c.alpha))})"
    return ComparisonRow(
        role=c.role,
        role_label=role_label,
        variant=c.variant,
        metric=c.metric,
        metric_label=label(c.metric),
        lift=num(c.lift_rel, "+.2%"),
        ci=lift_interval(c.seq_ci_rel, c.metric),
        level=row_level,
        p=p_text(c.adjusted_p_value),
        status=_STATUS.get((c.role, c.outcome), "not significant"),
        tone=_tone(c),
        fixed_ci=lift_interval(c.ci_rel, c.metric),
        fixed_p=p_text(c.p_value),
        chance=num(c.chance_to_beat_control, ".1%"),
        loss=num(c.expected_loss, ".2%"),
        message=c.message,
    ), cut_seq or cut_fixed


def _variant_rows(report: ExperimentReport) -> tuple[VariantRow, ...]:
    return tuple(
        VariantRow(
            name=v.variant,
            label=f"{v.variant} (control)" if v.variant == report.control else v.variant,
            users=count(v.users),
            exposed=count(v.exposed_users),
            impressions=count(v.impressions),
            clicks=count(v.clicks),
            ratings=count(v.ratings),
            ctr=num(v.ctr, ".4f"),
            ctr_ci=interval(v.ctr_ci, ".4f"),
            item_ctr=num(v.item_ctr, ".4f"),
            item_ctr_ci=interval(v.item_ctr_ci, ".4f"),
            mean_rating=num(v.mean_rating, ".2f"),
            clicks_per_user=num(v.clicks_per_user, ".3f"),
        )
        for v in report.variants
    )


def power_line(report: ExperimentReport) -> str:
    p = report.power
    metric = label(p.metric)
    if p.message:
        return f"power: not computable yet ({p.message})"
    line = (f"power ({metric}): at the observed variance a {p.mde:+.0%} lift needs "
            f"{count(p.required_sequential or 0)} users per variant (always-valid test; "
            f"{count(p.required_fixed or 0)} at a fixed horizon); now {count(p.users_per_variant)}")
    if p.mde_now is not None:
        line += f", detectable lift now {num(p.mde_now, '.1%')}"
    return line


def _checks(report: ExperimentReport) -> list[str]:
    # The SRM and multiple-exposure checks are among the decision's reasons.
    checks = []
    ex = report.exclusions
    if ex.multiple_variants or ex.heavy_users:
        heavy = f"{count(ex.heavy_users)} heavy users"
        if ex.activity_threshold is not None:
            heavy += f" (above {count(ex.activity_threshold)} events)"
        share = ""
        if ex.assigned_users:
            share = f", {(ex.multiple_variants + ex.heavy_users) / ex.assigned_users:.2%} of {count(ex.assigned_users)} assigned"
        checks.append(f"excluded from every metric: {count(ex.multiple_variants)} users served more "
                      f"than one variant and {heavy}{share}")
    cap = report.capping
    if cap is not None:
        caps = ", ".join(f"{q} at {v:.4g}" for q, v in sorted(cap.caps.items())) or "none"
        # The warehouse gives the percentile as a quantile (0.99); people read "99th".
        pct = 100 * cap.percentile if cap.percentile <= 1 else cap.percentile
        checks.append(f"capping: per-user values above the {pct:g}th percentile lowered "
                      f"({count(cap.capped_users)} users): {caps}")
    checks += [report.plan.text, *report.plan.guardrail_lines, power_line(report), cuped_line(report)]
    return checks


COVARIATES = {
    "pre_period": "each user's lists and clicks in the window before first exposure",
    "rating_history": "each user's number of rated movies before first exposure (their rating history)",
}


def cuped_line(report: ExperimentReport) -> str:
    """Which covariate CUPED used and how much variance it removed, per adjusted comparison."""
    if not report.config.cuped:
        return "CUPED: off (unadjusted estimates)"
    if report.covariate is None:
        return "CUPED: no user has pre-exposure data, so the estimates are unadjusted"
    reductions = [f"{short_label(c.metric)} {c.variant} {1 - c.variance_ratio:.0%}"
                  for c in report.comparisons if c.variance_ratio is not None]
    covariate = COVARIATES[report.covariate]
    removed = ", ".join(reductions) if reductions else "none (the covariate did not correlate)"
    return f"CUPED on {covariate}: variance of the lift removed -- {removed}"


def _settings(report: ExperimentReport) -> str:
    cfg = report.config
    arms = len(report.variants) - 1
    return (
        f"alpha {cfg.alpha:g}: primary at {level(primary_alpha(cfg.alpha, arms))} "
        f"(Bonferroni over {arms} treatment arm{'s' if arms != 1 else ''}), guardrails one-sided "
        f"{level(cfg.alpha)} non-inferiority, secondary metrics BH-adjusted and exploratory; "
        "decisions on the always-valid (sequential) test, so reading this every day is safe"
    )


def build_view(report: ExperimentReport) -> ReadoutView:
    """Everything a renderer shows, formatted (module docstring)."""
    rows, clipped = [], False
    for c in report.comparisons:
        row, cut = comparison_row(c)
        rows.append(row)
        clipped = clipped or cut
    guardrails = ", ".join(f"{label(g.metric)} (margin {margin_text(g.margin)})" for g in report.guardrails)
    secondary = ", ".join(label(m) for m in report.secondary_metrics)
    cfg = report.config
    return ReadoutView(
        experiment_id=report.experiment_id,
        status=report.status,
        control=report.control,
        summary=(f"control {report.control}, primary metric {label(report.primary_metric)}, "
                 f"guardrails {guardrails or 'none'}, secondary {secondary or 'none'}"),
        settings=_settings(report),
        verdict=report.decision.verdict,
        verdict_text=report.decision.text,
        reasons=report.decision.reasons,
        variant_header=("variant", "users", "exposed", "impressions", "clicks", short_label("ctr"),
                        f"{short_label('ctr')} {level(cfg.alpha)} CI", short_label("item_ctr"),
                        f"{short_label('item_ctr')} {level(cfg.alpha)} CI", "mean rating", "clicks/user"),
        variants=_variant_rows(report),
        comparison_header=("role", "vs control", "metric", "lift", "always-valid CI", "level",
                           "adj. p", "status", "fixed-horizon CI", "p", "P(beat)", "exp. loss"),
        comparisons=tuple(rows),
        checks=tuple(_checks(report)),
        notes=(_definitions(report), *report.notes, *((CLIPPED,) if clipped else ())),
    )


def _definitions(report: ExperimentReport) -> str:
    """What the metrics of this report measure, once: "CTR" alone is ambiguous."""
    shown = dict.fromkeys(("ctr", report.primary_metric, *report.secondary_metrics))
    shown.update(dict.fromkeys(g.metric for g in report.guardrails))
    return "; ".join(f"{label(m)} = {METRIC_DEFINITIONS[m]}" for m in shown if m in METRIC_DEFINITIONS)
