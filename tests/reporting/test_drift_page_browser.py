"""The drift report's two pages in a real headless Chromium at a phone's width (390 px),
from a report of one day against the day before.

Chromium is Debian's (`bash scripts/install_browser.sh`), driven by Playwright, as in
tests/web/test_page_browser.py. Screenshots are kept in test-artifacts/.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from movierec.reporting.drift import run_drift_report
from movierec.stores.local import LocalArtifactStore, SQLiteEventLog
from tests.fixtures.serving import REPO
from tests.reporting.test_drift import DAY, NOW, alerter, ml_popularity, simulate  # noqa: F401 (fixture)
from tests.web.browser import CHROMIUM_ARGS, WAIT_MS, require_playwright

ARTIFACTS = REPO / "test-artifacts"
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.e2e


@pytest.fixture
def one_day_report(tmp_path, ml_popularity, published):  # noqa: F811
    """A day of traffic against the day before, the current day leaning to popular titles."""
    popularity, ratings = ml_popularity
    shutil.copytree(published[0], tmp_path / "artifacts")
    events = SQLiteEventLog(tmp_path / "events.sqlite")
    rng = np.random.default_rng(11)
    simulate(events, rng, popularity, ratings, start=NOW - 2 * DAY, exponent=0.8, days=1)
    simulate(events, rng, popularity, ratings, start=NOW - 1 * DAY, exponent=1.6, days=1)
    store = LocalArtifactStore(tmp_path / "artifacts")
    report, saved, _ = run_drift_report(events, store, alerter(tmp_path), now=NOW, reference_days=1, current_days=1)
    return tmp_path / "artifacts", report, saved


@pytest.fixture(scope="module")
def sync_playwright():
    return require_playwright()


def test_both_drift_pages_read_at_390_px_with_one_day_of_data(one_day_report, sync_playwright):
    root, report, saved = one_day_report
    assert report.verdict == "drift" and saved.evidently_key is not None
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=PHONE)
            page.goto((root / saved.summary_key).as_uri())
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            assert page.locator("h1").inner_text().endswith("drift")
            assert page.get_by_text("All traffic").is_visible()
            page.screenshot(path=str(ARTIFACTS / "drift-summary-390.png"), full_page=True)
            # The link opens Evidently's report, which lays out in the phone's width too.
            page.get_by_role("link", name="Evidently's report").click()
            page.wait_for_url("**/*.evidently.html", timeout=WAIT_MS)
            page.get_by_text("Drift in column 'all: popularity_rank'").first.wait_for(timeout=WAIT_MS)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            page.screenshot(path=str(ARTIFACTS / "drift-evidently-390.png"))
        finally:
            browser.close()
