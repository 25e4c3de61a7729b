"""The agent console in real headless Chromium: the page loads, a sample call plays, hints appear."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="module")
def page(live_server, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"http://127.0.0.1:{live_server}/")
        page.errors = errors
        yield page
        browser.close()


def test_console_loads_with_samples(page):
    assert page.title() == "coach · agent console"
    # the sample list is fetched after the page loads
    page.wait_for_selector("#sample option[value='en-short-call']", state="attached", timeout=30_000)
    options = page.locator("#sample option").all_inner_texts()
    assert any("en-short-call" in o for o in options)
    assert page.errors == []


def test_sample_call_plays_and_hints_appear(page, tmp_path):
    page.select_option("#sample", "en-short-call")
    page.click("#play")
    page.wait_for_selector("#status.live", timeout=60_000)
    page.wait_for_selector("#lines li.debtor", timeout=60_000)
    page.wait_for_selector(".card[data-intent='cannot_afford']", timeout=90_000)
    page.wait_for_selector(".warning.S1", timeout=90_000)
    assert page.is_visible("#alarm")  # S1 is impossible to miss
    page.wait_for_selector("#scorecard:not([hidden])", timeout=120_000)
    scripts = page.locator(".card .say").all_inner_texts()
    assert scripts and all(len(text) > 20 for text in scripts)
    warnings = page.locator(".warning").all_inner_texts()
    assert any("US-THREAT" in w for w in warnings) and any("US-CEASE" in w for w in warnings)
    page.screenshot(path=str(tmp_path / "console.png"), full_page=True)
    if os.environ.get("COACH_SCREENSHOT"):
        page.screenshot(path=os.environ["COACH_SCREENSHOT"], full_page=True)
    assert page.errors == []
