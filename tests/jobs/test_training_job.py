"""The Cloud Run job entry point runs the CLI steps in order, with JSON logs."""

from __future__ import annotations

import json

from training_job.main import main


def test_unknown_job_prints_usage(capsys):
    assert main(["nope"]) == 2
    assert "usage: python -m training_job.main" in capsys.readouterr().err


def test_daily_refuses_options(capsys):
    assert main(["daily", "--verbose"]) == 2
    assert "takes no options" in capsys.readouterr().err


def test_daily_exports_reports_and_checks_drift_on_an_empty_stack(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("MOVIEREC_HOME", str(tmp_path))
    monkeypatch.setenv("MOVIEREC_BACKEND", "local")
    # No experiment yet: export succeeds (nothing to copy), report says so and fails with 2.
    code = main(["daily"])
    captured = capsys.readouterr()
    assert code == 2
    assert "no experiment in the warehouse" in captured.err
    assert (tmp_path / "warehouse.duckdb").exists()


def test_job_logs_are_json_lines(monkeypatch, tmp_path, capfd):
    monkeypatch.setenv("MOVIEREC_HOME", str(tmp_path))
    monkeypatch.setenv("MOVIEREC_LOG_LEVEL", "DEBUG")
    main(["export"])
    lines = [line for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    assert lines, "the job logged nothing"
    assert all("severity" in json.loads(line) for line in lines)
