"""An interleaved experiment over real HTTP, on the local stack and on the emulators: every
user sees the team-draft merge of both rankers' lists (replayable from the request id), the
impression credits each shown movie, feedback inherits the credit, and the token, the
idempotency and the 403 for a movie not shown hold as for A/B."""

from __future__ import annotations

import time

import pytest
import requests

from movierec.experiments.config import create_experiment, parse_variants
from movierec.experiments.interleaving import team_draft
from movierec.models.artifact import load_artifact
from movierec.models.scoring import scorer_for
from tests.e2e.server import running_server

pytestmark = [pytest.mark.e2e]


def test_interleaved_lists_credit_every_item_and_feedback_inherits_it(backend, tmp_path):
    create_experiment(backend.events, backend.artifacts, "il", parse_variants("A=svd,B=ease", None),
                      now=time.time(), salt="il-e2e", design="interleaved")
    artifacts = {name: load_artifact(backend.artifacts, name, None) for name in ("svd", "ease")}
    scorers = {name: scorer_for(a.kind, a.arrays) for name, a in artifacts.items()}
    recs = []
    with running_server(backend.env, tmp_path / "server.log") as url, requests.Session() as http:
        for user in range(1, 21):
            rec = http.get(f"{url}/recommend", params={"user_id": user, "top_n": 6}, timeout=30).json()
            recs.append(rec)
            clicked = rec["items"][user % 6]["movie_id"]
            body = {"request_id": rec["request_id"], "token": rec["token"], "user_id": user,
                    "movie_id": clicked, "type": "click"}
            assert http.post(f"{url}/feedback", json=body, timeout=30).status_code == 201
            assert http.post(f"{url}/feedback", json=body, timeout=30).status_code == 200  # a retry
        shown = {i["movie_id"] for i in recs[0]["items"]}
        other = next(m for m in scorers["svd"].item_ids.tolist() if m not in shown)
        forbidden = http.post(f"{url}/feedback", timeout=30, json={
            "request_id": recs[0]["request_id"], "token": recs[0]["token"], "user_id": 1,
            "movie_id": other, "type": "click"})
        assert forbidden.status_code == 403

    versions = {name: a.version for name, a in artifacts.items()}
    feedback = {f["request_id"]: f for f in backend.events.scan("feedback", 0.0)}
    assert len(feedback) == 20
    for rec in recs:
        user = rec["user_id"]
        assert rec["experiment"] == "il" and rec["variant"] == "interleaved"
        stored = backend.events.get_impression(rec["request_id"])
        lists = [scorers[m].recommend(user, 6).item_ids.tolist() for m in ("svd", "ease")]
        replay = team_draft(lists[0], lists[1], 6, rec["request_id"])
        assert list(stored.movie_ids) == list(replay.item_ids) == [i["movie_id"] for i in rec["items"]]
        assert stored.credits == tuple("AB"[t] for t in replay.teams)
        assert [(r.variant, r.model_name, r.model_version) for r in stored.rankers] == [
            ("A", "svd", versions["svd"]), ("B", "ease", versions["ease"])]
        click = feedback[rec["request_id"]]
        credited = stored.credits[stored.movie_ids.index(click["movie_id"])]
        assert click["credit"] == credited
        assert click["credit_version"] == versions[{"A": "svd", "B": "ease"}[credited]]
        assert click["variant"] == "interleaved" and click["experiment_id"] == "il"
        assert backend.events.get_assignment("il", user).variant == "interleaved"
