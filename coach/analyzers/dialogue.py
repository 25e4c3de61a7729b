"""The dialogue act of a debtor's reply in context, and identity verification.

A reply to "can you confirm your date of birth" that gives a date is an answer, not an objection
(the date's numbers once raised ``time_barred``); a reply to "am I speaking with Dana" that says
"speaking", "this is she", a name or the last four digits confirms the right party, so the
third-party disclosure rule stops applying. Only the debtor can confirm: a relative's "yes" or a
"he's not here" verifies nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach.analyzers.base import DEBTOR_SIDE, Analyzer, Turn, register
from coach.analyzers.intent import only_words_from
from coach.analyzers.stages import NOT_THE_DEBTOR
from coach.events import BaseEvent
from coach.languages import LanguagePack, language_pack
from coach.text.normalize import normalize

if TYPE_CHECKING:
    from coach.engine import CallSession, CoachEngine


def identity_reply(text: str, norm: str, pack: LanguagePack, confirmation: bool, negation: bool) -> str | None:
    """How a reply to an identity question reads: ``identity_confirm`` (yes, it's me),
    ``identity_answer`` (gives the details asked for), ``identity_deny`` or None (something else,
    e.g. a question back)."""
    if not norm:
        return None
    if negation or pack.identity_denial.search(norm):
        return "identity_deny"
    if (confirmation and not pack.mentions_other(norm)) or pack.affirms_identity(norm):
        return "identity_confirm"  # "yeah who's this?" still says yes first
    if pack.question.search(text.strip().lower()):
        # "marisol ortega, what is this about?": the name answers first, the question back comes after it
        # ("marisol? who wants to know" asks the name back)
        first, *rest = pack.said_clauses(text) or [""]
        named = bool(rest) and not set(first) & set("?？") and _names_self(normalize(first, pack.code), pack)
        return "identity_answer" if named and not pack.speaks_of_someone(norm) else None
    if pack.identity_details.search(norm):
        return "identity_answer"
    if _names_self(norm, pack):
        return "identity_answer"
    return None


def _names_self(norm: str, pack: LanguagePack) -> bool:
    """A short reply that is a name ("this is marisol ortega", "我是王磊"). Not compared with the name
    the agent asked for: speech recognition mangles names most of all ("yes this is dana" came out
    "yes this is gonna" from the bundled call), and a debtor taken for a third party raises a false S1
    on every later word of the debt."""
    return pack.name_reply is not None and pack.length(norm) <= pack.name_reply_max and bool(pack.name_reply.match(norm))


@register
class DialogueActAnalyzer(Analyzer):
    """Reads a debtor reply against the agent's previous question (before the objection head runs)."""

    name = "dialogue_act"
    speakers = DEBTOR_SIDE
    order = 30

    def __init__(self, engine: CoachEngine) -> None:
        super().__init__(engine)
        self.pack = language_pack(engine.language)

    def analyze(self, turn: Turn, session: CallSession) -> list[BaseEvent]:
        if not session.stages.identity_check_pending:
            return []
        norm = turn.features.norms[0]
        match = session.engine.stages.confirms_identity(turn.features)
        # a question back that only resembles a playbook confirmation ("who's calling" beside "this is
        # he, who's calling") has no yes in it
        question = self.pack.question.search(turn.text.strip().lower()) is not None
        confirmation = match is not None and not (question and match.method == "example")
        detector = session.engine.detector
        negation = only_words_from(norm, detector.negations)
        act = turn.facts["act"] = identity_reply(turn.text, norm, self.pack, confirmation, negation)
        # neither a yes, a no, a question back nor someone else: an answer in words not read here
        # ("就在锦绣那边"), which the agent may still accept
        turn.facts["unread_answer"] = act is None and not question and not self.pack.mentions_other(norm)
        return []


@register
class IdentityAnalyzer(Analyzer):
    """Marks the right party verified when the debtor confirms the agent's identity check, or speaks
    of the debt as their own before any check."""

    name = "identity"
    speakers = DEBTOR_SIDE
    order = 55

    def __init__(self, engine: CoachEngine) -> None:
        super().__init__(engine)
        self.pack = language_pack(engine.language)
        self.identifying = {i.id for i in engine.playbook.intents if i.identifies_debtor}

    def analyze(self, turn: Turn, session: CallSession) -> list[BaseEvent]:
        intent = turn.facts.get("intent")
        not_the_debtor = turn.speaker != "debtor" or bool(intent and intent.intent in NOT_THE_DEBTOR)
        confirmed = turn.facts["act"] in ("identity_confirm", "identity_answer") if "act" in turn.facts else None
        pending = session.stages.identity_check_pending
        someone_else = self.pack.mentions_other(turn.features.norms[0])
        if not session.stages.identity_verified and someone_else:
            session.record.someone_else_before_verified = True  # "hold on let me get her": who heard what came before?
        if pending and session.stages.identity_verified and turn.facts.get("act") == "identity_deny" and someone_else:
            session.stages.revoke(turn.text)  # "oh wait you want my dad": a bare "no" to a re-check is not this
            return []
        disowned = self.pack.identity_disowned
        if (session.stages.identity_verified and turn.speaker == "debtor" and disowned is not None
                and disowned.search(turn.features.norms[0])):
            session.stages.revoke(turn.text)  # "sorry, i misheard, i'm his brother": no check needed to say so
            return []
        rechecked = pending and confirmed and session.stages.identity_verified  # a second check, after a plain yes
        if session.stages.on_debtor(turn.time, turn.features, wrong_party=not_the_debtor, confirmed=confirmed):
            session.compliance.reach("identity_verified", turn.time)
            self._note_details(turn, session)
        elif rechecked:
            self._note_details(turn, session)  # "嗯", then the last four: "跟我们系统里的对不上" takes the yes back too
        elif pending and not not_the_debtor and turn.facts.get("unread_answer"):
            session.stages.reply_to_check = turn.text  # the agent's next line may accept it
        elif (turn.speaker == "debtor" and intent and intent.intent in self.identifying
              and not self.pack.speaks_of_someone(turn.features.norms[0])  # "he told me that was paid"
              and session.stages.mark_identified(turn.time, turn.text, by_check=False)):
            session.compliance.reach("identity_verified", turn.time)
        return []

    def _note_details(self, turn: Turn, session: CallSession) -> None:
        """The reply gave details (digits, a date), not a plain yes: the agent's next line may say they do
        not match the records (``StageTracker.newly_identified``)."""
        norm = turn.features.norms[0]
        session.stages.newly_identified = bool(self.pack.identity_details.search(norm)) and not self.pack.affirms_identity(norm)
