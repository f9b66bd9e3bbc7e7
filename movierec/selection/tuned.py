"""Trainers that choose their own hyper-parameters on a validation split of their data.

Each wraps a plain trainer of :mod:`movierec.models` with a search of
:mod:`movierec.selection.search`; the chosen values and every trial are recorded in the
artifact's parameters, so a manifest says how its model was selected.
"""

from __future__ import annotations

from dataclasses import replace

from movierec.models.artifact import ModelArtifact
from movierec.models.base import TrainingData
from movierec.models.ease import DENSE_MAX_ITEMS, EASE, MAX_ITEMS
from movierec.models.ials import IALS, IALSParams
from movierec.models.svd import SurpriseSVD, SVDParams
from movierec.selection.ease_search import FINE_L2_GRID, KEEP_GRID, SELECT_ITEMS, select_ease
from movierec.selection.search import Selection, select_ials, tune_svd


class TunedEASE(EASE):
    """EASE whose l2 (and, for a sparse artifact, pruning level) is the best validation NDCG@10.

    See :func:`select_ease` for how both are chosen on validation.
    """

    name = "ease"  # model B of the registry: artifacts keep the plain model's name

    def __init__(
        self,
        l2_grid: tuple[float, ...] | None = None,
        *,
        keep_grid: tuple[int, ...] = KEEP_GRID,
        max_items: int = MAX_ITEMS,
        dense_max_items: int = DENSE_MAX_ITEMS,
        sparse: bool = False,
        seed: int = 42,
    ) -> None:
        super().__init__(seed=seed, max_items=max_items, dense_max_items=dense_max_items)
        self.l2_grid = l2_grid
        self.keep_grid = keep_grid
        self.sparse = sparse
        self.selection: Selection | None = None

    def fit(self, data: TrainingData) -> ModelArtifact:
        n_items = data.ratings["item_id"].nunique()
        sparse = self.sparse or n_items > min(self.dense_max_items, self.max_items)
        self.selection, keep = select_ease(
            data,
            l2_grid=self.l2_grid or FINE_L2_GRID,
            select_items=SELECT_ITEMS if sparse else self.dense_max_items,
            keep_grid=self.keep_grid if sparse else None,
            max_items=self.max_items,
            seed=self.seed,
        )
        self.l2 = float(self.selection.best)
        self.keep = int(keep.best) if keep else None
        params = {
            **self.recipe(),
            "l2_selection": self.selection.as_dict(),
            **({"keep_selection": keep.as_dict()} if keep else {}),
        }
        return self.fit_with(data, params)


class TunedSVD(SurpriseSVD):
    """SVD whose hyper-parameters come from :func:`tune_svd` for ``objective`` on a validation split of its own data."""

    name = "svd-tuned"

    def __init__(self, n_trials: int = 20, seed: int = 42, objective: str = "rmse") -> None:
        super().__init__(SVDParams(), seed=seed)
        self.n_trials = n_trials
        self.objective = objective
        self.selection: Selection | None = None

    def fit(self, data: TrainingData) -> ModelArtifact:
        self.selection = tune_svd(data, self.n_trials, seed=self.seed, objective=self.objective)
        self.params = SVDParams(**self.selection.best)
        artifact = super().fit(data)
        return replace(artifact, params={**artifact.params, "tuning": self.selection.as_dict()})


class TunedIALS(IALS):
    """iALS whose regularisation and confidence weight are the best validation NDCG@10 (:func:`select_ials`)."""

    name = "ials"

    def __init__(self, seed: int = 42) -> None:
        super().__init__(IALSParams(), seed=seed)
        self.selection: Selection | None = None

    def fit(self, data: TrainingData) -> ModelArtifact:
        self.selection = select_ials(data, seed=self.seed)
        self.params = IALSParams(**self.selection.best)
        artifact = super().fit(data)
        return replace(artifact, params={**artifact.params, "selection": self.selection.as_dict()})
