"""``/recommend?explain=true``: each returned item with its reasons and what its score means.

Only the returned items are explained (:func:`movierec.models.reasons.explain` reads one
row of weights per item), and only when asked: the default response and its cost are
unchanged. A popular list's scores are counts and it has no reasons; a list ranked for a
user the model knows only by recent feedback (the fold-in) has the model's scores but no
training history to give reasons from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from movierec.models.reasons import explain
from movierec.models.scoring import POPULARITY_MEANING
from movierec.serving.models import LoadedModel

REASONS_PER_ITEM = 3


def with_reasons(
    items: list[dict[str, Any]], sources: Sequence[LoadedModel], user_id: int, k: int = REASONS_PER_ITEM,
    *, fallback: str | None = None,
) -> list[dict[str, Any]]:
    """``items`` (the response's) with ``reasons`` and ``score_meaning``; ``sources[i]`` ranked
    ``items[i]``; ``fallback`` is the response's (``"popular"``: every score is a count)."""
    explained = [dict(item, reasons=[], score_meaning=POPULARITY_MEANING) for item in items]
    if fallback == "popular":
        return explained
    for model in {id(m): m for m in sources}.values():
        rows = [i for i, source in enumerate(sources) if source is model]
        scorer = model.scorer
        for row in rows:
            explained[row]["score_meaning"] = scorer.score_meaning
        if scorer.user_row(user_id) < 0:  # ranked for recent feedback: no training history
            continue
        movie_ids = np.array([items[i]["movie_id"] for i in rows], dtype=np.int64)
        for row, reasons in zip(rows, explain(scorer, user_id, movie_ids, k)):
            explained[row]["score_meaning"] = scorer.score_meaning
            explained[row]["reasons"] = [
                {"movie_id": r.movie_id, "title": model.titles.get(r.movie_id, ""), "rating": r.rating,
                 "weight": round(r.weight, 6)}
                for r in reasons
            ]
    return explained
