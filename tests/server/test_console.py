"""The agent console in real headless Chromium: the page loads, signs in with a token, a sample call
plays, hints appear, and the sample is stored as a demo call."""

from __future__ import annotations

import json
import os
import shutil
import urllib.request

import pytest

from tests.server.browser_wait import wait_until

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
        # a script or style the page's content-security policy refuses is a console error
        page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
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


def test_the_pages_load_the_shared_helpers_first(live_server):
    """server/static/common.js (the DOM builder, the token's storage, the message banner) is served as
    JavaScript, and every page loads it before its own script."""
    base = f"http://127.0.0.1:{live_server}"
    with urllib.request.urlopen(f"{base}/static/common.js", timeout=30) as response:
        assert response.status == 200 and "javascript" in response.headers["Content-Type"]
        common = response.read().decode()
    assert 'const TOKEN_KEY = "coach.review.token"' in common and "function el(" in common
    for path, script in (("/", "console.js"), ("/review", "review.js"), ("/supervisor", "supervisor.js"),
                         ("/trainer", "trainer.js")):
        with urllib.request.urlopen(base + path, timeout=30) as response:
            html = response.read().decode()
        assert '<script src="/static/common.js"></script>' in html, path
        assert html.index('src="/static/common.js"') < html.index(f'src="/static/{script}"'), path


def test_streaming_needs_a_token_that_may_stream(page):
    assert page.is_visible("#signin")  # no token yet: the sign-in form shows
    page.select_option("#sample", "en-short-call")
    page.click("#play")  # the server refuses the stream and says why
    page.wait_for_selector("#signin-error:not([hidden])", timeout=60_000)
    assert "token" in page.inner_text("#signin-error")
    page.wait_for_selector("#play:not([disabled])", timeout=30_000)
    from coach.storage import CallStore

    coach_token = CallStore.from_settings().create_token("console-coach", "coach", team="north")[0]
    page.fill("#token", coach_token)
    page.click("#signin button[type=submit]")
    wait_until(page, "document.querySelector('#signin-error').textContent.includes('cannot stream')", timeout=30_000)
    assert page.is_visible("#signin")


def test_an_agent_signs_in(page, agent_token):
    page.fill("#token", agent_token)
    page.click("#signin button[type=submit]")
    page.wait_for_selector("#signed-in:not([hidden])", timeout=30_000)
    assert "a-test" in page.inner_text("#whoami") and not page.is_visible("#signin")
    # remembered under the key every page shares (server/static/common.js)
    assert page.evaluate("localStorage.getItem('coach.review.token')") == agent_token
    assert page.errors == []


def test_sample_call_plays_and_hints_appear(page, tmp_path, live_server, agent_token):
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
    # stored as a demo call under the token's agent: left out of the list unless asked for
    def calls(query: str = "") -> list[dict]:
        request = urllib.request.Request(f"http://127.0.0.1:{live_server}/v1/calls{query}",
                                         headers={"Authorization": f"Bearer {agent_token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)["calls"]

    played = [c for c in calls("?include_demo=true") if c["id"].startswith("en-short-call-") and c["id"][14:].isdigit()]
    assert played and all(c["source"] == "demo" and c["agent_id"] == "a-test" for c in played)
    assert not [c for c in calls() if c["source"] == "demo"]


def test_a_call_warning_is_a_banner_until_the_next_call(page):
    """A ``warning`` event (a live call spoken in another language than it was started with) shows
    above the transcript, once however often it comes, and the next call starts without it."""
    warning = {"type": "warning", "call_id": "c", "utterance_id": None, "time": 21.3, "code": "language_mismatch",
               "message": "the speech sounds like Chinese (91%), but the call was started as English: its transcript "
                          "and hints are most likely wrong; restart the call with language zh (Chinese)"}
    page.evaluate("(event) => { onEvent(event); onEvent(event); }", warning)
    assert page.is_visible("#call-warnings")
    assert page.locator("#call-warnings li").all_inner_texts() == [f"⚠ Check the call: {warning['message']}"]
    page.evaluate("reset()")
    assert not page.is_visible("#call-warnings") and page.locator("#call-warnings li").count() == 0
    assert page.errors == []


def test_a_turns_top_hint_stays_first_above_its_second_objection(page):
    """Hints of the newest turn come first; within a turn the top hint (its first intent event) stays
    above a second objection said in the same breath."""
    def intent(uid: int, name: str) -> dict:
        return {"type": "intent", "call_id": "c", "utterance_id": uid, "time": float(uid), "intent": name, "name": name,
                "kind": "objection", "confidence": 0.8, "evidence": "example", "ref": f"intent:{name}",
                "suggestions": [], "escalation": None}

    page.evaluate("reset()")
    for event in (intent(3, "already_paid"), intent(5, "not_my_debt"), intent(5, "stop_calling")):
        page.evaluate("(event) => onEvent(event)", event)
    order = page.eval_on_selector_all("#cards li", "cards => cards.map(c => c.dataset.intent)")
    assert order == ["not_my_debt", "stop_calling", "already_paid"]
    assert page.errors == []
