"""A call streamed live: audio channels -> streaming transcribers -> the coaching engine -> events.

The same :class:`~coach.engine.CallSession` that analyses transcripts analyses live speech, so a
recorded call replayed through here gives what the agent would have seen. :meth:`LiveCall.feed` is
cheap and never waits (it checks a frame and queues it); :meth:`LiveCall.process` and
:meth:`LiveCall.finish` decode the queued frames and run the models, and block, so servers call them
off the event loop.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from coach.audio.formats import AudioFormat, StreamDecoder
from coach.audio.recognizer import SpeechRecognizer, load_recognizer
from coach.audio.segmenter import RATE, SegmenterOptions
from coach.audio.streaming import Final, Partial, StreamingOptions, StreamingTranscriber
from coach.config import Settings, get_settings
from coach.engine import CallSession, CoachEngine
from coach.errors import CoachError, ConfigError, InputError
from coach.events import BaseEvent, PartialEvent, WarningEvent
from coach.transcript import LANGUAGE_NAMES, CallWarning, Utterance, check_roles

if TYPE_CHECKING:
    from coach.review.language import SpokenLanguage

log = logging.getLogger(__name__)

#: Threads that decode the channels of calls in parallel (shared by all calls in the process).
_CHANNEL_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="channel")
#: The thread that checks live calls' languages, one call at a time: each check is a Whisper encoder
#: pass or two, which two at once would only make slower, and the calls' decodes with them.
_LANGUAGE_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="language")
#: Longest a language check waits for the speech models to be idle (seconds) before it listens anyway.
LANGUAGE_CHECK_PATIENCE = 5.0
#: Longest the end of a call waits for its language check, all listens together (seconds): the
#: scorecard waits for it, on a thread the server's other calls share.
LANGUAGE_CHECK_WAIT = 8.0


def load_speech_model(language: str, settings: Settings | None = None) -> SpeechRecognizer:
    """The shared speech model for ``language``."""
    settings = settings or get_settings()
    name = settings.asr_model(language)
    if not name:
        raise ConfigError(
            f"no speech model is configured for {language!r}",
            hint="set COACH_ASR_MODEL_ZH to a multilingual faster-whisper model (the default is 'whisper-base', bundled)",
        )
    asr = speech_model_named(name, settings)
    if language != "en" and not asr.multilingual:
        raise ConfigError(f"speech model {name!r} is English-only and cannot transcribe {language!r}")
    return asr


def speech_model_named(name: str, settings: Settings) -> SpeechRecognizer:
    """The shared speech model ``name``, loaded with the configured device, threads and cache."""
    return load_recognizer(name, device=settings.device, compute_type=settings.asr_compute_type, cpu_threads=settings.asr_threads,
                           workers=settings.asr_workers, allow_downloads=settings.allow_downloads, cache_dir=settings.cache_dir)


@dataclass(frozen=True)
class StreamSpec:
    """What a client declares before sending audio."""

    call_id: str
    language: str
    audio: AudioFormat
    channel_roles: tuple[str, ...]
    metadata: dict[str, Any]

    def __post_init__(self) -> None:
        if len(self.channel_roles) != self.audio.channels:
            raise InputError(f"channel_roles names {len(self.channel_roles)} parties for {self.audio.channels} channel(s)")
        check_roles(self.channel_roles)


class LanguageCheck:
    """Whether a live call is spoken in the language it was started with, decided once per call.

    A call started as English and spoken in Chinese (or the reverse) is transcribed as nonsense in the
    wrong language, and the nonsense can even break rules. The speech of finalised utterances (any
    channel, without the silence around them) is gathered, and the configured language-id model hears
    it as a recorded review does (:func:`coach.review.language.spoken_language`): a quick listen once
    there is :data:`~coach.review.language.QUICK_SAMPLE_SECONDS` of speech settles most calls; an
    unsure one is heard again in full once there is :data:`~coach.review.language.SAMPLE_SECONDS` of
    it (or when the call ends). What is heard is judged by the review's rule
    (:meth:`~coach.review.language.SpokenLanguage.contradicts`): a contradiction is a
    ``language_mismatch`` warning (:func:`live_language_warning`).

    The listening runs on a thread of its own, one call at a time, and waits (a while) for the speech
    models to be idle, so no hint waits for it; :meth:`update` never blocks unless asked to. A check
    that fails (the model is missing, an error) is logged, and the call goes on unchecked."""

    def __init__(self, call_id: str, declared: str, settings: Settings, *, yield_to: Sequence[object] = ()) -> None:
        from coach.review.language import QUICK_SAMPLE_SECONDS, SAMPLE_SECONDS

        self.call_id = call_id
        self.declared = declared
        self.settings = settings
        #: Speech models whose decodes go first: a listen starts when none of them is busy.
        self.yield_to = tuple(yield_to)
        self.quick_samples = int(QUICK_SAMPLE_SECONDS * RATE)
        self.full_samples = int(SAMPLE_SECONDS * RATE)
        self._speech: list[np.ndarray] = []
        self._gathered = 0
        self._listening: Future[SpokenLanguage] | None = None
        self._listening_in_full = False
        #: A quick listen that was not sure: the full one decides.
        self._unsure: SpokenLanguage | None = None
        #: Listens started (quick, then full).
        self.listens = 0
        #: Nothing more to do: decided, failed, or the call ended with too little speech.
        self.done = False
        #: What was heard, once decided (None: not yet, or never).
        self.heard: SpokenLanguage | None = None

    @property
    def started(self) -> bool:
        return self.listens > 0

    @property
    def wants_speech(self) -> bool:
        """Whether more speech could still be used."""
        return not self.done and self._gathered < self.full_samples

    @property
    def speech_seconds(self) -> float:
        """Speech gathered so far."""
        return self._gathered / RATE

    def update(self, speech: Sequence[np.ndarray] = (), *, ending: bool = False, wait: float = 0.0) -> CallWarning | None:
        """Gather ``speech`` (the call's newly finalised utterances), take a listen's answer when it is
        in, and start the next listen when it is due. Returns the ``language_mismatch`` warning the
        moment the check finds one (once). ``ending``: the call is over, so listen to what there is
        (without waiting for the speech models to be idle) and wait up to ``wait`` seconds in all."""
        if self.done:
            return None
        self._gather(speech)
        deadline = time.monotonic() + wait
        while True:
            if self._listening is not None:
                if not ending and not self._listening.done():
                    return None
                heard = self._answer(self._listening, max(0.01, deadline - time.monotonic()) if ending else None)
                self._listening = None
                if heard is None:
                    return None
                if self._listening_in_full or heard.settled:
                    return self._decide(heard)
                self._unsure = heard
            full = self._unsure is not None
            if full:  # the full listen: at 30 s of speech, or at the end with what there is
                due = self._gathered >= self.full_samples or ending
            else:
                due = self.listens == 0 and self._gathered >= self.quick_samples
            if not due:
                if ending:  # too little speech to tell
                    self._finish()
                return None
            self._listen(full, patient=not ending)

    def _gather(self, speech: Sequence[np.ndarray]) -> None:
        for stretch in speech:
            if self._gathered >= self.full_samples:
                return
            stretch = stretch[: self.full_samples - self._gathered]
            if len(stretch):
                self._speech.append(stretch)
                self._gathered += len(stretch)

    def _listen(self, full: bool, *, patient: bool = True) -> None:
        sample = np.concatenate(self._speech)
        self._speech = [sample]
        self.listens += 1
        self._listening_in_full = full
        self._listening = _LANGUAGE_POOL.submit(self._hear, sample, full, patient)

    def _hear(self, sample: np.ndarray, full: bool, patient: bool = True) -> SpokenLanguage:
        """On the language thread: one listen, once the speech models are idle (or have been busy for
        :data:`LANGUAGE_CHECK_PATIENCE`; at once when not ``patient``: the call has ended)."""
        from coach.review.language import listen

        model = speech_model_named(self.settings.language_id_model, self.settings)
        deadline = time.monotonic() + (LANGUAGE_CHECK_PATIENCE if patient else 0.0)
        while time.monotonic() < deadline and any(getattr(m, "busy", False) for m in (model, *self.yield_to)):
            time.sleep(0.05)
        return listen(model, sample, quick=not full)

    def _answer(self, listening: Future[SpokenLanguage], wait: float | None) -> SpokenLanguage | None:
        """A listen's answer (waiting up to ``wait`` seconds; None: it is done); None, and the check
        given up, when it failed or took too long (a listen still queued is then dropped)."""
        try:
            return listening.result(timeout=wait)
        except FutureTimeout:
            listening.cancel()
            log.warning("the call's language check took more than %g s; the call ends unchecked", wait,
                        extra={"call_id": self.call_id, "event": "language_check"})
        except Exception as exc:  # a missing model, one that cannot tell languages apart, a bug
            log.warning("the call's language could not be checked: %s", exc, exc_info=not isinstance(exc, CoachError),
                        extra={"call_id": self.call_id, "event": "language_check"})
        self._finish()
        return None

    def _decide(self, heard: SpokenLanguage) -> CallWarning | None:
        self.heard = heard
        self._finish()
        log.info("speech heard as %s (%.2f) in %.1f s of speech", heard.code, heard.probability, self.speech_seconds,
                 extra={"call_id": self.call_id, "event": "language_check"})
        return live_language_warning(heard, self.declared)

    def _finish(self) -> None:
        self.done = True
        self._speech = []


def live_language_warning(heard: SpokenLanguage, declared: str) -> CallWarning | None:
    """``language_mismatch`` when ``heard`` contradicts the language a live call was started with:
    what was heard, in the recorded review's words, and what to do."""
    from coach.review.language import SUPPORTED

    if not heard.contradicts(declared):
        return None
    advice = (f"restart the call with language {heard.code} ({heard.name})" if heard.code in SUPPORTED
              else "coach coaches English and Chinese calls only")
    return CallWarning(code="language_mismatch", message=(
        f"{heard.described}, but the call was started as {LANGUAGE_NAMES.get(declared, declared)}: its "
        f"transcript and hints are most likely wrong; {advice}"))


class LiveCall:
    def __init__(self, spec: StreamSpec, engine: CoachEngine, asr: SpeechRecognizer, settings: Settings | None = None) -> None:
        settings = settings or get_settings()
        if engine.language != spec.language:
            raise InputError(f"playbook {engine.playbook.id!r} is for {engine.language!r}, the call is {spec.language!r}")
        self.spec = spec
        self.engine = engine
        options = StreamingOptions(segmenter=SegmenterOptions(end_silence_ms=settings.end_silence_ms),
                                   end_on_full_stop=settings.end_on_full_stop,
                                   partial_interval_ms=settings.partial_interval_ms_zh if spec.language == "zh"
                                   else settings.partial_interval_ms)
        self.transcribers = [StreamingTranscriber(asr, spec.language, options) for _ in spec.channel_roles]
        self.session: CallSession = engine.session(spec.call_id, metadata=spec.metadata)
        self.received_bytes = 0
        self._decoder: StreamDecoder | None = StreamDecoder(spec.audio)
        #: Frames accepted by feed() and not yet given to the transcribers (process() takes them).
        self._frames: deque[bytes] = deque()
        self._frames_lock = threading.Lock()
        self._transcript: list[tuple[str, str, float, float]] = []
        #: Finals not analysed yet: (start, channel, arrival, final), a heap in spoken order.
        self._held: list[tuple[float, int, int, Final]] = []
        self._arrivals = itertools.count()
        self._order_wait = settings.spoken_order_wait_ms / 1000
        self._events: list[BaseEvent] = []
        self.finished = False
        #: The call's language check (None: no language-id model is configured).
        self.language_check: LanguageCheck | None = None
        if settings.language_id_model:
            self.language_check = LanguageCheck(spec.call_id, spec.language, settings, yield_to=(asr,))
            for transcriber in self.transcribers:
                transcriber.keep_speech = True

    @property
    def received_seconds(self) -> float:
        return self.spec.audio.seconds(self.received_bytes)

    @property
    def lag(self) -> float:
        """Seconds of received audio not yet analysed."""
        processed = min(t.processed_seconds for t in self.transcribers)
        return max(0.0, self.received_seconds - processed)

    def start(self) -> list[BaseEvent]:
        return self._stamp(self.session.start())

    def feed(self, data: bytes) -> None:
        """Accept one binary frame (channels interleaved). Raises InputError for a malformed frame,
        which is then ignored: audio accepted before it is kept.

        Never waits for the models (the event loop calls it while a decode may hold a channel): the
        frame is queued, and decoded and handed to the transcribers by the next process()."""
        self.spec.audio.check(data)
        with self._frames_lock:
            self._frames.append(bytes(data))
            self.received_bytes += len(data)

    def _take_frames(self, *, last: bool = False) -> None:
        """Decode the queued frames and give each channel its samples (on the processing thread)."""
        with self._frames_lock:
            frames = list(self._frames)
            self._frames.clear()
        if not frames and not last:
            return
        assert self._decoder is not None, "audio after the call finished"
        decoded = self._decoder.decode(b"".join(frames), last=last)
        for index, transcriber in enumerate(self.transcribers):
            with transcriber.lock:
                transcriber.insert_audio(decoded[index])

    def process(self) -> list[BaseEvent]:
        """Transcribe and analyse what has arrived. Blocking.

        Channels decode in parallel (the speech model has several workers), so one party's final
        never waits behind the other party's partial."""
        self._take_frames()
        if len(self.transcribers) == 1:
            results = [self._process_channel(self.transcribers[0])]
        else:
            results = list(_CHANNEL_POOL.map(self._process_channel, self.transcribers))
        events = self._partials_and_hold(results)
        events += self._release(self._settled())
        events += self._check_language()
        return self._stamp(events)

    def _process_channel(self, transcriber: StreamingTranscriber) -> list[Partial | Final]:
        with transcriber.lock:
            return transcriber.process()

    def finish(self) -> list[BaseEvent]:
        """Flush every channel, then close the call (deadlines, scorecard). Blocking; idempotent."""
        if self.finished:
            return []
        self.finished = True
        self._take_frames(last=True)
        self._decoder = None  # its resampler is done; freed now rather than at interpreter exit
        results = []
        for transcriber in self.transcribers:
            with transcriber.lock:
                results.append(transcriber.finish())
        events = self._partials_and_hold(results)
        events += self._release(None)
        events += self._check_language(ending=True)
        events += self.session.finish()
        return self._stamp(events)

    def _check_language(self, *, ending: bool = False) -> list[BaseEvent]:
        """Hand the speech finalised since the last time to the language check, which listens on its
        own thread; its warning, the moment it has one, as a ``warning`` event. Waits for the check
        only when the call is ``ending``."""
        check = self.language_check
        if check is None or check.done:
            return []
        speech = []
        for transcriber in self.transcribers:
            with transcriber.lock:
                speech += transcriber.take_speech()
                transcriber.keep_speech = check.wants_speech
        warning = check.update(speech, ending=ending, wait=LANGUAGE_CHECK_WAIT)
        if check.done:
            for transcriber in self.transcribers:
                transcriber.keep_speech = False
        if warning is None:
            return []
        return [WarningEvent(call_id=self.spec.call_id, utterance_id=None,
                             time=round(min(t.processed_seconds for t in self.transcribers), 3),
                             code=warning.code, message=warning.message)]

    @property
    def transcript(self) -> list[tuple[str, str, float, float]]:
        """(speaker, text, start, end) of every final utterance analysed so far."""
        return list(self._transcript)

    def _partials_and_hold(self, results: list[list[Partial | Final]]) -> list[BaseEvent]:
        """Partials go out at once; finals wait in :attr:`_held` for their turn."""
        events: list[BaseEvent] = []
        for channel, (role, found) in enumerate(zip(self.spec.channel_roles, results)):
            for item in found:
                if isinstance(item, Partial):
                    events.append(PartialEvent(
                        call_id=self.spec.call_id, utterance_id=None, time=item.start, speaker=role, text=item.text,
                        stable_text=item.stable_text, stable=item.stable_text == item.text, start=item.start,
                        end=item.end,
                    ))
                else:
                    heapq.heappush(self._held, (item.start, channel, next(self._arrivals), item))
        return events

    def _settled(self) -> list[float]:
        return [t.settled_seconds for t in self.transcribers]

    def _release(self, settled: list[float] | None) -> list[BaseEvent]:
        """Analyse the held finals in spoken order (by start time across channels).

        A final is analysed once no other channel can still report an utterance that started before
        it (``settled``: each channel's :attr:`StreamingTranscriber.settled_seconds`; None at the end
        of the call releases everything), or once the other party has talked over it for
        ``spoken_order_wait_ms`` of audio past its end (the wait is bounded, so a long overlap never
        holds back the hints)."""
        events: list[BaseEvent] = []
        wait = self._order_wait
        while self._held:
            start, channel, _, final = self._held[0]
            if settled is not None:
                blocked = [c for c, time in enumerate(settled) if c != channel and time < start]
                heard = min(t.processed_seconds for t in self.transcribers)
                if blocked and heard - final.end < wait:
                    break
            heapq.heappop(self._held)
            role = self.spec.channel_roles[channel]
            self._transcript.append((role, final.text, final.start, final.end))
            events += self.session.process(Utterance(speaker=role, text=final.text, start=final.start, end=final.end))
        return events

    @property
    def session_events(self) -> list[BaseEvent]:
        """Every engine event of the call so far (no partials): what outcome and summary are read from."""
        return list(self._events)

    def _stamp(self, events: list[BaseEvent]) -> list[BaseEvent]:
        now, lag = time.time(), round(self.lag, 3)
        for event in events:
            event.emitted_at = now
            event.lag = lag
        self._events += [e for e in events if not isinstance(e, PartialEvent)]
        return events
