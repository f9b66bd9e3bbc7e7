"""MovieLens data: fetch and verify, load, validate, clean, split, and build interaction matrices.

The names below are importable from ``movierec.data`` but loaded on first use (PEP 562):
serving imports only ``movierec.data.registry`` (the rating scale of a dataset) and must
not pay for pandas, pandera and scipy, which the other modules need, nor ship them in
its lean deployment (requirements-serving.txt).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from movierec.data.cleaning import CleaningReport, clean_ratings
    from movierec.data.fetch import GROUPLENS_URL, fetch_dataset
    from movierec.data.frames import (
        GENRES,
        ITEM_ID,
        MOVIES_COLUMNS,
        RATING,
        RATINGS_COLUMNS,
        TIMESTAMP,
        TITLE,
        USER_ID,
        YEAR,
        MovieLens,
    )
    from movierec.data.loaders import load_movielens, load_movies, load_ratings
    from movierec.data.matrix import InteractionMatrix
    from movierec.data.registry import DATASETS, DatasetSpec, dataset_spec, rating_scale_of
    from movierec.data.splits import kfold, random_split, stratified_split, temporal_split
    from movierec.data.validation import (
        movies_schema,
        ratings_schema,
        validate_movies,
        validate_ratings,
    )

_MODULE_OF = {
    "CleaningReport": "cleaning", "clean_ratings": "cleaning",
    "GROUPLENS_URL": "fetch", "fetch_dataset": "fetch",
    **dict.fromkeys(
        ("GENRES", "ITEM_ID", "MOVIES_COLUMNS", "RATING", "RATINGS_COLUMNS", "TIMESTAMP", "TITLE",
         "USER_ID", "YEAR", "MovieLens"),
        "frames",
    ),
    "load_movielens": "loaders", "load_movies": "loaders", "load_ratings": "loaders",
    "InteractionMatrix": "matrix",
    "DATASETS": "registry", "DatasetSpec": "registry", "dataset_spec": "registry", "rating_scale_of": "registry",
    "kfold": "splits", "random_split": "splits", "stratified_split": "splits", "temporal_split": "splits",
    "movies_schema": "validation", "ratings_schema": "validation",
    "validate_movies": "validation", "validate_ratings": "validation",
}

__all__ = [
    "DATASETS",
    "GENRES",
    "GROUPLENS_URL",
    "ITEM_ID",
    "MOVIES_COLUMNS",
    "RATING",
    "RATINGS_COLUMNS",
    "TIMESTAMP",
    "TITLE",
    "USER_ID",
    "YEAR",
    "CleaningReport",
    "DatasetSpec",
    "InteractionMatrix",
    "MovieLens",
    "clean_ratings",
    "dataset_spec",
    "fetch_dataset",
    "kfold",
    "load_movielens",
    "load_movies",
    "load_ratings",
    "movies_schema",
    "random_split",
    "rating_scale_of",
    "ratings_schema",
    "stratified_split",
    "temporal_split",
    "validate_movies",
    "validate_ratings",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'movierec.data' has no attribute {name!r}")
    return getattr(import_module(f"movierec.data.{module}"), name)
