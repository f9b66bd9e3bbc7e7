"""Offline evaluation metrics: rating error, top-k ranking quality, coverage and popularity bias.

Pure functions over numpy arrays and scipy sparse matrices; no I/O, no randomness.

Conventions shared by the ranking metrics
-----------------------------------------
``recommended`` is an integer array of shape ``(n_users, n_cols)`` holding item *indices*,
best first; ``-1`` pads a row when fewer items could be recommended.  ``relevant`` is a
scipy sparse matrix of shape ``(n_users, n_items)`` whose nonzero entries mark each row's
relevant (held-out test) items.  Row ``u`` of both describes the same user.

For a user ``u`` let ``rel_i`` be 1 when the item at rank ``i`` (1-based) of the user's list
is relevant, else 0 (padding is never relevant), and ``R_u`` the number of relevant items.
Only the first ``k`` ranks count; when ``k`` exceeds ``n_cols`` the missing ranks are
padding.  Users with ``R_u = 0`` are excluded from every average (their precision, recall
and nDCG are undefined or trivially zero and would only dilute the mean); if no user has a
relevant item the metric is undefined and a :class:`MetricInputError` is raised.

These definitions follow the Microsoft Recommenders ``python_evaluation`` module, so the
numbers can be compared with its published benchmark.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from movierec.errors import DataError

__all__ = [
    "MetricInputError",
    "catalogue_coverage",
    "hit_rate_at_k",
    "mae",
    "map_at_k",
    "mean_popularity",
    "ndcg_at_k",
    "precision_at_k",
    "ranking_report",
    "recall_at_k",
    "rmse",
    "top_k_indices",
]

PADDING = -1

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class MetricInputError(DataError, ValueError):
    """The arrays given to a metric are empty, mis-shaped or inconsistent.

    A ``ValueError`` for numeric callers and a :class:`~movierec.errors.DataError` so the
    CLI reports it as a user-facing message rather than a traceback.
    """


# --------------------------------------------------------------------------- rating error


def rmse(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    r"""Root mean squared error, :math:`\sqrt{\frac{1}{n}\sum_{j=1}^{n}(y_j - \hat y_j)^2}`."""
    err = _rating_errors(y_true, y_pred)
    return float(np.sqrt(np.mean(np.square(err))))


def mae(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    r"""Mean absolute error, :math:`\frac{1}{n}\sum_{j=1}^{n}\lvert y_j - \hat y_j\rvert`."""
    err = _rating_errors(y_true, y_pred)
    return float(np.mean(np.abs(err)))


def _rating_errors(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> FloatArray:
    true = np.asarray(y_true, dtype=np.float64)
    pred = np.asarray(y_pred, dtype=np.float64)
    if true.shape != pred.shape:
        raise MetricInputError(
            f"y_true and y_pred must have the same shape, got {true.shape} and {pred.shape}"
        )
    if true.size == 0:
        raise MetricInputError("cannot compute a rating error over zero predictions")
    if not (np.all(np.isfinite(true)) and np.all(np.isfinite(pred))):
        raise MetricInputError("y_true and y_pred must be finite (found NaN or infinity)")
    return (true - pred).ravel()


# --------------------------------------------------------------------------- top-k selection


def top_k_indices(
    scores: npt.ArrayLike, k: int, exclude: sp.spmatrix | sp.sparray | None = None
) -> IntArray:
    """Indices of the ``k`` highest-scoring items of each row, best first.

    Ties are broken by the lower item index, so the result is deterministic.  Items whose
    entry in ``exclude`` is nonzero (e.g. already rated in training) and items scored
    ``-inf`` are never returned; a row with fewer than ``k`` such candidates is padded
    with ``-1``.

    Cost is one ``np.partition`` and a few elementwise passes over ``scores`` plus a sort
    of ``k`` entries per row, instead of a full sort of every row.

    Args:
        scores: float array of shape ``(n_users, n_items)``; NaN is rejected.
        k: number of items to return per row, ``k >= 1``.
        exclude: optional sparse matrix of the same shape as ``scores``.

    Returns:
        int64 array of shape ``(n_users, k)``.
    """
    k = _check_k(k)
    s = np.array(scores, dtype=np.float64)  # a copy: exclusions are written into it
    if s.ndim != 2:
        raise MetricInputError(
            f"scores must be a 2-D array (n_users, n_items), got {s.ndim} dimension(s); "
            "wrap a single user's scores as scores[None, :]"
        )
    if np.isnan(s).any():
        raise MetricInputError("scores contain NaN; score unrankable items -inf instead")
    if exclude is not None:
        if not sp.issparse(exclude):
            raise MetricInputError(
                f"exclude must be a scipy sparse matrix, got {type(exclude).__name__}"
            )
        if exclude.shape != s.shape:
            raise MetricInputError(
                f"exclude has shape {exclude.shape} but scores have shape {s.shape}"
            )
        rows, cols = exclude.nonzero()
        s[rows, cols] = -np.inf

    n_users, n_items = s.shape
    take = min(k, n_items)
    out = np.full((n_users, k), PADDING, dtype=np.int64)
    if n_users == 0 or take == 0:
        return out

    # t = the take-th largest score of each row.  Every item above t belongs to the top
    # set; of the items equal to t, the lowest indices fill the remaining places.
    # (argpartition alone would pick an arbitrary subset of the tied items.)
    t = np.partition(s, n_items - take, axis=1)[:, n_items - take, None]
    above = s > t
    tied = s == t
    places_for_ties = take - above.sum(axis=1, keepdims=True)
    chosen = above | (tied & (np.cumsum(tied, axis=1) <= places_for_ties))

    # np.nonzero walks row-major, so each row's `take` picks arrive in ascending item
    # order; a stable sort on descending score then leaves ties in index order.
    picked = np.nonzero(chosen)[1].reshape(n_users, take)
    picked_scores = np.take_along_axis(s, picked, axis=1)
    order = np.argsort(-picked_scores, axis=1, kind="stable")
    picked = np.take_along_axis(picked, order, axis=1)
    picked_scores = np.take_along_axis(picked_scores, order, axis=1)
    picked[picked_scores == -np.inf] = PADDING
    out[:, :take] = picked
    return out


# --------------------------------------------------------------------------- ranking quality


def precision_at_k(recommended: npt.ArrayLike, relevant: Any, k: int) -> float:
    r"""Mean precision at k, :math:`P@k_u = \frac{1}{k}\sum_{i=1}^{k} rel_i`.

    Divides by ``k`` even when fewer than ``k`` items were recommended (padding), as the
    Microsoft Recommenders benchmark does, so short lists are penalised.
    """
    hits, _ = _hits(recommended, relevant, k)
    return float(np.mean(_precision(hits)))


def recall_at_k(recommended: npt.ArrayLike, relevant: Any, k: int) -> float:
    r"""Mean recall at k, :math:`R@k_u = \frac{1}{R_u}\sum_{i=1}^{k} rel_i`."""
    hits, n_relevant = _hits(recommended, relevant, k)
    return float(np.mean(_recall(hits, n_relevant)))


def ndcg_at_k(recommended: npt.ArrayLike, relevant: Any, k: int) -> float:
    r"""Mean normalised discounted cumulative gain at k with binary relevance.

    .. math::
        DCG@k_u = \sum_{i=1}^{k} \frac{rel_i}{\log_2(i + 1)}, \qquad
        IDCG@k_u = \sum_{i=1}^{\min(R_u, k)} \frac{1}{\log_2(i + 1)}, \qquad
        nDCG@k_u = DCG@k_u / IDCG@k_u
    """
    hits, n_relevant = _hits(recommended, relevant, k)
    return float(np.mean(_ndcg(hits, n_relevant)))


def map_at_k(recommended: npt.ArrayLike, relevant: Any, k: int) -> float:
    r"""Mean average precision at k (Microsoft Recommenders' and Spark's ``map_at_k``).

    .. math::
        AP@k_u = \frac{1}{\min(R_u, k)} \sum_{i=1}^{k} P@i_u \cdot rel_i, \qquad
        P@i_u = \frac{1}{i}\sum_{j=1}^{i} rel_j

    and MAP@k is the mean of :math:`AP@k_u` over users.
    """
    hits, n_relevant = _hits(recommended, relevant, k)
    return float(np.mean(_average_precision(hits, n_relevant)))


def map_by_relevant_at_k(recommended: npt.ArrayLike, relevant: Any, k: int) -> float:
    r"""Mean average precision at k normalised by all of a user's relevant items.

    .. math::
        AP^{R}@k_u = \frac{1}{R_u} \sum_{i=1}^{k} P@i_u \cdot rel_i

    Microsoft Recommenders' ``map`` (the "MAP" column of their MovieLens benchmark
    table); :func:`map_at_k` (their ``map_at_k``, Spark's MAP@k) divides by
    :math:`\min(R_u, k)` instead, so it is never smaller.
    """
    hits, n_relevant = _hits(recommended, relevant, k)
    return float(np.mean(_average_precision(hits, n_relevant, by_all_relevant=True)))


def hit_rate_at_k(recommended: npt.ArrayLike, relevant: Any, k: int) -> float:
    r"""Share of users with at least one relevant item in their top k, :math:`\frac{1}{|U|}\sum_u [\sum_{i=1}^{k} rel_i > 0]`."""
    hits, _ = _hits(recommended, relevant, k)
    return float(np.mean(hits.any(axis=1)))


# --------------------------------------------------------------------------- beyond accuracy


def catalogue_coverage(recommended: npt.ArrayLike, n_items: int) -> float:
    r"""Catalogue coverage, :math:`|\bigcup_u L_u| / n_{items}`.

    :math:`L_u` is the set of items in user u's list (padding ignored).  Every row of
    ``recommended`` counts, whether or not the user has relevant test items.
    """
    if isinstance(n_items, bool) or not isinstance(n_items, (int, np.integer)) or n_items < 1:
        raise MetricInputError(f"n_items must be a positive integer, got {n_items!r}")
    rec = _check_recommended(recommended, int(n_items))
    return float(np.unique(rec[rec != PADDING]).size / n_items)


def mean_popularity(recommended: npt.ArrayLike, item_popularity: npt.ArrayLike) -> float:
    r"""Mean popularity of the recommended items, :math:`\frac{1}{|S|}\sum_{(u, i) \in S} pop(L_{u,i})`.

    ``S`` is every non-padding slot of ``recommended`` (all rows count), and ``pop`` is e.g.
    each item's number of training interactions: a high value means the model leans on
    blockbusters.
    """
    popularity = np.asarray(item_popularity, dtype=np.float64)
    if popularity.ndim != 1 or popularity.size == 0:
        raise MetricInputError(
            f"item_popularity must be a non-empty 1-D array, got shape {popularity.shape}"
        )
    rec = _check_recommended(recommended, popularity.size)
    items = rec[rec != PADDING]
    if items.size == 0:
        raise MetricInputError("no item was recommended (every slot is -1 padding)")
    return float(np.mean(popularity[items]))


def ranking_report(
    recommended: npt.ArrayLike, relevant: Any, k: int, item_popularity: npt.ArrayLike
) -> dict[str, float]:
    r"""All ranking metrics at once, sharing one hit computation.

    Keys: ``precision@k``, ``recall@k``, ``ndcg@k``, ``map@k`` (AP divided by
    :math:`\min(R_u, k)`), ``map_by_relevant@k`` (divided by :math:`R_u`), ``hit_rate@k`` (with the
    value of ``k`` spelled out, e.g. ``ndcg@10``), ``coverage`` and ``mean_popularity``.
    Coverage and popularity are computed over the first ``k`` columns of every row.
    """
    hits, n_relevant = _hits(recommended, relevant, k)
    top = _check_recommended(recommended, relevant.shape[1])[:, :k]
    return {
        f"precision@{k}": float(np.mean(_precision(hits))),
        f"recall@{k}": float(np.mean(_recall(hits, n_relevant))),
        f"ndcg@{k}": float(np.mean(_ndcg(hits, n_relevant))),
        f"map@{k}": float(np.mean(_average_precision(hits, n_relevant))),
        f"map_by_relevant@{k}": float(np.mean(_average_precision(hits, n_relevant, by_all_relevant=True))),
        f"hit_rate@{k}": float(np.mean(hits.any(axis=1))),
        "coverage": catalogue_coverage(top, relevant.shape[1]),
        "mean_popularity": mean_popularity(top, item_popularity),
    }


# --------------------------------------------------------------------------- per-user kernels
# Each takes the (n_eval_users, k) hit matrix of the users that have relevant items and
# returns one value per user.


def _precision(hits: BoolArray) -> FloatArray:
    return hits.sum(axis=1) / hits.shape[1]


def _recall(hits: BoolArray, n_relevant: IntArray) -> FloatArray:
    return hits.sum(axis=1) / n_relevant


def _ndcg(hits: BoolArray, n_relevant: IntArray) -> FloatArray:
    k = hits.shape[1]
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = hits @ discounts
    idcg = np.cumsum(discounts)[np.minimum(n_relevant, k) - 1]
    return dcg / idcg


def _average_precision(hits: BoolArray, n_relevant: IntArray, *, by_all_relevant: bool = False) -> FloatArray:
    k = hits.shape[1]
    precision_at_i = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    return (precision_at_i * hits).sum(axis=1) / (n_relevant if by_all_relevant else np.minimum(n_relevant, k))


# --------------------------------------------------------------------------- input checks


def _hits(recommended: npt.ArrayLike, relevant: Any, k: int) -> tuple[BoolArray, IntArray]:
    """Validate the inputs; return the hit matrix and relevant counts of evaluable users.

    ``hits[u, i]`` is True when the item at rank ``i + 1`` of user ``u`` is relevant.
    Rows of users without relevant items are dropped.
    """
    k = _check_k(k)
    rel = _check_relevant(relevant)
    n_users, n_items = rel.shape
    rec = _check_recommended(recommended, n_items)
    if rec.shape[0] != n_users:
        raise MetricInputError(
            f"recommended has {rec.shape[0]} rows but relevant has {n_users}; "
            "row u of both must describe the same user"
        )
    top = np.full((n_users, k), PADDING, dtype=np.int64)
    width = min(k, rec.shape[1])
    top[:, :width] = rec[:, :width]

    # Look each (user, item) pair up among the nonzeros of `rel`, encoded as the flat
    # index user * n_items + item.  A canonical CSR matrix lists them in ascending order,
    # so one searchsorted answers every lookup without a loop over users.
    n_relevant = np.diff(rel.indptr).astype(np.int64)
    evaluable = n_relevant > 0
    if not evaluable.any():
        raise MetricInputError(
            "no user has a relevant item, so ranking metrics are undefined; "
            "check that the test split is not empty and its rows match the recommendations"
        )
    relevant_keys = np.repeat(np.arange(n_users, dtype=np.int64), n_relevant) * n_items
    relevant_keys += rel.indices
    query = np.arange(n_users, dtype=np.int64)[:, None] * n_items + top
    pos = np.minimum(np.searchsorted(relevant_keys, query), relevant_keys.size - 1)
    # Padding is masked explicitly: its key u * n_items - 1 is the previous user's last item.
    hits = (top != PADDING) & (relevant_keys[pos] == query)
    return hits[evaluable], n_relevant[evaluable]


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise MetricInputError(f"k must be a positive integer, got {k!r}")
    return int(k)


def _check_relevant(relevant: Any) -> sp.csr_matrix:
    if not sp.issparse(relevant) or relevant.ndim != 2:
        raise MetricInputError(
            "relevant must be a 2-D scipy sparse matrix (n_users, n_items), "
            f"got {type(relevant).__name__}"
        )
    rel = sp.csr_matrix(relevant, copy=True)
    # Canonical form (sorted, no duplicates, no stored zeros) is what _hits relies on.
    rel.sum_duplicates()
    rel.eliminate_zeros()
    return rel


def _check_recommended(recommended: npt.ArrayLike, n_items: int) -> IntArray:
    rec = np.asarray(recommended)
    if rec.ndim != 2:
        raise MetricInputError(
            f"recommended must be a 2-D array (n_users, k) of item indices, got shape {rec.shape}"
        )
    if rec.size and not np.issubdtype(rec.dtype, np.integer):
        raise MetricInputError(f"recommended must hold integer item indices, got dtype {rec.dtype}")
    rec = rec.astype(np.int64, copy=False)
    if rec.size and (rec.min() < PADDING or rec.max() >= n_items):
        raise MetricInputError(
            f"recommended holds item indices outside [0, {n_items}) other than the -1 padding"
        )
    # A repeated item would be counted as two hits; rankers never produce one.
    ordered = np.sort(rec, axis=1)
    if np.any((ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] != PADDING)):
        raise MetricInputError("recommended lists an item more than once in the same row")
    return rec
