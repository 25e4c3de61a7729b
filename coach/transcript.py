"""Calls and utterances, and reading them from JSON or JSON Lines with errors a user can act on."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from coach.config import Settings, get_settings
from coach.errors import InputError, describe_validation_error
from coach.text.normalize import detect_language

Speaker = Literal["agent", "debtor", "third_party", "unknown"]
SPEAKERS: tuple[str, ...] = ("agent", "debtor", "third_party", "unknown")
#: Seconds one party's consecutive utterances may overlap (timestamp rounding) before it is an error.
OVERLAP_TOLERANCE = 0.25
#: Other names transcripts use for the same parties.
SPEAKER_ALIASES = {
    "collector": "agent", "rep": "agent", "representative": "agent", "operator": "agent", "caller": "agent",
    "customer": "debtor", "consumer": "debtor", "borrower": "debtor", "client": "debtor", "cardholder": "debtor",
    "third party": "third_party", "thirdparty": "third_party", "other": "unknown",
    "坐席": "agent", "催收员": "agent", "客服": "agent", "客户": "debtor", "债务人": "debtor", "借款人": "debtor",
}


class Utterance(BaseModel):
    """One turn of speech, times in seconds from the start of the call."""

    model_config = ConfigDict(extra="ignore")

    speaker: Speaker
    text: str
    start: float = Field(ge=0)
    end: float = Field(ge=0)

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


class CallMetadata(BaseModel):
    """What the rules need to know about the call beyond its words. Unknown keys are kept."""

    model_config = ConfigDict(extra="allow")

    agent_id: str | None = None
    team: str | None = None
    debtor_timezone: str | None = None
    #: The debtor's local time when the call started, "HH:MM" (else derived from started_at and
    #: debtor_timezone).
    local_time: str | None = Field(default=None, pattern=r"^\d{1,2}:\d{2}$")
    calls_last_7d: int | None = Field(default=None, ge=0)
    attempts_today: int | None = Field(default=None, ge=0)
    conversations_today: int | None = Field(default=None, ge=0)
    balance: float | None = None
    currency: str | None = None
    time_barred: bool | None = None
    first_contact: bool | None = None


class Call(BaseModel):
    model_config = ConfigDict(extra="ignore")

    call_id: str = Field(min_length=1)
    language: Literal["zh", "en"]
    started_at: datetime | None = None
    metadata: CallMetadata = Field(default_factory=CallMetadata)
    utterances: list[Utterance]

    @model_validator(mode="after")
    def _times_in_order(self) -> "Call":
        """Utterances in start order, and one party never overlapping itself (the two parties may:
        interruptions are real and the scorecard counts them)."""
        last_end: dict[str, tuple[int, float]] = {}
        for index, utterance in enumerate(self.utterances):
            if index and utterance.start < self.utterances[index - 1].start:
                raise ValueError(
                    f"utterance {index} starts at {utterance.start:g} s, before utterance {index - 1} "
                    f"({self.utterances[index - 1].start:g} s): utterances must be in time order"
                )
            previous = last_end.get(utterance.speaker)
            if previous and utterance.start < previous[1] - OVERLAP_TOLERANCE:
                raise ValueError(
                    f"utterance {index} ({utterance.speaker}) starts at {utterance.start:g} s, before the same "
                    f"speaker's utterance {previous[0]} ends ({previous[1]:g} s): overlapping times"
                )
            last_end[utterance.speaker] = (index, utterance.end)
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
    if stripped.startswith("{") and not _looks_like_jsonl(stripped):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}") from None
    elif stripped.startswith("{"):
        data = _parse_jsonl(path, text)
    else:
        raise InputError(f"{path}: not a call transcript: expected a JSON object or JSON Lines of utterances")
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object with call_id, language and utterances")
    data.setdefault("call_id", path.stem)
    if language:
        data["language"] = language
    elif "language" not in data and isinstance(data.get("utterances"), list):
        texts = [u.get("text", "") for u in data["utterances"] if isinstance(u, dict) and isinstance(u.get("text"), str)]
        data["language"] = detect_language(texts)
    return validate_call(data, source=str(path), settings=settings)


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
        for index, utterance in enumerate(utterances):
            text = utterance.get("text") if isinstance(utterance, dict) else None
            if isinstance(text, str) and len(text) > settings.max_utterance_chars:
                raise InputError(
                    f"{source}: utterance {index}, field text: {len(text)} characters is more than the limit of "
                    f"{settings.max_utterance_chars}; is this really one utterance?"
                )
    try:
        return Call.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"{source}: invalid call:\n{describe_validation_error(exc, limit=10, where=_where, message=_message)}") from None


def _where(loc: list[Any]) -> str:
    if len(loc) >= 2 and loc[0] == "utterances" and isinstance(loc[1], int):
        return f"utterance {loc[1]}" + (f", field {'.'.join(map(str, loc[2:]))}" if loc[2:] else "")
    return "field " + ".".join(map(str, loc)) if loc else "the call"


def _message(error: dict[str, Any]) -> str | None:
    loc = list(error["loc"])
    if error["type"] == "literal_error" and loc and loc[-1] == "speaker":
        return f"unknown speaker {error['input']!r}; expected one of {', '.join(SPEAKERS)}"
    if error["type"] == "literal_error" and loc == ["language"]:
        return f"unknown language {error['input']!r}; expected 'zh' or 'en'"
    return None


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
    if b"\x00" in raw[:4096]:
        raise InputError(f"{path}: looks like a binary file, not a JSON transcript (audio goes to `coach review`)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}); save the transcript as UTF-8") from None


def _looks_like_jsonl(text: str) -> bool:
    first_line = text.split("\n", 1)[0].strip()
    if not first_line.endswith("}"):
        return False
    try:
        json.loads(first_line)
    except json.JSONDecodeError:
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
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}: line {number}: not valid JSON: {exc.msg}") from None
        if isinstance(item, dict) and "text" not in item and not utterances and not header:
            header = item
            continue
        utterances.append(item)
    return {**header, "utterances": utterances}
