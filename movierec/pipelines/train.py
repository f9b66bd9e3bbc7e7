"""Training: MovieLens -> cleaned, validated ratings -> evaluated, published model versions.

Each model is evaluated on an ``ms75``-shaped holdout (hyper-parameters selected inside
the training part), then refitted on all the data; the refit is what gets published,
with the holdout metrics in its manifest, and logged to MLflow.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from movierec.data.cleaning import CleaningReport, clean_ratings
from movierec.data.fetch import fetch_dataset
from movierec.data.frames import MovieLens
from movierec.data.loaders import load_movielens
from movierec.data.splits import stratified_split
from movierec.data.validation import validate_movies, validate_ratings
from movierec.evaluation.protocols import fit_and_score
from movierec.models.artifact import (
    ITEMS_FILE,
    ModelArtifact,
    artifact_files,
    items_file,
)
from movierec.models.base import TrainingData
from movierec.pipelines.publish import publish
from movierec.pipelines.tracking import log_run
from movierec.selection.registry import make_trainer
from movierec.stores.ports import ArtifactStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreparedData:
    dataset: MovieLens
    training: TrainingData
    cleaning: CleaningReport


@dataclass(frozen=True)
class PublishedModel:
    artifact: ModelArtifact
    key_prefix: str
    fit_seconds: float
    promoted: bool
    mlflow_run_id: str | None


def prepare_data(
    dataset: str,
    *,
    movielens_dir: Path | None,
    cache_dir: Path,
    now: float,
    min_user_ratings: int = 1,
    min_item_ratings: int = 1,
) -> PreparedData:
    """Locate, load, clean and validate a dataset; DataError says what is wrong."""
    folder = fetch_dataset(dataset, movielens_dir=movielens_dir, cache_dir=cache_dir)
    movielens = load_movielens(dataset, folder)
    ratings, report = clean_ratings(
        movielens.ratings,
        rating_scale=movielens.rating_scale,
        min_user_ratings=min_user_ratings,
        min_item_ratings=min_item_ratings,
        known_items=movielens.movies["item_id"],
    )
    if report.unknown_movie_dropped:
        log.warning("dropped %d ratings of movies missing from the catalogue", report.unknown_movie_dropped)
    validate_ratings(ratings, movielens.rating_scale, now)
    validate_movies(movielens.movies, now)
    return PreparedData(movielens, TrainingData(ratings, movielens.rating_scale), report)


def hold_out(prepared: PreparedData, seed: int) -> tuple[PreparedData, pd.DataFrame]:
    """The ``ms75`` split: train on 75% of each movie's ratings, keep 25% unseen.

    Models trained on the first part can be judged by what users did in the second,
    as the traffic simulator does: its users click by their held-out ratings.
    """
    train, test = stratified_split(prepared.training.ratings, by="item", ratio=0.75, seed=seed)
    return replace(prepared, training=TrainingData(train, prepared.training.rating_scale)), test


def train_model(
    name: str, prepared: PreparedData, *, seed: int, k: int = 10, tuning_trials: int = 20
) -> tuple[ModelArtifact, float]:
    """Holdout-evaluate ``name`` then refit on everything; returns the refit and its fit seconds."""
    data = prepared.training
    train, test = stratified_split(data.ratings, by="item", ratio=0.75, seed=seed)
    _, holdout, _, _ = fit_and_score(
        make_trainer(name, seed=seed, tuning_trials=tuning_trials), train, test, data.rating_scale, k
    )
    start = time.perf_counter()
    artifact = make_trainer(name, seed=seed, tuning_trials=tuning_trials).fit(data)
    fit_seconds = time.perf_counter() - start
    metrics = {f"holdout_{key}": value for key, value in holdout.items()}
    files = {ITEMS_FILE: items_file(prepared.dataset.movies, artifact.arrays["item_ids"].tolist())}
    return replace(artifact, metrics=metrics, files=files), fit_seconds


def train_and_publish(
    prepared: PreparedData,
    store: ArtifactStore,
    models: Sequence[str],
    *,
    seed: int,
    tracking_uri: str | None,
    mlflow_artifacts: str | None = None,
    promote: bool = True,
    tuning_trials: int = 20,
    on_step: Callable[[str], None] | None = None,
) -> list[PublishedModel]:
    """Train each of ``models`` and publish it (live unless ``promote`` is false).

    Raises UploadNotVerified when a version does not read back as trained: it is
    deleted, never made live, and the models after it are not trained.
    """
    published = []
    for name in models:
        if on_step:
            on_step(f"training {name}")
        artifact, fit_seconds = train_model(name, prepared, seed=seed, tuning_trials=tuning_trials)
        artifact = publish(store, artifact, make_live=promote)
        run_id = None
        if tracking_uri:
            run_id = log_run(
                tracking_uri,
                "movierec-train",
                f"{name}-{artifact.version}",
                params={**artifact.params, "dataset": prepared.dataset.name, "model": name},
                metrics={**artifact.metrics, "fit_seconds": fit_seconds},
                files=artifact_files(artifact),
                tags={"model": name, "version": artifact.version, "data_fingerprint": artifact.data_fingerprint},
                artifact_location=mlflow_artifacts,
            )
        published.append(
            PublishedModel(artifact, f"models/{name}/{artifact.version}/", fit_seconds, promote, run_id)
        )
    return published
