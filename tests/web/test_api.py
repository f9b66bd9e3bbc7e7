"""The page's routes through functions-framework's real test client, on the local backends."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from html.parser import HTMLParser

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.serving.test_handlers import check_contract, click, recommend, start_experiment


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def test_page_is_served_with_its_assets_and_loads_nothing_from_elsewhere(client):
    page = client.get("/")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    links = _Links()
    links.feed(page.get_data(as_text=True))
    assert sorted(links.urls) == ["/assets/app.js", "/assets/signin.js", "/assets/style.css", "data:,"]  # data: the empty icon

    script = client.get("/assets/app.js")
    style = client.get("/assets/style.css")
    assert (script.status_code, script.mimetype) == (200, "text/javascript")
    assert (style.status_code, style.mimetype) == (200, "text/css")
    assert script.headers["X-Content-Type-Options"] == "nosniff"
    # The one absolute URL in the script is the SVG namespace, an identifier, not a fetch.
    urls = set(re.findall(r"https?://[^\s\"'`)]+", script.get_data(as_text=True)))
    assert urls == {"http://www.w3.org/2000/svg"}
    css = style.get_data(as_text=True)
    assert "@import" not in css and "http" not in css


@pytest.mark.parametrize(
    "path",
    [
        "/assets/missing.js",
        "/assets/../pyproject.toml",
        "/assets/%2e%2e/%2e%2e/pyproject.toml",
        "/assets/..%2fserving%2fapp.py",
        "/assets/assets/app.js",
        "/assets",
        "/api/nothing",
    ],
)
def test_nothing_outside_the_allow_list_is_served(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/", "/assets/app.js", "/api/ab", "/api/users"])
def test_page_routes_only_answer_get(client, path):
    response = client.post(path, json={})
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_ab_without_an_experiment_says_how_to_start_one(client, openapi):
    response = client.get("/api/ab")
    check_contract(openapi, response)
    body = response.get_json()
    assert body["experiment"] is None and body["variants"] == []
    assert "movierec experiment create" in body["message"]
    assert response.headers["Cache-Control"] == "no-store"


def test_ab_panel_counts_what_clients_did(client, events, openapi):
    start_experiment(events)
    recs = [recommend(client, user, top_n=5) for user in range(1, 25)]
    recs += [recommend(client, 3, top_n=5), recommend(client, 4, top_n=5)]  # returning users
    clicked = recs[::3]
    for rec in clicked:
        assert click(client, rec).status_code == 201
    assert click(client, clicked[0]).status_code == 200  # a duplicate is not a second click
    rated = recs[1]
    rating = {"type": "rating", "value": 4.0}
    assert click(client, rated, rank=2, **rating).status_code == 201

    response = client.get("/api/ab")
    check_contract(openapi, response)
    panel = response.get_json()

    users, impressions, clicks, ratings = defaultdict(set), Counter(), Counter(), Counter()
    for rec in recs:
        users[rec["variant"]].add(rec["user_id"])
        impressions[rec["variant"]] += 1
    for rec in clicked:
        clicks[rec["variant"]] += 1
    ratings[rated["variant"]] += 1
    assert set(users) == {"A", "B"}  # 24 users split by the hash: both arms have some
    assert panel["experiment"]["id"] == "exp1" and panel["experiment"]["control"] == "A"
    by_name = {v["name"]: v for v in panel["variants"]}
    assert list(by_name) == ["A", "B"]
    for name, v in by_name.items():
        assert (v["users"], v["impressions"], v["clicks"], v["ratings"]) == (
            len(users[name]), impressions[name], clicks[name], ratings[name]
        )
        assert v["model"] == {"A": "svd", "B": "ease"}[name] and v["version"] is None
        assert v["ctr"] == pytest.approx(clicks[name] / impressions[name])  # a ratio of sums
        if v["ctr_ci"] is not None:
            assert v["ctr_ci"][0] <= v["ctr"] <= v["ctr_ci"][1]
    # A config without a plan: the primary, then the other metrics as exploratory rows.
    primary, *others = panel["comparisons"]
    assert (primary["role"], primary["variant"], primary["metric"]) == ("primary", "B", "ctr")
    assert {c["role"] for c in others} <= {"secondary"}
    assert panel["verdict"]["code"] in ("keep_running", "no_difference", "wins", "loses", "srm")
    assert panel["verdict"]["text"] and panel["verdict"]["reasons"]
    assert any(line.startswith("no recorded plan") for line in panel["checks"])


def test_known_users_are_the_default_models_users(client, ml100k, openapi):
    response = client.get("/api/users")
    check_contract(openapi, response)
    assert response.get_json()["user_ids"] == sorted(int(u) for u in np.unique(ml100k.ratings["user_id"]))


def test_page_requests_are_counted_under_the_web_label(client):
    for path in ("/", "/assets/app.js", "/api/users"):
        assert client.get(path).status_code == 200
    assert client.get("/assets/nope.js").status_code == 404
    families = text_string_to_metric_families(client.get("/metrics").get_data(as_text=True))
    web = [
        s for f in families for s in f.samples
        if s.name == "movierec_requests_total" and s.labels.get("function") == "web"
    ]
    assert sum(s.value for s in web) == 4


# ---------------------------------------------------------------- the catalogue routes
def test_title_search_finds_movies_most_rated_first(client, openapi):
    response = client.get("/api/movies?q=fargo")
    assert response.status_code == 200
    check_contract(openapi, response)
    movies = response.get_json()["movies"]
    assert [m["title"] for m in movies] == ["Fargo (1996)"]
    assert movies[0]["year"] == 1996 and "Crime" in movies[0]["genres"] and 3.5 < movies[0]["mean_rating"] < 5
    many = client.get("/api/movies?q=the&limit=50").get_json()["movies"]
    assert len(many) == 50 and [m["ratings"] for m in many] == sorted((m["ratings"] for m in many), reverse=True)


def test_a_movie_and_a_users_ratings(client, openapi, ml100k):
    movie = client.get("/api/movies/100")
    check_contract(openapi, movie)
    assert movie.get_json()["title"] == "Fargo (1996)"
    ratings = client.get("/api/users/196/ratings?limit=5")
    check_contract(openapi, ratings)
    body = ratings.get_json()
    mine = ml100k.ratings[ml100k.ratings["user_id"] == 196].sort_values("timestamp", ascending=False, kind="stable")
    assert body["known"] and len(body["ratings"]) == 5
    assert body["ratings"][0]["ts"] == mine["timestamp"].iloc[0]
    unknown = client.get("/api/users/999999/ratings").get_json()
    assert unknown == {"user_id": 999999, "known": False, "ratings": []}


@pytest.mark.parametrize(
    "path, status, message",
    [
        ("/api/movies", 400, "q is required: a part of a title"),
        ("/api/movies?q=", 400, "q is required: a part of a title"),
        ("/api/movies?q=" + "x" * 101, 400, "q must be at most 100 characters"),
        ("/api/movies?q=a&limit=0", 400, "limit must be an integer in [1, 50]"),
        ("/api/movies?q=a&limit=51", 400, "limit must be an integer in [1, 50]"),
        ("/api/movies?q=a&limit=ten", 400, "limit must be an integer in [1, 50]"),
        ("/api/movies?q=a&colour=red", 400, "unknown parameter 'colour'"),
        ("/api/movies/abc", 400, "movie_id must be an integer in [0, 1000000000000]"),
        ("/api/movies/-1", 400, "movie_id must be an integer in [0, 1000000000000]"),
        ("/api/movies/1000000000001", 400, "movie_id must be an integer in [0, 1000000000000]"),
        ("/api/movies/999999", 404, "no movie 999999 in the catalogue"),
        ("/api/users/x/ratings", 400, "user_id must be an integer in [0, 1000000000000]"),
        ("/api/users/1/ratings?limit=100", 400, "limit must be an integer in [1, 50]"),
    ],
)
def test_bad_catalogue_requests_are_refused_with_json(client, openapi, path, status, message):
    response = client.get(path)
    assert response.status_code == status
    assert response.get_json()["error"]["message"] == message
    check_contract(openapi, response)


def test_catalogue_routes_without_a_model_say_what_to_run(make_client, local_env, tmp_path):
    client = make_client({**local_env, "MOVIEREC_HOME": str(tmp_path / "empty")})
    response = client.get("/api/movies?q=fargo")
    assert response.status_code == 503
    assert "run `movierec train`" in response.get_json()["error"]["message"]


def test_the_sign_in_is_offered_only_with_firebase_auth_and_its_emulator(make_client, local_env):
    plain = make_client(local_env)
    assert plain.get("/api/auth").get_json() == {"mode": "none", "emulator": None}
    assert "connect-src" not in plain.get("/").headers["Content-Security-Policy"]
    # Without an emulator (production) the page has nothing to sign in with: the app's own
    # sign-in is the client's business; the API still wants the token.
    assert plain.get("/assets/signin.js").status_code == 200


def test_with_the_auth_emulator_the_page_may_reach_it(make_client, local_env):
    client = make_client({**local_env, "MOVIEREC_AUTH": "firebase", "GOOGLE_CLOUD_PROJECT": "demo-p",
                          "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"})
    assert client.get("/api/auth").get_json() == {"mode": "firebase", "emulator": "http://127.0.0.1:9099"}
    csp = client.get("/").headers["Content-Security-Policy"]
    assert csp.endswith("connect-src 'self' http://127.0.0.1:9099") and "default-src 'self'" in csp


def test_with_firebase_auth_no_one_lists_users_or_reads_their_ratings(make_client, local_env):
    client = make_client({**local_env, "MOVIEREC_AUTH": "firebase", "GOOGLE_CLOUD_PROJECT": "demo-p",
                          "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"})
    for path in ("/api/users", "/api/users/196/ratings"):
        response = client.get(path)
        assert response.status_code == 403
        assert "MOVIEREC_AUTH=firebase" in response.get_json()["error"]["message"]
    assert client.get("/api/movies?q=fargo").status_code == 200  # the catalogue itself stays public
