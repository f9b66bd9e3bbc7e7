"""Train/test splits of a ratings frame: random, stratified per group, temporal, k-fold.

Every split returns ``(train, test)`` as row subsets of the input in input order, with
the original index, so ``pd.concat([train, test]).sort_index()`` rebuilds the input
(for a unique index). Randomness comes from ``numpy.random.default_rng(seed)``, except
the stratified split's ``keys="microsoft"``, which reproduces Microsoft Recommenders'
legacy ``RandomState`` draws.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np
import pandas as pd

from movierec.data.frames import ITEM_ID, TIMESTAMP, USER_ID, require_columns

Split = tuple[pd.DataFrame, pd.DataFrame]


def random_split(ratings: pd.DataFrame, test_fraction: float = 0.25, seed: int = 42) -> Split:
    """A uniformly random ``round(test_fraction * n)`` rows go to test, the rest to train."""
    _check_fraction("test_fraction", test_fraction)
    n = len(ratings)
    order = np.random.default_rng(seed).permutation(n)
    in_test = np.zeros(n, dtype=bool)
    in_test[order[: round(test_fraction * n)]] = True
    return ratings[~in_test], ratings[in_test]


def stratified_split(
    ratings: pd.DataFrame,
    by: Literal["item", "user"] = "item",
    ratio: float = 0.75,
    seed: int = 42,
    *,
    keys: Literal["numpy", "microsoft"] = "numpy",
) -> Split:
    """Split every user's (or item's) ratings ``ratio`` : ``1 - ratio`` at random.

    One random key per row in input order, rows sorted by group then key, and a group of
    size ``n`` keeps its first ``round(ratio * n)`` rows (half to even) in train: the
    procedure of Microsoft Recommenders' ``python_stratified_split``. The keys decide
    which rows: ``keys="numpy"`` draws them from ``numpy.random.default_rng(seed)`` (the
    ``ms75`` protocol: same shape, *not* their rows); ``keys="microsoft"`` from
    ``numpy.random.RandomState(seed)`` as their ``np.random.seed(seed);
    np.random.rand(n)`` does, which gives exactly their rows for the same seed (tested
    against a fixture computed with their published code; the ``ms75-exact`` protocol).
    ``ms75`` is ``by="item", ratio=0.75, seed=42``, as their MovieLens benchmark
    (``filter_by="item"``).
    """
    if by not in ("item", "user"):
        raise ValueError(f"by must be 'item' or 'user', got {by!r}")
    _check_fraction("ratio", ratio)
    column = ITEM_ID if by == "item" else USER_ID
    require_columns(ratings, (column,))
    groups = ratings[column].to_numpy()
    if keys == "microsoft":
        row_keys = np.random.RandomState(seed).random_sample(len(ratings))  # their legacy generator, on purpose
    elif keys == "numpy":
        row_keys = np.random.default_rng(seed).random(len(ratings))
    else:
        raise ValueError(f"keys must be 'numpy' or 'microsoft', got {keys!r}")
    order = np.lexsort((row_keys, groups))  # by group, then by random key
    rank, size = _rank_within_groups(groups[order])
    train = np.empty(len(ratings), dtype=bool)
    train[order] = rank < np.round(ratio * size)
    return ratings[train], ratings[~train]


def temporal_split(ratings: pd.DataFrame, test_fraction: float = 0.1) -> Split:
    """Each user's most recent ``ceil(test_fraction * n)`` ratings go to test.

    "Most recent" orders by timestamp, then by item_id (the larger id counts as later),
    so ties are broken the same way on every run. A user keeps at least one rating in
    train: a user with a single rating is entirely in train, and the test share is
    capped at ``n - 1``.
    """
    _check_fraction("test_fraction", test_fraction)
    require_columns(ratings, (USER_ID, ITEM_ID, TIMESTAMP))
    users = ratings[USER_ID].to_numpy()
    order = np.lexsort((ratings[ITEM_ID].to_numpy(), ratings[TIMESTAMP].to_numpy(), users))
    rank, size = _rank_within_groups(users[order])
    # Round first: 0.1 * 30 is 3.0000000000000004 in floating point, whose ceil is 4.
    n_test = np.minimum(np.ceil(np.round(test_fraction * size, 9)), size - 1)
    test = np.empty(len(ratings), dtype=bool)
    test[order] = rank >= size - n_test
    return ratings[~test], ratings[test]


def kfold(ratings: pd.DataFrame, k: int = 5, seed: int = 42) -> Iterator[Split]:
    """Yield ``k`` (train, test) pairs whose tests are disjoint and together cover every row.

    Rows are shuffled once; fold sizes differ by at most one (``numpy.array_split``).
    """
    n = len(ratings)
    if not 2 <= k <= max(n, 2):
        raise ValueError(f"k must be in [2, number of ratings={n}], got {k}")
    folds = np.array_split(np.random.default_rng(seed).permutation(n), k)
    for fold in folds:
        in_test = np.zeros(n, dtype=bool)
        in_test[fold] = True
        yield ratings[~in_test], ratings[in_test]


def _rank_within_groups(sorted_groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For group labels sorted so equal labels are adjacent: each row's 0-based position
    within its group and its group's size."""
    n = len(sorted_groups)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    sizes = np.diff(np.r_[starts, n])
    group_of_row = np.repeat(np.arange(len(starts)), sizes)
    return np.arange(n) - starts[group_of_row], sizes[group_of_row]


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value}")
