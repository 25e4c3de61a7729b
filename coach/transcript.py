"""Calls and utterances, and reading them from JSON or JSON Lines with errors a user can act on."""

from __future__ import annotations

import codecs
import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from coach import jsontext
from coach.config import Settings, get_settings
from coach.errors import InputError, describe_validation_error
from coach.text.normalize import clear_language, detect_language

log = logging.getLogger(__name__)

Speaker = Literal["agent", "debtor", "third_party", "unknown"]
SPEAKERS: tuple[str, ...] = ("agent", "debtor", "third_party", "unknown")
#: Seconds one party's consecutive utterances may overlap (timestamp rounding) without a word said.
OVERLAP_TOLERANCE = 0.25
#: Defaults of ``COACH_MAX_CALL_SECONDS`` and ``COACH_MAX_OVERLAP_REPAIR_SECONDS`` (see Settings), for
#: calls validated without settings.
MAX_CALL_SECONDS, MAX_OVERLAP_REPAIR_SECONDS = 86_400.0, 5.0
#: Other names transcripts use for the same parties.
SPEAKER_ALIASES = {
    "collector": "agent", "rep": "agent", "representative": "agent", "operator": "agent",
    "customer": "debtor", "consumer": "debtor", "borrower": "debtor", "client": "debtor", "cardholder": "debtor",
    "third party": "third_party", "thirdparty": "third_party", "other": "unknown",
    "坐席": "agent", "催收员": "agent", "客服": "agent", "客户": "debtor", "债务人": "debtor", "借款人": "debtor",
}
#: Names that stand for either party, depending on who dialled: refused with the reason, not guessed.
AMBIGUOUS_SPEAKERS = {
    "caller": "the agent on an outbound call, the debtor on an inbound one",
    "callee": "the debtor on an outbound call, the agent on an inbound one",
    "来电人": "主叫方：外呼时是坐席，呼入时是客户",
}


class Utterance(BaseModel):
    """One turn of speech, times in seconds from the start of the call."""

    model_config = ConfigDict(extra="ignore")

    speaker: Speaker
    text: str
    start: float = Field(ge=0, allow_inf_nan=False)
    end: float = Field(ge=0, allow_inf_nan=False)

    @field_validator("speaker", mode="before")
    @classmethod
    def _speaker_alias(cls, value: Any) -> Any:
        if isinstance(value, str):
            key = value.strip().lower()
            return SPEAKER_ALIASES.get(key, key)
        return value

    @model_validator(mode="after")
    def _end_after_start(self) -> "Utterance":
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self

    @property
    def duration(self) -> float:
        return self.end - self.start


#: Longest metadata a call may carry, as JSON text (an upload's form field, a live call's start message).
MAX_METADATA_CHARS = 20_000


class CallMetadata(BaseModel):
    """What the rules need to know about the call beyond its words. Unknown keys are kept. An agent id
    or team sent as a number is its text."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    @model_validator(mode="before")
    @classmethod
    def _bounded(cls, data: Any) -> Any:
        """At most :data:`MAX_METADATA_CHARS` as JSON, on every path (upload, command line, transcript,
        live start): metadata is stored with the call. A field of its own sent empty is not given (a
        CRM field left blank, sent by a telephony platform as ``""``), rather than a call refused."""
        if isinstance(data, dict):
            try:
                size = len(json.dumps(data, ensure_ascii=False, default=str))
            except RecursionError:
                raise ValueError("metadata nested too deeply") from None
            if size > MAX_METADATA_CHARS:
                raise ValueError(f"metadata longer than {MAX_METADATA_CHARS} characters as JSON")
            data = {k: None if v == "" and k in cls.model_fields else v for k, v in data.items()}
        return data

    agent_id: str | None = None
    team: str | None = None
    debtor_timezone: str | None = None
    #: The debtor's local time when the call started, "HH:MM" (else derived from started_at and
    #: debtor_timezone).
    local_time: str | None = Field(default=None, pattern=r"^([01]?\d|2[0-3]):[0-5]\d$")
    calls_last_7d: int | None = Field(default=None, ge=0)
    attempts_today: int | None = Field(default=None, ge=0)
    conversations_today: int | None = Field(default=None, ge=0)
    #: What the account owes: a finite amount, none negative (an infinite one matched no figure the
    #: agent said, and so raised a wrong-amount finding on every call).
    balance: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    currency: str | None = None
    time_barred: bool | None = None
    first_contact: bool | None = None


def validated_metadata(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` checked as a call's metadata, the fields the rules read in their own types ("9" ->
    9: a telephony platform's parameters all arrive as text); ValueError saying what is wrong, for
    the models (a live call's start) that check it as one of their fields."""
    try:
        checked = CallMetadata.model_validate(values)
    except ValidationError as exc:
        raise ValueError(describe_validation_error(exc)) from None
    return {**values, **checked.model_dump(exclude_none=True)}


#: A model's metadata field checked as a call's metadata (a live call's start, an AudioSocket registration).
CheckedMetadata = Annotated[dict[str, Any], AfterValidator(validated_metadata)]


class CallWarning(BaseModel):
    """Something about a call's input that was repaired or dropped rather than refused."""

    #: ``empty_utterance_dropped``, ``overlap_repaired``, ``language_mismatch`` (and, for recordings,
    #: the codes :mod:`coach.review.pipeline` adds)
    code: str
    message: str


class Call(BaseModel):
    model_config = ConfigDict(extra="ignore")

    call_id: str = Field(min_length=1)
    language: Literal["zh", "en"]
    started_at: datetime | None = None
    metadata: CallMetadata = Field(default_factory=CallMetadata)
    utterances: list[Utterance]
    #: What was repaired or dropped when the call was read (the one place such notes live).
    warnings: list[CallWarning] = Field(default_factory=list)

    @model_validator(mode="after")
    def _clean_times(self, info: ValidationInfo) -> "Call":
        """Empty utterances dropped; times within a call's plausible span and in start order; one
        party never overlapping itself, except by a little, which is repaired (the two parties may
        overlap: interruptions are real and the scorecard counts them).

        Messages give each utterance's index in the input. ``info.context`` may carry
        ``max_call_seconds`` and ``max_overlap_repair_seconds``."""
        context = info.context or {}
        max_seconds = context.get("max_call_seconds", MAX_CALL_SECONDS)
        max_repair = context.get("max_overlap_repair_seconds", MAX_OVERLAP_REPAIR_SECONDS)
        kept: list[tuple[int, Utterance]] = []
        for index, utterance in enumerate(self.utterances):
            if not utterance.text.strip():
                self.warnings.append(CallWarning(code="empty_utterance_dropped", message=(
                    f"utterance {index} ({utterance.speaker}, {utterance.start:g} s) has no text: dropped")))
                continue
            if utterance.end > max_seconds:
                raise ValueError(
                    f"utterance {index} ends at {utterance.end:g} s, more than {max_seconds:g} s "
                    f"({max_seconds / 3600:g} h) into the call; times are seconds from the call's start "
                    f"(COACH_MAX_CALL_SECONDS sets the longest call)")
            kept.append((index, utterance))
        if not kept:
            raise ValueError("no utterance has any text")
        last: dict[str, int] = {}  # speaker -> position in kept of their latest utterance
        for position, (index, utterance) in enumerate(kept):
            if position and utterance.start < kept[position - 1][1].start:
                before, earlier = kept[position - 1]
                raise ValueError(
                    f"utterance {index} starts at {utterance.start:g} s, before utterance {before} "
                    f"({earlier.start:g} s): utterances must be in time order"
                )
            previous_at = last.get(utterance.speaker)
            if previous_at is not None:
                before, previous = kept[previous_at]
                overlap = previous.end - utterance.start
                if overlap > OVERLAP_TOLERANCE:
                    if overlap > max_repair or utterance.start <= previous.start:
                        raise ValueError(
                            f"utterance {index} ({utterance.speaker}) starts at {utterance.start:g} s, "
                            f"{overlap:g} s before the same speaker's utterance {before} ends ({previous.end:g} s): "
                            f"overlapping times, more than the {max_repair:g} s that can be repaired"
                        )
                    kept[previous_at] = (before, previous.model_copy(update={"end": utterance.start}))
                    self.warnings.append(CallWarning(code="overlap_repaired", message=(
                        f"utterance {index} ({utterance.speaker}) starts {overlap:g} s before the same speaker's "
                        f"utterance {before} ends: utterance {before} now ends at {utterance.start:g} s "
                        f"instead of {previous.end:g} s")))
            last[utterance.speaker] = position
        self.utterances = [utterance for _, utterance in kept]
        return self

    @field_validator("language", mode="before")
    @classmethod
    def _language_alias(cls, value: Any) -> Any:
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered.startswith("zh") or lowered in ("cmn", "chinese", "mandarin"):
                return "zh"
            if lowered.startswith("en") or lowered == "english":
                return "en"
        return value


def load_call(path: str | Path, *, language: str | None = None, settings: Settings | None = None) -> Call:
    """Read a call from a JSON document or from JSON Lines of utterances.

    A JSON Lines file may start with a header line ``{"call_id", "language", "metadata"}``; without
    one the call id is the file name and the language is guessed from the text.
    """
    settings = settings or get_settings()
    path = Path(path)
    text = _read_text(path, settings)
    stripped = text.lstrip()
    if not stripped:
        raise InputError(f"{path}: the file is empty; expected a call JSON document or JSON Lines of utterances")
    data: Any
    if stripped.startswith(("{", "[")) and not _looks_like_jsonl(stripped):
        try:
            data = jsontext.loads(text)
        except jsontext.JsonError as exc:
            raise InputError(f"{path}: {exc.where}not valid JSON: {exc.msg}") from None
        if isinstance(data, dict) and "text" in data and "utterances" not in data:
            data = {"utterances": [data]}  # JSON Lines of one utterance, without a header
        elif isinstance(data, list):
            data = {"utterances": data}  # a bare array of utterances, as many tools export them
    elif stripped.startswith("{"):
        data = _parse_jsonl(path, text)
    else:
        raise InputError(f"{path}: not a call transcript: expected a JSON object, an array of utterances or JSON "
                         "Lines of utterances")
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object with call_id, language and utterances")
    data.setdefault("call_id", path.stem)
    if language:
        data["language"] = language
    elif "language" not in data and isinstance(data.get("utterances"), list):
        texts = [u.get("text", "") for u in data["utterances"] if isinstance(u, dict) and isinstance(u.get("text"), str)]
        data["language"] = detect_language(texts)
    return validate_call(data, source=str(path), settings=settings)


#: Names other tools give an utterance's fields, for the one-line answer to a file that uses them.
OTHER_FIELD_NAMES = {"speaker": ("role", "party", "participant", "channel", "spk", "speaker_label"),
                     "text": ("content", "transcript", "utterance", "sentence", "words", "message")}


def _refuse_other_field_names(utterances: list[Any], source: str) -> None:
    """Utterances whose fields have other tools' names ("role", "content"): one line that says so,
    rather than "field required" twice for every utterance."""
    first = next((u for u in utterances if isinstance(u, dict)), None)
    if first is None:
        return
    renames = [(other, ours) for ours, others in OTHER_FIELD_NAMES.items() if ours not in first
               for other in others if other in first][:2]
    if renames:
        said = " and ".join(f"{other!r} for {ours!r}" for other, ours in renames)
        raise InputError(f"{source}: the utterances say {said}",
                         hint="rename the fields: each utterance needs speaker (agent or debtor), text, start and end")


#: Languages by name, for messages.
LANGUAGE_NAMES = {"en": "English", "zh": "Chinese"}


def language_warning(call: Call) -> CallWarning | None:
    """``language_mismatch`` when the transcript's text is clearly in the other language than the
    call is analysed in (``--language zh`` on an English transcript, or a file that declares the wrong
    language): the analysis runs, but matches the other language's phrases against it, so its
    intents, compliance findings and score are most likely wrong, and nothing else would say so."""
    written = clear_language([u.text for u in call.utterances])
    if written is None or written == call.language:
        return None
    name, analysed = LANGUAGE_NAMES[written], LANGUAGE_NAMES.get(call.language, call.language)
    return CallWarning(code="language_mismatch", message=(
        f"the transcript's text is {name}, but the call was analysed as {analysed}: its intents, compliance "
        f"findings and score are most likely wrong; analyse it as {name} (--language {written})"))


def validate_call(data: dict[str, Any], *, source: str = "<call>", settings: Settings | None = None) -> Call:
    """Validate a call document, reporting the utterance index and field of the first problems."""
    settings = settings or get_settings()
    utterances = data.get("utterances")
    if isinstance(utterances, list):
        if not utterances:
            raise InputError(f"{source}: the call has no utterances")
        if len(utterances) > settings.max_utterances:
            raise InputError(
                f"{source}: {len(utterances)} utterances is more than the limit of {settings.max_utterances}",
                hint="split the call or raise COACH_MAX_UTTERANCES",
            )
        total = 0
        for index, utterance in enumerate(utterances):
            text = utterance.get("text") if isinstance(utterance, dict) else None
            if isinstance(text, str) and len(text) > settings.max_utterance_chars:
                raise InputError(
                    f"{source}: utterance {index}, field text: {len(text)} characters is more than the limit of "
                    f"{settings.max_utterance_chars}; is this really one utterance?"
                )
            total += len(text) if isinstance(text, str) else 0
            if total > settings.max_transcript_chars:
                raise InputError(
                    f"{source}: the text up to utterance {index} is more than the limit of "
                    f"{settings.max_transcript_chars} characters for one call",
                    hint="split the call or raise COACH_MAX_TRANSCRIPT_CHARS",
                )
        _refuse_other_field_names(utterances, source)
    context = {"max_call_seconds": settings.max_call_seconds,
               "max_overlap_repair_seconds": settings.max_overlap_repair_seconds}
    data = {key: value for key, value in data.items() if key != "warnings"}  # ours to write, not the file's
    try:
        call = Call.model_validate(data, context=context)
    except ValidationError as exc:
        raise InputError(f"{source}: invalid call:\n{describe_validation_error(exc, limit=10, where=_where, message=_message)}") from None
    mismatch = language_warning(call)
    if mismatch is not None:
        call.warnings.append(mismatch)
    for warning in call.warnings:
        log.warning("%s: %s", source, warning.message, extra={"event": warning.code})
    return call


def _where(loc: list[Any]) -> str:
    if len(loc) >= 2 and loc[0] == "utterances" and isinstance(loc[1], int):
        return f"utterance {loc[1]}" + (f", field {'.'.join(map(str, loc[2:]))}" if loc[2:] else "")
    return "field " + ".".join(map(str, loc)) if loc else "the call"


def _message(error: dict[str, Any]) -> str | None:
    loc = list(error["loc"])
    if error["type"] == "literal_error" and loc and loc[-1] == "speaker":
        ambiguous = AMBIGUOUS_SPEAKERS.get(str(error["input"]))
        if ambiguous:
            return f"speaker {_quote(error['input'])} could be either party ({ambiguous}): name it agent or debtor"
        return f"unknown speaker {_quote(error['input'])}; expected one of {', '.join(SPEAKERS)}"
    if error["type"] == "literal_error" and loc == ["language"]:
        return f"unknown language {_quote(error['input'])}; expected 'zh' or 'en'"
    if error["type"] == "finite_number":
        return "must be a finite number of seconds"
    return None


def _quote(value: Any, limit: int = 60) -> str:
    text = str(value)
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


def _read_text(path: Path, settings: Settings) -> str:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a transcript file")
    if size > settings.max_transcript_bytes:
        raise InputError(
            f"{path}: {size:,} bytes is more than the transcript limit of {settings.max_transcript_bytes:,}",
            hint="raise COACH_MAX_TRANSCRIPT_BYTES if this really is one call",
        )
    raw = path.read_bytes()
    encoding = text_encoding(raw[:4096])
    if encoding is None:
        raise InputError(f"{path}: looks like a binary file, not a JSON transcript (audio goes to `coach review`)")
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-8" if encoding.startswith("utf-8") else encoding.upper()
        raise InputError(f"{path}: not {name} text (byte {exc.start}); save the transcript as UTF-8") from None


#: Byte-order marks, UTF-32's first: its little-endian mark begins with UTF-16's.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def text_encoding(head: bytes) -> str | None:
    """How to decode a transcript that starts with ``head``: by its byte-order mark (UTF-8, UTF-16
    or UTF-32, either byte order), else UTF-8 unless it has NUL bytes, which in a JSON text mean
    UTF-16 or UTF-32 without a mark (told apart by where the NULs sit, as RFC 4627 describes).
    None: binary, such as audio."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    if b"\x00" not in head:
        return "utf-8"
    guess = json.detect_encoding(head)
    if guess.startswith(("utf-16", "utf-32")) and head.decode(guess, errors="ignore").lstrip().startswith(("{", "[")):
        return guess
    return None


def _looks_like_jsonl(text: str) -> bool:
    first_line = text.split("\n", 1)[0].strip()
    if not first_line.endswith("}"):
        return False
    try:
        jsontext.loads(first_line)
    except jsontext.JsonError:
        return False
    rest = text.split("\n", 1)[1].strip() if "\n" in text else ""
    return bool(rest)


def _parse_jsonl(path: Path, text: str) -> dict[str, Any]:
    header: dict[str, Any] = {}
    utterances: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = jsontext.loads(line)
        except jsontext.JsonError as exc:
            raise InputError(f"{path}: line {number}: not valid JSON: {exc.msg}") from None
        if isinstance(item, dict) and "text" not in item and not utterances and not header:
            header = item
            continue
        utterances.append(item)
    return {**header, "utterances": utterances}


def check_roles(roles: tuple[str, ...]) -> None:
    """Refuse channel roles that are wrong whatever the file: an empty or unknown name, or a party
    named twice (each channel of a recording carries one party, so two channels of "agent" would
    leave the call without a debtor), on a recording as on a live call. Their number is checked
    against the channels later (``coach.review.pipeline.check_channel_roles``, ``coach.live.StreamSpec``)."""
    given = ",".join(roles)
    hint = "name one role per channel, in channel order, e.g. agent,debtor"
    if not roles or not all(roles):
        raise InputError(f"roles {given!r}: a role is empty", hint=hint)
    unknown = next((role for role in roles if role not in SPEAKERS), None)
    if unknown is not None:
        raise InputError(f"unknown role {unknown!r} in roles {given!r}; use {', '.join(SPEAKERS)}", hint=hint)
    repeated = next((role for index, role in enumerate(roles) if role in roles[:index]), None)
    if repeated is not None:
        raise InputError(f"roles {given!r} name {repeated!r} twice: each channel carries a different party", hint=hint)
