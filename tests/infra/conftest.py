from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.infra import tfconfig
from tests.infra.tools import REPO, checkov


@pytest.fixture(scope="session")
def infra_dir() -> Path:
    return REPO / "infra"


@pytest.fixture(scope="session")
def config(infra_dir: Path) -> tfconfig.TfConfig:
    return tfconfig.load(infra_dir)


@pytest.fixture(scope="session")
def checkov_terraform(infra_dir: Path) -> dict[str, Any]:
    """checkov over infra/, run once per session (it takes seconds)."""
    return checkov(infra_dir, "terraform")


@pytest.fixture
def infra_copy(tmp_path: Path, infra_dir: Path) -> Path:
    """A throw-away copy of infra/ to break on purpose."""
    target = tmp_path / "infra"
    shutil.copytree(
        infra_dir, target, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "build")
    )
    return target
