"""Rendering an :class:`ExperimentReport`: a fixed-width text table and a self-contained HTML page.

Both are pure functions of the report (and, for the plots, of the daily data) and
both lay out the one :class:`~movierec.reporting.view.ReadoutView` -- the live panel
(:mod:`movierec.web.live_ab`) does too -- so verdict, reasons and intervals are the
same strings everywhere. The HTML page embeds its plots as inline SVG
(:mod:`movierec.reporting.plots`) and loads nothing from the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jinja2 import Environment

from movierec.analysis.comparison import primary_alpha
from movierec.analysis.data import ExperimentData
from movierec.analysis.decision import level
from movierec.analysis.readout import ExperimentReport
from movierec.analysis.timeline import timeline
from movierec.reporting.plots import ctr_plot, lift_plot
from movierec.reporting.view import ReadoutView, build_view

# --------------------------------------------------------------------------- text


def _table(rows: Sequence[Sequence[str]], left: int) -> str:
    """Left-align the first ``left`` columns and the status, right-align the numbers.

    A shorter row is a message row: its last cell replaces the numbers and does not
    widen their columns.
    """
    ncols = len(rows[0])
    full = [r for r in rows if len(r) == ncols]
    widths = [max(len(r[i]) for r in (rows if i < left else full) if i < len(r)) for i in range(ncols)]
    text_columns = set(range(left)) | {i for i, h in enumerate(rows[0]) if h == "status"}
    lines = []
    for r in rows:
        if len(r) < ncols:
            cells = [f"{cell:<{widths[i]}}" for i, cell in enumerate(r[:-1])] + [r[-1]]
        else:
            cells = [f"{cell:<{widths[i]}}" if i in text_columns else f"{cell:>{widths[i]}}"
                     for i, cell in enumerate(r)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def render_view_text(view: ReadoutView) -> str:
    """The text report of a view (ends with a newline)."""
    lines = [
        f"experiment {view.experiment_id} ({view.status}): {view.summary}",
        view.settings,
        "",
    ]
    if view.variant_header:
        lines += [_table([list(view.variant_header), *(v.cells() for v in view.variants)], left=1), ""]
    if view.comparisons:
        lines += [_table([list(view.comparison_header), *(c.cells() for c in view.comparisons)], left=3), ""]
    lines += list(view.checks)
    lines += [f"note: {n}" for n in view.notes]
    lines += ["", f"verdict: {view.verdict_text}"]
    lines += [f"  - {r}" for r in view.reasons]
    return "\n".join(lines) + "\n"


def render_text(report: ExperimentReport) -> str:
    """The report as fixed-width tables, the checks, the verdict and its reasons."""
    return render_view_text(build_view(report))


# --------------------------------------------------------------------------- HTML

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>A/B report: {{ v.experiment_id }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 80em; }
table { border-collapse: collapse; margin: 1em 0; display: block; overflow-x: auto; max-width: 100%; }
@media (max-width: 600px) { body { margin: 0.6em; } .verdict { font-size: 1.1em; } }
svg { max-width: 100%; height: auto; }
th, td { padding: 0.3em 0.7em; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
th:first-child, td:first-child, td.text { text-align: left; }
.verdict { font-size: 1.3em; padding: 0.6em 1em; border-left: 0.4em solid #888; background: #f5f5f5; }
.verdict.wins { border-color: #2a7; }
.verdict.loses, .verdict.srm, .verdict.multiple_exposure { border-color: #c33; }
.verdict.keep_running, .verdict.no_data { border-color: #d90; }
tr.good td.effect { color: #1a7f3c; font-weight: bold; }
tr.bad td.effect { color: #c0262d; font-weight: bold; }
.muted { color: #777; }
</style></head><body>
<h1>A/B report: {{ v.experiment_id }} <span class="muted">({{ v.status }})</span></h1>
<p class="verdict {{ v.verdict }}" id="verdict">{{ v.verdict_text }}</p>
<ul id="reasons">{% for r in v.reasons %}<li>{{ r }}</li>{% endfor %}</ul>
<p id="summary">{{ v.summary }}; {{ v.settings }}.</p>
{% if v.variant_header %}<h2>Variants</h2>
<table id="variants">
<tr>{% for h in v.variant_header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in v.variants %}<tr>{% for cell in row.cells() %}<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</table>
<h2>Comparisons with the control</h2>
<table id="comparisons">
<tr>{% for h in v.comparison_header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for c in v.comparisons %}<tr class="{{ c.tone }} {{ c.role }}" data-metric="{{ c.metric }}" data-variant="{{ c.variant }}">
{% if c.message %}<td>{{ c.role_label }}</td><td class="text">{{ c.variant }}</td><td class="text">{{ c.metric_label }}</td>
<td class="text" colspan="{{ v.comparison_header | length - 3 }}">{{ c.message }}</td>
{% else %}<td>{{ c.role_label }}</td><td class="text">{{ c.variant }}</td><td class="text">{{ c.metric_label }}</td>
<td class="effect">{{ c.lift }}</td><td class="effect ci">{{ c.ci }}</td><td>{{ c.level }}</td><td>{{ c.p }}</td>
<td class="text">{{ c.status }}</td><td>{{ c.fixed_ci }}</td><td>{{ c.fixed_p }}</td><td>{{ c.chance }}</td><td>{{ c.loss }}</td>{% endif %}</tr>
{% endfor %}</table>
{% endif %}<ul id="checks">{% for line in v.checks %}<li>{{ line }}</li>{% endfor %}</ul>
{% for note in v.notes %}<p class="muted">note: {{ note }}</p>{% endfor %}
{% if v.variant_header %}<h2>Over time</h2>
{% if plots %}{% for plot in plots %}<figure>{{ plot }}</figure>{% endfor %}
{% else %}<p class="muted">no daily data yet: the plots appear after the first day of traffic.</p>{% endif %}{% endif %}
</body></html>
"""

_ENV = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)


def render_html(report: ExperimentReport, data: ExperimentData) -> str:
    """A self-contained HTML page: tables, verdict, reasons and inline SVG plots over the days of ``data``."""
    names = [v.variant for v in report.variants]
    points = timeline(data, names, report.primary_metric, report.config)
    plots = []
    if points:
        lift_level = level(primary_alpha(report.config.alpha, len(names) - 1))
        plots = [
            ctr_plot(points, names, report.primary_metric, level(report.config.alpha)),
            lift_plot(points, [n for n in names if n != report.control], report.control, lift_level),
        ]
    return render_view_html(build_view(report), plots)


def render_view_html(view: ReadoutView, plots: Sequence[str] = ()) -> str:
    """The HTML page of a view (an interleaved experiment's has no variant table or plots)."""
    return _ENV.from_string(_TEMPLATE).render(v=view, plots=plots)


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
