"""The demo page tests use the shared serving fixtures (tests/fixtures/serving.py)."""

from __future__ import annotations

