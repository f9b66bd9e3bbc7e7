"""The functions over real HTTP, against each backend: every 200/201 is stored exactly once,
variant shares follow the weights, and an outage gives 503 without losing or doubling events.

(The local SQLite log's outage, a locked database, is tested in tests/serving.)"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from scipy.stats import chisquare

from movierec.experiments.config import create_experiment, parse_variants
from tests.e2e.server import running_server

pytestmark = [pytest.mark.e2e]

N_USERS = 400
WEIGHTS = (0.3, 0.7)


def client_event_id(stored: dict) -> str:
    """The event_id the client sent (the stored key is scoped to its request)."""
    return stored["extra"]["client_event_id"]


def drive(url: str, users: range) -> tuple[list[dict], Counter]:
    """One recommendation per user, a click on the first item for every third user (sent twice)."""
    statuses: Counter = Counter()

    def one(user: int) -> dict | None:
        with requests.Session() as session:
            response = session.get(f"{url}/recommend", params={"user_id": user, "top_n": 5}, timeout=30)
            statuses[f"recommend {response.status_code}"] += 1
            if response.status_code != 200:
                return None
            rec = response.json()
            if user % 3 == 0:
                body = {
                    "event_id": f"click-{user}",
                    "request_id": rec["request_id"],
                    "token": rec["token"],
                    "user_id": user,
                    "movie_id": rec["items"][0]["movie_id"],
                    "type": "click",
                }
                for _ in range(2):  # a client retry: the second must be a duplicate
                    statuses[f"feedback {session.post(f'{url}/feedback', json=body, timeout=30).status_code}"] += 1
            return rec

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [r for r in pool.map(one, users) if r is not None]
    return results, statuses


def test_every_accepted_request_is_stored_once_and_shares_follow_weights(backend, tmp_path):
    create_experiment(  # a fixed salt: the same users land in the same variants every run
        backend.events, backend.artifacts, "e2e", parse_variants("A=svd,B=ease", "30,70"), now=time.time(),
        salt="e2e-shares",
    )
    with running_server(backend.env, tmp_path / "server.log") as url:
        recs, statuses = drive(url, range(1, N_USERS + 1))
    assert statuses["recommend 200"] == N_USERS, statuses
    clicks = len([u for u in range(1, N_USERS + 1) if u % 3 == 0])
    assert statuses["feedback 201"] == clicks and statuses["feedback 200"] == clicks, statuses

    impressions = {row["request_id"]: row for row in backend.events.scan("impressions", 0.0)}
    assert len(impressions) == N_USERS
    assert {r["request_id"] for r in recs} == set(impressions)
    for rec in recs:
        stored = impressions[rec["request_id"]]
        assert stored["movie_ids"] == [i["movie_id"] for i in rec["items"]]
        assert stored["variant"] == rec["variant"] and stored["model_version"] == rec["model"]["version"]
    feedback = backend.events.scan("feedback", 0.0)
    assert sorted(client_event_id(f) for f in feedback) == sorted(f"click-{u}" for u in range(3, N_USERS + 1, 3))

    shares = Counter(r["variant"] for r in recs)
    assert set(shares) == {"A", "B"}
    observed = [shares["A"], shares["B"]]
    expected = [N_USERS * w for w in WEIGHTS]
    assert chisquare(observed, expected).pvalue > 0.001, observed
    for rec in recs:
        assert rec["model"]["name"] == {"A": "svd", "B": "ease"}[rec["variant"]]
        assert backend.events.get_assignment("e2e", rec["user_id"]).variant == rec["variant"]


def _click_body(rec: dict, event_id: str) -> dict:
    return {
        "event_id": event_id,
        "request_id": rec["request_id"],
        "token": rec["token"],
        "user_id": rec["user_id"],
        "movie_id": rec["items"][0]["movie_id"],
        "type": "click",
    }


def _post_until_stored(url: str, body: dict, timeout: float = 60.0) -> int:
    deadline, status = time.monotonic() + timeout, 503
    while status == 503 and time.monotonic() < deadline:  # the client reconnects with back-off
        status = requests.post(f"{url}/feedback", json=body, timeout=60).status_code
        if status == 503:
            time.sleep(1)
    return status


def test_hung_firestore_gives_503_and_the_retry_is_stored_exactly_once(gcp_backend, tmp_path):
    emulator = gcp_backend.emulator
    with running_server(gcp_backend.env, tmp_path / "server.log") as url:
        rec = requests.get(f"{url}/recommend", params={"user_id": 42}, timeout=30).json()
        body = _click_body(rec, "outage-1")
        emulator.pause()
        try:
            down = requests.post(f"{url}/feedback", json=body, timeout=60)
            assert down.status_code == 503, down.text
            assert int(down.headers["Retry-After"]) >= 1
            assert down.json()["error"]["code"] == "unavailable"
            assert requests.get(f"{url}/recommend", params={"user_id": 43}, timeout=60).status_code == 503
        finally:
            emulator.resume()
        assert _post_until_stored(url, body) == 201
        # Each worker has its own breaker: another worker may still answer 503 for up to
        # its reset period, never store the event twice.
        assert _post_until_stored(url, body) == 200
    assert [client_event_id(f) for f in gcp_backend.events.scan("feedback", 0.0)] == ["outage-1"]


def test_stopped_firestore_gives_503_and_service_recovers_when_it_returns(gcp_backend, tmp_path):
    emulator = gcp_backend.emulator
    with running_server(gcp_backend.env, tmp_path / "server.log") as url:
        rec = requests.get(f"{url}/recommend", params={"user_id": 7}, timeout=30).json()
        emulator.stop()
        try:
            assert requests.post(f"{url}/feedback", json=_click_body(rec, "x"), timeout=60).status_code == 503
            down = requests.get(f"{url}/recommend", params={"user_id": 8}, timeout=60)
            assert down.status_code == 503 and down.headers["Retry-After"]
        finally:
            emulator.start()  # an in-memory emulator comes back empty
        deadline = time.monotonic() + 60
        while (response := requests.get(f"{url}/recommend", params={"user_id": 8}, timeout=60)).status_code == 503:
            assert time.monotonic() < deadline, "service did not recover"
            time.sleep(1)
        assert response.status_code == 200
        assert _post_until_stored(url, _click_body(response.json(), "after")) == 201
    assert [client_event_id(f) for f in gcp_backend.events.scan("feedback", 0.0)] == ["after"]
