"""The ``movierec`` command. Settings are read here, once, and passed down."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence

from movierec.errors import MovierecError
from movierec.settings import Settings

log = logging.getLogger("movierec")


def _progress(total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="step", file=sys.stderr, leave=False, dynamic_ncols=True)


def cmd_data_fetch(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.data.fetch import fetch_dataset

    folder = fetch_dataset(args.dataset, movielens_dir=settings.movielens_dir, cache_dir=settings.data_cache)
    print(f"{args.dataset}: verified files in {folder}")
    return 0


def cmd_data_validate(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.training import prepare_data

    prepared = _prepare(args, settings, prepare_data)
    ratings = prepared.training.ratings
    print(
        f"{args.dataset}: {len(ratings):,} ratings, {ratings['user_id'].nunique():,} users, "
        f"{ratings['item_id'].nunique():,} movies passed validation"
    )
    print(f"cleaning: {prepared.cleaning}")
    return 0


def _prepare(args: argparse.Namespace, settings: Settings, prepare_data):
    return prepare_data(
        args.dataset,
        movielens_dir=settings.movielens_dir,
        cache_dir=settings.data_cache,
        now=time.time(),
        min_user_ratings=args.min_user_ratings,
        min_item_ratings=args.min_item_ratings,
    )


def cmd_evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.evaluation.protocols import evaluate, format_table, n_splits
    from movierec.models.registry import parse_model_list
    from movierec.training import prepare_data

    models = parse_model_list(args.models)
    prepared = _prepare(args, settings, prepare_data)
    with _progress(len(models) * n_splits(args.protocol), f"evaluate {args.protocol}") as bar:
        results = evaluate(
            args.protocol,
            models,
            prepared.training,
            seed=args.seed,
            k=args.k,
            tuning_trials=args.trials,
            on_step=lambda step: (bar.set_postfix_str(step), bar.update()),
        )
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        print(f"protocol {args.protocol} on {args.dataset}, k={args.k}")
        print(format_table(results))
    return 0


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.evaluation.protocols import ModelResult, format_table
    from movierec.models.registry import parse_model_list
    from movierec.stores.factory import make_stores
    from movierec.training import prepare_data, train_and_publish

    models = parse_model_list(args.models)
    prepared = _prepare(args, settings, prepare_data)
    store = make_stores(settings, os.environ).artifacts
    start = time.perf_counter()
    with _progress(len(models), "train") as bar:
        published = train_and_publish(
            prepared,
            store,
            models,
            seed=args.seed,
            tracking_uri=None if args.no_mlflow else settings.tracking_uri,
            mlflow_artifacts=(settings.home / "mlartifacts").resolve().as_uri(),
            tuning_trials=args.trials,
            on_step=lambda step: (bar.set_postfix_str(step), bar.update()),
        )
    elapsed = time.perf_counter() - start
    rows = [
        ModelResult(
            p.artifact.name,
            "holdout",
            {k.removeprefix("holdout_"): v for k, v in p.artifact.metrics.items()},
            p.fit_seconds,
            0.0,
        )
        for p in published
    ]
    print(f"holdout (ms75 split of {args.dataset}, k=10); fit s = refit on all data")
    print(format_table(rows))
    for p in published:
        state = "live" if p.promoted else "not promoted"
        print(f"{p.artifact.name} {p.artifact.version} ({state}) -> {store.describe()}/{p.key_prefix}")
    if not args.no_mlflow:
        print(f"MLflow runs logged to {settings.tracking_uri}")
    print(f"trained {len(published)} models in {elapsed:.1f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="movierec", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    def data_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--dataset", default=None, choices=["ml-100k", "ml-latest-small"])
        p.add_argument("--min-user-ratings", type=int, default=1, help="drop users with fewer ratings")
        p.add_argument("--min-item-ratings", type=int, default=1, help="drop movies with fewer ratings")
        p.add_argument("--seed", type=int, default=None)

    data = sub.add_parser("data", help="get and check MovieLens").add_subparsers(dest="data_command", required=True)
    fetch = data.add_parser("fetch", help="use MOVIELENS_DIR or download + verify the official zip")
    fetch.add_argument("--dataset", default=None, choices=["ml-100k", "ml-latest-small"])
    fetch.set_defaults(func=cmd_data_fetch)
    validate = data.add_parser("validate", help="load, clean and validate; report what fails")
    data_options(validate)
    validate.set_defaults(func=cmd_data_validate)

    ev = sub.add_parser("evaluate", help="offline evaluation under a protocol")
    data_options(ev)
    ev.add_argument("--protocol", default="ms75", choices=["ms75", "kfold5", "temporal"])
    ev.add_argument("--models", default="svd,ease")
    ev.add_argument("--k", type=int, default=10)
    ev.add_argument("--trials", type=int, default=20, help="Optuna trials for tuned models")
    ev.add_argument("--json", action="store_true", help="one JSON object per model")
    ev.set_defaults(func=cmd_evaluate)

    tr = sub.add_parser("train", help="train, evaluate and publish models A and B")
    data_options(tr)
    tr.add_argument("--models", default="svd,ease")
    tr.add_argument("--trials", type=int, default=20, help="Optuna trials for tuned models")
    tr.add_argument("--no-mlflow", action="store_true", help="skip experiment tracking")
    tr.set_defaults(func=cmd_train)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr)
    try:
        settings = Settings.from_env()
        if getattr(args, "dataset", "x") is None:
            args.dataset = settings.dataset
        if getattr(args, "seed", 0) is None:
            args.seed = settings.seed
        return args.func(args, settings)
    except MovierecError as exc:
        print(f"movierec: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
