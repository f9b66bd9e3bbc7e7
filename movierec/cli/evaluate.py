"""`movierec evaluate`: offline evaluation under a protocol."""

from __future__ import annotations

import argparse
import json

from movierec.cli.common import add_data_options, advance, prepare, progress
from movierec.settings import Settings


def evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from movierec.evaluation.protocols import evaluate, format_table, n_splits
    from movierec.selection.registry import (
        describe_models,
        make_trainer,
        objective_of,
        parse_model_list,
    )

    if args.models is None:  # `--models` with no value: what can be chosen
        print(describe_models())
        return 0
    models = parse_model_list(args.models)
    objective = objective_of(args.protocol) if args.objective == "auto" else args.objective
    prepared = prepare(args, settings)
    with progress(len(models) * n_splits(args.protocol), f"evaluate {args.protocol}") as bar:
        results = evaluate(
            args.protocol,
            models,
            prepared.training,
            seed=args.seed,
            k=args.k,
            trainer_for=lambda name: make_trainer(name, seed=args.seed, tuning_trials=args.trials, objective=objective),
            on_step=lambda step: advance(bar, step),
        )
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        tuned = f"; tuned models for {objective}" if any(m.endswith("-tuned") for m in models) else ""
        print(f"protocol {args.protocol} on {args.dataset or settings.dataset}, k={args.k}{tuned}")
        print(format_table(results))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="offline evaluation under a protocol")
    add_data_options(p)
    p.add_argument("--protocol", default="ms75", choices=["ms75", "ms75-exact", "kfold5", "temporal"])
    p.add_argument(
        "--models",
        nargs="?",
        const=None,
        default="svd,ease",
        help="comma-separated model names; `--models` alone lists every option with its description",
    )
    p.add_argument(
        "--objective",
        default="auto",
        choices=["auto", "rmse", "ndcg@10"],
        help="what tuned models optimise; auto: RMSE for kfold5, NDCG@10 for ms75 and temporal",
    )
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--trials", type=int, default=20, help="Optuna trials for tuned models")
    p.add_argument("--json", action="store_true", help="one JSON object per model")
    p.set_defaults(func=evaluate)
