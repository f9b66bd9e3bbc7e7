"""Observability fixtures: the serving fixtures (real artifacts, SQLite, test clients) and a clean root logger."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.data.conftest import ml100k, movielens_root  # noqa: F401  (shared fixtures)
from tests.serving.conftest import client, events, home, local_env, make_client, published  # noqa: F401


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    """configure_logging changes the process's root logger; give the next test the old one."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
