"""Pressing on after the debtor asked to stop: any collection talk counts.

Once the debtor has asked to stop calling, named a lawyer, filed for bankruptcy or disputed the debt,
a duty rule forbids further collection talk. What the agent says next is rarely one of the trigger's
phrases: "so when do you think you could send something", "i understand but the balance is still
open". This classifier learns collection talk (the duty rules' trigger examples and the negotiation
and commitment stages' cues) against the lawful way out (the duty rules' ``lawful_examples``, the
playbook's own suggested answers to those requests, and the closing, opening and identity cues), and raises the started duty rules when
an agent line reads as collection talk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse import csr_matrix

from coach.analyzers.base import AGENT_SIDE, Analyzer, Turn, register
from coach.analyzers.compliance import Finding
from coach.analyzers.features import Features, LinearClassifier, class_probabilities, fit_logistic
from coach.analyzers.matcher import CompiledMatcher
from coach.events import BaseEvent
from coach.languages import language_pack
from coach.outcome import find_amount, find_due_date
from coach.playbook.schema import Playbook
from coach.text.lexical import LexicalEncoder

if TYPE_CHECKING:
    from coach.engine import CallSession, CoachEngine

#: Probability of collection talk that raises a started duty rule.
PRESSING_THRESHOLD = 0.6
#: A line read between this and the threshold is read clause by clause too, where the language allows
#: (``LanguagePack.pressing_reads_clauses``): a lawful acknowledgement reads far lower whole (0.03-0.32
#: on the development sets), and its clauses alone ("we won't ask you for payment") can read as pressing.
UNSURE = 0.4
#: A line saying collection pauses ("we won't ask for payment") counts only when the classifier is this sure.
REASSURANCE_CONFIDENCE = 0.9
#: Stages whose agent cues are collection talk, and stages whose cues are not.
COLLECTION_STAGES = ("negotiation", "commitment", "discovery")
LAWFUL_STAGES = ("opening", "identity_verification", "closing")


def training_texts(playbook: Playbook, stopping: set[str]) -> tuple[list[str], list[str]]:
    """(collection talk, lawful responses to a request to stop): ``stopping`` names the intents that
    start a duty."""
    duties = [r for r in playbook.rules if r.kind == "duty"]
    pressing: list[str] = []
    for rule in duties:
        pressing += rule.trigger.examples
    for stage in playbook.stages:
        if stage.id in COLLECTION_STAGES:
            pressing += stage.cues.examples
    lawful: list[str] = [text for rule in duties for text in rule.lawful_examples]
    for intent in playbook.intents:
        if intent.id in stopping:
            lawful += [r.text for r in intent.responses]
    for stage in playbook.stages:
        if stage.id in LAWFUL_STAGES:
            lawful += stage.cues.examples
    return list(dict.fromkeys(pressing)), list(dict.fromkeys(lawful))


def stopping_intents(engine: CoachEngine) -> set[str]:
    """Intents that start a duty: named by its ``after_intents``, or said in the words of its
    ``after_debtor`` (most of the intent's examples match them). The US attorney and bankruptcy duties
    start from words only, so their lawful way out ("could you give me your attorney's name and
    number?") was missing, and "whats the best number for your lawyer" read as collection talk."""
    duties = [r for r in engine.playbook.rules if r.kind == "duty"]
    stopping = {i for rule in duties for i in rule.after_intents}
    starts = [engine.rules.duty_starts[r.id] for r in duties if r.id in engine.rules.duty_starts]
    for intent in engine.playbook.intents:
        if intent.id in stopping or not starts or not intent.examples:
            continue
        features = engine.space.encode(intent.examples)
        said = sum(any(m.match(features.row(i)) for m in starts) for i in range(len(intent.examples)))
        if said * 2 > len(intent.examples):
            stopping.add(intent.id)
    return stopping


@register
class PressingAnalyzer(Analyzer):
    name = "pressing"
    speakers = AGENT_SIDE
    order = 66

    def __init__(self, engine: CoachEngine) -> None:
        super().__init__(engine)
        self.pack = language_pack(engine.language)
        self.duties = [r for r in engine.playbook.rules if r.kind == "duty" and r.speaker == "agent"]
        pressing, lawful = training_texts(engine.playbook, stopping_intents(engine))
        self.classifier: LinearClassifier | None = None
        if self.duties and len(pressing) >= 5 and len(lawful) >= 5:
            # a vocabulary of its own, fitted on what it learns from (Features.input_with_words)
            self.lexical = LexicalEncoder(engine.language, pressing + lawful)
            matrix = self.classifier_input(engine.space.encode(pressing + lawful))
            labels = np.array([1] * len(pressing) + [0] * len(lawful))
            self.classifier = fit_logistic(matrix, labels, C=10.0, max_iter=2000, class_weight="balanced")

    def classifier_input(self, features: Features) -> csr_matrix:
        """The line's dense block beside its words in this head's own vocabulary."""
        return features.input_with_words("pressing_input", self.lexical)

    def _clause_reading(self, text: str, acknowledgements: list[CompiledMatcher]) -> float:
        """The most pressing clause of a line of several (0 for a line of one), leaving out the clauses
        that only say the debtor asked: the acknowledgement is no collection talk, though read alone it
        can read as such (a promise to take the debtor off the call list, read alone, at 0.68)."""
        runs = self.pack.clause_runs(text)
        if len(runs) < 2:
            return 0.0
        features = self.engine.space.encode(runs)
        readings = class_probabilities(self.classifier, self.classifier_input(features))[:, 1]
        kept = [float(p) for i, p in enumerate(readings)
                if not any(matcher.match(features.row(i)) for matcher in acknowledgements)]
        return max(kept, default=0.0)

    def _offers_choice(self, turn: Turn) -> bool:
        """An offer to go over the options (read by :mod:`coach.analyzers.consent`) that asks for nothing
        else: what the line says besides the offer names no amount, nor a date to pay by ("we need
        fifty dollars today, do you want me to go over the plans or would you rather wait", "您今天必须
        还款 ..."). Where the patterns took nothing out, or left nothing, the whole line is read: an
        amount inside the offer itself counts too. Read by the classifier, such remains read as
        pressing whatever they say ("until the statement comes" 0.89), so they are read for terms."""
        if not turn.facts.get("offers_options"):
            return False
        rest = self.pack.leaves_choice(turn.text) or turn.text
        language = self.engine.language
        if find_amount(rest, language):
            return False
        return not (self.pack.names_payment(rest.lower()) and find_due_date(rest, language, None))

    def _only_closes(self, session: CallSession, turn: Turn) -> bool:
        """A goodbye with no payment in it ("那就这样 辛苦你了 拜拜", "okay have a good day"): the way
        out of the call, which the head (few goodbyes among its lawful lines, most of them 您) read as
        pressing at 0.74-0.94. One that asks for money on the way out is read ("您尽快还款 再见")."""
        shown = session.stages.last_shown
        if "closing" not in shown or any(stage in COLLECTION_STAGES for stage in shown):
            return False
        if find_amount(turn.text, self.engine.language):
            return False
        return not self.pack.names_payment(turn.text.lower())

    def analyze(self, turn: Turn, session: CallSession) -> list[BaseEvent]:
        if self.classifier is None:
            return []
        monitor = session.compliance
        acknowledged = monitor.acknowledge(turn.features)  # "i know you asked us to stop calling, but ..."
        started = [r for r in self.duties if monitor.applies(r) and monitor.duty_cause(r) is not None]
        if not started or self._only_closes(session, turn):
            return []
        if self._offers_choice(turn):
            # "would you like to hear the options now, or wait until you've seen the statement": the debtor
            # decides, for the duties the debtor's consent may lift (never an attorney's or a bankruptcy's)
            started = [r for r in started if not r.released_by_consent]
            if not started:
                return []
        # the debtor's words quoted back are not the agent's collection talk ("your words were 'quit phoning
        # me, I mean it', so that's on file now")
        own_words = turn.unreported(self.pack, self.space)
        features = turn.features if own_words is None else own_words
        text = features.texts[0]
        p = float(class_probabilities(self.classifier, self.classifier_input(features))[0][1])
        norm = features.norms[0]
        # the line that says the debtor asked, or grants a point and turns to payment ("got it but ..."),
        # is read clause by clause whatever its whole reads: the acknowledgement itself dilutes what
        # follows it ("i realize you have an attorney, but honestly its quicker if you and i settle this
        # now, how much can you send" reads lawful whole)
        unsure = (UNSURE <= p or any(rule.id in acknowledged for rule in started)
                  or self.pack.turns_after_conceding(norm))
        if unsure and p < PRESSING_THRESHOLD and self.pack.pressing_reads_clauses and not self.pack.pauses_collection(norm):
            said = [monitor.rules.acknowledgements[r.id] for r in started if r.id in monitor.rules.acknowledgements]
            p = max(p, self._clause_reading(text, said))
        if p < PRESSING_THRESHOLD:
            return []
        if p < REASSURANCE_CONFIDENCE and self.pack.pauses_collection(norm):
            return []  # "we won't ask you for any payment while it is reviewed"
        for rule in started:
            matcher = monitor.rules.triggers.get(rule.id)
            if matcher is not None and matcher.vetoed(norm):
                continue
            evidence = f"{turn.text} (collection talk after the debtor said: {monitor.duty_cause(rule)})"
            turn.facts.setdefault("extra_findings", []).append(
                Finding(rule, evidence, round(p, 3), "classifier", turn.uid, turn.time, turn.speaker)
            )
        return []
