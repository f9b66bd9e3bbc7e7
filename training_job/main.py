"""Cloud Run job entry points: thin wrappers over the movierec CLI.

    python -m training_job.main retrain   # weekly: retrain, gate, promote
    python -m training_job.main export    # copy new events to the warehouse
    python -m training_job.main report    # A/B report + CTR alerts
    python -m training_job.main drift     # recommendation drift report + alert
    python -m training_job.main daily     # export, then report (+ CTR alerts), then drift

Settings come from the job's environment (see README); each command reads them once.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from movierec.cli import main as cli
from movierec.errors import MovierecError
from movierec.observability.logging import configure_logging
from movierec.settings import Settings

JOBS: dict[str, list[list[str]]] = {
    "train": [["train"]],
    "retrain": [["retrain"]],
    "export": [["export"]],
    "report": [["report"]],
    "drift": [["drift"]],
    "daily": [["export"], ["report"], ["drift"]],
}
# Exit codes that are findings, not failures: drift exits 1 after alerting on a failed test.
FINDINGS: dict[str, set[int]] = {"drift": {1}}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in JOBS:
        print(f"usage: python -m training_job.main {{{'|'.join(JOBS)}}} [options]", file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_level, secrets=settings.secrets)  # JSON lines for Cloud Logging
    except MovierecError as exc:
        print(f"movierec job: error: {exc}", file=sys.stderr)
        return 2
    steps = JOBS[args[0]]
    if len(steps) > 1 and args[1:]:
        print(f"movierec job: {args[0]} runs several steps and takes no options; use the single-step jobs",
              file=sys.stderr)
        return 2
    for step in steps:
        code = cli([*step, *args[1:]])
        if code != 0 and code not in FINDINGS.get(step[0], set()):
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
