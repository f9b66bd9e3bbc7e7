"""Recommendation drift: a shift toward the most popular titles is flagged, a stable week is not.

Impressions are generated with a seeded rng from the real ml-100k popularity, stored in
a real SQLite event log; the report reads them back, saves its HTML in a real artifact
folder and alerts a real HTTP receiver on 127.0.0.1.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from movierec.cli import main as cli_main
from movierec.cli.drift import EXIT_DRIFT
from movierec.events import Feedback, Impression
from movierec.reporting.alerting import Alerter
from movierec.reporting.drift import run_drift_report
from movierec.reporting.drift_checks import Popularity, gini
from movierec.stores.duckdb_warehouse import DuckDBWarehouse
from movierec.stores.firestore import FirestoreEventLog
from movierec.stores.local import LocalArtifactStore, SQLiteEventLog
from tests.conftest import GCP_TEST_PROJECT, GCS_TEST_BUCKET
from training_job.main import main as job_main

DAY = 86_400.0
NOW = 1_790_000_000.0  # fixed: the windows are [NOW-14d, NOW-7d) and [NOW-7d, NOW)


class Receiver:
    """A webhook receiver on a free loopback port that keeps every JSON body it gets."""

    def __init__(self) -> None:
        calls: list[dict] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                calls.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:  # keep the test output clean
                pass

        self.calls = calls
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/drift-secret"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def alerter(tmp_path: Path, webhook_url: str | None = None, cooldown_seconds: float = DAY) -> Alerter:
    """Alerts through ``webhook_url``, remembered in a real DuckDB warehouse in ``tmp_path``."""
    return Alerter(DuckDBWarehouse(tmp_path / "warehouse.duckdb"), webhook_url, cooldown_seconds)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def ml_popularity(ml100k):
    """Real ml-100k interaction counts and, per movie, its real ratings to draw from."""
    counts = ml100k.ratings.groupby("item_id").size()
    ratings = {int(k): v.to_numpy() for k, v in ml100k.ratings.groupby("item_id")["rating"]}
    return Popularity(counts.index.to_numpy(np.int64), counts.to_numpy(np.float64), "ml-100k"), ratings


def simulate(events, rng, popularity: Popularity, ratings, *, start: float, exponent: float, requests: int = 700,
             variants=("A", "B")) -> None:
    """Requests of 10 distinct items drawn with probability ∝ popularity**exponent; ~10% get a
    click, ~25% a rating drawn from the movie's real ml-100k ratings."""
    weights = popularity.counts**exponent
    p = weights / weights.sum()
    for i in range(requests):
        ts = start + rng.uniform(0, 7 * DAY)
        movies = popularity.item_ids[rng.choice(popularity.n_items, size=10, replace=False, p=p)]
        variant = variants[i % len(variants)]
        request_id = f"r{start:.0f}-{i}"
        events.record_impression(Impression(request_id, ts, int(i), "exp", variant, "svd", "v1",
                                            tuple(int(m) for m in movies), tuple(range(10, 0, -1)), None, 3.0))
        if rng.random() < 0.10:
            pos = int(rng.integers(0, 10))
            events.record_feedback(Feedback(f"{request_id}-c", ts + 1, request_id, i, int(movies[pos]), "click",
                                            None, pos + 1, "exp", variant))
        if rng.random() < 0.25:
            pos = int(rng.integers(0, 10))
            value = float(rng.choice(ratings[int(movies[pos])]))
            events.record_feedback(Feedback(f"{request_id}-r", ts + 2, request_id, i, int(movies[pos]), "rating",
                                            value, pos + 1, "exp", variant))


def scenario(tmp_path: Path, ml_popularity, published, current_exponent: float, seed: int = 7):
    """Events of both windows, and the published models (trained on all of ml-100k, so the
    live ``popular`` artifact's item_popularity is the popularity the events were drawn from)."""
    popularity, ratings = ml_popularity
    shutil.copytree(published[0], tmp_path / "artifacts")
    events = SQLiteEventLog(tmp_path / "events.sqlite")
    rng = np.random.default_rng(seed)
    simulate(events, rng, popularity, ratings, start=NOW - 14 * DAY, exponent=0.8)
    simulate(events, rng, popularity, ratings, start=NOW - 7 * DAY, exponent=current_exponent)
    return events, LocalArtifactStore(tmp_path / "artifacts")


def test_a_shift_toward_the_most_popular_titles_is_flagged_and_alerted_once(tmp_path, ml_popularity, published, receiver):
    events, store = scenario(tmp_path, ml_popularity, published, current_exponent=1.6)
    report, key, alert = run_drift_report(events, store, alerter(tmp_path, receiver.url), now=NOW)

    assert report.drifted
    failed = {c.name for c in report.failed}
    assert "popularity_rank_distribution" in failed and "gini_of_exposure" in failed
    assert report.current.mean_popularity_rank < 0.7 * report.reference.mean_popularity_rank
    assert report.current.gini > report.reference.gini and report.current.coverage < report.reference.coverage
    assert set(report.current.ctr) == {"A", "B"} and report.current.ctr["A"].impressions == 350
    assert key == "reports/drift/2026-09-21.html"
    saved = store.read_bytes(key).decode()
    assert "Recommendation drift — DRIFT" in saved and "popularity_rank_distribution" in saved
    assert len(receiver.calls) == 1 and alert is not None and alert.outcome == "sent"
    assert receiver.calls[0]["title"] == "Recommendation drift"
    assert "popularity_rank_distribution" in receiver.calls[0]["fields"]["failed"]


def test_a_stable_week_is_not_flagged_and_sends_no_alert(tmp_path, ml_popularity, published, receiver):
    events, store = scenario(tmp_path, ml_popularity, published, current_exponent=0.8)
    report, key, alert = run_drift_report(events, store, alerter(tmp_path, receiver.url), now=NOW)

    assert not report.drifted, [(c.name, c.detail) for c in report.checks]
    assert {c.status for c in report.checks} == {"passed"}
    assert abs(report.current.mean_popularity_rank - report.reference.mean_popularity_rank) < 0.1 * report.reference.mean_popularity_rank
    assert "Recommendation drift — no drift" in store.read_bytes(key).decode()
    assert receiver.calls == [] and alert is None


def test_popularity_comes_from_the_live_model_artifact(tmp_path, ml_popularity, published):
    events, store = scenario(tmp_path, ml_popularity, published, current_exponent=0.8)
    report, _, _ = run_drift_report(events, store, alerter(tmp_path), now=NOW, popularity_model="popular")
    assert report.current.mean_popularity_rank is not None
    assert f"model popular {published[1]['popular']}" in report.html


def test_too_few_events_is_reported_not_alerted(tmp_path, receiver):
    events = SQLiteEventLog(tmp_path / "events.sqlite")
    events.record_impression(Impression("r1", NOW - 8 * DAY, 1, None, "default", "svd", "v1", (1, 2, 3), (3.0, 2.0, 1.0), None, 1.0))
    events.record_impression(Impression("r2", NOW - 1 * DAY, 1, None, "default", "svd", "v1", (1, 2, 4), (3.0, 2.0, 1.0), None, 1.0))
    report, _, _ = run_drift_report(events, LocalArtifactStore(tmp_path / "a"), alerter(tmp_path, receiver.url),
                                    now=NOW, popularity_model=None)
    assert {c.status for c in report.checks} == {"insufficient_data"}
    assert not report.drifted and receiver.calls == []


def test_cli_writes_the_html_and_exits_1_on_drift(tmp_path, ml_popularity, published, monkeypatch, capsys):
    scenario(tmp_path, ml_popularity, published, current_exponent=1.6)
    monkeypatch.setenv("MOVIEREC_HOME", str(tmp_path))
    monkeypatch.setenv("MOVIEREC_BACKEND", "local")
    monkeypatch.delenv("MOVIEREC_ALERT_WEBHOOK_URL", raising=False)
    out_file = tmp_path / "drift.html"
    code = cli_main(["drift", "--now", str(NOW), "--html", str(out_file), "--json"])
    assert code == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["drifted"] is True and summary["report"].endswith("reports/drift/2026-09-21.html")
    assert "Recommendation drift — DRIFT" in out_file.read_text()
    assert summary["alert"] == "logged"  # no webhook: logged, and remembered in the warehouse
    assert cli_main(["drift", "--now", str(NOW + 3600), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["alert"] == "suppressed"
    assert cli_main(["drift", "--now", str(NOW), "--current-days", "0"]) == 2


def test_a_lasting_drift_alerts_once_per_cooldown_and_each_sending_is_recorded(
    tmp_path, ml_popularity, published, receiver
):
    events, store = scenario(tmp_path, ml_popularity, published, current_exponent=1.6)
    hourly = alerter(tmp_path, receiver.url, cooldown_seconds=3600.0)
    outcomes = [run_drift_report(events, store, hourly, now=t)[2].outcome for t in (NOW, NOW + 60, NOW + 3600)]
    assert outcomes == ["sent", "suppressed", "sent"]
    assert len(receiver.calls) == 2
    rows = hourly.warehouse.query("SELECT experiment_id, variant, metric, condition, details FROM alerts ORDER BY ts")
    assert [(r["experiment_id"], r["variant"], r["metric"], r["condition"]) for r in rows] == [
        (None, None, None, "recommendation_drift")
    ] * 2
    assert rows[0]["details"]["source"] == "drift" and "gini_of_exposure" in rows[0]["details"]["failed"]


def test_gini_known_answers():
    assert gini(np.ones(10)) == 0.0
    assert gini(np.zeros(5)) == 0.0
    assert gini(np.array([0, 0, 0, 7.0])) == pytest.approx(1 - 1 / 4)
    x = np.random.default_rng(3).poisson(3.0, 200).astype(float)
    mean_abs_diff = np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())
    assert gini(x) == pytest.approx(mean_abs_diff)


def test_popularity_ranks_ties_and_unknown_items():
    pop = Popularity(np.array([10, 20, 30, 40]), np.array([5.0, 9.0, 5.0, 1.0]), "t")
    assert pop.ranks(np.array([20, 10, 30, 40, 99])).tolist() == [1.0, 2.5, 2.5, 4.0, 5.0]


def test_the_drift_job_succeeds_after_alerting_on_drift(tmp_path, ml_popularity, published, receiver):
    scenario(tmp_path, ml_popularity, published, current_exponent=1.6)
    env = {"MOVIEREC_HOME": str(tmp_path), "MOVIEREC_ALERT_WEBHOOK_URL": receiver.url}
    assert job_main(["drift", "--now", str(NOW)], env=env) == 0  # drift is a finding, not a failure
    assert [c["title"] for c in receiver.calls] == ["Recommendation drift"]
    # The command says so by its exit status; the alert is not sent again within the cool-down.
    assert cli_main(["drift", "--now", str(NOW + 60)], env=env) == EXIT_DRIFT
    assert len(receiver.calls) == 1


@pytest.mark.emulator
def test_drift_on_the_gcp_backend_uses_the_emulators_named_in_the_settings(
    tmp_path, firestore_emulator, storage_emulator, bigquery_emulator, bigquery_dataset, firestore_client,
    gcs_bucket, monkeypatch, capsys
):
    for name in ("STORAGE_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST", "BIGQUERY_EMULATOR_HOST"):
        monkeypatch.delenv(name, raising=False)  # the settings alone say where
    events = FirestoreEventLog(firestore_client)
    for request_id, days_ago in (("r1", 8), ("r2", 1)):
        events.record_impression(Impression(request_id, NOW - days_ago * DAY, 1, None, "default", "svd", "v1",
                                            (1, 2, 3), (3.0, 2.0, 1.0), None, 1.0))
    env = {
        "MOVIEREC_BACKEND": "gcp",
        "GOOGLE_CLOUD_PROJECT": GCP_TEST_PROJECT,
        "MOVIEREC_ARTIFACT_BUCKET": GCS_TEST_BUCKET,
        "MOVIEREC_TOKEN_SECRET": "emulator-secret",
        "MOVIEREC_HOME": str(tmp_path),
        "MOVIEREC_BQ_DATASET": bigquery_dataset.name,  # where the alerts record would go
        **firestore_emulator.env(),
        **storage_emulator.env(),
        **bigquery_emulator.env(),
    }
    assert cli_main(["drift", "--now", str(NOW), "--popularity-model", "", "--json"], env=env) == 0
    summary = json.loads(capsys.readouterr().out)
    assert {c["status"] for c in summary["checks"]} == {"insufficient_data"}  # read both impressions
    assert summary["report"].startswith(f"gs://{GCS_TEST_BUCKET}/")
    assert summary["report"].endswith("/reports/drift/2026-09-21.html")
    saved = gcs_bucket.client.bucket(GCS_TEST_BUCKET).blob("reports/drift/2026-09-21.html").download_as_bytes()
    assert "Recommendation drift" in saved.decode()
