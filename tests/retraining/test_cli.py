"""`movierec retrain` and `movierec model list|promote|rollback` on the local backend."""

from __future__ import annotations

import time

import pytest

from movierec.cli import main
from movierec.models.artifact import list_versions, live_version
from movierec.stores.local import LocalArtifactStore, SQLiteEventLog
from tests.retraining.conftest import write_genre_feedback


@pytest.fixture
def home(tmp_path, monkeypatch, movielens_root):
    monkeypatch.setenv("MOVIEREC_BACKEND", "local")
    monkeypatch.setenv("MOVIEREC_HOME", str(tmp_path))
    monkeypatch.setenv("MOVIELENS_DIR", str(movielens_root / "ml-100k"))
    return tmp_path


def test_retrain_then_manage_versions(home, base, capsys):
    store = LocalArtifactStore(home / "artifacts")
    assert main(["retrain", "--models", "svd", "--no-mlflow"]) == 0
    out = capsys.readouterr().out
    assert "svd: promoted" in out and "0 events" in out
    first = live_version(store, "svd")

    events = SQLiteEventLog(home / "events.sqlite")
    write_genre_feedback(events, base, "Horror", range(1, 21), per_user=5)
    events.close()
    time.sleep(0.05)  # the window ends at the run's start: after the events
    assert main(["retrain", "--models", "svd", "--no-mlflow"]) == 0
    out = capsys.readouterr().out
    assert "100 events" in out and "svd: promoted" in out
    second = live_version(store, "svd")
    assert list_versions(store, "svd") == [first, second]

    assert main(["model", "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split() == ["model", "version", "state", "created_at", "ndcg@10", "rmse"]
    assert [line.split()[:3] for line in listing[1:]] == [["svd", first, "previous"], ["svd", second, "LIVE"]]

    assert main(["model", "rollback", "svd"]) == 0
    assert f"rolled back to {first}" in capsys.readouterr().out
    assert live_version(store, "svd") == first
    assert main(["model", "promote", "svd", second]) == 0
    assert live_version(store, "svd") == second
    capsys.readouterr()
    assert main(["model", "promote", "svd", "20990101T000000Z-deadbeef"]) == 2
    assert "has no version '20990101T000000Z-deadbeef'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["model", "list", "nope"], "unknown model 'nope'"),
        (["model", "promote", "nope", "v1"], "unknown model 'nope'"),
        (["model", "rollback", "nope"], "unknown model 'nope'"),
        (["model", "list"], "no models in"),
        (["retrain", "--models", "nope"], "unknown model 'nope'"),
        (["retrain", "--tolerance", "2"], "tolerance must be in [0, 1)"),
    ],
)
def test_clear_errors(home, capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("movierec: error: ") and message in err
    assert "Traceback" not in err
