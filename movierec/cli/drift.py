"""`movierec drift`: compare the served recommendations of the last days with a reference window."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from movierec.errors import ConfigError
from movierec.settings import Settings


def drift(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.reporting.alerting import Alerter
    from movierec.reporting.drift import run_drift_report
    from movierec.stores.factory import make_stores, make_warehouse

    if args.reference_days <= 0 or args.current_days <= 0:
        raise ConfigError("--reference-days and --current-days must be positive")
    stores = make_stores(settings)
    # The warehouse remembers the alerts sent, so a lasting drift alerts once per cool-down.
    alerter = Alerter(make_warehouse(settings, os.environ), settings.alert_webhook_url)
    report, key, alert = run_drift_report(
        stores.events,
        stores.artifacts,
        alerter,
        now=time.time() if args.now is None else args.now,
        reference_days=args.reference_days,
        current_days=args.current_days,
        popularity_model=args.popularity_model or None,
    )
    if args.html:
        Path(args.html).write_text(report.html, encoding="utf-8")
    summary = {
        "drifted": report.drifted,
        "report": f"{stores.artifacts.describe()}/{key}",
        "alert": None if alert is None else alert.outcome,
        "checks": [
            {"name": c.name, "status": c.status, "reference": c.reference, "current": c.current, "detail": c.detail}
            for c in report.checks
        ],
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"drift: {'DRIFT' if report.drifted else 'none'}   report: {summary['report']}")
        if alert is not None:
            print(f"alert [{alert.outcome}]: {alert.alert.message}")
        for c in report.checks:
            print(f"  {c.status:<17} {c.name:<30} {c.detail}")
    return 1 if report.drifted else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("drift", help="recommendation drift report (exit status 1 when a drift test fails)")
    p.add_argument("--reference-days", type=float, default=7.0, help="length of the reference window (default 7)")
    p.add_argument("--current-days", type=float, default=7.0, help="length of the current window, ending now (default 7)")
    p.add_argument("--html", default=None, help="also write the HTML report to this file")
    p.add_argument("--popularity-model", default="popular",
                   help="model whose live artifact gives item popularity; '' to use the reference window")
    p.add_argument("--now", type=float, default=None, help=argparse.SUPPRESS)  # epoch seconds, for replays/tests
    p.add_argument("--json", action="store_true", help="print the checks as JSON")
    p.set_defaults(func=drift)
