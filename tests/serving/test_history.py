"""New users' recent feedback: the rules that make it a history, the per-instance cache,
and the service folding it in on the real SQLite log (HTTP, both backends: tests/e2e)."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest

from movierec.events import Feedback
from movierec.retraining.signals import SignalRules
from movierec.serving.app import build_app
from movierec.serving.history import CLICK_RATING, RecentFeedback, history_of
from movierec.serving.outcomes import Unavailable
from movierec.serving.service import FeedbackRequest, RecommendRequest, RecommendService
from movierec.settings import Settings
from movierec.stores.local import SQLiteEventLog

NEW_USER = 5_000  # ml-100k's users are 1..943


def event(event_id: str, ts: float, movie_id: int, kind: str = "rating", value: float | None = 5.0) -> Feedback:
    return Feedback(event_id, ts, "req", NEW_USER, movie_id, kind, value if kind == "rating" else None,  # type: ignore[arg-type]
                    1, None, "default")


def test_a_click_counts_as_the_retrain_jobs_implicit_rating():
    assert SignalRules().click_rating == CLICK_RATING


def test_history_takes_the_latest_rating_a_click_only_on_unrated_movies_newest_first():
    newest_first = [
        event("e5", 5.0, 10, "click"),  # a click never overrides a rating
        event("e4", 4.0, 20, value=2.0),  # the latest rating of 20 wins
        event("e3", 3.0, 30, "click"),
        event("e2", 2.0, 20, value=5.0),
        event("e1", 1.0, 10, value=1.0),
    ]
    history = history_of(newest_first)
    assert history.item_ids.tolist() == [10, 20, 30]
    assert history.ratings.tolist() == [1.0, 2.0, CLICK_RATING]


def test_the_cache_keeps_a_users_events_for_its_ttl_and_forgets_them_on_local_feedback(tmp_path):
    log, now = SQLiteEventLog(tmp_path / "events.sqlite"), [0.0]
    recent = RecentFeedback(log, limit=2, ttl_seconds=2.0, read_seconds=0.5, clock=lambda: now[0])
    assert recent.get(NEW_USER) == ()
    log.record_feedback(event("a", 1.0, 10))
    assert [e.event_id for e in recent.get(NEW_USER)] == ["a"]  # an empty answer was not kept
    log.record_feedback(event("b", 2.0, 20))
    log.record_feedback(event("c", 3.0, 30))
    now[0] = 1.9
    assert [e.event_id for e in recent.get(NEW_USER)] == ["a"]  # within the TTL: the kept answer
    now[0] = 2.0
    assert [e.event_id for e in recent.get(NEW_USER)] == ["c", "b"]  # past it: read again, bounded
    log.record_feedback(event("d", 4.0, 40))
    recent.forget(NEW_USER)
    assert [e.event_id for e in recent.get(NEW_USER)] == ["d", "c"]
    assert RecentFeedback(log, limit=0, ttl_seconds=2.0, read_seconds=0.5).get(NEW_USER) == ()


@pytest.fixture
def service(local_env) -> RecommendService:
    return build_app(Settings.from_env(local_env)).service


def rate(service: RecommendService, rec: dict, ranks: range, value: float = 5.0) -> list[int]:
    movies = [rec["items"][r]["movie_id"] for r in ranks]
    for movie_id in movies:
        outcome = service.feedback(FeedbackRequest(rec["request_id"], rec["token"], rec["user_id"], movie_id,
                                                   "rating", value))
        assert outcome.status == "recorded"
    return movies


def test_a_new_user_is_personalised_from_their_feedback_at_once(service):
    popular = service.recommend(RecommendRequest(NEW_USER, top_n=20))
    assert popular["fallback"] == "popular" and popular["history"] == {"source": "none", "events": 0}
    rated = rate(service, popular, range(3, 7))
    rec = service.recommend(RecommendRequest(NEW_USER, top_n=20))
    assert rec["fallback"] is None and rec["history"] == {"source": "feedback", "events": 4}
    shown = [i["movie_id"] for i in rec["items"]]
    assert not set(rated) & set(shown)
    assert shown != [m for m in (i["movie_id"] for i in popular["items"]) if m not in rated][:20]
    known = service.recommend(RecommendRequest(1, top_n=5))
    assert known["fallback"] is None and known["history"] == {"source": "training", "events": 0}


def test_an_unreadable_feedback_log_gives_the_popular_list_and_known_users_never_read_it(service, home):
    rec = service.recommend(RecommendRequest(NEW_USER, top_n=10))
    rate(service, rec, range(2))
    with sqlite3.connect(home / "events.sqlite") as conn:  # the read fails, the impression write does not
        conn.execute("DROP TABLE feedback")
    degraded = service.recommend(RecommendRequest(NEW_USER, top_n=10))
    assert degraded["fallback"] == "popular" and degraded["history"] == {"source": "unavailable", "events": 0}
    assert degraded["items"] == rec["items"]
    assert service.recommend(RecommendRequest(1, top_n=5))["history"]["source"] == "training"
    assert service.events.get_impression(degraded["request_id"]) is not None


def test_a_new_user_whose_impression_cannot_be_stored_gets_503(service, home):
    blocker = sqlite3.connect(home / "events.sqlite", timeout=0.1)
    blocker.execute("BEGIN EXCLUSIVE")  # reads go on (WAL), writes cannot land
    try:
        with pytest.raises(Unavailable):
            service.recommend(RecommendRequest(NEW_USER, top_n=10))
    finally:
        blocker.rollback()
        blocker.close()


def test_without_fold_in_a_new_user_keeps_the_popular_list(local_env):
    service = build_app(replace(Settings.from_env(local_env), foldin_events=0)).service
    rec = service.recommend(RecommendRequest(NEW_USER, top_n=10))
    rate(service, rec, range(3))
    again = service.recommend(RecommendRequest(NEW_USER, top_n=10))
    assert again["fallback"] == "popular" and again["history"] == {"source": "none", "events": 0}
