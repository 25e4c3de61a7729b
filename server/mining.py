"""``/v1/mining``: what trainers mine from the stored calls (docs/mining.md), over the same filters as
``/v1/calls``. Coaches and supervisors see what their team's calls say (the store scopes them); agents
and integrations may not mine.

Mining reads many calls and runs the embedding model: it runs on a worker thread of its own, one
request at a time (a trainer's question must never starve a live call of CPU), with at most three waiting
per token holder and eight in all (past that, 503 at once: :class:`server.limits.WorkQueue`), on at most
``COACH_MINING_MAX_CALLS`` calls (the newest) and for at most ``COACH_MINING_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel

from coach.config import Settings
from coach.mining import MiningOptions, MiningResult, MiningSettings, mine
from coach.mining.models import Cluster, IntentFigures, ObjectionResponses, Unclustered, Window
from coach.mining.options import DEFAULT_MIN_CALLS, DEFAULT_MIN_CLUSTER_SIZE
from coach.playbook.registry import PlaybookRegistry
from coach.storage import CallFilter, CallStore, Viewer
from server.api import REPORT_HEADERS, REPORTS, call_filter, holder
from server.auth import get_store, require
from server.limits import WorkQueue

MINERS = ("coach", "supervisor", "trainer", "admin")
#: The trainer page (server/static): charts over these routes, signed in with the review page's token.
STATIC_PAGE = "trainer.html"
#: The trainer page asks for its three parts (intents, responses, clusters) at once.
MINING = WorkQueue("mining runs", total=8, per_holder=3)

router = APIRouter(prefix="/v1/mining", tags=["mining"])
Miner = Annotated[Viewer, Depends(require(*MINERS))]
Store = Annotated[CallStore, Depends(get_store)]
Filters = Annotated[CallFilter, Depends(call_filter)]


class IntentsAnswer(BaseModel):
    window: Window
    intents: list[IntentFigures]


class ResponsesAnswer(BaseModel):
    window: Window
    responses: list[ObjectionResponses]


class ClustersAnswer(BaseModel):
    window: Window
    clusters: list[Cluster]
    unclustered: list[Unclustered]


def mining_options(
    request: Request,
    min_calls: Annotated[int, Query(ge=1, le=100_000, description="Fewer calls: shown, not ranked")] = DEFAULT_MIN_CALLS,
    min_cluster_size: Annotated[int, Query(ge=2, le=10_000)] = DEFAULT_MIN_CLUSTER_SIZE,
    max_calls: Annotated[int | None, Query(ge=1, description="Mine at most the newest N calls (capped by "
                                                             "COACH_MINING_MAX_CALLS)")] = None,
    playbook: Annotated[str | None, Query(max_length=200, description="An installed playbook's id (GET /v1/playbooks) "
                                                                      "for its language's calls")] = None,
) -> MiningOptions:
    limits: MiningSettings = request.app.state.mining
    settings: Settings = request.app.state.settings
    book = PlaybookRegistry.from_settings(settings).reference(playbook) if playbook else None  # ids only, never a path
    return MiningOptions(max_calls=min(max_calls or limits.max_calls, limits.max_calls), min_calls=min_calls,
                         min_cluster_size=min_cluster_size, timeout_seconds=limits.timeout_seconds or None,
                         playbook=book)


Options = Annotated[MiningOptions, Depends(mining_options)]


async def _mine(request: Request, store: CallStore, filters: CallFilter, viewer: Viewer, options: MiningOptions,
                parts: set[str]) -> MiningResult:
    settings: Settings = request.app.state.settings
    options = dataclasses.replace(options, parts=frozenset(parts))
    return await MINING.run(holder(viewer), lambda: mine(store, filters, viewer, options, settings=settings))


@router.get("/intents", response_model=IntentsAnswer)
async def mining_intents(request: Request, viewer: Miner, store: Store, filters: Filters, options: Options) -> IntentsAnswer:
    """Per intent: calls, utterances, share of calls, weekly trend, and the split by language, team and
    agent, each with the calls and utterances behind it."""
    result = await _mine(request, store, filters, viewer, options, {"intents"})
    return IntentsAnswer(window=result.window, intents=result.intents)


@router.get("/responses", response_model=ResponsesAnswer)
async def mining_responses(request: Request, viewer: Miner, store: Store, filters: Filters,
                           options: Options) -> ResponsesAnswer:
    """Per objection: the agents' answers by the playbook response they resemble (or off script), how
    often the call ended in a promise to pay or a payment, with Wilson intervals; per agent too."""
    result = await _mine(request, store, filters, viewer, options, {"responses"})
    return ResponsesAnswer(window=result.window, responses=result.responses)


@router.get("/clusters", response_model=ClustersAnswer)
async def mining_clusters(request: Request, viewer: Miner, store: Store, filters: Filters,
                          options: Options) -> ClustersAnswer:
    """What debtors say that no intent stands for, clustered: candidate objections, each with every member."""
    result = await _mine(request, store, filters, viewer, options, {"clusters"})
    return ClustersAnswer(window=result.window, clusters=result.clusters, unclustered=result.unclustered)


@router.get("/report", response_class=HTMLResponse, tags=["reports"])
async def mining_report(request: Request, viewer: Miner, store: Store, filters: Filters,
                        options: Options) -> HTMLResponse:
    """All three as one self-contained HTML report (what ``coach mine --report`` writes)."""
    from coach.mining.report import render_mining_report

    result = await _mine(request, store, filters, viewer, options, {"intents", "responses", "clusters"})
    # the report's styles are inline, as a call report's: served as one, in a sandbox of no origin
    return HTMLResponse(await REPORTS.run(holder(viewer), lambda: render_mining_report(result)), headers=REPORT_HEADERS)


def install(app: FastAPI, limits: MiningSettings | None = None, static: Path | None = None) -> None:
    """Add the routes, with the mining limits (default: from the environment), and the trainer page
    ``/trainer`` from the ``static`` folder. The page itself needs no token, like the review page: it
    holds no data, and asks for a token before it calls the API."""
    app.state.mining = limits or MiningSettings()
    app.include_router(router)
    if static is not None:
        @app.get("/trainer", include_in_schema=False)
        def trainer_page() -> FileResponse:
            return FileResponse(static / STATIC_PAGE)
