"""EASE's closed form against a direct constrained least-squares solve on tiny data; pruning."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from movierec.errors import ArtifactError
from movierec.models.base import TrainingData
from movierec.models.ease import (
    EASE,
    covered_items,
    ease_weights,
    embed,
    gram,
    magnitude_thresholds,
    prune,
)
from movierec.models.scoring import scorer_for


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
    assert b.dtype == np.float32  # float32 Cholesky: agreement to float32 precision
    np.testing.assert_allclose(b, direct_solution(x, l2), rtol=1e-4, atol=1e-6)
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


def test_overwrite_turns_the_gram_itself_into_b():
    rng = np.random.default_rng(2)
    x = (rng.random((60, 9)) < 0.3).astype(float)
    g = gram(sp.csr_matrix(x))
    expected = ease_weights(g, 2.0)
    b = ease_weights(g, 2.0, overwrite=True)
    assert np.shares_memory(b, g)  # one n x n array, not two
    np.testing.assert_array_equal(b, expected)


def test_gram_in_column_blocks_equals_the_product(monkeypatch):
    import movierec.models.ease as ease

    rng = np.random.default_rng(4)
    x = sp.csr_matrix((rng.random((50, 11)) < 0.4).astype(float))
    monkeypatch.setattr(ease, "_GRAM_COLUMNS_PER_BLOCK", 3)
    np.testing.assert_array_equal(gram(x), (x.T @ x).toarray())


def test_pruning_keeps_the_strongest_weights_of_the_whole_matrix():
    b = np.array([[0, -3, 1, 2], [0.5, 0, -0.125, 0.25], [0, 0, 0, 0], [1, 0.75, -4, 0]], dtype=np.float32)
    pruned = prune(b, 2)  # 2 per item on average: the 8 strongest of 16 entries
    assert pruned.toarray().tolist() == [[0, -3, 1, 2], [0.5, 0, 0, 0.25], [0, 0, 0, 0], [1, 0.75, -4, 0]]
    assert pruned.has_sorted_indices and pruned.nnz == 8  # the all-zero row stores nothing
    assert magnitude_thresholds(b, [1, 2]) == [1.0, 0.25]  # ties at the threshold are kept
    np.testing.assert_array_equal(prune(b, 10).toarray(), b)  # keep >= n: nothing pruned


def test_covered_items_are_the_most_interacted_and_embed_places_them():
    x = sp.csr_matrix(np.array([[1, 1, 0, 1], [1, 0, 0, 1], [0, 1, 1, 1]], dtype=np.float32))
    items = covered_items(x, 2)
    assert items.tolist() == [0, 3]  # counts 2, 2, 1, 3: ties go to the lower index
    small = sp.csr_matrix(np.array([[0, 0.5], [0.25, 0]], dtype=np.float32))
    full = embed(small, items, 4).toarray()
    assert full[0, 3] == 0.5 and full[3, 0] == 0.25 and np.count_nonzero(full) == 2


def test_pruned_artifact_scores_like_the_pruned_dense_b(small_data: TrainingData):
    dense = EASE(l2=300.0).fit(small_data)
    sparse = EASE(l2=300.0, keep=40).fit(small_data)
    assert dense.kind == "item_item" and sparse.kind == "sparse_item_item"
    expected = prune(dense.arrays["weights"], 40)
    got = sp.csr_matrix(
        (sparse.arrays["weights_data"], sparse.arrays["weights_indices"], sparse.arrays["weights_indptr"]),
        shape=expected.shape,
    )
    np.testing.assert_allclose(got.toarray(), expected.toarray(), rtol=1e-5, atol=1e-7)
    scorer = scorer_for(sparse.kind, sparse.arrays)
    history = np.zeros(expected.shape[0], dtype=np.float32)
    history[scorer.seen(3)] = 1
    np.testing.assert_allclose(scorer.score(np.array([3]))[0], history @ expected.toarray(), rtol=1e-5, atol=1e-6)
    assert sparse.params["covered_items"] == expected.shape[0]


def test_a_catalogue_beyond_max_items_fits_the_head_only(small_data: TrainingData):
    artifact = EASE(l2=300.0, max_items=50).fit(small_data)
    assert artifact.kind == "sparse_item_item" and artifact.params["covered_items"] == 50
    rows = np.diff(artifact.arrays["weights_indptr"])
    assert np.count_nonzero(rows) <= 50  # only covered items have weights
    assert 0 < artifact.params["covered_interactions"] < 1


def test_a_sparse_artifact_whose_weights_do_not_line_up_is_refused(small_data: TrainingData):
    arrays = EASE(l2=300.0, keep=40).fit(small_data).arrays
    for key in ("weights_data", "weights_indices"):  # one array short (a short weights_data once got through)
        damaged = {**arrays, key: arrays[key][:-1]}
        with pytest.raises(ArtifactError, match="do not match"):
            scorer_for("sparse_item_item", damaged)
