"""The service without HTTP: it answers with outcomes and domain errors, never a status."""

from __future__ import annotations

import pytest

from movierec.serving.app import build_app
from movierec.serving.outcomes import (
    Conflict,
    FeedbackOutcome,
    Forbidden,
    InvalidFeedback,
    UnknownMovie,
)
from movierec.serving.service import (
    FeedbackRequest,
    RecommendRequest,
    RecommendService,
    scoped_event_id,
)
from movierec.settings import Settings


@pytest.fixture
def service(local_env) -> RecommendService:
    return build_app(Settings.from_env(local_env)).service


def click_on(rec: dict, **overrides) -> FeedbackRequest:
    fields = {
        "request_id": rec["request_id"],
        "token": rec["token"],
        "user_id": rec["user_id"],
        "movie_id": rec["items"][0]["movie_id"],
        "type": "click",
        "event_id": "evt-1",
        **overrides,
    }
    return FeedbackRequest(**fields)


def test_feedback_is_recorded_then_a_duplicate_under_its_request_scoped_key(service):
    rec = service.recommend(RecommendRequest(user_id=1, top_n=3))
    key = scoped_event_id(rec["request_id"], "evt-1")
    assert service.feedback(click_on(rec)) == FeedbackOutcome(key, "recorded")
    assert service.feedback(click_on(rec)) == FeedbackOutcome(key, "duplicate")
    with pytest.raises(Conflict, match="event_id 'evt-1' was already used"):
        service.feedback(click_on(rec, movie_id=rec["items"][1]["movie_id"]))


@pytest.mark.parametrize(
    "overrides, error, message",
    [
        ({"value": 3.0}, InvalidFeedback, "value is only allowed for type 'rating'"),
        ({"type": "rating", "value": 0.5}, InvalidFeedback, r"a rating needs a value in \[1, 5\]"),
        ({"movie_id": 987_654}, UnknownMovie, "unknown movie_id 987654"),
        ({"token": "0" * 64}, Forbidden, "token is not valid"),
        ({"token": "1." + "0" * 64}, Forbidden, "token is not valid"),
        ({"user_id": 2}, Forbidden, "token is not valid"),
    ],
)
def test_refused_feedback_raises_what_went_wrong(service, overrides, error, message):
    rec = service.recommend(RecommendRequest(user_id=1, top_n=3))
    with pytest.raises(error, match=message):
        service.feedback(click_on(rec, **overrides))


def test_health_is_a_value(service, published):
    health = service.health()
    assert health.state == "ok" and health.event_log_ok and health.event_log_error is None
    assert health.models["svd"]["version"] == published[1]["svd"]
    assert health.experiment_id is None


def test_what_an_instance_loads_at_start_is_frozen_out_of_the_collector(local_env) -> None:
    """Models, titles and clients live as long as the instance: after warm-up the collector
    no longer walks them (a full collection over them paused requests 16-37 ms)."""
    import gc

    try:
        service = build_app(Settings.from_env(local_env)).service
        model = service.models.get("svd")
        assert model is not None and gc.get_freeze_count() > 0
        assert not any(o is model.titles for o in gc.get_objects())
    finally:
        gc.unfreeze()
