"""The intents landscape: which objections (and commitments) come up, how often, when and where.

Counted from the stored intent events (a call reviewed with another playbook than the one mined
with: its debtor side's lines read again, :mod:`coach.mining.claims`): an utterance counts once per
intent, a call once per intent however often the debtor repeats it. Shares are over the calls mined
(per team and per agent: over that team's or agent's calls), so a team that makes more calls does not
look more objected to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from coach.mining.corpus import Corpus, MinedCall
from coach.mining.models import GroupTally, IntentFigures, UtteranceRef, WeekTally


class _Counter:
    """Calls and utterances behind one figure, kept in the order first seen."""

    def __init__(self) -> None:
        self.calls: dict[str, None] = {}
        self.refs: list[UtteranceRef] = []

    def add(self, call: MinedCall, utterance_id: int) -> None:
        self.calls.setdefault(call.call_id)
        self.refs.append(UtteranceRef(call_id=call.call_id, utterance_id=utterance_id))

    def tally(self) -> dict:
        return {"calls": len(self.calls), "utterances": len(self.refs), "call_ids": list(self.calls),
                "utterance_refs": self.refs}


def intent_landscape(corpus: Corpus) -> list[IntentFigures]:
    """One entry per intent heard at least once, most calls first."""
    total = len(corpus.calls)
    weeks = corpus.weeks
    language_calls = _calls_per(corpus.calls, lambda c: c.language)
    team_calls = _calls_per(corpus.calls, lambda c: c.team)
    agent_calls = _calls_per(corpus.calls, lambda c: c.agent_id)
    overall: dict[str, _Counter] = defaultdict(_Counter)
    weekly: dict[str, dict[str, _Counter]] = defaultdict(lambda: defaultdict(_Counter))
    languages: dict[str, dict[str | None, _Counter]] = defaultdict(lambda: defaultdict(_Counter))
    teams: dict[str, dict[str | None, _Counter]] = defaultdict(lambda: defaultdict(_Counter))
    agents: dict[str, dict[str | None, _Counter]] = defaultdict(lambda: defaultdict(_Counter))
    names: dict[str, tuple[str, str]] = {}
    named_in: dict[str, str] = {}  # the language each intent's name was taken from
    for call in corpus.calls:
        for hit in call.intents:
            # One language for the names of a page that mixes them: English (the pages' own) where
            # an English call has the intent, else the first call's.
            if hit.intent not in names or (call.language == "en" and named_in[hit.intent] != "en"):
                names[hit.intent], named_in[hit.intent] = (hit.kind, hit.name), call.language
            overall[hit.intent].add(call, hit.utterance_id)
            weekly[hit.intent][call.week].add(call, hit.utterance_id)
            languages[hit.intent][call.language].add(call, hit.utterance_id)
            teams[hit.intent][call.team].add(call, hit.utterance_id)
            agents[hit.intent][call.agent_id].add(call, hit.utterance_id)
    out = []
    for intent, counter in overall.items():
        kind, name = names[intent]
        tally = counter.tally()
        out.append(IntentFigures(
            intent=intent, kind=kind, name=name, share_of_calls=round(tally["calls"] / total, 4), **tally,
            weekly=[WeekTally(week=w, **weekly[intent][w].tally()) if w in weekly[intent] else WeekTally(week=w)
                    for w in weeks],
            by_language=_groups(languages[intent], language_calls), by_team=_groups(teams[intent], team_calls), by_agent=_groups(agents[intent], agent_calls),
        ))
    out.sort(key=lambda f: (-f.calls, -f.utterances, f.intent))
    return out


def _calls_per(calls: list[MinedCall], key: Callable[[MinedCall], str | None]) -> dict[str | None, int]:
    out: dict[str | None, int] = defaultdict(int)
    for call in calls:
        out[key(call)] += 1
    return out


def _groups(counters: dict[str | None, _Counter], calls_per_group: dict[str | None, int]) -> list[GroupTally]:
    groups = []
    for key, counter in counters.items():
        tally = counter.tally()
        groups.append(GroupTally(key=key, share_of_calls=round(tally["calls"] / calls_per_group[key], 4), **tally))
    groups.sort(key=lambda g: (-g.calls, g.key or ""))
    return groups

