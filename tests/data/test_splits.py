"""Splits: reproducible with a seed, disjoint and complete, with the promised proportions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movierec.data import MovieLens, kfold, random_split, stratified_split, temporal_split


def _assert_partition(ratings: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame) -> None:
    """train and test are disjoint, cover every row, and are the input's own rows in order."""
    assert train.index.intersection(test.index).empty
    assert len(train) + len(test) == len(ratings)
    rebuilt = pd.concat([train, test]).sort_index()
    pd.testing.assert_frame_equal(rebuilt, ratings)
    assert train.index.is_monotonic_increasing and test.index.is_monotonic_increasing


@pytest.fixture(scope="module")
def ratings(ml100k: MovieLens) -> pd.DataFrame:
    return ml100k.ratings


def test_random_split(ratings: pd.DataFrame) -> None:
    train, test = random_split(ratings, test_fraction=0.25, seed=42)

    _assert_partition(ratings, train, test)
    assert len(test) == 25_000
    again_train, again_test = random_split(ratings, test_fraction=0.25, seed=42)
    assert again_test.index.equals(test.index) and again_train.index.equals(train.index)
    _, other_test = random_split(ratings, test_fraction=0.25, seed=7)
    assert not other_test.index.equals(test.index)


@pytest.mark.parametrize(("by", "column"), [("item", "item_id"), ("user", "user_id")])
def test_stratified_split_keeps_the_ratio_in_every_group(
    ratings: pd.DataFrame, by: str, column: str
) -> None:
    train, test = stratified_split(ratings, by=by, ratio=0.75, seed=42)  # type: ignore[arg-type]

    _assert_partition(ratings, train, test)
    sizes = ratings[column].value_counts()
    in_train = train[column].value_counts().reindex(sizes.index, fill_value=0)
    np.testing.assert_array_equal(in_train.to_numpy(), np.round(0.75 * sizes.to_numpy()))
    again, _ = stratified_split(ratings, by=by, ratio=0.75, seed=42)  # type: ignore[arg-type]
    assert again.index.equals(train.index)
    other, _ = stratified_split(ratings, by=by, ratio=0.75, seed=43)  # type: ignore[arg-type]
    assert not other.index.equals(train.index)


def test_stratified_split_rounds_half_to_even_like_microsoft_recommenders() -> None:
    sizes = {1: 1, 2: 2, 3: 6, 4: 10}  # 0.75 * n = 0.75, 1.5, 4.5, 7.5
    items = np.repeat(list(sizes), list(sizes.values()))
    frame = pd.DataFrame({"user_id": np.arange(len(items)) + 1, "item_id": items})

    train, _ = stratified_split(frame, by="item", ratio=0.75, seed=0)

    assert train["item_id"].value_counts().sort_index().to_dict() == {1: 1, 2: 2, 3: 4, 4: 8}


def test_stratified_split_shuffles_within_groups() -> None:
    frame = pd.DataFrame({"user_id": np.arange(1, 1001), "item_id": np.ones(1000, dtype=int)})

    _, test = stratified_split(frame, by="item", ratio=0.5, seed=42)

    # Not the first half: rows of both halves of the input land in the test set.
    assert (test["user_id"] <= 500).any() and (test["user_id"] > 500).any()


def test_temporal_split_takes_each_users_latest_ratings(ratings: pd.DataFrame) -> None:
    train, test = temporal_split(ratings, test_fraction=0.1)

    _assert_partition(ratings, train, test)
    sizes = ratings["user_id"].value_counts()
    expected = np.minimum(np.ceil(np.round(0.1 * sizes.to_numpy(), 9)), sizes.to_numpy() - 1)
    in_test = test["user_id"].value_counts().reindex(sizes.index, fill_value=0)
    np.testing.assert_array_equal(in_test.to_numpy(), expected)

    # Per user, every test rating is at or after every train rating (timestamp, then item).
    def key(frame: pd.DataFrame) -> pd.Series:
        return frame["timestamp"] * 10_000 + frame["item_id"]

    latest_train = key(train).groupby(train["user_id"]).max()
    earliest_test = key(test).groupby(test["user_id"]).min()
    assert (earliest_test > latest_train.reindex(earliest_test.index)).all()


def test_temporal_split_ties_single_ratings_and_rounding() -> None:
    rows = [(1, item, 3.0, 100) for item in (5, 2, 9)]  # all at the same time
    rows += [(2, 1, 4.0, 50)]  # a single rating
    rows += [(3, item, 4.0, item) for item in range(1, 31)]  # 0.1 * 30 must give 3, not 4
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"])

    train, test = temporal_split(frame, test_fraction=0.1)

    assert test[test["user_id"] == 1]["item_id"].tolist() == [9]  # largest item id wins ties
    assert (train["user_id"] == 2).sum() == 1 and (test["user_id"] == 2).sum() == 0
    assert sorted(test[test["user_id"] == 3]["item_id"]) == [28, 29, 30]


def test_temporal_split_keeps_one_training_rating_per_user() -> None:
    frame = pd.DataFrame(
        {"user_id": [1, 1], "item_id": [1, 2], "rating": [3.0, 4.0], "timestamp": [1, 2]}
    )

    train, test = temporal_split(frame, test_fraction=0.9)

    assert train["item_id"].tolist() == [1] and test["item_id"].tolist() == [2]


def test_kfold_partitions_every_row_once(ratings: pd.DataFrame) -> None:
    folds = list(kfold(ratings, k=5, seed=42))

    assert len(folds) == 5
    test_indexes = [test.index for _, test in folds]
    for train, test in folds:
        _assert_partition(ratings, train, test)
    assert sorted(len(index) for index in test_indexes) == [20_000] * 5
    union = test_indexes[0].append(test_indexes[1:])
    assert union.is_unique and len(union) == len(ratings)
    again = [test.index for _, test in kfold(ratings, k=5, seed=42)]
    assert all(a.equals(b) for a, b in zip(again, test_indexes, strict=True))


def test_kfold_uneven_sizes_differ_by_at_most_one() -> None:
    frame = pd.DataFrame({"user_id": range(1, 12), "item_id": range(1, 12)})

    sizes = [len(test) for _, test in kfold(frame, k=3, seed=1)]

    assert sorted(sizes) == [3, 4, 4]


@pytest.mark.parametrize(
    "call",
    [
        lambda r: random_split(r, test_fraction=1.0),
        lambda r: stratified_split(r, by="movie", ratio=0.75),
        lambda r: stratified_split(r, ratio=0.0),
        lambda r: temporal_split(r, test_fraction=-0.1),
        lambda r: list(kfold(r, k=1)),
        lambda r: list(kfold(r, k=3)),  # more folds than rows
    ],
)
def test_bad_arguments_raise_value_error(call) -> None:
    frame = pd.DataFrame({"user_id": [1, 2], "item_id": [1, 2], "timestamp": [1, 2]})

    with pytest.raises(ValueError):
        call(frame)


def test_stratified_split_is_microsoft_recommenders_python_stratified_split():
    """Same rows as their published algorithm for the same seed, by item and by user.

    The fixture was computed by running recommenders' ``python_stratified_split``
    (commit named in the file) on the frame it stores; their code is not part of this repository.
    """
    import json
    from pathlib import Path

    fixture = json.loads((Path(__file__).parent / "fixtures" / "ms_stratified_split.json").read_text())
    frame = pd.DataFrame({"user_id": fixture["user_id"], "item_id": fixture["item_id"]})
    for case in fixture["cases"]:
        by, ratio, seed = case["filter_by"], case["ratio"], case["seed"]
        train, test = stratified_split(frame, by=by, ratio=ratio, seed=seed, keys="microsoft")
        assert sorted(train.index.tolist()) == case["train_rows"], case
        assert sorted(test.index.tolist()) == case["test_rows"]
        # The default keys give the same shape but other rows: ms75 does not claim their rows.
        own, _ = stratified_split(frame, by=by, ratio=ratio, seed=seed)
        assert len(own) == len(train) and sorted(own.index.tolist()) != case["train_rows"]
