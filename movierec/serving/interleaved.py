"""The list a user of an interleaved experiment sees: both variants' lists merged.

Each variant's model ranks the user's unseen movies (seen ones are excluded by the
scorer, as for A/B); :func:`movierec.experiments.interleaving.team_draft`, seeded with
the request id, merges the two lists and credits every shown movie to one variant.
"""

from __future__ import annotations

from dataclasses import dataclass

from movierec.events import Experiment, Ranker
from movierec.experiments.interleaving import team_draft
from movierec.models.scoring import History
from movierec.serving.models import LoadedModel, ModelCache


@dataclass(frozen=True)
class MergedList:
    movie_ids: list[int]
    scores: list[float]  # each movie's score under the ranker it is credited to
    credits: tuple[str, ...]  # the variant each movie is credited to
    rankers: tuple[Ranker, Ranker]
    models: tuple[LoadedModel, LoadedModel]
    fallback: str | None  # "popular" when a ranker knew nothing of the user

    def item_models(self) -> tuple[LoadedModel, ...]:
        """The model each shown movie was ranked by (the one it is credited to)."""
        return tuple(self.models[0] if c == self.rankers[0].variant else self.models[1] for c in self.credits)

    @property
    def model_name(self) -> str:
        return "+".join(m.name for m in self.models)

    @property
    def model_version(self) -> str:
        return "+".join(m.version for m in self.models)


def merged_list(
    models: ModelCache, experiment: Experiment, user_id: int, top_n: int, request_id: str,
    history: History | None = None,
) -> MergedList | None:
    """The merged list, or None when a variant's model cannot be loaded; a user a model
    does not know is ranked for their ``history`` (see Scorer.recommend)."""
    variants = experiment.variants
    loaded = [models.get(v.model, v.version) for v in variants]
    if len(loaded) != 2 or loaded[0] is None or loaded[1] is None:
        return None
    pair = (loaded[0], loaded[1])
    ranked = [m.scorer.recommend(user_id, top_n, history=history) for m in pair]
    merged = team_draft(ranked[0].item_ids.tolist(), ranked[1].item_ids.tolist(), top_n, request_id)
    score_of = [dict(zip(r.item_ids.tolist(), r.scores.tolist())) for r in ranked]
    return MergedList(
        movie_ids=[int(m) for m in merged.item_ids],
        scores=[round(float(score_of[t][m]), 6) for m, t in zip(merged.item_ids, merged.teams)],
        credits=tuple(variants[t].name for t in merged.teams),
        rankers=(Ranker(variants[0].name, pair[0].name, pair[0].version),
                 Ranker(variants[1].name, pair[1].name, pair[1].version)),
        models=pair,
        fallback=ranked[0].fallback or ranked[1].fallback,
    )
