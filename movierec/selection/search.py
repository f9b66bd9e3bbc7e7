"""Hyper-parameter search on validation splits cut from the training data only.

Searches live above the trainers (:mod:`movierec.selection.tuned` wraps a trainer
with its search), so that ``models`` never depends on ``evaluation``.

Optuna drives the SVD search (seeded TPE sampler, search space as data below);
EASE's single regulariser is a short grid, since each candidate costs one matrix inverse
of a Gram matrix computed once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import optuna

from movierec.data.matrix import InteractionMatrix
from movierec.data.splits import random_split, stratified_split
from movierec.evaluation.metrics import ndcg_at_k, rmse, top_k_indices
from movierec.models.base import TrainingData
from movierec.models.ease import ease_weights, gram
from movierec.models.scoring import FactorScorer
from movierec.models.svd import SurpriseSVD, SVDParams

# name -> (type, low, high, log scale)
SVD_SEARCH_SPACE: dict[str, tuple[str, float, float, bool]] = {
    "n_factors": ("int", 10, 200, True),
    "n_epochs": ("int", 10, 80, False),
    "lr_all": ("float", 1e-3, 3e-2, True),
    "reg_all": ("float", 1e-2, 3e-1, True),
}


@dataclass(frozen=True)
class Selection:
    """The outcome of a search: best value, its validation score, and every trial."""

    best: Any
    best_score: float
    metric: str
    trials: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def select_ease_l2(
    data: TrainingData, grid: tuple[float, ...], *, seed: int = 42, k: int = 10, validation_ratio: float = 0.8
) -> Selection:
    """Best NDCG@k on a per-item stratified validation split of ``data`` (the ms75 shape)."""
    fit_part, valid_part = stratified_split(data.ratings, by="item", ratio=validation_ratio, seed=seed)
    train = InteractionMatrix.from_ratings(fit_part, binary=True)
    valid = InteractionMatrix.from_ratings(valid_part, user_ids=train.user_ids, item_ids=train.item_ids, binary=True)
    g = gram(train.matrix)
    users = np.flatnonzero(valid.matrix.getnnz(axis=1) > 0)
    history = train.matrix[users].toarray()
    trials = []
    for l2 in grid:
        scores = history @ ease_weights(g, l2)
        top = top_k_indices(scores, k, exclude=train.matrix[users])
        trials.append({"l2": l2, f"ndcg@{k}": float(ndcg_at_k(top, valid.matrix[users], k))})
    best = max(trials, key=lambda t: t[f"ndcg@{k}"])
    return Selection(best["l2"], best[f"ndcg@{k}"], f"ndcg@{k}", trials)


def _suggest(trial: optuna.Trial, space: dict[str, tuple[str, float, float, bool]]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, (kind, low, high, log) in space.items():
        if kind == "int":
            params[name] = trial.suggest_int(name, int(low), int(high), log=log)
        else:
            params[name] = trial.suggest_float(name, low, high, log=log)
    return params


def tune_svd(
    data: TrainingData,
    n_trials: int,
    *,
    seed: int = 42,
    validation_fraction: float = 0.2,
    space: dict[str, tuple[str, float, float, bool]] | None = None,
) -> Selection:
    """Minimise validation RMSE of Surprise SVD over ``space`` with ``n_trials`` TPE trials."""
    if n_trials < 1:
        raise ValueError("n_trials must be at least 1")
    space = space or SVD_SEARCH_SPACE
    fit_part, valid_part = random_split(data.ratings, test_fraction=validation_fraction, seed=seed)
    fit_data = TrainingData(fit_part, data.rating_scale)
    truth = valid_part["rating"].to_numpy()

    def objective(trial: optuna.Trial) -> float:
        params = SVDParams(**_suggest(trial, space))
        scorer = FactorScorer(SurpriseSVD(params, seed=seed).fit(fit_data).arrays)
        pred = scorer.predict(valid_part["user_id"].to_numpy(), valid_part["item_id"].to_numpy())
        return rmse(truth, pred)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=n_trials)
    trials = [{**t.params, "rmse": t.value} for t in study.trials]
    return Selection(study.best_params, float(study.best_value), "rmse", trials)
