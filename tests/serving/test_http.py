"""The HTTP layer's two jobs: one table from outcomes to statuses, one parser per request type."""

from __future__ import annotations

import json
from typing import get_args

import pytest

from movierec.responses import RETRY_AFTER_SECONDS
from movierec.serving import http
from movierec.serving.outcomes import (
    Conflict,
    FeedbackOutcome,
    FeedbackStatus,
    Forbidden,
    Health,
    HealthState,
    InvalidFeedback,
    ServingError,
    Unavailable,
    UnknownMovie,
)


def every_subclass(cls: type) -> set[type]:
    return {sub for direct in cls.__subclasses__() for sub in {direct, *every_subclass(direct)}}


def test_every_serving_error_has_a_status_and_a_code():
    assert set(http.ERROR_STATUS) == every_subclass(ServingError)
    for status, code in http.ERROR_STATUS.values():
        assert 400 <= status < 600 and code


@pytest.mark.parametrize(
    "error, status, code, message",
    [
        (InvalidFeedback("a rating needs a value in [1, 5]"), 400, "invalid_argument", "a rating needs a value in [1, 5]"),
        (UnknownMovie(987_654), 404, "not_found", "unknown movie_id 987654"),
        (Conflict("event_id 'e' was already used"), 409, "conflict", "event_id 'e' was already used"),
        (Forbidden(), 403, "permission_denied", "token is not valid for this request, user and movie"),
        (Unavailable("the event log cannot be read"), 503, "unavailable", "the event log cannot be read; retry later"),
    ],
)
def test_each_error_leaves_as_its_status_and_only_a_503_says_when_to_retry(error, status, code, message):
    response = http.error_for(error)
    assert response.status_code == status
    assert json.loads(response.get_data()) == {"error": {"code": code, "message": message}}
    assert response.headers.get("Retry-After") == (str(RETRY_AFTER_SECONDS) if status == 503 else None)


@pytest.mark.parametrize("status", get_args(FeedbackStatus))
def test_every_feedback_outcome_has_a_status(status):
    response = http.feedback_response(FeedbackOutcome("evt-1", status))
    assert response.status_code == {"recorded": 201, "duplicate": 200}[status]
    assert json.loads(response.get_data()) == {"event_id": "evt-1", "status": status}


@pytest.mark.parametrize("state", get_args(HealthState))
def test_every_health_state_has_a_status(state):
    health = Health(state, {"svd": {"version": None, "loaded_at": None, "error": "x"}}, False, "down", "exp1")
    response = http.health_response(health)
    assert response.status_code == {"ok": 200, "degraded": 200, "unavailable": 503}[state]
    assert json.loads(response.get_data()) == {
        "status": state,
        "models": {"svd": {"version": None, "loaded_at": None, "error": "x"}},
        "event_log": {"ok": False, "error": "down"},
        "experiment": "exp1",
    }


def test_an_instance_without_models_is_unavailable(make_client, local_env, tmp_path):
    client = make_client({**local_env, "MOVIEREC_HOME": str(tmp_path / "no-artifacts")})
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["status"] == "unavailable"
    refused = client.get("/recommend?user_id=1")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    # A first run (nothing trained) says which command to run.
    message = refused.get_json()["error"]["message"]
    assert "no model is trained yet" in message and "run `movierec train`" in message


# ---------------------------------------------------------------- one parser for GET and POST
@pytest.mark.parametrize(
    "query, body",
    [
        ("", {}),
        ("top_n=5", {"top_n": 5}),
        ("user_id=abc", {"user_id": "abc"}),
        ("user_id=-1", {"user_id": -1}),
        ("user_id=1.5", {"user_id": 1.5}),
        ("user_id=1000000000001", {"user_id": 10**12 + 1}),
        ("user_id=1&top_n=0", {"user_id": 1, "top_n": 0}),
        ("user_id=1&top_n=101", {"user_id": 1, "top_n": 101}),
        ("user_id=1&top_n=ten", {"user_id": 1, "top_n": "ten"}),
        ("user_id=abc&top_n=ten", {"user_id": "abc", "top_n": "ten"}),
    ],
)
def test_get_and_post_refuse_the_same_values_with_the_same_message(client, query, body):
    got, posted = client.get(f"/recommend?{query}"), client.post("/recommend", json=body)
    assert got.status_code == posted.status_code == 400
    assert got.get_json() == posted.get_json()


def test_get_and_post_accept_the_same_request(client):
    got = client.get("/recommend?user_id=007&top_n=3").get_json()
    posted = client.post("/recommend", json={"user_id": 7, "top_n": 3}).get_json()
    assert got["user_id"] == posted["user_id"] == 7
    assert [i["movie_id"] for i in got["items"]] == [i["movie_id"] for i in posted["items"]]


@pytest.mark.parametrize(
    "query, message",
    [
        ("user_id=", "user_id is required"),  # a blank form field
        ("user_id=1&top_n=", "top_n must be an integer in [1, 100]"),
        ("user_id=1%0A", "user_id must be an integer in [0, 1000000000000]"),
        ("user_id=1%20", "user_id must be an integer in [0, 1000000000000]"),
        ("user_id=%201", "user_id must be an integer in [0, 1000000000000]"),
        ("user_id=%2B1", "user_id must be an integer in [0, 1000000000000]"),
        ("user_id=1&top_n=5%0A", "top_n must be an integer in [1, 100]"),
        ("user_id=%EF%BC%91", "user_id must be an integer in [0, 1000000000000]"),  # a full-width digit one
        ("zeta=1&alpha=2", "unknown parameter 'alpha'"),  # unknown names first, alphabetically
    ],
)
def test_query_strings_carry_ascii_numbers_only(client, query, message):
    response = client.get(f"/recommend?{query}")
    assert response.status_code == 400
    assert response.get_json() == {"error": {"code": "invalid_argument", "message": message}}


def test_an_unknown_name_is_a_parameter_in_a_query_and_a_field_in_a_body(client):
    assert client.get("/recommend?user_id=1&colour=red").get_json()["error"]["message"] == "unknown parameter 'colour'"
    posted = client.post("/recommend", json={"user_id": 1, "colour": "red"})
    assert posted.get_json()["error"]["message"] == "unknown field 'colour'"


def test_an_untrained_instance_says_what_to_run_once_in_its_log(make_client, local_env, tmp_path, caplog):
    with caplog.at_level("ERROR", logger="movierec.serving.service"):
        client = make_client({**local_env, "MOVIEREC_HOME": str(tmp_path / "no-artifacts")})
        for _ in range(3):
            client.get("/healthz")
    told = [r for r in caplog.records if "run `movierec train`" in r.getMessage()]
    assert len(told) == 1, [r.getMessage() for r in caplog.records]


# ---------------------------------------------------------------- explain
def test_explain_adds_reasons_and_the_scores_meaning_and_the_default_is_unchanged(client, openapi):
    from tests.serving.test_handlers import check_contract

    plain = client.get("/recommend?user_id=196&top_n=5")
    explained = client.get("/recommend?user_id=196&top_n=5&explain=true")
    posted = client.post("/recommend", json={"user_id": 196, "top_n": 5, "explain": True})
    for response in (plain, explained, posted):
        assert response.status_code == 200
        check_contract(openapi, response)
    assert all(set(i) == {"movie_id", "title", "genres", "score", "rank"} for i in plain.get_json()["items"])
    items = explained.get_json()["items"]
    assert [i["movie_id"] for i in items] == [i["movie_id"] for i in plain.get_json()["items"]]
    assert {i["score_meaning"] for i in items} == {"predicted rating (stars)"}  # svd, the default model
    assert all(1 <= len(i["reasons"]) <= 3 and all(r["title"] and r["rating"] for r in i["reasons"]) for i in items)
    assert [i["reasons"] for i in posted.get_json()["items"]] == [i["reasons"] for i in items]
    assert client.get("/recommend?user_id=196&explain=false").get_json()["items"][0].keys() == plain.get_json()["items"][0].keys()


def test_an_unknown_user_gets_the_popular_meaning_and_no_reasons(client):
    items = client.get("/recommend?user_id=999999&top_n=3&explain=true").get_json()["items"]
    assert all(i["reasons"] == [] and i["score_meaning"].startswith("number of ratings") for i in items)


@pytest.mark.parametrize("query", ["explain=yes", "explain=1", "explain=True", "explain=", "explain=true%0A"])
def test_explain_is_true_or_false(client, query):
    response = client.get(f"/recommend?user_id=1&{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "explain must be true or false"


@pytest.mark.parametrize("value", ["true", 1, None])
def test_explain_in_a_body_is_a_json_boolean(client, value):
    response = client.post("/recommend", json={"user_id": 1, "explain": value})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "explain must be true or false"
