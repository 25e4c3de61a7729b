"""The objection detector: few-shot intent classification over the playbook's examples.

A logistic regression over sentence embeddings fused with TF-IDF word and character n-grams
(lexical only where the language has no embedding model). The playbook's non-objection examples are
a class of their own, so ordinary answers ("yes speaking", "ok") stay silent; on top of that the
detector abstains below a threshold calibrated by cross-validation on the playbook itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import softmax

from coach.analyzers.base import DEBTOR_SIDE, Analyzer, Turn, register
from coach.analyzers.compliance import DUTY_START_CONFIDENCE
from coach.analyzers.features import (
    Features,
    FeatureSpace,
    LinearClassifier,
    choose_lexical_weight,
    class_probabilities,
    in_parallel,
)
from coach.analyzers.matcher import CompiledMatcher
from coach.analyzers.nli import ZeroShotScorer
from coach.analyzers.stages import DECEASED, NOT_THE_DEBTOR
from coach.events import BaseEvent
from coach.languages import language_pack
from coach.playbook.schema import Matcher, Playbook
from coach.text.normalize import normalize

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    from coach.engine import CallSession

#: Dialogue acts (see :mod:`coach.analyzers.dialogue`) that answer the agent's question.
ANSWER_ACTS = ("identity_confirm", "identity_answer")

NONE = "__none__"
#: The debtor's tone (hostile, profane, threatening to complain or sue): an intent of the playbooks and
#: a head of its own (:mod:`coach.analyzers.tone`).
TONE_INTENT = "hostile"
#: The debtor's own hardship, a bereavement among it: read so by the classifier, it keeps the top hint
#: over the deceased keywords.
HARDSHIP = "hardship"
#: A death in the speaker's own family read as the borrower's: the two intents trade readings.
OWN_LOSS = {DECEASED: HARDSHIP, HARDSHIP: DECEASED}
#: Inverse regularisation strength; large because there are few examples per class (BANKING77
#: 10-shot: C=100 beats C=1 by four points).
REGULARISATION_C = 100.0
KEYWORD_CONFIDENCE = 0.85
#: Weight of the zero-shot NLI scores when an NLI model is configured.
NLI_WEIGHT = 0.3
#: Confidence an intent needs on a reply made only of yes- or no-words that the question does not explain.
BARE_ANSWER_CONFIDENCE = 0.9
#: Abstention threshold bounds: calibration picks a value in between.
THRESHOLD_RANGE = (0.15, 0.7)
#: Weight of the nearest-example view next to the classifier's probabilities. The classifier spreads
#: an unfamiliar phrasing's probability over several intents; how close the utterance comes to one
#: playbook example is a second, independent opinion (measured in 5-fold cross-validation on both
#: playbooks and on the development set: a few points of recall at the same false-hint rate).
NEAREST_WEIGHT = 0.2
#: Softmax temperature over each class's best cosine similarity.
NEAREST_TEMPERATURE = 0.05


@dataclass(frozen=True)
class IntentResult:
    intent: str
    confidence: float
    evidence: str
    evidence_similarity: float | None
    method: str
    alternatives: list[tuple[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class IntentContext:
    """What the detector may use from the call so far."""

    previous_agent_text: str | None = None
    #: The previous agent utterance was an identity check ("am I speaking with ...").
    previous_agent_identity_check: bool = False
    #: The previous agent utterance proposed a payment (negotiation or recap stage).
    previous_agent_payment_proposal: bool = False
    #: The agent has asked for the debtor and nobody has confirmed being them: whoever answers may be
    #: family, and a death they tell of may be the debtor's.
    right_party_unconfirmed: bool = False


class ObjectionDetector:
    def __init__(self, playbook: Playbook, space: FeatureSpace, nli: ZeroShotScorer | None = None, *,
                 lexical_weight: float | None = None) -> None:
        """``lexical_weight``: the weight of the lexical view, when known (a playbook patched from one
        whose engine chose it); else it is chosen here, by cross-validation (most of a fit's time)."""
        self.playbook = playbook
        self.space = space
        self.nli = nli
        self.texts: list[str] = []
        self.labels: list[str] = []
        for intent in playbook.intents:
            self.texts += intent.examples
            self.labels += [intent.id] * len(intent.examples)
        self.texts += playbook.non_objection_examples
        self.labels += [NONE] * len(playbook.non_objection_examples)
        self._labels = np.array(self.labels)
        features = space.encode(self.texts)
        # The shared feature space takes the lexical weight this head classifies best with; every head
        # fitted after it (emotion, stages, rules, agent speech) reads features with that weight.
        space.lexical_weight = (lexical_weight if lexical_weight is not None
                                else choose_lexical_weight(features, self._labels, _fit))
        self.example_features = replace(features, lexical_weight=space.lexical_weight, _derived={})
        self.classifier = LinearClassifier.of(_fit(self._matrix, self._labels))
        self.classes: list[str] = list(self.classifier.classes_)
        self._class_columns = [np.flatnonzero(self._labels == c) for c in self.classes]
        self._keywords = {
            i.id: CompiledMatcher(i.keywords, space) for i in playbook.intents if not i.keywords.is_empty()
        }
        #: An intent's ``keywords.unless``: the debtor saying in so many words that it is not so ("i
        #: haven't paid it yet", "我没请律师", "i never said stop calling") rules the intent out.
        self._denials = {i.id: CompiledMatcher(Matcher(unless=i.keywords.unless), space)
                         for i in playbook.intents if i.keywords.unless}
        self._outranks = {i.id: set(i.outranks) for i in playbook.intents if i.outranks}
        self._duty_requests = [tuple(rule.after_intents) for rule in playbook.rules if rule.kind == "duty" and rule.after_intents]
        #: Intents that start a duty of the agent's (stop calling, a lawyer, a dispute): a debtor's own
        #: bereavement said beside one does not go before it.
        self._duties = {i for intents in self._duty_requests for i in intents}
        self.pack = language_pack(playbook.language)
        self.affirmations = _vocabulary(playbook.affirmations, playbook.language)
        self.negations = _vocabulary(playbook.negations, playbook.language)
        #: Scores and labels of the playbook's calibration examples (None without any), kept for
        #: `coach playbook check` so they are encoded once.
        self.calibration = self.calibration_scores()
        self.threshold = self._calibrate()

    @property
    def _matrix(self) -> csr_matrix:
        """The examples' classifier input, which the cross-validations read: rebuilt from their
        features when first read after a load from the cache, which does not store it."""
        return self.example_features.classifier_input()

    # -- inference -----------------------------------------------------------------------------

    def detect(self, features: Features, context: IntentContext | None = None) -> IntentResult | None:
        """The debtor's intent in a one-row ``features``, or None to abstain."""
        context = context or IntentContext()
        bare = self._is_bare_answer(features.norms[0])
        if bare:
            # a bare "no" or "yeah" objects to nothing by itself: what it means is read from the question
            found = self._from_context(features, context)
            if found is not None:
                return found
        scores, keyword_hits = self._decision_scores(features)
        # two keyword hits tie at the keyword confidence: the classifier's own score breaks the tie
        ranked = sorted(((p, keyword_hits[c][1] if c in keyword_hits else p, c) for c, p in scores.items() if c != NONE),
                        reverse=True)
        if self._own_bereavement(features, context):
            order = [c for _, _, c in ranked]
            if order.index(DECEASED) < order.index(HARDSHIP):
                # the death is one in the speaker's own family: the classifier hears a death, not whose ("we
                # buried my grandad last week" read deceased at 0.8), so the bereavement takes its reading
                ranked = [(p, tie, OWN_LOSS.get(c, c)) for p, tie, c in ranked]
            # ... and it goes before what the turn says beside it ("我外婆前天过世了 我在老家守灵
            # 过几天再说"), but after a request that starts a duty of the agent's ("... so stop calling me")
            if self._says_death(features):
                ranked.sort(key=lambda entry: entry[2] != HARDSHIP)
            duty = next((c for p, _, c in ranked if c in self._duties and p >= self.threshold), None)
            if ranked[0][2] == HARDSHIP and duty is not None:
                ranked.sort(key=lambda entry: entry[2] != duty)
        elif ranked[0][2] != HARDSHIP and self._says_death(features):
            # the borrower's death outranks whatever else the turn says ("人不在了 ... 以后别打了"):
            # the call must stop, and the rest follows it as runners-up
            ranked.sort(key=lambda entry: entry[2] != DECEASED)
        ranked = self._by_precedence(ranked, scores.get(NONE, 0.0))
        best_p, _, best = ranked[0]
        if bare and best_p < BARE_ANSWER_CONFIDENCE:
            # ... unless the words say it themselves ("wrong number", "打错了打错了") and the classifier is
            # sure; a keyword alone (raised to KEYWORD_CONFIDENCE) is not enough for a reply this short
            return None
        alternatives = [(c, round(p, 3)) for p, _, c in ranked[1:4]]
        if best_p >= self.threshold and best_p > scores.get(NONE, 0.0):
            if best in keyword_hits and best_p == KEYWORD_CONFIDENCE:
                return IntentResult(best, best_p, keyword_hits[best][0], None, "keyword", alternatives)
            evidence, similarity = self.nearest_example(features, best)
            method = self.space.method + ("+nli" if self.nli else "")
            return IntentResult(best, round(best_p, 3), evidence, similarity, method, alternatives)
        return self._from_context(features, context)

    def spread_duty_request(self, features: Features) -> dict[str, float]:
        """A request that starts a duty though no one intent was sure enough to show (a dispute read as
        validation 0.31, not mine 0.18 and the amount 0.14, each under the threshold):
        its intents together read at least ``DUTY_START_CONFIDENCE`` and over "no objection". The likeliest
        of each such duty's intents, with the duty's total; the agent sees no hint for it."""
        scores = self._scores(features)
        found: dict[str, float] = {}
        for intents in self._duty_requests:
            total = sum(scores.get(i, 0.0) for i in intents)
            if total >= DUTY_START_CONFIDENCE and total > scores.get(NONE, 0.0):
                found[max(intents, key=lambda i: scores.get(i, 0.0))] = round(total, 3)
        return found

    def nearest_example(self, features: Features, intent_id: str) -> tuple[str, float]:
        """The playbook example of ``intent_id`` most similar to the utterance: the evidence."""
        mask = self._labels == intent_id
        sims = self._similarities(features)[0]
        sims = np.where(mask, sims, -np.inf)
        index = int(sims.argmax())
        return self.texts[index], round(float(sims[index]), 3)

    def _similarities(self, features: Features) -> np.ndarray:
        """Cosine similarity to every playbook example, computed once per utterance."""
        return features.cached("example_similarities", lambda: features.similarity(self.example_features))

    def _decision_scores(self, features: Features) -> tuple[dict[str, float], dict[str, tuple[str, float]]]:
        """What :meth:`detect` weighs: the blended scores, raised to the keyword confidence where a
        playbook keyword matches, and those keyword hits (intent -> evidence, score before raising)."""
        scores = self._scores(features)
        keyword_hits: dict[str, tuple[str, float]] = {}
        for intent_id, matcher in self._keywords.items():
            match = matcher.match(features)
            if match and scores[intent_id] < KEYWORD_CONFIDENCE:
                keyword_hits[intent_id] = (match.evidence, scores[intent_id])
                scores[intent_id] = KEYWORD_CONFIDENCE
        return scores, keyword_hits

    def _says_death(self, features: Features) -> bool:
        """The turn says someone died, in the deceased intent's keywords and in words only a death
        means (the language's ``death``): the keywords alone also hear "他已经走了" (he left the firm)."""
        matcher = self._keywords.get(DECEASED)
        return (matcher is not None and self.pack.speaks_of_death(features.norms[0])
                and matcher.match(features) is not None)

    def _by_precedence(self, ranked: list[tuple[float, float, str]], none: float) -> list[tuple[float, float, str]]:
        """``ranked`` with an intent the playbook puts before the first (``Intent.outranks``) moved to
        the front, when it is read surely enough to be a hint itself (over the abstention threshold and
        over no intent at all)."""
        first = ranked[0][2]
        for entry in ranked[1:]:
            if entry[0] < self.threshold or entry[0] <= none:
                break
            if first in self._outranks.get(entry[2], ()):
                return [entry] + [other for other in ranked if other is not entry]
        return ranked

    def _own_bereavement(self, features: Features, context: IntentContext) -> bool:
        """The turn tells of a death in the speaker's own family, tied to no debt, and not in answer to
        a question for someone, nor while the one asked for is unconfirmed (who would then be the one who
        died: "may I speak with Ruth?" - "who is this?" - "... from Acme" - "my mother passed in the
        spring")."""
        return (HARDSHIP in self.classes and DECEASED in self.classes and not context.previous_agent_identity_check
                and not context.right_party_unconfirmed and self.pack.own_bereavement(features.norms[0]))

    def keyword_evidence(self, features: Features, intent_id: str) -> str | None:
        """The playbook keyword of ``intent_id`` the utterance says, if any."""
        matcher = self._keywords.get(intent_id)
        match = matcher.match(features) if matcher is not None else None
        return match.evidence if match else None

    def _is_bare_answer(self, norm: str) -> bool:
        return only_words_from(norm, self.negations) or only_words_from(norm, self.affirmations)

    def _scores(self, features: Features) -> dict[str, float]:
        """The blended scores, computed once per utterance (read by :meth:`detect` and, when it abstains,
        :meth:`spread_duty_request`); a copy, as :meth:`_decision_scores` raises keyword hits in it."""
        return dict(features.cached("objection_scores", lambda: self._blended_scores(features)))

    def _blended_scores(self, features: Features) -> dict[str, float]:
        classifier = class_probabilities(self.classifier, features.classifier_input())
        nearest = nearest_example_probabilities(self._similarities(features), self._class_columns)
        probabilities = ((1 - NEAREST_WEIGHT) * classifier + NEAREST_WEIGHT * nearest)[0]
        scores = dict(zip(self.classes, map(float, probabilities)))
        if self.nli is not None:
            nli_scores = self.nli.score(features.texts[0])
            for intent_id, p in nli_scores.items():
                if intent_id in scores:
                    scores[intent_id] = (1 - NLI_WEIGHT) * scores[intent_id] + NLI_WEIGHT * p * (1 - scores.get(NONE, 0))
        for intent_id, denials in self._denials.items():
            if intent_id in scores and denials.vetoed(features.norms[0]):
                scores[intent_id] = 0.0
        return scores

    def _from_context(self, features: Features, context: IntentContext) -> IntentResult | None:
        """Short answers read against the agent's previous question."""
        answer = features.norms[0]
        if not answer or context.previous_agent_text is None:
            return None
        question = context.previous_agent_text
        if context.previous_agent_identity_check and only_words_from(answer, self.negations):
            if "wrong_party" in self.classes:
                return IntentResult(
                    "wrong_party", 0.6, f"answered {features.texts[0]!r} to the identity check {question!r}", None, "context"
                )
        if context.previous_agent_payment_proposal and (
            only_words_from(answer, self.affirmations) or self.pack.accepts_proposal(features.texts[0])
        ):
            if "promise_to_pay" in self.classes:
                return IntentResult(
                    "promise_to_pay", 0.6, f"agreed ({features.texts[0]!r}) to the proposal {question!r}", None, "context"
                )
        return None

    # -- calibration and evaluation ------------------------------------------------------------

    def _calibrate(self) -> float:
        """The abstention threshold that maximises F-beta of intent detection on the playbook's
        calibration examples (written apart from the training examples), or without them in 5-fold
        cross-validation on the training examples."""
        if self.calibration is not None:
            return calibrate_threshold(*self.calibration, self.classes, beta=OBJECTION_CALIBRATION_BETA)
        probabilities = self.cross_validated_probabilities(folds=5)
        if probabilities is None:
            return THRESHOLD_RANGE[0]
        return calibrate_threshold(probabilities, self._labels, self.classes)

    def calibration_scores(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The decision scores (rows in :attr:`classes` order) of the playbook's calibration examples,
        with their labels; None without any. Each is read alone, as :meth:`detect` reads a line with
        no context, so a bare yes or no (read from the question only) is left out."""
        examples = self.playbook.calibration_examples
        if not examples:
            return None
        features = self.space.encode([e.text for e in examples])
        rows, labels = [], []
        for i, example in enumerate(examples):
            if self._is_bare_answer(features.norms[i]):
                continue
            scores, _ = self._decision_scores(features.row(i))
            rows.append([scores[c] for c in self.classes])
            labels.append(NONE if example.intent == "none" else example.intent)
        if not rows:
            return None
        return np.array(rows), np.array(labels)

    def cross_validated_probabilities(self, folds: int) -> np.ndarray | None:
        counts = np.unique(self._labels, return_counts=True)[1]
        folds = min(folds, int(counts.min()))
        if folds < 2:
            return None
        from sklearn.model_selection import StratifiedKFold

        out = np.zeros((len(self._labels), len(self.classes)))
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
        similarities = self.example_features.similarity(self.example_features)
        splits = list(splitter.split(self._matrix, self._labels))
        # cold starts: warm-started from the full model, which has seen the fold's examples, a fit at
        # the default tolerance stops after a few steps still close to it (Chinese playbook: 96 % on
        # the held-out fold, against 87 % from a cold start)
        models = in_parallel([partial(_fit, self._matrix[train], self._labels[train]) for train, _ in splits])
        for (train, test), model in zip(splits, models):
            nearest = _nearest_in(similarities, self._labels, self.classes, train, test)
            out[test] = _blend(model, self._matrix[test], self.classes, nearest)
        return out

    def held_out_predictions(self, folds: int | None = None, jobs: int = -1) -> list[tuple[str, str]]:
        """(true label, predicted label or NONE) for every example, each predicted by a model that
        never saw it: exact leave-one-out by default, or ``folds``-fold cross-validation (faster).

        A leave-one-out fit is warm-started from the full model and run to a tight tolerance; the
        problem is convex, so it lands on the same optimum as a cold start, in fewer iterations. Folds
        start cold (see :meth:`cross_validated_probabilities`).
        """
        from joblib import Parallel, delayed
        from sklearn.model_selection import StratifiedKFold

        n = len(self.labels)
        if folds is None or folds >= n:
            groups = [np.array([i]) for i in range(n)]
        else:
            splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
            groups = [test for _, test in splitter.split(self._matrix, self._labels)]
        warm = (self.classifier.coef_, self.classifier.intercept_, self.classifier.classes_)
        similarities = self.example_features.similarity(self.example_features)
        nearest = [
            _nearest_in(similarities, self._labels, self.classes, np.setdiff1d(np.arange(n), test), test) for test in groups
        ]
        batches = Parallel(n_jobs=jobs)(
            delayed(_held_out)(self._matrix, self._labels, test, warm, self.threshold, near)
            for test, near in zip(groups, nearest)
        )
        predicted: dict[int, str] = {}
        for test, labels in zip(groups, batches):
            predicted.update(zip(test.tolist(), labels))
        return [(self.labels[i], predicted[i]) for i in range(n)]


def nearest_example_probabilities(similarities: np.ndarray, class_columns: list[np.ndarray]) -> np.ndarray:
    """Per row, a softmax over the classes of each class's best similarity (its nearest example);
    a class without examples gets none of the mass."""
    best = np.full((similarities.shape[0], len(class_columns)), -np.inf)
    for j, columns in enumerate(class_columns):
        if len(columns):
            best[:, j] = similarities[:, columns].max(axis=1)
    return softmax(best / NEAREST_TEMPERATURE, axis=1)


def _nearest_in(similarities: np.ndarray, labels: np.ndarray, classes: list[str], train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """:func:`nearest_example_probabilities` of the ``test`` examples against the ``train`` ones only."""
    sub = similarities[np.ix_(test, train)]
    return nearest_example_probabilities(sub, [np.flatnonzero(labels[train] == c) for c in classes])


def _blend(model: LogisticRegression, matrix, classes: list[str], nearest: np.ndarray) -> np.ndarray:
    """A held-out model's probabilities over ``classes`` (a fold may lack some), blended with the
    nearest-example view as :meth:`ObjectionDetector._scores` blends them."""
    blended = NEAREST_WEIGHT * nearest
    blended[:, [classes.index(c) for c in model.classes_]] += (1 - NEAREST_WEIGHT) * model.predict_proba(matrix)
    return blended


def _held_out(matrix, labels: np.ndarray, test: np.ndarray, warm, threshold: float, nearest: np.ndarray) -> list[str]:
    keep = np.ones(len(labels), dtype=bool)
    keep[test] = False
    if warm is None or len(test) > 1:
        model = _fit(matrix[keep], labels[keep])  # cold: see cross_validated_probabilities
    else:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=REGULARISATION_C, max_iter=5000, tol=1e-6, warm_start=True)
        model.coef_, model.intercept_, model.classes_ = warm[0].copy(), warm[1].copy(), warm[2]
        model.fit(matrix[keep], labels[keep])
    classes = list(warm[2]) if warm is not None else list(np.unique(labels))
    out = []
    for probabilities in _blend(model, matrix[test], classes, nearest):
        best = int(probabilities.argmax())
        label = str(classes[best])
        out.append(NONE if label != NONE and probabilities[best] < threshold else label)
    return out


#: F-beta for calibration: beta < 1 weighs precision above recall, because a wrong hint in front of
#: an agent mid-call costs more (distraction, lost trust) than a missed one. Cross-validation on a
#: playbook's own examples scores nearly every threshold the same, so there it decides little.
CALIBRATION_BETA = 0.5
#: F-beta for the objection head on calibration examples written apart (where the choice matters):
#: a wrong or unwanted hint costs as much as a missed one. With 0.5 the Chinese threshold went to
#: 0.65, giving up eight points of right hints on those examples (92 -> 84 %) to move unwanted hints
#: from 6 to 2 % of lines without an intent, far below the product's 10 % ceiling.
OBJECTION_CALIBRATION_BETA = 1.0


#: F-beta within this of the best counts as the top of the calibration curve.
PLATEAU_TOLERANCE = 0.005


def threshold_grid(bounds: tuple[float, float]) -> np.ndarray:
    """The thresholds calibration tries, in steps of 0.025."""
    return np.arange(bounds[0], bounds[1] + 1e-9, 0.025)


def calibrate_threshold(
    probabilities: np.ndarray, labels: np.ndarray, classes: list[str], *, none: str = NONE,
    bounds: tuple[float, float] = THRESHOLD_RANGE, beta: float = CALIBRATION_BETA,
) -> float:
    """Pick the threshold with the best F-beta (the middle of its plateau), where a hit is the right class above the threshold and
    everything else predicted above it (a wrong class, or any class on a ``none`` example) is a false
    alarm. Shared by every head that abstains below a threshold."""
    best_index = probabilities.argmax(axis=1)
    best_p = probabilities.max(axis=1)
    predicted = np.array(classes)[best_index]
    is_positive = labels != none
    thresholds = threshold_grid(bounds)
    scores = []
    for threshold in thresholds:
        fired = (predicted != none) & (best_p >= threshold)
        true_positive = np.sum(fired & (predicted == labels))
        false_positive = np.sum(fired & (predicted != labels))
        false_negative = np.sum(is_positive) - true_positive
        b2 = beta**2
        scores.append((1 + b2) * true_positive / max(1, (1 + b2) * true_positive + b2 * false_negative + false_positive))
    # The curve is flat near its top (a few examples either way), so its argmax jumps when a playbook
    # gains a line; the middle of the thresholds within PLATEAU_TOLERANCE of the best stays put.
    scores = np.array(scores)
    near_best = thresholds[scores >= scores.max() - PLATEAU_TOLERANCE]
    return round(float(np.median(near_best)), 3)


def _fit(matrix, labels: np.ndarray) -> LogisticRegression:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=REGULARISATION_C, max_iter=2000).fit(matrix, labels)


@dataclass(frozen=True)
class Vocabulary:
    """Short answers made only of known words ("no no", "uh yeah", "嗯是的"), with the language's
    fillers. Read by segmentation, not a regular expression: overlapping entries (对, 对对, 对对对)
    under a repetition make a regex backtrack exponentially on "对对对对...". Fillers alone say
    nothing: "嗯" to "是刘洋本人吗" is no denial, "um" to a proposal no yes.
    """

    words: frozenset[str]
    language: str
    longest: int
    fillers: frozenset[str] = frozenset()

    def covers(self, text: str) -> bool:
        units = self._units(text)
        return bool(units) and self._splits(units, self.words) and not self._splits(units, self.fillers)

    def _units(self, text: str) -> list[str]:
        return list(text.replace(" ", "")) if self.language == "zh" else text.split()

    def _splits(self, units: list[str], words: frozenset[str]) -> bool:
        """``units`` split into ``words`` (each spanning at most ``longest`` units)."""
        if not words:
            return False
        joiner = "" if self.language == "zh" else " "
        # reachable[i]: units[:i] splits into known words
        reachable = [True] + [False] * len(units)
        for end in range(1, len(units) + 1):
            for start in range(max(0, end - self.longest), end):
                if reachable[start] and joiner.join(units[start:end]) in words:
                    reachable[end] = True
                    break
        return reachable[-1]


def _vocabulary(entries: list[str], language: str) -> Vocabulary | None:
    words = {normalize(e, language) for e in entries} - {""}
    if not words:
        return None
    fillers = frozenset(language_pack(language).fillers) - words  # a filler the list names is one of its words
    words |= fillers
    longest = max(len(w.replace(" ", "")) if language == "zh" else len(w.split()) for w in words)
    return Vocabulary(frozenset(words), language, longest, fillers)


def only_words_from(text: str, vocabulary: Vocabulary | None) -> bool:
    return bool(vocabulary and vocabulary.covers(text))


@register
class ObjectionAnalyzer(Analyzer):
    """The debtor's objection or commitment: the top hint the agent reads, with suggested answers.

    An answer to the agent's identity question ("yes this is dana", a date of birth) is not an
    objection: the dialogue act (see :mod:`coach.analyzers.dialogue`) raises the bar for those.
    """

    name = "objections"
    speakers = DEBTOR_SIDE
    order = 40
    #: Confidence an intent needs on a reply the dialogue act read as an answer to an identity question,
    #: and on a frightened question about what may happen to the debtor, unless its keywords say it
    #: ("我是不是上了你们的黑名单 以后还能办贷款吗" read as not_my_debt at 0.39).
    ANSWER_CONFIDENCE = 0.8
    #: The classifier's confidence below which clear commitment terms make ``promise_to_pay`` the top hint.
    COMMITMENT_OVERRIDES = 0.6
    #: A runner-up objection this likely is said too, and reported after the top hint.
    SECOND_OBJECTION_CONFIDENCE = 0.5

    @cached_property
    def _weighty(self) -> frozenset[str]:
        """Intents a frightened question keeps when read surely enough to start a duty: those that start
        one (a dispute beside "这样也要上征信吗", 0.78) and those that say the debtor is not on the line."""
        duties = {i for rule in self.playbook.rules if rule.kind == "duty" for i in rule.after_intents}
        return frozenset(duties | set(NOT_THE_DEBTOR))

    def analyze(self, turn: Turn, session: CallSession) -> list[BaseEvent]:
        result = self.engine.detector.detect(turn.features, session.intent_context())
        if result is None:
            # no hint to show, but a duty may still start (read by the compliance analyzer)
            turn.facts["duty_requests"] = self.engine.detector.spread_duty_request(turn.features)
        if result is not None and turn.facts.get("act") in ANSWER_ACTS and result.confidence < self.ANSWER_CONFIDENCE:
            result = None
        pack, norm = self.engine.detector.pack, turn.features.norms[0]
        if (result is not None and result.method != "keyword" and result.confidence < self.ANSWER_CONFIDENCE
                and not (result.intent in self._weighty and result.confidence >= DUTY_START_CONFIDENCE)
                and pack.asks_of_consequences(turn.text, norm)):
            result = None
        if (result is not None and result.intent == TONE_INTENT and result.method != "keyword"
                and pack.fears_consequences(turn.text, norm)):
            result = None  # "is your company gonna sue me": hostile on its words, a frightened question
        commitment = turn.facts.get("commitment")
        if commitment is not None and commitment.is_promise and turn.facts.get("act") not in ANSWER_ACTS:
            if result is None or (result.intent != "promise_to_pay" and result.confidence < self.COMMITMENT_OVERRIDES):
                alternatives = [] if result is None else [(result.intent, result.confidence)] + result.alternatives[:2]
                result = IntentResult("promise_to_pay", 0.75, commitment.evidence(), None, "commitment", alternatives)
        if result is None:
            return []
        turn.facts["intent"] = result
        turn.facts.setdefault("intents", []).append(result.intent)
        # every reading of the line, for the duties: a dispute is spread over four intents
        turn.facts["intent_confidence"] = dict(result.alternatives) | {result.intent: result.confidence}
        session.record.intents_said.append((turn.uid, result.intent))
        if self.playbook.intent(result.intent).kind == "objection":
            session.record.objections[turn.uid] = result.intent
        session.compliance.reach(f"intent:{result.intent}", turn.time)
        event = session.intent_event(turn.uid, turn.time, result, turn.text)
        if result.intent == "promise_to_pay" and commitment is not None:
            event.details = commitment.details() or None
        return [event] + self._second_objections(turn, session, result)

    def _second_objections(self, turn: Turn, session: CallSession, top: IntentResult) -> list[BaseEvent]:
        """Objections said beside the top hint ("that's not what I owe, and I've told you I'm
        calling the bank"): each runner-up objection rated as high as ``SECOND_OBJECTION_CONFIDENCE``
        (or said in its keywords), as its own event after the top one, so that the duties it starts
        (a dispute, a request to stop) start too, where read surely enough over the duty's intents
        (:data:`coach.analyzers.compliance.DUTY_START_CONFIDENCE`). None beside a promise to pay: "我明天开车去银行还"
        is no bad time to talk, and a promise lifts the duties a stop request would start."""
        if turn.facts.get("act") in ANSWER_ACTS or top.intent == "promise_to_pay":
            return []
        detector = self.engine.detector
        events: list[BaseEvent] = []
        for intent, confidence in top.alternatives:
            if confidence < self.SECOND_OBJECTION_CONFIDENCE or self.playbook.intent(intent).kind != "objection":
                continue
            keyword = detector.keyword_evidence(turn.features, intent) if confidence == KEYWORD_CONFIDENCE else None
            if keyword is not None:
                second = IntentResult(intent, confidence, keyword, None, "keyword", [])
            else:
                evidence, similarity = detector.nearest_example(turn.features, intent)
                second = IntentResult(intent, confidence, evidence, similarity, detector.space.method, [])
            turn.facts["intents"].append(intent)
            session.record.intents_said.append((turn.uid, intent))
            session.compliance.reach(f"intent:{intent}", turn.time)
            events.append(session.intent_event(turn.uid, turn.time, second, turn.text))
        return events
