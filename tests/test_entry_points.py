"""`python -m movierec` is the `movierec` command; `--version` names what manifests record."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from movierec import __version__
from movierec.models.artifact import MANIFEST_FILE, model_prefix, save_artifact
from movierec.stores.local import LocalArtifactStore
from tests.models.test_artifact import artifact

REPO = Path(__file__).resolve().parents[1]
CONSOLE_SCRIPT = Path(sys.executable).with_name("movierec")


def run(command: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "MOVIEREC_HOME": str(home),
        "MOVIEREC_BACKEND": "local",
    }
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=home, timeout=120, check=False)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    tmp_path.joinpath("home").mkdir()
    return tmp_path / "home"


def test_version_prints_the_package_and_the_code_version_of_manifests(home: Path) -> None:
    result = run([sys.executable, "-m", "movierec", "--version"], home)
    assert result.returncode == 0, result.stderr
    match = re.fullmatch(r"movierec (\S+) \(code (\S+)\)\n", result.stdout)
    assert match, result.stdout
    package, code = match.groups()
    assert package == __version__

    store = LocalArtifactStore(home / "artifacts")
    saved = save_artifact(store, artifact())
    manifest = json.loads(store.read_bytes(model_prefix(saved.name, saved.version) + MANIFEST_FILE))
    assert manifest["code_version"] == code


@pytest.mark.parametrize("argv", [["--version"], ["model", "list"], ["model", "bogus"]])
def test_python_m_movierec_answers_as_the_console_script_does(home: Path, argv: list[str]) -> None:
    assert CONSOLE_SCRIPT.exists(), f"{CONSOLE_SCRIPT} is missing: install the package with `make setup`"
    as_module = run([sys.executable, "-m", "movierec", *argv], home)
    as_script = run([str(CONSOLE_SCRIPT), *argv], home)
    assert (as_module.returncode, as_module.stdout, as_module.stderr) == (
        as_script.returncode, as_script.stdout, as_script.stderr
    )
    assert as_module.returncode == (0 if argv == ["--version"] else 2)
    if argv == ["model", "list"]:  # a real command ran: no models in the fresh home
        assert "no models in" in as_module.stderr and str(home) in as_module.stderr
