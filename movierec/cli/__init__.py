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
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from movierec import __version__
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
    "movierec.cli.users",
)
OptionsT = TypeVar("OptionsT")


class _VersionAction(argparse.Action):
    """``--version``: imports the model code only when asked, to keep other commands fast."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(version_line())
        parser.exit()


def version_line() -> str:
    """The package version and the code version that manifests of new models record."""
    from movierec.models.artifact import CODE_VERSION

    return f"movierec {__version__} (code {CODE_VERSION})"


def build_parser(prog: str = "movierec") -> argparse.ArgumentParser:
    return _parser_and_commands(prog)[0]


def _parser_and_commands(prog: str) -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    parser = argparse.ArgumentParser(prog=prog, description="A movie recommender, A/B-tested on live traffic.")
    parser.add_argument("--version", action=_VersionAction, help="print the package and code versions")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        importlib.import_module(module).register(sub)
    return parser, sub


def parse_options(command: str, options: type[OptionsT], argv: Sequence[str], prog: str = "movierec") -> OptionsT:
    """The ``options`` that `movierec COMMAND ARGV...` would run with (exits 2 on bad arguments,
    with the usage of ``prog COMMAND``)."""
    commands = _parser_and_commands(prog)[1]
    return options_from(options, commands.choices[command].parse_args(argv))


def reporting_errors(run: Callable[[], int], prog: str = "movierec") -> int:
    """``run()``, with the errors a user can fix reported in one line and exit status 2."""
    try:
        return run()
    except MovierecError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run `movierec ARGV...` with Settings read from ``env`` (default: the process environment)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not logging.getLogger().handlers:  # whoever embeds main() may have set logging up
        level = logging.DEBUG if args.verbose else logging.WARNING
        logging.basicConfig(level=level, stream=sys.stderr)
        for handler in logging.getLogger().handlers:  # loggers that opt in to INFO (the
            handler.setLevel(level)  # ab_report metric lines) are for the jobs' JSON logs
    quiet_libraries()

    def run() -> int:
        settings = Settings.from_env(env)
        if getattr(args, "dataset", "") is None:
            args.dataset = settings.dataset
        if getattr(args, "seed", 0) is None:
            args.seed = settings.seed
        return args.func(args, settings)

    return reporting_errors(run)


def quiet_libraries() -> None:
    """MLflow's INFO lines about every run would bury the commands' own summaries."""
    logging.getLogger("mlflow").setLevel(logging.WARNING)
