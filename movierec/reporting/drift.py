"""The drift job: read two windows of events, compare them, save the HTML, alert on failure.

``run_drift_report`` is what the scheduled job and ``movierec drift`` call; everything
it computes comes from the pure functions of :mod:`movierec.reporting.drift_checks`.
Its alert goes through the same :class:`~movierec.reporting.alerting.Alerter` as the
CTR alerts, so a drift that lasts is not re-sent on every run of the cool-down.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np
from jinja2 import Environment, select_autoescape

from movierec.errors import ArtifactError, ConfigError, NothingToAnalyse
from movierec.models.artifact import load_artifact
from movierec.reporting.alerting import Alert, Alerter, Dispatched
from movierec.reporting.drift_checks import (
    DistributionTest,
    DriftCheck,
    DriftThresholds,
    Popularity,
    VariantCTR,
    WindowSummary,
    distribution_test,
    exposure_frame,
    feedback_frame,
    requests_per_variant,
    summarize,
    threshold_checks,
)
from movierec.stores.ports import ArtifactStore, EventLog
from movierec.stores.scanning import scan_window

log = logging.getLogger(__name__)

DAY = 86_400.0
REPORT_PREFIX = "reports/drift"
RANK_BINS = 50  # popularity-rank histogram bins across the catalogue


@dataclass(frozen=True)
class DriftReport:
    generated_at: float
    reference: WindowSummary
    current: WindowSummary
    popularity_source: str
    checks: tuple[DriftCheck, ...]
    html: str

    @property
    def drifted(self) -> bool:
        return any(c.failed for c in self.checks)

    @property
    def failed(self) -> list[DriftCheck]:
        return [c for c in self.checks if c.failed]


def popularity_from_artifact(store: ArtifactStore, model: str) -> Popularity:
    """Training interaction counts of the live version of ``model`` (checksums verified)."""
    artifact = load_artifact(store, model)
    return Popularity(
        np.asarray(artifact.arrays["item_ids"], dtype=np.int64),
        np.asarray(artifact.arrays["item_popularity"], dtype=np.float64),
        f"item_popularity of model {artifact.name} {artifact.version}",
    )


def build_drift_report(
    reference_rows: Mapping[str, list[dict[str, Any]]],
    current_rows: Mapping[str, list[dict[str, Any]]],
    *,
    popularity: Popularity,
    reference_window: tuple[float, float],
    current_window: tuple[float, float],
    now: float,
    thresholds: DriftThresholds | None = None,
) -> DriftReport:
    """Compare the ``impressions`` and ``feedback`` rows of two windows."""
    thresholds = thresholds or DriftThresholds()
    frames = {}
    summaries = {}
    for label, rows, (start, end) in (
        ("reference", reference_rows, reference_window),
        ("current", current_rows, current_window),
    ):
        exposures = exposure_frame(rows["impressions"], popularity)
        feedback = feedback_frame(rows["feedback"])
        frames[label] = (exposures, feedback)
        summaries[label] = summarize(start, end, requests_per_variant(rows["impressions"]), exposures, feedback, popularity)
    ref_exp, cur_exp = frames["reference"][0], frames["current"][0]
    ratings = {label: fb[fb["type"] == "rating"] for label, (_, fb) in frames.items()}
    with warnings.catch_warnings():
        # histogrammar warns that popmon already set the time binning we asked for.
        warnings.filterwarnings("ignore", message=".*already found in binning specifications.*")
        tests = [
            distribution_test(
                "popularity_rank_distribution",
                ref_exp,
                cur_exp,
                "popularity_rank",
                current_start=current_window[0],
                bin_width=max(1.0, (popularity.n_items + 1) / RANK_BINS),
                min_rows=thresholds.min_exposures,
            ),
            distribution_test(
                "rating_distribution",
                ratings["reference"].rename(columns={"value": "rating"}),
                ratings["current"].rename(columns={"value": "rating"}),
                "rating",
                current_start=current_window[0],
                bin_width=0.5,
                min_rows=thresholds.min_ratings,
            ),
        ]
    checks = (*(t.check for t in tests), *threshold_checks(summaries["reference"], summaries["current"], thresholds))
    report = DriftReport(now, summaries["reference"], summaries["current"], popularity.source, checks, "")
    return DriftReport(**{**report.__dict__, "html": render_html(report, tests)})


def drift_alert(report: DriftReport, key: str, store: str) -> Alert:
    """The one alert of a drifted report whose HTML was saved at ``key`` in the artifact ``store``."""
    failed = report.failed
    return Alert(
        source="drift",
        condition="recommendation_drift",
        title="Recommendation drift",
        message=(
            f"{len(failed)} drift test(s) failed for {_day(report.current.start)}..{_day(report.current.end)}: "
            + "; ".join(f"{c.name} ({c.detail})" for c in failed)
            + f". Report: {store}/{key}"
        ),
        fields={"failed": [c.name for c in failed], "report": key},
    )


def run_drift_report(
    events: EventLog,
    artifacts: ArtifactStore,
    alerter: Alerter,
    *,
    now: float,
    reference_days: float = 7,
    current_days: float = 7,
    popularity_model: str | None = "popular",
    thresholds: DriftThresholds | None = None,
) -> tuple[DriftReport, str, Dispatched | None]:
    """Build the report of ``[now - current_days, now)`` against the ``reference_days`` before it.

    Saves the HTML at ``reports/drift/<YYYY-MM-DD>.html`` in ``artifacts`` and, when a
    drift test fails, dispatches one alert through ``alerter``. Returns the report, the
    HTML's key and what became of the alert (None without drift). Popularity comes from
    the live artifact of ``popularity_model``; without one (or with ``None``) from the
    exposures of the reference window.
    """
    if reference_days <= 0 or current_days <= 0:
        raise ConfigError(f"window lengths must be positive days, got reference={reference_days} current={current_days}")
    current = (now - current_days * DAY, now)
    reference = (current[0] - reference_days * DAY, current[0])
    rows = {
        label: {c: list(scan_window(events, c, start, end)) for c in ("impressions", "feedback")}
        for label, (start, end) in (("reference", reference), ("current", current))
    }
    popularity = None
    if popularity_model:
        try:
            popularity = popularity_from_artifact(artifacts, popularity_model)
        except ArtifactError as exc:
            log.warning("popularity from the reference window instead: %s", exc)
    if popularity is None:
        if not rows["reference"]["impressions"]:
            raise NothingToAnalyse(
                "no impressions in the reference window and no live "
                f"{popularity_model or 'popularity'} model to rank items by"
            )
        popularity = Popularity.from_impressions(rows["reference"]["impressions"])
    report = build_drift_report(
        rows["reference"],
        rows["current"],
        popularity=popularity,
        reference_window=reference,
        current_window=current,
        now=now,
        thresholds=thresholds,
    )
    key = f"{REPORT_PREFIX}/{_day(now)}.html"
    artifacts.write_bytes(key, report.html.encode(), content_type="text/html; charset=utf-8")
    log.info("drift report saved", extra={"report": key, "drifted": report.drifted})
    if not report.drifted:
        return report, key, None
    [dispatched] = alerter.dispatch([drift_alert(report, key, artifacts.describe())], now)
    return report, key, dispatched


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d")


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>movierec drift report {{ day }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}.failed{background:#fdd}.passed{background:#dfd}.insufficient_data{background:#eee}
iframe{width:100%;height:70em;border:1px solid #ccc}
</style></head><body>
<h1>Recommendation drift — {{ verdict }}</h1>
<p>Current window {{ cur_span }} against reference {{ ref_span }}. Popularity: {{ source }}.</p>
<h2>Drift tests</h2>
<table><tr><th>test</th><th>status</th><th>reference</th><th>current</th><th>detail</th></tr>
{% for c in checks %}<tr class="{{ c.status }}"><td>{{ c.name }}</td><td>{{ c.status }}</td><td>{{ fmt(c.reference) }}</td><td>{{ fmt(c.current) }}</td><td>{{ c.detail }}</td></tr>
{% endfor %}</table>
<h2>Summary</h2>
<table><tr><th>metric</th><th>reference</th><th>current</th></tr>
{% for name, ref, cur in rows %}<tr><td>{{ name }}</td><td>{{ ref }}</td><td>{{ cur }}</td></tr>
{% endfor %}</table>
<h2>CTR per variant</h2>
<table><tr><th>variant</th><th>impressions (ref)</th><th>clicks (ref)</th><th>CTR (ref)</th><th>impressions</th><th>clicks</th><th>CTR</th></tr>
{% for v, r, c in ctr %}<tr><td>{{ v }}</td><td>{{ r.impressions }}</td><td>{{ r.clicks }}</td><td>{{ fmt(r.ctr, 4) }}</td><td>{{ c.impressions }}</td><td>{{ c.clicks }}</td><td>{{ fmt(c.ctr, 4) }}</td></tr>
{% endfor %}</table>
{% for name, doc in popmon %}<h2>{{ name }} (popmon)</h2><iframe title="{{ name }}" srcdoc="{{ doc }}"></iframe>
{% endfor %}</body></html>
"""


def render_html(report: DriftReport, tests: list[DistributionTest]) -> str:
    """One self-contained page: tests, summaries, CTR and the popmon reports (inlined)."""
    ref, cur = report.reference, report.current
    empty = VariantCTR(0, 0)
    rows = [
        ("requests", ref.requests, cur.requests),
        ("recommended items", ref.exposures, cur.exposures),
        ("mean popularity rank (1 = most popular)", _fmt(ref.mean_popularity_rank, 1), _fmt(cur.mean_popularity_rank, 1)),
        ("Gini of exposure", _fmt(ref.gini), _fmt(cur.gini)),
        ("catalogue coverage", _fmt(ref.coverage), _fmt(cur.coverage)),
        ("ratings", ref.ratings, cur.ratings),
        ("mean rating", _fmt(ref.mean_rating, 2), _fmt(cur.mean_rating, 2)),
        ("rating distribution", _dist(ref.rating_distribution), _dist(cur.rating_distribution)),
    ]
    span = lambda w: f"{_day(w.start)} – {_day(w.end)}"  # noqa: E731
    template = Environment(autoescape=select_autoescape(default=True)).from_string(_TEMPLATE)
    return template.render(
        day=_day(report.generated_at),
        verdict="DRIFT" if report.drifted else "no drift",
        cur_span=span(cur),
        ref_span=span(ref),
        source=report.popularity_source,
        checks=report.checks,
        fmt=_fmt,
        rows=rows,
        ctr=[(v, ref.ctr.get(v, empty), cur.ctr.get(v, empty)) for v in sorted(set(ref.ctr) | set(cur.ctr))],
        # srcdoc is an attribute: autoescaping quotes the whole document safely.
        popmon=[(t.check.name, t.html) for t in tests if t.html],
    )


def _dist(distribution: Mapping[float, float]) -> str:
    return ", ".join(f"{k:g}: {v:.0%}" for k, v in distribution.items()) or "–"


__all__ = ["DriftReport", "build_drift_report", "drift_alert", "popularity_from_artifact", "run_drift_report"]
