"""The coach review page in real headless Chromium, against a real `coach serve` with its own data
folder: sign in with a token, list and filter calls, upload one, review a recorded call with its audio
(the player follows the transcript, the emotion plot and markers), add notes, and an agent's view.
Also ``GET /v1/me``, which the page uses to know the token's role."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import EXAMPLES, serving
from tests.server.browser_wait import wait_until
from tests.server.test_console import CHROMIUM, FLAGS

VIOLATIONS = EXAMPLES / "en-violations.json"
SHORT_CALL = EXAMPLES / "audio" / "en-short-call.flac"
COOPERATIVE = EXAMPLES / "en-cooperative.json"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`coach serve` on a free port with a fresh data folder, tokens made beforehand; yields its URL and tokens."""
    from coach.config import Settings
    from coach.storage import CallStore

    folder = tmp_path_factory.mktemp("review-page")
    settings = Settings(data_dir=folder, database_url="")
    store = CallStore(settings.database(), settings)
    tokens = {
        "coach": store.create_token("cho", "coach", team="north")[0],
        "agent": store.create_token("ann", "agent", agent_id="a1", team="north")[0],
        "trainer": store.create_token("tim", "trainer")[0],
    }
    store.close()
    env = {**os.environ, "COACH_DATA_DIR": str(folder)}
    env.pop("COACH_DATABASE_URL", None)
    with serving(env) as port:
        yield SimpleNamespace(url=f"http://127.0.0.1:{port}", tokens=tokens, folder=folder)


@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def api(playwright, server):
    """Requests as the coach (Playwright's HTTP client: no extra dependency)."""
    context = playwright.request.new_context(base_url=server.url,
                                             extra_http_headers={"Authorization": f"Bearer {server.tokens['coach']}"})
    yield context
    context.dispose()


def upload(api, path: Path, mime: str, **form) -> dict:
    response = api.post("/v1/calls", multipart={"file": {"name": path.name, "mimeType": mime, "buffer": path.read_bytes()},
                                                **form}, timeout=300_000)
    assert response.status in (200, 201), response.text()
    return response.json()["call"]


@pytest.fixture(scope="module")
def calls(api):
    """The violations transcript (agent a1, with a coach's note on the call) and the short recording (agent a2)."""
    violations = upload(api, VIOLATIONS, "application/json", agent_id="a1")
    recording = upload(api, SHORT_CALL, "audio/flac", agent_id="a2")
    assert recording["has_audio"] and violations["worst_severity"] == "S1"
    note = api.post(f"/v1/calls/{violations['id']}/notes", data={"text": "Threats at 1:36 <b>discuss</b>", "utterance_id": 14})
    assert note.status == 201, note.text()
    return SimpleNamespace(violations=violations, recording=recording)


class Page:
    """A fresh browser context (own localStorage) and page that records errors and every request."""

    def __init__(self, browser, server):
        self.context = browser.new_context(viewport={"width": 1440, "height": 900})
        self.page = self.context.new_page()
        self.origin = server.url
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("console", lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None)
        self.page.on("request", lambda request: self.requests.append(request.url))

    def sign_in(self, token: str, hash: str = "") -> None:
        self.page.goto(f"{self.origin}/review{hash}")
        self.page.fill("#token", token)
        self.page.click("#signin button[type=submit]")
        self.page.wait_for_selector("#whoami:not([hidden])")

    def rows(self) -> set[str]:
        return set(self.page.eval_on_selector_all("#calls tbody tr", "rows => rows.map(r => r.dataset.call)"))

    def wait_rows(self, count: int) -> set[str]:
        wait_until(self.page, f"document.querySelectorAll('#calls tbody tr').length === {count}", timeout=30_000)
        return self.rows()

    def wait_for_calls(self, ids: set[str]) -> None:
        """Wait until the table lists exactly ``ids``."""
        wait_until(self.page,
            "ids => JSON.stringify([...document.querySelectorAll('#calls tbody tr')].map(r => r.dataset.call).sort())"
            " === JSON.stringify(ids)", arg=sorted(ids), timeout=30_000)

    def check_clean(self, allowed: tuple[str, ...] = ()) -> None:
        errors = [e for e in self.errors if not any(a in e for a in allowed)]
        assert errors == []
        outside = [u for u in self.requests if not u.startswith(self.origin + "/") and not u.startswith(("data:", "blob:"))]
        assert outside == []

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser, server):
    page = Page(browser, server)
    yield page
    page.close()


def test_me_says_who_a_token_is(api, playwright, server):
    anonymous = playwright.request.new_context(base_url=server.url)
    try:
        response = anonymous.get("/v1/me")
        assert response.status == 401 and "token" in response.json()["detail"]
        assert anonymous.get("/v1/me", headers={"Authorization": "Bearer coach_nope"}).status == 401
        agent = anonymous.get("/v1/me", headers={"Authorization": f"Bearer {server.tokens['agent']}"}).json()
        assert agent == {"name": "ann", "role": "agent", "agent_id": "a1", "team": "north"}
    finally:
        anonymous.dispose()
    assert api.get("/v1/me").json() == {"name": "cho", "role": "coach", "agent_id": None, "team": "north"}


def test_a_bad_token_is_refused_clearly_and_sign_out_forgets_the_token(tab, server, calls):
    page = tab.page
    page.goto(f"{server.url}/review")
    assert page.title() == "coach · call review"
    page.fill("#token", "coach_not-a-real-token")
    page.click("#signin button[type=submit]")
    page.wait_for_selector("#signin-error:not([hidden])")
    assert "401" in page.inner_text("#signin-error") and "invalid or revoked" in page.inner_text("#signin-error")
    assert page.is_visible("#signin") and not page.is_visible("#list-view")

    page.fill("#token", server.tokens["coach"])
    page.click("#signin button[type=submit]")
    page.wait_for_selector("#calls tbody tr")
    assert "cho" in page.inner_text("#whoami") and "coach" in page.inner_text("#whoami")
    assert page.evaluate("localStorage.getItem('coach.review.token')") == server.tokens["coach"]
    page.reload()  # the token is remembered
    page.wait_for_selector("#calls tbody tr")
    page.click("#sign-out")
    assert page.is_visible("#signin") and not page.is_visible("#list-view")
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    page.reload()
    assert page.is_visible("#signin")
    tab.check_clean(allowed=("401 (Unauthorized)",))


def test_list_upload_and_filters(tab, server, calls, api):
    page = tab.page
    tab.sign_in(server.tokens["coach"])
    both = {calls.violations["id"], calls.recording["id"]}
    assert tab.wait_rows(2) == both
    row = page.inner_text(f"#calls tr[data-call='{calls.violations['id']}']")
    assert "a1" in row and "north" in row and "dispute" in row and "worst S1" in row and "3:32" in row
    assert page.locator(f"#calls tr[data-call='{calls.violations['id']}'] .sev-chip.S1").count() == 1

    # upload a third call through the form: progress, "reviewed", and the list refreshes
    page.click("#upload-toggle")
    page.set_input_files("#upload-file", str(COOPERATIVE))
    page.fill("#upload input[name=agent_id]", "a3")
    page.click("#upload-submit")
    page.wait_for_selector(".upload-status.ok", timeout=120_000)
    assert "Reviewed" in page.inner_text("#upload-status")
    tab.wait_rows(3)
    (cooperative,) = tab.rows() - both
    # the same file again: "already uploaded", nothing added
    page.set_input_files("#upload-file", str(COOPERATIVE))
    page.click("#upload-submit")
    page.wait_for_selector(".upload-status.info", timeout=60_000)
    assert "Already uploaded" in page.inner_text("#upload-status") and cooperative in page.inner_text("#upload-status")
    tab.wait_for_calls(both | {cooperative})

    # filters narrow the list and live in the address (a reload keeps them)
    page.fill("#filters input[name=violation]", "S1")
    page.click("#filters button[type=submit]")
    tab.wait_for_calls(both)
    assert "violation=S1" in page.evaluate("location.hash")
    page.fill("#filters input[name=violation]", "US-TIME")
    page.click("#filters button[type=submit]")
    tab.wait_for_calls({calls.violations["id"]})
    page.reload()
    tab.wait_for_calls({calls.violations["id"]})
    assert page.input_value("#filters input[name=violation]") == "US-TIME"
    page.fill("#filters input[name=violation]", "")
    page.fill("#filters input[name=agent_id]", "a3")
    page.click("#filters button[type=submit]")
    tab.wait_for_calls({cooperative})
    page.select_option("#filters select[name=language]", "zh")
    page.click("#filters button[type=submit]")
    page.wait_for_selector("#calls-empty:not([hidden])")
    assert tab.rows() == set()
    page.click("#filters-reset")
    tab.wait_for_calls(both | {cooperative})
    assert page.evaluate("location.hash") in ("", "#")

    # clicking a row opens the call
    page.click(f"#calls tr[data-call='{calls.violations['id']}'] td:first-child")
    page.wait_for_selector("#lines li.line")
    assert page.evaluate("location.hash") == f"#call={calls.violations['id']}"
    tab.check_clean()


def test_a_recorded_call_plays_in_step_with_its_transcript(tab, server, calls, api, tmp_path):
    page = tab.page
    call_id = calls.recording["id"]
    detail = api.get(f"/v1/calls/{call_id}").json()
    sentiments = api.get(f"/v1/calls/{call_id}/events", params={"type": "sentiment"}).json()
    tab.sign_in(server.tokens["coach"], hash=f"#call={call_id}")
    page.wait_for_selector("#lines li.line")
    assert page.locator("#lines li.line").count() == len(detail["utterances"])
    assert page.inner_text("#call-title") == call_id
    assert "refusal" in page.inner_text("#call-outcome")
    assert detail["summary"] in page.inner_text("#call-summary")
    assert page.is_visible("#call-s1")  # two S1 violations: impossible to miss
    assert page.locator("#lines li.line.agent").count() and page.locator("#lines li.line.debtor").count()
    report = page.get_attribute("#report", "href")
    assert report.startswith(f"/v1/calls/{call_id}/report?access_token=")
    assert page.get_attribute("#report", "target") == "_blank"

    # the recording loads, and a click on a line seeks to it
    wait_until(page, "() => { const a = document.getElementById('audio');"
                           " return a.duration > 30 && Number.isFinite(a.duration); }", timeout=30_000)
    threat = next(u for u in detail["utterances"] if "jail" in u["text"])
    page.click(f"#lines li[data-utterance='{threat['utterance_id']}'] .text")
    at = page.evaluate("document.getElementById('audio').currentTime")
    assert threat["start"] - 0.05 <= at <= threat["start"] + 1.5
    assert page.locator(f"#lines li[data-utterance='{threat['utterance_id']}'].selected").count() == 1
    # while it plays, the line being heard is highlighted
    page.wait_for_selector(f"#lines li[data-utterance='{threat['utterance_id']}'].playing", timeout=10_000)
    page.evaluate("document.getElementById('audio').pause()")
    line = page.locator(f"#lines li[data-utterance='{threat['utterance_id']}']")
    assert line.locator(".badge-detail.violation.S1").count() == 1
    assert page.locator("#lines .badge.emotion").count() == len(sentiments)

    # the emotion plot: one point per sentiment event, markers for objections and violations
    assert page.locator("#plot svg circle.point").count() == len(sentiments)
    assert page.locator("#plot .marker.violation.S1").count() >= 1
    assert page.locator("#plot .marker.intent").count() == len(api.get(f"/v1/calls/{call_id}/events", params={"type": "intent"}).json())
    first = sentiments[-1]
    page.click(f"#plot circle.point[data-utterance='{first['utterance_id']}']")
    at = page.evaluate("document.getElementById('audio').currentTime")
    assert abs(at - detail["utterances"][first["utterance_id"]]["start"]) < 0.3
    # the playhead follows the audio
    wait_until(page, "uid => Math.abs(document.getElementById('playhead').getAttribute('x1')"
                           " - document.querySelector(`#plot circle.point[data-utterance='${uid}']`).getAttribute('cx')) < 3",
                           arg=first["utterance_id"], timeout=5_000)
    # the objection's suggested script is one click away
    objection = page.locator("#lines .badge-detail.intent").first
    objection.locator("summary").click()
    assert len(objection.locator(".say").first.inner_text()) > 20
    # the side lists link to their lines
    page.click("#violations li.linked >> nth=0")
    assert page.locator("#lines li.selected").count() == 1
    assert page.locator("#scorecard .checks li").count() > 5 and page.locator("#scorecard .checks li.fail").count()

    # a note on a line; it is stored: a reload (deep link) shows it again
    target = detail["utterances"][3]
    line = page.locator(f"#lines li[data-utterance='{target['utterance_id']}']")
    line.locator(".add-note").click()
    line.locator(".note-form textarea").fill("Good empathy chance missed <script>alert(1)</script>")
    line.locator(".note-form button[type=submit]").click()
    line.locator(".note").wait_for()
    assert "<script>alert(1)</script>" in line.locator(".note p").inner_text()  # shown as text, not run
    page.reload()
    page.wait_for_selector(f"#lines li[data-utterance='{target['utterance_id']}'] .note")
    assert "Good empathy chance missed" in page.inner_text(f"#lines li[data-utterance='{target['utterance_id']}'] .note")
    notes = api.get(f"/v1/calls/{call_id}/notes").json()
    assert [(n["utterance_id"], n["author"]) for n in notes] == [(target["utterance_id"], "cho")]
    # and a note on the whole call
    page.click("#add-call-note")
    page.fill(".note-form textarea", "Overall: review the threat with the agent")
    page.click(".note-form button[type=submit]")
    page.wait_for_selector("#call-notes .note")
    # its author corrects the note on the call, then takes it back
    page.click("#call-notes .note .edit-note")
    page.fill("#call-notes .note-form textarea", "Overall: review the threat and the mini-Miranda with the agent")
    page.click("#call-notes .note-form button[type=submit]")
    page.wait_for_selector("#call-notes .note .edited")
    assert "mini-Miranda" in page.inner_text("#call-notes .note p")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#call-notes .note .delete-note")
    page.wait_for_selector("#call-notes .note", state="detached")
    assert [n["utterance_id"] for n in api.get(f"/v1/calls/{call_id}/notes").json()] == [target["utterance_id"]]

    page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
    if os.environ.get("COACH_REVIEW_SCREENSHOT"):
        page.screenshot(path=os.environ["COACH_REVIEW_SCREENSHOT"], full_page=True)
    tab.check_clean()


def test_a_transcript_call_has_markers_without_a_player(tab, server, calls, api):
    page = tab.page
    call_id = calls.violations["id"]
    tab.sign_in(server.tokens["coach"], hash=f"#call={call_id}")
    page.wait_for_selector("#lines li.line")
    assert not page.is_visible("#audio") and page.is_visible("#no-audio")
    sentiments = api.get(f"/v1/calls/{call_id}/events", params={"type": "sentiment"}).json()
    violations = api.get(f"/v1/calls/{call_id}/events", params={"type": "compliance"}).json()
    assert page.locator("#plot svg circle.point").count() == len(sentiments)
    assert page.locator("#plot .marker.violation").count() >= 5
    assert page.locator("#plot .marker.violation.S1").count() >= 1
    assert page.locator("#violations li").count() == len(violations)
    assert page.locator("#lines li.worst-S1").count() >= 1
    marker = page.locator("#plot .marker.violation[data-utterance]").first
    uid = marker.get_attribute("data-utterance")
    marker.click()
    page.wait_for_selector(f"#lines li[data-utterance='{uid}'].selected")
    # the coach's note from the API, as text
    assert "<b>discuss</b>" in page.inner_text("#lines li[data-utterance='14'] .note")
    # an S1 fails the call: the scorecard says which critical check did it
    assert "Failed on a critical check: No S1 violations (score 0)" in page.inner_text("#scorecard")
    tab.check_clean()


def test_the_call_time_is_the_readers_and_the_debtors_not_utc_unlabelled(browser, server, calls):
    """The stored start is UTC: a coach in Shanghai reads it in their own time, with the debtor's local
    time (from the call's debtor_timezone) beside it; the list shows the reader's time too."""
    page = Page(browser, server)
    page.context.close()
    page.context = browser.new_context(viewport={"width": 1440, "height": 900}, timezone_id="Asia/Shanghai")
    page.page = page.context.new_page()
    try:
        page.sign_in(server.tokens["coach"], hash=f"#call={calls.violations['id']}")
        page.page.wait_for_selector("#lines li.line")
        facts = page.page.inner_text("#call-facts")
        # started 2026-03-12 21:40 in Los Angeles (-07:00) = 04:40 UTC on the 13th = 12:40 in Shanghai
        assert "2026-03-13 12:40 (debtor: 2026-03-12 21:40 America/Los_Angeles)" in facts, facts
        page.page.evaluate("location.hash = ''")
        page.page.wait_for_selector(f"#calls tbody tr[data-call='{calls.violations['id']}']")
        row = page.page.inner_text(f"#calls tbody tr[data-call='{calls.violations['id']}']")
        assert "2026-03-13 12:40" in row, row
    finally:
        page.context.close()


def test_an_agent_sees_only_their_calls_and_cannot_add_notes(tab, server, calls):
    page = tab.page
    tab.sign_in(server.tokens["agent"])
    tab.wait_for_calls({calls.violations["id"]})
    assert not page.is_visible("#upload-toggle")
    assert "agent a1" in page.inner_text("#whoami")
    page.click(f"#calls tr[data-call='{calls.violations['id']}'] a")
    page.wait_for_selector("#lines li.line")
    assert page.locator(".add-note").count() == 0 and not page.is_visible("#add-call-note")
    assert "discuss" in page.inner_text("#lines li[data-utterance='14'] .note")  # agents read the coach's notes
    # another agent's call, by deep link: a clear "not found"
    page.goto(f"{server.url}/review#call={calls.recording['id']}")
    page.wait_for_selector("#message:not([hidden])")
    assert "404" in page.inner_text("#message")
    assert "loading" not in page.inner_text("#footer")  # nothing left saying it is still on its way
    tab.check_clean(allowed=("404 (Not Found)",))


def test_demo_calls_are_hidden_until_asked_for(tab, server, calls):
    from coach.config import Settings
    from coach.storage import CallStore, NewCall

    settings = Settings(data_dir=server.folder, database_url="")
    store = CallStore(settings.database(), settings)
    store.save_call(NewCall(call_id="sample-demo", language="en", playbook="en-US-collections@1", source="demo",
                            agent_id="a1", team="north"), [])
    store.close()
    page = tab.page
    tab.sign_in(server.tokens["coach"])
    page.wait_for_selector(f"#calls tr[data-call='{calls.violations['id']}']")
    assert "sample-demo" not in tab.rows()
    page.select_option("#filters select[name=include_demo]", "true")
    page.click("#filters button[type=submit]")
    page.wait_for_selector("#calls tr[data-call='sample-demo'] .status-chip.demo")
    assert "include_demo=true" in page.evaluate("location.hash") and calls.violations["id"] in tab.rows()
    page.click("#filters-reset")
    wait_until(page, "!document.querySelector(\"#calls tr[data-call='sample-demo']\")", timeout=30_000)
    tab.check_clean()


def test_the_header_leads_to_the_other_pages(tab, server):
    page = tab.page
    page.goto(f"{server.url}/review")
    for label, title in (("Trainer", "trainer"), ("Supervisor", "supervisor"), ("Agent console", "console")):
        page.goto(f"{server.url}/review")
        with page.expect_navigation():
            page.click(f"header a:text-is('{label}')")
        assert title in page.title().lower() or title in page.url, (label, page.title(), page.url)


def test_a_live_calls_warning_is_shown_with_the_call(tab, server):
    """A live call stored with a warning event (the language check's) shows that warning in its header."""
    from coach.config import Settings
    from coach.events import UtteranceEvent, WarningEvent
    from coach.storage import CallStore, NewCall

    message = ("the speech sounds like Chinese (91%), but the call was started as English: its transcript and hints "
               "are most likely wrong; restart the call with language zh (Chinese)")
    settings = Settings(data_dir=server.folder, database_url="")
    store = CallStore(settings.database(), settings)
    store.save_call(NewCall(call_id="live-zh-as-en", language="en", playbook="en-US-collections", source="live",
                            agent_id="a1", team="north"),
                    [UtteranceEvent(call_id="live-zh-as-en", utterance_id=0, time=0.8, speaker="agent", text="I'll tell you",
                                    start=0.8, end=7.5),
                     WarningEvent(call_id="live-zh-as-en", utterance_id=None, time=21.3, code="language_mismatch",
                                  message=message)])
    store.close()
    page = tab.page
    tab.sign_in(server.tokens["coach"], hash="#call=live-zh-as-en")
    page.wait_for_selector("#call-warnings:not([hidden])")
    assert page.inner_text("#call-warnings") == f"language mismatch: {message}"
    tab.check_clean()
