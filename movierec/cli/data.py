"""`movierec data fetch|validate`."""

from __future__ import annotations

import argparse

from movierec.cli.common import DATASETS, add_allow_modified, add_data_options, prepare
from movierec.settings import Settings


def fetch(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.data.fetch import fetch_dataset

    dataset = args.dataset or settings.dataset
    folder = fetch_dataset(
        dataset, movielens_dir=settings.movielens_dir, cache_dir=settings.data_cache, allow_modified=args.allow_modified
    )
    print(f"{dataset}: {'files (see the warning)' if args.allow_modified else 'verified files'} in {folder}")
    return 0


def validate(args: argparse.Namespace, settings: Settings) -> int:
    prepared = prepare(args, settings)
    ratings = prepared.training.ratings
    print(
        f"{args.dataset}: {len(ratings):,} ratings, {ratings['user_id'].nunique():,} users, "
        f"{ratings['item_id'].nunique():,} movies passed validation"
    )
    print(prepared.cleaning.summary())
    return 0


def publish(args: argparse.Namespace, settings: Settings) -> int:
    """Fetch (verified), validate, then upload the files to the artifact store as a version."""
    import time

    from movierec.data.fetch import fetch_dataset
    from movierec.data.registry import dataset_spec
    from movierec.pipelines.datasets import pointer_key, publish_dataset, version_prefix
    from movierec.pipelines.train import prepare_data
    from movierec.stores.factory import make_stores

    dataset = args.dataset or settings.dataset
    folder = fetch_dataset(dataset, movielens_dir=settings.movielens_dir, cache_dir=settings.data_cache)
    prepare_data(dataset, movielens_dir=folder, cache_dir=settings.data_cache, now=time.time())
    store = make_stores(settings).artifacts
    version = publish_dataset(store, dataset_spec(dataset), folder, now=time.time())
    print(f"{dataset}: validated, published as {store.describe()}/{version_prefix(dataset, version)}")
    print(f"{pointer_key(dataset)} -> {version}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="get and check MovieLens").add_subparsers(dest="data_command", required=True)
    p = data.add_parser("fetch", help="use MOVIELENS_DIR or download + verify the official zip")
    p.add_argument("--dataset", default=None, choices=DATASETS)
    add_allow_modified(p)
    p.set_defaults(func=fetch)
    p = data.add_parser("validate", help="load, clean and validate; report what fails")
    add_data_options(p)
    p.set_defaults(func=validate)
    p = data.add_parser(
        "publish", help="fetch, validate and upload to the artifact store as the version the retrain job trains on"
    )
    p.add_argument("--dataset", default=None, choices=DATASETS)
    p.set_defaults(func=publish)
