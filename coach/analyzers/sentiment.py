"""The debtor's emotion (fixed labels) and valence in [-1, 1].

Text decides by default, offline in both languages: a few-shot classifier over the playbook's emotion
examples, its cue phrases, and lexical valence. A transformers text-classification model can be
configured per language for valence. Acoustic cues (from the audio pipeline) shift the label between
high-arousal (angry, anxious) and low-arousal (distressed, evasive) emotions.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse import csr_matrix

from coach.analyzers.agent_speech import OFFENSIVE_THRESHOLD
from coach.analyzers.base import EVERYONE, Analyzer, Turn, register
from coach.analyzers.features import Features, FeatureSpace, class_probabilities, fit_logistic
from coach.analyzers.matcher import CompiledMatcher
from coach.errors import ModelUnavailableError
from coach.events import BaseEvent, SentimentEvent
from coach.languages import language_pack
from coach.models import offline_environment, resolve_model_path
from coach.playbook.schema import Playbook
from coach.text.lexical import LexicalEncoder
from coach.text.offensive import OffensiveLanguageDetector
from coach.text.valence import text_valence

if TYPE_CHECKING:
    from coach.engine import CallSession, CoachEngine

CUE_BOOST = 0.35
#: Weight of what the conversation suggests (an intent, a repetition), next to the words' classifier.
CONTEXT_BOOST = 0.3
#: Similarity to one of the debtor's earlier utterances that counts as saying it again.
REPEAT_SIMILARITY = 0.8
#: Below this share of probability the analyzer says ``calm`` unless valence is clearly negative.
EMOTION_THRESHOLD = 0.4
#: Arousal (mean z-score of pitch, loudness and rate against the speaker's baseline) of a raised voice.
RAISED_VOICE = 1.0
#: A pause written into the transcript (an ellipsis: "嗯……对……是我", "it's been... hard. since the
#: layoff"): low energy, as a long pause in the audio is (domain.md), so it weighs towards
#: the low-arousal emotions as a cue phrase would.
PAUSE_MARK = re.compile(r"\.{3,}|…")
PAUSE_BOOST = {"distressed": 0.2, "evasive": 0.1}
PAUSE_EVIDENCE = "trails off (…)"
#: Question after question in one turn (``LanguagePack.questions_asked``): the anxious debtor's
#: behaviour in domain.md, weighed as a pause is, unless the words read angry or frustrated.
QUESTIONS_ASKED = 2
QUESTIONS_BOOST = {"anxious": 0.2}
QUESTIONS_EVIDENCE = "asks question after question"
#: Behaviour that weighs on the label but shows no anger (the agent-tone check leaves it out).
NOT_ANGER = (PAUSE_EVIDENCE, QUESTIONS_EVIDENCE)
HIGH_AROUSAL = ("angry", "anxious", "frustrated")
LOW_AROUSAL = ("distressed", "evasive", "calm")


@dataclass(frozen=True)
class AcousticCues:
    """Prosody relative to the speaker's own baseline in the call (z-scores), from the audio pipeline."""

    pitch_z: float = 0.0
    loudness_z: float = 0.0
    rate_z: float = 0.0
    #: Share of the utterance that is pause.
    pause_ratio: float = 0.0

    @property
    def arousal(self) -> float:
        return (self.pitch_z + self.loudness_z + self.rate_z) / 3.0


@dataclass(frozen=True)
class SentimentResult:
    label: str
    valence: float
    confidence: float
    evidence: list[str] = field(default_factory=list)
    method: str = "lexical"


class ValenceModel:
    """A transformers text-classification model whose labels map onto valence."""

    POSITIVE = ("pos", "positive", "label_1", "5 stars", "4 stars", "joy", "happy")
    NEGATIVE = ("neg", "negative", "label_0", "1 star", "2 stars", "anger", "sadness", "fear")

    def __init__(self, name: str, *, allow_downloads: bool = False, device: str = "cpu") -> None:
        from transformers import pipeline

        offline_environment(allow_downloads)
        path = resolve_model_path(name, allow_downloads=allow_downloads, kind="sentiment model")
        try:
            self._pipeline = pipeline("text-classification", model=path, tokenizer=path, device=device, top_k=None)
        except Exception as exc:
            raise ModelUnavailableError(f"cannot load sentiment model {name!r} from {path}: {exc}") from None
        self.name = name
        self._lock = threading.Lock()

    def valence(self, text: str) -> float:
        with self._lock:
            scores = self._pipeline(text[:512])
        if scores and isinstance(scores[0], list):
            scores = scores[0]
        value = 0.0
        for item in scores:
            label = str(item["label"]).lower()
            if label.startswith(self.POSITIVE):
                value += float(item["score"])
            elif label.startswith(self.NEGATIVE):
                value -= float(item["score"])
        return max(-1.0, min(1.0, value))


class SentimentAnalyzer:
    def __init__(self, playbook: Playbook, space: FeatureSpace, model: ValenceModel | None = None) -> None:
        self.language = playbook.language
        self.space = space
        self.model = model
        self.emotions = {e.id: e for e in playbook.emotions}
        #: Kept with the fitted head: the weight its classifier learned with.
        self.pack = language_pack(self.language)
        self.words_weight = self.pack.emotion_words_weight
        texts, labels = [], []
        for emotion in playbook.emotions:
            texts += emotion.examples
            labels += [emotion.id] * len(emotion.examples)
        # Calibration lines are whole debtor turns written apart from the examples: their emotion
        # labels widen what the head has seen (the objection head only calibrates on them).
        for example in playbook.calibration_examples:
            if example.emotion is not None:
                texts.append(example.text)
                labels.append(example.emotion)
        # A vocabulary of its own, fitted on what it learns from: emotion examples then widen this
        # head without shifting the words (and so the judgement) of the objection and rule heads. It
        # keeps question and exclamation marks, which the shared one drops.
        self.lexical = LexicalEncoder(self.language, texts, with_tone_marks=True)
        #: What the head learned from (its features are not kept: nothing reads them after the fit).
        self.training_texts = texts
        # Balanced: most debtor turns are calm, and the head is judged by its recall of every label.
        self.classifier = fit_logistic(self.classifier_input(space.encode(texts)), np.array(labels),
                                       C=10.0, max_iter=2000, class_weight="balanced")
        self._cues = {e.id: CompiledMatcher(e.cues, space) for e in playbook.emotions if not e.cues.is_empty()}

    def classifier_input(self, features: Features) -> csr_matrix:
        """The utterance's dense block beside its words in this head's own vocabulary."""
        return features.input_with_words("emotion_input", self.lexical, self.words_weight)

    def analyze(
        self, features: Features, acoustic: AcousticCues | None = None, context: dict[str, str] | None = None,
    ) -> SentimentResult:
        """``context``: emotions the conversation suggests (emotion id -> why: an intent said in the
        same breath, a repetition), each weighed like a cue phrase. No prior by the top hint: turns
        with no objection came out calm whatever their words (docs/benchmarks.md section 33)."""
        text = features.texts[0]
        probabilities = dict(
            zip(self.classifier.classes_, class_probabilities(self.classifier, self.classifier_input(features))[0])
        )
        worded = max(probabilities, key=probabilities.get)  # the words' own reading, before any cue
        evidence: list[str] = []
        for emotion_id, why in (context or {}).items():
            probabilities[emotion_id] = probabilities.get(emotion_id, 0.0) + CONTEXT_BOOST
            evidence.append(why)
        # questions fired in anger ("凭什么要我还？你们有证据吗？") stay the words' reading
        if self.pack.questions_asked(text) >= QUESTIONS_ASKED and worded not in ("angry", "frustrated"):
            _weigh(probabilities, QUESTIONS_BOOST, evidence, QUESTIONS_EVIDENCE)
        if PAUSE_MARK.search(text):
            _weigh(probabilities, PAUSE_BOOST, evidence, PAUSE_EVIDENCE)
        for emotion_id, matcher in self._cues.items():
            match = matcher.match(features)
            if match and match.method != "example":
                probabilities[emotion_id] = probabilities.get(emotion_id, 0.0) + CUE_BOOST
                evidence.append(match.evidence)
        lexical_valence, valence_words = text_valence(text, self.language)
        method = "lexicon+examples"
        if self.model is not None:
            lexical_valence = 0.5 * lexical_valence + 0.5 * self.model.valence(text)
            method = f"model:{self.model.name}+examples"
        if acoustic is not None:
            self._apply_acoustics(probabilities, acoustic)
            method += "+acoustic"
        total = sum(probabilities.values())
        probabilities = {k: v / total for k, v in probabilities.items()}
        label, confidence = max(probabilities.items(), key=lambda kv: kv[1])
        if confidence < EMOTION_THRESHOLD and not evidence and lexical_valence > -0.3:
            label, confidence = "calm", max(probabilities.get("calm", 0.0), 1 - confidence)
        prior = sum(p * self.emotions[k].valence for k, p in probabilities.items() if k in self.emotions)
        valence = 0.6 * lexical_valence + 0.4 * prior if lexical_valence else prior
        evidence += [w for w in valence_words if w not in evidence]
        return SentimentResult(label, round(max(-1.0, min(1.0, valence)), 3), round(float(confidence), 3), evidence[:5], method)

    @staticmethod
    def _apply_acoustics(probabilities: dict[str, float], cues: AcousticCues) -> None:
        """High arousal (louder, higher, faster than the speaker's baseline) favours angry/anxious;
        low arousal with long pauses favours distressed."""
        shift = max(-1.0, min(1.0, cues.arousal / 2.0))
        for label in HIGH_AROUSAL:
            if label in probabilities:
                probabilities[label] *= 1.0 + shift
        for label in LOW_AROUSAL:
            if label in probabilities:
                probabilities[label] *= 1.0 - shift * 0.5
        if cues.pause_ratio > 0.4 and "distressed" in probabilities:
            probabilities["distressed"] *= 1.0 + cues.pause_ratio


def _weigh(probabilities: dict[str, float], boosts: dict[str, float], evidence: list[str], why: str) -> None:
    """Add a behaviour's ``boosts`` to the labels the head knows, and name it in the evidence."""
    for emotion_id, boost in boosts.items():
        if emotion_id in probabilities:
            probabilities[emotion_id] += boost
    evidence.append(why)


@register
class EmotionAnalyzer(Analyzer):
    """The debtor's emotion and valence on each of their utterances; the agent's tone for the scorecard."""

    name = "emotion"
    speakers = EVERYONE
    order = 50  # after the intent heads, whose findings it weighs

    def __init__(self, engine: CoachEngine) -> None:
        super().__init__(engine)
        self.intent_emotions = {i: e.id for e in engine.playbook.emotions for i in e.intents}
        self.pack = language_pack(engine.language)

    def attach(self, engine: CoachEngine) -> None:
        """Load the offensive-language model with the engine: the agent-tone check scores every agent
        line with it, and loading it on the first one (~1.5 s in English) would overrun the budget."""
        super().attach(engine)
        OffensiveLanguageDetector.for_language(engine.language)

    def new_call(self, session: CallSession) -> list[tuple[int, Features]]:
        return []  # the debtor's earlier utterances

    def _agent_tone_problem(self, turn: Turn) -> str | None:
        """Uncivil words, or anger the line shows: the debtor's emotion head reads agent lines out of
        its domain ("你是王磊吧" came out angry at 0.77), so its "angry" counts only with something to
        show for it: a cue or a negative word, or a voice raised above the agent's own baseline."""
        offensive = turn.offensive(self.engine.language)
        if offensive.probability >= OFFENSIVE_THRESHOLD:  # as it is abuse in agent speech
            return f"uncivil language ({offensive.evidence or turn.text!r})"
        acoustic: AcousticCues | None = turn.facts.get("acoustic")
        raised = acoustic is not None and acoustic.arousal >= RAISED_VOICE
        if not raised and self.pack.sympathises(turn.features.norms[0]):
            return None  # "i apologize for the bother sir": its words of trouble are the apology's
        result = self.engine.sentiment.analyze(turn.features, acoustic)
        shown = [e for e in result.evidence if e not in NOT_ANGER]
        if result.label == "angry" and result.confidence >= 0.5 and (shown or raised):
            return f"sounded angry ({turn.text!r})"
        return None

    def analyze(self, turn: Turn, session: CallSession) -> list[BaseEvent]:
        if turn.speaker == "agent":
            problem = self._agent_tone_problem(turn)
            if problem:
                session.record.agent_tone_problems.append(f"utterance {turn.uid}: {problem}")
            return []
        context = {self.intent_emotions[i]: f"intent {i}" for i in turn.facts.get("intents", ()) if i in self.intent_emotions}
        earlier: list[tuple[int, Features]] = session.state[self.name]
        if "frustrated" in self.engine.sentiment.emotions and len(turn.features.norms[0]) >= 6:
            for uid, features in earlier:
                if float(turn.features.similarity(features)[0][0]) >= REPEAT_SIMILARITY:
                    context.setdefault("frustrated", f"says again what they said at utterance {uid}")
                    break
        earlier.append((turn.uid, turn.features))
        result = self.engine.sentiment.analyze(turn.features, turn.facts.get("acoustic"), context)
        turn.facts["emotion"] = result
        return [SentimentEvent(
            call_id=session.call_id, utterance_id=turn.uid, time=turn.time, speaker=turn.speaker, label=result.label,
            valence=result.valence, confidence=result.confidence, evidence=result.evidence, method=result.method,
        )]
