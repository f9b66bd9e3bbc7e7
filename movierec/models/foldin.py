r"""Fold-in: the factor vector of a user the model never saw, from a few of their ratings.

A factor model learns a vector per user; a user who arrived after training has none.
Folding in solves, with every item's parameters held fixed, the training objective
restricted to that one user's terms: a ridge regression with one unknown vector.

**Biased matrix factorisation (SVD, :class:`~movierec.models.scoring.FactorScorer`).**
With the user's ratings :math:`r_{ui}, i \in R(u)`, :math:`n_u = |R(u)|`, unknowns
:math:`w = (b_u, p_u)` and, per rated item, :math:`z_i = (1, q_i)`,
:math:`y_i = r_{ui} - \mu - b_i`:

.. math::
    \min_{w} \sum_{i \in R(u)} (y_i - z_i^\top w)^2 + \lambda\, n_u \|w\|^2
    \quad\Longrightarrow\quad
    (Z^\top Z + \lambda n_u I)\, w = Z^\top y

The penalty is :math:`\lambda n_u`, not :math:`\lambda`: Surprise's SGD applies
:math:`\lambda` at every rating it visits (``p_u += lr (e_ui q_i - λ p_u)``), so its fixed
point for one user, items held fixed, is :math:`\sum_i e_{ui} q_i = \lambda n_u p_u` —
exactly the normal equations above. The fold-in of a training user's own ratings is
then the vector training converges to for them (up to SGD's unfinished epochs).
:math:`\lambda` is the training's ``reg_all`` (stored in the artifact as
``regularization``). A system of :math:`k+1` unknowns, symmetric positive definite for
:math:`\lambda > 0`: one dense solve, :math:`O(n_u k^2 + k^3)`, well under a
millisecond for :math:`k = 100`.

**iALS (:class:`~movierec.models.scoring.EmbeddingScorer`),** as the `implicit` library
fits it (Hu, Koren, Volinsky 2008): preference :math:`p_{ui} = 1` on the user's items
:math:`S`, 0 elsewhere, confidence :math:`c_{ui} = \alpha` on :math:`S` (implicit
multiplies the binary matrix by ``alpha``) and 1 elsewhere:

.. math::
    \min_{x_u} \sum_i c_{ui} (p_{ui} - x_u^\top q_i)^2 + \lambda \|x_u\|^2
    \quad\Longrightarrow\quad
    \bigl(Q^\top Q + (\alpha - 1) Q_S^\top Q_S + \lambda I\bigr)\, x_u = \alpha\, Q_S^\top \mathbf 1

the same equations implicit's ``recalculate_user`` solves (:math:`Q^\top Q` is computed
once per artifact). ``regularization`` and ``alpha`` are stored in the artifact.

Pure numpy (serving installs no scipy): values in, values out.
"""

from __future__ import annotations

import numpy as np


def biased_mf_user(
    item_factors: np.ndarray, item_bias: np.ndarray, ratings: np.ndarray, global_mean: float, regularization: float
) -> tuple[float, np.ndarray]:
    """``(b_u, p_u)`` for ratings of the items whose rows of ``item_factors``/``item_bias`` are given."""
    n, k = item_factors.shape
    z = np.hstack([np.ones((n, 1)), np.asarray(item_factors, dtype=np.float64)])
    y = np.asarray(ratings, dtype=np.float64) - global_mean - np.asarray(item_bias, dtype=np.float64)
    lhs = z.T @ z + regularization * max(n, 1) * np.eye(k + 1)
    w = np.linalg.solve(lhs, z.T @ y)
    return float(w[0]), w[1:]


def ials_user(
    gram: np.ndarray, item_factors: np.ndarray, regularization: float, alpha: float
) -> np.ndarray:
    """``x_u`` for a binary history given as the rows of ``item_factors`` of its items;
    ``gram`` is :math:`Q^\\top Q` of all items."""
    q = np.asarray(item_factors, dtype=np.float64)
    lhs = gram + (alpha - 1.0) * (q.T @ q) + regularization * np.eye(len(gram))
    return np.linalg.solve(lhs, alpha * q.sum(axis=0))
