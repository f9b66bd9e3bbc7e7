"""The simulated users' past, as the warehouse's ``rating_history``.

CUPED adjusts each user's metric by what they did before first exposure. Real users
have logged lists and clicks before an experiment; simulated MovieLens users have no
logged past, but they do have one: the ratings they gave -- the training part of the
split, which the served models learnt from and which the simulator's held-out clicks
are not drawn from. Their number is the covariate: users who rated many movies have
many held-out favourites, so they click more, whatever the variant.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from movierec.stores.ports import Warehouse


def history_rows(ratings: pd.DataFrame, users: Iterable[int]) -> list[dict[str, object]]:
    """``ratings`` (user_id, item_id, rating, timestamp) of ``users`` as warehouse rows."""
    chosen = ratings[ratings["user_id"].isin(set(int(u) for u in users))]
    return [
        {"user_id": int(u), "movie_id": int(m), "rating": float(r), "ts": float(t)}
        for u, m, r, t in chosen[["user_id", "item_id", "rating", "timestamp"]].itertuples(index=False)
    ]


def record_history(warehouse: Warehouse, ratings: pd.DataFrame, users: Iterable[int]) -> int:
    """Load the users' ratings into ``rating_history``; rows already there are kept once."""
    warehouse.ensure_schema()
    return warehouse.insert_new("rating_history", history_rows(ratings, users))
