"""Fixtures of the data tests: the real MovieLens reference files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from movierec.data import MovieLens, load_movielens

# Every checkout has the read-only reference data beside it: <checkout>/../shared/data.
_SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture(scope="session")
def movielens_root() -> Path:
    """Folder holding ``ml-100k/`` and ``ml-latest-small/``: MOVIELENS_DIR's parent if set."""
    configured = os.environ.get("MOVIELENS_DIR")
    root = Path(configured).parent if configured else _SHARED_DATA
    if not (root / "ml-100k").is_dir():
        pytest.fail(
            f"MovieLens reference data not found under {root}; set MOVIELENS_DIR to the "
            "unpacked ml-100k folder (its parent must also hold ml-latest-small)",
            pytrace=False,
        )
    return root


@pytest.fixture(scope="session")
def ml100k(movielens_root: Path) -> MovieLens:
    return load_movielens("ml-100k", movielens_root / "ml-100k")


@pytest.fixture(scope="session")
def latest_small(movielens_root: Path) -> MovieLens:
    return load_movielens("ml-latest-small", movielens_root / "ml-latest-small")
