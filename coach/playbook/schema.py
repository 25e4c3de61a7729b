"""The playbook format: a versioned YAML file of intents, emotions, compliance rules, call stages
and scorecard checks for one locale.

Every model forbids unknown keys so that a typo in a trainer's playbook fails validation with the
field's path instead of being silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from coach.playbook.regexes import check_pattern

Severity = Literal["S1", "S2", "S3", "S4"]
Language = Literal["en", "zh"]
RuleSpeaker = Literal["agent", "debtor"]

#: Intent ids from the product's public taxonomy (shared/reference/domain.md). Playbooks may add more.
STANDARD_INTENTS = (
    "already_paid", "not_my_debt", "wrong_party", "cannot_afford", "hardship", "dispute_amount",
    "stalling", "refuse_to_pay", "stop_calling", "legal_representation", "request_validation",
    "hostile", "settlement_request", "deceased", "scam_suspicion", "time_barred", "bad_time",
    "promise_to_pay",
)
#: The fixed emotion labels.
EmotionId = Literal["calm", "anxious", "distressed", "angry", "frustrated", "evasive"]
EMOTIONS: tuple[str, ...] = get_args(EmotionId)
#: The anchors a rule's ``after`` may name besides ``stage:<id>`` and ``intent:<id>``.
ANCHORS = ("call_start", "identity_verified")

_ID = r"^[a-z][a-z0-9_]*$"
#: A playbook id: also its file name (``<id>.yaml``) in the playbook folder, so never a path.
PLAYBOOK_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


#: Distinct examples (after normalisation) an intent, an emotion and the non-objection class need.
MIN_INTENT_EXAMPLES, MIN_EMOTION_EXAMPLES, MIN_NON_OBJECTION_EXAMPLES = 15, 5, 10


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("is empty")
    return text


#: What a placeholder starts with: a note to the writer ("TODO: write what the agent should say"),
#: never words to suggest to an agent on a call.
_PLACEHOLDER = re.compile(r"^\W*(todo|tbd|fixme)\b", re.IGNORECASE)


def _not_placeholder(text: str) -> str:
    """A response is shown to agents on live calls as what to say: one that is still a placeholder
    would put a trainer's note in an agent's mouth, so the playbook does not validate until it is written."""
    found = _PLACEHOLDER.match(text)
    if found:
        raise ValueError(f"starts with {found.group(1).upper()}: a placeholder, not what an agent should say; "
                         "write the response")
    return text


def _safe_pattern(pattern: str) -> str:
    check_pattern(pattern)  # PatternError is a ValueError: reported at the pattern's own index
    return pattern


#: A phrase or example: never blank.
Text = Annotated[str, AfterValidator(_not_blank)]
#: A regular expression in Python ``re`` syntax, checked for catastrophic backtracking (coach.playbook.regexes).
Pattern = Annotated[str, AfterValidator(_safe_pattern)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Matcher(Strict):
    """What to look for in one utterance.

    ``phrases`` match as substrings after normalisation (case, width, traditional/simplified
    Chinese); ``patterns`` are Python regular expressions searched in the normalised text;
    ``examples`` match semantically: by embedding similarity where a model is configured for the
    language, else by lexical similarity (words and character n-grams).
    """

    phrases: list[Text] = Field(default_factory=list)
    patterns: list[Pattern] = Field(default_factory=list)
    examples: list[Text] = Field(default_factory=list)
    #: Regular expressions that veto a match: reassurances and negations ("we will not sue you",
    #: "不会坐牢的") that contain the same words as the violation.
    unless: list[Pattern] = Field(default_factory=list)
    #: Regular expressions whose matches the phrases and patterns do not see: words that hold a
    #: trigger's word without meaning it, such as the agent's own company name ("prairie state
    #: collections") before the right party is verified. Unlike ``unless`` the rest of the line counts.
    ignore: list[Pattern] = Field(default_factory=list)
    #: Similarity an ``examples`` match needs; None uses the engine's calibrated default.
    min_similarity: float | None = Field(default=None, ge=0.0, le=1.0)

    def is_empty(self) -> bool:
        return not (self.phrases or self.patterns or self.examples)


class Response(Strict):
    """A suggested answer to an intent, for one call stage (or ``any``)."""

    stage: str = "any"
    text: Annotated[str, AfterValidator(_not_placeholder)] = Field(min_length=1)
    #: Why this answer works; shown to the agent and the coach.
    principle: str = ""
    #: Offered only on a line with a self-harm cue (:func:`coach.alerts.self_harm_cue`), and then
    #: first: a crisis-line script read to every debtor who mentions an illness or a lost job sounds
    #: like an alarm, and where the cue is said it is the one thing to say.
    on_self_harm: bool = False


class Escalation(Strict):
    """Whether an intent should be escalated, and to whom."""

    to: Literal["supervisor", "compliance", "specialist_team", "legal"] = "supervisor"
    reason: str = Field(min_length=1)
    #: Stop collection activity on this account until reviewed.
    pause_collection: bool = False


class Intent(Strict):
    """A debtor intent: an objection, or a commitment such as a promise to pay."""

    id: str = Field(pattern=_ID)
    kind: Literal["objection", "commitment"] = "objection"
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    #: Debtor utterances written like ASR output: short, colloquial, no punctuation.
    examples: list[Text] = Field(min_length=MIN_INTENT_EXAMPLES)
    keywords: Matcher = Field(default_factory=Matcher)
    responses: list[Response] = Field(min_length=1)
    escalation: Escalation | None = None
    #: Only the debtor says this of the debt (I already paid it, I filed for bankruptcy, that charge
    #: isn't mine): said unprompted before any identity check, it identifies the right party, and the
    #: agent who answers it discloses nothing to a third party.
    identifies_debtor: bool = False
    #: Intents this one goes before when both are read on a turn (each over the abstention threshold):
    #: the top hint is the one the agent must act on first. A wrong party's "this isn't his phone, quit ringing
    #: it" asks nothing of the debtor's account: disclose nothing, whatever else they ask.
    outranks: list[str] = Field(default_factory=list)


def _outranking_cycle(start: str, outranks: dict[str, list[str]]) -> list[str] | None:
    """The path by which ``start`` outranks itself through ``Intent.outranks``, if there is one."""
    paths, seen = [[start]], set()
    while paths:
        path = paths.pop()
        for name in outranks.get(path[-1], []):
            if name == start:
                return path + [name]
            if name not in seen:
                seen.add(name)
                paths.append(path + [name])
    return None


class Emotion(Strict):
    id: EmotionId
    description: str = Field(min_length=1)
    #: Typical valence of this emotion in [-1, 1].
    valence: float = Field(ge=-1.0, le=1.0)
    cues: Matcher = Field(default_factory=Matcher)
    examples: list[Text] = Field(min_length=MIN_EMOTION_EXAMPLES)
    #: Debtor intents that suggest this emotion when said in the same breath (hostile -> angry,
    #: hardship -> distressed, stalling -> evasive): the emotion head weighs them with the words.
    intents: list[str] = Field(default_factory=list)


class CalibrationExample(Strict):
    """A debtor utterance kept out of the objection head's training, written apart from the examples:
    that head's abstention threshold is calibrated on these (their emotion labels do train the emotion
    head). Cross-validation on the training examples cannot
    place it, because examples written together are too alike (every threshold scores the same)."""

    text: Text
    #: The top hint the agent should see: an intent id, or ``none`` for no hint.
    intent: str
    emotion: EmotionId | None = None
    #: The agent's line just before, where the reply's meaning depends on it.
    after: str | None = None


class Stage(Strict):
    """A call stage. Stages are listed in the order a good call goes through them."""

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    description: str = ""
    #: Agent speech that shows the call is in this stage.
    cues: Matcher
    #: Debtor replies that confirm identity. Set on the identity-verification stage only: the
    #: engine marks the right party verified when the agent says a cue of this stage and the debtor's
    #: next utterance matches one of these (and is not a wrong-party objection).
    confirmations: Matcher | None = None


class MetadataCheck(Strict):
    """A pre-call gate evaluated on the call's metadata."""

    #: ``local_hours``: the debtor's local call time must fall in [earliest, latest).
    #: ``max_value``: ``field`` must not exceed ``max``.
    #: ``min_value``: ``field`` must be at least ``min``.
    #: ``flag_set``: the boolean ``field`` must not be true (e.g. a recorded cease request).
    check: Literal["local_hours", "max_value", "min_value", "flag_set"]
    field: str | None = None
    max: float | None = None
    min: float | None = None
    earliest: str | None = Field(default=None, pattern=r"^\d{2}:\d{2}$")
    latest: str | None = Field(default=None, pattern=r"^\d{2}:\d{2}$")

    @model_validator(mode="after")
    def _fields_for_check(self) -> "MetadataCheck":
        need = {
            "local_hours": ("earliest", "latest"),
            "max_value": ("field", "max"),
            "min_value": ("field", "min"),
            "flag_set": ("field",),
        }
        missing = [name for name in need[self.check] if getattr(self, name) is None]
        if missing:
            raise ValueError(f"check {self.check!r} needs {', '.join(missing)}")
        return self


class Rule(Strict):
    """A compliance rule.

    kinds:
      * ``prohibited``: ``speaker`` must never say what ``trigger`` matches (optionally only before
        identity is verified: ``before: identity_verified``, the third-party disclosure rule; or only
        when metadata says so: ``when_metadata``, and then what ``anytime`` matches breaks it when
        the call carries none of those fields: "charged off in 2011, and our lawyers can still sue").
      * ``duty``: once the debtor has expressed one of ``after_intents`` (stop calling, lawyer, dispute,
        ...) or said what ``after_debtor`` matches, the agent must not say what ``trigger`` matches
        (keep pressing for payment); what ``anytime`` matches breaks it whether or not the debtor
        said anything first ("just ignore the letter").
      * ``required``: ``speaker`` must say what ``trigger`` matches within ``within_seconds`` after
        ``after`` (``call_start``, ``identity_verified``, ``stage:<id>`` or ``intent:<id>``).
      * ``metadata``: a pre-call gate on the call's metadata (hours, frequency, flags); what ``anytime``
        matches breaks it in the agent's own words ("you told me evenings are bad for you, but").
      * ``amount``: a figure the agent quotes next to ``trigger`` must equal the metadata balance;
        what ``anytime`` matches (a fee added on top: "a thirty five dollar convenience fee for paying
        by phone") breaks it whatever the balance, since no balance on file says a fee is authorised.
    """

    id: str = Field(pattern=r"^[A-Z]{2}-[A-Z0-9-]+$")
    kind: Literal["prohibited", "duty", "required", "metadata", "amount"]
    severity: Severity
    name: str = Field(min_length=1)
    message: str = Field(min_length=1)
    citation: str = Field(min_length=1)
    speaker: RuleSpeaker = "agent"
    trigger: Matcher = Field(default_factory=Matcher)
    before: Literal["identity_verified"] | None = None
    after: str | None = None
    within_seconds: float | None = Field(default=None, gt=0)
    after_intents: list[str] = Field(default_factory=list)
    #: Debtor words that start a duty, for duties narrower than an intent (a bankruptcy filing is a
    #: ``legal_representation`` objection, but only it triggers the automatic stay).
    after_debtor: Matcher | None = None
    #: Duty rules: the agent's own words saying the debtor made the request, in this call or outside it
    #: ("we received your letter asking us to stop calling", "i realize you have an attorney, but ..."): the
    #: duty starts with them, and what the agent says next, in the same breath too, is read for pressing.
    acknowledged: Matcher | None = None
    #: Conditions on call metadata for the rule to apply (all must hold). A missing field counts as
    #: null, and ``false`` also matches null, so ``{consent_outside_hours: false}`` applies unless
    #: consent was recorded.
    when_metadata: dict[str, Any] = Field(default_factory=dict)
    metadata_check: MetadataCheck | None = None
    #: Duty rules: debtor intents that lift the duty once it has started (the debtor re-opened payment
    #: talk themselves: "can I pay it in instalments" after a dispute).
    released_by_intents: list[str] = Field(default_factory=list)
    #: Duty rules: the debtor choosing to talk about paying lifts the duty: a yes when the agent asks
    #: whether to go over the options ("would you like to hear the hardship options now or wait for
    #: the statement" - "i guess tell me"), or asking how to pay ("can I just pay the principal while
    #: you check"). A question that leaves the debtor free to wait is then no pressing either. For a
    #: dispute, which pauses collection the debtor may choose to resume; not for an attorney or a
    #: bankruptcy, where the debtor's yes changes nothing. A later line that starts it again restarts it.
    released_by_consent: bool = False
    #: Duty rules: what the agent may lawfully say once the duty has started (take the attorney's
    #: number, record the dispute, confirm the calls stop). Such lines often name the account, the
    #: balance or a number, so the pressing classifier learns collection talk against them.
    lawful_examples: list[Text] = Field(default_factory=list)
    #: Words that break the rule by themselves, where it otherwise waits for something. A duty's, before
    #: it has started: telling a consumer to ignore the validation notice, that a dispute is pointless
    #: or that the debt is theirs whatever they say overshadows the right itself. A prohibited rule's
    #: with ``when_metadata``, when the call carries none of its fields: a line that names the debt's
    #: age and threatens suit, or denies any time limit on suing, shows what the account's flag would.
    #: An amount rule's, whatever the balance: a fee added on top of it. A metadata rule's, whatever the
    #: call's metadata says: the agent's own words that show the breach ("you told me evenings are bad
    #: for you, but", "we'll go on autodialling this mobile though you revoked consent"). A required
    #: rule's, even once its statement was made: words that take it back ("no, we're not collectors").
    anytime: Matcher | None = None
    #: Third-party rules (``before: identity_verified``) only: what the agent may say to the family once
    #: the one on the line said the debtor has died (the ``deceased`` intent), or in a line that itself
    #: speaks of the death or the estate (``LanguagePack.death``): collection stopped, the estate's part
    #: and the family's lack of personal liability, a death certificate. The handling of a death is owed
    #: to the family, not news of a debt to a stranger; asking the family to pay, or the debt's details,
    #: still break the rule (write the ``unless`` to refuse them).
    after_death: Matcher | None = None
    #: Prohibited rules only: the offensive-language model (profanity, insults; see
    #: :mod:`coach.text.offensive`) also triggers this rule, beyond what ``trigger`` lists.
    offensive_language: bool = False

    @model_validator(mode="after")
    def _fields_for_kind(self) -> "Rule":
        kind = self.kind
        if kind in ("prohibited", "duty", "required", "amount") and self.trigger.is_empty():
            raise ValueError(f"a {kind} rule needs a trigger with phrases, patterns or examples")
        if kind == "duty" and not self.after_intents and (self.after_debtor is None or self.after_debtor.is_empty()):
            raise ValueError("a duty rule needs after_intents or after_debtor")
        waits_for_metadata = any(value is not False for value in self.when_metadata.values())
        if self.anytime is not None and not (kind in ("duty", "amount", "metadata", "required")
                                             or (kind == "prohibited" and waits_for_metadata)):
            raise ValueError("anytime belongs to duty, amount, metadata and required rules and prohibited rules with "
                             "when_metadata that a silent call does not meet (the words that break them when they "
                             "would not apply yet); another rule's trigger already holds at any time")
        if self.anytime is not None and self.anytime.is_empty():
            raise ValueError("anytime needs phrases, patterns or examples (or leave it out)")
        if self.after_death is not None and (kind != "prohibited" or self.before != "identity_verified"
                                             or self.after_death.is_empty()):
            raise ValueError("after_death belongs to rules with before: identity_verified and needs phrases, patterns "
                             "or examples (or leave it out)")
        if self.acknowledged is not None and (kind != "duty" or self.acknowledged.is_empty()):
            raise ValueError("acknowledged belongs to duty rules and needs phrases, patterns or examples (or leave it out)")
        if kind != "duty" and self.lawful_examples:
            raise ValueError("lawful_examples belong to duty rules only (a prohibited rule's lawful lines go in compliant_agent_examples)")
        if kind == "required":
            if self.after is None or self.within_seconds is None:
                raise ValueError("a required rule needs after and within_seconds")
            if self.after not in ANCHORS and not re.match(r"^(stage|intent):[a-z][a-z0-9_]*$", self.after):
                raise ValueError(
                    f"after {self.after!r} must be one of {', '.join(ANCHORS)}, stage:<id> or intent:<id>"
                )
        if kind == "metadata" and self.metadata_check is None:
            raise ValueError("a metadata rule needs metadata_check")
        if kind != "metadata" and self.metadata_check is not None:
            raise ValueError("metadata_check belongs to metadata rules only")
        return self


class Applicability(Strict):
    """When a check counts at all. A reviewer marks a check not applicable when the call could not
    get to it (no recap without a promise, no payment plan once the debtor said "talk to my lawyer"):
    failing the agent for it would punish the lawful thing. A check done anyway still passes."""

    #: Only once the right party was verified (a disclosure owed to the debtor, not to a stranger): with
    #: anyone else the check is not applicable even when nothing broke it.
    verified: bool = False
    #: Only when the debtor agreed to pay (a recap of the terms).
    promise: bool = False
    #: Not when the debtor's last word on it was one of these intents: collection rightly stopped there.
    unless_intents: list[str] = Field(default_factory=list)
    #: Intents that take collection up again after one of ``unless_intents`` ("that's not my bill ...
    #: well, I could send a hundred on the third"): the check applies again.
    resumed_by_intents: list[str] = Field(default_factory=list)


class ScorecardCheck(Strict):
    """One line of the QA scorecard.

    kinds:
      * ``stage``: the agent reached ``stage``.
      * ``recap``: the agent restated the agreed terms: a recap phrase with a date, and an amount or a
        way to pay (:func:`coach.outcome.is_recap`); the commitment stage alone was reached by any
        talk of paying ("i dont show any payment posted from january").
      * ``cue``: the agent said something ``cues`` matches (an empathy statement, an open question).
      * ``introduction``: within their first ``within_turns`` turns the agent gave their own name or
        staff number (``cues``) and the company (``company``): both, as a QA reviewer scores a greeting;
        an opening that only says hello, or only names the bank, is not one.
      * ``identity_before_disclosure``: no rule with ``before: identity_verified`` fired.
      * ``rules``: none of ``rules`` fired (ids; empty means every rule of ``severities``). A check
        by ``severities`` alone leaves out a disclosure before verification that only the debtor
        heard (``coach.scorecard.heard_by_the_right_party``).
      * ``stage_order``: the stages reached came in the playbook's order.
      * ``objections_handled``: every objection was followed by an agent answer before the debtor spoke again.
      * ``talk_ratio``: the agent's share of speaking time is at most ``max``.
      * ``interruptions``: the agent talked over the debtor at most ``max`` times.
      * ``long_silences``: at most ``max`` gaps longer than ``seconds``.
      * ``agent_tone``: the agent never sounded angry or used abusive language (the offensive-language
        model, or a violation of one of ``rules``), and said nothing ``cues`` matches (condescension,
        sarcasm, dismissal: "like i just said ... do you follow", "那是你的事").
    """

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    kind: Literal[
        "stage", "recap", "cue", "introduction", "identity_before_disclosure", "rules", "stage_order",
        "objections_handled", "talk_ratio", "interruptions", "long_silences", "agent_tone",
    ]
    weight: float = Field(default=1.0, gt=0)
    stage: str | None = None
    cues: Matcher | None = None
    #: ``introduction``: how the company is named.
    company: Matcher | None = None
    #: ``introduction``: the agent turns, from the first, the introduction may take.
    within_turns: int = Field(default=2, ge=1, le=10)
    rules: list[str] = Field(default_factory=list)
    severities: list[Severity] = Field(default_factory=list)
    max: float | None = None
    seconds: float | None = None
    #: When the check counts (absent: always); a check that cannot apply is left out of the score.
    applies: Applicability | None = None
    #: A critical check: failing it fails the call (score 0), as QA forms auto-fail a call with an
    #: S1 violation however well the rest went.
    fails_call: bool = False

    @model_validator(mode="after")
    def _fields_for_kind(self) -> "ScorecardCheck":
        if self.kind == "stage" and not self.stage:
            raise ValueError("a stage check needs stage")
        if self.kind == "cue" and (self.cues is None or self.cues.is_empty()):
            raise ValueError("a cue check needs cues")
        if self.kind == "introduction" and (self.cues is None or self.cues.is_empty() or self.company is None
                                            or self.company.is_empty()):
            raise ValueError("an introduction check needs cues (the agent's name) and company")
        if self.kind in ("talk_ratio", "interruptions", "long_silences") and self.max is None:
            raise ValueError(f"a {self.kind} check needs max")
        if self.kind == "long_silences" and self.seconds is None:
            raise ValueError("a long_silences check needs seconds")
        return self


class ConsentExamples(Strict):
    """How an offer to go over the options sounds, and the debtor's yes or no to it: what a duty with
    ``released_by_consent`` is lifted by, learned from examples beside the language's patterns."""

    #: The agent asks whether the debtor wants to hear the options now (the debtor may say no).
    offers: list[Text] = Field(min_length=5)
    #: Agent lines near those that press instead ("can you put fifty down today", "您今天能还多少").
    not_offers: list[Text] = Field(min_length=5)
    #: The debtor agrees to hear them ("i guess tell me", "行 你说说看"), and declines or waits.
    agreed: list[Text] = Field(min_length=5)
    declined: list[Text] = Field(min_length=5)


class Playbook(Strict):
    """A whole playbook for one locale."""

    id: str = Field(pattern=PLAYBOOK_ID, max_length=100)
    version: str = Field(min_length=1, max_length=50)
    locale: str = Field(min_length=2)
    language: Language
    name: str = Field(min_length=1)
    description: str = ""
    #: Debtor speech that is not an objection ("yes speaking", "ok", "what is this about"): the
    #: detector learns these as "no intent" so ordinary answers do not raise hints.
    non_objection_examples: list[Text] = Field(min_length=MIN_NON_OBJECTION_EXAMPLES)
    #: Agent speech that breaks no rule (greetings, verification, empathy, lawful plans, factual
    #: consequences, closing): the agent-speech classifier learns these as "no violation", so it tells
    #: a lawful "we may report this to the credit bureaus" from a threat.
    compliant_agent_examples: list[str] = Field(default_factory=list)
    #: Agent talk about anything but the debt (the weather, a pet, a cold, a slow computer, a game):
    #: the agent-speech classifier learned only debt talk and reads chit-chat as abuse or a threat, so
    #: a head of its own tells these from the rules' examples, and what it reads as small talk is no rule.
    small_talk_agent_examples: list[Text] = Field(default_factory=list)
    #: Agent lines that sincerely praise, thank or encourage the debtor ("you're a real lifesaver for
    #: calling back so quickly"): the classifier hears "you're a ..." as a verdict on the listener, so a
    #: head of its own tells these from the abuse rules' examples (mock praise among them), and what
    #: it reads as praise is no rule. Not compliant examples: there they taught that warm words about
    #: a family are lawful, and menaces about a family were missed (docs/benchmarks.md section 48).
    praise_agent_examples: list[Text] = Field(default_factory=list)
    #: Debtor utterances written apart from the examples that calibrate the objection head (see :class:`CalibrationExample`);
    #: without them the threshold comes from cross-validation on the intents' examples.
    calibration_examples: list[CalibrationExample] = Field(default_factory=list)
    #: Offers of options and the debtor's yes or no, for duties lifted by consent (optional: the
    #: language's patterns read them too).
    consent: ConsentExamples | None = None
    #: Short affirmative / negative answers, used to read a debtor's reply in context.
    affirmations: list[str] = Field(default_factory=list)
    negations: list[str] = Field(default_factory=list)
    stages: list[Stage] = Field(min_length=1)
    intents: list[Intent] = Field(min_length=1)
    emotions: list[Emotion] = Field(min_length=1)
    rules: list[Rule] = Field(default_factory=list)
    scorecard: list[ScorecardCheck] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cross_references(self) -> "Playbook":
        errors: list[str] = []
        _unique(errors, "stages", [s.id for s in self.stages])
        _unique(errors, "intents", [i.id for i in self.intents])
        _unique(errors, "emotions", [e.id for e in self.emotions])
        _unique(errors, "rules", [r.id for r in self.rules])
        _unique(errors, "scorecard", [c.id for c in self.scorecard])
        stage_ids = {s.id for s in self.stages}
        intent_ids = {i.id for i in self.intents}
        rule_ids = {r.id for r in self.rules}
        # what a file cut short loses first, and nothing else would say: calls reviewed with it find no
        # violation and get no score, which reads like a clean call
        missing = [e for e in EMOTIONS if e not in {emotion.id for emotion in self.emotions}]
        if missing:
            errors.append(f"emotions: missing {', '.join(missing)} (each of the six fixed labels needs an entry)")
        if not self.rules:
            errors.append("rules: none (a playbook needs its compliance rules, or every call reads as compliant)")
        if not self.scorecard:
            errors.append("scorecard: none (a playbook needs the QA scorecard's checks, or no call gets a score)")
        if sum(1 for s in self.stages if s.confirmations is not None) > 1:
            errors.append("stages: only one stage may have confirmations")
        outranks = {intent.id: intent.outranks for intent in self.intents}
        for i, intent in enumerate(self.intents):
            for name in intent.outranks:
                if name not in intent_ids:
                    errors.append(f"intents.{i}.outranks: unknown intent {name!r}")
            cycle = _outranking_cycle(intent.id, outranks)
            if cycle:
                errors.append(f"intents.{i}.outranks: {' > '.join(cycle)} (intents that outrank each other in a "
                              "circle leave the top hint to whichever the classifier read first)")
            for j, response in enumerate(intent.responses):
                if response.stage != "any" and response.stage not in stage_ids:
                    errors.append(f"intents.{i}.responses.{j}.stage: unknown stage {response.stage!r}")
        for i, emotion in enumerate(self.emotions):
            for name in emotion.intents:
                if name not in intent_ids:
                    errors.append(f"emotions.{i}.intents: unknown intent {name!r}")
        for i, example in enumerate(self.calibration_examples):
            if example.intent != "none" and example.intent not in intent_ids:
                errors.append(f"calibration_examples.{i}.intent: unknown intent {example.intent!r} (an intent id or none)")
        for i, rule in enumerate(self.rules):
            for name in rule.after_intents:
                if name not in intent_ids:
                    errors.append(f"rules.{i}.after_intents: unknown intent {name!r}")
            for name in rule.released_by_intents:
                if name not in intent_ids:
                    errors.append(f"rules.{i}.released_by_intents: unknown intent {name!r}")
            if rule.released_by_consent and rule.kind != "duty":
                errors.append(f"rules.{i}.released_by_consent: only duty rules can be lifted by the debtor's consent")
            if rule.offensive_language and rule.kind != "prohibited":
                errors.append(f"rules.{i}.offensive_language: only prohibited rules can be triggered by offensive language")
            if rule.after and ":" in rule.after:
                kind, ref = rule.after.split(":", 1)
                known = stage_ids if kind == "stage" else intent_ids
                if ref not in known:
                    errors.append(f"rules.{i}.after: unknown {kind} {ref!r}")
            if (rule.before == "identity_verified" or rule.after == "identity_verified") and not any(
                s.confirmations for s in self.stages
            ):
                errors.append(f"rules.{i}: identity_verified needs a stage with confirmations")
        for i, check in enumerate(self.scorecard):
            if check.stage and check.stage not in stage_ids:
                errors.append(f"scorecard.{i}.stage: unknown stage {check.stage!r}")
            for name in check.rules:
                if name not in rule_ids:
                    errors.append(f"scorecard.{i}.rules: unknown rule {name!r}")
            for field in ("unless_intents", "resumed_by_intents") if check.applies else ():
                for name in getattr(check.applies, field):
                    if name not in intent_ids:
                        errors.append(f"scorecard.{i}.applies.{field}: unknown intent {name!r}")
        errors += self._texts_survive_normalisation()
        if errors:
            raise ValueError("; ".join(errors))
        return self

    def _texts_survive_normalisation(self) -> list[str]:
        """Phrases and examples that normalise to nothing match nothing (a rule whose trigger is only
        punctuation would never fire), and repeated examples teach nothing: count them once."""
        from coach.text.normalize import normalize

        errors: list[str] = []
        for where, matcher in self.matchers():
            for field in ("phrases", "examples"):
                for j, text in enumerate(getattr(matcher, field)):
                    if not normalize(text, self.language):
                        errors.append(f"{where}.{field}.{j}: nothing is left of it after normalisation (punctuation only?)")
        classes = [(f"intents.{i}.examples", intent.examples, MIN_INTENT_EXAMPLES) for i, intent in enumerate(self.intents)]
        classes += [(f"emotions.{i}.examples", emotion.examples, MIN_EMOTION_EXAMPLES)
                    for i, emotion in enumerate(self.emotions)]
        classes.append(("non_objection_examples", self.non_objection_examples, MIN_NON_OBJECTION_EXAMPLES))
        for where, examples, minimum in classes:
            distinct = {normalize(e, self.language) for e in examples} - {""}
            if len(distinct) < minimum:
                repeats = len(examples) - len(distinct)
                errors.append(f"{where}: {len(distinct)} distinct examples after normalisation ({repeats} repeat others "
                              f"or are empty); at least {minimum} are needed")
        return errors

    def matchers(self) -> Iterator[tuple[str, Matcher]]:
        """Every matcher in the playbook with where it is (``rules.3.trigger``)."""
        for i, stage in enumerate(self.stages):
            yield f"stages.{i}.cues", stage.cues
            if stage.confirmations is not None:
                yield f"stages.{i}.confirmations", stage.confirmations
        for i, intent in enumerate(self.intents):
            yield f"intents.{i}.keywords", intent.keywords
        for i, emotion in enumerate(self.emotions):
            yield f"emotions.{i}.cues", emotion.cues
        for i, rule in enumerate(self.rules):
            yield f"rules.{i}.trigger", rule.trigger
            if rule.anytime is not None:
                yield f"rules.{i}.anytime", rule.anytime
            if rule.after_debtor is not None:
                yield f"rules.{i}.after_debtor", rule.after_debtor
            if rule.acknowledged is not None:
                yield f"rules.{i}.acknowledged", rule.acknowledged
        for i, check in enumerate(self.scorecard):
            if check.cues is not None:
                yield f"scorecard.{i}.cues", check.cues

    def intent(self, intent_id: str) -> Intent:
        return next(i for i in self.intents if i.id == intent_id)

    def stage_index(self, stage_id: str) -> int:
        return [s.id for s in self.stages].index(stage_id)

    @property
    def identity_stage(self) -> Stage | None:
        return next((s for s in self.stages if s.confirmations is not None), None)


def _unique(errors: list[str], section: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for index, ident in enumerate(ids):
        if ident in seen:
            errors.append(f"{section}.{index}.id: duplicate id {ident!r}")
        seen.add(ident)


PlaybookRef = Annotated[str, "a built-in playbook id or a path to a YAML file"]
