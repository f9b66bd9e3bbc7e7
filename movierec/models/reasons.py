r"""Why an item is recommended: the seen items that weigh most for it, from the scorer's arrays.

For the item-item models (EASE\ :sup:`R`, dense or pruned) a score is a sum over the
user's seen items, :math:`s_{ui} = \sum_{j \in S_u} B_{ji}`, so the contribution of seen
item :math:`j` to item :math:`i` is exactly :math:`B_{ji}` (zero where pruning dropped
it), and the contributions of all seen items add up to the score.

A factor model's score is not a sum over seen items (:math:`\hat r_{ui} = \mu + b_u +
b_i + q_i^\top p_u`): its reasons are the seen items nearest to :math:`i` in factor
space, :math:`\cos(q_i, q_j)`. For SVD only the items the user rated at least at their
own mean count (when the artifact stores ratings): the liked titles an item is closest
to. iALS treats every seen item as liked, so all count.

User-based KNN's evidence is neighbours, not seen items, and the popular list has no
evidence about the user: neither gives reasons. Only positive weights are reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from movierec.models.scoring import (
    EmbeddingScorer,
    FactorScorer,
    ItemItemScorer,
    Scorer,
    SparseItemItemScorer,
)


@dataclass(frozen=True)
class Reason:
    """A seen item behind a recommendation: its raw id, its weight, and the user's rating of it."""

    movie_id: int
    weight: float
    rating: float | None  # None when the artifact stores no ratings


def explain(scorer: Scorer, user_id: int, item_ids: np.ndarray, k: int = 3) -> list[tuple[Reason, ...]]:
    """Per raw item id, the at most ``k`` seen items that weigh most for it, heaviest first.

    Unknown users, unknown items and models without contributions get no reasons
    (empty tuples). Cost: one row of weights per asked item, never the whole catalogue.
    """
    items = scorer.item_index(np.asarray(item_ids, dtype=np.int64))
    user = scorer.user_row(user_id)
    reasons: list[tuple[Reason, ...]] = [() for _ in items]
    known = np.flatnonzero(items >= 0)
    weights = contributions(scorer, user, items[known]) if user >= 0 and len(known) else None
    if weights is None:
        return reasons
    seen, ratings = scorer.item_ids[scorer.seen(user)], ratings_of(scorer, user)
    for row, position in enumerate(known):
        top = np.argsort(-weights[row], kind="stable")[:k]
        top = top[weights[row][top] > 0]
        reasons[position] = tuple(
            Reason(int(seen[j]), float(weights[row][j]), None if ratings is None else float(ratings[j])) for j in top
        )
    return reasons


def contributions(scorer: Scorer, user: int, items: np.ndarray) -> np.ndarray | None:
    """Weight of each seen item of ``user`` (an index) for each of ``items`` (indices):
    shape (len(items), len(seen(user))); None for models without that reading."""
    weigh = _CONTRIBUTIONS.get(type(scorer))
    return None if weigh is None else weigh(scorer, user, items)


def ratings_of(scorer: Scorer, user: int) -> np.ndarray | None:
    """The ratings ``user`` (an index) gave to ``scorer.seen(user)``, in that order; None if not stored."""
    if scorer.seen_ratings is None:
        return None
    return scorer.seen_ratings[scorer.seen_indptr[user] : scorer.seen_indptr[user + 1]]


def _dense_item_item(scorer: ItemItemScorer, user: int, items: np.ndarray) -> np.ndarray:
    return scorer.weights[np.ix_(scorer.seen(user), items)].T.astype(np.float64)


def _sparse_item_item(scorer: SparseItemItemScorer, user: int, items: np.ndarray) -> np.ndarray:
    rows = scorer.seen(user)
    offsets, lengths = scorer.row_entries(rows)
    seen_row = np.repeat(np.arange(len(rows)), lengths)  # which seen item each entry belongs to
    column = np.full(scorer.n_items, -1)
    column[items] = np.arange(len(items))
    asked = column[scorer.indices[offsets]]
    hit = asked >= 0
    weights = np.zeros((len(items), len(rows)))
    np.add.at(weights, (asked[hit], seen_row[hit]), scorer.data[offsets[hit]])
    return weights


def _svd(scorer: FactorScorer, user: int, items: np.ndarray) -> np.ndarray:
    nearness = _cosine(scorer.qi[items], scorer.qi[scorer.seen(user)])
    ratings = ratings_of(scorer, user)
    if ratings is not None and len(ratings):
        nearness[:, ratings < ratings.mean()] = 0.0
    return nearness


def _ials(scorer: EmbeddingScorer, user: int, items: np.ndarray) -> np.ndarray:
    return _cosine(scorer.qi[items].astype(np.float64), scorer.qi[scorer.seen(user)].astype(np.float64))


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row of ``a`` with every row of ``b`` (0 for a zero row)."""
    norms = np.outer(np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num((a @ b.T) / norms, nan=0.0, posinf=0.0, neginf=0.0)


_CONTRIBUTIONS: dict[type[Scorer], Callable[..., np.ndarray]] = {
    ItemItemScorer: _dense_item_item,
    SparseItemItemScorer: _sparse_item_item,
    FactorScorer: _svd,
    EmbeddingScorer: _ials,
}
