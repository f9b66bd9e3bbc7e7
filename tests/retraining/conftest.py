"""Fixtures of the retraining tests: a user subset of the real ml-100k, real stores,
trainers small enough that a whole job runs in about a second."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pytest

from movierec.data import MovieLens, clean_ratings
from movierec.events import Feedback
from movierec.models.artifact import ModelArtifact
from movierec.models.base import Trainer, TrainingData
from movierec.models.ease import EASE
from movierec.models.svd import SurpriseSVD, SVDParams
from movierec.pipelines.train import PreparedData
from movierec.retraining.gate import GatePolicy
from movierec.retraining.job import RetrainConfig
from movierec.stores.local import LocalArtifactStore, SQLiteEventLog

N_USERS = 300
EASE_L2 = 300.0
SMALL_SVD = SVDParams(n_factors=8, n_epochs=5)
_ids = itertools.count()


@pytest.fixture(scope="session")
def base(ml100k) -> PreparedData:
    """The first 300 users of ml-100k, cleaned as the foundation cleans."""
    subset = ml100k.ratings[ml100k.ratings["user_id"] <= N_USERS]
    ratings, report = clean_ratings(subset, rating_scale=ml100k.rating_scale)
    ratings = ratings.reset_index(drop=True)
    dataset = MovieLens(ml100k.name, ratings, ml100k.movies, ml100k.rating_scale)
    return PreparedData(dataset, TrainingData(ratings, ml100k.rating_scale), report)


def small_candidates(name: str) -> Trainer:
    """EASE with a fixed l2 and a small SVD: these tests are about the job, not quality."""
    return SurpriseSVD(SMALL_SVD, seed=7) if name == "svd" else EASE(l2=EASE_L2)


class ShuffledRatings(Trainer):
    """A deliberately broken trainer: fits ``inner`` on ratings whose movies are shuffled."""

    def __init__(self, inner: Trainer, seed: int = 0) -> None:
        self.inner = inner
        self.name = inner.name
        self.seed = seed

    def fit(self, data: TrainingData) -> ModelArtifact:
        shuffled = data.ratings.copy()
        rng = np.random.default_rng(self.seed)
        shuffled["item_id"] = rng.permutation(shuffled["item_id"].to_numpy())
        shuffled["rating"] = rng.permutation(shuffled["rating"].to_numpy())
        shuffled = shuffled.drop_duplicates(["user_id", "item_id"])
        return self.inner.fit(TrainingData(shuffled, data.rating_scale))


class CorruptingStore(LocalArtifactStore):
    """Flips one byte of every arrays.npz it stores: a damaged upload."""

    def write_bytes(self, key, data, content_type="application/octet-stream"):
        if key.endswith("arrays.npz"):
            data = data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:]
        super().write_bytes(key, data, content_type)


@pytest.fixture
def store(tmp_path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "artifacts")


@pytest.fixture
def events(tmp_path) -> SQLiteEventLog:
    log = SQLiteEventLog(tmp_path / "events.sqlite")
    yield log
    log.close()


def config(models: Sequence[str] = ("ease",), **kwargs) -> RetrainConfig:
    return RetrainConfig(models=tuple(models), policy=GatePolicy(sanity_users=100), **kwargs)


def feedback(user: int, movie: int, kind: str, ts: float, value: float | None = None) -> Feedback:
    return Feedback(
        event_id=f"ev-{next(_ids)}",
        ts=ts,
        request_id=f"req-{user}",
        user_id=user,
        movie_id=movie,
        type=kind,  # type: ignore[arg-type]
        value=value,
        position=1,
        experiment_id="exp",
        variant="B",
    )


def genre_movies(movies: pd.DataFrame, genre: str) -> np.ndarray:
    return movies.loc[movies["genres"].str.split("|").apply(lambda g: genre in g), "item_id"].to_numpy()


def write_genre_feedback(
    events: SQLiteEventLog,
    base: PreparedData,
    genre: str,
    users: Sequence[int],
    *,
    per_user: int = 15,
    ts: float | None = None,
    seed: int = 0,
) -> int:
    """Each user clicks ``per_user`` movies of ``genre`` they had not rated and rates a third 5 stars."""
    # Just before now, after the previous run's start (the end of its window).
    ts = time.time() - 1e-3 * (per_user + 1) if ts is None else ts
    rng = np.random.default_rng(seed)
    candidates = genre_movies(base.dataset.movies, genre)
    rated = base.training.ratings.groupby("user_id")["item_id"].agg(set)
    written = 0
    for user in users:
        pool = [m for m in candidates if m not in rated.get(user, set())]
        for j, movie in enumerate(rng.choice(pool, size=min(per_user, len(pool)), replace=False)):
            kind, value = ("rating", 5.0) if j % 3 == 0 else ("click", None)
            events.record_feedback(feedback(int(user), int(movie), kind, ts + 1e-3 * j, value))
            written += 1
    return written


def genre_share(top: Callable[[int], Sequence[int]], users: Sequence[int], genre_ids: np.ndarray) -> float:
    """Share of ``genre_ids`` in the top lists of ``users``."""
    recommended = np.concatenate([np.asarray(top(u)) for u in users])
    return float(np.isin(recommended, genre_ids).mean())


