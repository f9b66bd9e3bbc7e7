"""InteractionMatrix: a hand-checked example, vocabularies, and a round trip on ml-100k."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movierec.data import InteractionMatrix, MovieLens
from movierec.errors import DataError


def _ratings(rows: list[tuple[int, int, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "rating"])
    frame["timestamp"] = 1
    return frame


def test_small_matrix_has_sorted_vocabularies_and_the_ratings() -> None:
    ratings = _ratings([(30, 7, 4.0), (10, 5, 3.5), (30, 5, 1.0), (20, 9, 5.0)])

    built = InteractionMatrix.from_ratings(ratings)

    assert built.user_ids.tolist() == [10, 20, 30]
    assert built.item_ids.tolist() == [5, 7, 9]
    assert (built.n_users, built.n_items) == (3, 3)
    assert built.matrix.dtype == np.float32
    assert built.matrix.toarray().tolist() == [
        [3.5, 0.0, 0.0],
        [0.0, 0.0, 5.0],
        [1.0, 4.0, 0.0],
    ]


def test_binary_matrix_is_ones_and_tolerates_repeats() -> None:
    ratings = _ratings([(1, 1, 2.0), (1, 1, 5.0), (2, 3, 4.0)])

    built = InteractionMatrix.from_ratings(ratings, binary=True)

    assert built.matrix.toarray().tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_repeated_pairs_are_refused_for_explicit_ratings() -> None:
    with pytest.raises(DataError, match="clean_ratings"):
        InteractionMatrix.from_ratings(_ratings([(1, 1, 2.0), (1, 1, 5.0)]))


def test_given_vocabularies_drop_unknown_ids() -> None:
    train = InteractionMatrix.from_ratings(_ratings([(1, 1, 4.0), (2, 2, 3.0)]))
    test = _ratings([(1, 2, 5.0), (3, 1, 2.0), (2, 9, 1.0)])  # user 3 and item 9 unseen

    mapped = InteractionMatrix.from_ratings(test, user_ids=train.user_ids, item_ids=train.item_ids)

    assert mapped.user_ids.tolist() == [1, 2] and mapped.item_ids.tolist() == [1, 2]
    assert mapped.matrix.toarray().tolist() == [[0.0, 5.0], [0.0, 0.0]]


def test_index_lookup_flags_unknown_ids() -> None:
    built = InteractionMatrix.from_ratings(_ratings([(5, 50, 1.0), (9, 90, 1.0)]))

    assert built.user_index([9, 5, 7, 100, 0]).tolist() == [1, 0, -1, -1, -1]
    assert built.item_index(np.array([90, 91])).tolist() == [1, -1]
    assert built.item_index([]).tolist() == []


def test_one_user_row_agrees_with_the_array_lookup() -> None:
    built = InteractionMatrix.from_ratings(_ratings([(5, 50, 1.0), (9, 90, 1.0)]))
    probes = [0, 4, 5, 6, 9, 10, 10**12, -1]

    assert [built.user_row(u) for u in probes] == built.user_index(probes).tolist()
    assert [built.user_row(u) for u in probes] == [-1, -1, 0, -1, 1, -1, -1, -1]


def test_ml100k_round_trip(ml100k: MovieLens) -> None:
    ratings = ml100k.ratings
    built = InteractionMatrix.from_ratings(ratings)

    assert built.matrix.shape == (943, 1_682)
    assert built.matrix.nnz == 100_000
    rows = built.user_index(ratings["user_id"])
    cols = built.item_index(ratings["item_id"])
    np.testing.assert_array_equal(
        np.asarray(built.matrix[rows, cols]).ravel(), ratings["rating"].to_numpy(np.float32)
    )
