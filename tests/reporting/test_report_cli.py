"""End to end: events in the SQLite event log -> `movierec export` code -> DuckDB -> `movierec report`.

The CLI runs in-process through ``movierec.cli.main`` with ``MOVIEREC_HOME`` pointing
at a temporary folder, so the event log and the warehouse are the real local files.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from movierec.analysis.metrics import METRIC_LABELS
from movierec.analysis.plan import make_plan
from movierec.analysis.queries import load_experiment_data
from movierec.cli import main
from movierec.events import Assignment, Experiment, Feedback, Impression, Variant
from movierec.observability.logging import CloudLoggingFormatter
from movierec.pipelines.export import export_events
from movierec.settings import Settings
from movierec.stores.duckdb_warehouse import DuckDBWarehouse
from movierec.stores.local import SQLiteEventLog
from tests.fixtures.webhook import webhook_receiver
from training_job.main import main as job_main

DAY = 86_400.0
T0 = 1_793_500_000.0  # 2026-11-01 (UTC) or so; the report does not read the clock for stats


@dataclass
class Truth:
    """What was generated, per variant: the numbers the report must show."""

    users: dict[str, int]
    impressions: dict[str, int]
    clicks: dict[str, int]


# Planned for the scenarios' scale: a +100% lift on a 10% CTR (the generated lifts are larger).
PLAN = make_plan("ctr", 2, mde=1.0, baseline=0.1)


def make_experiment(experiment_id: str, *, status: str = "running", started_at: float = T0) -> Experiment:
    return Experiment(
        experiment_id=experiment_id,
        salt=f"{experiment_id}-salt",
        variants=(Variant("A", "svd", None, 0.5), Variant("B", "ease", None, 0.5)),
        plan=PLAN,
        status=status,  # type: ignore[arg-type]
        created_at=started_at,
        started_at=started_at,
        stopped_at=None if status == "running" else started_at + DAY,
    )


def simulate_traffic(
    events: SQLiteEventLog,
    experiment: Experiment,
    *,
    users_per_variant: int,
    click_rate: dict[str, float],
    days: int = 3,
    seed: int = 0,
) -> Truth:
    """Users alternate between A and B (a perfect split); each sees a few lists over the days."""
    rng = random.Random(seed)
    truth = Truth({}, {}, {})
    for variant in ("A", "B"):
        truth.users[variant] = users_per_variant
        truth.impressions[variant] = truth.clicks[variant] = 0
    for i in range(2 * users_per_variant):
        variant, user_id = "AB"[i % 2], i + 1
        day = i % days
        ts = T0 + day * DAY + rng.uniform(0, DAY / 2)
        events.get_or_create_assignment(
            Assignment(experiment.experiment_id, user_id, variant, bucket=i % 10_000, ts=ts)
        )
        for k in range(rng.randint(1, 4)):
            request_id = f"r{user_id}-{k}"
            movies = tuple(rng.sample(range(1, 1683), 10))
            events.record_impression(
                Impression(
                    request_id=request_id,
                    ts=ts + k * 60,
                    user_id=user_id,
                    experiment_id=experiment.experiment_id,
                    variant=variant,
                    model_name="svd" if variant == "A" else "ease",
                    model_version="v1",
                    movie_ids=movies,
                    scores=tuple(float(10 - r) for r in range(10)),
                    fallback=None,
                    latency_ms=5.0,
                )
            )
            truth.impressions[variant] += 1
            if rng.random() < click_rate[variant]:
                truth.clicks[variant] += 1
                position = rng.randint(1, 10)
                for kind, value in (("click", None), ("rating", float(rng.randint(1, 5)))):
                    events.record_feedback(
                        Feedback(
                            event_id=f"{request_id}-{kind}",
                            ts=ts + k * 60 + 5,
                            request_id=request_id,
                            user_id=user_id,
                            movie_id=movies[position - 1],
                            type=kind,  # type: ignore[arg-type]
                            value=value,
                            position=position,
                            experiment_id=experiment.experiment_id,
                            variant=variant,
                        )
                    )
    return truth


def export(settings: Settings, events: SQLiteEventLog) -> None:
    export_events(events, DuckDBWarehouse(settings.duckdb_path), now=T0 + 30 * DAY)


def build_scenario(home: Path, experiment_id: str, click_rate: dict[str, float]) -> Truth:
    """An event log and an exported warehouse in ``home`` (built once per module: SQLite
    writes are durable, hence slow, and the tests only read or copy the result)."""
    settings = Settings(home=home)
    events = SQLiteEventLog(settings.sqlite_path)
    experiment = make_experiment(experiment_id)
    events.put_experiment(experiment)
    truth = simulate_traffic(events, experiment, users_per_variant=USERS, click_rate=click_rate)
    export(settings, events)
    return truth


USERS = 250  # per variant


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Truth]]:
    root = tmp_path_factory.mktemp("scenarios")
    return {
        # B clearly beats A
        "ab": (root / "ab", build_scenario(root / "ab", "exp-ab", {"A": 0.1, "B": 0.5})),
        # B's CTR collapses: below a 5% floor and significantly worse than A
        "bad": (root / "bad", build_scenario(root / "bad", "exp-bad", {"A": 0.5, "B": 0.02})),
    }


def use_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("MOVIEREC_HOME", str(home))
    monkeypatch.setenv("MOVIEREC_BACKEND", "local")
    monkeypatch.delenv("MOVIEREC_ALERT_WEBHOOK_URL", raising=False)
    return Settings.from_env()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """An empty MOVIEREC_HOME."""
    return use_home(tmp_path / "home", monkeypatch)


def _copy(scenario: tuple[Path, Truth], tmp_path: Path, monkeypatch) -> tuple[Settings, Truth]:
    source, truth = scenario
    shutil.copytree(source, tmp_path / "home")
    return use_home(tmp_path / "home", monkeypatch), truth


@pytest.fixture
def ab_test(scenarios, tmp_path, monkeypatch) -> tuple[Settings, Truth]:
    return _copy(scenarios["ab"], tmp_path, monkeypatch)


@pytest.fixture
def harmful(scenarios, tmp_path, monkeypatch) -> Settings:
    return _copy(scenarios["bad"], tmp_path, monkeypatch)[0]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- the report


def capped_ctr(settings: Settings, experiment_id: str, variant: str) -> float:
    """The CTR the warehouse computes: per-user clicks capped at their 99th percentile (by
    default), so within a percent of clicks / impressions on this traffic."""
    with DuckDBWarehouse(settings.duckdb_path) as warehouse:
        return load_experiment_data(warehouse, experiment_id).variants[variant].ctr.mean


def test_report_text_shows_the_generated_numbers_and_the_verdict(ab_test, capsys) -> None:
    settings, truth = ab_test
    code, out, err = run(capsys, "report")
    assert code == 0, err
    assert "experiment exp-ab (running)" in out
    for variant in ("A", "B"):
        row = next(line for line in out.splitlines() if line.startswith(variant + " "))
        assert f"{truth.impressions[variant]:,}" in row and f"{truth.clicks[variant]:,}" in row
        ctr = capped_ctr(settings, "exp-ab", variant)
        assert f"{ctr:.4f}" in row
        assert ctr == pytest.approx(truth.clicks[variant] / truth.impressions[variant], rel=0.01)
    assert f"verdict: B wins on {METRIC_LABELS['ctr']}" in out
    assert f"plan: MDE +100% on {METRIC_LABELS['ctr']} at baseline 0.1" in out
    assert "Traceback" not in err


def test_report_json_and_the_ab_report_log_lines(ab_test, capsys, caplog) -> None:
    settings, truth = ab_test
    with caplog.at_level(logging.INFO, logger="movierec.ab_report"):
        code, out, err = run(capsys, "report", "--json", "--experiment", "exp-ab")
    assert code == 0, err
    body = json.loads(out)
    assert body["decision"]["verdict"] == "wins"
    assert [v["users"] for v in body["variants"]] == [truth.users["A"], truth.users["B"]]
    assert "alerts" not in body  # no webhook configured, no --alerts
    records = [r for r in caplog.records if getattr(r, "event", None) == "ab_report"]
    assert [(r.experiment_id, r.variant) for r in records] == [("exp-ab", "A"), ("exp-ab", "B")]
    assert records[1].ctr == pytest.approx(capped_ctr(settings, "exp-ab", "B"))
    assert records[1].ctr == pytest.approx(truth.clicks["B"] / truth.impressions["B"], rel=0.01)
    # Cloud Logging's formatter turns the record into the jsonPayload the metric reads.
    payload = json.loads(CloudLoggingFormatter().format(records[0]))
    assert payload["event"] == "ab_report" and payload["variant"] == "A" and "ctr" in payload


def test_report_html_is_written_with_real_content(ab_test, capsys, tmp_path) -> None:
    target = tmp_path / "out" / "report.html"
    code, out, err = run(capsys, "report", "--html", str(target))
    assert code == 0, err
    html = target.read_text(encoding="utf-8")
    assert html.count("<svg") == 2
    assert "A (control)" in html and f"B wins on {METRIC_LABELS['ctr']}" in html
    assert f"HTML report written to {target}" in out


def test_the_default_experiment_is_the_running_one_else_the_latest(home, capsys) -> None:
    events = SQLiteEventLog(home.sqlite_path)
    old, current = make_experiment("old", status="stopped"), make_experiment("current", started_at=T0 + 5 * DAY)
    for e in (old, current):
        events.put_experiment(e)
    simulate_traffic(events, old, users_per_variant=20, click_rate={"A": 0.2, "B": 0.2})
    simulate_traffic(events, current, users_per_variant=20, click_rate={"A": 0.2, "B": 0.2}, seed=1)
    export(home, events)
    assert "experiment current (running)" in run(capsys, "report")[1]
    events.put_experiment(make_experiment("current", status="stopped", started_at=T0 + 5 * DAY))
    export(home, events)
    assert "experiment current (stopped)" in run(capsys, "report")[1]
    assert "experiment old (stopped)" in run(capsys, "report", "--experiment", "old")[1]


# --------------------------------------------------------------------------- bad input: exit 2, no traceback


def test_an_unknown_experiment_is_a_clear_error(ab_test, capsys) -> None:
    code, out, err = run(capsys, "report", "--experiment", "nope")
    assert code == 2 and out == ""
    assert "unknown experiment 'nope'" in err and "exp-ab" in err
    assert "Traceback" not in err


def test_no_experiment_at_all_is_a_clear_error(home, capsys) -> None:
    code, _, err = run(capsys, "report")
    assert code == 2 and "no experiment in the warehouse" in err


def test_an_experiment_without_data_is_a_clear_error(home, capsys) -> None:
    events = SQLiteEventLog(home.sqlite_path)
    events.put_experiment(make_experiment("empty"))
    export(home, events)
    code, out, err = run(capsys, "report", "--experiment", "empty")
    assert code == 2 and out == ""
    assert "experiment 'empty' has no data in the warehouse yet" in err


def test_an_unreadable_warehouse_is_a_clear_error(home, capsys) -> None:
    home.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    home.duckdb_path.write_bytes(b"this is not a DuckDB database, just garbage" * 100)
    code, out, err = run(capsys, "report")
    assert code == 2 and out == ""
    assert err.startswith("movierec: error: DuckDB warehouse")
    assert "Traceback" not in err


def test_bad_options_are_clear_errors(ab_test, capsys) -> None:
    # How to test is the recorded plan's, not a flag of the day the report is read.
    with pytest.raises(SystemExit) as exited:
        main(["report", "--expected-users", "500"])
    assert exited.value.code == 2
    assert "unrecognized arguments: --expected-users" in capsys.readouterr().err
    code, _, err = run(capsys, "alerts", "check", "--ctr-floor", "2")
    assert code == 2 and "CTR floor must be in (0, 1)" in err


# --------------------------------------------------------------------------- alerting


def test_alerts_check_posts_once_per_condition_within_the_cooldown(harmful, capsys, monkeypatch) -> None:
    with webhook_receiver() as hook:
        monkeypatch.setenv("MOVIEREC_ALERT_WEBHOOK_URL", hook.url)
        code, out, err = run(capsys, "alerts", "check", "--ctr-floor", "0.05")
        assert code == 0, err
        conditions = sorted(p["fields"]["condition"] for p in hook.posts)
        assert conditions == ["ctr_below_floor", "guardrail_worse"]
        assert all(p["fields"]["variant"] == "B" for p in hook.posts)
        assert out.count("[sent]") == 2
        code, out, _ = run(capsys, "alerts", "check", "--ctr-floor", "0.05")
        assert code == 0 and out.count("[suppressed]") == 2
        assert len(hook.posts) == 2
        code, out, _ = run(capsys, "alerts", "check", "--ctr-floor", "0.05", "--cooldown-hours", "0")
        assert out.count("[sent]") == 2 and len(hook.posts) == 4


def test_alerts_check_dry_run_sends_nothing(harmful, capsys) -> None:
    code, out, _ = run(capsys, "alerts", "check", "--ctr-floor", "0.05", "--dry-run")
    assert code == 0 and out.count("[dry-run]") == 2


def test_the_report_job_dispatches_alerts_when_a_webhook_is_set(harmful, capsys, monkeypatch) -> None:
    with webhook_receiver() as hook:
        monkeypatch.setenv("MOVIEREC_ALERT_WEBHOOK_URL", hook.url)
        code = job_main(["report"])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert f"verdict: B loses on {METRIC_LABELS['ctr']}" in out
        assert [p["fields"]["condition"] for p in hook.posts] == ["guardrail_worse"]
        assert "alert [sent]" in out
        # --no-alerts turns it off even with a webhook
        assert main(["report", "--no-alerts"]) == 0
        assert len(hook.posts) == 1


def test_the_daily_job_takes_its_ctr_floor_from_the_settings(harmful, capsys, monkeypatch) -> None:
    # The deployed daily job runs its steps without options: the floor comes from Terraform's env.
    with webhook_receiver() as hook:
        monkeypatch.setenv("MOVIEREC_ALERT_WEBHOOK_URL", hook.url)
        monkeypatch.setenv("MOVIEREC_CTR_ALERT_FLOOR", "0.05")
        code = job_main(["report"])
        assert code == 0, capsys.readouterr().err
        assert sorted(p["fields"]["condition"] for p in hook.posts) == ["ctr_below_floor", "guardrail_worse"]


def test_report_without_a_webhook_sends_nothing_unless_asked(harmful, capsys, caplog) -> None:
    code, out, _ = run(capsys, "report")
    assert code == 0 and "alert [" not in out
    with caplog.at_level(logging.WARNING, logger="movierec.reporting.webhook"):
        code, out, _ = run(capsys, "report", "--alerts")
    assert code == 0 and "alert [logged]" in out
    assert f"Primary metric {METRIC_LABELS['ctr']} breached" in caplog.text
