"""Hyper-parameter search on validation splits cut from the training data only.

Searches live above the trainers (:mod:`movierec.selection.tuned` wraps a trainer
with its search), so that ``models`` never depends on ``evaluation``.

Optuna drives the SVD search (seeded TPE sampler, search space as data below); EASE's
regulariser and pruning level are short grids (:mod:`movierec.selection.ease_search`),
since each candidate costs one matrix inverse of a Gram matrix computed once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import optuna

from movierec.data.splits import random_split, stratified_split
from movierec.evaluation.protocols import score_split
from movierec.models.base import TrainingData
from movierec.models.ials import IALS, IALSParams
from movierec.models.scoring import FactorScorer, scorer_for
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
    objective: str = "rmse",
    validation_fraction: float = 0.2,
    space: dict[str, tuple[str, float, float, bool]] | None = None,
) -> Selection:
    """The best of ``n_trials`` TPE trials of Surprise SVD over ``space`` for ``objective``.

    ``"rmse"``: minimise RMSE on a random ``validation_fraction`` of the ratings (rating
    prediction, the kfold5 question). ``"ndcg@10"``: maximise NDCG@10 of the serving scorer
    on a per-movie stratified ``validation_fraction`` (the ms75 question: every held-out
    rating relevant, training items removed).
    """
    if n_trials < 1:
        raise ValueError("n_trials must be at least 1")
    if objective not in ("rmse", "ndcg@10"):
        raise ValueError(f"objective must be 'rmse' or 'ndcg@10', got {objective!r}")
    space = space or SVD_SEARCH_SPACE
    if objective == "rmse":
        fit_part, valid_part = random_split(data.ratings, test_fraction=validation_fraction, seed=seed)
    else:
        fit_part, valid_part = stratified_split(data.ratings, by="item", ratio=1 - validation_fraction, seed=seed)
    fit_data = TrainingData(fit_part, data.rating_scale)

    def measure(trial: optuna.Trial) -> float:
        scorer = FactorScorer(SurpriseSVD(SVDParams(**_suggest(trial, space)), seed=seed).fit(fit_data).arrays)
        return score_split(scorer, valid_part, k=10)[objective]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize" if objective == "rmse" else "maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(measure, n_trials=n_trials)
    trials = [{**t.params, objective: t.value} for t in study.trials]
    return Selection(study.best_params, float(study.best_value), objective, trials)


IALS_GRID: dict[str, tuple[float, ...]] = {"regularization": (5.0, 10.0, 20.0, 50.0), "alpha": (1.0, 2.0, 5.0)}


def select_ials(
    data: TrainingData, *, seed: int = 42, k: int = 10, validation_ratio: float = 0.8, grid: dict | None = None
) -> Selection:
    """Best validation NDCG@k of iALS over ``grid`` (regularisation x confidence weight),
    on a per-movie stratified split of ``data`` (the ms75 shape); factors and iterations fixed."""
    grid = grid or IALS_GRID
    fit_part, valid_part = stratified_split(data.ratings, by="item", ratio=validation_ratio, seed=seed)
    fit_data = TrainingData(fit_part, data.rating_scale)
    metric = f"ndcg@{k}"
    trials = []
    for regularization in grid["regularization"]:
        for alpha in grid["alpha"]:
            params = IALSParams(regularization=regularization, alpha=alpha)
            scorer = scorer_for("embeddings", IALS(params, seed=seed).fit(fit_data).arrays)
            trials.append({"regularization": regularization, "alpha": alpha, metric: score_split(scorer, valid_part, k)[metric]})
    best = max(trials, key=lambda t: t[metric])
    return Selection({"regularization": best["regularization"], "alpha": best["alpha"]}, best[metric], metric, trials)
