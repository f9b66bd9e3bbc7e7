"""The demo page tests use the shared serving fixtures (tests/fixtures/serving.py), a real
`movierec serve` with an A/B experiment running, and Chromium (tests/web/browser.py)."""

from __future__ import annotations

import shutil

import pytest

from movierec.events import Experiment, Variant
from movierec.stores.local import SQLiteEventLog
from tests.e2e.server import running_server
from tests.fixtures.serving import SECRET
from tests.web.browser import require_playwright


@pytest.fixture(scope="module")
def sync_playwright():
    return require_playwright()


@pytest.fixture
def server(tmp_path, published) -> str:
    shutil.copytree(published[0], tmp_path / "artifacts")
    SQLiteEventLog(tmp_path / "events.sqlite").put_experiment(
        Experiment(
            experiment_id="page-ab",
            salt="page-salt",
            variants=(Variant("A", "svd", None, 0.5), Variant("B", "ease", None, 0.5)),
            started_at=1.0,
        )
    )
    env = {
        "MOVIEREC_BACKEND": "local",
        "MOVIEREC_HOME": str(tmp_path),
        "MOVIEREC_TOKEN_SECRET": SECRET,
        "MOVIEREC_DEFAULT_MODEL": "svd",
    }
    with running_server(env, tmp_path / "serve.log", threads=4) as url:
        yield url
