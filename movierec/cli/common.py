"""Helpers shared by the command modules."""

from __future__ import annotations

import argparse
import sys
import time

from movierec.settings import Settings

DATASETS = ("ml-100k", "ml-latest-small")


def progress(total: int, desc: str):
    """A progress bar on stderr (stdout stays clean for tables and --json)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="step", file=sys.stderr, leave=False, dynamic_ncols=True)


def add_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default=None, choices=DATASETS, help="default: MOVIEREC_DATASET or ml-100k")
    p.add_argument("--min-user-ratings", type=int, default=1, help="drop users with fewer ratings")
    p.add_argument("--min-item-ratings", type=int, default=1, help="drop movies with fewer ratings")
    p.add_argument("--seed", type=int, default=None, help="default: MOVIEREC_SEED or 42")


def prepare(args: argparse.Namespace, settings: Settings):
    """Load, clean and validate the dataset the arguments name."""
    from movierec.pipelines.train import prepare_data

    return prepare_data(
        args.dataset,
        movielens_dir=settings.movielens_dir,
        cache_dir=settings.data_cache,
        now=time.time(),
        min_user_ratings=args.min_user_ratings,
        min_item_ratings=args.min_item_ratings,
    )
