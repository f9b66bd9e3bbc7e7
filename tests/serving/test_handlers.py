"""The functions through functions-framework's real test client, on the local backends."""

from __future__ import annotations

import json

import pytest
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from movierec.events import Experiment, Variant
from movierec.serving.tokens import sign_token
from tests.fixtures.serving import SECRET


def check_contract(openapi, response) -> None:
    """The response matches the OpenAPI document for its path, method and status."""
    sent = response.request  # its body was consumed by the app; the operation is all we need
    request = Request(
        EnvironBuilder(method=sent.method, path=sent.path, query_string=sent.query_string.decode()).get_environ()
    )
    openapi.validate_response(WerkzeugOpenAPIRequest(request), WerkzeugOpenAPIResponse(response))


def recommend(client, user_id=1, top_n=5):
    response = client.get(f"/recommend?user_id={user_id}&top_n={top_n}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def click(client, rec, rank=1, **overrides):
    body = {
        "request_id": rec["request_id"],
        "token": rec["token"],
        "user_id": rec["user_id"],
        "movie_id": rec["items"][rank - 1]["movie_id"],
        "type": "click",
        **overrides,
    }
    return client.post("/feedback", json=body)


def start_experiment(events, experiment_id="exp1", weights=(0.5, 0.5), salt="s1", status="running"):
    events.put_experiment(
        Experiment(
            experiment_id=experiment_id,
            salt=salt,
            variants=(Variant("A", "svd", None, weights[0]), Variant("B", "ease", None, weights[1])),
            status=status,
            started_at=1.0,
        )
    )


def test_recommend_get_returns_the_contract_and_logs_one_impression(client, events, openapi, ml100k, published):
    response = client.get("/recommend?user_id=1&top_n=5")
    check_contract(openapi, response)
    body = response.get_json()
    assert body["variant"] == "default" and body["experiment"] is None
    assert body["model"] == {"name": "svd", "version": published[1]["svd"]}
    assert [i["rank"] for i in body["items"]] == [1, 2, 3, 4, 5]
    assert all(i["title"] for i in body["items"])
    seen = set(ml100k.ratings.loc[ml100k.ratings["user_id"] == 1, "item_id"])
    assert not seen & {i["movie_id"] for i in body["items"]}
    stored = events.get_impression(body["request_id"])
    assert stored.movie_ids == tuple(i["movie_id"] for i in body["items"])
    assert stored.model_version == published[1]["svd"] and stored.latency_ms > 0
    expires_at = int(body["token"].partition(".")[0])
    assert body["token"] == sign_token(SECRET, body["request_id"], 1, stored.movie_ids, expires_at)


def test_recommend_post_json(client, openapi):
    response = client.post("/recommend", json={"user_id": 7, "top_n": 3})
    check_contract(openapi, response)
    assert len(response.get_json()["items"]) == 3


def test_unknown_user_gets_popular_fallback_and_a_variant(client, events):
    start_experiment(events)
    body = recommend(client, user_id=999_999)
    assert body["fallback"] == "popular"
    assert body["variant"] in ("A", "B") and body["experiment"] == "exp1"
    assert events.get_assignment("exp1", 999_999).variant == body["variant"]


def test_experiment_variant_serves_its_model_and_is_sticky(client, events):
    start_experiment(events)
    first = {u: recommend(client, user_id=u)["variant"] for u in range(1, 40)}
    assert set(first.values()) == {"A", "B"}
    for user, variant in first.items():
        body = recommend(client, user_id=user)
        assert body["variant"] == variant
        assert body["model"]["name"] == {"A": "svd", "B": "ease"}[variant]


def test_stickiness_survives_a_config_change_in_a_new_instance(make_client, local_env, events):
    start_experiment(events)
    before = {u: recommend(make_client(local_env), user_id=u)["variant"] for u in range(1, 30)}
    start_experiment(events, weights=(0.01, 0.99))
    after_client = make_client(local_env)
    after = {u: recommend(after_client, user_id=u)["variant"] for u in range(1, 30)}
    assert after == before


def test_stopped_experiment_serves_the_default(client, events):
    start_experiment(events, status="stopped")
    body = recommend(client, user_id=3)
    assert body["variant"] == "default" and body["experiment"] is None


def test_feedback_is_recorded_once_per_event_id(client, events, openapi):
    rec = recommend(client)
    first = click(client, rec, event_id="evt-1")
    check_contract(openapi, first)
    assert first.status_code == 201
    again = click(client, rec, event_id="evt-1")
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate"
    stored = events.get_feedback(first.get_json()["event_id"])
    assert stored.position == 1 and stored.extra == {"client_event_id": "evt-1"}
    assert len(events.scan("feedback", 0.0)) == 1


def test_feedback_without_event_id_is_idempotent_per_shown_movie(client, events):
    rec = recommend(client)
    assert click(client, rec, rank=2).status_code == 201
    assert click(client, rec, rank=2).status_code == 200
    rating = click(client, rec, rank=2, type="rating", value=4)
    assert rating.status_code == 201
    rows = events.scan("feedback", 0.0)
    assert sorted(r["type"] for r in rows) == ["click", "rating"]
    assert all(r["position"] == 2 and r["variant"] == rec["variant"] for r in rows)


@pytest.mark.parametrize(
    "query, message",
    [
        ("", "user_id is required"),
        ("user_id=abc", "user_id must be an integer in [0, 1000000000000]"),
        ("user_id=-1", "user_id must be an integer in [0, 1000000000000]"),
        ("user_id=1.5", "user_id must be an integer in [0, 1000000000000]"),
        ("user_id=1&top_n=0", "top_n must be an integer in [1, 100]"),
        ("user_id=1&top_n=101", "top_n must be an integer in [1, 100]"),
        ("user_id=1&top_n=ten", "top_n must be an integer in [1, 100]"),
        ("user_id=1&colour=red", "unknown parameter 'colour'"),
    ],
)
def test_bad_recommend_queries_are_400_with_a_message(client, events, openapi, query, message):
    response = client.get(f"/recommend?{query}")
    check_contract(openapi, response)
    assert response.status_code == 400
    assert response.get_json() == {"error": {"code": "invalid_argument", "message": message}}
    assert events.scan("impressions", 0.0) == []


@pytest.mark.parametrize(
    "kwargs, status, fragment",
    [
        ({"data": "{not json", "content_type": "application/json"}, 400, "not valid JSON"),
        ({"data": "[1, 2]", "content_type": "application/json"}, 400, "JSON object"),
        ({"data": "user_id=1", "content_type": "application/x-www-form-urlencoded"}, 415, "application/json"),
        ({"json": {"user_id": "1"}}, 400, "user_id must be an integer in [0, 1000000000000]"),
        ({"json": {"user_id": True}}, 400, "user_id must be an integer in [0, 1000000000000]"),
        ({"json": {"user_id": 1, "top_n": 1000}}, 400, "top_n must be an integer"),
        ({"json": {"user_id": 1, "extra": 1}}, 400, "unknown field 'extra'"),
        ({"json": {"user_id": 1, "pad": "x" * 70_000}}, 413, "exceeds"),
    ],
)
def test_bad_recommend_bodies(client, kwargs, status, fragment):
    response = client.post("/recommend", **kwargs)
    assert response.status_code == status
    assert fragment in response.get_json()["error"]["message"]


def test_wrong_methods_are_405_with_allow(client):
    for method, path in (("put", "/recommend"), ("delete", "/recommend"), ("get", "/feedback")):
        response = getattr(client, method)(path)
        assert response.status_code == 405
        assert response.headers["Allow"]
        assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_unknown_path_is_404_json(client):
    response = client.get("/nope")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "overrides, status, fragment",
    [
        ({"type": "like"}, 400, "type"),
        ({"type": "rating"}, 400, "a rating needs a value"),
        ({"type": "rating", "value": 9}, 400, "a rating needs a value"),
        ({"value": 3}, 400, "only allowed for type 'rating'"),
        ({"movie_id": -4}, 400, "movie_id must be an integer in [0, 1000000000000]"),
        ({"movie_id": 987_654}, 404, "unknown movie_id 987654"),
        ({"token": "0" * 64}, 400, "token must be <expires_at>.<64 hex digits>"),
        ({"token": "9999999999." + "0" * 64}, 403, "token is not valid"),
        ({"user_id": 2}, 403, "token is not valid"),
        ({"request_id": "not-a-request"}, 403, "token is not valid"),
        ({"request_id": None}, 400, "request_id"),
    ],
)
def test_bad_feedback_is_refused_and_nothing_is_stored(client, events, openapi, overrides, status, fragment):
    rec = recommend(client)
    response = click(client, rec, **overrides)
    check_contract(openapi, response)
    assert response.status_code == status, response.get_json()
    assert fragment in response.get_json()["error"]["message"]
    assert events.scan("feedback", 0.0) == []


def test_feedback_for_a_movie_not_shown_is_403(client, events):
    rec = recommend(client, top_n=2)
    shown = {i["movie_id"] for i in rec["items"]}
    other = next(m for m in (50, 100, 181, 258) if m not in shown)
    response = click(client, rec, movie_id=other)
    assert response.status_code == 403
    assert events.scan("feedback", 0.0) == []


def test_replayed_token_on_another_request_is_403(client):
    first, second = recommend(client), recommend(client)
    response = click(client, second, token=first["token"])
    assert response.status_code == 403


def test_feedback_body_checks(client):
    assert client.post("/feedback", data="x", content_type="text/plain").status_code == 415
    assert client.post("/feedback", data="{", content_type="application/json").status_code == 400
    big = json.dumps({"request_id": "r", "token": "t" * 100_000})
    assert client.post("/feedback", data=big, content_type="application/json").status_code == 413


def test_health_reports_loaded_versions(client, openapi, published):
    response = client.get("/healthz")
    check_contract(openapi, response)
    body = response.get_json()
    assert response.status_code == 200 and body["status"] == "ok"
    assert body["models"]["svd"]["version"] == published[1]["svd"]
    assert body["models"]["popular"]["version"] == published[1]["popular"]
    assert body["event_log"] == {"ok": True, "error": None}


def test_corrupt_new_version_is_refused_and_the_last_good_one_keeps_serving(client, home, published):
    from movierec.models.artifact import load_artifact, save_artifact, set_live_version
    from movierec.stores.local import LocalArtifactStore

    store = LocalArtifactStore(home / "artifacts")
    good = published[1]["svd"]
    assert recommend(client)["model"]["version"] == good
    # A new version whose arrays no longer match the manifest (a torn or tampered upload).
    current = load_artifact(store, "svd", good)
    arrays = {**current.arrays, "item_bias": current.arrays["item_bias"] + 1.0}
    bad = save_artifact(store, type(current)("svd", "factors", arrays, files=current.files))
    npz_key = f"models/svd/{bad.version}/arrays.npz"
    store.write_bytes(npz_key, store.read_bytes(npz_key)[:-10] + b"0123456789")
    set_live_version(store, "svd", bad.version, previous=good)

    assert recommend(client)["model"]["version"] == good
    health = client.get("/healthz").get_json()
    assert health["status"] == "degraded"
    assert health["models"]["svd"]["version"] == good
    assert health["models"]["svd"]["error"] == "verification_failed"  # the details are in the logs
    assert health["models"]["svd"]["refused_version"] == bad.version


def test_eventlog_down_gives_503_with_retry_after_and_a_retry_is_stored_once(client, home, events):
    import sqlite3

    rec = recommend(client)
    blocker = sqlite3.connect(home / "events.sqlite", timeout=0.1)
    blocker.execute("BEGIN EXCLUSIVE")  # another writer holds the database: writes cannot land
    try:
        down = click(client, rec, event_id="evt-retry")
        assert down.status_code == 503
        assert int(down.headers["Retry-After"]) >= 1
        assert client.get("/recommend?user_id=2").status_code == 503
    finally:
        blocker.rollback()
        blocker.close()
    assert click(client, rec, event_id="evt-retry").status_code == 201
    assert click(client, rec, event_id="evt-retry").status_code == 200
    assert [r["extra"]["client_event_id"] for r in events.scan("feedback", 0.0)] == ["evt-retry"]
    assert len(events.scan("impressions", 0.0)) == 1


def test_the_deployed_entry_points_serve_their_own_function(monkeypatch, local_env, events):
    """Cloud Run deploys `recommend` and `feedback` as two functions from functions/main.py."""
    from functions_framework import create_app

    from tests.fixtures.serving import FUNCTIONS_SOURCE

    for key, value in local_env.items():
        monkeypatch.setenv(key, value)
    recommender = create_app(target="recommend", source=str(FUNCTIONS_SOURCE)).test_client()
    feedback_fn = create_app(target="feedback", source=str(FUNCTIONS_SOURCE)).test_client()
    rec = recommend(recommender, user_id=5, top_n=3)
    assert len(rec["items"]) == 3
    assert recommender.get("/?health=1").get_json()["status"] == "ok"
    assert click(feedback_fn, rec).status_code == 201
    assert feedback_fn.get("/").status_code == 405  # the feedback function only takes POST
    assert len(events.scan("feedback", 0.0)) == 1
