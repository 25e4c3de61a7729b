"""REST API for recorded calls under ``/v1``: upload, list with filters, detail, events, scorecard,
notes, audio and reports. Every route needs an API token; what a token sees depends on its role."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

from coach import jsontext
from coach.audio.files import audio_media_type
from coach.config import Settings
from coach.errors import CoachError, InputError, NotFoundError
from coach.outcome import OutcomeKind
from coach.playbook.registry import PlaybookRegistry
from coach.review.pipeline import ReviewRequest, call_metadata, check_request, parse_roles, review_into_store
from coach.storage import CallDetail, CallFilter, CallStore, CallSummary, NoteRecord, Viewer
from coach.storage.records import call_id_problem
from coach.transcript import MAX_METADATA_CHARS
from server import errors, playbooks
from server.auth import current_viewer, get_store, require
from server.body_limits import BodyLimit
from server.limits import WorkQueue

#: Reviews run one at a time beside the live calls, so an upload never starves a live call of CPU;
#: a holder may have two waiting, everyone eight (server.limits.WorkQueue).
REVIEWS = WorkQueue("reviews", total=8, per_holder=2)
#: Reports too: a long call's report takes seconds to build and can be tens of megabytes.
REPORTS = WorkQueue("reports", total=4, per_holder=2)


def holder(viewer: Viewer) -> str:
    """Whose share of a work queue a request takes: the token's user."""
    return f"{viewer.role}:{viewer.name}"


REVIEWERS = ("coach", "supervisor", "trainer", "admin")
#: Roles scoped to one team (they see, upload and annotate that team's calls).
TEAM_ROLES = ("coach", "supervisor")
UPLOAD_CHUNK = 1 << 20

router = APIRouter(prefix="/v1", tags=["calls"])
Reader = Annotated[Viewer, Depends(current_viewer)]
Store = Annotated[CallStore, Depends(get_store)]
#: A call id in a path: never longer than the ids the store keeps.
CallId = Annotated[str, PathParam(max_length=200)]
#: A note's id: the database's integer (32 bits in PostgreSQL); a larger one is no note (a 500 before).
NoteId = Annotated[int, PathParam(ge=1, le=2_147_483_647)]
SEVERITIES = ("S1", "S2", "S3", "S4")
Status = Literal["live", "complete", "interrupted"]
EventType = Literal["utterance", "sentiment", "intent", "compliance", "scorecard", "error"]


class CallList(BaseModel):
    calls: list[CallSummary]
    limit: int
    offset: int


class UploadResult(BaseModel):
    call: CallSummary
    #: True when this file had been uploaded before: the stored call is returned, nothing is added.
    duplicate: bool
    #: The earlier review of this file that this one replaced: the upload named another language or
    #: playbook than it was reviewed with (and the uploader may see it).
    replaced: str | None = None
    #: A duplicate only: what this upload named that the stored call keeps as it was (``call_id``,
    #: ``agent_id``, ``team``, ``metadata``), so a client learns its fields were not used.
    ignored: list[str] = Field(default_factory=list)


class NewNote(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)
    #: The utterance the note is about; omit for a note on the whole call.
    utterance_id: int | None = None


class EditedNote(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)


class Me(BaseModel):
    """Who a token belongs to and what it is scoped to."""

    name: str
    role: str
    agent_id: str | None
    team: str | None


def call_filter(
    request: Request,
    agent_id: Annotated[str | None, Query(max_length=200)] = None, team: Annotated[str | None, Query(max_length=200)] = None,
    language: Literal["en", "zh"] | None = None,
    violation: Annotated[str | None, Query(max_length=100, description="A rule id of an installed playbook (e.g. "
                                                                         "US-THREAT) or a severity (S1-S4), exact case")] = None,
    outcome: OutcomeKind | None = None, status: Status | None = None,
    date_from: Annotated[date | None, Query(description="The call's start (else when it was stored), from this day")] = None,
    date_to: Annotated[date | None, Query(description="... up to and including this day")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100, offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    include_demo: Annotated[bool, Query(description="Also list demo calls (bundled samples played from the "
                                                    "console or with coach replay)")] = False,
) -> CallFilter:
    """Filters that say what they accept: a value outside the allowed ones is a 422 naming the
    parameter and the values allowed, never an empty list."""
    if violation is not None and violation not in SEVERITIES:
        settings: Settings = request.app.state.settings
        rules = sorted(PlaybookRegistry.from_settings(settings).rule_ids())
        if violation not in rules:
            raise errors.invalid_parameter(
                "violation", f"Input should be S1, S2, S3, S4 or a rule id of an installed playbook: {', '.join(rules)}",
                violation)
    if date_from and date_to and date_from > date_to:
        raise errors.invalid_parameter("date_to", f"date_to ({date_to}) is before date_from ({date_from})", str(date_to))
    return CallFilter(agent_id=agent_id, team=team, language=language, violation=violation, outcome=outcome,
                      status=status, date_from=date_from, date_to=date_to, limit=limit, offset=offset,
                      include_demo=include_demo)


@router.get("/me", response_model=Me, tags=["auth"])
async def whoami(viewer: Reader) -> Me:
    """The token's name and role, and the agent or team whose calls it sees (the review page asks,
    to show only what the role may do)."""
    return Me(name=viewer.name, role=viewer.role, agent_id=viewer.agent_id, team=viewer.team)


@router.get("/calls", response_model=CallList)
async def list_calls(viewer: Reader, store: Store, filters: Annotated[CallFilter, Depends(call_filter)]) -> CallList:
    """Calls this token may see, newest first."""
    calls = await asyncio.to_thread(store.list_calls, filters, viewer)
    return CallList(calls=calls, limit=filters.limit, offset=filters.offset)


@router.post("/calls", response_model=UploadResult, status_code=201,
             responses={200: {"model": UploadResult, "description": "The same file was uploaded before"},
                        413: {"description": "The upload is larger than COACH_MAX_UPLOAD_BYTES"}})
async def upload_call(
    request: Request, store: Store, viewer: Annotated[Viewer, Depends(require(*REVIEWERS))],
    file: Annotated[UploadFile, File(description="Audio (wav, flac, mp3, ogg...) or a transcript (JSON, JSON Lines)")],
    language: Annotated[str | None, Form(max_length=20)] = None,
    playbook: Annotated[str | None, Form(max_length=200, description="An installed playbook's id (GET /v1/playbooks)")] = None,
    roles: Annotated[str, Form(max_length=200, description="Who is on each channel of a two-channel recording, in "
                                                        "channel order: agent, debtor, third_party or unknown, none "
                                                        "twice, e.g. agent,debtor (mono: not used)")] = "agent,debtor",
    call_id: Annotated[str | None, Form(max_length=200)] = None, agent_id: Annotated[str | None, Form(max_length=200)] = None,
    team: Annotated[str | None, Form(max_length=200)] = None,
    metadata: Annotated[str | None, Form(max_length=MAX_METADATA_CHARS, description="JSON object: debtor_timezone, balance, ...")] = None,
) -> JSONResponse:
    """Review a recording or transcript and store it (runs to completion before answering)."""
    settings: Settings = request.app.state.settings
    if language not in (None, "", "en", "zh", "auto"):
        raise InputError(f"unknown language {errors.clip(language)}; use en, zh or auto (recordings: the language spoken)")
    if viewer.role in TEAM_ROLES and team and team != viewer.team:
        raise HTTPException(status_code=403, detail=f"a {viewer.role} of team {viewer.team!r} cannot upload calls for team {team!r}")
    if call_id and (problem := call_id_problem(call_id)) is not None:  # refused before the upload is read
        raise InputError(f"call_id {errors.clip(call_id)} {problem}")
    # An installed playbook's id, never a path on this server.
    book = PlaybookRegistry.from_settings(settings).reference(playbook or None)
    review = ReviewRequest(
        language=language or None, playbook=book, channel_roles=parse_roles(roles),
        call_id=call_id or None, agent_id=agent_id or None, team=team or (viewer.team if viewer.role in TEAM_ROLES else None),
        metadata=_metadata(metadata),
    )
    check_request(review)  # roles and playbook refused (422) before the upload is saved, let alone decoded
    with tempfile.TemporaryDirectory(prefix="coach-upload-") as folder:
        path = Path(folder) / _safe_name(file.filename)
        try:
            await _save_upload(file, path, settings.max_upload_bytes)
            stored = await REVIEWS.run(holder(viewer), lambda: review_into_store(store, path, review, source="upload",
                                                                                 settings=settings, viewer=viewer))
        except CoachError as exc:  # the client knows its file by its own name, not by our temporary path
            for attribute in ("message", "hint"):
                if getattr(exc, attribute):
                    setattr(exc, attribute, getattr(exc, attribute).replace(str(path), path.name).replace(folder, ""))
            raise
    try:
        summary = await asyncio.to_thread(store.get_call, stored.call_id, viewer)
    except NotFoundError:  # stored before, by someone whose calls this token may not see: say no more
        raise HTTPException(status_code=409, detail="this file was already uploaded, to calls you cannot see") from None
    ignored = [name for name, given, kept in (("call_id", call_id, summary.id), ("agent_id", agent_id, summary.agent_id),
                                              ("team", team, summary.team), ("metadata", metadata, None))
               if stored.duplicate and given and given != kept]
    result = UploadResult(call=CallSummary(**summary.model_dump(include=set(CallSummary.model_fields))),
                          duplicate=stored.duplicate, replaced=stored.replaced, ignored=ignored)
    return JSONResponse(result.model_dump(mode="json"), status_code=200 if stored.duplicate else 201)


@router.get("/calls/{call_id}", response_model=CallDetail)
async def call_detail(call_id: CallId, viewer: Reader, store: Store) -> CallDetail:
    """The call with its (redacted) transcript, outcome, summary and what was masked."""
    return await asyncio.to_thread(store.get_call, call_id, viewer)


@router.get("/calls/{call_id}/events")
async def call_events(call_id: CallId, viewer: Reader, store: Store,
                      type: Annotated[list[EventType] | None, Query(description="Only these event types")] = None) -> list[dict[str, Any]]:
    """The call's events in order, the same JSON as the live stream (docs/events.md)."""
    return await asyncio.to_thread(store.events, call_id, viewer, type)


@router.get("/calls/{call_id}/scorecard")
async def call_scorecard(call_id: CallId, viewer: Reader, store: Store) -> dict[str, Any]:
    scorecard = await asyncio.to_thread(store.scorecard, call_id, viewer)
    if scorecard is None:
        raise NotFoundError(f"call {call_id!r} has no scorecard yet (still live?)")
    return scorecard


@router.get("/calls/{call_id}/notes", response_model=list[NoteRecord])
async def call_notes(call_id: CallId, viewer: Reader, store: Store) -> list[NoteRecord]:
    return await asyncio.to_thread(store.notes, call_id, viewer)


@router.post("/calls/{call_id}/notes", response_model=NoteRecord, status_code=201)
async def add_note(call_id: CallId, note: NewNote, store: Store,
                   viewer: Annotated[Viewer, Depends(require(*REVIEWERS))]) -> NoteRecord:
    """A coach's note on the call or on one utterance."""
    return await asyncio.to_thread(store.add_note, call_id, note.text, viewer.name, note.utterance_id, viewer)


@router.patch("/calls/{call_id}/notes/{note_id}", response_model=NoteRecord)
async def edit_note(call_id: CallId, note_id: NoteId, note: EditedNote, store: Store,
                    viewer: Annotated[Viewer, Depends(require(*REVIEWERS))]) -> NoteRecord:
    """Correct a note: its author (the token's name) only, so a note never says what another wrote; the
    note shows when it was edited."""
    return await asyncio.to_thread(store.edit_note, call_id, note_id, note.text, viewer)


@router.delete("/calls/{call_id}/notes/{note_id}", status_code=204)
async def delete_note(call_id: CallId, note_id: NoteId, store: Store,
                      viewer: Annotated[Viewer, Depends(require(*REVIEWERS))]) -> None:
    """Take a note back: its author may, or an admin (tidying up)."""
    await asyncio.to_thread(store.delete_note, call_id, note_id, viewer)


@router.delete("/calls/{call_id}", status_code=204)
async def delete_call(call_id: CallId, store: Store, viewer: Annotated[Viewer, Depends(require("admin"))]) -> None:
    await asyncio.to_thread(store.delete_call, call_id)


@router.get("/calls/{call_id}/audio", response_class=FileResponse)
async def call_audio(call_id: CallId, request: Request, viewer: Reader, store: Store) -> FileResponse:
    """The recording, for the review page's player (supports range requests for seeking)."""
    relative = await asyncio.to_thread(store.audio_path, call_id, viewer)
    settings: Settings = request.app.state.settings
    path = (settings.data_dir / relative) if relative else None
    if path is None or not path.is_file():
        raise NotFoundError(f"call {call_id!r} has no stored audio")
    # An audio type by the kept suffix (never the upload's own), not sniffed, and never run as a page.
    return FileResponse(path, media_type=audio_media_type(path),
                        headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"})


#: A report quotes what debtors and agents said: shown as a document that runs nothing (its styles are
#: inline, it has no script), in a sandbox of no origin.
REPORT_HEADERS = {"Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                             "frame-ancestors 'none'"}


@router.get("/calls/{call_id}/report", response_class=HTMLResponse, tags=["reports"])
async def call_report(call_id: CallId, viewer: Reader, store: Store) -> HTMLResponse:
    """One call's self-contained HTML report."""
    return HTMLResponse(await REPORTS.run(holder(viewer), lambda: _report(store, [call_id], viewer)), headers=REPORT_HEADERS)


@router.get("/reports", response_class=HTMLResponse, tags=["reports"])
async def report(viewer: Reader, store: Store, filters: Annotated[CallFilter, Depends(call_filter)]) -> HTMLResponse:
    """A self-contained HTML report of the calls matching the filters (at most ``limit``, default 100)."""
    calls = await asyncio.to_thread(store.list_calls, filters, viewer)
    if not calls:
        raise NotFoundError("no calls match these filters")
    ids = [c.id for c in calls]
    return HTMLResponse(await REPORTS.run(holder(viewer), lambda: _report(store, ids, viewer)), headers=REPORT_HEADERS)


def _report(store: CallStore, call_ids: list[str], viewer: Viewer) -> str:
    from coach.review.report import render_report, stored_calls

    return render_report(stored_calls(store, call_ids, viewer))


async def _save_upload(upload: UploadFile, path: Path, limit: int) -> None:
    """Copy the upload to disk, refusing it as soon as it passes ``limit`` bytes."""
    size = 0
    with path.open("wb") as out:
        while chunk := await upload.read(UPLOAD_CHUNK):
            size += len(chunk)
            if size > limit:
                raise HTTPException(status_code=413, detail=f"the upload is larger than {limit} bytes (COACH_MAX_UPLOAD_BYTES)")
            out.write(chunk)
    if size == 0:
        raise InputError(f"{_safe_name(upload.filename)}: the file is empty")


def _safe_name(filename: str | None) -> str:
    """The upload's base name (its suffix tells audio from transcripts), safe to create in a folder."""
    # control and format characters dropped: a NUL cannot name a file ("embedded null byte" was a 500)
    # and a Windows browser's path ("C:\\Users\\lee\\call.json", "..\\call.json") cut to its base name too
    name = Path("".join(c for c in filename or "" if c.isprintable()).replace("\\", "/")).name
    if name in ("", ".", "..") or len(name.encode()) > 200:
        suffix = Path(name).suffix[:10] if name not in (".", "..") else ""
        return f"upload{suffix}"
    return name


def _metadata(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = jsontext.loads(text)
    except jsontext.JsonError as exc:
        raise InputError(f"metadata is not valid JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise InputError("metadata must be a JSON object")
    call_metadata(value)  # a wrong field is the uploader's mistake (422), found before any work
    return value


def install(app: FastAPI) -> None:
    """Add the routes and the body limits, and answer errors with a fitting status and a message that
    echoes no long input and names no server path (server.errors)."""
    app.add_middleware(BodyLimit, settings=app.state.settings)
    app.add_exception_handler(CoachError, errors.coach_error)
    app.add_exception_handler(RequestValidationError, errors.invalid_request)
    app.include_router(router)
    app.include_router(playbooks.router)
