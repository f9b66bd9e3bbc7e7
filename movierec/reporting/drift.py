"""The drift job: read two windows of events, compare them per segment, save the reports, alert.

``run_drift_report`` is what the scheduled job and ``movierec drift`` call. For
``[now - current_days, now)`` against the ``reference_days`` before it, per segment
(all traffic and each variant), it computes the window summaries and threshold checks
(:mod:`movierec.reporting.drift_checks`, pure), lets Evidently test the column
distributions (:mod:`movierec.reporting.drift_columns` says which and how;
:mod:`movierec.reporting.drift_evidently` runs them) and saves, under
``reports/drift/`` in the artifact store:

- ``<day>.json``: the drift document, every check with its status
  (``passed`` / ``failed`` / ``insufficient_data``), score, method and threshold, the
  window summaries and Evidently's own test results. The alert is built from it
  (:func:`drift_alert`), as any other reader of the stored document can;
- ``<day>.evidently.html``: Evidently's own report (absent when nothing could be compared);
- ``<day>.html``: the summary page, linking to Evidently's.

A failed check dispatches one alert through the same
:class:`~movierec.reporting.alerting.Alerter` as the CTR alerts, so a drift that lasts
is not re-sent on every run of the cool-down.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd

from movierec.data.frames import GENRE_SEPARATOR
from movierec.errors import ArtifactError, ConfigError, NothingToAnalyse
from movierec.jsonsafe import json_safe
from movierec.models.artifact import load_artifact, read_items
from movierec.reporting.alerting import Alert, Alerter, Dispatched
from movierec.reporting.drift_checks import (
    DriftCheck,
    DriftThresholds,
    Popularity,
    Verdict,
    WindowFrames,
    WindowSummary,
    segments,
    summarize,
    threshold_checks,
    verdict,
)
from movierec.reporting.drift_columns import checks_from, column_tests, column_values, plan
from movierec.reporting.drift_page import render_summary
from movierec.stores.ports import ArtifactStore, EventLog
from movierec.stores.scanning import scan_window

log = logging.getLogger(__name__)

DAY = 86_400.0
REPORT_PREFIX = "reports/drift"


@dataclass(frozen=True)
class DriftReport:
    generated_at: float
    reference_window: tuple[float, float]
    current_window: tuple[float, float]
    popularity_source: str
    summaries: dict[str, tuple[WindowSummary, WindowSummary]]  # segment -> (reference, current)
    checks: tuple[DriftCheck, ...]
    evidently_html: str  # "" when nothing was compared
    evidently_tests: tuple[dict[str, Any], ...]
    evidently_version: str

    @property
    def verdict(self) -> Verdict:
        return verdict(self.checks)

    @property
    def drifted(self) -> bool:
        return self.verdict == "drift"

    @property
    def failed(self) -> list[DriftCheck]:
        return [c for c in self.checks if c.failed]


@dataclass(frozen=True)
class SavedDriftReport:
    """Where a report's files went in the artifact store, and its document."""

    summary_key: str
    document_key: str
    evidently_key: str | None
    document: dict[str, Any]
    summary_html: str


def popularity_from_artifact(store: ArtifactStore, model: str) -> Popularity:
    """Training interaction counts and genres of the live version of ``model`` (checksums verified)."""
    artifact = load_artifact(store, model)
    _, genres = read_items(artifact)
    return Popularity(
        np.asarray(artifact.arrays["item_ids"], dtype=np.int64),
        np.asarray(artifact.arrays["item_popularity"], dtype=np.float64),
        f"item_popularity of model {artifact.name} {artifact.version}",
        {movie: tuple(g for g in text.split(GENRE_SEPARATOR) if g) for movie, text in genres.items()},
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
    """Compare the ``impressions`` and ``feedback`` rows of two windows, per segment."""
    from movierec.reporting import drift_evidently  # Evidently loads only when a report is built

    thresholds = thresholds or DriftThresholds()
    reference = WindowFrames.from_rows(reference_rows, reference_window, popularity)
    current = WindowFrames.from_rows(current_rows, current_window, popularity)
    summaries: dict[str, tuple[WindowSummary, WindowSummary]] = {}
    values: dict[str, tuple[dict[str, pd.Series], dict[str, pd.Series]]] = {}
    for segment in segments(reference, current):
        ref, cur = reference.segment(segment), current.segment(segment)
        summaries[segment] = (summarize(ref, popularity), summarize(cur, popularity))
        values[segment] = (
            column_values(ref, popularity, thresholds.max_values),
            column_values(cur, popularity, thresholds.max_values),
        )
    comparisons, insufficient = plan(values, thresholds, genres_known=bool(popularity.genres))
    run = drift_evidently.compare(comparisons) if comparisons else None
    compared = checks_from(comparisons, run.outcomes) if run else []
    by_key = {(c.segment, c.name): c for c in (*compared, *insufficient)}
    checks = []
    for segment, (ref_summary, cur_summary) in summaries.items():
        checks += [by_key[segment, test.name] for test in column_tests(thresholds)]
        checks += threshold_checks(segment, ref_summary, cur_summary, thresholds)
    return DriftReport(
        generated_at=now,
        reference_window=reference_window,
        current_window=current_window,
        popularity_source=popularity.source,
        summaries=summaries,
        checks=tuple(checks),
        evidently_html=run.html if run else "",
        evidently_tests=tuple(run.tests) if run else (),
        evidently_version=drift_evidently.EVIDENTLY_VERSION,
    )


def drift_document(report: DriftReport, keys: Mapping[str, str | None]) -> dict[str, Any]:
    """The JSON the alerting (and anyone after it) reads: every check and the summaries."""
    return json_safe(
        {
            "day": _day(report.generated_at),
            "generated_at": report.generated_at,
            "verdict": report.verdict,
            "drifted": report.drifted,
            "windows": {"reference": list(report.reference_window), "current": list(report.current_window)},
            "popularity_source": report.popularity_source,
            "reports": dict(keys),
            "checks": [asdict(c) for c in report.checks],
            "summaries": {
                side: {
                    segment: {**asdict(pair[i]), "ctr": pair[i].ctr} for segment, pair in report.summaries.items()
                }
                for i, side in enumerate(("reference", "current"))
            },
            "evidently": {"version": report.evidently_version, "tests": list(report.evidently_tests)},
        }
    )


def drift_alert(document: Mapping[str, Any], store: str) -> Alert:
    """The one alert of a drift document with a failed check (the document saved in ``store``)."""
    failed = [c for c in document["checks"] if c["status"] == "failed"]
    if not failed:
        raise ValueError("a drift document without a failed check makes no alert")
    current = document["windows"]["current"]
    summary_key = document["reports"]["summary"]
    return Alert(
        source="drift",
        condition="recommendation_drift",
        title="Recommendation drift",
        message=(
            f"{len(failed)} drift test(s) failed for {_day(current[0])}..{_day(current[1])}: "
            + "; ".join(f"{c['segment']}: {c['name']} ({c['detail']})" for c in failed)
            + f". Report: {store}/{summary_key}"
        ),
        fields={"failed": [f"{c['segment']}: {c['name']}" for c in failed], "report": summary_key,
                "document": document["reports"]["document"]},
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
) -> tuple[DriftReport, SavedDriftReport, Dispatched | None]:
    """Build the report, save its three files, and alert when a check failed.

    Returns the report, what was saved where, and what became of the alert (None
    without drift). Popularity (and genres) come from the live artifact of
    ``popularity_model``; without one (or with ``None``) from the exposures of the
    reference window, and then no genre mix is tested.
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
    saved = save_drift_report(artifacts, report)
    log.info("drift report saved", extra={"report": saved.summary_key, "verdict": report.verdict})
    if not report.drifted:
        return report, saved, None
    [dispatched] = alerter.dispatch([drift_alert(saved.document, artifacts.describe())], now)
    return report, saved, dispatched


def save_drift_report(artifacts: ArtifactStore, report: DriftReport) -> SavedDriftReport:
    """Evidently's page first, then the document, then the summary page that links both."""
    base = f"{REPORT_PREFIX}/{_day(report.generated_at)}"
    summary_key, document_key = f"{base}.html", f"{base}.json"
    evidently_key = f"{base}.evidently.html" if report.evidently_html else None
    if evidently_key:
        artifacts.write_bytes(evidently_key, report.evidently_html.encode(), content_type="text/html; charset=utf-8")
    elif artifacts.exists(f"{base}.evidently.html"):  # an earlier run of the day compared something
        artifacts.delete(f"{base}.evidently.html")
    document = drift_document(report, {"summary": summary_key, "document": document_key, "evidently": evidently_key})
    artifacts.write_bytes(document_key, json.dumps(document, indent=2).encode(), content_type="application/json")
    # A relative link: the pages sit side by side in a folder, a bucket, a console view.
    html = render_summary(document, evidently_key.rsplit("/", 1)[-1] if evidently_key else None)
    artifacts.write_bytes(summary_key, html.encode(), content_type="text/html; charset=utf-8")
    return SavedDriftReport(summary_key, document_key, evidently_key, document, html)


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d")


__all__ = [
    "DriftReport",
    "SavedDriftReport",
    "build_drift_report",
    "drift_alert",
    "drift_document",
    "popularity_from_artifact",
    "run_drift_report",
    "save_drift_report",
]
