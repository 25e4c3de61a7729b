"""The intents a call's debtor said, as the playbook being mined reads them.

A call reviewed with another playbook (``--playbook`` a trainer's export, or an older version of the
default) stored that playbook's intent events: the topic an export added would be missing from the
intents table, its responses never tallied and its utterances listed again as a new cluster. Such a
call is claimed again here, once, before any part reads it, so every figure of a mining run stands
on one playbook.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

from coach.analyzers.base import DEBTOR_SIDE
from coach.analyzers.features import Features
from coach.analyzers.intent import IntentContext
from coach.engine import CoachEngine
from coach.mining.corpus import IntentHit, MinedCall, MinedUtterance


def claimed_again(calls: list[MinedCall], engine: CoachEngine,
                  encode: Callable[[list[str]], Features] | None = None) -> list[MinedCall]:
    """``calls`` (``engine``'s language) with the intents of those reviewed with another playbook read
    again by ``engine``'s detector, each debtor utterance after the agent's last words (the same
    calls, in order; the others untouched). The detector alone, as the clusters always read it: the
    review's other readings (an answer to an identity question set aside, a promise said only in an
    amount and a date) are left out. ``encode``: how texts are embedded (default ``engine.space.encode``;
    a page shares a :class:`coach.mining.space.SharedEncoder` with its clusters)."""
    stale = [c for c in calls if c.playbook != engine.ref]
    lines = [(call, u.utterance_id, u.text, previous)
             for call in stale for u, previous in _debtor_lines(call)]
    found: dict[str, list[IntentHit]] = {c.call_id: [] for c in stale}
    if lines:
        features = (encode or engine.space.encode)([text for _, _, text, _ in lines])
        for row, (call, utterance_id, _, previous) in enumerate(lines):
            result = engine.detector.detect(features.row(row), IntentContext(previous_agent_text=previous))
            if result is not None:
                intent = engine.playbook.intent(result.intent)
                found[call.call_id].append(IntentHit(utterance_id=utterance_id, intent=intent.id, kind=intent.kind,
                                                     name=intent.name, confidence=result.confidence))
    return [dataclasses.replace(c, intents=found[c.call_id]) if c.call_id in found else c for c in calls]


def _debtor_lines(call: MinedCall) -> Iterator[tuple[MinedUtterance, str | None]]:
    """Each utterance of the debtor's side with something said (a third party's too, as the review
    reads them: "he passed away last spring" is ``deceased``), and the agent's last words before it."""
    previous = None
    for u in call.utterances:
        if not u.text.strip():
            continue
        if u.speaker in DEBTOR_SIDE:
            yield u, previous
        elif u.speaker == "agent":
            previous = u.text
