"""Candidate and live model, measured the same way on the same held-out temporal slice.

The slice is the ``temporal`` protocol (docs/ARCHITECTURE.md) applied to this week's training
ratings: each user's most recent 10% (``temporal_split``); the past is the rest.

The live version's arrays were fitted on data that contains much of that slice, so
scoring them directly would reward memorisation (and its seen-items filter would even
hide the slice's items). The live side is therefore the live version's *recipe* (the
kind and parameters in its manifest: EASE's chosen l2, SVD's factors and learning
rates, tuned or not) refitted on the same past. Both sides see the same data and are
scored by the serving scorer on the same slice; what differs is exactly what a new
version would change: the trainer, its hyper-parameter selection and its code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from movierec.data.splits import temporal_split
from movierec.errors import ConfigError
from movierec.evaluation.protocols import fit_and_score
from movierec.models.base import Trainer
from movierec.models.ease import DEFAULT_KEEP, EASE, MAX_ITEMS
from movierec.models.ials import IALS, IALSParams
from movierec.models.knn import KNNParams, SurpriseKNNBaseline, SurpriseKNNBasic
from movierec.models.popular import MostPopular
from movierec.models.svd import SurpriseSVD, SVDParams


@dataclass(frozen=True)
class SliceScore:
    metrics: dict[str, float]
    fit_seconds: float


def holdout_slice(ratings: pd.DataFrame, fraction: float = 0.1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(past, slice): the slice is each user's most recent ``fraction`` of ratings."""
    return temporal_split(ratings, test_fraction=fraction)


def score_on_slice(
    trainer: Trainer, past: pd.DataFrame, recent: pd.DataFrame, rating_scale: tuple[float, float], k: int
) -> SliceScore:
    _, metrics, fit_seconds, _ = fit_and_score(trainer, past, recent, rating_scale, k)
    return SliceScore(metrics, fit_seconds)


def live_recipe(manifest: Mapping[str, Any], *, seed: int) -> Trainer:
    """A trainer that refits what the manifest describes, without any new selection."""
    kind, name = manifest.get("kind"), manifest.get("name")
    params = dict(manifest.get("params") or {})
    seed = int(params.get("seed", seed))
    if kind in ("item_item", "sparse_item_item"):
        if "l2" not in params:
            raise ConfigError(f"manifest of {name} {manifest.get('version')} lacks its l2; cannot refit it")
        keep = params.get("keep")
        if kind == "sparse_item_item" and keep is None:
            keep = DEFAULT_KEEP  # a pruned B whose level was not recorded was pruned at the default
        return EASE(
            l2=float(params["l2"]),
            keep=None if keep is None else int(keep),
            max_items=int(params.get("max_items") or MAX_ITEMS),
            seed=seed,
        )
    if kind == "embeddings":
        return IALS(IALSParams(**_fields(IALSParams, params)), seed=seed)
    if kind == "factors":
        return SurpriseSVD(SVDParams(**_fields(SVDParams, params)), seed=seed)
    if kind == "knn":
        cls = SurpriseKNNBaseline if name == "knn-baseline" else SurpriseKNNBasic
        return cls(KNNParams(**_fields(KNNParams, params)), seed=seed)
    if kind == "popular":
        return MostPopular()
    raise ConfigError(f"no recipe to refit a {kind!r} model ({name} {manifest.get('version')})")


def _fields(cls: type, params: Mapping[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {key: value for key, value in params.items() if key in names}
