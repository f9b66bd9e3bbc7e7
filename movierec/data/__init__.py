"""MovieLens data: fetch and verify, load, validate, clean, split, and build interaction matrices."""

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
