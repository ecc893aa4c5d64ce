"""The chat page in a real headless browser (Debian's chromium through playwright); skipped without one."""

from __future__ import annotations

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium executable (apt-get install chromium)")


@pytest.fixture
def page():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_typing_a_question_shows_the_answer_quotes_and_sources(serve, page):
    page.goto(serve() + "/")
    page.fill("#question", "When are invoices emailed and how long do refunds take?")
    page.click("#send")
    page.wait_for_selector(".sources li", timeout=20_000)
    turn = page.locator(".turn").first
    assert turn.locator(".question").inner_text() == "When are invoices emailed and how long do refunds take?"
    assert turn.locator(".output mark").inner_text() == "Invoices are emailed on the first day of each month."
    assert "##begin_quote##" not in turn.locator(".output").inner_text()
    assert turn.locator(".final").inner_text() == "Invoices are emailed on the first day of each month."
    sources = turn.locator(".sources li")
    assert sources.count() == 3
    first = sources.first
    assert first.locator("a").get_attribute("href") == "https://docs.example.com/billing"
    assert "quoted" in first.inner_text() and "score" in first.inner_text()
    assert first.locator(".snippet mark").inner_text() == "Invoices are emailed on the first day of each month."
    assert page.locator("#model").inner_text() == "· raft-echo"


def test_the_page_shows_the_servers_error(serve, page):
    page.goto(serve(max_input_chars=50) + "/")
    page.fill("#question", "Why " + "very " * 20 + "long?")
    page.click("#send")
    page.wait_for_selector(".turn .error", timeout=20_000)
    assert "the limit is 50" in page.locator(".turn .error").inner_text()
