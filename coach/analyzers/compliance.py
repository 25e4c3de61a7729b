"""Compliance: prohibited content, duties the debtor triggers, required statements with deadlines,
quoted amounts, and pre-call gates on metadata.

:class:`ComplianceRules` is shared per playbook; :class:`ComplianceMonitor` holds one call's state
(what was said, which anchors were reached, which deadlines are open), so live and recorded calls run
through the same code one utterance at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from coach.analyzers.base import EVERYONE, Analyzer, Turn, register
from coach.analyzers.features import Features, FeatureSpace
from coach.analyzers.matcher import CompiledMatcher, Match
from coach.analyzers.stages import DECEASED
from coach.events import BaseEvent
from coach.languages import language_pack
from coach.outcome import stated_amounts
from coach.playbook.schema import Playbook, Rule

if TYPE_CHECKING:
    from coach.analyzers.agent_speech import ProhibitedSpeechAnalyzer
    from coach.engine import CallSession


#: How a rule's trigger matched a line: its phrases, its patterns, or nearness to one of its examples.
WORD_METHODS = ("phrase", "pattern", "example")
#: A line read as a duty's intents less surely than this in all (a dispute is spread over not_my_debt,
#: dispute_amount, already_paid...) is a hint for the agent, but starts no duty: "你们又打来干什么"
#: (stop_calling at 0.52) and "im tired of you people calling my house" (0.40) complain of the calls
#: without asking for them to stop, and every later mention of the balance had become an S1. The
#: requests to stop on the development sets read 0.76 and over.
DUTY_START_CONFIDENCE = 0.6


@dataclass(frozen=True)
class Finding:
    rule: Rule
    evidence: str
    confidence: float
    method: str
    utterance_id: int | None
    time: float | None
    speaker: str | None


class ComplianceRules:
    """The playbook's rules with their triggers compiled."""

    def __init__(self, playbook: Playbook, space: FeatureSpace) -> None:
        self.rules = list(playbook.rules)
        self.language = playbook.language
        self.pack = language_pack(playbook.language)
        self.triggers = {r.id: CompiledMatcher(r.trigger, space) for r in self.rules if not r.trigger.is_empty()}
        #: Words that break a rule by themselves: a duty's before it started, a metadata-gated rule's
        #: without its metadata (see ``Rule.anytime``).
        self.anytime = {r.id: CompiledMatcher(r.anytime, space) for r in self.rules if r.anytime and not r.anytime.is_empty()}
        self.duty_starts = {
            r.id: CompiledMatcher(r.after_debtor, space) for r in self.rules if r.after_debtor and not r.after_debtor.is_empty()
        }
        #: What the agent may say to the family of a debtor who died (``Rule.after_death``).
        self.after_death = {r.id: CompiledMatcher(r.after_death, space) for r in self.rules if r.after_death}
        #: The agent's words that say the debtor asked (``Rule.acknowledged``).
        self.acknowledgements = {r.id: CompiledMatcher(r.acknowledged, space) for r in self.rules if r.acknowledged}


@dataclass
class ComplianceMonitor:
    rules: ComplianceRules
    metadata: dict[str, Any]
    started_at: datetime | None = None
    #: Times anchors were reached: "call_start", "identity_verified", "stage:<id>", "intent:<id>".
    anchors: dict[str, float] = field(default_factory=dict)
    #: Debtor intents so far, for duties: intent id -> (utterance id, text).
    intents_seen: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: Duties started by the debtor's words (after_debtor): rule id -> what the debtor said.
    duties_started: dict[str, str] = field(default_factory=dict)
    #: Duties started by the agent's words that the debtor asked (``Rule.acknowledged``): rule id -> the
    #: line. Cited only where the debtor's own request is not in the call.
    acknowledged: dict[str, str] = field(default_factory=dict)
    satisfied: set[str] = field(default_factory=set)
    reported_deadlines: set[str] = field(default_factory=set)
    #: Duty rules the debtor lifted (see ``Rule.released_by_intents`` and ``Rule.released_by_consent``).
    released: set[str] = field(default_factory=set)

    # -- call start ----------------------------------------------------------------------------

    def check_metadata(self) -> list[Finding]:
        """Pre-call gates: evaluated once when the call starts."""
        found = []
        for rule in self.rules.rules:
            if rule.kind != "metadata" or not self.applies(rule):
                continue
            problem = self._metadata_problem(rule)
            if problem:
                found.append(Finding(rule, problem, 1.0, "metadata", None, 0.0, None))
        return found

    def _metadata_problem(self, rule: Rule) -> str | None:
        check = rule.metadata_check
        assert check is not None
        if check.check == "local_hours":
            local = self._local_time()
            if local is None:
                return None
            if not (check.earliest <= local < check.latest):
                return f"call at {local} debtor local time, outside {check.earliest}-{check.latest}"
            return None
        value = self.metadata.get(check.field)
        if value is None:
            return None
        if check.check == "flag_set":
            return f"{check.field} is set" if value is True else None
        try:
            number = float(value)
        except (TypeError, ValueError):
            return f"{check.field} is {value!r}, not a number"
        if check.check == "max_value" and number > check.max:
            return f"{check.field} = {value:g} exceeds {check.max:g}"
        if check.check == "min_value" and number < check.min:
            return f"{check.field} = {value:g} is below {check.min:g}"
        return None

    def _local_time(self) -> str | None:
        local = self.metadata.get("local_time")
        if isinstance(local, str):
            hours, minutes = local.split(":")
            return f"{int(hours):02d}:{minutes}"
        zone = self.metadata.get("debtor_timezone")
        if self.started_at is None or not zone or self.started_at.tzinfo is None:
            return None
        try:
            return self.started_at.astimezone(ZoneInfo(zone)).strftime("%H:%M")
        except (ZoneInfoNotFoundError, ValueError):
            return None

    # -- each utterance ------------------------------------------------------------------------

    def reach(self, anchor: str, time: float) -> None:
        self.anchors.setdefault(anchor, time)

    def on_utterance(
        self,
        utterance_id: int,
        speaker: str,
        start: float,
        features: Features,
        *,
        identity_verified: bool,
        debtor_intents: list[str] | tuple[str, ...] = (),
        intent_confidence: dict[str, float] | None = None,
        consents: str | None = None,
    ) -> list[Finding]:
        """``consents``: how the debtor chose to talk about paying, which lifts the duties that allow it
        (``Rule.released_by_consent``): ``"reply"``, a yes to the agent's offer to go over the options
        (it lifts what was started before this line), or ``"asks"``, asking how to pay (in the same
        breath as a dispute too: "the amount is too high, can I do a plan while you check")."""
        found = self._overdue(utterance_id, start)
        if speaker == "debtor":
            starting = [i for i in debtor_intents if self._sure_enough(i, intent_confidence or {})]
            self._lift_or_restart(utterance_id, features, debtor_intents, starting, consents)
        for rule in self.rules.rules:
            if rule.speaker != speaker:
                continue
            if rule.kind in ("metadata", "required"):
                found += self._said_anyway(rule, utterance_id, start, speaker, features)
                if rule.kind == "metadata":
                    continue
            # a prohibited rule whose metadata does not hold: only its anytime words, and only when the
            # call says nothing of those fields
            gated = not self.applies(rule)
            if gated and (rule.kind != "prohibited" or rule.id not in self.rules.anytime
                          or any(self.metadata.get(k) is not None for k in rule.when_metadata)):
                continue
            if rule.kind == "prohibited" and rule.before == "identity_verified" and (
                    identity_verified or self._handles_a_death(rule, features)):
                continue
            if rule.kind == "required" and (rule.id in self.satisfied or rule.after not in self.anchors):
                continue
            cause = self.duty_cause(rule) if rule.kind == "duty" else None
            match, anytime = self._match(rule, features, cause, gated)
            if match is None:
                continue
            if rule.kind == "required":
                self.satisfied.add(rule.id)
                continue
            evidence = features.texts[0]
            if rule.kind == "amount" and anytime:
                evidence = f"{features.texts[0]} (a fee on top of the balance: is it authorised?)"
            elif rule.kind == "amount":
                problem = self._amount_problem(features.texts[0])
                if problem is None:
                    continue
                evidence = f"{features.texts[0]} ({problem})"
            elif gated:
                evidence = f"{features.texts[0]} (the line itself shows it; the call has no {', '.join(rule.when_metadata)} flag)"
            elif rule.kind == "duty":
                evidence = (f"{features.texts[0]} (after the debtor said: {cause})" if cause is not None
                            else f"{features.texts[0]} (breaks it whatever the debtor said before)")
            # "anytime:pattern": the rule's own anytime words, whose vetoes already weighed any negation
            method = f"anytime:{match.method}" if anytime else match.method
            found.append(Finding(rule, evidence, match.confidence, method, utterance_id, start, speaker))
        return found

    def _handles_a_death(self, rule: Rule, features: Features) -> bool:
        """The line is what ``rule.after_death`` allows, said after the debtor side told of the death,
        or itself speaking of it ("您节哀顺变 ... 这边停止对他的催收": the death was heard, if not by us)."""
        allowed = self.rules.after_death.get(rule.id)
        if allowed is None or allowed.match(features) is None:
            return False
        return f"intent:{DECEASED}" in self.anchors or self.rules.pack.speaks_of_death(features.norms[0])

    def _lift_or_restart(self, utterance_id: int, features: Features, intents: list[str] | tuple[str, ...],
                         starting: list[str], consents: str | None) -> None:
        """A debtor line's effect on the duties: what it lifts (any of its ``intents``), restarts and
        starts (those read surely enough to, ``starting``)."""
        duties = [r for r in self.rules.rules if r.kind == "duty"]
        # lifted before this line's own starts count: an instalment named in a dispute ("这笔分期手续费
        # 我根本没申请过分期") reads as settlement_request too, and a yes can carry a dispute of its own
        for rule in duties:
            if self.duty_cause(rule) and (set(intents) & set(rule.released_by_intents)
                                          or (consents == "reply" and rule.released_by_consent)):
                self.released.add(rule.id)
        for rule in duties:
            if rule.id in self.released and self._starts(rule, features, starting):
                self.released.discard(rule.id)  # "no, I dispute all of it": the duty is back, for this line
                self.duties_started.pop(rule.id, None)
                self.acknowledged.pop(rule.id, None)
                for intent in set(starting) & set(rule.after_intents):
                    self.intents_seen.pop(intent, None)
        for intent in starting:
            self.intents_seen.setdefault(intent, (utterance_id, features.texts[0]))
        for rule_id, matcher in self.rules.duty_starts.items():
            if rule_id not in self.duties_started and matcher.match(features):
                self.duties_started[rule_id] = features.texts[0]
        if consents == "asks":
            for rule in duties:
                if rule.released_by_consent and self.duty_cause(rule):
                    self.released.add(rule.id)

    def _sure_enough(self, intent: str, confidence: dict[str, float]) -> bool:
        """Whether ``intent`` on this line may start the duties it names: one of them is read surely
        enough, over all its intents (an intent with no reading, a tone or a promise, always may)."""
        if intent not in confidence:
            return True
        rules = [r for r in self.rules.rules if r.kind == "duty" and intent in r.after_intents]
        return not rules or any(sum(confidence.get(i, 0.0) for i in r.after_intents) >= DUTY_START_CONFIDENCE
                                for r in rules)

    def _starts(self, rule: Rule, features: Features, intents: list[str] | tuple[str, ...]) -> bool:
        """The line says what starts ``rule``: one of its intents, or its words."""
        matcher = self.rules.duty_starts.get(rule.id)
        return bool(set(intents) & set(rule.after_intents)) or (matcher is not None and matcher.match(features) is not None)

    def _said_anyway(self, rule: Rule, utterance_id: int, start: float, speaker: str, features: Features) -> list[Finding]:
        """A metadata or required rule broken in the agent's own words (``Rule.anytime``): a time or
        place the consumer said does not suit, an autodialler after consent was revoked, the agent
        denying what they are. Metadata cannot show those, and a disclosure made earlier does not excuse them."""
        anytime = self.rules.anytime.get(rule.id)
        if anytime is None or not self.applies(rule):
            return []
        match = anytime.match(features)
        if match is None:
            return []
        evidence = f"{features.texts[0]} (the agent's own words show it)"
        return [Finding(rule, evidence, match.confidence, f"anytime:{match.method}", utterance_id, start, speaker)]

    def _match(self, rule: Rule, features: Features, cause: str | None, gated: bool) -> tuple[Match | None, bool]:
        """What of ``rule`` the utterance says, and whether its ``anytime`` words said it. Those count
        always, and first: their vetoes weighed the line's negations, which the reassurance filter
        would otherwise read as a threat taken back ("debts like this never expire", near a trigger
        example, on a call flagged time-barred). The trigger counts unless the rule is ``gated`` (its
        metadata does not hold), a duty's (pressing for payment) only once the debtor started it (``cause``)."""
        anytime = self.rules.anytime.get(rule.id) if rule.kind != "required" else None  # see _said_anyway
        match = anytime.match(features) if anytime else None
        if match is not None:
            return match, True
        if gated or (rule.kind == "duty" and cause is None):
            return None, False
        return self.rules.triggers[rule.id].match(features), False

    def acknowledge(self, features: Features) -> list[str]:
        """An agent line that says the debtor made a duty's request starts the duty (unless the debtor
        lifted it): the request may have come by letter or in an earlier call. The duties it started."""
        started = []
        for rule_id, matcher in self.rules.acknowledgements.items():
            if (rule_id not in self.duties_started and rule_id not in self.acknowledged
                    and rule_id not in self.released and matcher.match(features)):
                self.acknowledged[rule_id] = f"{features.texts[0]} (the agent's own words)"
                started.append(rule_id)
        return started

    def duty_cause(self, rule: Rule) -> str | None:
        """What the debtor said that started this duty, or None if it has not started (or the debtor
        lifted it since)."""
        if rule.id in self.released:
            return None
        if rule.id in self.duties_started:
            return repr(self.duties_started[rule.id])
        for intent in rule.after_intents:
            if intent in self.intents_seen:
                return f"{self.intents_seen[intent][1]!r}, {intent}"
        if rule.id in self.acknowledged:
            return repr(self.acknowledged[rule.id])
        return None

    def _amount_problem(self, text: str) -> str | None:
        balance = self.metadata.get("balance")
        if balance is None:
            return None
        figures = [f for f in stated_amounts(text, self.rules.language) if f >= 10]
        if not figures or any(abs(f - float(balance)) <= 1.0 for f in figures):
            return None
        return f"quoted {', '.join(f'{f:g}' for f in figures)} but the balance is {float(balance):g}"

    # -- deadlines -----------------------------------------------------------------------------

    def _overdue(self, utterance_id: int | None, now: float) -> list[Finding]:
        found = []
        for rule in self.rules.rules:
            if rule.kind != "required" or rule.id in self.satisfied or rule.id in self.reported_deadlines:
                continue
            if not self.applies(rule) or rule.after not in self.anchors:
                continue
            deadline = self.anchors[rule.after] + float(rule.within_seconds or 0)
            if now > deadline:
                self.reported_deadlines.add(rule.id)
                evidence = f"not said within {rule.within_seconds:g} s after {rule.after.replace('_', ' ')} (at {self.anchors[rule.after]:.1f} s)"
                found.append(Finding(rule, evidence, 0.9, "deadline", utterance_id, deadline, rule.speaker))
        return found

    def finish(self, end_time: float) -> list[Finding]:
        """Deadlines still open when the call ends count as missed."""
        found = self._overdue(None, float("inf"))
        found = [Finding(f.rule, f.evidence, f.confidence, f.method, None, min(f.time or end_time, end_time), f.speaker) for f in found]
        return found

    def applies(self, rule: Rule) -> bool:
        for key, expected in rule.when_metadata.items():
            value = self.metadata.get(key)
            if expected is False:
                if value not in (False, None):
                    return False
            elif value != expected:
                return False
        return True


@register
class ComplianceAnalyzer(Analyzer):
    """Every rule on every utterance: prohibited speech, duties the debtor started, deadlines, amounts."""

    name = "compliance"
    speakers = EVERYONE
    order = 70

    def __init__(self, engine) -> None:
        super().__init__(engine)
        self.pack = language_pack(engine.language)
        self.prohibited_speech: ProhibitedSpeechAnalyzer | None = None

    def attach(self, engine) -> None:
        """Find the prohibited-speech classifier, if it runs: it may overrule a rule's words."""
        super().attach(engine)
        self.prohibited_speech = engine.analyzer("prohibited_speech")

    def analyze(self, turn: Turn, session: CallSession) -> list[BaseEvent]:
        findings = session.compliance.on_utterance(
            turn.uid, turn.speaker, turn.time, turn.features,
            identity_verified=session.stages.identity_verified,
            debtor_intents=[*turn.facts.get("intents", ()), *turn.facts.get("duty_requests", {})],
            intent_confidence=(turn.facts.get("intent_confidence") or {}) | turn.facts.get("duty_requests", {}),
            consents=turn.facts.get("consents"),
        )
        if turn.speaker == "agent":
            findings = [f for f in findings if not (_reassurance_clears(f) and self._negated(turn, f.rule))]
        if turn.speaker == "agent" and self.prohibited_speech is not None:
            # near one of a rule's examples, in a line that reads, by meaning, as lawful; an insult
            # said of someone else or of no one ("some jerk stole your identity"); the debtor's words quoted
            triggers, speech = session.compliance.rules.triggers, self.prohibited_speech
            findings = [f for f in findings if not (f.utterance_id == turn.uid and f.method in WORD_METHODS and (
                f.method == "example" and speech.clears(turn, f.rule, triggers[f.rule.id])
                or speech.excuses_insult(turn, f.rule, triggers[f.rule.id])
                or speech.excuses_report(turn, f.rule, triggers[f.rule.id])))]
        found = {f.rule.id for f in findings}
        for extra in turn.facts.get("extra_findings", []):
            if extra.rule.id not in found:
                found.add(extra.rule.id)
                findings.append(extra)
        for finding in findings:
            if finding.utterance_id == turn.uid and turn.speaker == "agent":
                session.mark_bad_answer(turn.uid)
        return [session.compliance_event(f) for f in findings]

    def _negated(self, turn: Turn, rule: Rule) -> bool:
        """The line negates what the rule's words matched: "nobody is going to arrest you". An insult
        carries negations of its own ("你上过学吗 这点账都不会算", "your sort never pays"), so an abuse
        rule's words are cleared only by an insult taken back ("im not calling you a liar"), or by a
        negation in a line the rule classifier reads as lawful more than not ("no one from our team
        will come by your home"), as its own reading of abuse is."""
        norm = turn.features.norms[0]
        if not rule.offensive_language:
            return self.pack.reassures(norm)
        speech = self.prohibited_speech  # no classifier to read the line: only an insult taken back clears it
        return self.pack.denies_insult(norm) or (
            speech is not None and self.pack.reassures(norm) and speech.leans_lawful(turn))

    def finish(self, session: CallSession) -> list[BaseEvent]:
        """Deadlines still open when the call ends."""
        return [session.compliance_event(f) for f in session.compliance.finish(session.last_end)]


def _reassurance_clears(finding: Finding) -> bool:
    """A negated line may clear what a prohibited rule's words matched (:meth:`ComplianceAnalyzer._negated`),
    but not a third-party disclosure (the debt is named either way), the offensive-language model's
    reading, nor a rule's anytime words (their negations, "debts never expire", are the violation, and
    their own vetoes weighed them)."""
    rule = finding.rule
    return rule.kind == "prohibited" and rule.before is None and finding.method in WORD_METHODS
