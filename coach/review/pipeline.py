"""Reviewing recorded calls: a file in, the engine's events, outcome and summary out, stored once.

A recording is transcribed (one party per channel, or a mono track whose parties are told apart
afterwards) and its utterances go through the same :class:`~coach.engine.CallSession` as a live call;
a transcript file goes straight to it. The file's content hash recognises a re-upload.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from coach.audio.files import stored_suffix
from coach.config import Settings, get_settings
from coach.deadline import Deadline
from coach.engine import CoachEngine, get_engine
from coach.errors import InputError, NotFoundError, StorageError, describe_validation_error
from coach.events import BaseEvent
from coach.playbook.loader import load_playbook
from coach.storage import SYSTEM, CallStore, CallSummary, NewCall, Viewer
from coach.transcript import (
    LANGUAGE_NAMES,
    Call,
    CallMetadata,
    CallWarning,
    Utterance,
    check_roles,
    load_call,
    text_encoding,
)

if TYPE_CHECKING:
    import numpy as np

    from coach.review.recording import Clip

log = logging.getLogger(__name__)

TRANSCRIPT_SUFFIXES = (".json", ".jsonl", ".ndjson")
#: A recording's language when none is asked for, no playbook names one and none is clearly heard.
DEFAULT_LANGUAGE = "en"

#: The advice a recording's ``language_mismatch`` warning ends with, followed by the language heard:
#: written by :func:`recording_language`, read back by :func:`_language_advised`.
REVIEW_AGAIN = "review it again with --language"


@dataclass
class ReviewRequest:
    """What the coach says about a file beyond its content."""

    #: "en", "zh", "auto" (the language heard, or an error), or None: the playbook's language, else
    #: the language heard when it is clear, else :data:`DEFAULT_LANGUAGE`.
    language: str | None = None
    playbook: str | None = None
    #: Who is on each channel of a two-channel recording (see :func:`check_roles`).
    channel_roles: tuple[str, ...] = ("agent", "debtor")
    call_id: str | None = None
    agent_id: str | None = None
    team: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    started_at: datetime | None = None


@dataclass
class ReviewedCall:
    call: Call
    playbook: str
    events: list[BaseEvent]
    outcome: dict[str, Any] | None
    summary: str | None
    duration: float
    content_hash: str | None = None
    filename: str | None = None
    #: The recording, when the call came from audio (kept for the review page's player).
    audio_file: Path | None = None
    speaker_method: str | None = None


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_transcript(path: Path) -> bool:
    """Whether a file is a transcript, by its content first (JSON starts with ``{``, in UTF-8 or, with
    or without a byte-order mark, UTF-16/32: the encoding is told before any audio sniffing), so a
    mislabelled file still works: a transcript named ``.wav`` is read as a transcript, a recording
    named ``.json`` as audio. Other text with a transcript suffix is a transcript (and gets the
    transcript errors); binary with one is audio with the wrong name."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    encoding = text_encoding(head)
    if encoding is not None and head.decode(encoding, errors="ignore").lstrip("\ufeff \t\r\n").startswith("{"):
        return True
    return encoding is not None and path.suffix.lower() in TRANSCRIPT_SUFFIXES


def review_file(path: str | Path, request: ReviewRequest | None = None, settings: Settings | None = None,
                *, content_hash: str | None = None) -> ReviewedCall:
    """Analyse one recording or transcript. Blocking (speech recognition runs here). ``content_hash``:
    the file's SHA-256 when the caller has it already."""
    settings = settings or get_settings()
    request = request or ReviewRequest()
    path = Path(path)
    check_request(request)
    check_file(path)
    digest = content_hash or file_hash(path)
    deadline = review_deadline(path, settings)
    read = read_file(path, request, settings)
    deadline.check("decoding")
    reviewed = (analyse_call(read, request, settings, deadline) if isinstance(read, Call)
                else review_decoded(read, request, settings, deadline))
    return from_file(reviewed, path, digest)


def review_deadline(path: Path, settings: Settings) -> Deadline:
    """The wall-clock limit of one file's review (COACH_REVIEW_TIMEOUT_SECONDS; 0: none). A recording
    is bounded by COACH_MAX_RECORDING_SECONDS too, but its review time is not: a busy machine, or a
    slow speech model, could hold a review worker for as long as it takes."""
    return Deadline.after(settings.review_timeout_seconds, work=f"the review of {path.name}",
                          hint="review it when the server is less busy, or raise COACH_REVIEW_TIMEOUT_SECONDS")


def check_request(request: ReviewRequest) -> None:
    """Refuse what the request alone shows cannot work (roles, an unknown or invalid playbook, a
    playbook for another language than the one asked for) before any file is read: a long recording
    takes minutes to decode and transcribe, and the mistake would only surface after that."""
    check_roles(request.channel_roles)
    call_metadata(request.metadata)  # a balance that is no number, a local time that is no time
    if request.playbook is not None:
        load_playbook(request.playbook)  # an unknown or invalid playbook: its error now
        if request.language in LANGUAGE_NAMES:
            check_playbook_language(request, request.language, f"language {request.language!r}")


def parse_roles(text: str) -> tuple[str, ...]:
    """``--roles`` and the upload's ``roles`` ("agent,debtor": one per channel, in channel order),
    refused when wrong whatever the file (see :func:`check_roles`)."""
    roles = tuple(part.strip() for part in text.split(","))
    check_roles(roles)
    return roles


def check_channel_roles(path: Path, roles: tuple[str, ...], channels: int) -> None:
    """One role per channel of a recording with two channels (a file with more is mixed down to two).
    A mono recording's parties are told apart by their voices, so its roles are not used: the
    default two are no mistake there."""
    from coach.audio.files import MAX_CHANNELS

    reviewed = min(channels, MAX_CHANNELS)
    if reviewed < 2 or len(roles) == reviewed:
        return
    described = f"{channels} channels" if channels == reviewed else f"{channels} channels, reviewed as {reviewed}"
    raise InputError(f"{path}: has {described} but roles were given for {len(roles)} ({', '.join(roles)})",
                     hint="give one role per channel, in channel order, e.g. agent,debtor")


def check_playbook_language(request: ReviewRequest, language: str, source: str | None = None) -> None:
    """Refuse the request's playbook when it is written for another language than the call is
    reviewed in (``source``: the file or call, for the message): its phrases and rules would match
    nothing, or the wrong things. Cheap (the playbook file only), so it runs before the engine is
    built and before speech recognition."""
    if request.playbook is None:
        return
    book = load_playbook(request.playbook)
    if book.language != language:
        where = f"{source}: " if source else ""
        raise InputError(f"{where}playbook {book.id!r} is for {LANGUAGE_NAMES.get(book.language, book.language)} "
                         f"calls, but the call is {LANGUAGE_NAMES.get(language, language)}",
                         hint="leave out the playbook (each language has its own default), or choose one for the "
                              "call's language (coach playbook list)")


def check_file(path: Path) -> None:
    """Refuse a path that is not a file, or an empty one, before anything reads it."""
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give the recordings or transcripts in it (e.g. {path / '*.wav'})")
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty")


def read_file(path: Path, request: ReviewRequest, settings: Settings) -> Call | DecodedRecording:
    """The stage that needs no model: a transcript read and checked, or a recording decoded and cut
    into stretches of speech. A recording's roles are checked against the channels its header
    declares first: decoding a long call takes minutes."""
    if is_transcript(path):
        return read_transcript(path, request, settings)
    check_recording_roles(path, request)
    return decode_recording(path, settings)


def check_recording_roles(path: Path, request: ReviewRequest) -> None:
    """The request's roles against the channels a recording's header declares (a transcript has no
    channels): read without decoding, so a mistake is refused at once, also for a file stored
    before (its stored review is no answer to a request that cannot be right)."""
    from coach.audio.files import probe_channels

    if not path.is_file() or is_transcript(path):
        return
    channels = probe_channels(path)
    if channels is not None:  # an unreadable header: decoding says what is wrong with the file
        check_channel_roles(path, tuple(request.channel_roles), channels)


def read_transcript(path: Path, request: ReviewRequest, settings: Settings) -> Call:
    """A transcript file as the call to analyse, with the request's ids and metadata."""
    # a transcript says its language; "auto" means take it
    call = load_call(path, language=None if request.language == "auto" else request.language, settings=settings)
    return _with_request(call, request)


def from_file(reviewed: ReviewedCall, path: Path, digest: str) -> ReviewedCall:
    """Mark a reviewed call with the file it came from (its content hash recognises a re-upload)."""
    reviewed.content_hash = digest
    reviewed.filename = path.name
    return reviewed


def review_transcript(call: Call, engine: CoachEngine, *, speaker_method: str | None = None,
                      deadline: Deadline | None = None) -> ReviewedCall:
    deadline = deadline or Deadline(None)
    events = []
    for event in engine.analyze(call):
        deadline.check("analysis")
        events.append(event)
    outcome, summary = conclude(events, call.language, call.started_at, call.metadata.balance)
    duration = max((u.end for u in call.utterances), default=0.0)
    return ReviewedCall(call=call, playbook=engine.ref, events=events, outcome=outcome, summary=summary,
                        duration=duration, speaker_method=speaker_method)


@dataclass
class DecodedRecording:
    """A recording decoded and cut into stretches of speech: the part of a review that needs no model
    (a distributed review runs it in plain CPU tasks, see :mod:`coach.review.distributed`)."""

    path: Path
    #: (channels, samples) at 16 kHz.
    audio: np.ndarray
    #: Each channel's stretches of speech, (start, end) seconds.
    speech: list[list[tuple[float, float]]]
    warnings: list[CallWarning]


@dataclass
class HeardRecording:
    """What speech recognition made of a recording, and all the analysis still needs of its audio:
    the mono track only (its voices tell the parties apart); a two-channel call's audio is not kept."""

    path: Path
    language: str
    clips: list[Clip]
    channels: int
    #: Seconds of audio reviewed.
    duration: float
    warnings: list[CallWarning]
    mono: np.ndarray | None = None


def review_recording(path: Path, request: ReviewRequest, settings: Settings) -> ReviewedCall:
    """Decode, identify the language, transcribe and analyse one recording: the stages a distributed
    review runs apart (CPU tasks, speech recognition actors, analysis actors), here in one process."""
    return review_decoded(decode_recording(path, settings), request, settings)


def review_decoded(decoded: DecodedRecording, request: ReviewRequest, settings: Settings,
                   deadline: Deadline | None = None) -> ReviewedCall:
    deadline = deadline or Deadline(None)
    language, decoded = recording_language(decoded, request, settings)
    # a playbook that cannot be used is refused before recognition
    review_engine(request, language, settings, source=str(decoded.path))
    deadline.check("language identification")
    return analyse_call(recognize_recording(decoded, language, request, settings, deadline), request, settings, deadline)


def analyse_call(read: Call | HeardRecording, request: ReviewRequest, settings: Settings,
                 deadline: Deadline | None = None) -> ReviewedCall:
    """The analysis stage: a transcript's call, or a transcribed recording, through its playbook's engine."""
    source = str(read.path) if isinstance(read, HeardRecording) else f"call {read.call_id!r}"
    engine = review_engine(request, read.language, settings, source=source)
    if isinstance(read, HeardRecording):
        return analyse_recording(read, request, engine, deadline)
    return review_transcript(read, engine, deadline=deadline)


def decode_recording(path: Path, settings: Settings) -> DecodedRecording:
    """Decode a recording (refusing a corrupt or empty one) and find its stretches of speech."""
    from coach.audio.files import duplicate_channels, load_recording
    from coach.review.recording import channel_speech

    recording = load_recording(path, max_seconds=settings.max_recording_seconds)
    audio = recording.audio
    warnings: list[CallWarning] = []
    if recording.truncated:
        declared, decoded = recording.truncated
        warnings.append(CallWarning(code="truncated", message=(
            f"the file is cut short: its header says {declared:.1f} s but only {decoded:.1f} s could be decoded; "
            f"the call was reviewed up to {decoded:.1f} s")))
    if duplicate_channels(audio):
        audio = audio[:1]
        warnings.append(CallWarning(code="duplicate_channels", message=(
            "both channels carry the same signal (a mono call saved as stereo): reviewed as one channel, "
            "the parties told apart by their voices")))
    return DecodedRecording(path, audio, channel_speech(audio, settings.end_silence_ms), warnings)


def recording_language(decoded: DecodedRecording, request: ReviewRequest, settings: Settings) -> tuple[str, DecodedRecording]:
    """The language to review the recording in (the request's or its playbook's, else the one heard),
    and the recording to review: the same, or played at double rate when its samples turn out to be 8 kHz
    audio labelled 16 kHz. Uses the language-identification speech model."""
    from coach.review.language import (
        SUPPORTED,
        at_double_rate,
        half_speed_language,
        spoken_language,
    )
    from coach.review.recording import channel_speech

    path, audio, speech = decoded.path, decoded.audio, decoded.speech
    warnings = list(decoded.warnings)
    heard = spoken_language(audio, speech, settings)
    slowed = half_speed_language(audio, speech, heard, settings)
    if slowed is not None:
        audio, heard = at_double_rate(audio), slowed
        speech = channel_speech(audio, settings.end_silence_ms)
        warnings.append(CallWarning(code="wrong_sample_rate", message=(
            "the recording plays twice as fast as speech: its samples are 8 kHz audio labelled 16 kHz. It was "
            "reviewed at 8 kHz; fix the file's header (for example: sox -r 8000 <file> fixed.wav) before "
            "playing it")))
    language = request.language or _playbook_language(request)
    if language is None:  # nothing asked for: the language heard, when it is clear
        language = heard.code if heard is not None and heard.sure else DEFAULT_LANGUAGE
    if language == "auto":
        if heard is None:
            raise InputError(f"{path.name}: cannot tell which language is spoken (too little speech, or "
                             "COACH_LANGUAGE_ID_MODEL is empty)", hint="pass --language en or --language zh")
        if heard.code not in SUPPORTED:
            raise InputError(f"{path.name}: {heard.described}; "
                             "coach reviews English and Chinese calls", hint="pass --language to review it anyway")
        language = heard.code
    elif heard is not None and heard.contradicts(language):
        warnings.append(CallWarning(code="language_mismatch", message=(
            f"{heard.described}, but the call was reviewed as "
            f"{LANGUAGE_NAMES.get(language, language)}: its transcript is most likely wrong"
            + (f"; {REVIEW_AGAIN} {heard.code} (or auto)" if heard.code in SUPPORTED else "")
            + (f" and a {heard.name} playbook (or without --playbook)"
               if heard.code in SUPPORTED and request.playbook else ""))))
    return language, DecodedRecording(path, audio, speech, warnings)


def _playbook_language(request: ReviewRequest) -> str | None:
    """The language of the request's playbook (None without one)."""
    return load_playbook(request.playbook).language if request.playbook else None


def recognize_recording(decoded: DecodedRecording, language: str, request: ReviewRequest, settings: Settings,
                        deadline: Deadline | None = None) -> HeardRecording:
    """Transcribe every channel's speech with the language's speech model (refusing a recording in
    which nothing usable is heard)."""
    from coach.live import load_speech_model
    from coach.review.recording import transcribe_channels

    path, audio, speech = decoded.path, decoded.audio, decoded.speech
    asr = load_speech_model(language, settings)
    clips = transcribe_channels(audio, asr, language, speech=speech, deadline=deadline)
    if not clips:
        found = sum(len(stretches) for stretches in speech)
        _refuse_in_another_language(path, language, decoded.warnings)
        raise InputError(f"{path.name}: no speech was recognised in the recording" + (
            " (silence or noise only)" if not found else
            f": none of its {found} stretches of sound gave usable words (music, noise, another language, or audio "
            "at the wrong sample rate)"), hint="check that the file is the call's recording")
    warnings = decoded.warnings + speech_warnings(speech, clips, tuple(request.channel_roles) if audio.shape[0] >= 2 else None)
    return HeardRecording(path, language, clips, channels=audio.shape[0], duration=audio.shape[1] / 16_000,
                          warnings=warnings, mono=audio[0] if audio.shape[0] == 1 else None)


def _refuse_in_another_language(path: Path, language: str, warnings: list[CallWarning]) -> None:
    """Nothing usable heard in the language asked for, while the speech sounds like another: say that,
    and how to review it, rather than blame the recording."""
    mismatch = next((w for w in warnings if w.code == "language_mismatch"), None)
    if mismatch is None:
        return
    heard = mismatch.message.split(", but ", 1)[0]
    advised = _language_advised(mismatch.message)
    raise InputError(f"{path.name}: no speech was recognised in {LANGUAGE_NAMES.get(language, language)}: {heard}",
                     hint=f"{REVIEW_AGAIN} {advised} (or auto)" if advised else
                     "coach reviews English and Chinese calls; pass --language to review it anyway")


def analyse_recording(heard: HeardRecording, request: ReviewRequest, engine: CoachEngine,
                      deadline: Deadline | None = None) -> ReviewedCall:
    """The transcribed recording as a call (whose parties, on a mono track, are told apart by voice
    and words), through the engine."""
    path, clips = heard.path, heard.clips
    method = None
    if heard.channels >= 2:
        from coach.review.recording import utterances_from_channels

        roles = tuple(request.channel_roles)
        check_roles(roles)  # checked before decoding too; again here for callers that skip read_file
        check_channel_roles(path, roles, heard.channels)
        utterances = utterances_from_channels(clips, roles)
    else:
        from coach.review.speakers import assign_speakers

        assignment = assign_speakers(heard.mono, clips, engine)
        method = assignment.method
        utterances = [Utterance(speaker=role, text=c.text, start=c.start, end=c.end)
                      for c, role in zip(clips, assignment.roles)]
        log.info("speakers of %s: %s", path.name, assignment.detail)
    call = Call(call_id=request.call_id or path.stem[:190], language=heard.language, started_at=request.started_at,
                metadata=call_metadata(request.metadata), utterances=utterances)
    call = _with_request(call, request)
    call.warnings.extend(heard.warnings)
    (deadline or Deadline(None)).check("telling the speakers apart")
    reviewed = review_transcript(call, engine, speaker_method=method, deadline=deadline)
    reviewed.duration = heard.duration
    reviewed.audio_file = path
    return reviewed


#: Share of the stretches of sound that may give no usable words before the review says so.
UNRECOGNISED_SHARE = 0.5


def speech_warnings(speech: list[list[tuple[float, float]]], clips: list, roles: tuple[str, ...] | None) -> list[CallWarning]:
    """What the transcript cannot show about the audio: a party's channel without speech, or sound
    that mostly gave no usable words (music, noise, the wrong sample rate)."""
    found = sum(len(stretches) for stretches in speech)
    warnings: list[CallWarning] = []
    if roles is not None:
        for channel, role in enumerate(roles[: len(speech)]):
            if any(c.channel == channel for c in clips):
                continue
            if speech[channel]:  # sound, but no usable words (another language, noise): not a party unrecorded
                warnings.append(CallWarning(code="unrecognised_channel", message=(
                    f"channel {channel + 1} ({role}) has {len(speech[channel])} stretch(es) of sound but gave no "
                    "usable words (another language, noise, or audio at the wrong sample rate): the review shows "
                    "one side of the call")))
            else:
                warnings.append(CallWarning(code="silent_channel", message=(
                    f"no speech on channel {channel + 1} ({role}): was that party recorded? The review shows "
                    "one side of the call")))
    unrecognised = found - len(clips)
    if found >= 4 and unrecognised / found > UNRECOGNISED_SHARE:
        warnings.append(CallWarning(code="unrecognised_speech", message=(
            f"{unrecognised} of {found} stretches of sound gave no usable words (music, noise, another language, "
            "or audio at the wrong sample rate): the transcript is incomplete")))
    return warnings


def conclude(events: list[BaseEvent], language: str, started_at: datetime | None,
             balance: float | None = None) -> tuple[dict[str, Any], str]:
    """The call's outcome and a short summary, from its events (live and recorded calls alike);
    ``balance``, the call's metadata's, tells a misheard figure from a promised amount."""
    from coach.outcome import determine_outcome, summarize

    outcome = determine_outcome(events, language, started_at, balance)
    return outcome.model_dump(mode="json"), summarize(events, outcome, language)


def store_review(store: CallStore, reviewed: ReviewedCall, *, source: str, settings: Settings | None = None,
                 replacing: str | None = None) -> str:
    """Write a reviewed call in one transaction (and keep its audio for the player); its id.
    ``replacing``: the stored review of the same file this one replaces, in the same transaction."""
    settings = settings or get_settings()
    audio_path = None
    if reviewed.audio_file is not None and settings.keep_audio and reviewed.content_hash:
        audio_path = f"audio/{reviewed.content_hash}{stored_suffix(reviewed.audio_file)}"
    call = reviewed.call
    metadata = call.metadata.model_dump(exclude_none=True)
    store.save_call(
        NewCall(call_id=call.call_id, language=call.language, playbook=reviewed.playbook, source=source,  # type: ignore[arg-type]
                agent_id=metadata.get("agent_id"), team=metadata.get("team"), started_at=call.started_at,
                metadata=metadata, filename=reviewed.filename, content_hash=reviewed.content_hash,
                audio_path=audio_path, speaker_method=reviewed.speaker_method,
                warnings=[w.model_dump() for w in call.warnings] or None),
        reviewed.events, outcome=reviewed.outcome, summary=reviewed.summary, duration=reviewed.duration,
        replacing=replacing,
    )
    if audio_path:  # only once the call is stored: a failed save leaves no orphan file behind
        _keep_audio(reviewed.audio_file, settings.data_dir / audio_path)
    return call.call_id


def _keep_audio(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        partial = target.with_suffix(target.suffix + ".part")
        shutil.copyfile(source, partial)
        partial.replace(target)


def review_engine(request: ReviewRequest, language: str, settings: Settings, *,
                  source: str | None = None) -> CoachEngine:
    """The engine of the request's playbook, or of the language's default one (shared in the process).
    A playbook for another language is refused before the engine is built (and, for a recording,
    before its speech is transcribed)."""
    check_playbook_language(request, language, source)
    return get_engine(request.playbook, language=language, settings=settings)


def _with_request(call: Call, request: ReviewRequest) -> Call:
    """The request's call id, agent, team and metadata override what the file says."""
    metadata = call.metadata.model_dump(exclude_none=True) | request.metadata
    if request.agent_id:
        metadata["agent_id"] = request.agent_id
    if request.team:
        metadata["team"] = request.team
    return call.model_copy(update={
        "call_id": request.call_id or call.call_id,
        "metadata": call_metadata(metadata),
        "started_at": request.started_at or call.started_at,
    })


def call_metadata(values: dict[str, Any]) -> CallMetadata:
    """Metadata given with an upload or on the command line, checked like a transcript's."""
    try:
        return CallMetadata.model_validate(values)
    except ValidationError as exc:
        raise InputError("invalid call metadata:\n" + describe_validation_error(exc)) from None


@dataclass(frozen=True)
class StoredReview:
    call_id: str
    #: True when the same file had been reviewed before: nothing new was stored.
    duplicate: bool
    #: The earlier review of the same file this one replaced (asked for in another language or playbook).
    replaced: str | None = None


def review_into_store(store: CallStore, path: str | Path, request: ReviewRequest | None = None, *, source: str,
                      settings: Settings | None = None, viewer: Viewer = SYSTEM) -> StoredReview:
    """Review a file and store it, unless the same content is already stored. Blocking.

    A file stored before is reviewed again, and replaces that review, when the request names another
    language or playbook than it was reviewed with and ``viewer`` may see it: a recording reviewed
    in the wrong language is told so (``language_mismatch``: "review it again with --language
    zh"), and that advice must work. The earlier review is deleted in the transaction that stores the
    new one, and its coach notes move to the new one."""
    settings = settings or get_settings()
    request = request or ReviewRequest()
    path = Path(path)
    check_request(request)
    check_recording_roles(path, request)
    digest = file_hash(path) if path.is_file() else None
    standing, replacing = earlier_review(store, digest, request, viewer)
    if standing is not None:
        return standing
    if replacing is not None:
        replaced_call(store, replacing, request)  # a rename or a reassignment: refused before the work
    elif request.call_id is not None and store.has_call(request.call_id):
        # refused before the work too (a whole review was done, then refused, as the store does anyway)
        raise InputError(f"a call with id {request.call_id!r} is already stored",
                         hint="give the call another id, or delete the stored one first")
    reviewed = review_file(path, request, settings, content_hash=digest)
    return store_replacing(store, reviewed, request, replacing, source=source, settings=settings)


def earlier_review(store: CallStore, digest: str | None, request: ReviewRequest,
                   viewer: Viewer = SYSTEM) -> tuple[StoredReview | None, str | None]:
    """What is stored of a file with this content, for this request: (the review that answers it, a
    duplicate; None when the file is to be reviewed) and the id of the stored review a new one is to
    replace (the request asks for another language or playbook, see :func:`_asks_for_another_review`)."""
    existing = stored_duplicate(store, digest)
    if existing is None:
        return None, None
    if _asks_for_another_review(store, existing.call_id, request, viewer):
        return None, existing.call_id
    return existing, None


def store_replacing(store: CallStore, reviewed: ReviewedCall, request: ReviewRequest, replacing: str | None, *,
                    source: str, settings: Settings) -> StoredReview:
    """Store a reviewed file; the earlier review it replaces (``replacing``) is deleted in the same
    transaction, so a mistake (a taken call id) or a database failure costs nothing already stored."""
    if replacing is None:
        return store_reviewed(store, reviewed, request, source=source, settings=settings)
    try:
        earlier = replaced_call(store, replacing, request)
        metadata = reviewed.call.metadata.model_copy(update={"agent_id": earlier.agent_id, "team": earlier.team})
        reviewed.call = reviewed.call.model_copy(update={"call_id": earlier.id, "metadata": metadata})
        reviewed.events = [e.model_copy(update={"call_id": earlier.id}) for e in reviewed.events]
        stored = store_reviewed(store, reviewed, request, source=source, settings=settings, replacing=replacing)
    except NotFoundError:  # deleted meanwhile (by an admin, or by the same file reviewed again at once)
        return store_reviewed(store, reviewed, request, source=source, settings=settings)
    if stored.duplicate:
        return stored
    return StoredReview(stored.call_id, duplicate=False, replaced=replacing)


def replaced_call(store: CallStore, replacing: str, request: ReviewRequest) -> CallSummary:
    """The stored call a new review of the same file replaces. The new review is the same call: it
    keeps that call's id, agent and team, so a review in another language can neither rename a call
    nor move it to another agent (a request naming others is refused)."""
    earlier = store.get_call(replacing)
    asked = {"call_id": (request.call_id, earlier.id), "agent_id": (request.agent_id, earlier.agent_id),
             "team": (request.team, earlier.team)}
    changed = [name for name, (new, old) in asked.items() if new is not None and new != old]
    if changed:
        raise InputError(f"this recording is already stored as call {earlier.id!r}; reviewing it again in another "
                         f"language or playbook keeps its {', '.join(changed)} (leave {'it' if len(changed) == 1 else 'them'} "
                         "out to review it again)")
    return earlier


def _asks_for_another_review(store: CallStore, call_id: str, request: ReviewRequest, viewer: Viewer) -> bool:
    """Whether the request names a language or playbook other than the stored review's, or leaves
    both to the recording while the stored review was made in a language the speech contradicts
    (``language_mismatch``: a Chinese call reviewed as English before the language heard became the
    default), of a call ``viewer`` may see (one they cannot see is never replaced, nor its existence
    told)."""
    try:
        stored = store.get_call(call_id, viewer)
    except NotFoundError:
        return False
    other_language = request.language not in (None, "auto") and request.language != stored.language
    other_playbook = request.playbook is not None and _playbook_id(request.playbook) != stored.playbook.split("@")[0]
    left_to_the_speech = request.language in (None, "auto") and request.playbook is None
    heard_otherwise = left_to_the_speech and any(_language_advised(w.message) not in (None, stored.language)
                                                 for w in stored.warnings or [] if w.code == "language_mismatch")
    return other_language or other_playbook or heard_otherwise


def _language_advised(message: str) -> str | None:
    """The language a recording's ``language_mismatch`` warning advises reviewing it in ("review it
    again with --language zh"). Only English or Chinese heard in a recording get that advice: a call
    in another language, or a transcript (whose own language a new review would keep), would be
    stored again with the same warning, again and again."""
    advised = re.search(rf"{REVIEW_AGAIN} (en|zh)\b", message)
    return advised.group(1) if advised else None


def _playbook_id(reference: str) -> str:
    """A request's playbook (a shipped id, or an installed ``<id>.yaml`` file) as its id."""
    return Path(reference).stem if reference.endswith((".yaml", ".yml")) else reference


def stored_duplicate(store: CallStore, digest: str | None) -> StoredReview | None:
    """The call already stored from a file with this content (``digest``), if any."""
    existing = store.find_by_hash(digest) if digest is not None else None
    return StoredReview(existing, duplicate=True) if existing is not None else None


def store_reviewed(store: CallStore, reviewed: ReviewedCall, request: ReviewRequest, *, source: str,
                   settings: Settings, replacing: str | None = None) -> StoredReview:
    """Store a call reviewed from a file, under a new id when another file's call has its name."""
    call_id = reviewed.call.call_id
    if request.call_id is None and call_id != replacing and store.has_call(call_id):
        # Another file had the same name: keep both, told apart by their content.
        reviewed.call = reviewed.call.model_copy(update={"call_id": f"{call_id[:190]}-{reviewed.content_hash[:8]}"})
    try:
        return StoredReview(store_review(store, reviewed, source=source, settings=settings, replacing=replacing),
                            duplicate=False)
    except StorageError:
        # The same file reviewed twice at once (two uploads, two `coach review`s): the other one
        # stored it while this one was transcribing. That is a duplicate, not a database failure.
        existing = stored_duplicate(store, reviewed.content_hash)
        if existing is None or existing.call_id == replacing:  # the review to replace is not an answer
            raise
        return existing
