r"""Model B: EASE^R, an embarrassingly shallow autoencoder (Steck, WWW 2019).

A linear item-item model learnt in closed form from the binary user-item matrix
:math:`X` (every rating counts as a positive):

.. math::
    \min_B \|X - XB\|_F^2 + \lambda \|B\|_F^2 \quad \text{s.t. } \operatorname{diag}(B) = 0

    P = (X^\top X + \lambda I)^{-1}, \qquad B_{ij} = -P_{ij} / P_{jj}\ (i \ne j), \qquad B_{jj} = 0

A user's scores are :math:`x_u B`. The only hyper-parameter, :math:`\lambda`, is chosen
on a validation split cut from the training data (``movierec.models.tuning``) unless given.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from movierec.models.artifact import ModelArtifact
from movierec.models.base import Trainer, TrainingData, history_arrays

DEFAULT_L2_GRID: tuple[float, ...] = (50.0, 100.0, 200.0, 300.0, 500.0, 800.0, 1200.0)


def gram(interactions: sp.csr_matrix) -> np.ndarray:
    x = interactions.astype(np.float64)
    return np.asarray((x.T @ x).todense())


def ease_weights(gram_matrix: np.ndarray, l2: float) -> np.ndarray:
    """B of the closed form above, from :math:`G = X^\\top X` (not modified)."""
    if l2 <= 0:
        raise ValueError(f"EASE needs a positive l2, got {l2}")
    g = gram_matrix.copy()
    g[np.diag_indices_from(g)] += l2
    p = np.linalg.inv(g)
    b = p / -np.diag(p)
    np.fill_diagonal(b, 0.0)
    return b


class EASE(Trainer):
    name = "ease"

    def __init__(self, l2: float | None = None, *, l2_grid: tuple[float, ...] = DEFAULT_L2_GRID, seed: int = 42):
        self.l2 = l2
        self.l2_grid = l2_grid
        self.seed = seed

    def fit(self, data: TrainingData) -> ModelArtifact:
        params: dict = {"seed": self.seed}
        l2 = self.l2
        if l2 is None:
            from movierec.models.tuning import select_ease_l2

            selection = select_ease_l2(data, self.l2_grid, seed=self.seed)
            l2 = selection.best
            params["l2_selection"] = selection.as_dict()
        params["l2"] = l2
        matrix = data.matrix(binary=True)
        arrays = history_arrays(matrix)
        arrays["weights"] = ease_weights(gram(matrix.matrix), l2).astype(np.float32)
        return ModelArtifact(self.name, "item_item", arrays, params=params, data_fingerprint=data.fingerprint)
