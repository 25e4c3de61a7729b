"""The trainer page in real headless Chromium, against a real server on a real port over a real
database: the mining calls (tests/mining/calls.py, reviewed by the real engines and stored as `coach
review` stores them). A trainer sees every stored intent with its number of calls, opens the calls
behind a bar and a week, follows one to its review, reads what works and the candidate new
objections; a coach sees their team's calls only, an agent is refused; filters that match nothing and
an empty database say so.

The server runs in this process (uvicorn on a thread, on its own port) so it mines with the session's
engines instead of loading them again: the suite is slow enough."""

from __future__ import annotations

import os
import random
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from coach.config import Settings
from coach.review.pipeline import review_transcript, store_review
from coach.storage import CallFilter, CallStore
from coach.transcript import Call
from tests.conftest import free_port
from tests.mining.calls import ZH_PLANTED, en_call, stored_database
from tests.server.browser_wait import wait_until
from tests.server.test_console import CHROMIUM, FLAGS

WAIT_MS = 60_000


@pytest.fixture(scope="module")
def engines(en_engine, zh_engine):
    return {"en": en_engine, "zh": zh_engine}


class Served:
    """``create_app`` served by uvicorn on a thread, on a free port, until :meth:`stop`."""

    def __init__(self, settings: Settings, store: CallStore) -> None:
        import uvicorn

        from server.app import create_app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(settings, preload=(), store=store), host="127.0.0.1", port=self.port,
                                log_config=None, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"trainer-page-{self.port}", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="module")
def server(engines, tmp_path_factory):
    """The mining calls, tokens for each role, and a server over them."""
    folder = tmp_path_factory.mktemp("trainer-page")
    settings = Settings(data_dir=folder, database_url=stored_database(engines, folder))
    store = CallStore(settings.database(), settings)
    tokens = {
        "trainer": store.create_token("tia", "trainer")[0],
        "coach": store.create_token("cho", "coach", team="south")[0],
        "agent": store.create_token("ann", "agent", agent_id="a1")[0],
    }
    served = Served(settings, store)
    yield SimpleNamespace(url=served.url, tokens=tokens, store=store, settings=settings)
    served.stop()
    store.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


class Tab:
    """A fresh browser context (own localStorage) that records page errors and every request."""

    def __init__(self, browser, origin: str) -> None:
        self.context = browser.new_context(viewport={"width": 1500, "height": 1000})
        self.page = self.context.new_page()
        self.origin = origin
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("console", lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None)
        self.context.on("request", lambda request: self.requests.append(request.url))

    def sign_in(self, token: str, hash: str = "") -> None:
        self.page.goto(f"{self.origin}/trainer{hash}")
        self.page.fill("#token", token)
        self.page.click("#signin button[type=submit]")

    def wait_loaded(self, *parts: str) -> None:
        """Until the page has drawn ``parts`` (intents, responses, clusters; or empty)."""
        wait_until(self.page,
            "parts => parts.every(p => (document.body.dataset.loaded || '').split(' ').includes(p))",
            arg=list(parts), timeout=WAIT_MS)

    def check_clean(self, allowed: tuple[str, ...] = ()) -> None:
        assert [e for e in self.errors if not any(a in e for a in allowed)] == []
        outside = [u for u in self.requests if not u.startswith(self.origin + "/") and not u.startswith(("data:", "blob:"))]
        assert outside == []  # nothing from the internet: the page works offline

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser, server):
    tab = Tab(browser, server.url)
    yield tab
    tab.close()


def calls_by_intent(store: CallStore, **filters) -> dict[str, set[str]]:
    """What the store holds, read without the mining code: the calls in which each intent was heard."""
    ids = [c.id for c in store.list_calls(CallFilter(limit=1000, **filters))]
    out: dict[str, set[str]] = defaultdict(set)
    for call_id, events in store.events_of(ids, types=["intent"]).items():
        for event in events:
            if event.get("utterance_id") is not None:
                out[event["intent"]].add(call_id)
    return out


def drilled(page) -> set[str]:
    page.wait_for_selector("#drill:not([hidden]) #drill-calls li")
    return set(page.eval_on_selector_all("#drill-calls li", "items => items.map(i => i.dataset.call)"))


def test_a_trainer_sees_every_intent_and_opens_the_calls_behind_a_figure(tab, server):
    page = tab.page
    expected = calls_by_intent(server.store)
    total = len(server.store.list_calls(CallFilter(limit=1000)))
    tab.sign_in(server.tokens["trainer"])
    tab.wait_loaded("intents", "responses", "clusters")
    assert page.title() == "coach · trainer" and "tia" in page.inner_text("#whoami")
    assert page.evaluate("localStorage.getItem('coach.review.token')") == server.tokens["trainer"]  # the pages' shared key
    assert f"{total} calls" in page.inner_text("#window")

    # one bar per stored intent, with its number of calls
    bars = dict(page.eval_on_selector_all("#intent-bars g.bar", "bars => bars.map(b => [b.dataset.intent, +b.dataset.calls])"))
    assert bars == {intent: len(ids) for intent, ids in expected.items()}
    assert page.locator("#intent-table tbody tr").count() == len(expected)
    afford = page.locator("#intent-bars g.bar[data-intent='cannot_afford']")
    assert f"{len(expected['cannot_afford'])} calls" in afford.locator("text.value").text_content()

    # the bar opens its calls; a week's dot opens that week's
    afford.click()
    assert drilled(page) == expected["cannot_afford"]
    point = page.locator("#intent-trend g.series[data-intent='cannot_afford'] circle.point.drillable").first
    week_calls = int(point.get_attribute("data-calls"))
    point.click()
    wait_until(page, "w => document.getElementById('drill-what').textContent.includes(w)",
                           arg=point.get_attribute("data-week"))
    week = drilled(page)
    assert len(week) == week_calls and week <= expected["cannot_afford"]

    # a call in the list is a link to its review, which opens the call (signed in with the same token)
    call_id = min(week)
    with tab.context.expect_page() as opened:
        page.click(f"#drill-calls li[data-call='{call_id}'] a")
    review = opened.value
    review.wait_for_selector("#lines li.line", timeout=WAIT_MS)
    assert review.inner_text("#call-title") == call_id
    review.close()

    # what works: response groups and agents with a rate and an interval; few calls say so
    article = page.locator("#responses article[data-intent='cannot_afford'][data-language='en']")
    assert article.locator("table.groups tbody tr").count() >= 2
    assert article.locator("tr[data-response='off_script']").count() == 1
    assert article.locator("tr[data-response='off_script'] .say q").count() >= 1  # what the agents said
    assert page.locator("#responses svg.interval circle.rate").count() >= 2
    assert page.locator("#responses .note", has_text="too few calls").count() >= 1
    assert page.locator("#responses td", has_text="#1").count() >= 1

    # the candidate objections: the planted Chinese topic, new this week, every member listed
    credit = page.locator("#clusters li.cluster[data-language='zh']", has=page.locator(".keyword", has_text="征信"))
    assert credit.count() == 1 and credit.locator(".badge.new").count() == 1
    members = credit.locator("details.members li q").all_text_contents()
    assert sum(m in ZH_PLANTED for m in members) >= 10
    credit.locator(".size").click()
    assert len(drilled(page)) == int(credit.get_attribute("data-calls"))
    assert page.locator("#drill-calls q.said").count() == len(members) == int(credit.get_attribute("data-size"))
    # the export it suggests is one that works: a new intent when there are enough members, else an existing one's
    command = credit.locator(".export code").inner_text()
    enough = int(credit.get_attribute("data-size")) >= 15
    assert ("--as-intent" in command) is enough and ("--into-intent" in command) is not enough, command
    if os.environ.get("COACH_TRAINER_SCREENSHOT"):
        page.screenshot(path=os.environ["COACH_TRAINER_SCREENSHOT"], full_page=True)
    tab.check_clean()


def test_with_no_cluster_the_page_lists_what_no_intent_claims(tab, server):
    """One agent's English calls form no cluster; what their debtors said that no intent claims is
    listed with links to the calls, and the status says so instead of "no candidate objections"."""
    page = tab.page
    tab.sign_in(server.tokens["trainer"], hash="#agent_id=a2&language=en")
    tab.wait_loaded("clusters")
    assert page.locator("#clusters li.cluster").count() == 0
    assert "No topic came up often enough for a cluster" in page.inner_text("#clusters-status")
    left = page.locator("#unclustered .unclustered[data-language='en']")
    assert left.count() == 1 and "2 utterances that no intent claims and no cluster holds" in left.inner_text()
    assert left.locator("li q").count() == 2 and left.locator("a.call-link").count() == 2
    tab.check_clean()


def test_a_coach_sees_their_team_and_an_agent_is_refused(tab, server):
    page = tab.page
    south = calls_by_intent(server.store, team="south")
    tab.sign_in(server.tokens["agent"])
    page.wait_for_selector("#signin-error:not([hidden])")
    assert "cannot mine calls" in page.inner_text("#signin-error") and page.is_visible("#signin")

    tab.sign_in(server.tokens["coach"])
    tab.wait_loaded("intents")
    assert "team south" in page.inner_text("#whoami")
    calls = len(server.store.list_calls(CallFilter(limit=1000, team="south")))
    assert f"{calls} calls" in page.inner_text("#window")
    bars = dict(page.eval_on_selector_all("#intent-bars g.bar", "bars => bars.map(b => [b.dataset.intent, +b.dataset.calls])"))
    assert bars == {intent: len(ids) for intent, ids in south.items()}
    teams = set(page.eval_on_selector_all("#intent-table td:nth-child(7) .chip", "chips => chips.map(c => c.dataset.key)"))
    assert teams == {"south"}
    # another team's calls, asked for by name: none of them
    page.fill("#filters input[name=team]", "north")
    page.click("#filters button[type=submit]")
    tab.wait_loaded("empty")
    assert "No stored calls match these filters" in page.inner_text("#no-calls")
    tab.check_clean(allowed=("404 (Not Found)",))


def test_filters_that_match_nothing_or_make_no_sense_say_so(tab, server):
    page = tab.page
    tab.sign_in(server.tokens["trainer"], hash="#date_from=2030-01-01")
    tab.wait_loaded("empty")
    assert page.is_visible("#no-calls") and not page.is_visible("#results")
    assert "No stored calls match these filters" in page.inner_text("#no-calls")
    assert page.input_value("#filters input[name=date_from]") == "2030-01-01"
    # a range backwards: the API's reason, nothing drawn
    page.fill("#filters input[name=date_from]", "2026-11-01")
    page.fill("#filters input[name=date_to]", "2026-10-01")
    page.click("#filters button[type=submit]")
    page.wait_for_selector("#message:not([hidden])")
    assert "422" in page.inner_text("#message") and "date_to" in page.inner_text("#message")
    # reset: everything again
    page.click("#filters-reset")
    tab.wait_loaded("intents")
    assert page.locator("#intent-bars g.bar").count() > 3 and not page.is_visible("#no-calls")
    tab.check_clean(allowed=("404 (Not Found)", "422 (Unprocessable"))


def test_what_people_said_is_shown_as_text(tab, server, engines):
    """An agent id and a team name with markup in them come out as text, never as HTML."""
    agent, team = "<i>x</i>", "<img src=x onerror=\"document.body.dataset.owned=1\">"
    document = en_call(random.Random(1), 900, "markup", "i cant afford that right now my hours got cut",
                       "okay but i need something from you today", False, datetime(2026, 10, 20, 15, tzinfo=UTC),
                       (agent, team))
    store_review(server.store, review_transcript(Call.model_validate(document), engines["en"]), source="cli",
                 settings=server.settings)
    page = tab.page
    tab.sign_in(server.tokens["trainer"])
    tab.wait_loaded("intents")
    page.fill("#filters input[name=agent_id]", agent)
    page.click("#filters button[type=submit]")
    wait_until(page, "document.getElementById('window').textContent.startsWith('1 call ')", timeout=WAIT_MS)
    tab.wait_loaded("intents", "responses", "clusters")
    assert page.locator("#intent-bars g.bar").count() >= 1
    teams = page.eval_on_selector_all("#intent-table td:nth-child(7) .chip", "chips => chips.map(c => c.textContent)")
    agents = page.eval_on_selector_all("#intent-table td:nth-child(8) .chip", "chips => chips.map(c => c.textContent)")
    assert teams and all(t.startswith(team) for t in teams) and all(a.startswith(agent) for a in agents)
    page.locator("#intent-table td:nth-child(7) .chip").first.click()
    drilled(page)
    assert page.evaluate("document.body.dataset.owned") is None
    assert page.locator("main img, main i").count() == 0
    tab.check_clean()


def test_an_empty_database_says_no_calls_are_stored(browser, tmp_path):
    settings = Settings(data_dir=tmp_path, database_url="")
    store = CallStore(settings.database(), settings)
    token = store.create_token("tia", "trainer")[0]
    served = Served(settings, store)
    tab = Tab(browser, served.url)
    try:
        tab.sign_in(token)
        tab.wait_loaded("empty")
        assert "No calls are stored yet" in tab.page.inner_text("#no-calls")
        assert not tab.page.is_visible("#results")
        tab.check_clean(allowed=("404 (Not Found)",))
    finally:
        tab.close()
        served.stop()
        store.close()
