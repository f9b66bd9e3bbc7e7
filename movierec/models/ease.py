r"""Model B: EASE^R, an embarrassingly shallow autoencoder (Steck, WWW 2019).

A linear item-item model learnt in closed form from the binary user-item matrix
:math:`X` (every rating counts as a positive):

.. math::
    \min_B \|X - XB\|_F^2 + \lambda \|B\|_F^2 \quad \text{s.t. } \operatorname{diag}(B) = 0

    P = (X^\top X + \lambda I)^{-1}, \qquad B_{ij} = -P_{ij} / P_{jj}\ (i \ne j), \qquad B_{jj} = 0

A user's scores are :math:`x_u B`. The only hyper-parameter, :math:`\lambda`, is chosen
on a validation split cut from the training data (``movierec.selection.search``) unless given.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from movierec.models.artifact import ModelArtifact
from movierec.models.base import Trainer, TrainingData, history_arrays

DEFAULT_L2 = 500.0


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

    def __init__(self, l2: float = DEFAULT_L2, *, seed: int = 42) -> None:
        self.l2 = l2
        self.seed = seed

    def fit(self, data: TrainingData) -> ModelArtifact:
        return self.fit_with(data, {"seed": self.seed, "l2": self.l2})

    def fit_with(self, data: TrainingData, params: dict[str, Any]) -> ModelArtifact:
        """The artifact for ``params["l2"]``; ``params`` is recorded in the manifest as given."""
        matrix = data.matrix(binary=True)
        arrays = history_arrays(matrix)
        arrays["weights"] = ease_weights(gram(matrix.matrix), float(params["l2"])).astype(np.float32)
        return ModelArtifact(self.name, "item_item", arrays, params=params, data_fingerprint=data.fingerprint)
