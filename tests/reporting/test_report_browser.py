"""The HTML A/B report on a phone (390x844) in a real headless Chromium (tests/web/browser.py):
the page fits the screen (wide tables scroll inside their own box), and with one day of
data each chart shows a labelled point with its interval, not a line of one point."""

from __future__ import annotations

import re

import pytest

from movierec.analysis.config import AnalysisConfig
from movierec.analysis.readout import analyse
from movierec.reporting.report import render_html
from tests.fixtures.abdata import ab_data, two_arm_experiment
from tests.web.browser import (
    PHONE,
    assert_no_horizontal_overflow,
    keep_screenshot,
    launch,
    require_playwright,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def one_day_html() -> str:
    data = ab_data(1, 800, 800, lift=0.3, days=1)
    return render_html(analyse(two_arm_experiment(), data, AnalysisConfig()), data)


def test_one_day_of_data_draws_labelled_points_with_their_intervals(one_day_html):
    svgs = re.findall(r"<svg.*?</svg>", one_day_html, flags=re.S)
    assert len(svgs) == 2
    # "A: 0.251 [0.23, 0.272]": the value and both ends of its interval, as text in the SVG.
    for name in ("A", "B"):
        assert re.search(rf">{name}: [0-9.]+ \[[0-9.]+, [0-9.]+\]</text>", svgs[0]), name
    assert re.search(r">B vs A: [-+0-9.]+% \[[-0-9.]+%, [-0-9.]+%\]</text>", svgs[1])


def test_the_report_fits_a_phone(one_day_html, tmp_path):
    page_file = tmp_path / "report.html"
    page_file.write_text(one_day_html, encoding="utf-8")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in one_day_html
    with require_playwright()() as p:
        browser = launch(p)
        try:
            page = browser.new_context(**PHONE).new_page()
            page.goto(page_file.as_uri())
            assert page.evaluate("() => window.innerWidth") == 390
            assert_no_horizontal_overflow(page)
            # The comparisons table is wider than a phone: it scrolls inside its own box.
            boxed = page.evaluate(
                "() => { const t = document.querySelector('#comparisons');"
                " return getComputedStyle(t).overflowX === 'auto' && t.getBoundingClientRect().right <= innerWidth; }"
            )
            assert boxed
            keep_screenshot(page, "ab-report-390x844.png")
        finally:
            browser.close()
