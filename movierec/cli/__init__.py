"""The ``movierec`` command. Settings are read here, once, and passed down.

Each command group lives in its own module with a ``register(subparsers)`` function;
add a module to ``COMMANDS`` to add a command. The commands the jobs run are also
functions of typed options and Settings (see ``movierec.cli.common``), which
``training_job.main`` calls directly.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

from movierec.cli.common import options_from
from movierec.errors import MovierecError
from movierec.settings import Settings

COMMANDS = (
    "movierec.cli.model",
    "movierec.cli.retrain",
    "movierec.cli.data",
    "movierec.cli.evaluate",
    "movierec.cli.export",
    "movierec.cli.train",
    "movierec.cli.serve",
    "movierec.cli.experiment",
    "movierec.cli.simulate",
    "movierec.cli.report",
    "movierec.cli.drift",
)
OptionsT = TypeVar("OptionsT")


def build_parser(prog: str = "movierec") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="A movie recommender, A/B-tested on live traffic.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        importlib.import_module(module).register(sub)
    return parser


def parse_options(command: str, options: type[OptionsT], argv: Sequence[str], prog: str = "movierec") -> OptionsT:
    """The ``options`` that `movierec COMMAND ARGV...` would run with (exits 2 on bad arguments)."""
    return options_from(options, build_parser(prog).parse_args([command, *argv]))


def reporting_errors(run: Callable[[], int], prog: str = "movierec") -> int:
    """``run()``, with the errors a user can fix reported in one line and exit status 2."""
    try:
        return run()
    except MovierecError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not logging.getLogger().handlers:  # whoever embeds main() may have set logging up
        level = logging.DEBUG if args.verbose else logging.WARNING
        logging.basicConfig(level=level, stream=sys.stderr)
        for handler in logging.getLogger().handlers:  # loggers that opt in to INFO (the
            handler.setLevel(level)  # ab_report metric lines) are for the jobs' JSON logs
    quiet_libraries()

    def run() -> int:
        settings = Settings.from_env()
        if getattr(args, "dataset", "") is None:
            args.dataset = settings.dataset
        if getattr(args, "seed", 0) is None:
            args.seed = settings.seed
        return args.func(args, settings)

    return reporting_errors(run)


def quiet_libraries() -> None:
    """MLflow's INFO lines about every run would bury the commands' own summaries."""
    logging.getLogger("mlflow").setLevel(logging.WARNING)
