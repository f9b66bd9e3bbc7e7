"""The click/rating rules, one known answer per rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movierec.errors import ConfigError, DataError
from movierec.retraining.signals import (
    CLICK,
    EXPLICIT,
    SignalRules,
    empty_signals,
    fold_feedback,
    training_ratings,
)

SCALE = (1.0, 5.0)
ITEMS = np.array([10, 11, 12, 13])
BASE = pd.DataFrame({"user_id": [1], "item_id": [10], "rating": [2.0], "timestamp": [100]})


def events(*rows):
    return pd.DataFrame(
        [{"event_id": f"e{i}", "ts": ts, "user_id": u, "movie_id": m, "type": t, "value": v} for i, (ts, u, m, t, v) in enumerate(rows)]
    )


def fold(rows, previous=None, rules=None):
    return fold_feedback(
        empty_signals() if previous is None else previous,
        events(*rows),
        base=BASE,
        known_items=ITEMS,
        rating_scale=SCALE,
        rules=rules,
    )


def as_tuples(signals):
    return [tuple(r) for r in signals[["user_id", "item_id", "rating", "timestamp", "source"]].itertuples(index=False)]


def test_a_rating_is_taken_as_given_and_a_click_on_an_unrated_movie_is_a_pseudo_rating():
    signals, report = fold([(200.7, 1, 11, "rating", 3.5), (201.0, 2, 12, "click", None)])
    assert as_tuples(signals) == [(1, 11, 3.5, 200, EXPLICIT), (2, 12, 4.0, 201, CLICK)]
    assert (report.ratings, report.clicks, report.signals) == (1, 1, 2)


def test_a_click_never_overrides_a_rating_in_either_order():
    signals, report = fold(
        [
            (300, 1, 10, "click", None),  # rated 2 stars in the base data
            (300, 2, 11, "rating", 1.0),
            (301, 2, 11, "click", None),  # after the rating
            (302, 3, 12, "click", None),
            (303, 3, 12, "rating", 2.0),  # a later rating replaces the click
        ]
    )
    assert as_tuples(signals) == [(2, 11, 1.0, 300, EXPLICIT), (3, 12, 2.0, 303, EXPLICIT)]
    assert report.clicks_on_rated == 3


def test_a_later_rating_in_a_later_window_replaces_an_earlier_click():
    first, _ = fold([(300, 3, 12, "click", None)])
    second, report = fold([(400, 3, 12, "rating", 1.5)], previous=first)
    assert as_tuples(second) == [(3, 12, 1.5, 400, EXPLICIT)]
    assert report.superseded == 1


def test_one_signal_per_pair_the_latest():
    signals, report = fold(
        [(500, 4, 13, "click", None), (520, 4, 13, "click", None), (510, 4, 11, "rating", 5.0), (530, 4, 11, "rating", 3.0)]
    )
    assert as_tuples(signals) == [(4, 11, 3.0, 530, EXPLICIT), (4, 13, 4.0, 520, CLICK)]
    assert report.superseded == 2


def test_invalid_events_are_dropped_and_counted():
    signals, report = fold(
        [
            (600, 5, 11, "rating", 0.5),  # below ml-100k's scale
            (600, 5, 12, "rating", None),
            (600, 5, 13, "like", None),
            (600, -1, 13, "click", None),
            (600, 5, 99, "click", None),  # not in the catalogue
            (600, 5, 13, "click", None),
        ]
    )
    assert as_tuples(signals) == [(5, 13, 4.0, 600, CLICK)]
    assert (report.invalid, report.unknown_movie) == (4, 1)


def test_the_pseudo_rating_is_configurable_within_the_scale():
    signals, _ = fold([(700, 6, 11, "click", None)], rules=SignalRules(click_rating=5.0))
    assert signals["rating"].tolist() == [5.0]
    with pytest.raises(ConfigError, match="outside the rating scale"):
        fold([], rules=SignalRules(click_rating=9.0))


def test_missing_fields_are_named():
    with pytest.raises(DataError, match="movie_id"):
        fold_feedback(empty_signals(), pd.DataFrame({"event_id": [], "ts": []}), base=BASE, known_items=ITEMS, rating_scale=SCALE)


def test_training_ratings_lets_a_logged_rating_revise_the_base_one_and_validates():
    signals, _ = fold([(800, 1, 10, "rating", 5.0), (801, 1, 11, "click", None)])
    ratings = training_ratings(BASE, signals, rating_scale=SCALE, now=1000)
    assert sorted(map(tuple, ratings.to_numpy().tolist())) == [(1, 10, 5.0, 800), (1, 11, 4.0, 801)]
    with pytest.raises(DataError, match="timestamp"):
        training_ratings(BASE, signals, rating_scale=SCALE, now=500)  # events from the future
