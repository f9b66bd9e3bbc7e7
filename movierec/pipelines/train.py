"""Training: MovieLens -> cleaned, validated ratings -> published model versions.

Each model is fitted once on the data it is given (hyper-parameters selected on a
validation split inside it) and published, then logged to MLflow. With a held-out part
(``movierec train --hold-out``: the data is the ``ms75`` training part, the held-out part
its 25% test part), that one fit is also scored on the held-out part and the manifest
stores those metrics under the protocol's name (``ms75_ndcg@10``, ...): what the
published version itself scores on data it never saw.
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
from movierec.evaluation.protocols import score_split
from movierec.models.artifact import (
    ITEMS_FILE,
    ModelArtifact,
    artifact_files,
    items_file,
)
from movierec.models.base import TrainingData
from movierec.models.scoring import scorer_for
from movierec.pipelines.publish import publish
from movierec.pipelines.tracking import log_run
from movierec.selection.registry import make_trainer
from movierec.stores.ports import ArtifactStore

log = logging.getLogger(__name__)
HOLD_OUT_PROTOCOL = "ms75"  # what `movierec train --hold-out` holds out, and its metrics' prefix


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
    allow_modified: bool = False,
) -> PreparedData:
    """Locate, load, clean and validate a dataset; DataError says what is wrong.

    ``allow_modified`` loads a MOVIELENS_DIR copy that fails its checksums (with a warning).
    """
    folder = fetch_dataset(dataset, movielens_dir=movielens_dir, cache_dir=cache_dir, allow_modified=allow_modified)
    movielens = load_movielens(dataset, folder)
    ratings, report = clean_ratings(
        movielens.ratings,
        rating_scale=movielens.rating_scale,
        min_user_ratings=min_user_ratings,
        min_item_ratings=min_item_ratings,
        known_items=movielens.movies["item_id"],
    )
    if report.dropped_rows:
        log.warning("%s: %s", dataset, report.summary())
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
    name: str,
    prepared: PreparedData,
    *,
    seed: int,
    k: int = 10,
    tuning_trials: int = 20,
    held_out: pd.DataFrame | None = None,
) -> tuple[ModelArtifact, float]:
    """Fit ``name`` once on ``prepared``; returns the artifact and its fit seconds.

    With ``held_out`` (the ms75 test part ``prepared`` was cut from) the artifact carries
    that fit's metrics on it, keyed ``ms75_<metric>``.
    """
    start = time.perf_counter()
    artifact = make_trainer(name, seed=seed, tuning_trials=tuning_trials, objective="ndcg@10").fit(prepared.training)
    fit_seconds = time.perf_counter() - start
    metrics: dict[str, float] = {}
    if held_out is not None:
        measured = score_split(scorer_for(artifact.kind, artifact.arrays), held_out, k)
        metrics = {f"{HOLD_OUT_PROTOCOL}_{key}": value for key, value in measured.items()}
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
    held_out: pd.DataFrame | None = None,
    on_step: Callable[[str], None] | None = None,
) -> list[PublishedModel]:
    """Train each of ``models`` once and publish it (live unless ``promote`` is false);
    ``held_out`` as in :func:`train_model`.

    Raises UploadNotVerified when a version does not read back as trained: it is
    deleted, never made live, and the models after it are not trained.
    """
    published = []
    for name in models:
        if on_step:
            on_step(f"training {name}")
        artifact, fit_seconds = train_model(
            name, prepared, seed=seed, tuning_trials=tuning_trials, held_out=held_out
        )
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
