"""What mining hands out: plain pydantic records, one JSON form for the command line, the REST API and
the HTML report (documented in docs/mining.md).

Every figure carries what it rests on (the call ids, and the utterances as ``{call_id, utterance_id}``)
so a trainer can always open the calls behind a number.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, computed_field

from coach.playbook.schema import MIN_INTENT_EXAMPLES


class UtteranceRef(BaseModel):
    call_id: str
    utterance_id: int


class Member(UtteranceRef):
    """A debtor utterance in a cluster, with its (redacted) words."""

    text: str


class Tally(BaseModel):
    """How many calls and utterances, and which."""

    calls: int = 0
    utterances: int = 0
    call_ids: list[str] = Field(default_factory=list)
    utterance_refs: list[UtteranceRef] = Field(default_factory=list)


class WeekTally(Tally):
    #: ISO week, ``2026-W10``.
    week: str


class GroupTally(Tally):
    #: The language, team or agent id (``null``: calls stored without one).
    key: str | None
    #: Calls of this group with the intent, over all of the group's calls mined.
    share_of_calls: float


class IntentFigures(Tally):
    """One intent across the mined calls."""

    intent: str
    kind: str
    name: str
    #: Calls with the intent over all calls mined (0-1).
    share_of_calls: float
    weekly: list[WeekTally]
    by_language: list[GroupTally]
    by_team: list[GroupTally]
    by_agent: list[GroupTally]


class Rate(BaseModel):
    """How often something led to a promise to pay or a payment in the same call."""

    calls: int
    successes: int
    rate: float | None
    #: Wilson 95 % interval of the rate.
    low: float | None
    high: float | None
    #: 1 = best (by the interval's lower bound) among those with enough calls; null with ``note``.
    rank: int | None = None
    #: ``too few calls`` below the minimum: not ranked.
    note: str | None = None
    call_ids: list[str] = Field(default_factory=list)


class ResponseGroup(Rate):
    #: The playbook response the agent's answer resembles (``<playbook>@<version>#intents/<id>/responses/<n>``),
    #: or ``off_script``.
    response: str
    #: That response's text (empty for off_script).
    text: str = ""
    #: The agent turns behind it.
    turns: list[UtteranceRef] = Field(default_factory=list)
    #: A few of the agents' own answers in the group, as stored (redacted): the only way to read what
    #: "off script" was, the largest group on most calls.
    examples: list[str] = Field(default_factory=list)


class AgentRate(Rate):
    agent_id: str | None


class ObjectionResponses(BaseModel):
    """What agents answered one objection, and what came of it."""

    intent: str
    name: str
    language: str
    #: Calls with this objection answered by the agent.
    calls: int
    groups: list[ResponseGroup]
    by_agent: list[AgentRate]


class Cluster(BaseModel):
    """Debtor utterances no intent claimed that say the same kind of thing: a candidate objection."""

    id: str
    label: str
    language: str
    size: int
    calls: int
    keywords: list[str]
    #: The members nearest the cluster's centre, most typical first.
    representatives: list[str]
    #: Intents that claimed some members anyway, with how many (the detector reaching for the nearest
    #: intent it knows): where these utterances are misread today.
    claimed: dict[str, int] = Field(default_factory=dict)
    weekly: list[WeekTally]
    first_week: str
    #: First heard in the last week of the window (nothing like it before).
    new: bool
    members: list[Member]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def enough_for_an_intent(self) -> bool:
        """Members enough for an intent of its own (``coach mine export --as-intent``); fewer can join
        an existing intent as examples (``--into-intent``)."""
        return self.size >= MIN_INTENT_EXAMPLES


class Unclustered(BaseModel):
    """One language's debtor utterances that no intent claims and no reported cluster holds. On a few
    calls this is where a new objection shows first."""

    language: str
    #: How many there are (``examples`` holds the first of them).
    count: int
    examples: list[Member]


class Window(BaseModel):
    """What was mined."""

    calls: int
    #: More calls matched than the limit: the newest ``max_calls`` were mined.
    truncated: bool
    max_calls: int
    since: date | None
    until: date | None
    weeks: list[str]
    languages: dict[str, int]
    #: The playbook each language's responses and clusters were read with.
    playbooks: dict[str, str]
    min_calls: int


class MiningResult(BaseModel):
    window: Window
    intents: list[IntentFigures] = Field(default_factory=list)
    responses: list[ObjectionResponses] = Field(default_factory=list)
    clusters: list[Cluster] = Field(default_factory=list)
    #: Per language, what no intent claims and no cluster gathered (only languages that have some).
    unclustered: list[Unclustered] = Field(default_factory=list)
