"""The recent feedback of users the model does not know, for it to fold in.

A user who arrived after training has no history in the model; what they rated or
clicked since is in the event log. :class:`RecentFeedback` reads a user's latest
``limit`` events (``EventLog.recent_feedback``, one indexed query) within a share of the
request's deadline, and keeps them per instance for ``ttl_seconds``, forgetting a user
as soon as this instance stores feedback of theirs. An empty answer is not kept: a
user's first feedback personalises their next list on whichever instance serves it
(later feedback stored by another instance shows within the TTL). A read that fails is
``None``: the caller serves the popular list rather than failing the request.

:func:`history_of` turns events into the :class:`~movierec.models.scoring.History` a
scorer folds in, by the weekly retrain job's rules (:mod:`movierec.retraining.signals`),
so that a new user is served now what the next retrain will learn from them: a rating
as given, a click on a movie the user has not rated as :data:`CLICK_RATING`, one entry
per movie (the latest rating, else the click).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from movierec.errors import BackendUnavailable
from movierec.events import Feedback
from movierec.models.scoring import History
from movierec.stores.deadline import within
from movierec.stores.ports import EventLog

log = logging.getLogger(__name__)

# = movierec.retraining.signals.SignalRules.click_rating (a test keeps them equal; serving
# does not import the retrain job)
CLICK_RATING = 4.0

Source = Literal["training", "feedback", "none", "unavailable"]


@dataclass(frozen=True)
class HistoryNote:
    """What a list was personalised from: the model's training data (a known user), the
    user's ``events`` latest feedback events, nothing yet, or a log that could not be read."""

    source: Source
    events: int = 0

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "events": self.events}


def history_of(events: Sequence[Feedback]) -> History:
    """One (movie, rating) per movie of ``events`` (newest first): its latest rating, else
    :data:`CLICK_RATING` for a click; newest movie first."""
    ratings: dict[int, float] = {}
    for event in events:
        if event.type == "rating" and event.value is not None:
            ratings.setdefault(event.movie_id, float(event.value))  # the first seen is the latest
    order = list(dict.fromkeys(e.movie_id for e in events))
    return History(
        item_ids=np.array(order, dtype=np.int64),
        ratings=np.array([ratings.get(m, CLICK_RATING) for m in order], dtype=np.float64),
    )


class RecentFeedback:
    """Per-instance, TTL-bounded cache of users' latest feedback events."""

    def __init__(
        self,
        events: EventLog,
        *,
        limit: int,
        ttl_seconds: float,
        read_seconds: float,
        max_users: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.events, self.limit, self.ttl_seconds, self.read_seconds = events, limit, ttl_seconds, read_seconds
        self.max_users, self.clock = max_users, clock
        self._cache: OrderedDict[int, tuple[float, tuple[Feedback, ...]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, user_id: int) -> tuple[Feedback, ...] | None:
        """The user's latest events, newest first; None when the log cannot be read in time."""
        if self.limit == 0:
            return ()
        now = self.clock()
        cached = self._cache.get(user_id)
        if cached is not None and now - cached[0] < self.ttl_seconds:
            return cached[1]
        try:
            with within(self.read_seconds):  # a share of the request's budget: the write needs the rest
                events = tuple(self.events.recent_feedback(user_id, self.limit))
        except BackendUnavailable as exc:
            log.warning("recent feedback of a new user not read, serving the popular list: %s", exc)
            return None
        if events and self.ttl_seconds > 0:
            with self._lock:
                self._cache[user_id] = (now, events)
                self._cache.move_to_end(user_id)
                while len(self._cache) > self.max_users:
                    self._cache.popitem(last=False)
        return events

    def forget(self, user_id: int) -> None:
        """This instance stored feedback of the user: the next read sees it."""
        with self._lock:
            self._cache.pop(user_id, None)
