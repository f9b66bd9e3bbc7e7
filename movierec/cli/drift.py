"""`movierec drift`: compare the served recommendations of the last days with a reference window.

With nothing to compare yet (a fresh deployment: no impressions in the reference window
and no live popularity model) it prints "nothing to analyse" and exits 0: no drift can be
shown, and the daily job must not fail (and be retried) for it.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from movierec.cli.common import command
from movierec.errors import ConfigError, NothingToAnalyse
from movierec.settings import Settings

if TYPE_CHECKING:
    from movierec.reporting.drift_checks import DriftCheck

EXIT_DRIFT = 1


@dataclass(frozen=True)
class DriftOptions:
    reference_days: float = 7.0
    current_days: float = 7.0
    html: str | None = None
    popularity_model: str = "popular"  # '': popularity of the reference window
    now: float | None = None  # epoch seconds, for replays and tests
    json: bool = False


def run_drift(options: DriftOptions, settings: Settings) -> int:
    """The drift report; ``EXIT_DRIFT`` when a drift test fails (after alerting)."""
    from movierec.reporting.alerting import Alerter
    from movierec.reporting.drift import run_drift_report
    from movierec.stores.factory import make_stores, make_warehouse

    if options.reference_days <= 0 or options.current_days <= 0:
        raise ConfigError("--reference-days and --current-days must be positive")
    stores = make_stores(settings)
    # The warehouse remembers the alerts sent, so a lasting drift alerts once per cool-down.
    with closing(make_warehouse(settings)) as warehouse:
        try:
            report, saved, alert = run_drift_report(
                stores.events,
                stores.artifacts,
                Alerter(warehouse, settings.alert_webhook_url),
                now=time.time() if options.now is None else options.now,
                reference_days=options.reference_days,
                current_days=options.current_days,
                popularity_model=options.popularity_model or None,
            )
        except NothingToAnalyse as exc:
            print(f"drift: nothing to analyse: {exc}")
            return 0
    if options.html:
        Path(options.html).write_text(saved.summary_html, encoding="utf-8")
    where = stores.artifacts.describe()
    if options.json:
        print(json.dumps({**saved.document, "report": f"{where}/{saved.summary_key}",
                          "alert": None if alert is None else alert.outcome}, indent=2))
    else:
        print(f"drift: {headline(report.verdict, report.checks)}   report: {where}/{saved.summary_key}")
        if alert is not None:
            print(f"alert [{alert.outcome}]: {alert.alert.message}")
        for c in report.checks:
            print(f"  {c.status:<17} {c.segment + ': ' + c.name:<30} {c.detail}")
    return EXIT_DRIFT if report.drifted else 0


def headline(verdict: str, checks: Sequence[DriftCheck]) -> str:
    """'DRIFT', 'insufficient data', or 'none' with how many checks lacked data."""
    if verdict == "drift":
        return "DRIFT"
    if verdict == "insufficient data":
        return "insufficient data (no check had enough events in both windows)"
    lacking = sum(1 for c in checks if c.status == "insufficient_data")
    return f"none ({lacking} of {len(checks)} checks: insufficient data)" if lacking else "none"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("drift", help="recommendation drift report (exit status 1 when a drift test fails)")
    p.add_argument("--reference-days", type=float, default=DriftOptions.reference_days, help="length of the reference window (default 7)")
    p.add_argument("--current-days", type=float, default=DriftOptions.current_days, help="length of the current window, ending now (default 7)")
    p.add_argument("--html", default=None, help="also write the summary page to this file")
    p.add_argument("--popularity-model", default=DriftOptions.popularity_model,
                   help="model whose live artifact gives item popularity; '' to use the reference window")
    p.add_argument("--now", type=float, default=None, help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", help="print the drift document (every check, per segment) as JSON")
    p.set_defaults(func=command(run_drift, DriftOptions))
