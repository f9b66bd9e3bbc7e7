"""Most-popular items: the fallback for unknown users and the floor every model must beat."""

from __future__ import annotations

from movierec.models.artifact import ModelArtifact
from movierec.models.base import Trainer, TrainingData, history_arrays


class MostPopular(Trainer):
    name = "popular"

    def fit(self, data: TrainingData) -> ModelArtifact:
        arrays = history_arrays(data.matrix(binary=True), data.ratings)
        return ModelArtifact(self.name, "popular", arrays, data_fingerprint=data.fingerprint)
