"""Tests of movierec.evaluation.metrics: hand-worked cases, per-user reference loops, Surprise."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from surprise import SVD, Dataset, Reader, accuracy
from surprise.model_selection import train_test_split

from movierec.errors import DataError
from movierec.evaluation.metrics import (
    MetricInputError,
    catalogue_coverage,
    hit_rate_at_k,
    mae,
    map_at_k,
    map_by_relevant_at_k,
    mean_popularity,
    ndcg_at_k,
    precision_at_k,
    ranking_report,
    recall_at_k,
    rmse,
    top_k_indices,
)

# --------------------------------------------------------------------------- a worked example
#
# 5 users, 8 items, k = 3.  "hits" marks which of the 3 ranks are relevant.
#
#   user  recommended   relevant      hits     P@3   R@3   nDCG@3          AP@3
#   0     [0, 1, 2]     {1, 4}        0 1 0    1/3   1/2   see below       (1/2)/min(2,3) = 1/4
#   1     [3, 5, -1]    {3}           1 0 0    1/3   1     1               1/1 = 1
#   2     [0, 1, 2]     {}            excluded: no relevant item
#   3     [2, 4, 5]     {0, 2, 4, 5}  1 1 1    1     3/4   1               (1+1+1)/3 = 1
#   4     [5, 4, 3]     {0}           0 0 0    0     0     0               0
#
# nDCG user 0: DCG = 1/log2(3); IDCG over min(2, 3) = 2 ideal hits = 1 + 1/log2(3);
#   ratio = 1 / (log2(3) + 1) = 1 / log2(6) ≈ 0.386853.
# User 1 pads its list with -1 and is still divided by k = 3 for precision.
#
# Averages over the 4 users with relevant items:
#   precision@3 = (1/3 + 1/3 + 1 + 0) / 4 = 5/12
#   recall@3    = (1/2 + 1 + 3/4 + 0) / 4 = 9/16
#   ndcg@3      = (1/log2(6) + 1 + 1 + 0) / 4
#   map@3       = (1/4 + 1 + 1 + 0) / 4 = 9/16
#   hit_rate@3  = 3/4
# Coverage counts every row (user 2 too): items {0,1,2,3,4,5} of 8 -> 6/8.
# Popularity of item i is 10 * (i + 1); the 14 non-padding slots sum to
#   (10+20+30) + (40+60) + (10+20+30) + (30+50+60) + (60+50+40) = 510 -> 510/14.

RECOMMENDED = np.array(
    [[0, 1, 2], [3, 5, -1], [0, 1, 2], [2, 4, 5], [5, 4, 3]],
    dtype=np.int64,
)
N_ITEMS = 8
RELEVANT_SETS = [{1, 4}, {3}, set(), {0, 2, 4, 5}, {0}]
POPULARITY = 10.0 * np.arange(1, N_ITEMS + 1)


def relevance_matrix(sets: list[set[int]], n_items: int) -> sp.csr_matrix:
    rows = [u for u, items in enumerate(sets) for _ in items]
    cols = [i for items in sets for i in sorted(items)]
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(sets), n_items))


RELEVANT = relevance_matrix(RELEVANT_SETS, N_ITEMS)


def test_worked_example_each_metric() -> None:
    assert precision_at_k(RECOMMENDED, RELEVANT, 3) == pytest.approx(5 / 12)
    assert recall_at_k(RECOMMENDED, RELEVANT, 3) == pytest.approx(9 / 16)
    assert ndcg_at_k(RECOMMENDED, RELEVANT, 3) == pytest.approx((1 / math.log2(6) + 2) / 4)
    assert map_at_k(RECOMMENDED, RELEVANT, 3) == pytest.approx(9 / 16)
    assert hit_rate_at_k(RECOMMENDED, RELEVANT, 3) == pytest.approx(3 / 4)
    assert catalogue_coverage(RECOMMENDED, N_ITEMS) == pytest.approx(6 / 8)
    assert mean_popularity(RECOMMENDED, POPULARITY) == pytest.approx(510 / 14)


def test_worked_example_report() -> None:
    report = ranking_report(RECOMMENDED, RELEVANT, 3, POPULARITY)
    assert report == pytest.approx(
        {
            "precision@3": 5 / 12,
            "recall@3": 9 / 16,
            "ndcg@3": (1 / math.log2(6) + 2) / 4,
            "map@3": 9 / 16,
            # divided by R_u instead of min(R_u, 3): user 3 (R = 4, 3 hits) 3/4 -> (1/4 + 1 + 3/4 + 0) / 4
            "map_by_relevant@3": 1 / 2,
            "hit_rate@3": 3 / 4,
            "coverage": 6 / 8,
            "mean_popularity": 510 / 14,
        }
    )
    assert all(type(v) is float for v in report.values())


def test_k_smaller_than_list_uses_only_the_first_k_ranks() -> None:
    # k = 1: first items 0, 3, 2, 5 for users 0, 1, 3, 4 -> hits 0, 1, 1, 0.
    #   precision@1 = 2/4; recall@1 = (0 + 1 + 1/4 + 0)/4 = 5/16;
    #   nDCG@1 = AP@1 = hit (IDCG over min(R, 1) = 1 ideal hit) -> 2/4.
    # Report coverage also looks at the first column only: items {0, 3, 2, 5} -> 4/8,
    # popularity (10 + 40 + 10 + 30 + 60) / 5 = 30.
    report = ranking_report(RECOMMENDED, RELEVANT, 1, POPULARITY)
    assert report == pytest.approx(
        {
            "precision@1": 1 / 2,
            "recall@1": 5 / 16,
            "ndcg@1": 1 / 2,
            "map@1": 1 / 2,
            "map_by_relevant@1": 5 / 16,  # = recall@1 at k = 1
            "hit_rate@1": 1 / 2,
            "coverage": 4 / 8,
            "mean_popularity": 30.0,
        }
    )


def test_average_precision_depends_on_rank_of_hits() -> None:
    # rel = {0, 2}, list [0, 1, 2]: hits 1 0 1 -> (P@1 + P@3) / 2 = (1 + 2/3) / 2 = 5/6.
    # list [1, 0, 2]: hits 0 1 1 -> (P@2 + P@3) / 2 = (1/2 + 2/3) / 2 = 7/12.
    relevant = relevance_matrix([{0, 2}], 3)
    assert map_at_k(np.array([[0, 1, 2]]), relevant, 3) == pytest.approx(5 / 6)
    assert map_at_k(np.array([[1, 0, 2]]), relevant, 3) == pytest.approx(7 / 12)
    # nDCG of the same lists: (1 + 1/2) / (1 + 1/log2 3) and (1/log2 3 + 1/2) / (1 + 1/log2 3).
    idcg = 1 + 1 / math.log2(3)
    assert ndcg_at_k(np.array([[0, 1, 2]]), relevant, 3) == pytest.approx(1.5 / idcg)
    assert ndcg_at_k(np.array([[1, 0, 2]]), relevant, 3) == pytest.approx(
        (1 / math.log2(3) + 0.5) / idcg
    )


def test_map_divides_by_k_when_more_items_are_relevant_than_k() -> None:
    # rel = {0..4} (5 items), k = 2, list [0, 9]: hits 1 0 -> P@1 / min(5, 2) = 1/2.
    # Recall divides by all 5: 1/5.  nDCG: 1 / (1 + 1/log2 3).
    relevant = relevance_matrix([{0, 1, 2, 3, 4}], 10)
    recommended = np.array([[0, 9]])
    assert map_at_k(recommended, relevant, 2) == pytest.approx(1 / 2)
    assert recall_at_k(recommended, relevant, 2) == pytest.approx(1 / 5)
    assert ndcg_at_k(recommended, relevant, 2) == pytest.approx(1 / (1 + 1 / math.log2(3)))
    # Microsoft Recommenders' `map` (their benchmark's MAP) divides by all 5 relevant: 1/5.
    assert map_by_relevant_at_k(recommended, relevant, 2) == pytest.approx(1 / 5)


def test_both_maps_agree_when_no_user_has_more_relevant_items_than_k() -> None:
    relevant = relevance_matrix([{0, 2}, {1}], 5)
    recommended = np.array([[0, 1, 2], [3, 1, 4]])
    assert map_by_relevant_at_k(recommended, relevant, 3) == pytest.approx(map_at_k(recommended, relevant, 3))
    report = ranking_report(recommended, relevant, 3, np.ones(5))
    assert report["map@3"] == report["map_by_relevant@3"] == pytest.approx((5 / 6 + 1 / 2) / 2)


def test_k_larger_than_list_counts_missing_ranks_as_padding() -> None:
    # One user, one recommended item which is relevant, k = 5:
    # P@5 = 1/5 (divide by k), R@5 = 1, nDCG@5 = 1 (IDCG over min(1, 5) = 1), AP@5 = 1.
    recommended = np.array([[0, -1, -1]])
    relevant = relevance_matrix([{0}], 4)
    assert precision_at_k(recommended, relevant, 5) == pytest.approx(1 / 5)
    assert recall_at_k(recommended, relevant, 5) == pytest.approx(1.0)
    assert ndcg_at_k(recommended, relevant, 5) == pytest.approx(1.0)
    assert map_at_k(recommended, relevant, 5) == pytest.approx(1.0)
    assert hit_rate_at_k(recommended, relevant, 5) == pytest.approx(1.0)


def test_padding_is_never_a_hit_even_next_to_a_relevant_key() -> None:
    # User 1's padding (-1) must not match user 0's last item (index n_items - 1).
    recommended = np.array([[3, -1], [-1, -1]])
    relevant = relevance_matrix([{3}, {0}], 4)
    # User 0: hit at rank 1 -> P = 1/2; user 1: nothing -> 0.  Mean 1/4.
    assert precision_at_k(recommended, relevant, 2) == pytest.approx(1 / 4)
    assert hit_rate_at_k(recommended, relevant, 2) == pytest.approx(1 / 2)


def test_users_without_relevant_items_do_not_change_the_averages() -> None:
    without_user_2 = [0, 1, 3, 4]
    for metric in (precision_at_k, recall_at_k, ndcg_at_k, map_at_k, hit_rate_at_k):
        assert metric(RECOMMENDED, RELEVANT, 3) == pytest.approx(
            metric(RECOMMENDED[without_user_2], RELEVANT[without_user_2], 3)
        )


def test_stored_zeros_and_duplicates_in_relevant_are_handled() -> None:
    # A stored 0 is not relevant; duplicate entries count once.
    relevant = sp.csr_matrix(
        (np.array([0.0, 1.0, 1.0, 1.0]), np.array([0, 1, 1, 2]), np.array([0, 4])),
        shape=(1, 3),
    )
    recommended = np.array([[0, 1, 2]])
    # Relevant = {1, 2}: hits 0 1 1, R@3 = 2/2, P@3 = 2/3, AP = (1/2 + 2/3) / 2 = 7/12.
    assert recall_at_k(recommended, relevant, 3) == pytest.approx(1.0)
    assert precision_at_k(recommended, relevant, 3) == pytest.approx(2 / 3)
    assert map_at_k(recommended, relevant, 3) == pytest.approx(7 / 12)


def test_sparse_array_type_is_accepted() -> None:
    assert precision_at_k(RECOMMENDED, sp.csr_array(RELEVANT), 3) == pytest.approx(5 / 12)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "metric", [precision_at_k, recall_at_k, ndcg_at_k, map_at_k, hit_rate_at_k]
)
def test_no_user_with_relevant_items_is_an_error(metric) -> None:
    empty = sp.csr_matrix((2, 4))
    with pytest.raises(MetricInputError, match="no user has a relevant item"):
        metric(np.array([[0, 1], [2, 3]]), empty, 2)


@pytest.mark.parametrize(
    ("recommended", "relevant", "k", "message"),
    [
        (np.array([[0, 1]]), RELEVANT, 2, "1 rows but relevant has 5"),
        (RECOMMENDED, RELEVANT.toarray(), 3, "scipy sparse"),
        (RECOMMENDED + 5, RELEVANT, 3, r"outside \[0, 8\)"),
        (RECOMMENDED - 2, RELEVANT, 3, r"outside \[0, 8\)"),
        (RECOMMENDED.astype(float), RELEVANT, 3, "integer item indices"),
        (RECOMMENDED[0], RELEVANT, 3, "2-D array"),
        (np.array([[1, 1, 2]] * 5), RELEVANT, 3, "more than once"),
        (RECOMMENDED, RELEVANT, 0, "k must be a positive integer"),
        (RECOMMENDED, RELEVANT, 2.0, "k must be a positive integer"),
    ],
)
def test_ranking_input_errors(recommended, relevant, k, message) -> None:
    with pytest.raises(MetricInputError, match=message):
        precision_at_k(recommended, relevant, k)


def test_input_error_is_both_value_error_and_data_error() -> None:
    with pytest.raises(ValueError):
        rmse([], [])
    with pytest.raises(DataError):
        rmse([], [])


def test_coverage_and_popularity_input_errors() -> None:
    with pytest.raises(MetricInputError, match="n_items must be a positive integer"):
        catalogue_coverage(RECOMMENDED, 0)
    with pytest.raises(MetricInputError, match=r"outside \[0, 4\)"):
        catalogue_coverage(RECOMMENDED, 4)
    with pytest.raises(MetricInputError, match="every slot is -1 padding"):
        mean_popularity(np.full((2, 3), -1), POPULARITY)
    with pytest.raises(MetricInputError, match="non-empty 1-D"):
        mean_popularity(RECOMMENDED, POPULARITY[None, :])


# --------------------------------------------------------------------------- rating error


def test_rmse_mae_hand_computed() -> None:
    # errors 1, -2, 0, 1: squares sum 6 -> sqrt(6/4); abs sum 4 -> 4/4.
    y_true = [4, 3, 5, 2]
    y_pred = [3, 5, 5, 1]
    assert rmse(y_true, y_pred) == pytest.approx(math.sqrt(1.5))
    assert mae(y_true, y_pred) == pytest.approx(1.0)


@pytest.mark.parametrize("metric", [rmse, mae])
def test_rating_error_input_errors(metric) -> None:
    with pytest.raises(MetricInputError, match="zero predictions"):
        metric([], [])
    with pytest.raises(MetricInputError, match="same shape"):
        metric([1, 2], [1, 2, 3])
    with pytest.raises(MetricInputError, match="finite"):
        metric([1.0, 2.0], [1.0, float("nan")])


def ml100k_dir() -> Path:
    """The MovieLens 100K folder: MOVIELENS_DIR (itself or its ml-100k child), else ../shared/data."""
    candidates = []
    if os.environ.get("MOVIELENS_DIR"):
        root = Path(os.environ["MOVIELENS_DIR"])
        candidates += [root, root / "ml-100k"]
    candidates.append(Path(__file__).resolve().parents[3] / "shared" / "data" / "ml-100k")
    for folder in candidates:
        if (folder / "u.data").is_file():
            return folder
    raise FileNotFoundError(
        f"MovieLens 100K not found in {[str(c) for c in candidates]}; set MOVIELENS_DIR"
    )


def test_rmse_mae_agree_with_surprise_on_a_real_svd_fit() -> None:
    ratings = pd.read_csv(
        ml100k_dir() / "u.data",
        sep="\t",
        names=["user", "item", "rating", "timestamp"],
        nrows=20_000,
    )
    data = Dataset.load_from_df(ratings[["user", "item", "rating"]], Reader(rating_scale=(1, 5)))
    trainset, testset = train_test_split(data, test_size=0.25, random_state=0)
    algo = SVD(n_epochs=10, random_state=0)
    algo.fit(trainset)
    predictions = algo.test(testset)

    y_true = np.array([p.r_ui for p in predictions])
    y_pred = np.array([p.est for p in predictions])
    assert len(predictions) == 5_000
    assert rmse(y_true, y_pred) == pytest.approx(
        accuracy.rmse(predictions, verbose=False), rel=1e-12
    )
    assert mae(y_true, y_pred) == pytest.approx(accuracy.mae(predictions, verbose=False), rel=1e-12)
    # A fitted SVD on MovieLens lands near its published ~0.93-1.0 RMSE, not at a constant.
    assert 0.8 < rmse(y_true, y_pred) < 1.2


# --------------------------------------------------------------------------- vectorised vs loop


def reference_per_user(
    recommended: np.ndarray, relevant_sets: list[set[int]], k: int
) -> dict[str, float]:
    """Textbook per-user definitions, one user at a time."""
    sums = {"precision": 0.0, "recall": 0.0, "ndcg": 0.0, "map": 0.0, "hit_rate": 0.0}
    n_users = 0
    for row, rel in zip(recommended, relevant_sets, strict=True):
        if not rel:
            continue
        n_users += 1
        ranked = [int(item) for item in row[:k]]
        hits = [item != -1 and item in rel for item in ranked]
        n_hits = sum(hits)
        sums["precision"] += n_hits / k
        sums["recall"] += n_hits / len(rel)
        dcg = sum(1 / math.log2(i + 2) for i, hit in enumerate(hits) if hit)
        idcg = sum(1 / math.log2(i + 2) for i in range(min(len(rel), k)))
        sums["ndcg"] += dcg / idcg
        ap, seen = 0.0, 0
        for i, hit in enumerate(hits):
            if hit:
                seen += 1
                ap += seen / (i + 1)
        sums["map"] += ap / min(len(rel), k)
        sums["hit_rate"] += n_hits > 0
    return {name: total / n_users for name, total in sums.items()}


def random_case(seed: int) -> tuple[np.ndarray, list[set[int]], int]:
    rng = np.random.default_rng(seed)
    n_users, n_items, width = 60, 40, 12
    recommended = np.stack([rng.permutation(n_items)[:width] for _ in range(n_users)])
    # Pad the tail of some rows, as a ranker does when it runs out of candidates.
    lengths = rng.integers(0, width + 1, size=n_users)
    recommended[np.arange(width) >= lengths[:, None]] = -1
    relevant_sets = [
        {int(i) for i in rng.choice(n_items, size=rng.integers(0, 15), replace=False)}
        for _ in range(n_users)
    ]
    relevant_sets[0] = {1}  # at least one evaluable user
    return recommended, relevant_sets, n_items


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("k", [1, 5, 12, 20])
def test_vectorised_metrics_match_per_user_loop(seed: int, k: int) -> None:
    recommended, relevant_sets, n_items = random_case(seed)
    relevant = relevance_matrix(relevant_sets, n_items)
    expected = reference_per_user(recommended, relevant_sets, k)
    assert precision_at_k(recommended, relevant, k) == pytest.approx(expected["precision"])
    assert recall_at_k(recommended, relevant, k) == pytest.approx(expected["recall"])
    assert ndcg_at_k(recommended, relevant, k) == pytest.approx(expected["ndcg"])
    assert map_at_k(recommended, relevant, k) == pytest.approx(expected["map"])
    assert hit_rate_at_k(recommended, relevant, k) == pytest.approx(expected["hit_rate"])


# --------------------------------------------------------------------------- top-k selection


def test_top_k_hand_computed() -> None:
    scores = np.array([[0.1, 0.5, 0.5, 0.9, -np.inf]])
    # Sorted: 3 (0.9), then the tie 1, 2 by index, then 0; item 4 (-inf) is no candidate.
    np.testing.assert_array_equal(top_k_indices(scores, 3), [[3, 1, 2]])
    np.testing.assert_array_equal(top_k_indices(scores, 6), [[3, 1, 2, 0, -1, -1]])
    exclude = sp.csr_matrix(([1.0], ([0], [3])), shape=(1, 5))
    np.testing.assert_array_equal(top_k_indices(scores, 3, exclude), [[1, 2, 0]])
    # A tie straddling the cut keeps the lowest indices.
    np.testing.assert_array_equal(top_k_indices(np.ones((2, 6)), 2), [[0, 1], [0, 1]])
    # The input is not modified by the exclusion.
    assert scores[0, 3] == 0.9


def reference_top_k(scores: np.ndarray, k: int, exclude: sp.csr_matrix | None) -> np.ndarray:
    s = scores.astype(float).copy()
    if exclude is not None:
        s[exclude.toarray() != 0] = -np.inf
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    ordered_scores = np.take_along_axis(s, order, axis=1)
    order[ordered_scores == -np.inf] = -1
    out = np.full((s.shape[0], k), -1)
    out[:, : order.shape[1]] = order
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 3, 10, 30, 45])
def test_top_k_matches_full_argsort(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    n_users, n_items = 50, 40
    # Few distinct values so that ties at the cut are common.
    scores = rng.integers(0, 6, size=(n_users, n_items)).astype(float)
    scores[rng.random(scores.shape) < 0.1] = -np.inf
    # Some users have almost everything excluded, leaving fewer than k candidates.
    exclude = sp.random(n_users, n_items, density=0.3, format="lil", random_state=seed)
    exclude[:5] = 1
    exclude[5, :] = 0
    exclude[5, : n_items - 2] = 1
    exclude = exclude.tocsr()
    result = top_k_indices(scores, k, exclude)
    assert result.shape == (n_users, k)
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, reference_top_k(scores, k, exclude))
    np.testing.assert_array_equal(top_k_indices(scores, k), reference_top_k(scores, k, None))


def test_top_k_at_movielens_100k_size_matches_full_argsort() -> None:
    rng = np.random.default_rng(7)
    scores = rng.standard_normal((943, 1682)).round(2)  # rounding creates ties
    seen = sp.random(943, 1682, density=0.063, format="csr", random_state=7)
    np.testing.assert_array_equal(
        top_k_indices(scores, 10, seen), reference_top_k(scores, 10, seen)
    )


def test_top_k_input_errors() -> None:
    with pytest.raises(MetricInputError, match="2-D array"):
        top_k_indices(np.ones(4), 2)
    with pytest.raises(MetricInputError, match="NaN"):
        top_k_indices(np.array([[1.0, np.nan]]), 1)
    with pytest.raises(MetricInputError, match="shape"):
        top_k_indices(np.ones((2, 3)), 1, sp.csr_matrix((2, 4)))
    with pytest.raises(MetricInputError, match="scipy sparse"):
        top_k_indices(np.ones((2, 3)), 1, np.zeros((2, 3)))
    with pytest.raises(MetricInputError, match="k must be a positive integer"):
        top_k_indices(np.ones((2, 3)), 0)
