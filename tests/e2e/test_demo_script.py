"""`make demo`'s script, really run: a fresh MOVIEREC_HOME, twice, with no terminal.

The steps are the real ones (fetch and verify the data, train, create the experiment,
serve, requests, simulated traffic, export, report); only the knobs scripts/demo.sh
documents make it shorter (fewer Optuna trials, fewer simulated users and days). Any
Python traceback in the output fails the test, as does a non-zero exit. Before the
first run, `movierec serve` on the empty home says which command to run.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import requests

from tests.e2e.server import running_server
from tests.fixtures.serving import REPO, SECRET

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

KNOBS = {"DEMO_TRIALS": "2", "DEMO_USERS": "60", "DEMO_DAYS": "2"}


def run_demo(home: Path, movielens: Path) -> str:
    env = {**os.environ, **KNOBS, "MOVIEREC_HOME": str(home), "MOVIELENS_DIR": str(movielens),
           "MOVIEREC_TOKEN_SECRET": SECRET}
    env.pop("MOVIEREC_BACKEND", None)
    result = subprocess.run(["bash", "scripts/demo.sh"], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=1500)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "Traceback" not in output, output
    return output


def test_an_untrained_server_says_what_to_run_and_the_demo_runs_twice_without_a_traceback(tmp_path, movielens_root):
    home = tmp_path / "home"
    env = {"MOVIEREC_HOME": str(home), "MOVIEREC_TOKEN_SECRET": SECRET, "MOVIEREC_BACKEND": "local"}
    with running_server(env, tmp_path / "untrained.log") as url:
        refused = requests.get(f"{url}/recommend", params={"user_id": 1}, timeout=30)
    assert refused.status_code == 503
    assert "run `movierec train`" in refused.json()["error"]["message"]
    assert "run `movierec train`" in (tmp_path / "untrained.log").read_text()  # said at start, in the log

    first = run_demo(home, movielens_root / "ml-100k")
    assert "no experiment is running: nothing to stop" in first
    assert "verdict: " in first and "HTML report: " in first
    second = run_demo(home, movielens_root / "ml-100k")
    assert "stopped experiment demo-" in second  # the first run's experiment gives way
    assert "verdict: " in second
