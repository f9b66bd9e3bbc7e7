"""The live A/B panel: the running experiment's read-out, recomputed every few seconds.

The numbers are the A/B analysis of :mod:`movierec.analysis.readout`, on the same
warehouse query the report uses, with the settings of the experiment's recorded plan,
formatted by the same :mod:`movierec.reporting.view`, so the page and ``movierec
report`` never disagree on the verdict, its reasons or an interval.
The serving process keeps its own warehouse for this, private to the process (an
in-memory DuckDB by default): the CLI's ``warehouse.duckdb`` can be open in one
process only, and a server holding it would make ``movierec export`` fail on the lock.
Before each read-out the incremental, idempotent export copies the events written
since the last one into that warehouse.

A read-out is cached for ``ttl_seconds``: the page polls every few seconds from any
number of tabs, and one computation (export + query + analysis, tens of ms) serves them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from movierec.analysis.config import AnalysisConfig
from movierec.analysis.interleaving import analyse_interleaving
from movierec.analysis.queries import load_experiment_data
from movierec.analysis.readout import ExperimentReport, analyse
from movierec.errors import ConfigError
from movierec.events import Experiment
from movierec.experiments.config import get_experiment
from movierec.jsonsafe import json_safe
from movierec.pipelines.export import export_events
from movierec.reporting.interleaving import interleaving_view
from movierec.reporting.view import ReadoutView, build_view
from movierec.stores.ports import EventLog, Warehouse

DEFAULT_TTL_SECONDS = 2.0
# Events reach the process's log with the process's clock, so a late row is late by a
# request's duration, not by a clock skew: a short re-read suffices.
EXPORT_OVERLAP_SECONDS = 30.0
NO_EXPERIMENT = "no experiment yet: create one with `movierec experiment create`"


def panel(experiment: Experiment, report: ExperimentReport, *, computed_at: float) -> dict[str, Any]:
    """The JSON the page draws, from an experiment and its analysis (pure).

    Verdict, reasons, comparison rows and intervals are the strings of
    :func:`movierec.reporting.view.build_view`, the ones ``movierec report`` prints
    and writes to HTML; the page shows them as they are. Per variant it also carries
    the raw counts and the CTR with its range-respecting interval for the chart.
    """
    view = build_view(report)
    config = {v.name: v for v in experiment.variants}
    rows = {row.name: row for row in view.variants}
    variants = []
    for summary in report.variants:
        defined = config.get(summary.variant)
        variants.append(
            {
                "name": summary.variant,
                "model": defined.model if defined else None,
                "version": defined.version if defined else None,  # None: the live version
                "weight": defined.weight if defined else None,
                "users": summary.users,
                "exposed_users": summary.exposed_users,
                "impressions": summary.impressions,
                "clicks": summary.clicks,
                "ratings": summary.ratings,
                "ctr": summary.ctr,
                "ctr_ci": summary.ctr_ci,
                "ctr_ci_text": rows[summary.variant].ctr_ci,
                "mean_rating": summary.mean_rating,
            }
        )
    body = {
        "experiment": {
            "id": experiment.experiment_id,
            "status": experiment.status,
            "control": report.control,
            "primary_metric": report.primary_metric,
            "started_at": experiment.started_at,
        },
        "summary": view.summary,
        "settings": view.settings,
        "alpha": report.config.alpha,
        "variant_header": list(view.variant_header),
        "variants": variants,
        "comparisons": [asdict(row) for row in view.comparisons],
        "srm": {"alarm": report.srm.alarm, "p_value": report.srm.p_value, "message": report.srm.message},
        "verdict": {"code": view.verdict, "text": view.verdict_text, "reasons": list(view.reasons)},
        "checks": list(view.checks),
        "notes": list(view.notes),
        "message": None,
        "computed_at": computed_at,
    }
    return json_safe(body)


def view_panel(experiment: Experiment, view: ReadoutView, *, computed_at: float) -> dict[str, Any]:
    """The panel of an interleaved experiment: its verdict, reasons and notes as the report
    prints them (there are no per-variant rates: both rankers serve every user)."""
    return json_safe({
        **empty_panel(None, computed_at=computed_at),
        "experiment": {"id": experiment.experiment_id, "status": experiment.status, "control": view.control,
                       "primary_metric": "preference", "started_at": experiment.started_at,
                       "design": experiment.design},
        "summary": view.summary,
        "settings": view.settings,
        "verdict": {"code": view.verdict, "text": view.verdict_text, "reasons": list(view.reasons)},
        "checks": list(view.checks),
        "notes": list(view.notes),
    })


def empty_panel(message: str | None, *, computed_at: float) -> dict[str, Any]:
    """The panel when there is nothing to analyse, saying why."""
    return {
        "experiment": None,
        "summary": None,
        "settings": None,
        "alpha": None,
        "variant_header": [],
        "variants": [],
        "comparisons": [],
        "srm": None,
        "verdict": None,
        "checks": [],
        "notes": [],
        "message": message,
        "computed_at": computed_at,
    }


class LiveAB:
    """The current panel of the running (else the latest) experiment, cached briefly.

    Thread-safe: concurrent requests wait for one computation and share its result.
    Raises what the stores raise (BackendUnavailable when the event log is down).
    """

    def __init__(
        self,
        events: EventLog,
        warehouse: Warehouse,
        *,
        analysis: AnalysisConfig | None = None,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if ttl_seconds < 0:
            raise ConfigError(f"ttl_seconds must be >= 0, got {ttl_seconds!r}")
        self.events, self.warehouse = events, warehouse
        self.analysis = analysis  # None: the experiment's recorded plan decides
        self.ttl_seconds, self.clock = ttl_seconds, clock
        self._cached: tuple[float, dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            now = self.clock()
            if self._cached is not None and now - self._cached[0] < self.ttl_seconds:
                return self._cached[1]
            body = self._compute(now)
            self._cached = (now, body)
            return body

    def _compute(self, now: float) -> dict[str, Any]:
        try:
            experiment = get_experiment(self.events, None)
        except ConfigError:  # none exists: a state of the demo, not an error
            return empty_panel(NO_EXPERIMENT, computed_at=now)
        export_events(self.events, self.warehouse, now=now, overlap_seconds=EXPORT_OVERLAP_SECONDS)
        if experiment.design == "interleaved":
            readout = analyse_interleaving(self.warehouse, experiment)
            return view_panel(experiment, interleaving_view(readout), computed_at=now)
        data = load_experiment_data(self.warehouse, experiment.experiment_id)
        return panel(experiment, analyse(experiment, data, self.analysis), computed_at=now)
