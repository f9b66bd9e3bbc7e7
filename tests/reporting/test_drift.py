"""Recommendation drift: a shift toward the most popular titles (or one genre) is flagged, a
stable week is not, and too few events say "insufficient data".

Impressions are generated with a seeded rng from the real ml-100k popularity, stored in
a real SQLite event log; the report reads them back, Evidently tests the distributions,
the reports land in a real artifact folder and alerts go to a real HTTP receiver on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
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
from movierec.settings import LIBRARY_TELEMETRY_OPT_OUT
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
             variants=("A", "B"), days: float = 7, only=None) -> None:
    """Requests of 10 distinct items drawn with probability ∝ popularity**exponent (among the
    movies ``only`` when given); ~10% get a click, ~25% a rating drawn from the movie's real
    ml-100k ratings."""
    weights = popularity.counts**exponent
    if only is not None:
        weights = np.where(np.isin(popularity.item_ids, list(only)), weights, 0.0)
    p = weights / weights.sum()
    for i in range(requests):
        ts = start + rng.uniform(0, days * DAY)
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


def scenario(tmp_path: Path, ml_popularity, published, current_exponent: float, seed: int = 7, only=None):
    """Events of both windows, and the published models (trained on all of ml-100k, so the
    live ``popular`` artifact's item_popularity is the popularity the events were drawn from)."""
    popularity, ratings = ml_popularity
    shutil.copytree(published[0], tmp_path / "artifacts")
    events = SQLiteEventLog(tmp_path / "events.sqlite")
    rng = np.random.default_rng(seed)
    simulate(events, rng, popularity, ratings, start=NOW - 14 * DAY, exponent=0.8)
    simulate(events, rng, popularity, ratings, start=NOW - 7 * DAY, exponent=current_exponent, only=only)
    return events, LocalArtifactStore(tmp_path / "artifacts")


def statuses(report) -> dict[tuple[str, str], str]:
    return {(c.segment, c.name): c.status for c in report.checks}


def test_a_shift_toward_the_most_popular_titles_is_flagged_per_variant_and_alerted_once(
    tmp_path, ml_popularity, published, receiver
):
    events, store = scenario(tmp_path, ml_popularity, published, current_exponent=1.6)
    report, saved, alert = run_drift_report(events, store, alerter(tmp_path, receiver.url), now=NOW)

    assert report.verdict == "drift"
    status = statuses(report)
    for segment in ("all", "A", "B"):  # every variant recommends the head now, and all traffic
        assert status[segment, "popularity_rank"] == "failed"
        assert status[segment, "gini_of_exposure"] == "failed"
    assert report.summaries["all"][1].mean_popularity_rank < 0.7 * report.summaries["all"][0].mean_popularity_rank
    assert report.summaries["A"][1].requests == 350
    # Evidently decided the distribution tests, with the methods drift_columns names.
    rank = next(c for c in report.checks if (c.segment, c.name) == ("all", "popularity_rank"))
    assert rank.method == "Wasserstein distance (normed)" and rank.score > rank.threshold == 0.1
    assert "Wasserstein" in rank.detail
    # The three files: Evidently's page, the JSON document, the summary page linking it.
    assert saved.summary_key == "reports/drift/2026-09-21.html"
    assert saved.evidently_key == "reports/drift/2026-09-21.evidently.html"
    document = json.loads(store.read_bytes("reports/drift/2026-09-21.json"))
    assert document["verdict"] == "drift" and document == saved.document
    assert {(c["segment"], c["name"]): c["status"] for c in document["checks"]} == status
    assert any(t["status"] == "FAIL" and "popularity_rank" in t["name"] for t in document["evidently"]["tests"])
    evidently_page = store.read_bytes(saved.evidently_key).decode()
    assert "all: popularity_rank" in evidently_page and 'name="viewport"' in evidently_page
    page = store.read_bytes(saved.summary_key).decode()
    assert "Recommendation drift — <span" in page and ">drift</span>" in page
    assert 'name="viewport"' in page and 'href="2026-09-21.evidently.html"' in page
    # The alert is built from the stored document.
    assert len(receiver.calls) == 1 and alert is not None and alert.outcome == "sent"
    assert receiver.calls[0]["title"] == "Recommendation drift"
    assert "all: popularity_rank" in receiver.calls[0]["fields"]["failed"]
    assert receiver.calls[0]["fields"]["document"] == "reports/drift/2026-09-21.json"


def test_a_stable_week_is_not_flagged_and_sends_no_alert(tmp_path, ml_popularity, published, receiver):
    events, store = scenario(tmp_path, ml_popularity, published, current_exponent=0.8)
    report, saved, alert = run_drift_report(events, store, alerter(tmp_path, receiver.url), now=NOW)

    assert report.verdict == "no drift", [(c.segment, c.name, c.detail) for c in report.failed]
    assert {c.status for c in report.checks} <= {"passed", "insufficient_data"}
    status = statuses(report)
    # Enough data for every test of all traffic, the genre mix included (genres from the live model).
    assert {name for (segment, name), s in status.items() if segment == "all" and s == "passed"} == {
        "popularity_rank", "genre", "rating", "clicked", "click_position", "gini_of_exposure", "catalogue_coverage"}
    ref, cur = report.summaries["all"]
    assert abs(cur.mean_popularity_rank - ref.mean_popularity_rank) < 0.1 * ref.mean_popularity_rank
    assert ">no drift</span>" in store.read_bytes(saved.summary_key).decode()
    assert receiver.calls == [] and alert is None


def test_a_genre_mix_shift_is_flagged_by_the_genre_test(tmp_path, ml_popularity, published, ml100k):
    """The current week recommends only comedies: the genre mix drifts."""
    comedies = ml100k.movies.loc[ml100k.movies["genres"].str.split("|").map(lambda g: "Comedy" in g), "item_id"]
    events, store = scenario(tmp_path, ml_popularity, published, current_exponent=0.8, only=set(comedies))
    report, _, _ = run_drift_report(events, store, alerter(tmp_path), now=NOW)
    genre = next(c for c in report.checks if (c.segment, c.name) == ("all", "genre"))
    assert genre.status == "failed" and genre.method == "Jensen-Shannon distance", genre


def test_popularity_and_genres_come_from_the_live_model_artifact(tmp_path, ml_popularity, published):
    events, store = scenario(tmp_path, ml_popularity, published, current_exponent=0.8)
    report, saved, _ = run_drift_report(events, store, alerter(tmp_path), now=NOW, popularity_model="popular")
    assert f"model popular {published[1]['popular']}" in saved.summary_html
    assert statuses(report)["all", "genre"] == "passed"
    # Without a model, popularity comes from the reference window and no genres are known.
    report, _, _ = run_drift_report(events, store, alerter(tmp_path), now=NOW, popularity_model=None)
    genre = next(c for c in report.checks if (c.segment, c.name) == ("all", "genre"))
    assert genre.status == "insufficient_data" and "no genres known" in genre.detail


def test_too_few_events_is_reported_as_insufficient_data_never_as_no_drift(tmp_path, receiver, capsys):
    events = SQLiteEventLog(tmp_path / "events.sqlite")
    events.record_impression(Impression("r1", NOW - 8 * DAY, 1, None, "default", "svd", "v1", (1, 2, 3), (3.0, 2.0, 1.0), None, 1.0))
    events.record_impression(Impression("r2", NOW - 1 * DAY, 1, None, "default", "svd", "v1", (1, 2, 4), (3.0, 2.0, 1.0), None, 1.0))
    store = LocalArtifactStore(tmp_path / "artifacts")
    report, saved, _ = run_drift_report(events, store, alerter(tmp_path, receiver.url), now=NOW, popularity_model=None)
    assert {c.status for c in report.checks} == {"insufficient_data"}
    assert report.verdict == "insufficient data" and not report.drifted and receiver.calls == []
    page = store.read_bytes(saved.summary_key).decode()
    assert "<title>movierec drift report 2026-09-21: insufficient data</title>" in page
    assert "no drift" not in page and "No Evidently report" in page
    assert saved.evidently_key is None and not store.exists("reports/drift/2026-09-21.evidently.html")
    assert json.loads(store.read_bytes(saved.document_key))["verdict"] == "insufficient data"
    # The command's summary line says so too.
    env = {"MOVIEREC_HOME": str(tmp_path), "MOVIEREC_BACKEND": "local"}
    assert cli_main(["drift", "--now", str(NOW), "--popularity-model", ""], env=env) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("drift: insufficient data") and "none" not in first


def test_cli_writes_the_html_and_exits_1_on_drift(tmp_path, ml_popularity, published, monkeypatch, capsys):
    scenario(tmp_path, ml_popularity, published, current_exponent=1.6)
    monkeypatch.setenv("MOVIEREC_HOME", str(tmp_path))
    monkeypatch.setenv("MOVIEREC_BACKEND", "local")
    monkeypatch.delenv("MOVIEREC_ALERT_WEBHOOK_URL", raising=False)
    out_file = tmp_path / "drift.html"
    code = cli_main(["drift", "--now", str(NOW), "--html", str(out_file), "--json"])
    assert code == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["drifted"] is True and summary["verdict"] == "drift"
    assert summary["report"].endswith("reports/drift/2026-09-21.html")
    assert ">drift</span>" in out_file.read_text()
    assert summary["alert"] == "logged"  # no webhook: logged, and remembered in the warehouse
    assert cli_main(["drift", "--now", str(NOW + 3600), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["alert"] == "suppressed"
    assert cli_main(["drift", "--now", str(NOW + 3600)]) == 1
    assert capsys.readouterr().out.startswith("drift: DRIFT   report: ")
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
    assert rows[0]["details"]["source"] == "drift" and "all: gini_of_exposure" in rows[0]["details"]["failed"]


def test_evidently_loads_with_its_usage_telemetry_switched_off():
    """In a fresh interpreter without the opt-out variables: importing the drift module sets them."""
    probe = ("import movierec.reporting.drift_evidently, evidently.telemetry as t, evidently.legacy._config as c; "
             "print(t.event_logger.is_enabled(), c.TELEMETRY_ENABLED)")
    env = {k: v for k, v in os.environ.items() if k not in LIBRARY_TELEMETRY_OPT_OUT}
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["False", "False"]
    # The check can fail: without the opt-out, Evidently's telemetry is on.
    bare = ("import evidently.telemetry as t, evidently.legacy._config as c; "
            "print(t.event_logger.is_enabled(), c.TELEMETRY_ENABLED)")
    result = subprocess.run([sys.executable, "-c", bare], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.stdout.split() == ["True", "True"], result.stderr[-2000:]


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
    document = json.loads(gcs_bucket.client.bucket(GCS_TEST_BUCKET).blob("reports/drift/2026-09-21.json").download_as_bytes())
    assert document["verdict"] == summary["verdict"] == "insufficient data"
