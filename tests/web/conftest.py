"""Fixtures of the demo page tests: the serving fixtures (models trained once per session)."""

from __future__ import annotations

from tests.serving.conftest import (  # noqa: F401  (shared fixtures)
    client,
    events,
    home,
    local_env,
    make_client,
    ml100k,
    movielens_root,
    openapi,
    published,
)
