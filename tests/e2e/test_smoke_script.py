"""scripts/smoke_test.py (the deploy workflow's smoke test) against the recommend
function run as Cloud Run runs it: a first deploy with no model is reachable, a
deploy with models answers a ranked list, nothing listening fails."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.e2e.server import functions_framework_process
from tests.emulators import free_port
from tests.fixtures.serving import SECRET

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import smoke_test

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def function_env(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(REPO),
        "MOVIEREC_HOME": str(home),
        "MOVIEREC_TOKEN_SECRET": SECRET,
        "MOVIEREC_DEFAULT_MODEL": "svd",
    }


def test_a_first_deploy_without_a_model_is_reachable(tmp_path: Path) -> None:
    source = REPO / "functions" / "main.py"
    with functions_framework_process("recommend", source, function_env(tmp_path), tmp_path / "fn.log") as url:
        code, message = smoke_test.smoke(f"{url}/", token=None, retry_seconds=0.1)
    assert code == 0, message
    assert "no model is published yet" in message


def test_a_deploy_with_models_answers_a_ranked_list(tmp_path: Path, published) -> None:
    shutil.copytree(published[0], tmp_path / "artifacts")
    source = REPO / "functions" / "main.py"
    with functions_framework_process("recommend", source, function_env(tmp_path), tmp_path / "fn.log") as url:
        code, message = smoke_test.smoke(f"{url}/", token="a-token", retry_seconds=0.1)
    assert code == 0, message
    assert message.startswith("ok: 5 items from svd ")


def test_nothing_listening_fails() -> None:
    code, message = smoke_test.smoke(f"http://127.0.0.1:{free_port()}/", token=None, retry_seconds=0.0)
    assert code == 1 and "health answered 0" in message, message
