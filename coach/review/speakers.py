"""Who is speaking in a mono recording: the agent or the debtor.

A two-channel recording keeps the parties apart; a mono one mixes them, and every clip that
:func:`coach.review.recording.transcribe_channels` finds is on channel 0. The roles are told apart in
two explainable steps, with no downloaded model:

1. **Voices.** Each clip is cut into segments of about a second; each segment gets a voice print
   (MFCC means and spreads: the shape of the speaker's vocal tract and channel, plus the median
   pitch), and the segments fall into two groups by Ward clustering. A clip's voice is the one most
   of its segments belong to. The split is trusted only when it is clearly real: the groups are
   apart (silhouette), the segments of one clip agree on a voice (a random split of one voice puts
   a clip's segments in both groups), and the smaller voice has a real share of the speech.
2. **Roles.** The playbook says what each party says: stage cues, scripted answers and the agent
   rules' triggers are agent speech; objection examples, identity confirmations and ordinary
   answers are debtor speech. A classifier fitted on those texts in the engine's own feature space
   gives every clip the log-odds that the agent said it. With two voices, the voice whose clips add
   up to more agent evidence is the agent (with weak call-centre priors: the agent speaks more, and
   often first). Without two trustworthy voices, each clip is classified on its own text with a
   two-state hidden Markov model whose transitions favour turn-taking (forward-backward posteriors).

The method's limits are set out in docs/review.md ("Mono recordings: who is speaking").
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from coach.audio.files import RATE

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

    from coach.analyzers.features import Features
    from coach.engine import CoachEngine
    from coach.playbook.schema import Matcher, Playbook
    from coach.review.recording import Clip

AGENT, DEBTOR = "agent", "debtor"

# -- voices ---------------------------------------------------------------------------------------

#: Length of the segments a clip is cut into: long enough for stable statistics, short enough that
#: a clip gives several (their agreement is the test of a real voice split).
SEGMENT_SECONDS = 1.0
#: Spectrogram and pitch frames are 10 ms apart.
HOP = RATE // 100
FRAMES_PER_SECOND = RATE // HOP
#: Shortest speech that gets a voice print: less says too little about the voice.
MIN_PRINT_SECONDS = 0.25
#: Quietest share of frames left out of a segment's voice print (pauses, breaths, plosive gaps).
QUIET_FRAME_SHARE = 0.3
#: MFCCs kept (c1..c19; c0 is loudness, which says more about the microphone gain than the voice).
MFCC_COUNT = 19
#: Pitch search range (Hz) and the normalised autocorrelation a frame needs to count as voiced.
PITCH_RANGE = (60.0, 400.0)
VOICING_THRESHOLD = 0.5
#: A voice split is trusted when all of these hold. Measured on the bundled samples mixed down to
#: mono (a male and a female espeak-ng voice): silhouette 0.24-0.36, clip agreement 0.90-1.00; on
#: the same calls re-synthesised with one voice for both parties: silhouette 0.07-0.15, agreement
#: 0.69-0.87. A split that isolates a handful of odd segments can look clean; the share rule
#: catches it.
MIN_SILHOUETTE = 0.2
MIN_AGREEMENT = 0.88
MIN_VOICE_SHARE = 0.15
MIN_SEGMENTS = 6
#: A clip whose majority voice has less than this share of its segments holds two voices.
MIXED_CLIP_AGREEMENT = 0.75
#: Ward clustering is quadratic in memory: longer calls are clustered on an even subsample and
#: every segment then goes to the nearest group centre.
MAX_CLUSTERED_SEGMENTS = 3000

# -- roles ----------------------------------------------------------------------------------------

#: Per-clip text evidence is capped: one confident clip must not outvote a whole voice, and ASR
#: errors make single clips unreliable.
MAX_CLIP_LOG_ODDS = 3.0
#: Log-odds added per clip for a stage cue the agent says, and taken off for a debtor objection
#: the playbook's detector recognises.
STAGE_CUE_LOG_ODDS = 0.5
OBJECTION_LOG_ODDS = 0.5
#: Call-centre priors (log-odds), deliberately weak next to the text: the agent talks more than
#: the debtor (per unit of talk-share difference), and the agent usually opens (outbound calls
#: often start with the debtor's "hello", hence the small weight).
TALK_SHARE_LOG_ODDS = 1.0
FIRST_SPEAKER_LOG_ODDS = 0.3
#: Text-only fallback: probability that the next clip is the other party. Mono clips are cut at
#: short pauses, so a long turn sometimes comes as two clips: alternation is likely, not certain.
SWITCH_PROBABILITY = 0.7
#: Regularisation of the role classifier: moderate, because the two classes are written in
#: different registers (scripted answers vs ASR-style debtor speech) and must not be told apart by
#: punctuation-like accidents alone.
ROLE_CLASSIFIER_C = 1.0


@dataclass(frozen=True)
class SpeakerAssignment:
    """The role of every clip of a mono recording, with how it was decided."""

    roles: list[str]  # "agent" | "debtor", one per clip
    method: str  # "voice+text", "text" or "none"
    confidence: float  # 0-1, how sure the split is
    detail: str = ""  # one line for logs and reports


def assign_speakers(audio: np.ndarray, clips: list[Clip], engine: CoachEngine) -> SpeakerAssignment:
    """Agent or debtor for each clip of a mono recording (``audio``: (1, samples) or (samples,),
    float32 16 kHz; ``clips`` from :func:`~coach.review.recording.transcribe_channels`)."""
    if not clips:
        return SpeakerAssignment([], "none", 0.0, "no speech")
    samples = np.asarray(audio, dtype=np.float32)
    samples = samples.mean(axis=0) if samples.ndim == 2 else samples
    evidence = agent_log_odds(engine, [c.text for c in clips])
    voices = find_voices(samples, clips)
    if voices.trusted:
        return _roles_by_voice(clips, voices, evidence)
    return _roles_by_text(clips, evidence, voices.summary)


# -- voices ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VoiceSplit:
    """Two voices found among the clips, and whether the split can be trusted."""

    labels: np.ndarray  # voice 0 or 1 per clip
    silhouette: float
    agreement: float  # mean share of a multi-segment clip's segments in its majority voice
    mixed: int  # clips whose segments are split between voices (overlap, or a turn change inside)
    trusted: bool
    summary: str  # why (not) trusted, for the detail line


def find_voices(samples: np.ndarray, clips: list[Clip]) -> VoiceSplit:
    """Cluster the clips' segments into two voices and judge whether they are two people: the
    groups are apart, the segments of a clip agree, and neither voice is a handful of odd segments."""
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    owners, prints = _voice_prints(samples, clips)
    if len(prints) < MIN_SEGMENTS:
        return _untrusted(len(clips), f"too little speech for voices ({len(prints)} segments)")
    scaled = StandardScaler().fit_transform(prints)
    segment_labels = _two_groups(scaled)
    sample = None if len(scaled) <= MAX_CLUSTERED_SEGMENTS else MAX_CLUSTERED_SEGMENTS
    silhouette = float(silhouette_score(scaled, segment_labels, sample_size=sample, random_state=0))
    labels, agreements = _clip_voices(owners, segment_labels, len(clips))
    agreement = float(np.mean(agreements)) if agreements else 0.0
    mixed = sum(a < MIXED_CLIP_AGREEMENT for a in agreements)
    smaller = float(min(segment_labels.mean(), 1 - segment_labels.mean()))
    problems = []
    if silhouette < MIN_SILHOUETTE:
        problems.append(f"silhouette {silhouette:.2f} < {MIN_SILHOUETTE}")
    if agreement < MIN_AGREEMENT:
        problems.append(f"clip agreement {agreement:.2f} < {MIN_AGREEMENT}")
    if smaller < MIN_VOICE_SHARE:
        problems.append(f"smaller voice {smaller:.0%} of speech")
    if problems:
        return VoiceSplit(labels, silhouette, agreement, mixed, False, f"no reliable 2-voice split ({'; '.join(problems)})")
    summary = f"2 voices (silhouette {silhouette:.2f}, clip agreement {agreement:.2f}"
    summary += f", {mixed} clips hold both)" if mixed else ")"
    return VoiceSplit(labels, silhouette, agreement, mixed, True, summary)


def _untrusted(count: int, summary: str) -> VoiceSplit:
    return VoiceSplit(np.zeros(count, dtype=int), 0.0, 0.0, 0, False, summary)


def _voice_prints(samples: np.ndarray, clips: list[Clip]) -> tuple[np.ndarray, np.ndarray]:
    """(clip index, voice print) of every segment; segments too short or silent are left out.

    One spectrogram and one pitch track per clip, cut into segments. BLAS is held to one thread:
    the matrices are small, and spinning threads cost more than they save on a busy server."""
    from threadpoolctl import threadpool_limits

    owners, prints = [], []
    with threadpool_limits(limits=1, user_api="blas"):
        for index, clip in enumerate(clips):
            piece = samples[int(clip.start * RATE) : int(clip.end * RATE)]
            if len(piece) < MIN_PRINT_SECONDS * RATE or not np.any(piece):
                continue
            log_mel = log_mel_spectrogram(piece)
            pitch = frame_pitch(piece)
            for start, end in _segments(0.0, len(piece) / RATE):
                frames = slice(int(start * FRAMES_PER_SECOND), int(end * FRAMES_PER_SECOND))
                vector = _voice_print(log_mel[:, frames], pitch[frames])
                if vector is not None:
                    owners.append(index)
                    prints.append(vector)
    if not prints:
        return np.zeros(0, dtype=int), np.zeros((0, 2 * MFCC_COUNT + 1))
    matrix = np.array(prints)
    # Unvoiced segments have no pitch: give them the average so the column stays neutral for them.
    pitch_column = matrix[:, -1]
    matrix[np.isnan(pitch_column), -1] = np.nanmean(pitch_column) if np.isfinite(pitch_column).any() else 0.0
    return np.array(owners), matrix


def _segments(start: float, end: float) -> list[tuple[float, float]]:
    """A clip cut into equal pieces of about :data:`SEGMENT_SECONDS` (one piece if shorter)."""
    count = max(1, int((end - start) / SEGMENT_SECONDS))
    edges = np.linspace(start, end, count + 1)
    return list(zip(edges[:-1].tolist(), edges[1:].tolist()))


def _voice_print(log_mel: np.ndarray, pitch: np.ndarray) -> np.ndarray | None:
    """MFCC means and standard deviations over the louder frames, and the median log pitch."""
    from scipy.fft import dct

    if log_mel.shape[1] < MIN_PRINT_SECONDS * FRAMES_PER_SECOND:
        return None
    mfcc = dct(log_mel, type=2, norm="ortho", axis=0)[1 : MFCC_COUNT + 1]
    energy = log_mel.mean(axis=0)
    loud = mfcc[:, energy >= np.quantile(energy, QUIET_FRAME_SHARE)]
    voiced = pitch[np.isfinite(pitch)]
    median_pitch = float(np.log(np.median(voiced))) if len(voiced) >= 3 else np.nan
    return np.concatenate([loud.mean(axis=1), loud.std(axis=1), [median_pitch]])


def log_mel_spectrogram(piece: np.ndarray, frame: int = 400) -> np.ndarray:
    """(80 mel bands, frames) log10 power of 25 ms frames every 10 ms, with Whisper's mel filters
    and, like Whisper, floored 80 dB below the loudest value (digital silence would otherwise give
    arbitrary extremes)."""
    frames = np.lib.stride_tricks.sliding_window_view(piece, frame)[::HOP] * np.hanning(frame + 1)[:-1]
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    log_mel = np.log10(np.maximum(_mel_filters(frame) @ power.T, 1e-10))
    return np.maximum(log_mel, log_mel.max() - 8.0)


@lru_cache(maxsize=2)
def _mel_filters(frame: int) -> np.ndarray:
    from faster_whisper.feature_extractor import FeatureExtractor

    return FeatureExtractor.get_mel_filters(RATE, frame, n_mels=80)


def frame_pitch(piece: np.ndarray, frame: int = 640) -> np.ndarray:
    """Pitch (Hz) of every 40 ms frame, 10 ms apart (NaN where unvoiced), by normalised
    autocorrelation: cheap, and its occasional octave errors hardly move a median."""
    if len(piece) < frame:
        return np.zeros(0)
    frames = np.lib.stride_tricks.sliding_window_view(piece, frame)[::HOP] * np.hanning(frame)
    spectrum = np.fft.rfft(frames, 2 * frame)
    autocorrelation = np.fft.irfft(np.abs(spectrum) ** 2)[:, :frame]
    energy = autocorrelation[:, 0]
    normalised = autocorrelation / np.maximum(energy[:, None], 1e-12)
    low, high = int(RATE / PITCH_RANGE[1]), int(RATE / PITCH_RANGE[0])
    lags = low + normalised[:, low:high].argmax(axis=1)
    peaks = normalised[np.arange(len(lags)), lags]
    voiced = (peaks >= VOICING_THRESHOLD) & (energy > 1e-4 * energy.max())
    return np.where(voiced, RATE / lags, np.nan)


def _two_groups(scaled: np.ndarray) -> np.ndarray:
    """Ward clustering into two groups (on an even subsample for long calls, then every segment to
    the nearer group centre)."""
    from sklearn.cluster import AgglomerativeClustering

    step = max(1, int(np.ceil(len(scaled) / MAX_CLUSTERED_SEGMENTS)))
    subset = scaled[::step]
    groups = AgglomerativeClustering(n_clusters=2, linkage="ward").fit_predict(subset)
    if step == 1:
        return groups
    centres = np.stack([subset[groups == g].mean(axis=0) for g in (0, 1)])
    return np.linalg.norm(scaled[:, None, :] - centres[None], axis=2).argmin(axis=1)


def _clip_voices(owners: np.ndarray, segment_labels: np.ndarray, count: int) -> tuple[np.ndarray, list[float]]:
    """Each clip's voice by majority of its segments, and for every clip of two or more segments
    the share of them in its majority voice. The split's agreement is their plain mean, not weighted
    by length, so the few long clips where both parties talk at once do not hide how clean the
    ordinary turns are."""
    labels = np.full(count, -1, dtype=int)
    agreements = []
    for index in range(count):
        votes = np.bincount(segment_labels[owners == index], minlength=2)
        if votes.sum() == 0:
            continue  # no voice print: decided by its neighbour below
        labels[index] = int(votes.argmax())
        if votes.sum() >= 2:
            agreements.append(float(votes.max() / votes.sum()))
    _fill_unknown(labels)
    return labels, agreements


def _fill_unknown(labels: np.ndarray) -> None:
    """Clips without a voice print (under :data:`MIN_PRINT_SECONDS`, or silent) take the other
    voice than the clip before them: a short interjection is most often the other party's."""
    for index in np.flatnonzero(labels < 0):
        labels[index] = 1 - labels[index - 1] if index and labels[index - 1] >= 0 else 0


# -- text evidence ----------------------------------------------------------------------------------


def agent_log_odds(engine: CoachEngine, texts: list[str]) -> np.ndarray:
    """Log-odds, per text, that the agent said it: the role classifier's score (capped), plus a
    little for a stage cue and minus a little for a recognised objection."""
    if not texts:
        return np.zeros(0)
    features = engine.space.encode(texts)
    scores = np.clip(role_classifier(engine).decision_function(features.classifier_input()),
                     -MAX_CLIP_LOG_ODDS, MAX_CLIP_LOG_ODDS)
    return scores + np.array([_cue_log_odds(engine, features.row(i)) for i in range(len(texts))])


def _cue_log_odds(engine: CoachEngine, row: Features) -> float:
    score = STAGE_CUE_LOG_ODDS if engine.stages.detect(row) else 0.0
    intent = engine.detector.detect(row)
    if intent is not None and engine.playbook.intent(intent.intent).kind == "objection":
        score -= OBJECTION_LOG_ODDS
    return score


_CLASSIFIERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_CLASSIFIERS_LOCK = threading.Lock()


def role_classifier(engine: CoachEngine) -> LogisticRegression:
    """Agent-vs-debtor logistic regression on the playbook's own texts, fitted once per engine and
    cached on disk beside it: embedding every text of a playbook takes a minute on a small CPU, which
    each `coach review` of a mono call would otherwise pay again."""
    with _CLASSIFIERS_LOCK:
        model = _CLASSIFIERS.get(engine)
        if model is None:
            from coach import engine_cache

            cache_dir = engine.settings.cache_dir
            key = _role_cache_key(engine)
            cached = engine_cache.load(cache_dir, f"{engine.playbook.id}-roles", key) if key else None
            model = cached["roles"] if cached else None
            if model is None:
                model = _fit_role_classifier(engine)
                if key:
                    engine_cache.store(cache_dir, f"{engine.playbook.id}-roles", key, {"roles": model})
            _CLASSIFIERS[engine] = model
        return model


def _role_cache_key(engine: CoachEngine) -> str | None:
    """The engine's own key and this module's code: a change to either fits again."""
    engine_key = getattr(engine, "cache_key", None)
    if not engine_key:
        return None
    return hashlib.sha256(engine_key.encode() + Path(__file__).read_bytes()).hexdigest()


def _fit_role_classifier(engine: CoachEngine) -> LogisticRegression:
    from sklearn.linear_model import LogisticRegression

    agent, debtor = role_texts(engine.playbook)
    features = engine.space.encode(agent + debtor)
    labels = np.array([1] * len(agent) + [0] * len(debtor))
    model = LogisticRegression(C=ROLE_CLASSIFIER_C, class_weight="balanced", max_iter=2000)
    return model.fit(features.classifier_input(), labels)


def role_texts(playbook: Playbook) -> tuple[list[str], list[str]]:
    """(agent texts, debtor texts) of a playbook: every text whose speaker the format fixes."""
    agent: list[str] = list(playbook.compliant_agent_examples)
    debtor: list[str] = list(playbook.non_objection_examples)
    for stage in playbook.stages:
        agent += _texts(stage.cues)
        debtor += _texts(stage.confirmations)
    for intent in playbook.intents:
        agent += [response.text for response in intent.responses]
        debtor += intent.examples + _texts(intent.keywords)
    for emotion in playbook.emotions:
        debtor += emotion.examples
    for rule in playbook.rules:
        (agent if rule.speaker == AGENT else debtor).extend(_texts(rule.trigger) + _texts(rule.anytime))
        agent += _texts(rule.acknowledged)  # the agent saying the debtor asked
        debtor += _texts(rule.after_debtor)
    for check in playbook.scorecard:
        agent += _texts(check.cues)
    return _unique(agent), _unique(debtor)


def _texts(matcher: Matcher | None) -> list[str]:
    return matcher.phrases + matcher.examples if matcher is not None else []


def _unique(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(t for t in texts if t.strip()))


# -- roles ------------------------------------------------------------------------------------------


def _roles_by_voice(clips: list[Clip], voices: VoiceSplit, evidence: np.ndarray) -> SpeakerAssignment:
    """The voice with more agent evidence (text, then the weak call-centre priors) is the agent."""
    scores = _voice_scores(clips, voices, evidence)
    agent_voice = int(scores[1] > scores[0])
    certainty = 1.0 / (1.0 + np.exp(-abs(scores[1] - scores[0])))  # P(this way round), from the log-odds
    roles = [AGENT if label == agent_voice else DEBTOR for label in voices.labels]
    agent, debtor = "AB"[agent_voice], "AB"[1 - agent_voice]
    detail = (f"{voices.summary}; agent = voice {agent} (agent evidence {scores[agent_voice]:+.1f} vs "
              f"{scores[1 - agent_voice]:+.1f} for voice {debtor})")
    return SpeakerAssignment(roles, "voice+text", round(float(voices.agreement * certainty), 3), detail)


def _voice_scores(clips: list[Clip], voices: VoiceSplit, evidence: np.ndarray) -> list[float]:
    """Log-odds that each voice is the agent: its clips' text evidence, its talk share and whether
    it spoke first."""
    durations = np.array([max(0.0, c.end - c.start) for c in clips])
    total = max(float(durations.sum()), 1e-9)
    scores = []
    for voice in (0, 1):
        mine = voices.labels == voice
        share = float(durations[mine].sum()) / total
        score = float(evidence[mine].sum()) + TALK_SHARE_LOG_ODDS * (2 * share - 1)
        score += FIRST_SPEAKER_LOG_ODDS if voices.labels[0] == voice else -FIRST_SPEAKER_LOG_ODDS
        scores.append(score)
    return scores


def _roles_by_text(clips: list[Clip], evidence: np.ndarray, voice_summary: str) -> SpeakerAssignment:
    """Each clip by its text, smoothed by turn-taking (two-state HMM, forward-backward)."""
    posterior = turn_posteriors(evidence)
    roles = [AGENT if p >= 0.5 else DEBTOR for p in posterior]
    durations = np.array([max(1e-3, c.end - c.start) for c in clips])
    confidence = float(np.average(np.maximum(posterior, 1 - posterior), weights=durations))
    agents = roles.count(AGENT)
    detail = f"{voice_summary}; roles from text with turn-taking: {agents} agent, {len(roles) - agents} debtor clips"
    return SpeakerAssignment(roles, "text", round(confidence, 3), detail)


def turn_posteriors(log_odds: np.ndarray, switch: float = SWITCH_PROBABILITY) -> np.ndarray:
    """P(agent) per clip under a two-state HMM: emissions from the clips' agent log-odds, and a
    transition matrix that prefers the other party to speak next."""
    count = len(log_odds)
    if count == 0:
        return np.zeros(0)
    # Likelihoods up to a common factor: P(text | agent) : P(text | debtor) = exp(log-odds) : 1.
    emissions = np.stack([1.0 / (1.0 + np.exp(log_odds)), 1.0 / (1.0 + np.exp(-log_odds))], axis=1)  # [debtor, agent]
    transition = np.array([[1 - switch, switch], [switch, 1 - switch]])
    forward = np.zeros((count, 2))
    forward[0] = 0.5 * emissions[0]
    forward[0] /= forward[0].sum()
    for t in range(1, count):
        forward[t] = emissions[t] * (forward[t - 1] @ transition)
        forward[t] /= forward[t].sum()
    backward = np.ones((count, 2))
    for t in range(count - 2, -1, -1):
        backward[t] = transition @ (emissions[t + 1] * backward[t + 1])
        backward[t] /= backward[t].sum()
    posterior = forward * backward
    return posterior[:, 1] / posterior.sum(axis=1)
