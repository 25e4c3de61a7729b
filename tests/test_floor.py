"""The live floor and its alerts: tiles from a real engine's events, risk order, alerts raised once
while open, thread safety, and the webhook (signed, retried, never blocking) against a local server."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from coach.alerts import Alert, AlertWebhook, alerts_in, self_harm_cue, sign, verify
from coach.events import ComplianceEvent, IntentEvent, SentimentEvent, UtteranceEvent, WarningEvent
from coach.floor import Floor
from tests.conftest import run_call

CALL = [("agent", "hello this is sam from acme collections am i speaking with john"), ("debtor", "yes this is john"),
        ("debtor", "i lost my job and i cant pay"), ("agent", "if you dont pay today you will go to jail"),
        ("debtor", "i talked to my lawyer please stop calling me"), ("debtor", "i dont want to live anymore")]


def utterance(uid: int, speaker: str, text: str, stage: str | None = None) -> UtteranceEvent:
    return UtteranceEvent(call_id="c", utterance_id=uid, speaker=speaker, text=text, start=uid * 3.0, end=uid * 3.0 + 2,
                          stage=stage, time=uid * 3.0)


def sentiment(uid: int, valence: float, label: str = "anxious") -> SentimentEvent:
    return SentimentEvent(call_id="c", utterance_id=uid, speaker="debtor", label=label, valence=valence, confidence=0.8,
                          method="test")


def objection(uid: int, intent: str = "cannot_afford") -> IntentEvent:
    return IntentEvent(call_id="c", utterance_id=uid, intent=intent, name=intent.replace("_", " "), kind="objection",
                       confidence=0.9, evidence="example", method="test", suggestions=[], ref="book#intents/x")


def violation(uid: int, rule: str = "US-THREAT", severity: str = "S1") -> ComplianceEvent:
    return ComplianceEvent(call_id="c", utterance_id=uid, rule_id=rule, name="Threat", severity=severity, message="m",
                           evidence="you will go to jail", citation="1692e", confidence=0.9, method="phrase",
                           speaker="agent", ref="book#rules/x")


def test_a_real_call_on_the_floor(en_engine):
    floor = Floor()
    heard = []
    floor.listen(heard.append)
    key = floor.open("c-1", language="en", agent_id="a17", team="north")
    alerts = []
    for event in run_call(en_engine, CALL, call_id="c-1"):
        alerts += floor.publish(key, [event])
    tile = floor.tile(key)
    assert tile.agent_id == "a17" and tile.team == "north" and tile.language == "en"
    assert [line["speaker"] for line in tile.last_lines] == ["debtor", "agent", "debtor", "debtor"][-len(tile.last_lines):]
    assert "live" in tile.last_lines[-1]["text"]
    assert tile.emotion == "distressed" and tile.valence < 0 and len(tile.valences) >= 3
    assert tile.last_hint["intent"] == "hardship" and tile.last_hint["say"]
    assert {v["rule_id"] for v in tile.s1_violations} >= {"US-THREAT"}
    assert tile.unhandled_objection["intent"] == "hardship"  # the agent has not spoken since
    assert tile.risk_reasons[0] == "S1 violation"
    kinds = {(a.kind, a.rule_id or a.intent) for a in alerts}
    assert ("violation", "US-THREAT") in kinds and ("legal", "legal_representation") in kinds
    assert ("self_harm", None) in kinds and ("vulnerability", "hardship") in kinds
    assert not any(a.severity != "S1" for a in alerts if a.kind in ("violation", "self_harm"))
    assert all(a.agent_id == "a17" and a.team == "north" and a.call_id == key for a in alerts)
    assert {m.kind for m in heard} >= {"call", "events", "alert"}
    assert sum(1 for m in heard if m.kind == "alert") == len(alerts)
    floor.close(key, stored_id="c-1")
    assert key not in floor and heard[-1].kind == "ended" and heard[-1].data["stored_id"] == "c-1"


def test_an_alert_is_raised_once_until_acknowledged():
    floor = Floor()
    key = floor.open("c", language="en", team="north")
    first = floor.publish(key, [utterance(0, "agent", "jail"), violation(0)])
    assert len(first) == 1 and floor.tile(key).open_alerts == 1
    assert floor.publish(key, [violation(1)]) == []  # the same rule again while the first is open
    assert floor.publish(key, [violation(2, "US-ABUSE")])  # another rule is another alert
    floor.acknowledge(first[0])
    assert len(floor.publish(key, [violation(3)])) == 1  # after the acknowledgement it alerts again
    assert floor.publish(key, [violation(4, "US-MINI", "S2")]) == []  # S2: no alert


def test_risk_order_s1_then_worsening_emotion_then_unanswered_objection_then_time():
    floor = Floor()
    calm = floor.open("calm", language="en")
    objecting = floor.open("objecting", language="en")
    upset = floor.open("upset", language="en")
    s1 = floor.open("s1", language="en")
    floor.publish(objecting, [utterance(0, "debtor", "i cant pay"), objection(0)])
    floor.publish(upset, [sentiment(0, 0.1), sentiment(1, -0.1), sentiment(2, -0.6, "angry")])
    floor.publish(s1, [utterance(0, "agent", "jail"), violation(0)])
    order = [t.call_id for t in floor.tiles()]
    assert order == [s1, upset, objecting, calm]
    assert floor.tile(upset).emotion_trend == "worsening"
    floor.publish(objecting, [utterance(1, "agent", "i understand, lets look at a plan")])
    assert floor.tile(objecting).unhandled_objection is None  # the agent answered
    assert [t.call_id for t in floor.tiles()][-2:] == [calm, objecting]  # equal risk: longest on the call first
    assert [t.call_id for t in floor.tiles(lambda t: t.call_id != s1)] == [upset, calm, objecting]


def test_a_call_not_spoken_in_its_language_ranks_after_an_s1_and_says_why():
    """Its hints are most likely wrong: above an upset debtor and an unanswered objection together,
    below an S1 violation."""
    floor = Floor()
    upset = floor.open("upset", language="en")
    wrong = floor.open("wrong", language="en")
    s1 = floor.open("s1", language="en")
    floor.publish(upset, [utterance(0, "debtor", "i cant pay"), objection(0), sentiment(0, 0.1), sentiment(1, -0.6, "angry")])
    floor.publish(s1, [utterance(0, "agent", "jail"), violation(0)])
    warning = WarningEvent(call_id=wrong, utterance_id=None, time=21.0, code="language_mismatch",
                           message="the speech sounds like Chinese (91%), but the call was started as English")
    floor.publish(wrong, [warning, warning.model_copy()])
    assert [t.call_id for t in floor.tiles()] == [s1, wrong, upset]
    tile = floor.tile(wrong)
    assert tile.risk_reasons == ["language mismatch"] and tile.warnings == [{"code": warning.code, "message": warning.message}]


def test_two_calls_with_one_id_are_two_tiles():
    floor = Floor()
    assert floor.open("t1", language="en") == "t1"
    assert floor.open("t1", language="en") == "t1#2"
    assert len(floor) == 2
    assert floor.publish("unknown", [utterance(0, "debtor", "hi")]) == []


def test_publishing_from_many_threads():
    floor = Floor()
    keys = [floor.open(f"c{i}", language="en", team="north") for i in range(8)]
    heard = []
    lock = threading.Lock()

    def listener(message):
        with lock:
            heard.append(message)

    floor.listen(listener)

    def talk(key):
        for uid in range(50):
            floor.publish(key, [utterance(uid, "debtor" if uid % 2 else "agent", f"line {uid}"), sentiment(uid, -uid / 60)])

    threads = [threading.Thread(target=talk, args=(k,)) for k in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(len(floor.events(k)) == 100 for k in keys)
    assert sum(1 for m in heard if m.kind == "events") == 8 * 50


def test_a_failing_listener_does_not_stop_the_call():
    floor = Floor()
    floor.listen(lambda message: 1 / 0)
    key = floor.open("c", language="en")
    assert floor.publish(key, [violation(0)])


@pytest.mark.parametrize("text", ["i just want to kill myself", "honestly i dont want to live anymore", "I can't go on like this",
                                  "everyone would be better off if i wasnt here", "my kids would be better off without me",
                                  "whats the point of living like this", "sometimes i think about ending things",
                                  "i wont be around much longer anyway", "i dont want to wake up tomorrow",
                                  "我真的不想活了", "活不下去了", "活着有什么意思", "活着太累了", "大不了一死了之", "死了就解脱了",
                                  # said around it: these lines alone now bring the crisis script
                                  "some days i just want to disappear", "honestly i cant see the point of anything",
                                  "i might as well not be here", "我站在阳台上就想从楼上跳", "我是实在撑不下去了"])
def test_self_harm_cues(text):
    assert self_harm_cue(text)


@pytest.mark.parametrize("text", ["i cant pay this month", "my phone died", "我下个月再还", "this is killing me",
                                  "were better off setting up a plan", "the point is i cant pay", "ill end up paying it",
                                  "你去死吧", "死活不还", "这个月工资没法还", "店里生意撑不下去了", "i dont see the point of paying for this"])
def test_no_self_harm_cue(text):
    assert self_harm_cue(text) is None


def test_alerts_only_from_the_debtor_for_cues():
    found = alerts_in([utterance(0, "agent", "do you want to kill yourself"), utterance(1, "debtor", "i want to die")],
                      call_id="c")
    assert [(a.kind, a.utterance_id) for a in found] == [("self_harm", 1)]


# -- the webhook ---------------------------------------------------------------------------------


class Receiver:
    """A local HTTP server that records what it is sent and answers with ``statuses`` in turn."""

    def __init__(self, statuses=(200,), delay: float = 0.0) -> None:
        self.requests: list[tuple[dict, bytes, float]] = []
        self.statuses = list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body, time.monotonic()))
                time.sleep(delay)
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def an_alert() -> Alert:
    return alerts_in([violation(0)], call_id="c-9", agent_id="a17", team="north")[0]


def wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_the_webhook_gets_a_signed_alert():
    receiver = Receiver()
    hook = AlertWebhook(receiver.url, "s3cret", backoff=0.05)
    alert = an_alert()
    hook.send(alert)
    assert wait_for(lambda: hook.delivered == 1)
    headers, body, _ = receiver.requests[0]
    assert verify(body, "s3cret", headers["X-Coach-Timestamp"], headers["X-Coach-Signature"])
    assert not verify(body, "wrong", headers["X-Coach-Timestamp"], headers["X-Coach-Signature"])
    assert not verify(body + b" ", "s3cret", headers["X-Coach-Timestamp"], headers["X-Coach-Signature"])
    assert not verify(body, "s3cret", str(int(headers["X-Coach-Timestamp"]) - 3600), headers["X-Coach-Signature"])
    assert headers["X-Coach-Signature"] == sign(body, "s3cret", int(headers["X-Coach-Timestamp"]))
    sent = json.loads(body)
    assert sent["type"] == "alert" and sent["id"] == alert.id and sent["rule_id"] == "US-THREAT" and sent["severity"] == "S1"
    hook.close()
    receiver.close()


def test_the_webhook_retries_with_back_off_then_gives_up():
    receiver = Receiver(statuses=(503, 500, 200))
    hook = AlertWebhook(receiver.url, "k", attempts=4, backoff=0.1)
    hook.send(an_alert())
    assert wait_for(lambda: hook.delivered == 1)
    times = [t for _, _, t in receiver.requests]
    assert len(times) == 3 and times[1] - times[0] >= 0.09 and times[2] - times[1] >= 0.19  # 0.1 s, then 0.2 s
    hook.close()
    stubborn = Receiver(statuses=(500,))
    hook = AlertWebhook(stubborn.url, "k", attempts=3, backoff=0.01)
    hook.send(an_alert())
    assert wait_for(lambda: hook.failed == 1)
    assert len(stubborn.requests) == 3
    refused = Receiver(statuses=(400,))  # a client error is not retried
    hook2 = AlertWebhook(refused.url, "k", attempts=3, backoff=0.01)
    hook2.send(an_alert())
    assert wait_for(lambda: hook2.failed == 1) and len(refused.requests) == 1
    for closing in (hook, hook2, receiver, stubborn, refused):
        closing.close()


def test_a_slow_or_dead_webhook_never_blocks_the_sender():
    slow = Receiver(delay=2.0)
    hook = AlertWebhook(slow.url, "k", attempts=2, backoff=0.01, timeout=0.5)
    started = time.monotonic()
    for _ in range(50):
        hook.send(an_alert())
    assert time.monotonic() - started < 0.2
    hook.close(timeout=0.1)
    slow.close()
    dead = AlertWebhook("http://127.0.0.1:9/nothing-listens", "k", attempts=5, backoff=10)
    started = time.monotonic()
    dead.send(an_alert())
    assert time.monotonic() - started < 0.1
    dead.close(timeout=1.0)  # closing cuts the back-off short
    assert time.monotonic() - started < 3


def test_the_webhook_url_must_be_http():
    with pytest.raises(ValueError):
        AlertWebhook("file:///etc/passwd")


def test_the_floor_never_imports_the_web_stack():
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = ("import sys, coach.floor, coach.alerts; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette', 'uvicorn', 'server')); "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_tile_shows_a_turns_top_hint_not_its_second_objection():
    floor = Floor()
    key = floor.open("c-2", language="en")
    def hint(intent: str) -> IntentEvent:
        return IntentEvent(call_id="c-2", utterance_id=4, intent=intent, name=intent, kind="objection", confidence=0.85,
                           evidence="e", method="keyword", suggestions=[], ref=f"p@1#intents/{intent}")
    floor.publish(key, [hint("already_paid"), hint("stop_calling")])
    assert floor.tile(key).last_hint["intent"] == "already_paid"
