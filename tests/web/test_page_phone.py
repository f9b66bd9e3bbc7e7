"""The demo page on a phone (390x844, touch) and at 1280x800, in a real headless Chromium
against a real `movierec serve`: no horizontal overflow, every control takes a real click
(Playwright's hit test fails when another element would receive it), the A/B panel fits,
and what a visitor reads (reasons, score meaning, their ratings, a movie's details, title
search) is what the API answered. Screenshots land in test-artifacts/."""

from __future__ import annotations

import pytest
import requests

from tests.web.browser import (
    DESKTOP,
    PHONE,
    WAIT_MS,
    assert_no_horizontal_overflow,
    keep_screenshot,
    launch,
)

pytestmark = pytest.mark.e2e
USER = 196


def controls(page) -> list[str]:
    """Every control on the page now: buttons, inputs, selects, summaries, as CSS selectors."""
    return page.evaluate(
        """() => [...document.querySelectorAll('button, input, select, summary')]
             .filter(e => e.offsetParent !== null)
             .map((e, i) => { e.dataset.probe = String(i); return `[data-probe="${i}"]`; })"""
    )


def assert_every_control_takes_a_click(page) -> None:
    refused = []
    for selector in controls(page):
        try:
            # trial: every actionability check of a real click (visible, stable, enabled, and
            # the element itself receives the pointer at its centre), without clicking.
            page.locator(selector).click(trial=True, timeout=3_000)
        except Exception as exc:  # Playwright's TimeoutError names what intercepts the click
            refused.append(f"{selector}: {str(exc).splitlines()[0]}")
    assert refused == []


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["390x844", "1280x800"])
def test_a_visitor_on_a_phone_and_a_desktop_can_use_everything(sync_playwright, server, device):
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    size = f"{device['viewport']['width']}x{device['viewport']['height']}"
    problems: list[str] = []
    history = requests.get(f"{server}/api/users/{USER}/ratings", params={"limit": 10}, timeout=30).json()
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_context(**device).new_page()
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.set_default_timeout(WAIT_MS)
            page.goto(server)
            expect(page.locator("#ab-experiment")).to_contain_text("experiment page-ab (running)")
            assert_no_horizontal_overflow(page)
            assert_every_control_takes_a_click(page)

            page.locator("#user-id").click()
            page.locator("#user-id").fill(str(USER))
            with page.expect_response(lambda r: "/recommend?" in r.url) as served:
                page.locator("#recommend").click()
            rec = served.value.json()
            assert "explain=true" in served.value.url
            rows = page.locator("#recs li")
            expect(rows).to_have_count(10)

            # Each row says why, with the titles and ratings the API gave, and what its score is.
            first = rec["items"][0]
            assert first["reasons"], first
            reason = rows.nth(0).locator(".reason")
            expect(reason).to_contain_text("because you rated")
            for r in first["reasons"]:
                expect(reason).to_contain_text(f"{r['title']} {r['rating']:g}")
            meaning = first["score_meaning"]
            expect(page.locator("#score-meaning")).to_contain_text(meaning)
            label = {"svd": "predicted rating", "ease": "relevance weight"}[rec["model"]["name"]]
            expect(rows.nth(0).locator(".score")).to_contain_text(label)

            # The user's own recent ratings, as the catalogue route answered them.
            expect(page.locator("#history-list li")).to_have_count(len(history["ratings"]))
            latest = history["ratings"][0]
            expect(page.locator("#history-list li").nth(0)).to_contain_text(latest["title"])
            expect(page.locator("#history-list li").nth(0)).to_contain_text(f"{latest['rating']:g}")

            # A tap on a title sends the click and shows the movie's genres, year and mean rating.
            movie = requests.get(f"{server}/api/movies/{first['movie_id']}", timeout=30).json()
            with page.expect_response(lambda r: r.url.endswith("/feedback")) as sent:
                rows.nth(0).locator(".title").click()
            assert sent.value.status == 201
            detail = rows.nth(0).locator(".detail")
            expect(detail).to_contain_text(str(movie["year"]))
            expect(detail).to_contain_text(f"average {movie['mean_rating']:.2f}")
            for genre in movie["genres"]:
                expect(detail).to_contain_text(genre)
            with page.expect_response(lambda r: r.url.endswith("/feedback")) as rated:
                rows.nth(1).locator('.stars button[data-value="5"]').click()
            assert rated.value.status == 201
            expect(rows.nth(1).locator(".feedback-status")).to_have_text("rating 5 recorded")

            # Title search, then a result's details.
            page.locator("#search-q").click()
            page.locator("#search-q").fill("fargo")
            page.locator("#search").click()
            result = page.locator("#search-results li", has_text="Fargo (1996)")
            expect(result).to_have_count(1)
            result.locator(".title").click()
            expect(result.locator(".detail")).to_contain_text("1996")
            expect(result.locator(".detail")).to_contain_text("Crime")

            # With everything open, still nothing sideways, every control still takes a click,
            # and the A/B table fits its card (readable without scrolling sideways).
            expect(page.locator("#ab-table tbody tr")).to_have_count(2)
            assert_no_horizontal_overflow(page)
            assert_every_control_takes_a_click(page)
            fits = page.evaluate(
                "() => { const s = document.querySelector('.table-scroll'); return s.scrollWidth <= s.clientWidth; }"
            )
            assert fits, "the A/B table needs sideways scrolling"
            smallest = page.evaluate(
                "() => Math.min(...[...document.querySelectorAll('#ab-table td, #ab-lifts li, #verdict')]"
                ".map(e => parseFloat(getComputedStyle(e).fontSize)))"
            )
            assert smallest >= 12, f"A/B panel text {smallest}px"
            chart_text = page.evaluate(
                "() => Math.min(...[...document.querySelectorAll('#ab-chart svg text')]"
                ".map(e => e.getBoundingClientRect().height))"
            )
            assert chart_text >= 10, f"the chart's labels are drawn {chart_text}px tall"
            keep_screenshot(page, f"demo-page-{size}.png")
        finally:
            browser.close()
    assert problems == []
