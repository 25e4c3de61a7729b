"""``coach mine --ray``: the plain mining's pages, read and digested in Ray actors where the work runs.

The driver lists the matching calls in pages (their facts only: ids, dates, team, agent, outcome; the
same :class:`~coach.storage.CallFilter`, order and ``max_calls`` cut as the plain path,
:func:`coach.mining.corpus.summary_pages`) and hands each page to an actor. Each actor opens its own
connection to the database (from its URL; it only reads, and never creates or migrates tables), reads
its pages' transcripts and intent events there (:func:`coach.mining.corpus.read_page`) and digests them
(:class:`coach.mining.pages.PageDigester`: the engines, the embedding model among them, loaded once per
actor). Only a compact :class:`~coach.mining.pages.MinedPage` comes back: the calls without their
transcripts, the scored answers, and the candidate utterances with their vectors (float32). The
driver then computes the figures as the plain path does (:func:`coach.mining.pages.mine_pages`):
density clustering is global, so it runs there, over every page's vectors.

Same pages, same functions: the result is the plain ``coach mine``'s. ``import ray`` happens only here,
and only when asked for.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from coach.config import Settings, get_settings
from coach.errors import CoachError, ConfigError, InputError
from coach.mining.corpus import Deadline, MinedCall, check_filters, corpus_of, read_page, summary_pages
from coach.mining.models import MiningResult
from coach.mining.options import MiningOptions
from coach.mining.pages import MinedPage, PageDigester, check_parts, mine_pages
from coach.storage import CallFilter, CallStore, CallSummary, Viewer


class PageReader:
    """A Ray actor: its own read connection to the database and its own engines; pages in, digests out."""

    def __init__(self, database_url: str, settings: Settings | None, parts: Iterable[str], playbook: str | None,
                 viewer: Viewer | None) -> None:
        self.store = CallStore(database_url, settings, create=False)
        self.viewer = viewer
        self.digest = PageDigester(parts, playbook=playbook, settings=settings)

    def mine(self, page: list[CallSummary]) -> MinedPage:
        calls: list[MinedCall] = read_page(self.store, page, self.viewer)
        return self.digest(calls)


@contextlib.contextmanager
def mining_ray_session(address: str | None = None, *, num_cpus: int | None = None, verbose: bool = False) -> Iterator[Any]:
    """Ray for the length of the mining, joined as ``coach review --ray`` joins it
    (:func:`coach.review.distributed.ray_session`: a local Ray of its own by default, never a cluster
    that ``ray start`` left recorded; an address that does not answer is refused within seconds, one
    that answers but does not let us join within 15 s)."""
    from coach.review.distributed import ray_session

    with contextlib.ExitStack() as stack:
        try:
            ray = stack.enter_context(ray_session(address, num_cpus=num_cpus, verbose=verbose))
        except InputError as exc:  # the same refusal, in mining's words
            raise InputError(exc.message.replace("nothing was reviewed", "nothing was mined"), hint=exc.hint) from None
        yield ray


def mine_on_ray(store: CallStore, filters: CallFilter | None = None, viewer: Viewer | None = None,
                options: MiningOptions | None = None, *, settings: Settings | None = None,
                database_url: str | None = None, actors: int | None = None) -> MiningResult:
    """:func:`coach.mining.miner.mine` on Ray (joined by :func:`mining_ray_session`): ``store`` lists
    the pages; ``actors`` (default: one per CPU of the cluster, at most one per page) read and digest
    them from ``database_url`` (default: ``store``'s). The same result as the plain mining."""
    import ray
    from ray.util import ActorPool

    options = options or MiningOptions()
    check_parts(options)
    filters = filters or CallFilter()
    check_filters(filters)
    settings = settings or get_settings()
    if settings.device != "cpu":
        raise ConfigError(f"--ray mines on CPUs only, and COACH_DEVICE is {settings.device!r}",
                          hint="unset COACH_DEVICE (or set it to cpu) for --ray, or mine without --ray on this GPU")
    deadline = Deadline.after(options.timeout_seconds)
    listed = list(summary_pages(store, filters, viewer, max_calls=options.max_calls))
    pages = [page for page, _ in listed if page]
    truncated = any(cut for _, cut in listed)
    if not pages:
        corpus_of([], truncated=truncated, max_calls=options.max_calls)  # the plain path's "no calls match"
    url = database_url or store.engine.url.render_as_string(hide_password=False)
    cpus = float(ray.cluster_resources().get("CPU", 1))
    count = actors or max(1, min(len(pages), int(cpus)))
    reader = ray.remote(PageReader).options(num_cpus=min(1.0, cpus / count))
    pool = [reader.remote(url, settings, options.parts, options.playbook, viewer) for _ in range(count)]
    mined: list[MinedPage] = []
    try:
        for page in ActorPool(pool).map(lambda actor, summaries: actor.mine.remote(summaries), pages):
            mined.append(page)
            deadline.check("reading calls")
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, CoachError):
            raise cause from None
        raise
    finally:
        for actor in pool:
            ray.kill(actor)
    return mine_pages(mined, filters, options, truncated=truncated, deadline=deadline)
