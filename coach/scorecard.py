"""The QA scorecard at the end of a call, computed from what the engine saw during it."""

from __future__ import annotations

from dataclasses import dataclass, field

from coach.analyzers.stages import NOT_THE_DEBTOR, StageTracker
from coach.events import CheckResult
from coach.playbook.schema import Applicability, Playbook, ScorecardCheck

#: Overlap (seconds) before an agent turn counts as talking over the debtor.
INTERRUPTION_OVERLAP = 0.3


@dataclass
class Opening:
    """The agent's opening so far: how many turns, up to which entry of ``CallRecord.turns``, what the
    agent said in them (with the turn each was said in), and per introduction check what it found."""

    turns: int = 0
    seen: int = 0
    said: list[tuple[int, str]] = field(default_factory=list)
    #: per introduction check, the words that gave "name" and "company" (when found)
    found: dict[str, dict[str, str]] = field(default_factory=dict)

    def within(self, turns: int) -> list[str]:
        """What the agent said in their first ``turns`` turns."""
        return [text for turn, text in self.said if turn <= turns]


@dataclass
class CallRecord:
    """What the scorecard needs from a call, collected utterance by utterance."""

    #: (speaker, start, end) in arrival order.
    turns: list[tuple[str, float, float]] = field(default_factory=list)
    #: utterance ids of debtor objections -> intent.
    objections: dict[int, str] = field(default_factory=dict)
    #: every intent the debtor's side said (top hints, runner-up objections, promises): (utterance id, intent) in order.
    intents_said: list[tuple[int, str]] = field(default_factory=list)
    #: objection utterance id -> the agent utterance that answered it (absent: unanswered).
    answer_of: dict[int, int] = field(default_factory=dict)
    #: rule id -> number of findings; and ids of rules whose findings the scorecard attributes to S-levels.
    violations: dict[str, int] = field(default_factory=dict)
    violation_severity: dict[str, str] = field(default_factory=dict)
    #: scorecard cue check id -> evidence
    cues_said: dict[str, str] = field(default_factory=dict)
    #: the agent's opening turns as the introduction checks read them
    opening: Opening = field(default_factory=lambda: Opening())
    #: the agent's first restatement of the agreed terms: (time, text).
    recap_said: tuple[float, str] | None = None
    agent_tone_problems: list[str] = field(default_factory=list)
    #: utterance ids whose agent answer itself broke a rule.
    bad_answers: set[int] = field(default_factory=set)
    #: a line before verification brought in someone else ("hold on let me get her").
    someone_else_before_verified: bool = False


def talk_ratio(turns: list[tuple[str, float, float]]) -> float | None:
    agent = sum(end - start for speaker, start, end in turns if speaker == "agent")
    total = sum(end - start for _, start, end in turns)
    return None if total <= 0 else agent / total


def interruptions(turns: list[tuple[str, float, float]]) -> int:
    """Agent turns that start before the preceding debtor turn has ended."""
    ordered = sorted(turns, key=lambda t: t[1])
    count = 0
    for previous, current in zip(ordered, ordered[1:]):
        if previous[0] != "agent" and current[0] == "agent" and current[1] < previous[2] - INTERRUPTION_OVERLAP:
            count += 1
    return count


def silences(turns: list[tuple[str, float, float]], seconds: float) -> list[tuple[float, float]]:
    """Gaps longer than ``seconds`` when nobody spoke: (start, length)."""
    ordered = sorted(turns, key=lambda t: t[1])
    gaps = []
    latest_end = ordered[0][2] if ordered else 0.0
    for _, start, end in ordered[1:]:
        if start - latest_end > seconds:
            gaps.append((latest_end, start - latest_end))
        latest_end = max(latest_end, end)
    return gaps


def weighted_score(checks: list[tuple[float, bool | None]]) -> float | None:
    """The weighted share (0-100) of applicable checks passed, from (weight, passed) pairs; a check
    that does not apply (passed None) counts for nothing. None when no check applies."""
    applicable = [(weight, passed) for weight, passed in checks if passed is not None]
    total = sum(weight for weight, _ in applicable)
    return None if not total else 100 * sum(weight for weight, passed in applicable if passed) / total


def evaluate(playbook: Playbook, stages: StageTracker, record: CallRecord) -> tuple[float | None, list[CheckResult], dict]:
    results = [_check(check, playbook, stages, record) for check in playbook.scorecard]
    score = weighted_score([(r.weight, r.passed) for r in results])
    score = None if score is None else round(score, 1)
    if failed_on(results):
        score = 0.0  # a critical check failed: the call fails, as on a QA reviewer's form
    ratio = talk_ratio(record.turns)
    metrics = {
        "agent_talk_ratio": None if ratio is None else round(ratio, 3),
        "interruptions": interruptions(record.turns),
        "long_silences": len(silences(record.turns, 8.0)),
        "duration": round(max((end for _, _, end in record.turns), default=0.0), 2),
        "utterances": len(record.turns),
        "identity_verified": stages.identity_verified,
    }
    return score, results, metrics


def failed_on(results: list[CheckResult]) -> list[str]:
    """The critical checks (``fails_call``) that failed, and so failed the call (ids)."""
    return [r.id for r in results if r.fails_call and r.passed is False]


def _shorten(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check(check: ScorecardCheck, playbook: Playbook, stages: StageTracker, record: CallRecord) -> CheckResult:
    passed, detail = _outcome(check, playbook, stages, record)
    applies = check.applies
    # a check done anyway passes, except one owed only to the right party: with anyone else it was not owed
    if applies is not None and (passed is False or (applies.verified and not stages.identity_verified)):
        reason = _not_applicable(applies, stages, record)
        if reason:
            passed, detail = None, f"not applicable: {reason}"
    return CheckResult(id=check.id, name=check.name, passed=passed, weight=check.weight, detail=detail,
                       fails_call=check.fails_call)


def heard_by_the_right_party(playbook: Playbook, stages: StageTracker, record: CallRecord) -> set[str]:
    """Rules broken by saying the debt before verifying (``before: identity_verified``), when the one
    who heard it then proved to be the debtor: the disclosure came too early (the identity-first check
    fails on it) but reached no third party, so it is not the serious breach a QA reviewer fails the
    call on. Kept as a breach whenever anyone else may have been on the line: no answer to an identity
    check verified them, a wrong-party or deceased answer, someone else brought in ("hold on let me get
    her", "稍等 我去叫她"), a verification taken back, or a third party's or an unknown speaker's turn."""
    if not (stages.identity_verified and stages.identified_by_check) or stages.revoked_by is not None:
        return set()
    if record.someone_else_before_verified:
        return set()
    if any(intent in NOT_THE_DEBTOR for _, intent in record.intents_said):
        return set()
    if any(speaker in ("third_party", "unknown") for speaker, _, _ in record.turns):
        return set()
    return {r.id for r in playbook.rules if r.before == "identity_verified" and record.violations.get(r.id)}


def _not_applicable(applies: Applicability, stages: StageTracker, record: CallRecord) -> str | None:
    """Why a check the agent did not pass could not apply in this call, if it could not."""
    if applies.verified and not stages.identity_verified:
        return "the right party was never verified"
    if applies.promise and not any(intent == "promise_to_pay" for _, intent in record.intents_said):
        return "no payment was agreed"
    # the last word on whether collection could go on: a stop, unless the debtor took it up again after it
    turning = [(uid, intent) for uid, intent in record.intents_said if intent in applies.unless_intents + applies.resumed_by_intents]
    if turning and turning[-1][1] in applies.unless_intents:
        uid, intent = turning[-1]
        return f"collection stopped at utterance {uid} ({intent})"
    return None


def _outcome(check: ScorecardCheck, playbook: Playbook, stages: StageTracker, record: CallRecord) -> tuple[bool | None, str]:
    kind = check.kind
    if kind == "stage" and check.stage == stages.detector.identity_stage:
        # Asking is not verifying: the identity stage counts once the debtor confirmed.
        if stages.identity_verified:
            return True, f"at {stages.identity_verified_at:.1f} s: {stages.identity_evidence!r}"
        return False, "asked but not confirmed" if check.stage in stages.reached else "not reached"
    if kind == "stage":
        reached = stages.reached.get(check.stage or "")
        return (True, f"at {reached.time:.1f} s: {reached.evidence!r}") if reached else (False, "not reached")
    if kind == "recap":
        said = record.recap_said
        return (True, f"at {said[0]:.1f} s: {said[1]!r}") if said else (False, "the terms were not restated")
    if kind == "cue":
        said = record.cues_said.get(check.id)
        return (True, f"said {said!r}") if said else (False, "not said")
    if kind == "introduction":
        found = record.opening.found.get(check.id, {})
        if "name" in found and "company" in found:
            return True, f"name {found['name']!r}, company {found['company']!r}"
        opening = _shorten(" / ".join(record.opening.within(check.within_turns)))
        within = f"in the agent's first {check.within_turns} turns"
        if not opening:
            return False, f"the agent said nothing {within}"
        if not found:
            return False, f"no name or company {within}: {opening!r}"
        missing = "the agent's own name" if "name" not in found else "the company"
        return False, f"{missing} not said {within}: {opening!r}"
    if kind == "identity_before_disclosure":
        ordering_rules = [r.id for r in playbook.rules if r.before == "identity_verified"]
        broken = [r for r in ordering_rules if record.violations.get(r)]
        if broken:
            return False, f"debt details before verification ({', '.join(broken)})"
        disclosure = stages.reached.get("disclosure")
        if disclosure and not stages.identity_verified:
            return False, "purpose disclosed without verifying identity"
        return True, "verified first" if stages.identity_verified else "no debt details disclosed"
    if kind == "rules":
        # a check by severity ("no S1") asks what was done to someone; a check naming its rules asks for them
        told_the_debtor = {
            rule_id for rule_id in heard_by_the_right_party(playbook, stages, record)
            if record.violation_severity.get(rule_id) in check.severities
        } if check.severities and not check.rules else set()
        hits = {
            rule_id: n
            for rule_id, n in record.violations.items()
            if (not check.rules or rule_id in check.rules)
            and (not check.severities or record.violation_severity.get(rule_id) in check.severities)
            and rule_id not in told_the_debtor
        }
        if hits:
            return False, ", ".join(f"{k} x{v}" for k, v in sorted(hits.items()))
        early = sorted(told_the_debtor)
        return True, f"none ({', '.join(early)}: said before verifying, to the debtor)" if early else "none"
    if kind == "stage_order":
        if len(stages.reached) < 2:
            return None, "fewer than two stages reached"
        problems = stages.order_problems()
        return (False, "; ".join(problems)) if problems else (True, " -> ".join(stages.reached))
    if kind == "objections_handled":
        if not record.objections:
            return None, "no objections"
        unanswered = [f"{record.objections[u]} (utterance {u})" for u in record.objections if u not in record.answer_of]
        badly = [f"{record.objections[u]} (utterance {u})" for u in record.objections if u in record.bad_answers]
        if unanswered or badly:
            parts = (["unanswered: " + ", ".join(unanswered)] if unanswered else []) + (
                ["answered with a violation: " + ", ".join(badly)] if badly else []
            )
            return False, "; ".join(parts)
        return True, f"{len(record.objections)} answered"
    if kind == "talk_ratio":
        ratio = talk_ratio(record.turns)
        if ratio is None:
            return None, "no speech"
        return ratio <= (check.max or 1.0), f"agent spoke {ratio:.0%} of the time (max {check.max:.0%})"
    if kind == "interruptions":
        count = interruptions(record.turns)
        return count <= (check.max or 0), f"{count} (max {check.max:g})"
    if kind == "long_silences":
        gaps = silences(record.turns, check.seconds or 8.0)
        detail = ", ".join(f"{length:.0f} s at {start:.0f} s" for start, length in gaps) or "none"
        return len(gaps) <= (check.max or 0), detail
    if kind == "agent_tone":
        problems = list(record.agent_tone_problems)
        abused = sorted(rule_id for rule_id in check.rules if record.violations.get(rule_id))
        if abused:
            problems.insert(0, f"abuse ({', '.join(abused)})")
        said = record.cues_said.get(check.id)
        if said:
            problems.append(f"disrespectful ({said!r})")
        return (False, "; ".join(problems[:3])) if problems else (True, "professional")
    return None, f"unknown check kind {kind}"
