"""What folding in a new user's feedback costs a /recommend, in process, per model.

Protocol: svd (A) and ease (B, l2 = 500) trained on all of ml-100k and published to a
temporary MOVIEREC_HOME; the service of `movierec serve` built from Settings (SQLite event
log, circuit breaker, metered log; no HTTP, so only the service's own time counts), BLAS
on one thread as in serving. For each model, ``--requests`` calls of
``RecommendService.recommend(top_n=10)`` per case, after 50 warm-up calls, repeated
``--repeats`` times; each call writes its impression, as in production:

- ``known``: a user of the training data (no event-log read: the baseline);
- ``new, no feedback``: an unknown user with no events (one read per call, the popular list);
- ``new, N events, cached``: an unknown user with N ratings (the read is cached: fold-in only);
- ``new, N events, uncached``: the same with the cache off (a read and a fold-in per call).

Reported: median and p99 in ms per case (median over the repeats, with their range).

    MOVIELENS_DIR=/path/to/ml-100k .venv/bin/python scripts/bench_foldin.py --json bench/foldin.json
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as functions/main.py pins it, before numpy loads

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from movierec.data import load_movielens
from movierec.events import Feedback
from movierec.models.artifact import ITEMS_FILE, items_file, save_artifact, set_live_version
from movierec.models.base import TrainingData
from movierec.models.ease import EASE
from movierec.models.popular import MostPopular
from movierec.models.svd import SurpriseSVD
from movierec.serving.app import build_app
from movierec.serving.service import RecommendRequest, RecommendService
from movierec.settings import Settings
from movierec.stores.local import LocalArtifactStore

KNOWN, FIRST_NEW = 1, 100_000


def publish(home: Path, movielens_dir: Path) -> None:
    ml = load_movielens("ml-100k", movielens_dir)
    store = LocalArtifactStore(home / "artifacts")
    for trainer in (SurpriseSVD(seed=1), EASE(l2=500.0), MostPopular()):
        artifact = trainer.fit(TrainingData(ml.ratings, ml.rating_scale))
        titles = items_file(ml.movies, artifact.arrays["item_ids"].tolist())
        saved = save_artifact(store, replace(artifact, files={ITEMS_FILE: titles}))
        set_live_version(store, saved.name, saved.version)


def seed_feedback(service: RecommendService, user_id: int, n: int, popular: list[int]) -> None:
    for k, movie_id in enumerate(popular[:n]):
        service.events.record_feedback(Feedback(f"bench-{user_id}-{k}", time.time(), "bench", user_id, movie_id,
                                                "rating", 5.0, k + 1, None, "default"))


def timed(service: RecommendService, user_id: int, requests: int) -> np.ndarray:
    for _ in range(50):
        service.recommend(RecommendRequest(user_id, 10))
    out = np.empty(requests)
    for i in range(requests):
        start = time.perf_counter()
        service.recommend(RecommendRequest(user_id, 10))
        out[i] = (time.perf_counter() - start) * 1000
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    base = Settings.from_env()
    if base.movielens_dir is None:
        parser.error("set MOVIELENS_DIR to an unpacked ml-100k")
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        publish(home, base.movielens_dir)
        for model in ("svd", "ease"):
            settings = replace(base, backend="local", home=home / model, default_model=model)
            (home / model).mkdir()
            (home / model / "artifacts").symlink_to(home / "artifacts")
            cached = build_app(settings).service
            uncached = build_app(replace(settings, foldin_cache_seconds=0.0)).service
            popular = [i["movie_id"] for i in cached.recommend(RecommendRequest(FIRST_NEW, 100))["items"]]
            cases = {"known": (cached, KNOWN), "new, no feedback": (cached, FIRST_NEW)}
            for n in (5, 50):
                user_id = FIRST_NEW + n
                seed_feedback(cached, user_id, n, popular)
                cases[f"new, {n} events, cached"] = (cached, user_id)
                cases[f"new, {n} events, uncached"] = (uncached, user_id)
            for _ in range(args.repeats):
                for case, (service, user_id) in cases.items():
                    latencies = timed(service, user_id, args.requests)
                    row = results.setdefault(f"{model}: {case}", {"p50": [], "p99": []})
                    row["p50"].append(float(np.percentile(latencies, 50)))
                    row["p99"].append(float(np.percentile(latencies, 99)))
    print(f"{'case':34} {'p50 ms (range)':>22} {'p99 ms (range)':>22}")
    for case, row in results.items():
        cells = [f"{np.median(v):.3f} ({min(v):.3f}-{max(v):.3f})" for v in (row["p50"], row["p99"])]
        print(f"{case:34} {cells[0]:>22} {cells[1]:>22}")
    if args.json:
        args.json.write_text(json.dumps({"requests": args.requests, "repeats": args.repeats, "results": results},
                                        indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
