"""The drift report's summary page: verdict, every check per segment, the window numbers,
and a link to Evidently's own report beside it.

Evidently's page (its charts: distributions of each column, reference against current)
is saved as its own file, unchanged: it carries its own viewport tag and lays out
in a phone's width. This page is small and self-contained, laid out in one column of
cards so that it reads at 390 px without sideways scrolling; it has no charts of its
own, so a window of one day reads like a window of seven.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from jinja2 import Environment, select_autoescape

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>movierec drift report {{ day }}: {{ verdict }}</title>
<style>
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;margin:0 auto;padding:1em;max-width:60em;line-height:1.4}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}
.card{border:1px solid #ccc;border-radius:.4em;padding:.6em;margin:.8em 0}
table{border-collapse:collapse;width:100%;table-layout:fixed;font-size:.9em}
td,th{border-bottom:1px solid #ddd;padding:.3em;text-align:right;overflow-wrap:anywhere}
th:first-child,td:first-child{text-align:left;width:40%}
.failed{background:#fdd}.passed{background:#dfd}.insufficient_data{background:#eee}
.detail{font-size:.85em;color:#444;text-align:left}
.verdict{padding:.5em;border-radius:.3em}
</style></head><body>
<h1>Recommendation drift — <span class="verdict {{ verdict_class }}">{{ verdict }}</span></h1>
<p>{{ headline }}</p>
<p>Current window {{ current_span }}, reference window {{ reference_span }}. Item popularity: {{ source }}.</p>
{% if evidently %}<p><a href="{{ evidently }}">Evidently's report</a> (distributions of every compared column, reference against current; Evidently {{ evidently_version }}).</p>
{% else %}<p>No Evidently report: no column had enough data in both windows to compare.</p>
{% endif %}
{% for segment, checks in by_segment %}<section class="card">
<h2>{{ "All traffic" if segment == "all" else "Variant " ~ segment }}</h2>
<table><tr><th>test</th><th>status</th><th>score / threshold</th></tr>
{% for c in checks %}<tr class="{{ c.status }}"><td>{{ c.name }}</td><td>{{ c.status.replace("_", " ") }}</td><td>{{ fmt(c.score) }} / {{ fmt(c.threshold, 4) }}</td></tr>
<tr class="{{ c.status }}"><td class="detail" colspan="3">{% if c.method %}{{ c.method }}: {% endif %}{{ c.detail }}{% if c.reference is not none or c.current is not none %} (mean: reference {{ fmt(c.reference) }}, current {{ fmt(c.current) }}){% endif %}</td></tr>
{% endfor %}</table>
<table><tr><th>window</th><th>reference</th><th>current</th></tr>
{% for label, key, digits in rows %}<tr><td>{{ label }}</td><td>{{ fmt(summaries.reference[segment][key], digits) }}</td><td>{{ fmt(summaries.current[segment][key], digits) }}</td></tr>
{% endfor %}</table></section>
{% endfor %}</body></html>
"""

_ROWS = (
    ("requests", "requests", 0),
    ("recommended items", "exposures", 0),
    ("mean popularity rank (1 = most popular)", "mean_popularity_rank", 1),
    ("Gini of exposure", "gini", 3),
    ("catalogue coverage", "coverage", 3),
    ("ratings", "ratings", 0),
    ("mean rating", "mean_rating", 2),
    ("clicks", "clicks", 0),
    ("CTR (clicks / requests)", "ctr", 4),
)


def render_summary(document: Mapping[str, Any], evidently_href: str | None) -> str:
    """The summary page of a drift document (:func:`movierec.reporting.drift.drift_document`)."""
    checks = document["checks"]
    segments = list(dict.fromkeys(c["segment"] for c in checks))
    counts = {s: sum(1 for c in checks if c["status"] == s) for s in ("failed", "passed", "insufficient_data")}
    headline = (
        f"{counts['failed']} failed, {counts['passed']} passed, {counts['insufficient_data']} with insufficient data "
        f"of {len(checks)} checks."
    )
    template = Environment(autoescape=select_autoescape(default=True)).from_string(_TEMPLATE)
    windows = document["windows"]
    return template.render(
        day=document["day"],
        verdict=document["verdict"],
        verdict_class={"drift": "failed", "no drift": "passed"}.get(document["verdict"], "insufficient_data"),
        headline=headline,
        current_span=_span(windows["current"]),
        reference_span=_span(windows["reference"]),
        source=document["popularity_source"],
        evidently=evidently_href,
        evidently_version=document["evidently"]["version"],
        by_segment=[(s, [_Check(c) for c in checks if c["segment"] == s]) for s in segments],
        summaries=document["summaries"],
        rows=_ROWS,
        fmt=_fmt,
    )


class _Check:
    """Attribute access to a check of the document, for the template."""

    def __init__(self, check: Mapping[str, Any]) -> None:
        self.__dict__.update(check)


def _span(window: list[float]) -> str:
    start, end = (datetime.fromtimestamp(t, tz=timezone.utc) for t in window)
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC"


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if digits else f"{value:.0f}"
