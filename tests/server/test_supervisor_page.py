"""The supervisor page in real headless Chromium beside the agent console, on a real server: the agent
plays a sample call, the supervisor sees its tile, opens it, sends a note the agent sees, gets the S1
alert with a sound, acknowledges it (stored with who and when), and is pointed to the review at the end."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest

from tests.server.browser_wait import wait_until
from tests.server.test_console import CHROMIUM, FLAGS


@pytest.fixture(scope="module")
def pages(live_server, agent_token):
    from playwright.sync_api import sync_playwright

    from coach.storage import CallStore

    store = CallStore.from_settings()
    name = f"sup-{uuid.uuid4().hex[:6]}"
    supervisor_token = store.create_token(name, "supervisor", team="north")[0]
    other_token = store.create_token(f"{name}-south", "supervisor", team="south")[0]
    store.close()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        agent = browser.new_page(viewport={"width": 1300, "height": 900})  # each page its own context (own storage)
        supervisor = browser.new_page(viewport={"width": 1400, "height": 1000})
        other = browser.new_page(viewport={"width": 1000, "height": 700})
        errors: list[str] = []
        for page in (agent, supervisor, other):
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
        yield {"agent": agent, "supervisor": supervisor, "other": other, "errors": errors, "name": name,
               "token": supervisor_token, "other_token": other_token, "port": live_server, "agent_token": agent_token}
        browser.close()


def sign_in(page, token):
    page.fill("#token", token)
    page.click("#signin button[type=submit]")


def test_an_agent_token_cannot_watch(pages):
    page = pages["other"]
    page.goto(f"http://127.0.0.1:{pages['port']}/supervisor")
    assert page.title() == "coach · supervisor"
    sign_in(page, pages["agent_token"])
    wait_until(page, "document.querySelector('#signin-error').textContent.includes('cannot watch')", timeout=30_000)
    sign_in(page, pages["other_token"])
    page.wait_for_selector("#status.live", timeout=30_000)


def test_the_supervisor_watches_a_call_alerts_and_notes(pages):
    port, agent, supervisor = pages["port"], pages["agent"], pages["supervisor"]
    supervisor.goto(f"http://127.0.0.1:{port}/supervisor")
    sign_in(supervisor, pages["token"])
    supervisor.wait_for_selector("#status.live", timeout=30_000)
    assert "team north" in supervisor.inner_text("#whoami") and supervisor.is_visible("#empty")
    assert supervisor.evaluate("localStorage.getItem('coach.review.token')") == pages["token"]  # the pages' shared key

    agent.goto(f"http://127.0.0.1:{port}/")
    sign_in(agent, pages["agent_token"])
    agent.wait_for_selector("#signed-in:not([hidden])", timeout=30_000)
    agent.wait_for_selector("#sample option[value='en-short-call']", state="attached", timeout=30_000)
    agent.select_option("#sample", "en-short-call")
    agent.click("#play")

    supervisor.wait_for_selector(".tile", timeout=60_000)
    assert supervisor.locator(".tile").count() == 1 and "a-test" in supervisor.inner_text(".tile")
    call_id = supervisor.get_attribute(".tile", "data-call")
    supervisor.click(".tile")  # the tile is updated as the call goes on: the click must still land
    supervisor.wait_for_selector("#detail:not([hidden])")
    supervisor.fill("#note", "Slow down and offer the hardship plan.")
    supervisor.click("#note-form button[type=submit]")
    wait_until(supervisor, "document.querySelector('#note-status').textContent.startsWith('Note sent')", timeout=30_000)
    note = agent.wait_for_selector("#notes li", timeout=30_000)
    assert "Slow down and offer the hardship plan." in note.inner_text() and pages["name"] in note.inner_text()

    supervisor.wait_for_selector("#detail-lines li", timeout=90_000)  # the live transcript of the opened call
    # this call's alert (earlier calls of the team may have left alerts not acknowledged yet: shown, silently)
    alert = supervisor.wait_for_selector(f".alert.S1[data-call='{call_id}']", timeout=120_000)
    assert "Compliance violation" in alert.inner_text()
    wait_until(supervisor, "Number(document.body.dataset.beeps || 0) >= 2", timeout=10_000)  # a sound was played
    supervisor.wait_for_selector(".tile.risk-s1", timeout=30_000)
    alert_id = alert.get_attribute("data-alert")
    supervisor.click(f".alert[data-alert='{alert_id}'] button.ack")
    supervisor.wait_for_selector(f".alert.acked[data-alert='{alert_id}']", timeout=30_000)
    assert f"acknowledged by {pages['name']}" in supervisor.inner_text(f".alert[data-alert='{alert_id}']")

    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/alerts?limit=1000",
                                     headers={"Authorization": f"Bearer {pages['token']}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        stored = {a["id"]: a for a in json.load(response)["alerts"]}
    assert stored[alert_id]["acknowledged_by"] == pages["name"] and stored[alert_id]["acknowledged_at"]

    # when the call ends: a pointer to its review
    link = supervisor.wait_for_selector("#detail-ended a.review", timeout=180_000)
    assert link.get_attribute("href").startswith("/review#call=en-short-call-")
    supervisor.wait_for_selector("#empty:not([hidden])", timeout=30_000)
    # the other team's supervisor saw nothing of it
    assert pages["other"].locator(".tile").count() == 0 and pages["other"].locator(".alert").count() == 0
    assert pages["errors"] == []
