"""The live A/B panel over a real SQLite event log and an in-memory DuckDB warehouse."""

from __future__ import annotations

import itertools
import json
import time

import flask
import numpy as np
import pytest

from movierec.errors import ConfigError
from movierec.responses import RETRY_AFTER_SECONDS
from movierec.stores.duckdb_warehouse import DuckDBWarehouse
from movierec.stores.local import SQLiteEventLog
from movierec.web.live_ab import LiveAB
from movierec.web.pages import WebPages, spread
from tests.serving.test_handlers import click, recommend, start_experiment


class StepClock:
    """Wall time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def variant_of(panel: dict, name: str) -> dict:
    return next(v for v in panel["variants"] if v["name"] == name)


def test_panel_is_cached_for_its_ttl_then_sees_new_events(client, events):
    start_experiment(events)
    rec = recommend(client, user_id=7)
    clock = StepClock()
    with DuckDBWarehouse(":memory:") as warehouse:
        live = LiveAB(events, warehouse, ttl_seconds=2.0, clock=clock)
        first = live.snapshot()
        assert variant_of(first, rec["variant"])["clicks"] == 0
        assert click(client, rec).status_code == 201

        clock.now += 1.0
        assert live.snapshot() is first  # within the TTL: the same read-out
        clock.now += 1.5
        second = live.snapshot()
        assert variant_of(second, rec["variant"])["clicks"] == 1
        assert variant_of(second, rec["variant"])["impressions"] == 1
        assert second["computed_at"] == clock.now

        # The export is incremental: a later read-out neither loses nor doubles events.
        assert click(client, recommend(client, user_id=7)).status_code == 201
        clock.now += 3.0
        third = live.snapshot()
        assert variant_of(third, rec["variant"])["clicks"] == 2
        assert variant_of(third, rec["variant"])["impressions"] == 2


def test_panel_follows_a_new_experiment(client, events):
    start_experiment(events, experiment_id="old", salt="s0", status="stopped")
    clock = StepClock()
    with DuckDBWarehouse(":memory:") as warehouse:
        live = LiveAB(events, warehouse, ttl_seconds=0.0, clock=clock)
        assert live.snapshot()["experiment"]["id"] == "old"  # none running: the latest
        start_experiment(events, experiment_id="new", salt="s1")
        recommend(client, user_id=1)
        panel = live.snapshot()
        assert panel["experiment"]["id"] == "new"
        assert sum(v["impressions"] for v in panel["variants"]) == 1


def test_an_interleaved_experiment_shows_the_reports_preference_verdict(client, events):
    from movierec.analysis.interleaving import analyse_interleaving
    from movierec.events import Experiment, Variant
    from movierec.reporting.interleaving import interleaving_view

    events.put_experiment(Experiment("il", "s-il", (Variant("A", "svd", None, 0.5), Variant("B", "ease", None, 0.5)),
                                     started_at=1.0, design="interleaved"))
    for user in range(1, 30):
        rec = recommend(client, user_id=user)
        assert rec["variant"] == "interleaved"
        if user % 2:
            assert click(client, rec).status_code == 201
    with DuckDBWarehouse(":memory:") as warehouse:
        panel = LiveAB(events, warehouse, ttl_seconds=0.0).snapshot()
        experiment = events.get_experiment("il")
        expected = interleaving_view(analyse_interleaving(warehouse, experiment))
    assert panel["experiment"]["design"] == "interleaved"
    # the same verdict, reasons and notes as `movierec report`
    assert panel["verdict"] == {"code": expected.verdict, "text": expected.verdict_text,
                                "reasons": list(expected.reasons)}
    assert panel["notes"] == list(expected.notes) and panel["variants"] == []


def test_an_unreachable_event_log_is_a_503_with_retry_after(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the event log's folder should be")
    pages = WebPages(LiveAB(SQLiteEventLog(blocker / "events.sqlite"), DuckDBWarehouse(":memory:")), list)
    with flask.Flask(__name__).test_request_context("/api/ab"):
        response = pages.handle("/api/ab", flask.request)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert json.loads(response.get_data())["error"]["code"] == "unavailable"


def test_negative_ttl_is_a_config_error(events):
    with pytest.raises(ConfigError, match="ttl_seconds"):
        LiveAB(events, DuckDBWarehouse(":memory:"), ttl_seconds=-1)


def test_spread_keeps_every_id_up_to_the_limit_then_spaces_them_evenly():
    assert spread(np.array([5, 3, 3, 9]), limit=10) == [3, 5, 9]
    picked = spread(np.arange(1, 5001), limit=1000)
    assert len(picked) == 1000 and picked[0] == 1 and picked[-1] == 5000
    assert all(b - a in (4, 5, 6) for a, b in itertools.pairwise(picked))
