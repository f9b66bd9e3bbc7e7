"""The Cloud Run job entry point runs the CLI steps in order, with JSON logs."""

from __future__ import annotations

import json
import time

import pytest

from movierec.events import Impression
from movierec.stores.duckdb_warehouse import DuckDBWarehouse
from movierec.stores.local import SQLiteEventLog
from training_job.main import main

NOW = 1_790_000_000.0


def test_unknown_job_prints_usage(capsys):
    assert main(["nope"]) == 2
    assert "usage: python -m training_job.main" in capsys.readouterr().err


def test_daily_refuses_options(capsys):
    assert main(["daily", "--verbose"]) == 2
    assert "takes no options" in capsys.readouterr().err


def test_daily_exports_reports_and_checks_drift_on_an_empty_stack(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("MOVIEREC_HOME", str(tmp_path))
    monkeypatch.setenv("MOVIEREC_BACKEND", "local")
    # No experiment yet: export succeeds (nothing to copy), the report has nothing to
    # analyse, which is no failure, and drift still runs and writes its report.
    code = main(["daily"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "nothing to analyse: no experiment in the warehouse" in captured.out
    assert (tmp_path / "warehouse.duckdb").exists()
    # Drift ran too, and had nothing to compare either.
    assert "drift: nothing to analyse: no impressions in the reference window" in captured.out


def test_the_report_job_with_no_experiment_exits_0_but_the_command_exits_2(tmp_path, capsys):
    env = {"MOVIEREC_HOME": str(tmp_path)}
    assert main(["report"], env=env) == 0
    assert "nothing to analyse" in capsys.readouterr().out
    # With explicit options the job runs exactly the command line: no skip unless asked.
    assert main(["report", "--json"], env=env) == 2
    assert "no experiment in the warehouse" in capsys.readouterr().err
    assert main(["report", "--skip-when-empty"], env=env) == 0


def test_daily_is_safe_to_retry(tmp_path, capsys):
    env = {"MOVIEREC_HOME": str(tmp_path)}
    events = SQLiteEventLog(tmp_path / "events.sqlite")
    now = time.time()
    for request_id, days_ago in (("r1", 8), ("r2", 1)):  # one in each drift window
        events.record_impression(Impression(request_id, now - days_ago * 86_400.0, 1, None, "default",
                                            "svd", "v1", (1, 2, 3), (3.0, 2.0, 1.0), None, 1.0))
    events.close()
    assert main(["daily"], env=env) == 0
    first = capsys.readouterr().out
    reports = tmp_path / "artifacts" / "reports" / "drift"
    before = {p.name for p in reports.glob("*.html")}
    assert len(before) == 1, first
    assert main(["daily"], env=env) == 0  # a retry of the same day
    second = capsys.readouterr().out
    assert "exported 2 new rows" in first and "exported 0 new rows" in second
    assert {p.name for p in reports.glob("*.html")} == before
    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    try:
        rows = warehouse.query("SELECT request_id FROM impressions ORDER BY request_id")
    finally:
        warehouse.close()
    assert [r["request_id"] for r in rows] == ["r1", "r2"], second  # nothing twice


def test_job_logs_are_json_lines(monkeypatch, tmp_path, capfd):
    monkeypatch.setenv("MOVIEREC_HOME", str(tmp_path))
    monkeypatch.setenv("MOVIEREC_LOG_LEVEL", "DEBUG")
    main(["export"])
    lines = [line for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    assert lines, "the job logged nothing"
    assert all("severity" in json.loads(line) for line in lines)


def test_every_step_runs_with_the_settings_the_job_read_once(monkeypatch, tmp_path, capsys):
    process_home, job_home = tmp_path / "process", tmp_path / "job"
    # A step that read the process environment again would fail on this (gcp needs a project)
    # or write into process_home.
    monkeypatch.setenv("MOVIEREC_BACKEND", "gcp")
    monkeypatch.setenv("MOVIEREC_HOME", str(process_home))
    env = {"MOVIEREC_BACKEND": "local", "MOVIEREC_HOME": str(job_home)}

    assert main(["daily"], env=env) == 0  # export ran, the report found nothing to analyse
    assert "nothing to analyse" in capsys.readouterr().out
    assert (job_home / "warehouse.duckdb").exists()

    events = SQLiteEventLog(job_home / "events.sqlite")
    for request_id, days_ago in (("r1", 8), ("r2", 1)):  # one impression in each window
        events.record_impression(Impression(request_id, NOW - days_ago * 86_400.0, 1, None, "default",
                                            "svd", "v1", (1, 2, 3), (3.0, 2.0, 1.0), None, 1.0))
    events.close()
    assert main(["drift", "--now", str(NOW), "--popularity-model", ""], env=env) == 0
    assert (job_home / "artifacts" / "reports" / "drift" / "2026-09-21.html").is_file()
    assert not process_home.exists()


def test_a_single_step_job_takes_its_command_options(tmp_path, capsys):
    env = {"MOVIEREC_HOME": str(tmp_path)}
    assert main(["drift", "--current-days", "0"], env=env) == 2
    assert "--current-days must be positive" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:  # argparse, as `movierec export --bogus`
        main(["export", "--bogus"], env=env)
    assert exit_info.value.code == 2
    assert "python -m training_job.main export" in capsys.readouterr().err
