"""Mining page by page: what one page of stored calls gives each part, and how the pages are put
together.

Both ways of mining run these functions: the plain one (:func:`coach.mining.miner.mine`, one process,
page after page) and the Ray one (:mod:`coach.mining.distributed`, pages in actors that read them from
the database themselves). A page is read (:func:`coach.mining.corpus.read_page`) and digested where it
was read: the embedding work (the agents' answers matched to the playbook's responses, the debtors'
utterances embedded and ordinary answers set aside) happens there, and only a compact
:class:`MinedPage` is kept: the calls without their transcripts (their facts and intent events, what
the landscape counts), the answers already scored, and the candidate utterances with their vectors.
:func:`mine_pages` then puts the pages in the calls' order and computes the figures: the landscape and
the response tallies from those, the clusters by density over every page's vectors (global, so it
runs where the pages are gathered).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

from coach.config import Settings, get_settings
from coach.engine import CoachEngine, get_engine
from coach.errors import InputError
from coach.mining.claims import claimed_again
from coach.mining.clusters import CandidateRows, cluster_candidates, page_candidates
from coach.mining.corpus import Deadline, MinedCall, corpus_of
from coach.mining.intents import intent_landscape
from coach.mining.models import MiningResult, Window
from coach.mining.options import PARTS, MiningOptions
from coach.mining.ordinary import OrdinaryAnswers
from coach.mining.responses import ResponseMatcher, ScoredAnswer, score_answers, tally_answers
from coach.mining.space import SharedEncoder
from coach.playbook import load_playbook
from coach.storage import CallFilter


@dataclass
class MinedPage:
    """What one page of calls gives mining (compact: no transcript travels back)."""

    #: The page's calls without their utterances (their facts and intent events).
    calls: list[MinedCall] = field(default_factory=list)
    #: The playbook (engine ref) each language was read with.
    playbooks: dict[str, str] = field(default_factory=dict)
    #: Per language: the answered objections with their response group (``responses``).
    answers: dict[str, list[ScoredAnswer]] = field(default_factory=dict)
    #: Per language: the utterances that may be a topic, with their vectors (``clusters``).
    candidates: dict[str, CandidateRows] = field(default_factory=dict)


def check_parts(options: MiningOptions) -> None:
    unknown = set(options.parts) - set(PARTS)
    if unknown:
        raise InputError(f"unknown part(s) {', '.join(sorted(unknown))}; use {', '.join(PARTS)}")


def engine_for(language: str, playbook: str | None, settings: Settings | None = None) -> CoachEngine:
    """The engine ``language``'s calls are read with: ``playbook`` if it is of that language, else the default."""
    settings = settings or get_settings()
    chosen = load_playbook(playbook) if playbook else None
    return get_engine(playbook if chosen is not None and chosen.language == language else None, language=language,
                      settings=settings)


class PageDigester:
    """Digests pages of calls into :class:`MinedPage`; holds each language's engine, response matcher
    and ordinary-answer filter, loaded on first need, once per process (or Ray actor); every part,
    the intents table too, reads a language's calls with its engine (:mod:`coach.mining.claims`).
    ``engines`` given: only those languages get responses and clusters, as
    :func:`coach.mining.miner.mine` promises."""

    def __init__(self, parts: Iterable[str], *, playbook: str | None = None, settings: Settings | None = None,
                 engines: dict[str, CoachEngine] | None = None) -> None:
        self.parts = frozenset(parts)
        self.playbook = playbook
        self.settings = settings
        self.fixed = engines is not None
        self.engines: dict[str, CoachEngine] = dict(engines or {})
        self._matchers: dict[str, ResponseMatcher] = {}
        self._ordinary: dict[str, OrdinaryAnswers] = {}

    def engine(self, language: str) -> CoachEngine | None:
        if language not in self.engines:
            if self.fixed:
                return None
            self.engines[language] = engine_for(language, self.playbook, self.settings)
        return self.engines[language]

    def matcher(self, language: str) -> ResponseMatcher:
        if language not in self._matchers:
            self._matchers[language] = ResponseMatcher(self.engines[language])
        return self._matchers[language]

    def ordinary(self, language: str) -> OrdinaryAnswers:
        if language not in self._ordinary:
            self._ordinary[language] = OrdinaryAnswers(self.engines[language])
        return self._ordinary[language]

    def __call__(self, calls: list[MinedCall]) -> MinedPage:
        page = MinedPage()
        read: dict[str, MinedCall] = {}
        for language in dict.fromkeys(c.language for c in calls):
            engine = self.engine(language)
            if engine is None:
                continue
            page.playbooks[language] = engine.ref
            encoder = SharedEncoder(engine)  # a debtor line claimed again is not embedded again for the clusters
            spoken = claimed_again([c for c in calls if c.language == language], engine, encoder.encode)
            read.update((c.call_id, c) for c in spoken)
            if "responses" in self.parts:
                page.answers[language] = score_answers(spoken, lambda: self.matcher(language))
            if "clusters" in self.parts:
                page.candidates[language] = page_candidates(spoken, engine, lambda: self.ordinary(language),
                                                            encoder.encode)
        page.calls = [dataclasses.replace(read.get(c.call_id, c), utterances=[]) for c in calls]
        return page


def chunks(calls: list[MinedCall], size: int) -> Iterable[list[MinedCall]]:
    for start in range(0, len(calls), size):
        yield calls[start:start + size]


def mine_pages(pages: list[MinedPage], filters: CallFilter, options: MiningOptions, *, truncated: bool,
               languages: Iterable[str] | None = None, deadline: Deadline | None = None) -> MiningResult:
    """The figures of the pages together. ``languages``: the order responses and clusters are listed
    in (default: alphabetical)."""
    deadline = deadline or Deadline(None)
    corpus = corpus_of([c for p in pages for c in p.calls], truncated=truncated, max_calls=options.max_calls)
    playbooks: dict[str, str] = {}
    for page in pages:
        playbooks.update(page.playbooks)
    order = [language for language in (languages if languages is not None else sorted(playbooks)) if language in playbooks]
    by_id = {call.call_id: call for call in corpus.calls}
    rank = {call.call_id: n for n, call in enumerate(corpus.calls)}
    result = MiningResult(window=Window(
        calls=len(corpus.calls), truncated=corpus.truncated, max_calls=options.max_calls, since=filters.date_from,
        until=filters.date_to, weeks=corpus.weeks, languages=corpus.languages(),
        playbooks={language: playbooks[language] for language in order}, min_calls=options.min_calls))
    if "intents" in options.parts:
        result.intents = intent_landscape(corpus)
    if "responses" in options.parts:
        result.responses = []
        for language in order:
            scored = sorted((a for p in pages for a in p.answers.get(language, [])), key=lambda a: rank[a.call_id])
            result.responses += tally_answers(language, scored, by_id, options.min_calls)
    if "clusters" in options.parts:
        result.clusters = []
        for language in order:
            rows = CandidateRows.joined([p.candidates[language] for p in pages if language in p.candidates], rank)
            found = cluster_candidates(language, rows, by_id, corpus.weeks,
                                       min_cluster_size=options.min_cluster_size, deadline=deadline)
            result.clusters += found.clusters
            if found.unclustered is not None:
                result.unclustered.append(found.unclustered)
    return result
