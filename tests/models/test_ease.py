"""EASE's closed form against a direct constrained least-squares solve on tiny data."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from movierec.models.ease import ease_weights, gram


def direct_solution(x: np.ndarray, l2: float) -> np.ndarray:
    """Column j regresses x_j on the other columns with ridge l2: diag(B) = 0 by construction."""
    n = x.shape[1]
    b = np.zeros((n, n))
    for j in range(n):
        others = [i for i in range(n) if i != j]
        a = x[:, others]
        b[others, j] = np.linalg.solve(a.T @ a + l2 * np.eye(n - 1), a.T @ x[:, j])
    return b


@pytest.mark.parametrize("l2", [0.5, 3.0, 50.0])
def test_closed_form_equals_constrained_ridge(l2):
    rng = np.random.default_rng(1)
    x = (rng.random((40, 7)) < 0.35).astype(float)
    b = ease_weights(gram(sp.csr_matrix(x)), l2)
    np.testing.assert_allclose(b, direct_solution(x, l2), atol=1e-10)
    assert np.all(np.diag(b) == 0)


def test_co_occurring_items_score_higher():
    # Items 0 and 1 always go together, item 2 never with them.
    x = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1], [1, 1, 0], [0, 0, 1]], dtype=float)
    b = ease_weights(gram(sp.csr_matrix(x)), 1.0)
    user_with_item_0 = np.array([1.0, 0.0, 0.0])
    scores = user_with_item_0 @ b
    assert scores[1] > 0 >= scores[2]


def test_non_positive_l2_is_refused():
    with pytest.raises(ValueError, match="positive"):
        ease_weights(np.eye(2), 0.0)
