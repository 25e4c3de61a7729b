"""Prohibited agent speech by meaning, not only by phrase lists.

A classifier over the playbook's examples of each prohibited rule (threats, abuse, impersonation,
misleading consequences, ...) against everything an agent may lawfully say (the playbook's
``compliant_agent_examples``, its stage cues and its own suggested answers), so "things are going to
get a lot worse for you" is a threat although it names no legal step, and "if it stays unpaid it may
be reported to the credit bureaus" is not one. A line is a violation when the rules together
outweigh the compliant class (a visit that is also a menace is split between two rules); the
violation is of the likeliest rule. Rules marked ``offensive_language`` also fire on the
offensive-language model (profanity, insults) in either language. A rule's ``unless`` vetoes
(reassurances such as "nobody is going to arrest you") apply as they do to its trigger; for those
abuse rules only a negation that takes an insult back ("im not calling you a liar") is one, since
an insult carries negations of its own ("someone who cant even pay a phone bill"). A line the
speech model looped on (:mod:`coach.text.repetition`) counts only when the classifier is sure of it.
The classifier also overrules a line's nearness to one of a rule's trigger examples, the loosest
of its matches, when it reads the line lawful (:meth:`ProhibitedSpeechAnalyzer.clears`). Not a rule's
phrases or patterns: written to be precise, they stand where the classifier misreads a clause
("您的配偶和父母都有义务替您偿还" reads lawful at 0.98).

Findings go to the compliance analyzer (``turn.facts["extra_findings"]``), which reports a rule once
per utterance however many ways it matched.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.sparse import csr_matrix, vstack

from coach.analyzers.base import AGENT_SIDE, Analyzer, Turn, register
from coach.analyzers.compliance import Finding
from coach.analyzers.features import Features, LinearClassifier, class_probabilities, fit_logistic, in_parallel
from coach.analyzers.intent import calibrate_threshold
from coach.analyzers.matcher import CompiledMatcher
from coach.events import BaseEvent
from coach.languages import language_pack
from coach.playbook.schema import Playbook, Rule
from coach.text.lexical import LexicalEncoder
from coach.text.offensive import METHOD_LEXICON, OffensiveLanguageDetector
from coach.text.repetition import looped

if TYPE_CHECKING:
    from coach.engine import CallSession, CoachEngine

NONE = "__compliant__"
#: The small-talk and praise heads' classes: the playbook's small talk or praise, and the rules' examples.
SMALL_TALK, PRAISE, VIOLATION = "__small_talk__", "__praise__", "__violation__"
#: Above this share the small-talk (or praise) head reads a line as small talk (praise): its own
#: decision, no bar tuned on any set.
HEAD_BAR = 0.5
#: Offensive-language probability that counts as abuse in an agent's mouth.
OFFENSIVE_THRESHOLD = 0.7
#: Bounds of the calibrated threshold: precision first, since a false S1 interrupts a lawful call.
THRESHOLD_RANGE = (0.5, 0.9)  # a violation is over one half in all (see _violation)
#: A negated line ("nobody is going to arrest you") counts only when the rule's own probability is this
#: high. At 0.9 it excused menaces whose negation is the menace ("nobody will ever hire you once this is
#: on your record", 0.83); at the calibrated threshold (0.75) an insult's word said of no one ("nobody is
#: saying you are a deadbeat", 0.77) raised an S1 (session 27: 0.8 catches 3-4 more threats and abuse
#: per language on the dev sets than 0.9, as many as the threshold, with no false S1 added).
REASSURANCE_CONFIDENCE = 0.8
#: A line that only sympathises ("i get that youre mad at the bank") counts only when the rule's own
#: probability is this high.
SYMPATHY_CONFIDENCE = 0.9
#: A line that takes an insult back ("nobody is saying you are a deadbeat") names the insult, so the
#: classifier reads it as abuse more surely (that one 0.85) than the bar a negated threat is held to.
DENIAL_CONFIDENCE = 0.9
#: Share of the playbook's lawful agent lines (written close to the rules on purpose) that may raise a
#: rule in cross-validation: the calibrated threshold never goes below the one that keeps to it.
MAX_FALSE_ALARMS = 0.03
#: Cross-validation runs (different folds) the threshold is calibrated on: with one, a few examples
#: more or less moved it by two grid steps (0.725 -> 0.775 for six added abuse lines), and with it the
#: recall of every rule.
CALIBRATION_REPEATS = 3
#: A line the speech model looped on ("I want this, I'm here, I want this, I'm here, ...") counts
#: only when the rule's own probability is this high: Whisper's loops on the bundled calls read as threats at
#: 0.68-0.80; "pay today or we will have you arrested" said twice at 0.97. A vague threat said twice
#: under it ("people who cross us end up sorry" twice: 0.81) is missed: the price of no false S1s.
LOOPED_CONFIDENCE = 0.85


def classified_rules(playbook: Playbook) -> list[Rule]:
    """Prohibited agent rules that hold whoever is on the line (not the third-party rule, which
    depends on verification, and not amount or duty rules)."""
    return [r for r in playbook.rules if r.kind == "prohibited" and r.speaker == "agent" and r.before is None]


def compliant_texts(playbook: Playbook) -> list[str]:
    texts = list(playbook.compliant_agent_examples)
    for stage in playbook.stages:
        texts += stage.cues.examples
    for intent in playbook.intents:
        texts += [r.text for r in intent.responses]
    return list(dict.fromkeys(texts))


@register
class ProhibitedSpeechAnalyzer(Analyzer):
    name = "prohibited_speech"
    speakers = AGENT_SIDE
    order = 65

    def __init__(self, engine: CoachEngine) -> None:
        super().__init__(engine)
        playbook = engine.playbook
        self.pack = language_pack(engine.language)
        self.rules = {r.id: r for r in classified_rules(playbook)}
        self.offensive_rules = [r for r in playbook.rules if r.offensive_language and r.kind == "prohibited"]
        self._abuse = {r.id for r in self.offensive_rules}
        texts: list[str] = []
        labels: list[str] = []
        for rule in self.rules.values():
            texts += rule.trigger.examples
            labels += [rule.id] * len(rule.trigger.examples)
        compliant = compliant_texts(playbook)
        texts += compliant
        labels += [NONE] * len(compliant)
        self.texts = texts
        self.labels = np.array(labels)
        self.classifier: LinearClassifier | None = None
        self.small_talk_head: LinearClassifier | None = None
        self.praise_head: LinearClassifier | None = None
        self.threshold = THRESHOLD_RANGE[1]
        self.support_floor = 0.0
        if len(set(labels)) < 2 or not self.rules:
            return
        # a vocabulary of its own, fitted on what it learns from (Features.input_with_words)
        self.lexical = LexicalEncoder(engine.language, texts)
        self.features = engine.space.encode(texts)
        matrix = self.classifier_input(self.features)
        self.classifier = fit_logistic(matrix, self.labels, C=20.0, max_iter=2000)
        self._none = list(self.classifier.classes_).index(NONE)
        self.threshold = self._calibrate(matrix)
        self.support_floor = self._support_floor()
        if playbook.small_talk_agent_examples:
            self.small_talk_head = self._fit_small_talk(matrix, playbook.small_talk_agent_examples)
        if playbook.praise_agent_examples and self._abuse & set(self.rules):
            self.praise_head = self._fit_praise(matrix, playbook.praise_agent_examples)

    def _fit_small_talk(self, matrix: csr_matrix, small_talk: list[str]) -> LinearClassifier:
        """A head that tells small talk from the rules' examples, apart from the rule classifier: as
        lawful lines there, small talk moved its calibration and cost threats (docs/benchmarks.md,
        sections 45 and 47). Its lines weigh ``LanguagePack.small_talk_weight`` rule examples each (one,
        or two in English), so the rules' many more examples keep it to clear chit-chat. It reads the
        rule classifier's input, whose words were fitted without the small talk: small talk's own words
        reach it through the sentence embedding only."""
        return self._fit_head(matrix[np.flatnonzero(self.labels != NONE)], small_talk, SMALL_TALK,
                              class_weight={SMALL_TALK: self.pack.small_talk_weight, VIOLATION: 1.0})

    def _fit_praise(self, matrix: csr_matrix, praise: list[str]) -> LinearClassifier:
        """A head that tells sincere praise from the abuse rules' examples, mock praise among them
        ("such a hard worker, hard at work hiding from us"). Balanced: a few dozen lines of praise
        against hundreds of insults, which the small-talk head's unweighted fit would leave at one
        half even on its own lines."""
        abuse = matrix[np.flatnonzero(np.isin(self.labels, sorted(self._abuse)))]
        return self._fit_head(abuse, praise, PRAISE, class_weight="balanced")

    def _fit_head(self, violations: csr_matrix, lines: list[str], label: str, **weights: Any) -> LinearClassifier:
        """``lines`` (labelled ``label``) against ``violations`` (rows of the rule classifier's input)."""
        own = self.classifier_input(self.space.encode(lines))
        labels = np.array([VIOLATION] * violations.shape[0] + [label] * own.shape[0])
        return fit_logistic(vstack([violations, own]).tocsr(), labels, max_iter=2000, **weights)

    def classifier_input(self, features: Features) -> csr_matrix:
        """The line's dense block beside its words in this head's own vocabulary."""
        return features.input_with_words("prohibited_speech_input", self.lexical)

    def attach(self, engine: CoachEngine) -> None:
        """Load the offensive-language model now (English: ~1.5 s), with the engine: on a call's first
        agent line it would count against the analyzer's time budget, and under load overrun it."""
        super().attach(engine)
        if self.offensive_rules:
            OffensiveLanguageDetector.for_language(engine.language)

    def _calibrate(self, matrix) -> float:
        """The threshold with the best F-beta (beta 0.5) in 5-fold cross-validation, held above the
        false-alarm floor."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold

        counts = np.unique(self.labels, return_counts=True)[1]
        folds = min(5, int(counts.min()))
        if folds < 2:
            return THRESHOLD_RANGE[1]
        classes = list(self.classifier.classes_)
        splits = [list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(matrix, self.labels))
                  for seed in range(CALIBRATION_REPEATS)]
        models = in_parallel([partial(LogisticRegression(C=20.0, max_iter=2000).fit, matrix[train], self.labels[train])
                              for run in splits for train, _ in run])
        fitted = iter(models)  # in the splits' order: each run takes its folds' models
        runs = []
        for run in splits:
            probabilities = np.zeros((len(self.labels), len(classes)))
            for (_, test), model in zip(run, fitted):
                columns = [classes.index(c) for c in model.classes_]
                probabilities[np.ix_(test, columns)] = model.predict_proba(matrix[test])
            runs.append(_collapsed(probabilities, classes.index(NONE)))
        collapsed, labels = np.vstack(runs), np.tile(self.labels, CALIBRATION_REPEATS)
        best = calibrate_threshold(collapsed, labels, classes, none=NONE, bounds=THRESHOLD_RANGE)
        return max(best, _false_alarm_floor(collapsed, labels, classes))

    def _support_floor(self) -> float:
        """How close a line must come to one of a rule's examples for the classifier's finding to
        count: as close as all but the loneliest ``LanguagePack.support_percentile`` % of the rules'
        examples are to their nearest sibling. Further away, a sure classifier is extrapolating: lines
        of a Chinese call reviewed as English ("and then were in the kurfoo, in the kurfoo") read as
        threats at 0.8 while 0.26 from every threat example, whose examples all lie within 0.31 of
        another (MiniLM + e5). The embedding's own scale (e5's cosines run higher than MiniLM's)."""
        sims = self.features.similarity(self.features)
        np.fill_diagonal(sims, -np.inf)
        nearest = [sims[i][self.labels == label].max() for i, label in enumerate(self.labels)
                   if label != NONE and (self.labels == label).sum() > 1]
        return float(np.percentile(nearest, self.pack.support_percentile)) if nearest else 0.0

    def analyze(self, turn: Turn, session: CallSession) -> list[BaseEvent]:
        findings: list[Finding] = []
        norm = turn.features.norms[0]
        monitor = session.compliance
        excused = turn.facts["excused_insults"] = self._excused_insults(turn)  # read again by excuses_insult()
        unreported = turn.unreported(self.pack, self.space)  # read again by excuses_report()
        if self.classifier is not None:
            # a line the speech model looped on counts only when the classifier is sure of the rule itself
            sure = LOOPED_CONFIDENCE if looped(turn.text, self.engine.language) else 0.0
            probabilities = class_probabilities(self.classifier, self.classifier_input(turn.features))[0]
            turn.facts["prohibited_reading"] = probabilities  # read again by clears()
            p, order = _violation(probabilities, self._none)
            for index in order[:2]:
                if p < self.threshold:
                    break
                own = float(probabilities[index])  # the rule's own share: the bars for a sure finding
                rule = self.rules[str(self.classifier.classes_[index])]
                abuse = rule.id in self._abuse
                # an insult taken back, a threat negated
                negated = (own < DENIAL_CONFIDENCE and self.pack.denies_insult(norm) if abuse
                           else own < REASSURANCE_CONFIDENCE and self.pack.reassures(norm))
                # an insult said of someone else, of the speaker, reported: the line without it is lawful
                # ("the thief who cloned your card" read as a threat of a crime)
                excuse = (excused is not None and not self._reads_as(excused, rule.id)
                          # the debtor's words quoted back ("you told me this whole thing is a scam. okay, i hear you")
                          or unreported is not None and not self._reads_as(unreported, rule.id))
                skipped = (not monitor.applies(rule) or _vetoed(rule, norm, monitor) or own < sure or negated
                           or self._only_sympathy(norm, own) or excuse)
                if not skipped:
                    example, support = self._nearest(turn, rule.id)
                    # nothing the rule was taught is near (garbled speech), or the line is of a lawful kind
                    skipped = support < self.support_floor or self._lawful_kind(turn)
                if skipped:
                    p -= own  # the next rule stands on what is left, never on this one's share
                    continue
                findings.append(Finding(rule, f"{turn.text} (reads like {example!r})", round(p, 3),
                                        "classifier", turn.uid, turn.time, turn.speaker))
                break
        if self.offensive_rules:
            score = turn.offensive(self.engine.language)
            if unreported is not None and score.probability >= OFFENSIVE_THRESHOLD:
                # the offence is in the debtor's words the agent quotes ("您刚才说“你们这帮吸血鬼”，这话我听到了")?
                score = OffensiveLanguageDetector.for_language(self.engine.language).score(unreported.texts)[0]
            # a model's reading of small talk, praise or a question of who is on the line is no abuse
            # ("my knees hate me after that hike": 0.92), nor of a line the rule classifier reads lawful
            # ("this stuff sucks to sort out"); a term the lexicon lists stays abuse wherever it is said
            listed = score.method == METHOD_LEXICON
            if score.probability >= OFFENSIVE_THRESHOLD and (listed or not (self._lawful_kind(turn)
                                                                             or self._reads_lawful(turn, score.evidence))):
                for rule in self.offensive_rules:
                    if monitor.applies(rule) and all(f.rule.id != rule.id for f in findings):
                        evidence = f"{turn.text} ({score.evidence})" if score.evidence else turn.text
                        findings.append(Finding(rule, evidence, round(score.probability, 3), f"offensive:{score.method}",
                                                turn.uid, turn.time, turn.speaker))
        turn.facts.setdefault("extra_findings", []).extend(findings)
        return []

    def _reads_lawful(self, turn: Turn, evidence: str | None) -> bool:
        """Whether the rule classifier reads the line lawful as surely as a violation must read, when
        the offensive model leaned most on a word that is no insult of a person ("sucks", "sue"). An
        insult the lexicon leaves to the model ("stupid") is not cleared so: courtesy around it
        dilutes the classifier's reading, even of its own clause ("thank you for your time, and
        please try not to be stupid about the due date" reads lawful at 0.98 whole, 0.84 the clause)."""
        reading = turn.facts.get("prohibited_reading")
        detector = OffensiveLanguageDetector.for_language(self.engine.language)
        return (reading is not None and float(reading[self._none]) >= self.threshold
                and not (evidence and detector.lexicon.soft(evidence)))

    def leans_lawful(self, turn: Turn) -> bool:
        """The rule classifier reads the line as lawful more than not (its compliant share over one half)."""
        reading = turn.facts.get("prohibited_reading")  # none when the classifier did not run: not lawful then
        return reading is not None and float(reading[self._none]) > 0.5

    def clears(self, turn: Turn, rule: Rule, trigger: CompiledMatcher) -> bool:
        """Whether a line near one of ``rule``'s examples reads as lawful by meaning, as surely as a
        violation must read to be reported: as a whole, and in the shortest run of clauses that
        matches the rule's trigger. A long turn dilutes one threatening clause ("... but if nothing
        comes in by friday, we will garnish your wages, so let's find something that works" reads
        lawful at 0.98 as a whole, its clause a threat at 0.92); a fragment too short to mean anything
        alone ("就报警") is read with the clauses after it. A line that only sympathises is excused
        as the classifier's own reading of it is, unless the classifier is sure of the rule ("i hear
        you, you're saying this is the worst month of your life, i'm really sorry": a threat at 0.78,
        near "... the worst month of your life")."""
        reading = turn.facts.get("prohibited_reading")
        if self.classifier is None or rule.id not in self.rules or reading is None:
            return False
        if self._only_sympathy(turn.features.norms[0], float(reading[list(self.classifier.classes_).index(rule.id)])):
            return True
        if reading[self._none] < self.threshold:
            return False
        clauses = self.pack.clauses(turn.text)
        for width in range(1, len(clauses)):
            runs = [self.pack.clause_run(clauses, start, start + width) for start in range(len(clauses) - width + 1)]
            features = self.space.encode(runs)
            held = [i for i in range(len(runs)) if trigger.match(features.row(i))]
            if held:
                lawful = class_probabilities(self.classifier, self.classifier_input(features))[held, self._none]
                return bool(np.all(lawful >= self.threshold))
        return True  # one clause, or only the whole line holds the words: its reading stands

    def excuses_insult(self, turn: Turn, rule: Rule, trigger: CompiledMatcher) -> bool:
        """An abuse rule's words matched only an insult the offensive-language lexicon excuses (said
        of someone else, of no one, of the speaker, reported: "some jerk stole your identity", "you
        told me to go to hell"): the line with it taken off the listener matches the rule no more."""
        features = turn.facts.get("excused_insults")
        return rule.id in self._abuse and features is not None and trigger.match(features) is None

    def excuses_report(self, turn: Turn, rule: Rule, trigger: CompiledMatcher) -> bool:
        """A rule's words matched only in the debtor's words the agent quotes back (the language's
        ``reported_speech``): the line without them matches the rule no more."""
        features = turn.facts.get("unreported")
        return rule.id in self.rules and features is not None and trigger.match(features) is None

    def _excused_insults(self, turn: Turn) -> Features | None:
        """The line with the terms the offensive-language lexicon excuses taken off the person on the
        line (the score's ``neutral``), or None when it has none, or a term it does not excuse."""
        if not self.offensive_rules:
            return None
        neutral = turn.offensive(self.engine.language).neutral
        return self.space.encode([neutral]) if neutral is not None else None

    def _reads_as(self, features: Features, rule_id: str) -> bool:
        """The classifier finds ``rule_id`` in ``features`` as it would report it."""
        probabilities = class_probabilities(self.classifier, self.classifier_input(features))[0]
        p, order = _violation(probabilities, self._none)
        return p >= self.threshold and str(self.classifier.classes_[order[0]]) == rule_id

    def _only_sympathy(self, norm: str, own: float) -> bool:
        """The line only sympathises (or apologises) and the classifier is not sure of the rule."""
        return own < SYMPATHY_CONFIDENCE and self.pack.sympathises(norm)

    def _lawful_kind(self, turn: Turn) -> bool:
        """The line is small talk, sincere praise or a question of who is on the line: the rule
        classifier learned only debt talk, lawful or not, and read "what kind of dog is it" as abuse at
        0.97, "you're a smart cookie, you caught the error before I did" at 0.96. Each kind is read
        whole and clause by clause: each clause the rule classifier reads as a violation must be of the
        kind too ("出门小心点 别出什么意外" is small talk at 0.52 whole, its menace at 0.29): a menace
        wrapped in chit-chat stays a menace, at the price of some chit-chat whose clauses read alone are
        neither (docs/benchmarks.md sections 47-49). Read once a turn (kept in its facts)."""
        if "lawful_kind" not in turn.facts:
            turn.facts["lawful_kind"] = any(
                head is not None and self._head_reads(head, label, turn)
                for head, label in ((self.small_talk_head, SMALL_TALK), (self.praise_head, PRAISE))
            ) or self._asks_who(turn)
        return turn.facts["lawful_kind"]

    def _asks_who(self, turn: Turn) -> bool:
        """The line asks who is on the line, or how they know the debtor (the language's
        ``identity_question``), and so does every clause of it the rule classifier reads as a
        violation: "你是王磊吧", "我找王磊 你是他什么人" read as abuse at 0.99, the classifier's insults
        saying 你 as often as such questions do, and "那你是他家里人吧" as telling the family to pay;
        "你是王磊吧 明天我们就上门" stays a threat. No violation by reading alone, then: a term the
        offensive lexicon lists (你是王八蛋吧) or a rule's own words stay one."""
        question = self.pack.identity_question
        if question is None or not question.search(turn.features.norms[0]):
            return False
        return self._clauses_read_as(turn, lambda runs, features: np.array([bool(question.search(r)) for r in runs]))

    def _head_reads(self, head: LinearClassifier, label: str, turn: Turn) -> bool:
        if self._share(head, label, turn.features)[0] <= HEAD_BAR:
            return False
        return self._clauses_read_as(turn, lambda runs, features: self._share(head, label, features) > HEAD_BAR)

    def _clauses_read_as(self, turn: Turn, kind: Callable[[list[str], Features], np.ndarray]) -> bool:
        """Each clause of the line that the rule classifier reads as a violation is of ``kind`` (a
        line of one clause: yes, its whole was judged)."""
        if len(self.pack.clauses(turn.text)) < 2:
            return True
        runs = self.pack.clause_runs(turn.text)
        features = self.space.encode(runs)
        readings = class_probabilities(self.classifier, self.classifier_input(features))
        violating = [_violation(reading, self._none)[0] >= self.threshold for reading in readings]
        return all(read for read, violation in zip(kind(runs, features), violating) if violation)

    def _share(self, head: LinearClassifier, label: str, features: Features) -> np.ndarray:
        """Each row's probability of ``label`` by ``head``."""
        probabilities = class_probabilities(head, self.classifier_input(features))
        return probabilities[:, list(head.classes_).index(label)]

    def _nearest(self, turn: Turn, label: str) -> tuple[str, float]:
        """The rule's example nearest the line, and its similarity."""
        sims = turn.features.similarity(self.features)[0]
        sims = np.where(self.labels == label, sims, -np.inf)
        nearest = int(sims.argmax())
        return self.texts[nearest], float(sims[nearest])


def _violation(probabilities: np.ndarray, none: int) -> tuple[float, np.ndarray]:
    """Whether a line breaks a rule, and which: the probability of breaking any (one minus that of
    a compliant line) and the rules' indices, likeliest first. A line between two rules (a visit
    that is also a threat: CN-CHANNEL and CN-ABUSE at 0.35 each, compliant at 0.3) is a violation
    even though no single rule beats the compliant class; it counts only when the rules together do
    (over one half)."""
    violation = 1.0 - float(probabilities[none])
    order = [int(i) for i in np.argsort(probabilities)[::-1] if i != none]
    return (violation if violation > 0.5 else 0.0), np.array(order)


def _false_alarm_floor(collapsed: np.ndarray, labels: np.ndarray, classes: list[str]) -> float:
    """The threshold above which only ``MAX_FALSE_ALARMS`` of the playbook's lawful lines raise a rule
    in cross-validation (just above their 97th percentile). F-beta's curve is flat near its top, so more (and
    subtler) violation examples can move its best threshold down a long way: 120 subtle English
    threats moved it 0.75 -> 0.625 and doubled the false S1s on the development set's lawful lines.
    A percentile, not the first step of the calibration grid under the share: on that grid the
    English share at 0.8 sat at 3.00 %, and an example more or less flipped the floor between 0.8
    and 0.825 (session 48), losing threats the development sets and the held-out set catch at 0.8; the
    percentile moves by thousandths for such an edit (0.794-0.804 over nine cross-validation seeds)."""
    lawful = labels == NONE
    fired_p = np.where(collapsed.argmax(axis=1) != classes.index(NONE), collapsed.max(axis=1), 0.0)[lawful]
    allowed = int(MAX_FALSE_ALARMS * fired_p.size)
    if allowed >= fired_p.size:
        return THRESHOLD_RANGE[0]
    first_kept_out = float(np.sort(fired_p)[::-1][allowed])  # the line the threshold must stay above
    floor = np.ceil(first_kept_out * 1000 + 1e-6) / 1000
    return round(float(min(max(floor, THRESHOLD_RANGE[0]), THRESHOLD_RANGE[1])), 3)


def _collapsed(probabilities: np.ndarray, none: int) -> np.ndarray:
    """Cross-validated probabilities as :func:`_violation` decides: each line's likeliest rule
    carries the probability of any violation, so the threshold is calibrated on the decision made."""
    collapsed = np.zeros_like(probabilities)
    for row, line in enumerate(probabilities):
        violation, order = _violation(line, none)
        collapsed[row, none] = float(line[none])
        collapsed[row, order[0]] = violation
    return collapsed


def _vetoed(rule: Rule, norm: str, monitor) -> bool:
    matcher = monitor.rules.triggers.get(rule.id)
    return bool(matcher is not None and matcher.vetoed(norm))
