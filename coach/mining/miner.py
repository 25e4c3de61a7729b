"""Mining in one call: read the calls, then compute the parts asked for.

``mine()`` is what the command line, the REST API and the HTML report all run. The intents landscape
needs only the stored events; responses and clusters need each language's engine (its embedding
space and playbook), loaded once per process like everywhere else.
"""

from __future__ import annotations

from coach.config import Settings, get_settings
from coach.engine import CoachEngine, get_engine
from coach.errors import InputError
from coach.mining.clusters import find_clusters
from coach.mining.corpus import Corpus, Deadline, load_corpus
from coach.mining.intents import intent_landscape
from coach.mining.models import MiningResult, Window
from coach.mining.options import PARTS, MiningOptions
from coach.mining.responses import what_works
from coach.playbook import load_playbook
from coach.storage import CallFilter, CallStore, Viewer


def mine(store: CallStore, filters: CallFilter | None = None, viewer: Viewer | None = None,
         options: MiningOptions | None = None, *, settings: Settings | None = None,
         engines: dict[str, CoachEngine] | None = None) -> MiningResult:
    """Mine the calls matching ``filters`` that ``viewer`` may see. ``engines`` (by language) replace
    the ones :func:`engines_for` would load."""
    options = options or MiningOptions()
    unknown = set(options.parts) - set(PARTS)
    if unknown:
        raise InputError(f"unknown part(s) {', '.join(sorted(unknown))}; use {', '.join(PARTS)}")
    filters = filters or CallFilter()
    deadline = Deadline.after(options.timeout_seconds)
    corpus = load_corpus(store, filters, viewer, max_calls=options.max_calls, deadline=deadline)
    return mine_corpus(corpus, filters, options, settings=settings, engines=engines, deadline=deadline)


def mine_corpus(corpus: Corpus, filters: CallFilter, options: MiningOptions, *, settings: Settings | None = None,
                engines: dict[str, CoachEngine] | None = None, deadline: Deadline | None = None) -> MiningResult:
    """Mine calls already read (see :func:`coach.mining.corpus.load_corpus`)."""
    deadline = deadline or Deadline.after(options.timeout_seconds)
    needs_engines = bool({"responses", "clusters"} & set(options.parts))
    if engines is None:
        engines = engines_for(corpus, options.playbook, settings) if needs_engines else {}
    engines = {language: engine for language, engine in engines.items() if language in corpus.languages()}
    result = MiningResult(window=_window(corpus, filters, options, engines))
    if "intents" in options.parts:
        result.intents = intent_landscape(corpus)
    if "responses" in options.parts:
        result.responses = what_works(corpus, engines, options.min_calls, deadline)
    if "clusters" in options.parts:
        result.clusters = find_clusters(corpus, engines, min_cluster_size=options.min_cluster_size, deadline=deadline)
    return result


def engines_for(corpus: Corpus, playbook: str | None, settings: Settings | None = None) -> dict[str, CoachEngine]:
    """The engine of each language in ``corpus``: ``playbook`` for its own language, the default elsewhere."""
    settings = settings or get_settings()
    chosen = load_playbook(playbook) if playbook else None
    return {language: get_engine(playbook if chosen is not None and chosen.language == language else None,
                                 language=language, settings=settings)
            for language in corpus.languages()}


def _window(corpus: Corpus, filters: CallFilter, options: MiningOptions, engines: dict[str, CoachEngine]) -> Window:
    return Window(calls=len(corpus.calls), truncated=corpus.truncated, max_calls=options.max_calls,
                  since=filters.date_from, until=filters.date_to, weeks=corpus.weeks, languages=corpus.languages(),
                  playbooks={language: engine.ref for language, engine in engines.items()}, min_calls=options.min_calls)
