"""`movierec train`: train, evaluate and publish models A and B."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

from movierec.cli.common import DataOptions, add_data_options, advance, command, prepare, progress
from movierec.settings import Settings


@dataclass(frozen=True)
class TrainOptions(DataOptions):
    models: str = "svd,ease,popular"
    trials: int = 20
    no_mlflow: bool = False
    hold_out: bool = False


def run_train(options: TrainOptions, settings: Settings) -> int:
    from movierec.evaluation.protocols import ModelResult, format_table
    from movierec.pipelines.train import HOLD_OUT_PROTOCOL, hold_out, train_and_publish
    from movierec.selection.registry import parse_model_list
    from movierec.stores.factory import make_stores

    seed = options.seed_in(settings)
    models = parse_model_list(options.models)
    prepared = prepare(options, settings)
    held_out = None
    if options.hold_out:
        prepared, held_out = hold_out(prepared, seed)
    store = make_stores(settings).artifacts
    start = time.perf_counter()
    with progress(len(models), "train") as bar:
        published = train_and_publish(
            prepared,
            store,
            models,
            seed=seed,
            tracking_uri=None if options.no_mlflow else settings.tracking_uri,
            mlflow_artifacts=None if options.no_mlflow else settings.mlflow_artifacts,
            tuning_trials=options.trials,
            held_out=held_out,
            on_step=lambda step: advance(bar, step),
        )
    elapsed = time.perf_counter() - start
    prefix = f"{HOLD_OUT_PROTOCOL}_"
    rows = [
        ModelResult(
            p.artifact.name,
            HOLD_OUT_PROTOCOL,
            {k.removeprefix(prefix): v for k, v in p.artifact.metrics.items() if k.startswith(prefix)},
            p.fit_seconds,
            0.0,
        )
        for p in published
    ]
    dataset = options.dataset_in(settings)
    if held_out is not None:
        print(
            f"{HOLD_OUT_PROTOCOL} on {dataset} (k=10): each model fitted once on the 75% training part of every "
            "movie's ratings and measured on the held-out 25%; fit s = that fit"
        )
    else:
        print(f"fitted once on all of {dataset}; not evaluated (`movierec evaluate`, or train with --hold-out)")
    print(format_table(rows))
    for p in published:
        state = "live" if p.promoted else "not promoted"
        print(f"{p.artifact.name} {p.artifact.version} ({state}) -> {store.describe()}/{p.key_prefix}")
    if not options.no_mlflow:
        print(f"MLflow runs logged to {settings.tracking_uri}")
    print(f"trained {len(published)} models in {elapsed:.1f} s")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train, evaluate and publish models A and B (and the popular fallback)")
    add_data_options(p)
    p.add_argument("--models", default=TrainOptions.models)
    p.add_argument("--trials", type=int, default=TrainOptions.trials, help="Optuna trials for tuned models")
    p.add_argument("--no-mlflow", action="store_true", help="skip experiment tracking")
    p.add_argument(
        "--hold-out",
        action="store_true",
        help="train on the ms75 training part only and measure each fit on the held-out 25%% "
        "(what `movierec simulate` users like)",
    )
    p.set_defaults(func=command(run_train, TrainOptions))
