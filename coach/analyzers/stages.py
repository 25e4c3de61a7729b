"""Call stages: which stage the agent's words show, and when the right party is verified."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from coach.analyzers.base import AGENT_SIDE, Analyzer, Turn, register
from coach.analyzers.features import Features, FeatureSpace
from coach.analyzers.matcher import CompiledMatcher, Match
from coach.events import BaseEvent
from coach.languages import language_pack
from coach.outcome import is_recap
from coach.playbook.schema import Playbook
from coach.text.normalize import normalize

if TYPE_CHECKING:
    from coach.engine import CallSession, CoachEngine


class StageDetector:
    """Shared per playbook: compiled cues of every stage."""

    def __init__(self, playbook: Playbook, space: FeatureSpace) -> None:
        self.order = [s.id for s in playbook.stages]
        self._cues = {s.id: CompiledMatcher(s.cues, space) for s in playbook.stages}
        identity = playbook.identity_stage
        self.identity_stage = identity.id if identity else None
        self._confirmations = CompiledMatcher(identity.confirmations, space) if identity and identity.confirmations else None

    def detect(self, features: Features) -> list[tuple[str, Match]]:
        """Every stage an agent utterance shows, in playbook order ("hi, this is Sam from Acme, am I
        speaking with Ana?" is both the opening and the identity check)."""
        found = []
        for stage_id in self.order:
            match = self._cues[stage_id].match(features)
            if match:
                found.append((stage_id, match))
        return found

    def confirms_identity(self, features: Features) -> Match | None:
        return self._confirmations.match(features) if self._confirmations else None


#: The debtor side's word that the debtor has died.
DECEASED = "deceased"
#: Intents whose answer says the one on the line is not the debtor.
NOT_THE_DEBTOR = ("wrong_party", DECEASED)


@dataclass
class StageReached:
    stage: str
    utterance_id: int
    time: float
    evidence: str


@dataclass
class StageTracker:
    """Per call: stages reached, the current stage, and identity verification."""

    detector: StageDetector
    reached: dict[str, StageReached] = field(default_factory=dict)
    current: str | None = None
    identity_check_pending: bool = False
    identity_verified_at: float | None = None
    identity_evidence: str | None = None
    #: Verified by an answer to the agent's identity check (not inferred from the debtor speaking of
    #: the debt as their own, which a spouse may do too).
    identified_by_check: bool = False
    #: The stages the agent's latest utterance showed, in playbook order.
    last_shown: list[str] = field(default_factory=list)
    #: A reply to the identity check that neither confirmed nor denied ("金色家园 三栋那个"): the
    #: agent's next line may accept it ("对上了", "that matches"), which verifies the debtor.
    reply_to_check: str | None = None
    #: The reply that took a verification back, if one did.
    revoked_by: str | None = None
    #: The right party gave details (digits, a date, an address) to an identity check since the agent last
    #: spoke, verifying them or checked again after a plain yes: the agent's next line may say they do not match the records
    #: (``LanguagePack.identity_rejected``), which takes it back. Not a plain yes: "that doesn't match"
    #: after "是我 我已经还了" is about the payment.
    newly_identified: bool = False

    @property
    def identity_verified(self) -> bool:
        return self.identity_verified_at is not None

    def on_agent(self, utterance_id: int, time: float, features: Features) -> str | None:
        """Records the stages this agent utterance shows; returns the latest of them (now current)."""
        found = self.detector.detect(features)
        self.last_shown = [stage for stage, _ in found]
        self.identity_check_pending = False
        for stage, match in found:
            # the scorecard quotes what the agent said, never the playbook example it resembled
            self.reached.setdefault(stage, StageReached(stage, utterance_id, time, features.texts[0]))
            if stage == self.detector.identity_stage:
                self.identity_check_pending = True  # also once verified: a second check can undo it
        if not found:
            return None
        self.current = found[-1][0]
        return self.current

    def on_debtor(self, time: float, features: Features, wrong_party: bool, confirmed: bool | None = None) -> bool:
        """Marks identity verified when this reply confirms the agent's identity check: as the dialogue
        act read it (``confirmed``), or, with no reading (None), by the playbook's confirmations alone.
        Returns True when it did."""
        pending, self.identity_check_pending = self.identity_check_pending, False
        if not pending or wrong_party or self.identity_verified:
            return False
        if confirmed is None:
            confirmed = self.detector.confirms_identity(features) is not None
        if not confirmed:
            return False
        return self.mark_identified(time, features.texts[0])

    def mark_identified(self, time: float, text: str, *, by_check: bool = True) -> bool:
        """Marks the right party identified by ``text``: a reply confirming the identity check, or,
        before any check passed, the debtor speaking of the debt as their own (an intent the playbook
        marks ``identifies_debtor``: ``by_check`` False). Returns True when it did (False when already
        identified)."""
        if self.identity_verified:
            return False
        self.identity_verified_at = time
        self.identity_evidence = text
        self.identified_by_check = by_check
        return True

    def revoke(self, text: str) -> None:
        """The person who said yes turns out to be someone else ("oh wait you want my dad"): what
        follows is said to a third party again."""
        self.identity_verified_at = None
        self.identity_evidence = None
        self.identified_by_check = False
        self.identity_check_pending = False
        self.revoked_by = text

    def order_problems(self) -> list[str]:
        """Stages reached before a stage that should come earlier."""
        index = {s: i for i, s in enumerate(self.detector.order)}
        sequence = sorted(self.reached.values(), key=lambda r: (r.utterance_id, index[r.stage]))
        problems = []
        for earlier, later in zip(sequence, sequence[1:]):
            if index[later.stage] < index[earlier.stage]:
                problems.append(f"{later.stage} came after {earlier.stage}")
        return problems


@register
class StagesAnalyzer(Analyzer):
    """The agent's side of the call's structure: stages reached, objections answered, scorecard cues."""

    name = "stages"
    speakers = AGENT_SIDE
    order = 10

    def __init__(self, engine: CoachEngine) -> None:
        super().__init__(engine)
        self.pack = language_pack(engine.language)
        self.cue_checks = {
            c.id: CompiledMatcher(c.cues, engine.space) for c in engine.playbook.scorecard
            if c.kind in ("cue", "agent_tone") and c.cues
        }
        self.checks_recap = any(c.kind == "recap" for c in engine.playbook.scorecard)
        #: introduction check id -> (turns it may take, the agent's name, the company)
        self.introductions = {
            c.id: (c.within_turns, CompiledMatcher(c.cues, engine.space), CompiledMatcher(c.company, engine.space))
            for c in engine.playbook.scorecard if c.kind == "introduction" and c.cues and c.company
        }
        #: the turns the longest introduction check may take: after them the opening is not kept
        self.opening_turns = max((within for within, _, _ in self.introductions.values()), default=0)

    def analyze(self, turn: Turn, session: CallSession) -> list[BaseEvent]:
        reply, session.stages.reply_to_check = session.stages.reply_to_check, None
        fresh, session.stages.newly_identified = session.stages.newly_identified, False
        rejected = self.pack.identity_rejected
        if fresh and rejected is not None and rejected.search(turn.features.norms[0]):
            session.stages.revoke(turn.text)  # "生日不一致 算了 我还是跟您说一下欠款 ..."
        accepted = self.pack.identity_accepted
        if reply is not None and accepted is not None and accepted.search(turn.features.norms[0]):
            if session.stages.mark_identified(turn.time, f"{reply} (accepted: {turn.text})"):
                session.compliance.reach("identity_verified", turn.time)
        turn.facts["stage"] = session.stages.on_agent(turn.uid, turn.time, turn.features)
        relation = self.pack.relation_check
        if relation is not None and relation.search(turn.features.norms[0]):
            session.stages.identity_check_pending = False  # "is this dana's mother": a yes verifies the mother
        for reached in session.stages.reached.values():
            session.compliance.reach(f"stage:{reached.stage}", reached.time)
        session.answer_objections(turn.uid)
        for check_id, matcher in self.cue_checks.items():
            if check_id not in session.record.cues_said and matcher.match(turn.features):
                session.record.cues_said[check_id] = turn.text
        if self.introductions:
            self._introduction(turn, session)
        if self.checks_recap and session.record.recap_said is None and is_recap(turn.text, self.engine.language):
            session.record.recap_said = (turn.time, turn.text)
        return []

    def _introduction(self, turn: Turn, session: CallSession) -> None:
        """The agent's name and the company in the agent's opening: their first turns (a turn is what
        the agent says before the other side speaks: "hello" / "good afternoon" / "this is dana" cut
        into three segments is one), read as one text, so a name and a company split over segments
        still count."""
        record = session.record
        opening = record.opening
        if opening.turns == 0 or any(speaker not in self.speakers for speaker, _, _ in record.turns[opening.seen:-1]):
            opening.turns += 1
        opening.seen = len(record.turns)
        if opening.turns > self.opening_turns:
            return
        opening.said.append((opening.turns, turn.text))
        for check_id, (within, name, company) in self.introductions.items():
            found = opening.found.setdefault(check_id, {})
            if opening.turns > within or len(found) == 2:
                continue
            text = normalize(" ".join(opening.within(within)), self.engine.language)
            for part, matcher in (("name", name), ("company", company)):
                match = matcher.match_words(text) if part not in found else None
                if match is not None:
                    found[part] = match.evidence
