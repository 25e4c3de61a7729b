"""The coach's HTML report, built the way the product builds it: real engines analyse the bundled
example calls, a real store keeps them (PII redaction included), and the report is rendered from what
the store hands back. It must be one self-contained file: no scripts, no network, user text escaped."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from conftest import EXAMPLES
from markupsafe import escape

from tests.server.test_console import CHROMIUM

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
GENERATED = datetime(2026, 3, 20, 9, 30, tzinfo=UTC)


class Document(HTMLParser):
    """A strict reading of the report: every element closed in order, and every id, link and source kept."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.links: list[str] = []
        self.sources: list[str] = []
        self.styles: list[str] = []
        self._in_style = False
        self.feed(html)
        self.close()
        if self.stack:
            self.problems.append(f"unclosed: {self.stack}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._record(tag, attrs)
        if tag not in VOID:
            self.stack.append(tag)
        self._in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._record(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:]} at line {self.getpos()[0]}")
        else:
            self.stack.pop()
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)

    def _record(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name == "id":
                self.ids.append(value or "")
            elif name == "href":
                self.links.append(value or "")
            elif name in ("src", "srcset", "xlink:href", "action", "data", "poster"):
                self.sources.append(value or "")
            if name == "style":
                self.styles.append(value or "")


@pytest.fixture(scope="module")
def calls(en_engine, zh_engine, tmp_path_factory):
    """ReportCalls for the English violations call and the Chinese hardship call, read back from a real store."""
    from coach.outcome import determine_outcome, summarize
    from coach.review.report import ReportCall
    from coach.storage import CallStore, NewCall
    from coach.transcript import load_call

    store = CallStore(f"sqlite:///{tmp_path_factory.mktemp('report')}/calls.db")
    found = {}
    for name, engine in (("en-violations", en_engine), ("zh-hardship", zh_engine)):
        call = load_call(EXAMPLES / f"{name}.json")
        events = list(engine.analyze(call))
        outcome = determine_outcome(events, call.language, call.started_at)
        store.save_call(
            NewCall(call_id=call.call_id, language=call.language, playbook=engine.playbook.id, source="cli",
                    started_at=call.started_at, metadata=call.metadata.model_dump(exclude_none=True)),
            events, outcome=outcome.model_dump(mode="json"), summary=summarize(events, outcome, call.language),
        )
        store.add_note(call.call_id, f"Listen again to this part ({name}).", author="coach-li", utterance_id=2)
        found[name] = ReportCall(store.get_call(call.call_id), store.events(call.call_id), store.notes(call.call_id))
    store.close()
    return found


def render(*calls, **options) -> str:
    from coach.review.report import render_report

    return render_report(list(calls), generated_at=GENERATED, **options)


def of_type(call, kind: str) -> list[dict]:
    return [e for e in call.events if e["type"] == kind]


def test_report_is_well_formed_and_needs_nothing_from_the_network(calls):
    html = render(*calls.values())
    doc = Document(html)
    assert html.startswith("<!DOCTYPE html>")
    assert doc.problems == []
    assert not {"script", "link", "img", "iframe", "object", "embed", "base"} & set(doc.tags)
    assert doc.sources == []
    assert all(link.startswith("#") for link in doc.links), [link for link in doc.links if not link.startswith("#")]
    assert not re.search(r"https?://|url\(|@import", " ".join(doc.styles))
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
    # Every internal link lands somewhere, and no id is used twice.
    assert len(doc.ids) == len(set(doc.ids))
    assert {link[1:] for link in doc.links} <= set(doc.ids)
    assert "2026-03-20 09:30 UTC" in html


def test_index_links_to_every_call(calls):
    en, zh = calls["en-violations"], calls["zh-hardship"]
    html = render(en, zh, title="Week 11 review")
    index = html[html.index('<table class="index">'):html.index("</table>")]
    anchors = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', index)
    assert [text for _, text in anchors] == [en.detail.id, zh.detail.id]
    for anchor, _ in anchors:
        assert f'<section class="call sheet" id="{anchor}"' in html
    for call in (en, zh):
        assert escape(call.detail.agent_id) in index and escape(call.detail.team) in index
        assert f"{call.detail.score:g}" in index
    assert "S1 × " in index and "<title>Week 11 review</title>" in html


def test_s1_violations_stand_out_with_rule_evidence_and_citation(calls):
    call = calls["en-violations"]
    html = render(call)
    compliance = of_type(call, "compliance")
    s1 = [e for e in compliance if e["severity"] == "S1"]
    assert s1, "the violations example must break an S1 rule"
    assert f"{len(s1)} critical (S1) compliance violations" in html
    for event in compliance:
        for field in ("rule_id", "name", "message", "evidence", "citation"):
            assert str(escape(event[field])) in html, (field, event[field])
    # S1 rules come first, on a highlighted row.
    table = html[html.index('<table class="violations">'):]
    assert table.index('<tr class="s1">') < table.index('<tr class="s2">')
    assert "worst-s1" in html  # the transcript line that broke it is marked too


def test_each_objection_sits_beside_the_agents_answer_and_the_script(calls):
    call = calls["en-violations"]
    html = render(call)
    section = html[html.index('<div class="objection">'):html.index("QA scorecard</h3>")]
    objections = [e for e in of_type(call, "intent") if e["kind"] == "objection"]
    assert section.count('<div class="objection">') == len(objections) > 3
    utterances = call.detail.utterances
    for event in objections:
        assert str(escape(event["name"])) in section
        assert str(escape(event["suggestions"][0]["text"])) in section
        answer = next((u for u in utterances if u.utterance_id > event["utterance_id"] and u.speaker == "agent"), None)
        # an objection in the call's last words has no answer, and the report says so
        assert (str(escape(answer.text)) if answer else "No agent reply after this.") in section


def test_scorecard_checks_and_metrics(calls):
    for call in calls.values():
        html = render(call)
        scorecard = of_type(call, "scorecard")[-1]
        assert f'<div class="value">{scorecard["score"]:g}</div>' in html
        checks = html[html.index('<table class="checks">'):]
        for check in scorecard["checks"]:
            assert str(escape(check["name"])) in checks
        assert checks.count("status failed") == sum(c["passed"] is False for c in scorecard["checks"])
        assert checks.count("status passed") == sum(c["passed"] is True for c in scorecard["checks"])
        assert f"{scorecard['metrics']['agent_talk_ratio']:.0%}" in checks
        assert "Interruptions" in checks and "Long silences" in checks


def test_emotion_plot_has_a_point_per_sentiment_event_and_markers(calls):
    for call in calls.values():
        html = render(call)
        svg = html[html.index("<svg"):html.index("</svg>")]
        assert svg.count('class="sentiment-point"') == len(of_type(call, "sentiment")) > 0
        assert svg.count('class="objection-marker"') == sum(e["kind"] == "objection" for e in of_type(call, "intent"))
        assert svg.count('class="violation-marker') == len(of_type(call, "compliance"))
        assert "valence-line" in svg


def test_outcome_summary_and_notes(calls):
    call = calls["zh-hardship"]
    html = render(call)
    outcome = call.detail.outcome_detail
    assert outcome["kind"] == "promise_to_pay"
    assert "Promise to pay" in html and f"{outcome['amount']:,.2f} CNY" in html and str(outcome["due_date"]) in html
    assert str(escape(call.detail.summary)) in html
    assert "Listen again to this part (zh-hardship)." in html and "coach-li" in html


def test_a_calls_warnings_are_in_its_report_escaped(calls):
    """The coach reading the e-mailed report is told what the review page says: the transcript of a
    call heard in another language is most likely wrong."""
    from coach.review.report import ReportCall
    from coach.storage.records import CallWarningRecord

    call = calls["en-violations"]
    assert "call-warnings" not in render(call).split("</style>", 1)[1]  # none stored: no box
    warning = CallWarningRecord(code="language_mismatch", message="the speech sounds like Chinese (91%) <b>")
    detail = call.detail.model_copy(update={"warnings": [warning]})
    html = render(ReportCall(detail, call.events, call.notes))
    assert "Language mismatch:</strong> the speech sounds like Chinese (91%) &lt;b&gt;" in html
    assert Document(html).problems == []


def test_chinese_calls_get_chinese_labels_and_english_calls_do_not(calls):
    zh_html, en_html = render(calls["zh-hardship"]), render(calls["en-violations"])
    for label in ("通话记录", "合规问题", "质检评分", "客户情绪"):
        assert label in zh_html and label not in en_html
    assert "Transcript" in zh_html  # English always, Chinese beside it


def test_transcript_and_notes_are_escaped(calls):
    from coach.review.report import ReportCall
    from coach.storage.records import NoteRecord, UtteranceRecord

    call = calls["en-violations"]
    last = call.detail.utterances[-1]
    hostile = UtteranceRecord(utterance_id=last.utterance_id + 1, speaker="debtor", text="<script>alert('x')</script> ok",
                              start=last.end + 1, end=last.end + 2, stage=None)
    detail = call.detail.model_copy(update={"id": 'evil"><b>', "utterances": [*call.detail.utterances, hostile]})
    note = NoteRecord(id=99, call_id=detail.id, utterance_id=hostile.utterance_id, author="<i>me</i>",
                      text='<img src="https://tracker.example/x.png">', created_at=GENERATED)
    html = render(ReportCall(detail, call.events, [note]))
    assert "<script" not in html and "<img" not in html and "<i>me</i>" not in html and 'evil"><b>' not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; ok" in html
    assert Document(html).problems == []


def test_report_renders_in_chromium_without_errors_or_requests(calls, tmp_path):
    from playwright.sync_api import sync_playwright

    from coach.review.report import write_report

    path = write_report(tmp_path / "out.html", list(calls.values()), generated_at=GENERATED)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            problems: list[str] = []
            requests: list[str] = []
            page.on("console", lambda message: problems.append(message.text) if message.type in ("error", "warning") else None)
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(path.as_uri(), wait_until="load")
            assert requests == [path.as_uri()]
            assert problems == []
            assert page.title() == "Call review report"
            plots = page.locator("svg.emotion-plot")
            assert plots.count() == 2
            box = plots.first.bounding_box()
            assert box and box["width"] > 400 and box["height"] > 100
            points = page.locator("svg.emotion-plot circle.sentiment-point").count()
            assert points == sum(len(of_type(call, "sentiment")) for call in calls.values())
            assert page.locator(".banner-s1").first.is_visible()
            # Printing: the index, then each call from a new page.
            pdf = page.pdf(format="A4")
            assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 3
        finally:
            browser.close()


def test_the_call_time_is_the_debtors_local_time_with_utc_beside_it(calls):
    """A stored call's start is kept in UTC; the report shows it where the debtor was (the hours rules
    are judged there), as the sample calls' metadata names their time zone."""
    html = render(calls["en-violations"], calls["zh-hardship"])
    assert "2026-03-12 21:40 America/Los_Angeles (04:40 UTC)" in html
    assert "2026-03-11 14:20 Asia/Shanghai (06:20 UTC)" in html


def test_a_call_time_without_a_known_time_zone_stays_utc_and_says_so():
    from datetime import UTC, datetime

    from coach.review.report import _format_call_time

    started = datetime(2026, 3, 12, 4, 40, tzinfo=UTC)
    assert _format_call_time(started, None) == "2026-03-12 04:40 UTC"
    assert _format_call_time(started, "Mars/Olympus_Mons") == "2026-03-12 04:40 UTC"
    assert _format_call_time(started, "../../etc/passwd") == "2026-03-12 04:40 UTC"


def test_a_call_failed_on_a_critical_check_says_which(calls):
    html = render(calls["en-violations"])
    assert 'class="small auto-failed">Failed on: No S1 violations</div>' in html
