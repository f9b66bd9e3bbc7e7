"""The ``movierec`` command. Settings are read here, once, and passed down.

Each command group lives in its own module with a ``register(subparsers)`` function;
add a module to ``COMMANDS`` to add a command.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="movierec", description="A movie recommender, A/B-tested on live traffic.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not logging.getLogger().handlers:  # jobs install JSON logging before calling main()
        level = logging.DEBUG if args.verbose else logging.WARNING
        logging.basicConfig(level=level, stream=sys.stderr)
        for handler in logging.getLogger().handlers:  # loggers that opt in to INFO (the
            handler.setLevel(level)  # ab_report metric lines) are for the jobs' JSON logs
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    try:
        settings = Settings.from_env()
        if getattr(args, "dataset", "") is None:
            args.dataset = settings.dataset
        if getattr(args, "seed", 0) is None:
            args.seed = settings.seed
        return args.func(args, settings)
    except MovierecError as exc:
        print(f"movierec: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
