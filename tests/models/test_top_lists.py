"""EASE (pruned or dense) answers its heaviest users from lists ranked at training: the same items,
scores and order as scoring them in full, for any top_n the API allows and with excludes."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.errors import ArtifactError
from movierec.models.base import TrainingData
from movierec.models.ease import EASE, TOP_LIST_LENGTH, heavy_users
from movierec.models.scoring import ItemItemScorer, SparseItemItemScorer, scorer_for
from movierec.models.top_lists import KEYS, TopLists
from movierec.serving.http import MAX_TOP_N


@pytest.fixture(scope="module")
def scorers(small_data: TrainingData) -> tuple[SparseItemItemScorer, SparseItemItemScorer, int]:
    """(with lists for the users above the median work, the same artifact without lists, that median)."""
    plain = EASE(l2=300.0, keep=40).fit(small_data)
    without = scorer_for(plain.kind, {k: v for k, v in plain.arrays.items() if k not in KEYS})
    assert isinstance(without, SparseItemItemScorer) and without.top_lists is None
    work = np.array([np.diff(without.indptr)[without.seen(u).astype(np.intp)].sum() for u in range(without.n_users)])
    median = int(np.median(work))
    artifact = EASE(l2=300.0, keep=40, heavy_user_weights=median).fit(small_data)
    listed = scorer_for(artifact.kind, artifact.arrays)
    assert isinstance(listed, SparseItemItemScorer) and listed.top_lists is not None
    assert artifact.params["top_lists"] == {"users": int(np.sum(work > median)), "above_weights": median,
                                            "length": TOP_LIST_LENGTH}
    return listed, without, median


def test_the_lists_are_for_exactly_the_users_above_the_budget(scorers) -> None:
    listed, without, median = scorers
    assert listed.top_lists is not None
    heavy = heavy_users(without, median)
    assert 0 < len(heavy) < without.n_users
    np.testing.assert_array_equal(listed.top_lists.users, heavy)
    assert all(listed.top_lists.top(int(u), MAX_TOP_N) is not None for u in heavy)  # the lists answer


@pytest.mark.parametrize("n", [1, 10, MAX_TOP_N])
def test_every_user_gets_what_full_scoring_gives(scorers, n: int) -> None:
    listed, without, _ = scorers
    for raw in listed.user_ids:
        got, expected = listed.recommend(int(raw), n), without.recommend(int(raw), n)
        np.testing.assert_array_equal(got.item_ids, expected.item_ids)
        np.testing.assert_array_equal(got.scores, expected.scores)
        assert got.fallback is None


def test_excludes_are_honoured_from_the_list_and_beyond_it(scorers) -> None:
    listed, without, _ = scorers
    assert listed.top_lists is not None
    user = int(listed.top_lists.users[0])
    raw = int(listed.user_ids[user])
    best = without.recommend(raw, TOP_LIST_LENGTH).item_ids
    for exclude in (best[:3], best[:95], best):  # the list answers; then it cannot, and full scoring does
        got, expected = listed.recommend(raw, 10, exclude=exclude), without.recommend(raw, 10, exclude=exclude)
        np.testing.assert_array_equal(got.item_ids, expected.item_ids)
        np.testing.assert_array_equal(got.scores, expected.scores)
        assert not set(got.item_ids) & set(exclude)


def test_the_lists_cover_the_apis_largest_top_n() -> None:
    assert TOP_LIST_LENGTH >= MAX_TOP_N


def lists(**overrides) -> dict[str, np.ndarray]:
    arrays = {
        "top_users": np.array([1, 4]),
        "top_indptr": np.array([0, 3, 8]),
        "top_items": np.array([7, 2, 5, 0, 1, 2, 3, 4], dtype=np.uint16),
        "top_scores": np.array([0.9, 0.5, 0.1, 0.9, 0.8, 0.7, 0.6, 0.5]),
        "top_length": np.array(5),
    }
    return {**arrays, **overrides}


def test_a_short_list_is_complete_and_a_full_one_answers_up_to_its_length() -> None:
    top = TopLists.of(lists(), n_users=5, n_items=8)
    assert top is not None
    items, scores = top.top(1, 10)  # 3 < length 5: every rankable movie of user 1
    assert items.tolist() == [7, 2, 5] and scores.tolist() == [0.9, 0.5, 0.1]
    assert top.top(4, 5)[0].tolist() == [0, 1, 2, 3, 4]
    assert top.top(4, 6) is None  # beyond a full list: scored in full
    assert top.top(4, 4, blocked=np.array([1]))[0].tolist() == [0, 2, 3, 4]
    assert top.top(4, 5, blocked=np.array([1])) is None
    assert top.top(2, 3) is None  # no list
    assert TopLists.of({}, n_users=5, n_items=8) is None  # an artifact without lists


@pytest.mark.parametrize(
    "overrides",
    [
        {"top_users": np.array([4, 1])},  # unsorted
        {"top_users": np.array([1, 5])},  # beyond the users
        {"top_indptr": np.array([0, 3, 7])},  # does not end at the items
        {"top_indptr": np.array([0, 9, 8])},  # a negative length
        {"top_items": np.array([7, 2, 5, 0, 1, 2, 3, 8], dtype=np.uint16)},  # beyond the items
        {"top_scores": np.zeros(7)},  # not one per item
    ],
)
def test_damaged_lists_are_refused(overrides) -> None:
    with pytest.raises(ArtifactError):
        TopLists.of(lists(**overrides), n_users=5, n_items=8)


def test_partial_lists_are_refused() -> None:
    partial = lists()
    del partial["top_scores"]
    with pytest.raises(ArtifactError, match="top lists need all"):
        TopLists.of(partial, n_users=5, n_items=8)


def test_a_dense_ease_lists_its_heavy_users_and_answers_them_as_full_scoring(small_data: TrainingData) -> None:
    plain = EASE(l2=300.0).fit(small_data)
    assert plain.kind == "item_item"
    without = scorer_for(plain.kind, {k: v for k, v in plain.arrays.items() if k not in KEYS})
    assert isinstance(without, ItemItemScorer) and without.top_lists is None
    work = np.diff(without.seen_indptr) * without.n_items  # a dense row is the whole catalogue
    median = int(np.median(work))
    artifact = EASE(l2=300.0, heavy_user_weights=median).fit(small_data)
    listed = scorer_for(artifact.kind, artifact.arrays)
    assert listed.top_lists is not None
    np.testing.assert_array_equal(listed.top_lists.users, np.flatnonzero(work > median))
    assert 0 < len(listed.top_lists.users) < listed.n_users
    assert artifact.params["top_lists"]["users"] == len(listed.top_lists.users)
    assert all(listed.top_lists.top(int(u), MAX_TOP_N) is not None for u in listed.top_lists.users)  # used
    for raw in listed.user_ids:
        for n in (10, MAX_TOP_N):
            got, expected = listed.recommend(int(raw), n), without.recommend(int(raw), n)
            np.testing.assert_array_equal(got.item_ids, expected.item_ids)
            np.testing.assert_array_equal(got.scores, expected.scores)
    raw = int(listed.user_ids[listed.top_lists.users[0]])
    best = without.recommend(raw, TOP_LIST_LENGTH).item_ids
    for exclude in (best[:3], best):  # answered from the list; then scored in full
        got, expected = listed.recommend(raw, 10, exclude=exclude), without.recommend(raw, 10, exclude=exclude)
        np.testing.assert_array_equal(got.item_ids, expected.item_ids)
        assert not set(got.item_ids) & set(exclude)
