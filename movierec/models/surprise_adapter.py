"""Turning ratings into a Surprise trainset and Surprise's inner ids into our sorted vocabulary."""

from __future__ import annotations

import numpy as np
from surprise import Dataset, Reader, Trainset

from movierec.models.base import TrainingData


def build_trainset(data: TrainingData) -> Trainset:
    frame = data.ratings[["user_id", "item_id", "rating"]]
    reader = Reader(rating_scale=data.rating_scale)
    return Dataset.load_from_df(frame, reader).build_full_trainset()


def inner_order(trainset: Trainset, user_ids: np.ndarray, item_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each raw id of our sorted vocabularies, Surprise's inner id (rows to take from its arrays)."""
    users = np.array([trainset.to_inner_uid(int(u)) for u in user_ids], dtype=np.int64)
    items = np.array([trainset.to_inner_iid(int(i)) for i in item_ids], dtype=np.int64)
    return users, items
