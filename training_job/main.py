"""Cloud Run job entry points: the movierec commands, run with the Settings read here once.

    python -m training_job.main train     # train, evaluate and publish the models
    python -m training_job.main retrain   # weekly: retrain, gate, promote
    python -m training_job.main export    # copy new events to the warehouse
    python -m training_job.main report    # A/B report + CTR alerts
    python -m training_job.main drift     # recommendation drift report + alert
    python -m training_job.main daily     # export, then report (+ CTR alerts), then drift

Settings come from the job's environment (see README), read once and passed to every
step. A single-step job takes the options of its `movierec` command; a step without
options runs with the job's defaults (the command's, except where ``Step.job_defaults``
says otherwise: the report skips, exit 0, while there is nothing to analyse).

Every job is safe to retry (Cloud Run retries a failed task, Scheduler a missed
start): export moves its watermark only after a page is stored and dedupes on keys,
an alert is recorded only once delivered and is not repeated within its cool-down,
the drift report of a day overwrites that day's object, and retrain's crash safety is
in docs/ARCHITECTURE.md ("Crash safety"). tests/jobs/test_training_job.py runs
``daily`` twice and checks the second run changes nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from movierec.cli import parse_options, quiet_libraries, reporting_errors
from movierec.cli.drift import EXIT_DRIFT, DriftOptions, run_drift
from movierec.cli.export import ExportOptions, run_export
from movierec.cli.report import ReportOptions, run_report
from movierec.cli.retrain import RetrainOptions, run_retrain
from movierec.cli.train import TrainOptions, run_train
from movierec.errors import MovierecError
from movierec.observability.logging import configure_logging
from movierec.settings import Settings

PROG = "python -m training_job.main"


@dataclass(frozen=True)
class Step:
    command: str  # the `movierec` command whose options a single-step job takes
    run: Callable[[Any, Settings], int]
    options: type
    # Exit codes that are findings, not failures: the job goes on and succeeds.
    findings: frozenset[int] = frozenset()
    # Options a scheduled run without arguments uses instead of the command line's defaults.
    job_defaults: Mapping[str, Any] = field(default_factory=dict)

    def options_from(self, argv: Sequence[str]) -> Any:
        if argv:
            return parse_options(self.command, self.options, argv, prog=PROG)
        return self.options(**self.job_defaults)


TRAIN = Step("train", run_train, TrainOptions)
RETRAIN = Step("retrain", run_retrain, RetrainOptions)
EXPORT = Step("export", run_export, ExportOptions)
# Before the first experiment there is nothing to read out: that is no failure of the
# daily job (which would be retried and would never reach drift).
REPORT = Step("report", run_report, ReportOptions, job_defaults={"skip_when_empty": True})
# Drift exits EXIT_DRIFT after alerting on a failed test: the alert is the job's outcome.
DRIFT = Step("drift", run_drift, DriftOptions, findings=frozenset({EXIT_DRIFT}))

JOBS: dict[str, tuple[Step, ...]] = {
    "train": (TRAIN,),
    "retrain": (RETRAIN,),
    "export": (EXPORT,),
    "report": (REPORT,),
    "drift": (DRIFT,),
    "daily": (EXPORT, REPORT, DRIFT),
}


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run the job ``argv[0]`` with Settings read from ``env`` (default: the process environment)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in JOBS:
        print(f"usage: {PROG} {{{'|'.join(JOBS)}}} [options]", file=sys.stderr)
        return 2
    name, options_argv = args[0], args[1:]
    steps = JOBS[name]
    if len(steps) > 1 and options_argv:
        print(f"movierec job: {name} runs several steps and takes no options; use the single-step jobs",
              file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env(env)
        configure_logging(settings.log_level, secrets=settings.secrets)  # JSON lines for Cloud Logging
    except MovierecError as exc:
        print(f"movierec job: error: {exc}", file=sys.stderr)
        return 2
    quiet_libraries()
    for step in steps:
        options = step.options_from(options_argv)
        code = reporting_errors(partial(step.run, options, settings))
        if code != 0 and code not in step.findings:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
