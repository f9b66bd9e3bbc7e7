"""Fixtures of the model tests: real ml-100k ratings, whole and as a small slice."""

from __future__ import annotations

import pytest

from movierec.data import MovieLens
from movierec.models.base import TrainingData


@pytest.fixture(scope="session")
def ml100k_data(ml100k: MovieLens) -> TrainingData:
    return TrainingData(ml100k.ratings, ml100k.rating_scale)


@pytest.fixture(scope="session")
def small_data(ml100k: MovieLens) -> TrainingData:
    """The first 200 users' ratings: big enough for real models, fast enough for unit tests."""
    ratings = ml100k.ratings[ml100k.ratings["user_id"] <= 200].reset_index(drop=True)
    return TrainingData(ratings, ml100k.rating_scale)
