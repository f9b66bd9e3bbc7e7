"""Cloud Run job entry points: the movierec commands, run with the Settings read here once.

    python -m training_job.main train     # train, evaluate and publish the models
    python -m training_job.main retrain   # weekly: retrain, gate, promote
    python -m training_job.main export    # copy new events to the warehouse
    python -m training_job.main report    # A/B report + CTR alerts
    python -m training_job.main drift     # recommendation drift report + alert
    python -m training_job.main daily     # export, then report (+ CTR alerts), then drift

Settings come from the job's environment (see README), read once and passed to every
step. A single-step job takes the options of its `movierec` command; a step without
options runs with the defaults of the command's options class.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
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

    def options_from(self, argv: Sequence[str]) -> Any:
        return parse_options(self.command, self.options, argv, prog=PROG) if argv else self.options()


TRAIN = Step("train", run_train, TrainOptions)
RETRAIN = Step("retrain", run_retrain, RetrainOptions)
EXPORT = Step("export", run_export, ExportOptions)
REPORT = Step("report", run_report, ReportOptions)
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
