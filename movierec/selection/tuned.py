"""Trainers that choose their own hyper-parameters on a validation split of their data.

Each wraps a plain trainer of :mod:`movierec.models` with a search of
:mod:`movierec.selection.search`; the chosen values and every trial are recorded in the
artifact's parameters, so a manifest says how its model was selected.
"""

from __future__ import annotations

from dataclasses import replace

from movierec.models.artifact import ModelArtifact
from movierec.models.base import TrainingData
from movierec.models.ease import EASE
from movierec.models.svd import SurpriseSVD, SVDParams
from movierec.selection.search import Selection, select_ease_l2, tune_svd

DEFAULT_L2_GRID: tuple[float, ...] = (50.0, 100.0, 200.0, 300.0, 500.0, 800.0, 1200.0)


class TunedEASE(EASE):
    """EASE whose l2 is the best NDCG@10 of ``l2_grid`` (:func:`select_ease_l2`)."""

    name = "ease"  # model B of the registry: artifacts keep the plain model's name

    def __init__(self, l2_grid: tuple[float, ...] = DEFAULT_L2_GRID, *, seed: int = 42) -> None:
        super().__init__(seed=seed)
        self.l2_grid = l2_grid
        self.selection: Selection | None = None

    def fit(self, data: TrainingData) -> ModelArtifact:
        self.selection = select_ease_l2(data, self.l2_grid, seed=self.seed)
        self.l2 = float(self.selection.best)
        params = {"seed": self.seed, "l2_selection": self.selection.as_dict(), "l2": self.l2}
        return self.fit_with(data, params)


class TunedSVD(SurpriseSVD):
    """SVD whose hyper-parameters come from :func:`tune_svd` on a validation split of its own data."""

    name = "svd-tuned"

    def __init__(self, n_trials: int = 20, seed: int = 42) -> None:
        super().__init__(SVDParams(), seed=seed)
        self.n_trials = n_trials
        self.selection: Selection | None = None

    def fit(self, data: TrainingData) -> ModelArtifact:
        self.selection = tune_svd(data, self.n_trials, seed=self.seed)
        self.params = SVDParams(**self.selection.best)
        artifact = super().fit(data)
        return replace(artifact, params={**artifact.params, "tuning": self.selection.as_dict()})
