"""The recommend and feedback logic as plain functions of (request, stores) -> outcome.

No HTTP here: :mod:`movierec.serving.http` parses requests into the typed values below
and turns the outcomes and errors of :mod:`movierec.serving.outcomes` into responses.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from movierec.errors import BackendUnavailable
from movierec.events import INTERLEAVED_VARIANT, Assignment, Experiment, Feedback, Impression
from movierec.experiments.assignment import assign_variant
from movierec.models.scoring import History, Scorer
from movierec.observability.logging import annotate
from movierec.serving.explain import with_reasons
from movierec.serving.history import HistoryNote, RecentFeedback, history_of
from movierec.serving.interleaved import MergedList, merged_list
from movierec.serving.models import FALLBACK_MODEL, LoadedModel, ModelCache
from movierec.serving.outcomes import (
    Conflict,
    FeedbackOutcome,
    FeedbackStatus,
    Forbidden,
    Health,
    InvalidFeedback,
    Unavailable,
    UnknownMovie,
)
from movierec.serving.tokens import check_token, sign_token
from movierec.stores.deadline import within
from movierec.stores.ports import EventLog

log = logging.getLogger(__name__)

DEFAULT_VARIANT = "default"


@dataclass(frozen=True)
class ServingConfig:
    token_secret: str
    rating_scale: tuple[float, float]  # a rating's bounds: those of the dataset the models learnt
    default_model: str = "svd"
    experiment_ttl_seconds: float = 5.0
    assignment_cache_size: int = 100_000
    # One budget for all the backend calls of a request (listing, assignment, write):
    # past it the request answers 503 instead of making the client wait.
    request_deadline_seconds: float = 1.0
    token_ttl_seconds: float = 24 * 3600.0  # how long a list's token vouches for feedback on it
    # New users' recent feedback (movierec.serving.history): how many events, cached how long,
    # read within how much of the deadline.
    foldin_events: int = 50
    foldin_cache_seconds: float = 2.0
    foldin_read_seconds: float = 0.5


@dataclass(frozen=True)
class RecommendRequest:
    user_id: int
    top_n: int = 10
    explain: bool = False  # reasons for the returned items only: the default path pays nothing


@dataclass(frozen=True)
class FeedbackRequest:
    request_id: str
    token: str
    user_id: int
    movie_id: int
    type: Literal["click", "rating"]
    value: float | None = None
    event_id: str | None = None


def derived_event_id(request_id: str, movie_id: int, kind: str) -> str:
    """Without a client event_id, one click (or rating) per shown movie per request counts."""
    return hashlib.sha256(f"{request_id}|{movie_id}|{kind}".encode()).hexdigest()[:32]


def scoped_event_id(request_id: str, client_event_id: str) -> str:
    """The stored key of a client's event_id: scoped to its request, so that the same id sent
    by another user (another request) is another event, never a "duplicate" that drops it.

    The client id cannot hold '|', so this never equals a derived id (three parts).
    """
    return hashlib.sha256(f"{request_id}|{client_event_id}".encode()).hexdigest()[:32]


def _same_event(a: Feedback, b: Feedback) -> bool:
    """Whether ``b`` repeats ``a`` (a retry), whatever their times."""
    fields = ("request_id", "user_id", "movie_id", "type", "value")
    return all(getattr(a, f) == getattr(b, f) for f in fields)


class RecommendService:
    def __init__(
        self,
        events: EventLog,
        models: ModelCache,
        config: ServingConfig,
        *,
        clock: Callable[[], float] = time.time,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.events, self.models, self.config = events, models, config
        self.clock, self.new_id = clock, new_id
        self._experiment: tuple[float, Experiment | None] | None = None
        self._assignments: OrderedDict[tuple[str, int], str] = OrderedDict()
        self._said_no_model = False
        self._lock = threading.Lock()
        self.recent = RecentFeedback(events, limit=config.foldin_events, ttl_seconds=config.foldin_cache_seconds,
                                     read_seconds=config.foldin_read_seconds)

    # ---------------------------------------------------------------- recommend
    def recommend(self, req: RecommendRequest) -> dict[str, Any]:
        with within(self.config.request_deadline_seconds):
            return self._recommend(req)

    def _recommend(self, req: RecommendRequest) -> dict[str, Any]:
        start = time.perf_counter()
        request_id = self.new_id()  # first: it seeds an interleaved list's coin
        experiment = self.running_experiment()
        experiment_id, variant, model_name, model_version = None, DEFAULT_VARIANT, self.config.default_model, None
        merged: MergedList | None = None
        models: tuple[LoadedModel, ...] = ()
        note = HistoryNote("none")
        if experiment is not None:
            name, bucket = assign_variant(experiment, req.user_id)
            if name is not None and experiment.design == "interleaved":
                experiment_id = experiment.experiment_id
                variant = self._sticky_variant(experiment, req.user_id, INTERLEAVED_VARIANT, bucket)
                rankers = [self.models.get(v.model, v.version) for v in experiment.variants]
                history, note = self._history([m.scorer for m in rankers if m is not None], req.user_id)
                merged = merged_list(self.models, experiment, req.user_id, req.top_n, request_id, history)
            elif name is not None:
                name = self._sticky_variant(experiment, req.user_id, name, bucket)
                chosen = next((v for v in experiment.variants if v.name == name), None)
                if chosen is not None:
                    experiment_id, variant = experiment.experiment_id, name
                    model_name, model_version = chosen.model, chosen.version
        if merged is not None:
            models, movie_ids, scores, fallback = merged.models, merged.movie_ids, merged.scores, merged.fallback
            served_name, served_version = merged.model_name, merged.model_version
        else:
            model, fallback = self._model_or_popular(model_name, model_version)
            if fallback:
                ranked, note = model.scorer.popular(req.top_n), HistoryNote("none")
            else:
                history, note = self._history([model.scorer], req.user_id)
                ranked = model.scorer.recommend(req.user_id, req.top_n, history=history)
            models, movie_ids = (model,), [int(m) for m in ranked.item_ids]
            scores = [round(float(s), 6) for s in ranked.scores]
            fallback, served_name, served_version = ranked.fallback or fallback, model.name, model.version
        latency_ms = (time.perf_counter() - start) * 1000
        annotate(history=note.source, history_events=note.events)
        impression = Impression(
            request_id=request_id,
            ts=self.clock(),
            user_id=req.user_id,
            experiment_id=experiment_id,
            variant=variant,
            model_name=served_name,
            model_version=served_version,
            movie_ids=tuple(movie_ids),
            scores=tuple(scores),
            fallback=fallback,
            latency_ms=round(latency_ms, 3),
            credits=merged.credits if merged else (),
            rankers=merged.rankers if merged else (),
        )
        try:
            self.events.record_impression(impression)
        except BackendUnavailable as exc:
            log.error("impression not stored: %s", exc)
            raise Unavailable("the event log could not store this impression") from None
        items = _items(models, movie_ids, scores)
        if req.explain:  # after the impression: the stored latency is the ranking's alone
            items = with_reasons(items, merged.item_models() if merged else models * len(items), req.user_id,
                                 fallback=fallback)
        return {
            "request_id": request_id,
            "user_id": req.user_id,
            "experiment": experiment_id,
            "variant": variant,
            "model": {"name": served_name, "version": served_version},
            "items": items,
            "fallback": impression.fallback,
            "history": note.as_dict(),
            "token": sign_token(self.config.token_secret, request_id, req.user_id, movie_ids, self._expiry()),
        }

    def _model_or_popular(self, name: str, version: str | None) -> tuple[LoadedModel, str | None]:
        model = self.models.get(name, version)
        if model is not None:
            return model, None
        fallback = self.models.get(FALLBACK_MODEL)
        if fallback is None:
            raise Unavailable(self._no_model_message(name))
        return fallback, "popular"

    def _history(self, scorers: list[Scorer], user_id: int) -> tuple[History | None, HistoryNote]:
        """A new user's recent feedback to fold in. Read only for users a model does not
        know: a known user is scored from training, and keeps a request without this read."""
        if all(scorer.knows(user_id) for scorer in scorers):
            return None, HistoryNote("training")
        events = self.recent.get(user_id)
        if events is None:  # the log cannot be read now: the popular list, not a 503
            return None, HistoryNote("unavailable")
        return (history_of(events), HistoryNote("feedback", len(events))) if events else (None, HistoryNote("none"))

    def running_experiment(self) -> Experiment | None:
        now = self.clock()
        cached = self._experiment
        if cached is not None and now - cached[0] < self.config.experiment_ttl_seconds:
            return cached[1]
        try:
            running = [e for e in self.events.list_experiments() if e.status == "running"]
        except BackendUnavailable:
            if cached is not None:
                return cached[1]  # a stale config beats refusing traffic
            raise Unavailable("the experiment configuration cannot be read") from None
        experiment = max(running, key=lambda e: e.started_at) if running else None
        self._experiment = (now, experiment)
        return experiment

    def _sticky_variant(self, experiment: Experiment, user_id: int, variant: str, bucket: int) -> str:
        key = (experiment.experiment_id, user_id)
        cached = self._assignments.get(key)
        if cached is not None:
            return cached
        try:
            stored = self.events.get_or_create_assignment(
                Assignment(experiment.experiment_id, user_id, variant, bucket, self.clock())
            )
        except BackendUnavailable:
            raise Unavailable("the assignment could not be stored") from None
        with self._lock:
            self._assignments[key] = stored.variant
            while len(self._assignments) > self.config.assignment_cache_size:
                self._assignments.popitem(last=False)
        return stored.variant

    # ---------------------------------------------------------------- feedback
    def feedback(self, req: FeedbackRequest) -> FeedbackOutcome:
        with within(self.config.request_deadline_seconds):
            return self._feedback(req)

    def _feedback(self, req: FeedbackRequest) -> FeedbackOutcome:
        low, high = self.config.rating_scale
        if req.type == "rating" and (req.value is None or not low <= req.value <= high):
            raise InvalidFeedback(f"a rating needs a value in [{low:g}, {high:g}]")
        if req.type == "click" and req.value is not None:
            raise InvalidFeedback("value is only allowed for type 'rating'")
        try:
            impression = self.events.get_impression(req.request_id)
        except BackendUnavailable:
            raise Unavailable("the event log cannot be read") from None
        if impression is None or impression.user_id != req.user_id:
            raise Forbidden()
        verdict = check_token(self.config.token_secret, req.token, req.request_id, impression.user_id,
                              impression.movie_ids, now=self.clock())
        if verdict == "expired":
            raise Forbidden("token has expired; ask /recommend for a new list")
        if verdict == "forged":
            raise Forbidden()
        if req.movie_id not in impression.movie_ids:
            ranker = impression.rankers[0] if impression.rankers else impression
            model = self.models.get(ranker.model_name, ranker.model_version)
            if model is not None and req.movie_id not in model.titles:
                raise UnknownMovie(req.movie_id)
            raise Forbidden()
        credit = impression.credit_of(req.movie_id)
        event = Feedback(
            event_id=(
                scoped_event_id(req.request_id, req.event_id)
                if req.event_id
                else derived_event_id(req.request_id, req.movie_id, req.type)
            ),
            ts=self.clock(),
            request_id=req.request_id,
            user_id=req.user_id,
            movie_id=req.movie_id,
            type=req.type,
            value=req.value,
            position=impression.movie_ids.index(req.movie_id) + 1,
            experiment_id=impression.experiment_id,
            variant=impression.variant,
            extra={"client_event_id": req.event_id} if req.event_id else {},
            credit=credit.variant if credit else None,
            credit_version=credit.model_version if credit else None,
        )
        return FeedbackOutcome(event.event_id, self._store_feedback(event, req.event_id))

    def _store_feedback(self, event: Feedback, client_event_id: str | None) -> FeedbackStatus:
        """``recorded``, or ``duplicate`` for an exact retry; Conflict when the key holds another event."""
        try:
            if self.events.record_feedback(event):
                self.recent.forget(event.user_id)  # this instance's next list folds it in
                return "recorded"
            stored = self.events.get_feedback(event.event_id)
        except BackendUnavailable as exc:
            log.error("feedback not stored: %s", exc)
            raise Unavailable("the event log could not store this feedback") from None
        if stored is not None and not _same_event(stored, event):
            raise Conflict(
                f"event_id {client_event_id!r} was already used for another event of this request"
                if client_event_id
                else f"a {event.type} of this movie in this request was already recorded with another value"
            )
        return "duplicate"

    def _expiry(self) -> int:
        return math.ceil(self.clock() + self.config.token_ttl_seconds)

    # ---------------------------------------------------------------- health
    def _no_model_message(self, model_name: str) -> str:
        untrained = {self.models.problem(n) for n in (model_name, FALLBACK_MODEL)} == {"no_live_version"}
        if untrained:  # a first run: say what to do, not just that it failed
            return (f"no model is trained yet (neither {model_name!r} nor the popular fallback has a "
                    "version): run `movierec train` (or `make demo`); the server picks it up within "
                    "MOVIEREC_ARTIFACT_REFRESH_SECONDS")
        return f"no version of model {model_name!r} (nor the popular fallback) can be loaded"

    def warm(self) -> None:
        """Load what the first requests will need, so they don't pay for it."""
        for name in {self.config.default_model, FALLBACK_MODEL}:
            self.models.get(name)
        missing = self.models.get(self.config.default_model) is None and self.models.get(FALLBACK_MODEL) is None
        if missing and not self._said_no_model:  # once per instance, not on every health check
            self._said_no_model = True
            log.error("%s", self._no_model_message(self.config.default_model))
        try:
            experiment = self.running_experiment()
        except Unavailable:
            return
        for variant in experiment.variants if experiment else ():
            self.models.get(variant.model, variant.version)

    def health(self) -> Health:
        self.warm()
        models = self.models.status()
        try:
            with within(self.config.request_deadline_seconds):
                self.events.ping()
            events_ok, events_error = True, None
        except BackendUnavailable as exc:  # the details (paths, project, raw errors) go to the logs only
            log.warning("health: event log unavailable: %s", exc)
            events_ok, events_error = False, "unavailable"
        experiment = self._experiment[1] if self._experiment else None
        serving = any(m["version"] for m in models.values())
        healthy = serving and events_ok and not any(m["error"] for m in models.values())
        return Health(
            state="ok" if healthy else ("degraded" if serving else "unavailable"),
            models=models,
            event_log_ok=events_ok,
            event_log_error=events_error,
            experiment_id=experiment.experiment_id if experiment else None,
        )


def _items(models: tuple[LoadedModel, ...], movie_ids: list[int], scores: list[float]) -> list[dict[str, Any]]:
    def title(movie_id: int) -> str:
        return next((m.titles[movie_id] for m in models if movie_id in m.titles), "")

    def genres(movie_id: int) -> str:
        return next((m.genres[movie_id] for m in models if movie_id in m.genres), "")

    return [
        {
            "movie_id": movie_id,
            "title": title(movie_id),
            "genres": genres(movie_id),
            "score": score,
            "rank": rank,
        }
        for rank, (movie_id, score) in enumerate(zip(movie_ids, scores), start=1)
    ]
