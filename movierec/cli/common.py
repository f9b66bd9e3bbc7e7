"""Helpers shared by the command modules.

A command that a job runs too (train, retrain, export, report, drift) is a function
``run_<command>(options, settings) -> exit status`` over a frozen options dataclass
whose defaults are the command line's; ``command(run, Options)`` adapts it to argparse,
and the jobs call it with ``Options()`` and the Settings they read.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from movierec.settings import Settings

DATASETS = ("ml-100k", "ml-latest-small")
OptionsT = TypeVar("OptionsT")


@dataclass(frozen=True)
class DataOptions:
    """The data a command trains on; ``None`` takes the value of the Settings."""

    dataset: str | None = None
    min_user_ratings: int = 1
    min_item_ratings: int = 1
    seed: int | None = None
    allow_modified: bool = False

    def dataset_in(self, settings: Settings) -> str:
        return self.dataset or settings.dataset

    def seed_in(self, settings: Settings) -> int:
        return settings.seed if self.seed is None else self.seed


def options_from(options: type[OptionsT], args: argparse.Namespace) -> OptionsT:
    """``options`` built from the parsed arguments of the same names."""
    return options(**{f.name: getattr(args, f.name) for f in fields(options)})  # type: ignore[arg-type]


def command(
    run: Callable[[OptionsT, Settings], int], options: type[OptionsT]
) -> Callable[[argparse.Namespace, Settings], int]:
    """The argparse handler of ``run``: its options come from the command line."""

    def handle(args: argparse.Namespace, settings: Settings) -> int:
        return run(options_from(options, args), settings)

    return handle


def progress(total: int, desc: str):
    """A progress bar on stderr (stdout stays clean for tables and --json)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="step", file=sys.stderr, leave=False, dynamic_ncols=True)


def advance(bar: Any, step: str) -> None:
    """Show ``step`` on the progress bar and count it done."""
    bar.set_postfix_str(step)
    bar.update()


def add_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default=None, choices=DATASETS, help="default: MOVIEREC_DATASET or ml-100k")
    p.add_argument("--min-user-ratings", type=int, default=DataOptions.min_user_ratings, help="drop users with fewer ratings")
    p.add_argument("--min-item-ratings", type=int, default=DataOptions.min_item_ratings, help="drop movies with fewer ratings")
    p.add_argument("--seed", type=int, default=None, help="default: MOVIEREC_SEED or 42")
    add_allow_modified(p)


def add_allow_modified(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--allow-modified",
        action="store_true",
        help="load a MOVIELENS_DIR copy whose files fail their sha256 (warns with the file and both checksums)",
    )


def prepare(args: DataOptions | argparse.Namespace, settings: Settings):
    """Load, clean and validate the dataset the options (or arguments) name: the published
    version ``settings.dataset_version`` of the artifact store when set (checked against
    its manifest first), else MOVIELENS_DIR or the official download."""
    from movierec.pipelines.train import prepare_data

    dataset = args.dataset or settings.dataset
    movielens_dir = settings.movielens_dir
    if settings.dataset_version:
        from movierec.pipelines.datasets import download_dataset
        from movierec.stores.factory import make_stores

        store = make_stores(settings).artifacts
        movielens_dir = download_dataset(store, dataset, settings.dataset_version, settings.data_cache)
    return prepare_data(
        dataset,
        movielens_dir=movielens_dir,
        cache_dir=settings.data_cache,
        now=time.time(),
        min_user_ratings=args.min_user_ratings,
        min_item_ratings=args.min_item_ratings,
        allow_modified=args.allow_modified,
    )
