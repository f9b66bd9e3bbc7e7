"""`movierec report` (the A/B read-out) and `movierec alerts check` (CTR alerting).

Both read the experiment definition and its aggregates from the Warehouse (run
`movierec export` first), so the daily job needs no access to the event log.

Alerting from `report`: with ``--alerts`` the report also checks and dispatches the
CTR alerts; without a flag it does so exactly when ``MOVIEREC_ALERT_WEBHOOK_URL`` is
set, so the scheduled job (``training_job.main report`` / ``daily``) alerts once a
webhook is configured and a developer's `movierec report` never posts anything.
``--no-alerts`` turns it off.

Before the first experiment (or before its first exported event) there is nothing to
read out: `movierec report` says so and exits 2, while the scheduled jobs run it with
``--skip-when-empty`` (``ReportOptions.skip_when_empty``), which prints "nothing to
analyse" and exits 0, so the daily job goes on to drift and is not retried for it.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from movierec.cli.common import command
from movierec.errors import ConfigError, NothingToAnalyse
from movierec.settings import Settings

# The ab_report lines feed a log-based metric: keep them whatever the CLI's log level.
report_log = logging.getLogger("movierec.ab_report")
report_log.setLevel(logging.INFO)


@dataclass(frozen=True)
class AnalysisOptions:
    """What `report` and `alerts check` share: which experiment, when to alert.

    How to test is not an option: α, the MDE and the always-valid test's tuning come
    from the plan recorded with the experiment (``movierec experiment create``), so
    the verdict cannot depend on a flag of the day it is read.
    """

    experiment: str | None = None  # the running one, else the latest
    json: bool = False
    ctr_floor: float | None = None
    min_impressions: int = 200
    cooldown_hours: float = 24.0


@dataclass(frozen=True)
class ReportOptions(AnalysisOptions):
    html: str | None = None
    alerts: bool | None = None  # None: alert exactly when a webhook is configured
    skip_when_empty: bool = False  # no experiment or no data yet: exit 0, not 2


@dataclass(frozen=True)
class AlertsCheckOptions(AnalysisOptions):
    dry_run: bool = False


def _warehouse(settings: Settings):
    from movierec.stores.factory import make_warehouse

    return closing(make_warehouse(settings))


def _choose(experiments: list, experiment_id: str | None):
    """The named experiment, else the running one, else the one started last."""
    if experiment_id is not None:
        for e in experiments:
            if e.experiment_id == experiment_id:
                return e
        known = ", ".join(e.experiment_id for e in experiments) or "none"
        raise ConfigError(
            f"unknown experiment {experiment_id!r} in the warehouse (known: {known}); "
            "if it was created recently, run `movierec export` first"
        )
    if not experiments:
        raise NothingToAnalyse(
            "no experiment in the warehouse: create one (`movierec experiment create`) "
            "and copy events with `movierec export`"
        )
    running = [e for e in experiments if e.status == "running"]
    return max(running or experiments, key=lambda e: e.started_at)


def _chosen(options: AnalysisOptions, warehouse):
    from movierec.analysis.definitions import list_experiments

    warehouse.ensure_schema()  # a fresh warehouse: "no experiment" rather than "no table"
    return _choose(list_experiments(warehouse), options.experiment)


def _analysed(options: AnalysisOptions, warehouse, experiment=None):
    from movierec.analysis.queries import load_experiment_data
    from movierec.analysis.readout import analyse

    experiment = experiment or _chosen(options, warehouse)
    if experiment.design == "interleaved":
        raise ConfigError(f"experiment {experiment.experiment_id!r} is interleaved: it has a preference "
                          "read-out (`movierec report`), not CTR alerts")
    data = load_experiment_data(warehouse, experiment.experiment_id)
    if not any(v.users or v.impressions for v in data.variants.values()):
        raise NothingToAnalyse(
            f"experiment {experiment.experiment_id!r} has no data in the warehouse yet "
            "(no assignments or impressions); run `movierec export` once traffic has arrived"
        )
    return experiment, data, analyse(experiment, data)


def _dispatch(options: AnalysisOptions, settings, warehouse, experiment, data, report, *, dry_run: bool = False):
    from movierec.reporting.ctr_alerts import AlertConfig, check_ctr_alerts, dispatch_alerts

    floor = options.ctr_floor if options.ctr_floor is not None else settings.ctr_alert_floor
    config = AlertConfig(ctr_floor=floor, min_impressions=options.min_impressions)
    alerts = check_ctr_alerts(report, data, experiment, config)
    if dry_run:
        return [(a, "dry-run") for a in alerts]
    sent = dispatch_alerts(
        alerts,
        warehouse,
        settings.alert_webhook_url,
        now=time.time(),
        cooldown_seconds=options.cooldown_hours * 3600.0,
    )
    return [(d.alert, d.outcome) for d in sent]


def run_report(options: ReportOptions, settings: Settings) -> int:
    from movierec.reporting.report import log_fields, render_html, render_text

    alerts_on = options.alerts if options.alerts is not None else bool(settings.alert_webhook_url)
    with _warehouse(settings) as warehouse:
        try:
            chosen = _chosen(options, warehouse)
            if chosen.design == "interleaved":
                return _interleaving_report(options, warehouse, chosen)
            experiment, data, result = _analysed(options, warehouse, chosen)
        except NothingToAnalyse as exc:
            if not options.skip_when_empty:
                raise
            print(f"nothing to analyse: {exc}")
            return 0
        for record in log_fields(result):
            report_log.info(
                "ab_report %s/%s ctr=%s",
                record["experiment_id"],
                record["variant"],
                record.get("ctr"),
                extra=record,
            )
        if options.html:
            _write_html(Path(options.html), render_html(result, data))
        outcomes = _dispatch(options, settings, warehouse, experiment, data, result) if alerts_on else []
    if options.json:
        body = result.to_dict()
        if alerts_on:
            body["alerts"] = [_alert_dict(a, outcome) for a, outcome in outcomes]
        print(json.dumps(body, indent=2, allow_nan=False))
    else:
        print(render_text(result), end="")
        for alert, outcome in outcomes:
            print(f"alert [{outcome}]: {alert.message}")
        if options.html:
            print(f"HTML report written to {options.html}")
    return 0


def _interleaving_report(options: ReportOptions, warehouse, experiment) -> int:
    from movierec.analysis.interleaving import analyse_interleaving
    from movierec.reporting.interleaving import interleaving_view
    from movierec.reporting.report import render_view_html, render_view_text

    view = interleaving_view(analyse_interleaving(warehouse, experiment))
    if options.html:
        _write_html(Path(options.html), render_view_html(view))
    print(json.dumps(view.to_dict(), indent=2, allow_nan=False) if options.json else render_view_text(view), end="\n"
          if options.json else "")
    if options.html and not options.json:
        print(f"HTML report written to {options.html}")
    return 0


def _write_html(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the HTML report to {path}: {exc}") from exc


def _alert_dict(alert, outcome: str) -> dict:
    return {
        "key": alert.key,
        "variant": alert.variant,
        "metric": alert.metric,
        "condition": alert.condition,
        "message": alert.message,
        "outcome": outcome,
    }


def run_alerts_check(options: AlertsCheckOptions, settings: Settings) -> int:
    with _warehouse(settings) as warehouse:
        experiment, data, result = _analysed(options, warehouse)
        outcomes = _dispatch(options, settings, warehouse, experiment, data, result, dry_run=options.dry_run)
    if options.json:
        print(json.dumps([_alert_dict(a, o) for a, o in outcomes], indent=2))
    elif not outcomes:
        print(f"no alert condition holds for experiment {experiment.experiment_id}")
    else:
        for alert, outcome in outcomes:
            print(f"[{outcome}] {alert.message}")
    return 0


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text!r}")
    return value


def _add_experiment_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--experiment", default=None, help="experiment id (default: the running one, else the latest)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _add_alert_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ctr-floor", type=float, default=None, help="alert when a variant's CTR falls below this (e.g. 0.02)")
    p.add_argument("--min-impressions", type=int, default=AnalysisOptions.min_impressions, help="impressions needed before the floor is checked")
    p.add_argument("--cooldown-hours", type=_positive_float, default=AnalysisOptions.cooldown_hours, help="do not repeat an alert within this time (default 24)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="A/B report of an experiment (text, --json or --html)")
    _add_experiment_options(p)
    p.add_argument("--html", metavar="FILE", default=None, help="also write a self-contained HTML report with plots")
    p.add_argument(
        "--alerts",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="check and send CTR alerts (default: when MOVIEREC_ALERT_WEBHOOK_URL is set)",
    )
    _add_alert_options(p)
    p.add_argument(
        "--skip-when-empty",
        action="store_true",
        help="no experiment or no data yet: print 'nothing to analyse' and exit 0 (the scheduled jobs' behaviour)",
    )
    p.set_defaults(func=command(run_report, ReportOptions))

    group = sub.add_parser("alerts", help="CTR alerting").add_subparsers(dest="alerts_command", required=True)
    p = group.add_parser("check", help="check the alert conditions and send the ones not in their cool-down")
    _add_experiment_options(p)
    _add_alert_options(p)
    p.add_argument("--dry-run", action="store_true", help="print the alerts that hold, send nothing")
    p.set_defaults(func=command(run_alerts_check, AlertsCheckOptions))
