"""Scale benchmark for issue #13: training A and B from ml-100k to a MovieLens-25M-shaped set.

    MOVIELENS_ROOT=/path/holding/ml-100k+ml-latest-small \\
    .venv/bin/python scripts/bench_scale.py --json bench/scale.json [--repeats 3] \\
        [--synthetic /tmp/movierec-synthetic-25m]   # made by scripts/make_synthetic_25m.py

Each measurement is a fresh child process; its wall time and its peak resident memory
(``os.wait4``'s ``ru_maxrss``, the child and everything it waited for) are recorded:

- ml-100k and ml-latest-small: ``movierec train --models ease`` (and ``svd``) with
  ``--no-mlflow --allow-modified`` (the shared ml-latest-small copy has one extra row)
  into a fresh MOVIEREC_HOME; the size of B's ``arrays.npz``; then, with BLAS pinned to
  one thread as serving does, ``Scorer.recommend(user, 10)`` for 2,000 random known
  users of the published B (p50/p99 of one call). ``--repeats`` runs of each.
- ml-100k: ``movierec evaluate --protocol ms75|ms75-exact --models ease`` (NDCG@10 and both MAPs).
- ``--synthetic``: A and B fitted on the 25M-shaped ratings (loaded, cleaned as MovieLens is,
  fitted, saved to a local artifact store), once each, each under a hard timeout
  (``--timeout`` s) in a process of its own; then B's cold start: its version uploaded to
  gcp-storage-emulator, and a fresh process that imports movierec, downloads and
  verifies the version, builds the scorer and answers a first recommendation.

Everything binds 127.0.0.1; processes are stopped by PID. Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

GiB = 1024**3
TARGETS = {
    "ml-100k ease ms75 ndcg@10": (">=", 0.485),
    "ml-latest-small train ease seconds": ("<=", 60.0),
    "ml-latest-small train ease peak GiB": ("<=", 2.0),
    "ml-latest-small ease artifact MB": ("<=", 100.0),
    "ml-latest-small / ml-100k serving p99": ("<=", 1.2),
    "synthetic-25m train svd seconds": ("<=", 1800.0),
    "synthetic-25m train ease seconds": ("<=", 1800.0),
    "synthetic-25m train svd peak GiB": ("<=", 16.0),
    "synthetic-25m train ease peak GiB": ("<=", 16.0),
    "synthetic-25m ease artifact MB": ("<=", 500.0),
    "synthetic-25m ease cold start seconds": ("<=", 5.0),
}


def measured(cmd: list[str], env: dict[str, str], timeout: float) -> dict:
    """Run ``cmd``; wall seconds, peak RSS of the child tree, exit status and stdout."""
    start = time.perf_counter()
    out = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the child, after its stdout is read
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.PIPE, start_new_session=True)
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(proc.pid, 0)
            status = -9
            break
        time.sleep(0.2)
    seconds = time.perf_counter() - start
    out.seek(0)
    stdout = out.read().decode(errors="replace")
    out.close()
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    return {
        "seconds": seconds,
        "peak_gib": usage.ru_maxrss * 1024 / GiB,  # ru_maxrss is in KiB on Linux
        "status": os.waitstatus_to_exitcode(status) if status >= 0 else "timeout",
        "stdout": stdout,
        "stderr_tail": stderr[-2000:],
    }


def spread(values: list[float]) -> dict:
    return {"median": float(np.median(values)), "min": float(min(values)), "max": float(max(values)), "runs": values}


def npz_mb(home: Path, model: str) -> float:
    [path] = sorted((home / "artifacts" / "models" / model).glob("*/arrays.npz"))[-1:]
    return path.stat().st_size / 1e6


def movielens(dataset: str, root: Path, repeats: int, results: dict) -> None:
    for repeat in range(repeats):
        home = Path(tempfile.mkdtemp(prefix=f"bench-scale-{dataset}-"))
        env = {**os.environ, "MOVIEREC_HOME": str(home), "MOVIELENS_DIR": str(root / dataset), "MOVIEREC_BACKEND": "local"}
        for model in ("ease", "svd"):
            cmd = [sys.executable, "-m", "movierec.cli", "train", "--dataset", dataset, "--models", model,
                   "--no-mlflow", "--allow-modified"]
            run = measured(cmd, env, timeout=1800)
            if run["status"] != 0:
                raise SystemExit(f"{' '.join(cmd)} failed: {run['stderr_tail']}")
            results.setdefault(f"{dataset} train {model} seconds", []).append(run["seconds"])
            results.setdefault(f"{dataset} train {model} peak GiB", []).append(run["peak_gib"])
        results.setdefault(f"{dataset} ease artifact MB", []).append(npz_mb(home, "ease"))
        latency = measured([sys.executable, __file__, "--serve-latency", str(home)], {**env, "OPENBLAS_NUM_THREADS": "1"}, 600)
        p = json.loads(latency["stdout"])
        results.setdefault(f"{dataset} serving p50 ms", []).append(p["p50_ms"])
        results.setdefault(f"{dataset} serving p99 ms", []).append(p["p99_ms"])
        print(f"{dataset} run {repeat + 1}: " + json.dumps({k: v[-1] for k, v in results.items() if k.startswith(dataset) and isinstance(v, list)}), flush=True)


def serve_latency(home: Path) -> None:
    from movierec.models.artifact import load_artifact
    from movierec.models.scoring import scorer_for
    from movierec.stores.local import LocalArtifactStore

    artifact = load_artifact(LocalArtifactStore(home / "artifacts"), "ease")
    scorer = scorer_for(artifact.kind, artifact.arrays)
    users = np.random.default_rng(0).choice(scorer.user_ids, size=2000)
    for user in users[:50]:  # warm caches
        scorer.recommend(int(user), 10)
    times = []
    for user in users:
        start = time.perf_counter()
        scorer.recommend(int(user), 10)
        times.append((time.perf_counter() - start) * 1000)
    print(json.dumps({"kind": artifact.kind, "p50_ms": float(np.percentile(times, 50)), "p99_ms": float(np.percentile(times, 99))}))


def ms75(root: Path, protocol: str) -> dict:
    env = {**os.environ, "MOVIEREC_HOME": tempfile.mkdtemp(prefix="bench-scale-eval-"), "MOVIELENS_DIR": str(root / "ml-100k")}
    cmd = [sys.executable, "-m", "movierec.cli", "evaluate", "--protocol", protocol, "--models", "ease", "--json"]
    run = measured(cmd, env, timeout=1800)
    [row] = json.loads(run["stdout"])
    return row


def fit_synthetic(folder: Path, model: str, home: Path) -> None:
    """Child: load the synthetic ratings, clean them as MovieLens is, fit ``model``, save it."""
    from dataclasses import replace

    import pandas as pd

    from movierec.data.cleaning import clean_ratings
    from movierec.models.artifact import ITEMS_FILE, items_file
    from movierec.models.base import TrainingData
    from movierec.pipelines.publish import publish
    from movierec.selection.registry import make_trainer
    from movierec.stores.local import LocalArtifactStore

    t0 = time.perf_counter()
    with np.load(folder / "ratings.npz") as npz:
        raw = pd.DataFrame({name: npz[name] for name in ("user_id", "item_id", "rating", "timestamp")})
    movies = pd.read_csv(folder / "movies.csv")
    ratings, _ = clean_ratings(raw, rating_scale=(0.5, 5.0), known_items=movies["item_id"])
    del raw
    t1 = time.perf_counter()
    artifact = make_trainer(model, seed=42).fit(TrainingData(ratings, (0.5, 5.0)))
    t2 = time.perf_counter()
    artifact = replace(artifact, files={ITEMS_FILE: items_file(movies, artifact.arrays["item_ids"].tolist())})
    publish(LocalArtifactStore(home / "artifacts"), artifact, make_live=True)
    params = {k: v for k, v in artifact.params.items() if k in ("l2", "keep", "covered_items", "covered_interactions")}
    print(json.dumps({"load_seconds": t1 - t0, "fit_seconds": t2 - t1, "save_seconds": time.perf_counter() - t2, "params": params}))


def synthetic(folder: Path, timeout: float, results: dict, models: list[str], home: Path | None) -> None:
    home = home or Path(tempfile.mkdtemp(prefix="bench-scale-25m-"))
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MOVIEREC_HOME": str(home)}
    for model in models:
        run = measured([sys.executable, __file__, "--fit-synthetic", str(folder), model, str(home)], env, timeout)
        results[f"synthetic-25m train {model} seconds"] = [run["seconds"]]
        results[f"synthetic-25m train {model} peak GiB"] = [run["peak_gib"]]
        results[f"synthetic-25m train {model} detail"] = run["stdout"].strip() or run["status"]
        print(model, run["status"], run["seconds"], run["peak_gib"], run["stdout"].strip(), run["stderr_tail"][-500:], flush=True)
        if run["status"] != 0:
            continue
        if model == "ease":
            results["synthetic-25m ease artifact MB"] = [npz_mb(home, "ease")]
            results["synthetic-25m ease cold start seconds"] = cold_start(home, 3)


def cold_start(home: Path, runs: int) -> list[float]:
    from movierec.stores.gcs import GCSArtifactStore
    from movierec.stores.local import LocalArtifactStore
    from tests.emulators import storage_emulator

    local = LocalArtifactStore(home / "artifacts")
    with storage_emulator(log_dir=home) as emulator:
        emulator.create_bucket("bench", project="bench")
        store = GCSArtifactStore(emulator.client("bench"), "bench")
        for key in local.list("models/ease/"):
            store.write_bytes(key, local.read_bytes(key))
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "STORAGE_EMULATOR_HOST": emulator.url}
        seconds = []
        for _ in range(runs):
            cmd = [sys.executable, __file__, "--cold-start", emulator.url, str(time.time())]
            run = measured(cmd, env, timeout=300)
            child = json.loads(run["stdout"])
            print("cold start", child, flush=True)
            seconds.append(child["seconds"])
        return seconds


def cold_start_child(url: str, started: float) -> None:
    """Child: from the parent's spawn (``started``) to B's first recommendation out of the emulator's bucket."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    from movierec.models.artifact import load_artifact
    from movierec.models.scoring import scorer_for
    from movierec.stores.gcs import GCSArtifactStore

    imported = time.time()
    client = storage.Client(project="bench", credentials=AnonymousCredentials(), client_options={"api_endpoint": url})
    artifact = load_artifact(GCSArtifactStore(client, "bench"), "ease")
    loaded = time.time()
    scorer = scorer_for(artifact.kind, artifact.arrays)
    ranked = scorer.recommend(int(scorer.user_ids[0]), 10)
    assert len(ranked.item_ids) == 10
    done = time.time()
    print(json.dumps({"seconds": done - started, "steps": {"spawn + imports": imported - started,
                                                          "download + verify + read": loaded - imported,
                                                          "scorer + first top 10": done - loaded}}))


def check(results: dict) -> list[str]:
    flat = {k: float(np.median(v)) for k, v in results.items() if isinstance(v, list) and v}
    if "ml-100k serving p99 ms" in flat and "ml-latest-small serving p99 ms" in flat:
        flat["ml-latest-small / ml-100k serving p99"] = flat["ml-latest-small serving p99 ms"] / flat["ml-100k serving p99 ms"]
        results["ml-latest-small / ml-100k serving p99"] = [flat["ml-latest-small / ml-100k serving p99"]]
    missed = []
    for key, (op, bound) in TARGETS.items():
        if key in flat and not (flat[key] >= bound if op == ">=" else flat[key] <= bound):
            missed.append(f"{key} = {flat[key]:.3f}, target {op} {bound}")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--synthetic", type=Path, help="folder written by scripts/make_synthetic_25m.py")
    parser.add_argument("--only-synthetic", action="store_true")
    parser.add_argument("--timeout", type=float, default=2400.0, help="hard limit per 25M fit, seconds")
    parser.add_argument("--synthetic-models", default="ease,svd", help="models fitted on the 25M-shaped set")
    parser.add_argument("--synthetic-home", type=Path, help="keep the 25M-shaped set's MOVIEREC_HOME here (default: a temp dir)")
    parser.add_argument("--cold-start-home", type=Path,
                        help="only B's cold start, from a --synthetic-home that a previous run filled")
    parser.add_argument("--serve-latency", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--fit-synthetic", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--cold-start", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_latency:
        serve_latency(args.serve_latency)
        return 0
    if args.fit_synthetic:
        fit_synthetic(Path(args.fit_synthetic[0]), args.fit_synthetic[1], Path(args.fit_synthetic[2]))
        return 0
    if args.cold_start:
        cold_start_child(args.cold_start[0], float(args.cold_start[1]))
        return 0
    results: dict = {"cores": os.cpu_count(), "load_average_at_start": os.getloadavg()}
    if args.cold_start_home:
        results["synthetic-25m ease artifact MB"] = [npz_mb(args.cold_start_home, "ease")]
        results["synthetic-25m ease cold start seconds"] = cold_start(args.cold_start_home, args.repeats)
        args.only_synthetic, args.synthetic = True, None
    if not args.only_synthetic:
        root = Path(os.environ.get("MOVIELENS_ROOT", REPO.parent / "shared" / "data"))
        for protocol in ("ms75", "ms75-exact"):
            row = ms75(root, protocol)
            results[f"ml-100k ease {protocol} ndcg@10"] = [row["ndcg@10"]]
            results[f"quality: ml-100k ease {protocol}"] = row
        for dataset in ("ml-100k", "ml-latest-small"):
            movielens(dataset, root, args.repeats, results)
    if args.synthetic:
        stats = args.synthetic / "stats.json"
        results["synthetic-25m data"] = json.loads(stats.read_text()) if stats.exists() else None
        synthetic(args.synthetic, args.timeout, results, args.synthetic_models.split(","), args.synthetic_home)
    results["load_average_at_end"] = os.getloadavg()
    missed = check(results)
    results["missed"] = missed
    summary = {k: (spread(v) if isinstance(v, list) and v and isinstance(v[0], float) else v) for k, v in results.items()}
    text = json.dumps(summary, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
