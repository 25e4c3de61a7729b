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
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from coach.audio.formats import AudioFormat, StreamDecoder
from coach.audio.recognizer import SpeechRecognizer, load_recognizer
from coach.audio.segmenter import SegmenterOptions
from coach.audio.streaming import Final, Partial, StreamingOptions, StreamingTranscriber
from coach.config import Settings, get_settings
from coach.engine import CallSession, CoachEngine
from coach.errors import ConfigError, InputError
from coach.events import BaseEvent, PartialEvent
from coach.transcript import SPEAKERS, Utterance

#: Threads that decode the channels of calls in parallel (shared by all calls in the process).
_CHANNEL_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="channel")


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
        unknown = [r for r in self.channel_roles if r not in SPEAKERS]
        if unknown:
            raise InputError(f"unknown channel role {unknown[0]!r}; use {', '.join(SPEAKERS)}")


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
        events += self.session.finish()
        return self._stamp(events)

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
