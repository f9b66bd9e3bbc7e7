"""One contract every model must pass, through the numpy scorer built from its artifact."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.models.artifact import array_digest
from movierec.models.base import TrainingData
from movierec.models.ranked import mask_unrankable
from movierec.models.reasons import contributions, explain
from movierec.models.scoring import History, scorer_for
from movierec.selection.registry import make_trainer

MODELS = ["svd", "knn-basic", "knn-baseline", "ease", "ease-sparse", "ials", "popular"]


@pytest.fixture(scope="module", params=MODELS)
def fitted(request, small_data: TrainingData):
    artifact = make_trainer(request.param, seed=7).fit(small_data)
    return request.param, artifact, scorer_for(artifact.kind, artifact.arrays)


def test_vocabulary_is_sorted_raw_ids(fitted, small_data):
    _, _, scorer = fitted
    assert np.array_equal(scorer.user_ids, np.sort(small_data.ratings["user_id"].unique()))
    assert np.array_equal(scorer.item_ids, np.sort(small_data.ratings["item_id"].unique()))


def test_never_recommends_seen_items(fitted, small_data):
    _, _, scorer = fitted
    for user_id in (1, 13, 200):
        seen = set(small_data.ratings.loc[small_data.ratings["user_id"] == user_id, "item_id"])
        ranked = scorer.recommend(user_id, 50)
        assert ranked.fallback is None
        assert len(ranked.item_ids) == 50
        assert not seen & set(ranked.item_ids.tolist())


def test_scores_descend_and_are_finite(fitted):
    _, _, scorer = fitted
    ranked = scorer.recommend(5, 20)
    assert np.all(np.isfinite(ranked.scores))
    assert np.all(np.diff(ranked.scores) <= 0)


def test_unknown_user_gets_popular_fallback(fitted):
    _, _, scorer = fitted
    ranked = scorer.recommend(10_000_000, 10)
    assert ranked.fallback == "popular"
    popularity = dict(zip(scorer.item_ids.tolist(), scorer.item_popularity.tolist()))
    counts = [popularity[i] for i in ranked.item_ids.tolist()]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] == scorer.item_popularity.max()


def test_exclude_removes_extra_items(fitted):
    _, _, scorer = fitted
    first = scorer.recommend(3, 5)
    again = scorer.recommend(3, 5, exclude=first.item_ids[:2])
    assert not set(first.item_ids[:2].tolist()) & set(again.item_ids.tolist())
    assert again.item_ids[0] == first.item_ids[2]


def test_asking_for_more_than_the_catalogue_returns_what_is_left(fitted, small_data):
    _, _, scorer = fitted
    seen = (small_data.ratings["user_id"] == 1).sum()
    ranked = scorer.recommend(1, scorer.n_items + 10)
    assert len(ranked.item_ids) == scorer.n_items - seen


def test_same_seed_same_arrays(fitted, small_data):
    name, artifact, _ = fitted
    again = make_trainer(name, seed=7).fit(small_data)
    assert {k: array_digest(v) for k, v in artifact.arrays.items()} == {
        k: array_digest(v) for k, v in again.arrays.items()
    }


def test_batch_scores_match_single_user_scores(fitted):
    _, _, scorer = fitted
    users = np.array([0, 4, 9])
    batch = scorer.score(users)
    for row, user in enumerate(users):
        # EASE keeps float32 weights: a batched matmul may round differently in the last bits.
        np.testing.assert_allclose(batch[row], scorer.score(np.array([user]))[0], rtol=1e-5, atol=1e-6)


def test_single_user_top_n_agrees_with_the_batch_top_k():
    from movierec.evaluation.metrics import top_k_indices
    from movierec.models.ranked import top_n as _top_n

    rng = np.random.default_rng(3)
    for _ in range(20):
        scores = np.round(rng.normal(size=300), 1)  # many ties
        scores[rng.random(300) < 0.2] = -np.inf
        for n in (1, 10, 250, 400):
            batch = top_k_indices(scores[None, :], n)[0]
            np.testing.assert_array_equal(_top_n(scores, n), batch[batch >= 0])


# ---------------------------------------------------------------- reasons and what a score means
EXPLAINED = {"svd", "ease", "ease-sparse", "ials"}  # knn is user-based; popular knows nothing of the user


def test_every_scorer_says_what_its_score_means(fitted):
    _, _, scorer = fitted
    assert scorer.score_meaning
    assert scorer.score_meaning.startswith("predicted rating") == scorer.predicts_ratings


def test_the_artifact_keeps_each_users_ratings_and_times(fitted, small_data):
    _, _, scorer = fitted
    by_pair = small_data.ratings.set_index(["user_id", "item_id"])
    for user_id in (1, 13, 200):
        user = int(scorer.user_index(user_id)[0])
        lo, hi = scorer.seen_indptr[user], scorer.seen_indptr[user + 1]
        pairs = [(user_id, int(i)) for i in scorer.item_ids[scorer.seen(user)]]
        np.testing.assert_array_equal(scorer.seen_ratings[lo:hi], by_pair.loc[pairs, "rating"].to_numpy())
        np.testing.assert_array_equal(scorer.seen_times[lo:hi], by_pair.loc[pairs, "timestamp"].to_numpy())


def test_reasons_are_the_users_own_rated_items_heaviest_first(fitted, small_data):
    name, _, scorer = fitted
    for user_id in (1, 13, 200):
        rated = small_data.ratings[small_data.ratings["user_id"] == user_id].set_index("item_id")["rating"]
        ranked = scorer.recommend(user_id, 10)
        reasons = explain(scorer, user_id, ranked.item_ids)
        assert len(reasons) == 10
        if name not in EXPLAINED:
            assert all(r == () for r in reasons)
            continue
        assert any(reasons)
        for item_reasons in reasons:
            weights = [r.weight for r in item_reasons]
            assert len(item_reasons) <= 3 and all(w > 0 for w in weights) and weights == sorted(weights, reverse=True)
            for r in item_reasons:
                assert r.rating == rated[r.movie_id]  # a seen item, with the user's own rating


def test_unknown_users_and_movies_get_no_reasons(fitted):
    _, _, scorer = fitted
    assert explain(scorer, 10_000_000, scorer.item_ids[:3]) == [(), (), ()]
    assert explain(scorer, int(scorer.user_ids[0]), np.array([10_000_000])) == [()]


@pytest.mark.parametrize("name", ["ease", "ease-sparse"])
def test_item_item_contributions_add_up_to_the_score(name, small_data):
    """s_ui = sum_j B_ji over the seen items j: the reasons are the largest terms of the score."""
    artifact = make_trainer(name, seed=7).fit(small_data)
    scorer = scorer_for(artifact.kind, artifact.arrays)
    for user_id in (1, 13, 200):
        user = int(scorer.user_index(user_id)[0])
        items = scorer.item_index(scorer.recommend(user_id, 20).item_ids)
        weights = contributions(scorer, user, items)
        np.testing.assert_allclose(weights.sum(axis=1), scorer.score(np.array([user]))[0][items], rtol=1e-4, atol=1e-6)
        top = explain(scorer, user_id, scorer.item_ids[items[:1]])[0]
        assert top[0].weight == pytest.approx(weights[0].max())


def test_svd_reasons_are_the_nearest_liked_titles_in_factor_space(small_data):
    artifact = make_trainer("svd", seed=7).fit(small_data)
    scorer = scorer_for(artifact.kind, artifact.arrays)
    user_id = 13
    user = int(scorer.user_index(user_id)[0])
    seen, ratings = scorer.seen(user), scorer.seen_ratings[scorer.seen_indptr[user]:scorer.seen_indptr[user + 1]]
    item = scorer.recommend(user_id, 1).item_ids[0]
    q = scorer.qi[int(scorer.item_index(item)[0])]
    liked = seen[ratings >= ratings.mean()]
    cosine = scorer.qi[liked] @ q / (np.linalg.norm(scorer.qi[liked], axis=1) * np.linalg.norm(q))
    expected = scorer.item_ids[liked[np.argsort(-cosine, kind="stable")[:3]]]
    reasons = explain(scorer, user_id, np.array([item]))[0]
    assert [r.movie_id for r in reasons] == expected.tolist()
    assert all(r.rating >= ratings.mean() for r in reasons)


FOLDS_IN = {"svd", "ease", "ease-sparse", "ials"}  # the models that score any history


def test_unknown_user_with_a_history_is_ranked_for_it_without_its_items(fitted, small_data):
    name, _, scorer = fitted
    ratings = small_data.ratings[small_data.ratings["user_id"] == 13]
    history = History(ratings["item_id"].to_numpy()[:8], ratings["rating"].to_numpy()[:8].astype(float))
    ranked = scorer.recommend(10_000_000, 20, history=history)
    assert len(ranked.item_ids) == 20
    assert not set(history.item_ids.tolist()) & set(ranked.item_ids.tolist())
    assert ranked.fallback == (None if name in FOLDS_IN else "popular")
    if name in FOLDS_IN:
        assert np.all(np.diff(ranked.scores) <= 0) and np.all(np.isfinite(ranked.scores))
        assert ranked.item_ids.tolist() != scorer.recommend(10_000_000, 20, exclude=history.item_ids).item_ids.tolist()


def test_a_training_users_own_history_scores_like_the_trained_user(fitted, small_data):
    """EASE's x_u B is the same sum of rows; a fold-in solves the user's part of the training
    objective with the items fixed, so it lands near the vector training found (SGD and ALS
    stop short of the exact optimum: correlation, not equality)."""
    name, _, scorer = fitted
    if name not in FOLDS_IN:
        return
    for user_id in (1, 13, 200):
        user = int(scorer.user_index(user_id)[0])
        ratings = small_data.ratings[small_data.ratings["user_id"] == user_id]
        items = scorer.item_index(ratings["item_id"].to_numpy())
        order = np.argsort(items)
        folded = scorer.score_history(items[order], ratings["rating"].to_numpy()[order].astype(float))
        trained = scorer.score(np.array([user]))[0]
        if name.startswith("ease"):
            np.testing.assert_allclose(folded, trained, rtol=1e-5, atol=1e-6)
        else:
            assert np.corrcoef(folded, trained)[0, 1] > 0.85, (name, user_id)


def test_a_history_of_movies_outside_the_catalogue_gets_the_popular_list(fitted):
    _, _, scorer = fitted
    ranked = scorer.recommend(10_000_000, 5, history=History(np.array([10**9]), np.array([5.0])))
    assert ranked.fallback == "popular"
    assert ranked.item_ids.tolist() == scorer.popular(5).item_ids.tolist()


def test_unrankable_scores_become_minus_inf_and_finite_ones_stay() -> None:
    scores = np.array([1.0, np.nan, np.inf, -np.inf, 2.0])
    assert mask_unrankable(scores) is scores  # in place
    np.testing.assert_array_equal(scores, [1.0, -np.inf, -np.inf, -np.inf, 2.0])
    huge = np.array([1e308, 1e308, 3.0])  # the sum overflows; every value is finite
    np.testing.assert_array_equal(mask_unrankable(huge.copy()), huge)


def test_masking_an_overflowing_sum_writes_no_warning() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mask_unrankable(np.array([1e308, 1e308]))
        mask_unrankable(np.array([np.inf, -np.inf, 1.0]))
