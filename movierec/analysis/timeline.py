"""The report's time series: cumulative primary-metric numbers and lifts, day by day.

The lifts' intervals are the primary's always-valid intervals at the level the decision
uses (1 − α/k), so the last point of the plot is the interval of the verdict; the
per-variant bands are the range-respecting 1 − α intervals of the variant table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from movierec.analysis.comparison import compare, primary_alpha
from movierec.analysis.config import AnalysisConfig
from movierec.analysis.data import ExperimentData, VariantData
from movierec.analysis.intervals import rate_ci
from movierec.analysis.metrics import metric_stats, value_of


@dataclass(frozen=True)
class TimelinePoint:
    """Cumulative primary-metric numbers on one day (for the report's plots)."""

    day: str  # ISO date
    values: dict[str, float | None]  # variant -> metric
    cis: dict[str, tuple[float, float] | None]  # variant -> CI of the metric
    lifts: dict[str, float | None]  # non-control variant -> relative lift
    seq_cis: dict[str, tuple[float, float] | None]  # non-control variant -> always-valid CI


def timeline(
    data: ExperimentData, variants: Sequence[str], metric: str, config: AnalysisConfig
) -> list[TimelinePoint]:
    """``metric`` per variant and the lift over the control ``variants[0]``, day by day."""
    alpha = primary_alpha(config.alpha, len(variants) - 1)
    points = []
    for point in sorted(data.daily, key=lambda p: p.day):
        daily = {n: point.variants.get(n) or VariantData.empty(n) for n in variants}
        control = daily[variants[0]]
        values, cis, lifts, seq_cis = {}, {}, {}, {}
        for name in variants:
            stats = metric_stats(daily[name], metric)
            values[name], cis[name] = value_of(stats), rate_ci(stats, config.alpha, metric)
        for name in variants[1:]:
            c = compare(metric, control, daily[name], config, alpha=alpha, role="primary")
            lifts[name], seq_cis[name] = c.lift_rel, c.seq_ci_rel
        points.append(TimelinePoint(point.day.isoformat(), values, cis, lifts, seq_cis))
    return points
