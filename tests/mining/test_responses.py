"""What works: agents' answers grouped by the playbook response they resemble, and their outcomes."""

from __future__ import annotations

from coach.mining import MiningOptions, mine
from coach.mining.responses import OFF_SCRIPT, ResponseMatcher
from coach.mining.stats import TOO_FEW
from tests.mining.calls import EN_OFF_SCRIPT, EN_ON_SCRIPT


def objection(mined, language, intent):
    return next(o for o in mined.responses if o.language == language and o.intent == intent)


def test_a_reworded_playbook_response_is_recognised_and_small_talk_is_not(en_engine):
    matcher = ResponseMatcher(en_engine)
    found = matcher.match([EN_ON_SCRIPT["already_paid"][0], EN_ON_SCRIPT["cannot_afford"][1], *EN_OFF_SCRIPT,
                           "thank you for your time have a good day"])
    assert found[0][0].endswith("#intents/already_paid/responses/0")
    assert found[1][0].endswith("#intents/cannot_afford/responses/1")
    assert [ref for ref, _ in found[2:]] == [None] * (len(EN_OFF_SCRIPT) + 1)


def test_groups_count_calls_and_successes_with_wilson_intervals(mined, mined_store):
    paid = objection(mined, "en", "already_paid")
    groups = {g.response.split("#")[-1] if g.response != OFF_SCRIPT else OFF_SCRIPT: g for g in paid.groups}
    scripted = groups["intents/already_paid/responses/0"]
    assert scripted.text.startswith("Thank you for letting me know")
    outcomes = {c.id: c.outcome for c in mined_store.list_calls()}
    assert scripted.successes == sum(outcomes[c] in ("promise_to_pay", "payment_made") for c in scripted.call_ids)
    assert scripted.calls == len(scripted.call_ids) and 0 <= scripted.low <= scripted.rate <= scripted.high <= 1
    assert all(t.call_id in scripted.call_ids for t in scripted.turns)
    assert paid.calls == len({c for g in paid.groups for c in g.call_ids})


def test_below_the_minimum_a_group_says_too_few_calls_instead_of_a_rank(mined_store, engines):
    strict = mine(mined_store, options=MiningOptions(parts=frozenset({"responses"}), min_calls=1000), engines=engines)
    groups = [g for o in strict.responses for g in o.groups + o.by_agent]
    assert groups and all(g.rank is None and g.note == TOO_FEW for g in groups)
    lenient = mine(mined_store, options=MiningOptions(parts=frozenset({"responses"}), min_calls=1), engines=engines)
    afford = objection(lenient, "en", "cannot_afford")
    assert [g.rank for g in afford.groups] == list(range(1, len(afford.groups) + 1))
    lows = [g.low for g in afford.groups]
    assert lows == sorted(lows, reverse=True)
    assert {a.agent_id for a in afford.by_agent} == {"a1", "a2", "a3"}
    assert strict.intents == [] and strict.clusters == []  # only what was asked for


def test_an_off_script_group_shows_what_the_agents_said(mined):
    """"Off script" is the largest group on most calls and has no playbook text: a trainer reads the
    agents' own answers in it (a few, distinct, each one an answer given in these calls)."""
    paid = objection(mined, "en", "already_paid")
    off = next(g for g in paid.groups if g.response == OFF_SCRIPT)
    assert off.text == "" and 1 <= len(off.examples) <= 3 and len(set(off.examples)) == len(off.examples)
    assert all(any(line in said for line in EN_OFF_SCRIPT) for said in off.examples), off.examples
    scripted = next(g for g in paid.groups if g.response != OFF_SCRIPT)
    assert scripted.examples  # what the agents said beside the playbook text it resembles
