"""Mining in one call: read the calls page by page, digest each page, then compute the parts asked for.

``mine()`` is what the command line, the REST API and the HTML report all run, in one process; ``coach
mine --ray`` runs the same per-page functions in Ray actors (:mod:`coach.mining.distributed`). The
intents landscape needs only the stored events; responses and clusters need each language's engine
(its embedding space and playbook), loaded once per process like everywhere else.
"""

from __future__ import annotations

from coach.config import Settings
from coach.engine import CoachEngine
from coach.mining.corpus import PAGE_SIZE, Corpus, Deadline, check_filters, read_page, summary_pages
from coach.mining.models import MiningResult
from coach.mining.options import MiningOptions
from coach.mining.pages import PageDigester, check_parts, chunks, engine_for, mine_pages
from coach.storage import CallFilter, CallStore, Viewer


def mine(store: CallStore, filters: CallFilter | None = None, viewer: Viewer | None = None,
         options: MiningOptions | None = None, *, settings: Settings | None = None,
         engines: dict[str, CoachEngine] | None = None) -> MiningResult:
    """Mine the calls matching ``filters`` that ``viewer`` may see. ``engines`` (by language) replace
    the ones :func:`engines_for` would load."""
    options = options or MiningOptions()
    check_parts(options)
    filters = filters or CallFilter()
    check_filters(filters)
    deadline = Deadline.after(options.timeout_seconds)
    digest = PageDigester(options.parts, playbook=options.playbook, settings=settings, engines=engines)
    pages, truncated = [], False
    for summaries, cut in summary_pages(store, filters, viewer, max_calls=options.max_calls):
        pages.append(digest(read_page(store, summaries, viewer)))
        truncated |= cut
        deadline.check("reading calls")
    return mine_pages(pages, filters, options, truncated=truncated, languages=list(engines) if engines is not None else None,
                      deadline=deadline)


def mine_corpus(corpus: Corpus, filters: CallFilter, options: MiningOptions, *, settings: Settings | None = None,
                engines: dict[str, CoachEngine] | None = None, deadline: Deadline | None = None) -> MiningResult:
    """Mine calls already read (see :func:`coach.mining.corpus.load_corpus`), in pages as :func:`mine` does."""
    check_parts(options)
    deadline = deadline or Deadline.after(options.timeout_seconds)
    digest = PageDigester(options.parts, playbook=options.playbook, settings=settings, engines=engines)
    pages = []
    for calls in chunks(corpus.calls, PAGE_SIZE):
        pages.append(digest(calls))
        deadline.check("reading what debtors said")
    return mine_pages(pages, filters, options, truncated=corpus.truncated,
                      languages=list(engines) if engines is not None else None, deadline=deadline)


def engines_for(corpus: Corpus, playbook: str | None, settings: Settings | None = None) -> dict[str, CoachEngine]:
    """The engine of each language in ``corpus``: ``playbook`` for its own language, the default elsewhere."""
    return {language: engine_for(language, playbook, settings) for language in corpus.languages()}
