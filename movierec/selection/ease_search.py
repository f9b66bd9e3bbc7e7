r"""EASE's :math:`\lambda` and pruning level, chosen on a validation split of the training data.

1. Each movie's ratings are split 80/20 (the ``ms75`` shape, seeded): fit part and validation part.
2. :math:`\lambda`: for each value of the grid, B(:math:`\lambda`) of the fit part costs one
   Cholesky inverse of a Gram matrix computed once. On a large catalogue the grid is run on
   the ``select_items`` most-interacted items (cubic cost: 2,500 items take a fraction of
   a second, 9,724 about ten), a sub-problem with the same users and the same scale of
   co-occurrence counts. Each B is judged by NDCG@k of a seeded sample of at most ``sample_users``
   validation users, scored ``CHUNK`` users at a time, so memory stays at ``CHUNK`` x n
   floats whatever the number of users. Relevant items a B does not cover count as misses.
3. Pruning, when the artifact will be sparse: B at the chosen :math:`\lambda` over all covered
   items (:func:`movierec.models.ease.covered_items`) is fitted once and pruned to each
   ``keep`` of the pruning grid (ascending; ``keep`` x n strongest weights); the chosen level is the smallest whose
   validation NDCG is at least ``1 - tolerance`` times the unpruned B's (the largest level
   if none is). The unpruned score is a trial too.

Every trial is returned, so a manifest shows how its model was selected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from movierec.data.matrix import InteractionMatrix
from movierec.data.splits import stratified_split
from movierec.evaluation.metrics import PADDING, ndcg_at_k
from movierec.models.base import TrainingData
from movierec.models.ease import covered_items, ease_weights, gram, magnitude_thresholds, prune
from movierec.selection.search import Selection

FINE_L2_GRID: tuple[float, ...] = (50.0, 100.0, 200.0, 300.0, 500.0, 800.0, 1200.0)
KEEP_GRID: tuple[int, ...] = (32, 64, 128, 256, 512, 1024)
SELECT_ITEMS = 2_500  # the head a large catalogue's λ is chosen on
SAMPLE_USERS = 2_000  # validation users judged per candidate: paired differences, not absolute levels
CHUNK = 512


def select_ease(
    data: TrainingData,
    *,
    l2_grid: tuple[float, ...],
    keep_grid: tuple[int, ...] | None,
    max_items: int,
    select_items: int = SELECT_ITEMS,
    seed: int = 42,
    k: int = 10,
    validation_ratio: float = 0.8,
    sample_users: int = SAMPLE_USERS,
    tolerance: float = 0.01,
) -> tuple[Selection, Selection | None]:
    """(selection of l2, selection of keep or None when ``keep_grid`` is None)."""
    fit_part, valid_part = stratified_split(data.ratings, by="item", ratio=validation_ratio, seed=seed)
    train = InteractionMatrix.from_ratings(fit_part, binary=True)
    valid = InteractionMatrix.from_ratings(valid_part, user_ids=train.user_ids, item_ids=train.item_ids, binary=True)
    users = np.flatnonzero(valid.matrix.getnnz(axis=1) > 0)
    if len(users) > sample_users:
        users = np.sort(np.random.default_rng(seed).choice(users, size=sample_users, replace=False))
    seen = train.matrix[users].tocsr()
    relevant = valid.matrix[users].tocsr()
    metric = f"ndcg@{k}"

    def judge(items: np.ndarray, weights: np.ndarray | sp.csr_matrix) -> float:
        history = seen[:, items].tocsr()
        return _validation_ndcg(lambda rows: history[rows] @ weights, history, relevant, items, k)

    head = covered_items(train.matrix, min(select_items, max_items))
    g = gram(train.matrix[:, head])
    trials = [{"l2": l2, metric: judge(head, ease_weights(g, l2))} for l2 in l2_grid]
    del g
    best = max(trials, key=lambda t: t[metric])
    l2_selection = Selection(best["l2"], best[metric], metric, trials)
    if keep_grid is None:
        return l2_selection, None
    items = covered_items(train.matrix, max_items)
    full = ease_weights(gram(train.matrix[:, items]), best["l2"], overwrite=True)
    unpruned = judge(items, full)
    keep_trials: list[dict] = [{"keep": None, metric: unpruned}]
    chosen: dict | None = None
    levels = sorted(keep_grid)
    for keep, threshold in zip(levels, magnitude_thresholds(full, levels)):
        trial = {"keep": keep, metric: judge(items, prune(full, keep, threshold))}
        keep_trials.append(trial)
        if chosen is None and trial[metric] >= (1 - tolerance) * unpruned:
            chosen = trial
    chosen = chosen or keep_trials[-1]
    return l2_selection, Selection(chosen["keep"], chosen[metric], metric, keep_trials)


def _validation_ndcg(
    scores_of: Callable[[np.ndarray], Any],
    history: sp.csr_matrix,
    relevant: sp.csr_matrix,
    items: np.ndarray,
    k: int,
) -> float:
    """Mean NDCG@k over the sampled users, ``CHUNK`` users at a time; ``items`` maps columns back.

    The top k come from one ``argpartition`` per chunk: cheaper than the protocols' exact
    tie order (``top_k_indices``), and ties between real-valued EASE scores are rare.
    """
    total = 0.0
    for start in range(0, history.shape[0], CHUNK):
        rows = np.arange(start, min(start + CHUNK, history.shape[0]))
        scores = scores_of(rows)
        dense = np.array(scores.toarray() if sp.issparse(scores) else scores, dtype=np.float32)
        seen_rows, seen_cols = history[rows].nonzero()
        dense[seen_rows, seen_cols] = -np.inf
        take = min(k, dense.shape[1])
        top = np.argpartition(-dense, take - 1, axis=1)[:, :take]
        order = np.argsort(-np.take_along_axis(dense, top, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, axis=1)
        top = np.where(np.isfinite(np.take_along_axis(dense, top, axis=1)), items[top], PADDING)
        total += ndcg_at_k(top, relevant[rows], k) * len(rows)
    return total / history.shape[0]
