"""Every class of hostile input gets its documented 4xx with a JSON body, through the real
functions (functions-framework's test client over the local backends)."""

from __future__ import annotations

import json
import time

import pytest

from movierec.serving.tokens import sign_token
from movierec.stores.validation import validate_event_id
from tests.fixtures.serving import SECRET
from tests.serving.test_handlers import check_contract, click, recommend

MAX_ID = 10**12


def assert_refused(response, status: int, fragment: str = "") -> None:
    assert response.status_code == status, response.get_data()[:300]
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) == {"code", "message"} and fragment in error["message"]


# ---------------------------------------------------------------- bodies
@pytest.mark.parametrize("path", ["/recommend", "/feedback"])
@pytest.mark.parametrize(
    "raw, fragment",
    [
        ("[" * 30_000, "nests too deeply"),
        ('{"a":' * 6_000 + "1" + "}" * 6_000, "nests too deeply"),
        ('{"user_id": NaN}', "not valid JSON"),
        ('{"user_id": Infinity}', "not valid JSON"),
        ('{"user_id": 1} trailing', "not valid JSON"),
    ],
)
def test_unparseable_bodies_are_400_never_500(client, events, path, raw, fragment):
    assert_refused(client.post(path, data=raw, content_type="application/json"), 400, fragment)
    assert events.scan("impressions", 0.0) == [] and events.scan("feedback", 0.0) == []


def test_a_body_over_the_limit_is_413_and_one_at_the_limit_is_parsed(client):
    limit = 64 * 1024
    at_limit = b'{"user_id": 1' + b" " * (limit - len(b'{"user_id": 1}')) + b"}"
    assert len(at_limit) == limit
    assert client.post("/recommend", data=at_limit, content_type="application/json").status_code == 200
    over = at_limit[:-1] + b" }"
    assert_refused(client.post("/recommend", data=over, content_type="application/json"), 413, "65536")


# ---------------------------------------------------------------- JSON types
@pytest.mark.parametrize(
    "body, ok",
    [
        ({"user_id": 7}, True),
        ({"user_id": 7.0}, True),  # JSON Schema's integer, as the OpenAPI document says
        ({"user_id": 7, "top_n": 3.0}, True),
        ({"user_id": 7.5}, False),
        ({"user_id": "7"}, False),
        ({"user_id": True}, False),
        ({"user_id": None}, False),
        ({"user_id": MAX_ID}, True),
        ({"user_id": MAX_ID + 1}, False),
        ({"user_id": 1e300}, False),
    ],
)
def test_integers_are_json_integers(client, body, ok):
    response = client.post("/recommend", json=body)
    if ok:
        assert response.status_code == 200 and response.get_json()["user_id"] == int(body["user_id"])
    else:
        assert_refused(response, 400, "must be an integer in")


@pytest.mark.parametrize("value", ["4", True, [4], {"v": 4}])
def test_a_rating_value_is_a_json_number(client, events, value):
    rec = recommend(client)
    assert_refused(click(client, rec, type="rating", value=value), 400, "value")
    assert events.scan("feedback", 0.0) == []


def test_an_integer_rating_is_stored_as_that_number(client, events):
    rec = recommend(client)
    assert click(client, rec, type="rating", value=4).status_code == 201
    assert [r["value"] for r in events.scan("feedback", 0.0)] == [4.0]


# ---------------------------------------------------------------- ids: the stores' own rule
IDS = [".", "..", "__x__", "_a", "a/b", "a\n", "a ", " a", "é", "a" * 128, "a" * 129, "", "a:b.c_d-e", "evt-1"]


def store_accepts(value: str) -> bool:
    try:
        validate_event_id("event_id", value)
        return True
    except ValueError:
        return False


@pytest.mark.parametrize("field", ["event_id", "request_id"])
@pytest.mark.parametrize("value", IDS)
def test_the_edge_refuses_exactly_the_ids_the_stores_refuse(client, events, openapi, field, value):
    rec = recommend(client)
    response = click(client, rec, **{field: value})
    check_contract(openapi, response)
    if store_accepts(value):
        # an accepted event_id is stored; an accepted but unknown request_id is not ours
        assert response.status_code == (201 if field == "event_id" else 403)
    else:
        assert_refused(response, 400, f"{field} must be 1 to 128 letters")
        assert events.scan("feedback", 0.0) == []


def test_the_documented_id_pattern_is_the_stores_rule(openapi):
    from movierec.stores.validation import ID_PATTERN

    schemas = openapi.spec / "components" / "schemas"
    assert (schemas / "Id" / "pattern").read_str() == ID_PATTERN


# ---------------------------------------------------------------- event ids
def test_another_users_event_id_is_another_event_not_a_duplicate(client, events):
    mine, theirs = recommend(client, user_id=1), recommend(client, user_id=2)
    first, second = click(client, mine, event_id="e1"), click(client, theirs, event_id="e1")
    assert first.status_code == second.status_code == 201
    assert first.get_json()["event_id"] != second.get_json()["event_id"]
    assert sorted(r["user_id"] for r in events.scan("feedback", 0.0)) == [1, 2]


def test_an_exact_retry_is_a_duplicate_and_a_different_event_under_its_id_is_409(client, events, openapi):
    rec = recommend(client)
    assert click(client, rec, event_id="e1").status_code == 201
    assert click(client, rec, event_id="e1").get_json()["status"] == "duplicate"
    conflict = click(client, rec, rank=2, event_id="e1")
    check_contract(openapi, conflict)
    assert_refused(conflict, 409, "event_id 'e1' was already used")
    assert_refused(click(client, rec, event_id="e1", type="rating", value=3), 409, "already used")
    assert [r["position"] for r in events.scan("feedback", 0.0)] == [1]


def test_a_second_rating_of_a_movie_with_another_value_is_409(client, events):
    rec = recommend(client)
    assert click(client, rec, type="rating", value=4).status_code == 201
    assert click(client, rec, type="rating", value=4).status_code == 200
    assert_refused(click(client, rec, type="rating", value=2), 409, "already recorded with another value")
    assert [r["value"] for r in events.scan("feedback", 0.0)] == [4.0]


# ---------------------------------------------------------------- token expiry
def resigned(rec: dict, shown: tuple[int, ...], expires_at: int) -> str:
    return sign_token(SECRET, rec["request_id"], rec["user_id"], shown, expires_at)


def test_a_token_expires_after_the_configured_ttl(make_client, local_env, events):
    client = make_client({**local_env, "MOVIEREC_TOKEN_TTL_SECONDS": "1"})
    rec = recommend(client)
    assert int(rec["token"].partition(".")[0]) <= time.time() + 2
    time.sleep(2.1)
    assert_refused(click(client, rec), 403, "token has expired")
    assert events.scan("feedback", 0.0) == []


def test_the_default_expiry_is_a_day_and_is_signed(client, events):
    rec = recommend(client)
    expires_at = int(rec["token"].partition(".")[0])
    assert 86_400 - 5 <= expires_at - time.time() <= 86_400 + 5
    shown = events.get_impression(rec["request_id"]).movie_ids
    past = resigned(rec, shown, int(time.time()) - 1)
    assert_refused(click(client, rec, token=past), 403, "token has expired")
    extended = f"{expires_at + 10**6}.{rec['token'].partition('.')[2]}"  # a later expiry, same signature
    assert_refused(click(client, rec, token=extended), 403, "token is not valid")
    assert click(client, rec).status_code == 201


# ---------------------------------------------------------------- headers, paths, health, metrics
def test_every_api_answer_is_no_store_and_nosniff(client):
    rec = recommend(client)
    answers = [
        client.get("/recommend?user_id=1"), client.get("/recommend?user_id=x"), client.put("/recommend"),
        click(client, rec), client.get("/healthz"), client.get("/nope"), client.get("/recommend%0A"),
        client.post("/recommend", data="x" * 70_000, content_type="application/json"), client.get("/api/users"),
        client.get("/metrics"),
    ]
    for response in answers:
        assert response.headers["Cache-Control"] == "no-store", response.request.path
        assert response.headers["X-Content-Type-Options"] == "nosniff", response.request.path


def test_html_pages_carry_a_content_security_policy(client):
    for path in ("/", "/assets/app.js", "/assets/style.css"):
        response = client.get(path)
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/recommend%0A", "/%0A", "/feedback%0D%0Ax", "/favicon.ico", "/robots.txt"])
def test_paths_no_route_matches_are_a_json_404(client, path):
    assert_refused(client.get(path), 404, "no route")


def test_health_names_states_never_paths_or_raw_errors(make_client, local_env, home, caplog):
    (home / "events.sqlite").mkdir()  # the event log cannot be opened
    (home / "artifacts" / "models" / "ease").rename(home / "artifacts" / "ease-moved")
    client = make_client({**local_env, "MOVIEREC_DEFAULT_MODEL": "ease"})
    response = client.get("/healthz")
    body = response.get_json()
    assert body["event_log"] == {"ok": False, "error": "unavailable"}
    assert body["models"]["ease"]["error"] == "no_live_version"
    text = json.dumps(body)
    assert str(home) not in text and "sqlite" not in text.lower() and "/" not in text
    assert str(home) in caplog.text  # the details went to the logs


def test_metrics_are_served_to_loopback_only_without_a_token(client):
    assert client.get("/metrics").status_code == 200
    remote = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert_refused(remote, 403, "loopback")


def test_metrics_need_the_bearer_token_beyond_loopback(make_client, local_env):
    client = make_client({**local_env, "MOVIEREC_METRICS_TOKEN": "s3cret-scrape"})
    remote = {"REMOTE_ADDR": "10.1.2.3"}
    missing = client.get("/metrics", environ_base=remote)
    assert_refused(missing, 401, "Bearer")
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/metrics", environ_base=remote, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = client.get("/metrics", environ_base=remote, headers={"Authorization": "Bearer s3cret-scrape"})
    assert right.status_code == 200 and b"movierec" in right.get_data()
