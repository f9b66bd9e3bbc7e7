"""Offline quality and speed benchmark for issue #2 (numbers go in the README).

    .venv/bin/python scripts/bench_offline.py [--trials 20] [--seeds 42,1,2,3,4] [--json bench/offline.json]

Measures on ml-100k (MOVIELENS_DIR or ../shared/data/ml-100k):
- ms75: B (EASE), iALS, A (SVD) and popular ranking metrics (both MAPs), hyper-parameters
  chosen on validation only; ms75-exact: the same on exactly Microsoft Recommenders'
  python_stratified_split rows (by movie, seed 42); each protocol with the other
  ``--seeds`` gives the split-to-split standard deviation of every metric;
- kfold5: RMSE/MAE of A (SVD) and of tuned SVD (Optuna, per-fold validation split);
- svd-tuned for each objective (RMSE, NDCG@10), measured under both protocols;
- wall time of training A and B on all data and writing their artifacts (no tuning);
- reproducibility: two trainings with one seed give identical metrics and array checksums.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from movierec.evaluation.protocols import evaluate, format_table
from movierec.models.artifact import array_digest, save_artifact
from movierec.pipelines.train import prepare_data
from movierec.selection.registry import make_trainer
from movierec.stores.local import LocalArtifactStore

TARGETS = {
    "ms75 ease ndcg@10 >= 0.48": lambda r: r["ms75"]["ease"]["ndcg@10"] >= 0.48,
    "ms75 ease precision@10 >= 0.41": lambda r: r["ms75"]["ease"]["precision@10"] >= 0.41,
    "kfold5 svd rmse <= 0.94": lambda r: r["kfold5"]["svd"]["rmse"] <= 0.94,
    "kfold5 svd-tuned rmse < 0.919 (SVD++)": lambda r: r["kfold5"]["svd-tuned"]["rmse"] < 0.919,
    "train A+B and write artifacts < 60 s": lambda r: r["train_seconds"] < 60,
    "same seed -> same metrics and checksums": lambda r: r["reproducible"],
}


def train_and_write(prepared, seed: int) -> tuple[float, dict]:
    """Fit A and B on all data and write their artifacts; returns (seconds, digests)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalArtifactStore(Path(tmp))
        start = time.perf_counter()
        digests = {}
        for name in ("svd", "ease"):
            artifact = save_artifact(store, make_trainer(name, seed=seed).fit(prepared.training))
            digests[name] = {k: array_digest(v) for k, v in artifact.arrays.items()}
            digests[name]["npz"] = artifact.manifest["files"]["arrays.npz"]
        return time.perf_counter() - start, digests


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=20, help="Optuna trials per fold for svd-tuned")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--skip-kfold", action="store_true")
    parser.add_argument("--seeds", default="42,1,2,3,4", help="ms75 split seeds for the spread (first = the reported one)")
    parser.add_argument("--skip-objectives", action="store_true")
    args = parser.parse_args()
    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-100k"
    movielens_dir = Path(os.environ.get("MOVIELENS_DIR") or shared)
    prepared = prepare_data(
        "ml-100k", movielens_dir=movielens_dir, cache_dir=Path(tempfile.gettempdir()), now=time.time()
    )
    results: dict = {"cpus": os.cpu_count()}

    def run(protocol: str, models: list[str], *, seed: int = args.seed, objective: str = "rmse", key: str | None = None) -> list:
        start = time.perf_counter()
        rows = evaluate(
            protocol, models, prepared.training, seed=seed,
            trainer_for=lambda name: make_trainer(name, seed=seed, tuning_trials=args.trials, objective=objective),
        )
        print(f"\n## {key or protocol} (seed {seed}, {time.perf_counter() - start:.0f} s)\n")
        print(format_table(rows))
        results[key or protocol] = {r.model: r.as_dict() for r in rows}
        return rows

    ranking = ["ease", "ials", "svd", "popular"]
    seeds = [int(s) for s in args.seeds.split(",")]
    ms75 = run("ms75", ranking)
    for protocol in ("ms75", "ms75-exact"):
        first = ms75 if protocol == "ms75" else run(protocol, ranking)
        per_seed = [first] + [run(protocol, ranking, seed=seed, key=f"{protocol} seed {seed}") for seed in seeds[1:]]
        results[f"{protocol} split sd"] = {
            model: {
                metric: float(np.std([rows[i].metrics[metric] for rows in per_seed], ddof=1))
                for metric in first[i].metrics
            }
            for i, model in enumerate(ranking)
        } if len(per_seed) > 1 else {}
        print(f"\n{protocol} split-to-split sd over seeds", seeds, json.dumps(results[f"{protocol} split sd"], indent=1))
    if not args.skip_kfold:
        run("kfold5", ["svd", "svd-tuned"])
    if not args.skip_objectives:
        for objective in ("rmse", "ndcg@10"):
            for protocol in ("ms75", "kfold5"):
                run(protocol, ["svd-tuned"], objective=objective, key=f"svd-tuned for {objective} under {protocol}")

    seconds, digests = train_and_write(prepared, args.seed)
    _, digests_again = train_and_write(prepared, args.seed)
    again = evaluate(
        "ms75", ranking[:2], prepared.training, seed=args.seed,
        trainer_for=lambda name: make_trainer(name, seed=args.seed),
    )
    same_metrics = all(a.metrics == b.metrics for a, b in zip(ms75[:2], again))
    results["train_seconds"] = seconds
    results["reproducible"] = bool(same_metrics and digests == digests_again)
    print(f"\ntrain A+B on all of ml-100k and write artifacts: {seconds:.1f} s (no tuning)")
    print(f"same seed twice: metrics equal={same_metrics}, array checksums equal={digests == digests_again}")

    print("\n## targets\n")
    failed = 0
    checkable = {k: v for k, v in TARGETS.items() if not (args.skip_kfold and "kfold5" in k)}
    for label, check in checkable.items():
        ok = check(results)
        failed += not ok
        print(f"- [{'x' if ok else ' '}] {label}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=float))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
