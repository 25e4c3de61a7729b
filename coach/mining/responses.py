"""What works: for each objection, what the agent answered, grouped by the playbook response it
resembles (or ``off_script``), and how often the call then ended in a promise to pay or a payment.

The agent's answer is the agent's turns after the objection, up to the debtor's next words (at most
:data:`ANSWER_TURNS`). It resembles a playbook response when, in the engine's own embedding space,
its nearest neighbour among the playbook's responses and its ordinary agent lines (the compliant
agent examples and stage cues) is a response, at a similarity above what ordinary agent talk reaches
against the responses (calibrated on the playbook itself, so it holds for any embedding model).
Outcomes are per call: a call counts once per objection and response group.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from coach.engine import CoachEngine
from coach.mining.corpus import DEBTOR_SPEAKERS, Corpus, Deadline, MinedCall
from coach.mining.models import AgentRate, ObjectionResponses, ResponseGroup, UtteranceRef
from coach.mining.space import playbook_features
from coach.mining.stats import rank, rate_fields

OFF_SCRIPT = "off_script"
#: Agents' own answers kept per response group (:attr:`ResponseGroup.examples`).
GROUP_EXAMPLES = 3
#: Agent turns read as the answer to an objection.
ANSWER_TURNS = 2
#: Bounds of the calibrated similarity a turn needs to resemble a response.
SIMILARITY_BOUNDS = (0.6, 0.9)
#: Percentile of ordinary agent lines' similarity to the responses that a resemblance must reach: high,
#: because a line on the same subject with the opposite stance ("the balance is due today" against
#: "no need to decide anything today") is as similar as a loose paraphrase.
CALIBRATION_PERCENTILE = 99.5


class ResponseMatcher:
    """Which playbook response (if any) an agent turn resembles."""

    def __init__(self, engine: CoachEngine) -> None:
        self.engine = engine
        book = engine.playbook
        self.refs: list[str] = []
        self.texts: list[str] = []
        for intent in book.intents:
            for n, response in enumerate(intent.responses):
                self.refs.append(f"{engine.ref}#intents/{intent.id}/responses/{n}")
                self.texts.append(response.text)
        background = list(book.compliant_agent_examples)
        for stage in book.stages:
            background += stage.cues.examples
        self.responses = playbook_features(engine, self.texts)
        self.background = playbook_features(engine, background) if background else None
        if self.background is not None:
            ordinary = self.responses.similarity(self.background).ravel()
            self.threshold = float(np.clip(np.percentile(ordinary, CALIBRATION_PERCENTILE), *SIMILARITY_BOUNDS))
        else:
            self.threshold = SIMILARITY_BOUNDS[1]

    def text_of(self, ref: str) -> str:
        return self.texts[self.refs.index(ref)] if ref in self.refs else ""

    def match(self, texts: list[str]) -> list[tuple[str | None, float]]:
        """(response ref or None, similarity) for each text."""
        if not texts:
            return []
        features = self.engine.space.encode(texts)
        to_responses = features.similarity(self.responses)
        best = to_responses.argmax(axis=1)
        best_sim = to_responses.max(axis=1)
        to_background = features.similarity(self.background).max(axis=1) if self.background is not None else None
        out: list[tuple[str | None, float]] = []
        for row, (index, similarity) in enumerate(zip(best, best_sim)):
            beaten = to_background is not None and to_background[row] > similarity
            ref = self.refs[int(index)] if similarity >= self.threshold and not beaten else None
            out.append((ref, round(float(similarity), 3)))
        return out


@dataclass
class _Answer:
    call: MinedCall
    intent: str
    name: str
    turns: list[UtteranceRef]
    texts: list[str]


def answers(call: MinedCall) -> list[_Answer]:
    """Each objection in the call with the agent's turns that answered it (none: not answered)."""
    out = []
    position = {u.utterance_id: i for i, u in enumerate(call.utterances)}
    for hit in call.intents:
        if hit.kind != "objection" or hit.utterance_id not in position:
            continue
        turns, texts = [], []
        for utterance in call.utterances[position[hit.utterance_id] + 1:]:
            if utterance.speaker in DEBTOR_SPEAKERS:
                break
            if utterance.speaker == "agent":
                turns.append(UtteranceRef(call_id=call.call_id, utterance_id=utterance.utterance_id))
                texts.append(utterance.text)
                if len(turns) == ANSWER_TURNS:
                    break
        if turns:
            out.append(_Answer(call, hit.intent, hit.name, turns, texts))
    return out


@dataclass
class ScoredAnswer:
    """An objection answered, with the response group its turns resemble: what one page of calls gives
    the driver for :func:`tally_answers` (no texts but the group's)."""

    call_id: str
    intent: str
    name: str
    turns: list[UtteranceRef]
    #: A playbook response's ref, or :data:`OFF_SCRIPT`.
    response: str
    text: str
    #: What the agent said in answer (its turns joined).
    said: str = ""


def score_answers(calls: Iterable[MinedCall], matcher: Callable[[], ResponseMatcher]) -> list[ScoredAnswer]:
    """The answered objections of ``calls`` (one language), each with its response group (a page's
    share of the embedding work). ``matcher`` is called only when something was answered."""
    found = [a for call in calls for a in answers(call)]
    if not found:
        return []
    chosen = matcher()
    matches = iter(chosen.match([text for a in found for text in a.texts]))
    out = []
    for answer in found:
        scored = [next(matches) for _ in answer.texts]
        on_script = [(s, ref) for ref, s in scored if ref is not None]
        group = max(on_script)[1] if on_script else OFF_SCRIPT
        out.append(ScoredAnswer(call_id=answer.call.call_id, intent=answer.intent, name=answer.name, turns=answer.turns,
                                response=group, text=chosen.text_of(group), said=" ".join(answer.texts)))
    return out


def tally_answers(language: str, scored: Iterable[ScoredAnswer], calls: dict[str, MinedCall],
                  min_calls: int) -> list[ObjectionResponses]:
    """Per objection: the response groups and the agents, ranked where there are enough calls.
    ``scored`` in the calls' order (oldest first); ``calls`` by id."""
    groups: dict[str, dict[str, dict[str, MinedCall]]] = defaultdict(lambda: defaultdict(dict))
    turns: dict[str, dict[str, list[UtteranceRef]]] = defaultdict(lambda: defaultdict(list))
    agents: dict[str, dict[str | None, dict[str, MinedCall]]] = defaultdict(lambda: defaultdict(dict))
    names: dict[str, str] = {}
    texts: dict[str, str] = {}
    examples: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for answer in scored:
        call = calls[answer.call_id]
        names[answer.intent] = answer.name
        texts.setdefault(answer.response, answer.text)
        groups[answer.intent][answer.response][call.call_id] = call
        turns[answer.intent][answer.response] += answer.turns
        said = examples[answer.intent][answer.response]
        if answer.said and answer.said not in said and len(said) < GROUP_EXAMPLES:
            said.append(answer.said)
        agents[answer.intent][call.agent_id][call.call_id] = call
    out = []
    for intent in sorted(groups, key=lambda i: -len({c for g in groups[i].values() for c in g})):
        rows = [ResponseGroup(response=ref, text=texts[ref], turns=turns[intent][ref], examples=examples[intent][ref],
                              call_ids=list(members), **rate_fields(sum(c.succeeded for c in members.values()), len(members)))
                for ref, members in groups[intent].items()]
        by_agent = [AgentRate(agent_id=agent, call_ids=list(members),
                              **rate_fields(sum(c.succeeded for c in members.values()), len(members)))
                    for agent, members in agents[intent].items()]
        all_calls = {c for g in groups[intent].values() for c in g}
        out.append(ObjectionResponses(intent=intent, name=names[intent], language=language, calls=len(all_calls),
                                      groups=rank(rows, min_calls), by_agent=rank(by_agent, min_calls)))
    return out


def what_works(corpus: Corpus, engines: dict[str, CoachEngine], min_calls: int,
               deadline: Deadline | None = None) -> list[ObjectionResponses]:
    """Per language and objection: the response groups and the agents, ranked where there are enough
    calls (the corpus as one page: :func:`score_answers`, then :func:`tally_answers`)."""
    deadline = deadline or Deadline(None)
    by_id = {call.call_id: call for call in corpus.calls}
    out: list[ObjectionResponses] = []
    for language, engine in engines.items():
        scored = score_answers((c for c in corpus.calls if c.language == language), lambda e=engine: ResponseMatcher(e))
        deadline.check("matching answers to the playbook")
        out += tally_answers(language, scored, by_id, min_calls)
    return out
