"""New users over real HTTP, on each backend: the popular list first, then, once they rate
a few movies through /feedback, a list personalised from those ratings, for A (SVD,
folded into factor space) and B (EASE, scoring the history)."""

from __future__ import annotations

import time

import pytest
import requests

from movierec.experiments.config import create_experiment, parse_variants
from tests.e2e.server import running_server

pytestmark = [pytest.mark.e2e]

FIRST_NEW_USER = 10_000  # ml-100k's users are 1..943
RATED = 5
# A genre with enough movies among the 100 most popular and none in their top 10, so that
# a list led by it can only come from the ratings.
GENRE = "Musical"


def recommend(url: str, user_id: int, top_n: int) -> dict:
    response = requests.get(f"{url}/recommend", params={"user_id": user_id, "top_n": top_n}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def new_user_in(url: str, variant: str, taken: set[int]) -> tuple[int, dict]:
    """A user unknown to the models whom the experiment assigns to ``variant``, and their first list."""
    for user_id in range(FIRST_NEW_USER, FIRST_NEW_USER + 200):
        if user_id not in taken:
            rec = recommend(url, user_id, 100)
            taken.add(user_id)
            if rec["variant"] == variant:
                return user_id, rec
    raise AssertionError(f"no new user landed in {variant}")


def genre_share(items: list[dict], genre: str) -> float:
    return sum(genre in item["genres"].split("|") for item in items) / len(items)


def rate(url: str, rec: dict, movie_ids: list[int]) -> None:
    for movie_id in movie_ids:
        body = {"request_id": rec["request_id"], "token": rec["token"], "user_id": rec["user_id"],
                "movie_id": movie_id, "type": "rating", "value": 5.0}
        response = requests.post(f"{url}/feedback", json=body, timeout=30)
        assert response.status_code == 201, response.text


@pytest.mark.parametrize("variant, model", [("A", "svd"), ("B", "ease")])
def test_a_new_user_is_personalised_by_their_ratings_at_once(backend, tmp_path, variant, model):
    create_experiment(backend.events, backend.artifacts, "foldin", parse_variants("A=svd,B=ease", "50,50"),
                      now=time.time(), salt="foldin-e2e")
    with running_server(backend.env, tmp_path / "server.log") as url:
        user_id, first = new_user_in(url, variant, set())
        assert first["model"]["name"] == model
        assert first["fallback"] == "popular" and first["history"] == {"source": "none", "events": 0}
        popular = first["items"]
        rated = [item["movie_id"] for item in popular if GENRE in item["genres"].split("|")][:RATED]
        assert len(rated) == RATED and genre_share(popular[:10], GENRE) == 0
        rate(url, first, rated)

        rec = recommend(url, user_id, 10)  # the very next list, on whichever worker answers
    assert rec["variant"] == variant and rec["model"]["name"] == model
    assert rec["fallback"] is None and rec["history"] == {"source": "feedback", "events": RATED}
    shown = [item["movie_id"] for item in rec["items"]]
    assert not set(shown) & set(rated)
    popular_unrated = [item for item in popular if item["movie_id"] not in rated][:10]
    assert shown != [item["movie_id"] for item in popular_unrated]
    if model == "ease":  # B scores the history itself: rating one genre raises that genre
        assert genre_share(rec["items"], GENRE) >= genre_share(popular_unrated, GENRE) + 0.2, rec["items"]
    stored = backend.events.get_impression(rec["request_id"])
    assert stored is not None and list(stored.movie_ids) == shown and stored.fallback is None
