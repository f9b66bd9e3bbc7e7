"""Rendering an :class:`ExperimentReport`: a fixed-width text table and a self-contained HTML page.

Both are pure functions of the report (and, for the plots, of the daily data);
the CLI decides where the output goes. The HTML page embeds its plots as inline
SVG drawn by matplotlib's object API (no pyplot global state, no display), and
loads nothing from the network.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

import matplotlib
import matplotlib.dates as mdates
from jinja2 import Environment
from markupsafe import Markup
from matplotlib.figure import Figure

from movierec.analysis.data import ExperimentData
from movierec.analysis.metrics import METRIC_LABELS
from movierec.analysis.readout import ExperimentReport
from movierec.analysis.timeline import TimelinePoint, timeline

DASH = "-"

# --------------------------------------------------------------------------- formatting


def _num(value: float | None, spec: str) -> str:
    if value is None or not math.isfinite(value):
        return DASH
    return format(value, spec)


def _interval(ci: tuple[float, float] | None, spec: str) -> str:
    if ci is None:
        return DASH
    return f"[{_num(ci[0], spec)}, {_num(ci[1], spec)}]"


def _p(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{value:.3f}" if value >= 0.001 else f"{value:.1e}"


def _count(value: int) -> str:
    return f"{value:,}"


def variant_rows(report: ExperimentReport) -> list[list[str]]:
    header = ["variant", "users", "exposed", "impressions", "clicks", "CTR", "CTR 95% CI",
              "mean rating", "clicks/user"]
    level = f"CTR {1 - report.config.alpha:.0%} CI"
    header[6] = level
    rows = [header]
    for v in report.variants:
        name = f"{v.variant} (control)" if v.variant == report.control else v.variant
        rows.append([
            name,
            _count(v.users),
            _count(v.exposed_users),
            _count(v.impressions),
            _count(v.clicks),
            _num(v.ctr, ".4f"),
            _interval(v.ctr_ci, ".4f"),
            _num(v.mean_rating, ".2f"),
            _num(v.clicks_per_user, ".3f"),
        ])
    return rows


def comparison_rows(report: ExperimentReport) -> list[list[str]]:
    level = f"{1 - report.config.alpha:.0%}"
    rows = [["vs control", "metric", "lift", f"{level} CI", "p", f"always-valid {level} CI",
             "seq p", f"{report.config.correction} p", "P(beat)", "exp. loss"]]
    for c in report.comparisons:
        metric = METRIC_LABELS.get(c.metric, c.metric)
        if c.metric == report.primary_metric:
            metric += " (primary)"
        if c.message:
            rows.append([c.variant, metric, c.message])
            continue
        adjusted = _p(c.adjusted_p_value) + (" *" if c.significant else "")
        rows.append([
            c.variant,
            metric,
            _num(c.lift_rel, "+.2%"),
            _interval(c.ci_rel, "+.1%"),
            _p(c.p_value),
            _interval(c.seq_ci_rel, "+.1%"),
            _p(c.seq_p_value),
            adjusted,
            _num(c.chance_to_beat_control, ".1%"),
            _num(c.expected_loss, ".2%"),
        ])
    return rows


def _table(rows: Sequence[Sequence[str]], text_columns: int = 2) -> str:
    """Left-align the first ``text_columns`` columns, right-align the numbers.

    A row of three cells is a message row: its third cell replaces the numbers
    and does not widen their columns.
    """
    ncols = len(rows[0])
    full = [r for r in rows if len(r) == ncols]
    widths = [max(len(r[i]) for r in (rows if i < 2 else full)) for i in range(ncols)]
    lines = []
    for r in rows:
        cells = [
            f"{cell:<{widths[i]}}" if i < text_columns or len(r) < ncols else f"{cell:>{widths[i]}}"
            for i, cell in enumerate(r)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def power_line(report: ExperimentReport) -> str:
    p = report.power
    label = METRIC_LABELS.get(p.metric, p.metric)
    if p.message:
        return f"power: not computable yet ({p.message})"
    parts = [
        f"power ({label}): a {p.mde:.0%} lift needs {_count(p.required_sequential or 0)} users "
        f"per variant (always-valid test; {_count(p.required_fixed or 0)} at a fixed horizon)",
        f"now {_count(p.users_per_variant)} per variant",
    ]
    if p.mde_now is not None:
        parts[-1] += f", detectable lift now {_num(p.mde_now, '.1%')}"
    return "; ".join(parts)


def render_text(report: ExperimentReport) -> str:
    """The report as a fixed-width table plus the verdict (ends with a newline)."""
    cfg = report.config
    lines = [
        f"experiment {report.experiment_id} ({report.status}): control {report.control}, "
        f"primary metric {METRIC_LABELS.get(report.primary_metric, report.primary_metric)}, "
        f"guardrails {', '.join(report.guardrails) or 'none'}",
        f"alpha {cfg.alpha:g}, {cfg.correction} adjustment across metrics x variants, "
        f"decisions on the always-valid (sequential) test",
        "",
        _table(variant_rows(report), text_columns=1),
        "",
    ]
    if report.comparisons:
        lines += [_table(comparison_rows(report)), "  * significant after adjustment", ""]
    lines += [f"SRM: {report.srm.message}", power_line(report)]
    lines += [f"note: {n}" for n in report.notes]
    lines += ["", f"verdict: {report.decision.text}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- plots


def _svg(figure: Figure) -> Markup:
    buffer = io.StringIO()
    # Text stays text (searchable, selectable) and ids are stable across runs.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "movierec"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buffer.getvalue()
    return Markup(svg[svg.index("<svg"):])  # drop the XML prolog and DOCTYPE


def _days(points: Sequence[TimelinePoint]) -> list[date]:
    return [date.fromisoformat(p.day) for p in points]


def _band(
    ax: Any,
    days: list[date],
    values: list[float | None],
    cis: list[tuple[float, float] | None],
    label: str,
    scale: Callable[[float], float] = float,
) -> None:
    keep = [i for i, v in enumerate(values) if v is not None]
    if not keep:
        return
    x = [days[i] for i in keep]
    (line,) = ax.plot(x, [scale(values[i]) for i in keep], marker="o", label=label)  # type: ignore[arg-type]
    banded = [i for i in keep if cis[i] is not None]
    if len(banded) == 1:  # one day of data: a band has no width, draw the interval as a bar
        i = banded[0]
        low, high = scale(cis[i][0]), scale(cis[i][1])  # type: ignore[index]
        mid = scale(values[i])  # type: ignore[arg-type]
        ax.errorbar([days[i]], [mid], yerr=[[mid - low], [high - mid]], color=line.get_color(), capsize=6)
    elif banded:
        ax.fill_between(
            [days[i] for i in banded],
            [scale(cis[i][0]) for i in banded],  # type: ignore[index]
            [scale(cis[i][1]) for i in banded],  # type: ignore[index]
            color=line.get_color(),
            alpha=0.2,
            linewidth=0,
        )


def _day_axis(ax: Any, days: list[date]) -> None:
    """Whole days on the x axis, with a day of margin so one or two days don't stretch it."""
    if days:
        ax.set_xlim(min(days) - timedelta(days=1), max(days) + timedelta(days=1))
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=2, maxticks=8))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))


def ctr_plot(points: Sequence[TimelinePoint], variants: Sequence[str], metric: str) -> Markup:
    figure = Figure(figsize=(7, 3.2))
    ax = figure.subplots()
    days = _days(points)
    for name in variants:
        _band(ax, days, [p.values.get(name) for p in points], [p.cis.get(name) for p in points], name)
    label = METRIC_LABELS.get(metric, metric)
    ax.set_title(f"cumulative {label} per variant (shaded: 95% CI)")
    ax.set_ylabel(label)
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    _day_axis(ax, days)
    figure.autofmt_xdate()
    return _svg(figure)


def lift_plot(points: Sequence[TimelinePoint], treatments: Sequence[str], control: str) -> Markup:
    figure = Figure(figsize=(7, 3.2))
    ax = figure.subplots()
    days = _days(points)
    for name in treatments:
        _band(
            ax,
            days,
            [p.lifts.get(name) for p in points],
            [p.seq_cis.get(name) for p in points],
            f"{name} vs {control}",
            scale=lambda v: 100.0 * v,
        )
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_title("relative lift over time (shaded: always-valid CI)")
    ax.set_ylabel("lift (%)")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    _day_axis(ax, days)
    figure.autofmt_xdate()
    return _svg(figure)


# --------------------------------------------------------------------------- HTML

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>A/B report: {{ r.experiment_id }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 70em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { padding: 0.3em 0.7em; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
.verdict { font-size: 1.3em; padding: 0.6em 1em; border-left: 0.4em solid #888; background: #f5f5f5; }
.verdict.wins { border-color: #2a7; } .verdict.loses, .verdict.srm { border-color: #c33; }
.sig { font-weight: bold; } .muted { color: #777; }
</style></head><body>
<h1>A/B report: {{ r.experiment_id }} <span class="muted">({{ r.status }})</span></h1>
<p class="verdict {{ r.decision.verdict }}" id="verdict">{{ r.decision.text }}</p>
<p>Control <b>{{ r.control }}</b>, primary metric <b>{{ primary }}</b>,
guardrails {{ r.guardrails | join(", ") or "none" }}; alpha {{ r.config.alpha }},
{{ r.config.correction }} adjustment across metrics &times; variants; decisions use the
always-valid (sequential) test, so reading this report every day is safe.</p>
<h2>Variants</h2>
<table id="variants">
<tr>{% for h in variant_rows[0] %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in variant_rows[1:] %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</table>
<h2>Comparisons with the control</h2>
<table id="comparisons">
<tr>{% for h in comparison_rows[0] %}<th>{{ h }}</th>{% endfor %}</tr>
{% for c, row in comparisons %}<tr{% if c.significant %} class="sig"{% endif %}>
{% if c.message %}<td>{{ row[0] }}</td><td class="text">{{ row[1] }}</td>
<td class="text" colspan="{{ comparison_rows[0] | length - 2 }}">{{ c.message }}</td>
{% else %}{% for cell in row %}<td>{{ cell }}</td>{% endfor %}{% endif %}</tr>
{% endfor %}</table>
<p><b>SRM:</b> {{ r.srm.message }}</p>
<p>{{ power }}</p>
{% for note in r.notes %}<p class="muted">note: {{ note }}</p>{% endfor %}
<h2>Over time</h2>
{% if plots %}{% for plot in plots %}<figure>{{ plot }}</figure>{% endfor %}
{% else %}<p class="muted">no daily data yet: the plots appear after the first day of traffic.</p>{% endif %}
</body></html>
"""

_ENV = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)


def render_html(report: ExperimentReport, data: ExperimentData) -> str:
    """A self-contained HTML page: tables, verdict, and inline SVG plots over the days of ``data``."""
    names = [v.variant for v in report.variants]
    points = timeline(data, names, report.primary_metric, report.config)
    plots = []
    if points:
        plots = [
            ctr_plot(points, names, report.primary_metric),
            lift_plot(points, [n for n in names if n != report.control], report.control),
        ]
    comp_rows = comparison_rows(report)
    return _ENV.from_string(_TEMPLATE).render(
        r=report,
        primary=METRIC_LABELS.get(report.primary_metric, report.primary_metric),
        variant_rows=variant_rows(report),
        comparison_rows=comp_rows,
        comparisons=list(zip(report.comparisons, comp_rows[1:])),
        power=power_line(report),
        plots=plots,
    )


# --------------------------------------------------------------------------- structured log


def log_fields(report: ExperimentReport) -> list[dict[str, Any]]:
    """One structured record per variant (``event="ab_report"``) for log-based metrics.

    Cloud Monitoring's log-based metric (infra/monitoring.tf) extracts ``ctr`` by
    ``experiment_id`` and ``variant``; a variant without impressions has no ``ctr``
    field, so it adds no point rather than a false zero.
    """
    records = []
    for v in report.variants:
        record: dict[str, Any] = {
            "event": "ab_report",
            "experiment_id": report.experiment_id,
            "variant": v.variant,
            "users": v.users,
            "impressions": v.impressions,
            "clicks": v.clicks,
            "verdict": report.decision.verdict,
        }
        if v.ctr is not None:
            record["ctr"] = v.ctr
        records.append(record)
    return records
