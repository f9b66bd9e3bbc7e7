"""The evaluation protocols ``ms75``, ``ms75-exact``, ``kfold5`` and ``temporal`` (docs/ARCHITECTURE.md).

Every protocol fits a trainer on the training part, builds the same numpy scorer that
serving uses from the artifact, and measures it on the test part: ranking metrics with
every test interaction relevant and training items removed, plus RMSE/MAE for models
that predict ratings. Hyper-parameters are selected inside ``Trainer.fit`` on a
validation split of the training part, never on the test part.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from movierec.data.matrix import InteractionMatrix
from movierec.data.splits import kfold, stratified_split, temporal_split
from movierec.errors import ConfigError
from movierec.evaluation.metrics import mae, ranking_report, rmse, top_k_indices
from movierec.models.artifact import ModelArtifact
from movierec.models.base import Trainer, TrainingData
from movierec.models.scoring import Scorer, scorer_for

PROTOCOLS: tuple[str, ...] = ("ms75", "ms75-exact", "kfold5", "temporal")
_CHUNK = 256  # users scored at once: bounds memory to CHUNK x n_items floats


@dataclass(frozen=True)
class ModelResult:
    model: str
    protocol: str
    metrics: dict[str, float]
    fit_seconds: float
    predict_seconds: float
    params: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "model": self.model,
            "protocol": self.protocol,
            **self.metrics,
            "fit_seconds": self.fit_seconds,
            "predict_seconds": self.predict_seconds,
        }


def seen_matrix(scorer: Scorer) -> sp.csr_matrix:
    data = np.ones(len(scorer.seen_indices), dtype=np.float32)
    return sp.csr_matrix((data, scorer.seen_indices, scorer.seen_indptr), shape=(scorer.n_users, scorer.n_items))


def score_split(scorer: Scorer, test: pd.DataFrame, k: int = 10) -> dict[str, float]:
    """Every metric of a fitted scorer on a test frame."""
    relevant = InteractionMatrix.from_ratings(
        test, user_ids=scorer.user_ids, item_ids=scorer.item_ids, binary=True
    ).matrix.tocsr()
    users = np.flatnonzero(relevant.getnnz(axis=1) > 0)
    seen = seen_matrix(scorer)
    top = np.vstack(
        [
            top_k_indices(scorer.score(chunk), k, exclude=seen[chunk])
            for chunk in np.array_split(users, max(1, int(np.ceil(len(users) / _CHUNK))))
        ]
    )
    metrics = ranking_report(top, relevant[users], k, scorer.item_popularity)
    if scorer.predicts_ratings:
        pred = scorer.predict(test["user_id"].to_numpy(), test["item_id"].to_numpy())
        truth = test["rating"].to_numpy()
        metrics = {"rmse": rmse(truth, pred), "mae": mae(truth, pred), **metrics}
    return metrics


def fit_and_score(
    trainer: Trainer, train: pd.DataFrame, test: pd.DataFrame, rating_scale: tuple[float, float], k: int = 10
) -> tuple[ModelArtifact, dict[str, float], float, float]:
    """(artifact, metrics, fit seconds, predict seconds) for one split."""
    start = time.perf_counter()
    artifact = trainer.fit(TrainingData(train, rating_scale))
    fitted = time.perf_counter()
    metrics = score_split(scorer_for(artifact.kind, artifact.arrays), test, k)
    return artifact, metrics, fitted - start, time.perf_counter() - fitted


def splits_for(protocol: str, ratings: pd.DataFrame, seed: int) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    if protocol == "ms75":
        yield stratified_split(ratings, by="item", ratio=0.75, seed=seed)
    elif protocol == "ms75-exact":  # Microsoft Recommenders' own rows for the seed
        yield stratified_split(ratings, by="item", ratio=0.75, seed=seed, keys="microsoft")
    elif protocol == "kfold5":
        yield from kfold(ratings, k=5, seed=seed)
    elif protocol == "temporal":
        yield temporal_split(ratings, test_fraction=0.1)
    else:
        raise ConfigError(f"unknown protocol {protocol!r}; choose from {', '.join(PROTOCOLS)}")


def n_splits(protocol: str) -> int:
    return 5 if protocol == "kfold5" else 1


def evaluate(
    protocol: str,
    models: list[str],
    data: TrainingData,
    *,
    trainer_for: Callable[[str], Trainer],
    seed: int = 42,
    k: int = 10,
    on_step: Callable[[str], None] | None = None,
) -> list[ModelResult]:
    """Run ``protocol`` for each model; metrics and timings are averaged over folds.

    ``trainer_for(name)`` makes a fresh trainer of model ``name`` for each fold (the
    model registry's ``make_trainer`` with its seed and search budget bound).
    """
    if protocol not in PROTOCOLS:
        raise ConfigError(f"unknown protocol {protocol!r}; choose from {', '.join(PROTOCOLS)}")
    results = []
    for name in models:
        per_fold: list[dict[str, float]] = []
        fit_s = predict_s = 0.0
        params: dict = {}
        for fold, (train, test) in enumerate(splits_for(protocol, data.ratings, seed)):
            trainer = trainer_for(name)
            artifact, metrics, f, p = fit_and_score(trainer, train, test, data.rating_scale, k)
            per_fold.append(metrics)
            fit_s, predict_s, params = fit_s + f, predict_s + p, dict(artifact.params)
            if on_step:
                on_step(f"{name} fold {fold + 1}/{n_splits(protocol)}")
        n = len(per_fold)
        mean = {key: float(np.mean([m[key] for m in per_fold])) for key in per_fold[0]}
        results.append(ModelResult(name, protocol, mean, fit_s / n, predict_s / n, params))
    return results


def format_table(results: list[ModelResult]) -> str:
    """A fixed-width table, one row per model, NaN shown as '-'."""
    keys: list[str] = []
    for r in results:
        keys += [k for k in r.metrics if k not in keys]
    header = ["model", *keys, "fit s", "predict s"]
    rows = [
        [r.model, *[_fmt(r.metrics.get(k)) for k in keys], f"{r.fit_seconds:.2f}", f"{r.predict_seconds:.2f}"]
        for r in results
    ]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    line = lambda cells: "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    return f"{value:.4f}" if abs(value) < 100 else f"{value:.1f}"
