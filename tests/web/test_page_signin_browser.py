"""The demo page's test sign-in (static/signin.js) in headless Chromium: a server with
MOVIEREC_AUTH=firebase and the Firebase Auth emulator; the visitor signs in on the
emulator from the page, and the page's recommend and feedback calls carry the ID token."""

from __future__ import annotations

import shutil

import pytest

from movierec.stores.local_users import SQLiteUserDirectory
from tests.e2e.server import running_server
from tests.emulators import AUTH_TEST_PROJECT
from tests.fixtures.serving import SECRET
from tests.web.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, WAIT_MS

pytestmark = [pytest.mark.e2e, pytest.mark.emulator]

USER = 196
EMAIL = "visitor@example.com"


@pytest.fixture
def server(tmp_path, published, auth_emulator):
    auth_emulator.start()
    auth_emulator.reset()
    account = auth_emulator.sign_up(EMAIL)  # the account exists; an administrator linked it
    SQLiteUserDirectory(tmp_path / "events.sqlite").link(account["localId"], USER)
    shutil.copytree(published[0], tmp_path / "artifacts")
    env = {
        "MOVIEREC_BACKEND": "local", "MOVIEREC_HOME": str(tmp_path), "MOVIEREC_TOKEN_SECRET": SECRET,
        "MOVIEREC_DEFAULT_MODEL": "svd", "MOVIEREC_AUTH": "firebase", "GOOGLE_CLOUD_PROJECT": AUTH_TEST_PROJECT,
        **auth_emulator.env(),
    }
    with running_server(env, tmp_path / "serve.log", workers=1) as url:
        yield url, auth_emulator.url


def test_a_visitor_signs_in_on_the_emulator_and_the_api_sees_the_token(sync_playwright, server, tmp_path):
    from playwright.sync_api import expect

    url, emulator = server
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.set_default_timeout(WAIT_MS)
            expect.set_options(timeout=WAIT_MS)
            page.goto(url)

            expect(page.locator("#signin-card")).to_be_visible()
            page.fill("#user-id", str(USER))
            with page.expect_response(lambda r: "/recommend?" in r.url) as refused:
                page.click("#recommend")
            assert refused.value.status == 401
            expect(page.locator("#rec-meta")).to_contain_text("sign in first")

            page.fill("#signin-email", EMAIL)
            with page.expect_response(lambda r: r.url.startswith(emulator)) as signed:
                page.click("#signin")
            assert signed.value.ok
            expect(page.locator("#signin-status")).to_contain_text(f"signed in as {EMAIL}")

            with page.expect_request(lambda r: "/recommend?" in r.url) as asked, \
                 page.expect_response(lambda r: "/recommend?" in r.url) as served:
                page.click("#recommend")
            assert asked.value.headers["authorization"].startswith("Bearer ")
            assert served.value.status == 200 and served.value.json()["user_id"] == USER
            rows = page.locator("#recs li")
            expect(rows).to_have_count(10)

            with page.expect_response(lambda r: r.url.endswith("/feedback")) as sent:
                rows.nth(0).locator(".title").click()
            assert sent.value.status == 201
            expect(rows.nth(0).locator(".feedback-status")).to_have_text("click recorded")
            page.screenshot(path=str(tmp_path / "demo-page-signin.png"), full_page=True)
        finally:
            browser.close()
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copyfile(tmp_path / "demo-page-signin.png", ARTIFACTS / "demo-page-signin.png")
    assert problems == []
