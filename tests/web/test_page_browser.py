"""The demo page in a real headless Chromium (tests/web/browser.py), against a real
`movierec serve` process: a desktop visitor's whole path, and the same page on a phone."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import requests

from tests.web.browser import (
    DESKTOP,
    WAIT_MS,
    assert_no_horizontal_overflow,
    keep_screenshot,
    launch,
)

USER = 196  # not among the background users below

pytestmark = pytest.mark.e2e


def background_traffic(url: str, users: range) -> dict[str, Counter]:
    """Other visitors: one list each, a click on every other list. Returns what they did per arm."""
    done: dict[str, Counter] = {"users": Counter(), "impressions": Counter(), "clicks": Counter()}
    with requests.Session() as http:
        for user in users:
            rec = http.get(f"{url}/recommend", params={"user_id": user, "top_n": 5}, timeout=30).json()
            done["users"][rec["variant"]] += 1
            done["impressions"][rec["variant"]] += 1
            if user % 2:
                body = {"request_id": rec["request_id"], "token": rec["token"], "user_id": user,
                        "movie_id": rec["items"][user % 5]["movie_id"], "type": "click"}
                assert http.post(f"{url}/feedback", json=body, timeout=30).status_code == 201
                done["clicks"][rec["variant"]] += 1
    return done


def test_visitor_gets_recommendations_clicks_one_and_sees_it_counted(sync_playwright, server, tmp_path):
    from playwright.sync_api import expect

    # The live panel's first answer builds an in-memory warehouse: seconds on a loaded
    # 2-core machine, where Playwright's 5 s default failed once.
    expect.set_options(timeout=20_000)
    before = background_traffic(server, range(1, 41))
    assert set(before["users"]) == {"A", "B"}

    requests_made: list[str] = []
    problems: list[str] = []
    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(**DESKTOP)
            page.on("request", lambda r: requests_made.append(r.url))
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
            page.set_default_timeout(WAIT_MS)
            page.goto(server)

            # The panel shows the running experiment and what the other visitors did.
            expect(page.locator("#ab-experiment")).to_contain_text("experiment page-ab (running)")
            expect(page.locator("#ab-table tbody tr")).to_have_count(2)
            for arm in ("A", "B"):
                row = page.locator(f'#ab-table tr[data-variant="{arm}"]')
                expect(row.locator("td.users")).to_have_text(str(before["users"][arm]))
                expect(row.locator("td.clicks")).to_have_text(str(before["clicks"][arm]))
            expect(page.locator("#verdict")).not_to_be_empty()
            expect(page.locator("#ab-chart svg circle")).to_have_count(2)
            # The page shows the server's verdict, reasons and intervals as they are: the
            # strings `movierec report` prints (no new events until the visitor acts).
            panel = requests.get(f"{server}/api/ab", timeout=30).json()
            expect(page.locator("#verdict")).to_have_text(panel["verdict"]["text"])
            expect(page.locator("#ab-reasons li")).to_have_text(panel["verdict"]["reasons"])
            primary = panel["comparisons"][0]
            lift = page.locator('#ab-lifts li.primary[data-variant="B"]')
            expect(lift).to_have_class(re.compile(rf"\b{primary['tone']}\b"))
            if not primary["message"]:
                expect(lift.locator(".effect.ci")).to_have_text(primary["ci"])

            page.fill("#user-id", str(USER))
            with page.expect_response(lambda r: "/recommend?" in r.url) as served:
                page.click("#recommend")
            rec = served.value.json()
            variant = rec["variant"]
            assert variant in ("A", "B") and rec["experiment"] == "page-ab"

            rows = page.locator("#recs li")
            expect(rows).to_have_count(10)
            first = rec["items"][0]
            expect(rows.nth(0).locator(".title")).to_have_text(first["title"])
            for genre in first["genres"].split("|"):
                expect(rows.nth(0).locator(".genres")).to_contain_text(genre)
            model = f"model {rec['model']['name']} {rec['model']['version']}"
            expect(page.locator("#rec-meta")).to_contain_text(f"variant {variant}")
            expect(page.locator("#rec-meta")).to_contain_text(model)

            arm = page.locator(f'#ab-table tr[data-variant="{variant}"]')
            # The panel refreshes by itself: one more user and list, no new click yet.
            expect(arm.locator("td.impressions")).to_have_text(str(before["impressions"][variant] + 1))
            expect(arm.locator("td.users")).to_have_text(str(before["users"][variant] + 1))
            expect(arm.locator("td.clicks")).to_have_text(str(before["clicks"][variant]))

            with page.expect_response(lambda r: r.url.endswith("/feedback")) as sent:
                rows.nth(0).locator(".title").click()
            assert sent.value.status == 201
            expect(rows.nth(0).locator(".feedback-status")).to_have_text("click recorded")
            with page.expect_response(lambda r: r.url.endswith("/feedback")) as rated:
                rows.nth(1).locator('.stars button[data-value="4"]').click()
            assert rated.value.status == 201

            expect(arm.locator("td.clicks")).to_have_text(str(before["clicks"][variant] + 1))
            expect(arm.locator("td.ratings")).to_have_text("1")
            ctr = (before["clicks"][variant] + 1) / (before["impressions"][variant] + 1)
            expect(arm.locator("td.ctr")).to_contain_text(f"{100 * ctr:.1f}")

            assert_no_horizontal_overflow(page)
            keep_screenshot(page, "demo-page-ab-1280x800.png")
        finally:
            browser.close()

    assert problems == []
    foreign = [u for u in requests_made if not u.startswith(server) and not u.startswith("data:")]
    assert foreign == []
