"""Benchmark of the weekly retraining job: ml-100k plus N synthetic logged feedback events.

    MOVIELENS_DIR=../shared/data/ml-100k .venv/bin/python scripts/bench_retrain.py [--events 100000] [--trials 3]

Steps, each timed: initial training (the live versions the weekly run compares with),
writing the events to a SQLite EventLog, the weekly run without tuning (must finish in
under 2 minutes), and the cost per Optuna trial of the optional SVD search.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from movierec.events import Feedback
from movierec.models.base import TrainingData
from movierec.pipelines.train import prepare_data
from movierec.retraining import records
from movierec.retraining.job import RetrainConfig, run_retrain
from movierec.retraining.signals import training_ratings
from movierec.retraining.sources import EventLogFeedback
from movierec.selection.search import tune_svd
from movierec.stores.local import LocalArtifactStore, SQLiteEventLog

BUDGET_SECONDS = 120.0


def synthetic_feedback(ratings, n: int, seed: int, now: float) -> list[Feedback]:
    """Users as active as in ml-100k, movies as popular; 70% clicks, 30% ratings, over a week."""
    rng = np.random.default_rng(seed)
    users = rng.choice(ratings["user_id"].to_numpy(), size=n)
    movies = rng.choice(ratings["item_id"].to_numpy(), size=n)
    kinds = np.where(rng.random(n) < 0.7, "click", "rating")
    values = rng.integers(1, 6, size=n).astype(float)
    ts = np.sort(now - 7 * 86400 * rng.random(n))
    return [
        Feedback(f"bench-{i}", float(ts[i]), f"req-{i // 10}", int(users[i]), int(movies[i]), kinds[i],  # type: ignore[arg-type]
                 values[i] if kinds[i] == "rating" else None, 1 + i % 10, "bench", "AB"[i % 2])
        for i in range(n)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--trials", type=int, default=3, help="Optuna trials timed for the per-trial cost")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    movielens = Path(os.environ["MOVIELENS_DIR"]) if os.environ.get("MOVIELENS_DIR") else None
    home = Path(tempfile.mkdtemp(prefix="bench-retrain-"))
    store, events = LocalArtifactStore(home / "artifacts"), SQLiteEventLog(home / "events.sqlite")
    now = time.time()
    prepared = prepare_data("ml-100k", movielens_dir=movielens, cache_dir=home / "cache", now=now)
    config = RetrainConfig(seed=args.seed)
    print(f"cores: {os.cpu_count()}, home: {home}")

    start = time.perf_counter()
    run_retrain(prepared, store, EventLogFeedback(events), config, until=now - 8 * 86400)
    print(f"initial training (svd + ease, live versions): {time.perf_counter() - start:6.1f} s")

    start = time.perf_counter()
    for event in synthetic_feedback(prepared.training.ratings, args.events, args.seed, now):
        events.record_feedback(event)
    print(f"wrote {args.events} feedback events to SQLite:   {time.perf_counter() - start:6.1f} s")

    start = time.perf_counter()
    record = run_retrain(prepared, store, EventLogFeedback(events), config)
    weekly = time.perf_counter() - start
    signals, counts = record.signals, record.counts
    assert signals and counts, "a run that returns has read its window"
    print(
        f"weekly run: {signals.events} events ({signals.ratings} ratings, {signals.clicks} clicks, "
        f"{signals.clicks_on_rated} clicks on rated movies) -> {signals.signals} signals, "
        f"{counts.training_ratings} training ratings"
    )
    for name, model in record.models.items():
        gate = model.gate
        candidate = gate.candidate if gate else float("nan")
        live = gate.live if gate and gate.live is not None else float("nan")
        print(f"  {name}: {model.decision} ({gate.metric if gate else None} {candidate:.4f} "
              f"vs live {live:.4f}); seconds {asdict(model.seconds) if model.seconds else None}")
    verdict = "PASS" if weekly < BUDGET_SECONDS else "FAIL"
    print(f"weekly run without tuning: {weekly:.1f} s ({verdict}, budget {BUDGET_SECONDS:.0f} s)")

    if args.trials:
        signals_frame = records.load_signals(store, signals)
        scale = prepared.training.rating_scale
        ratings = training_ratings(prepared.training.ratings, signals_frame, rating_scale=scale, now=time.time())
        start = time.perf_counter()
        tune_svd(TrainingData(ratings, scale), args.trials, seed=args.seed)
        per_trial = (time.perf_counter() - start) / args.trials
        print(f"Optuna SVD search: {per_trial:.1f} s per trial ({args.trials} trials; "
              f"`movierec retrain --trials N` adds about 2 x N x that: candidate and refit)")
    events.close()
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
