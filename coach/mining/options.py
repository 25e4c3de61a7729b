"""How much mining may do, and how: one documented set of options instead of loose arguments.

Server limits come from the environment (``COACH_MINING_*``), like every other setting; the command
line passes its flags into the same :class:`MiningOptions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PARTS = ("intents", "responses", "clusters")
#: Below this many calls a rate is shown but not ranked ("too few calls").
DEFAULT_MIN_CALLS = 5
#: Fewest members of a cluster of new objections.
DEFAULT_MIN_CLUSTER_SIZE = 5


class MiningSettings(BaseSettings):
    """``COACH_MINING_MAX_CALLS`` (the newest calls mined per request or command, 2000) and
    ``COACH_MINING_TIMEOUT_SECONDS`` (how long one mining request may run, 120; 0: no limit)."""

    model_config = SettingsConfigDict(env_prefix="COACH_MINING_", env_file=".env", extra="ignore")

    max_calls: int = Field(default=2000, ge=1, le=1_000_000)
    timeout_seconds: float = Field(default=120.0, ge=0)


@dataclass(frozen=True)
class MiningOptions:
    #: The newest calls mined; more matching calls are left out and the result says so.
    max_calls: int = 2000
    #: Fewer calls than this: a rate is shown but not ranked ("too few calls").
    min_calls: int = DEFAULT_MIN_CALLS
    min_cluster_size: int = DEFAULT_MIN_CLUSTER_SIZE
    #: What to compute: any of intents, responses, clusters (the last two need the language's engine).
    parts: frozenset[str] = field(default_factory=lambda: frozenset(PARTS))
    #: Seconds mining may take (None: no limit).
    timeout_seconds: float | None = None
    #: Playbook (id, or a path for local users) for its language's calls; other languages use their default.
    playbook: str | None = None
