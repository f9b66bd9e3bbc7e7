"""Headless Chromium for the page tests: Debian's browser (`bash scripts/install_browser.sh`),
driven by Playwright; the browser build Playwright would download is not used. A missing
browser fails the test with the install command: a page nobody could load must not pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.serving import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO / "test-artifacts"  # screenshots kept for a person to look at
WAIT_MS = 20_000  # generous: a shared 2-core machine; nothing here asserts a duration
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def require_playwright():
    """Playwright's ``sync_playwright``, or a failure that says what to install."""
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} not found: run `bash scripts/install_browser.sh` (apt-get install -y chromium)",
                    pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: pip install -r requirements-dev.txt", pytrace=False)
    return sync_playwright


def launch(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


def overflow(page) -> dict[str, int]:
    """How wide the page lays out against the viewport: scrollWidth must not exceed innerWidth."""
    return page.evaluate("() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")


def assert_no_horizontal_overflow(page) -> None:
    sizes = overflow(page)
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
             .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5
                          && !e.closest('.table-scroll'))
             .slice(0, 5).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className)"""
    )
    assert sizes["scroll"] <= sizes["inner"], f"{sizes}; wider than the viewport: {wide}"


def keep_screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path
