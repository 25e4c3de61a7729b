"""The intents landscape over the stored mining calls (tests/mining/calls.py)."""

from __future__ import annotations

from collections import Counter

from tests.mining.calls import EN_KNOWN, transcripts


def figures(mined, intent):
    return next(f for f in mined.intents if f.intent == intent)


def test_counts_shares_and_splits_match_the_calls(mined):
    documents = transcripts()
    languages = Counter(d["language"] for d in documents)
    assert mined.window.calls == len(documents) and mined.window.languages == dict(languages)
    afford = figures(mined, "cannot_afford")
    # every English "can't afford" call opens on one (two debtor lines may say it, e.g. "i really cant do anything")
    en_afford = [d["call_id"] for d in documents if d["call_id"].startswith("en-cannot_afford")]
    assert set(en_afford) <= set(afford.call_ids)
    assert afford.calls == len(set(afford.call_ids)) and afford.utterances == len(afford.utterance_refs) >= afford.calls
    assert afford.share_of_calls == round(afford.calls / len(documents), 4)
    by_language = {g.key: g for g in afford.by_language}
    assert by_language["en"].calls == len({c for c in afford.call_ids if c.startswith("en-")})
    assert by_language["en"].share_of_calls == round(by_language["en"].calls / languages["en"], 4)
    assert sum(g.calls for g in afford.by_team) == afford.calls == sum(g.calls for g in afford.by_agent)
    assert sum(w.calls for w in afford.weekly) == afford.calls
    assert [w.week for w in afford.weekly] == mined.window.weeks == ["2026-W41", "2026-W42", "2026-W43", "2026-W44"]


def test_each_figure_names_the_utterances_behind_it(mined, mined_store):
    paid = figures(mined, "already_paid")
    said = {(r.call_id, r.utterance_id) for r in paid.utterance_refs}
    lines = {text for texts in EN_KNOWN.values() for text in texts}
    transcripts_by_call = mined_store.utterances_of(sorted({c for c, _ in said}))
    heard = Counter(next(u.text for u in transcripts_by_call[c] if u.utterance_id == i) for c, i in said)
    assert set(EN_KNOWN["already_paid"]) <= set(heard)
    assert all(text in lines or not text.isascii() or "paid" in text for text in heard)
    for week in paid.weekly:
        assert week.calls == len(week.call_ids) and week.utterances == len(week.utterance_refs)


def test_intents_are_ordered_by_calls(mined):
    calls = [f.calls for f in mined.intents]
    assert calls == sorted(calls, reverse=True) and calls[0] > 0


def test_a_page_mixing_languages_names_intents_in_one(mined):
    """Intents heard in English and Chinese calls keep their English names, whichever call came first."""
    both = [f for f in mined.intents if {g.key for g in f.by_language if g.calls} >= {"en", "zh"}]
    assert both and all(f.name.isascii() for f in both), [(f.intent, f.name) for f in both]


def test_a_call_reviewed_with_another_playbook_is_claimed_again_the_debtor_sides_lines_each_after_the_agents_words(en_engine):
    """Claimed again as the review reads them: a third party's word that the debtor died counts
    (``deceased``), the context is the agent's last words, and a call reviewed with this very playbook
    keeps what its review stored."""
    from datetime import UTC, datetime

    from coach.mining.claims import claimed_again
    from coach.mining.corpus import IntentHit, MinedCall, MinedUtterance

    def call(call_id: str, playbook: str) -> MinedCall:
        said = [("agent", "hi, may i speak with robert lane please"), ("third_party", "robert passed away last spring, im his sister"),
                ("agent", "i am sorry to hear that"), ("debtor", "i already paid that off in march, check your records")]
        return MinedCall(call_id=call_id, language="en", playbook=playbook, agent_id=None, team=None, outcome=None,
                         when=datetime(2026, 11, 2, tzinfo=UTC),
                         utterances=[MinedUtterance(n, speaker, text) for n, (speaker, text) in enumerate(said)],
                         intents=[IntentHit(3, "stalling", "objection", "Stalling", 0.7)])

    older, current = claimed_again([call("older", "en-US-collections@0.9.0"), call("current", en_engine.ref)], en_engine)
    assert [(h.utterance_id, h.intent) for h in older.intents] == [(1, "deceased"), (3, "already_paid")]
    assert older.intents[0].name == en_engine.playbook.intent("deceased").name
    assert [(h.utterance_id, h.intent) for h in current.intents] == [(3, "stalling")]
