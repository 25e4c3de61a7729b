"""Mining stored calls for trainers: the objections that come up, the answers that work, and what the
playbook misses (see docs/mining.md).

``mine`` is imported on first use: it pulls in scikit-learn and the engine, which a command that only
checks its arguments (``coach mine --since 2026-13-01``) should not wait for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from coach.mining.models import MiningResult
from coach.mining.options import MiningOptions, MiningSettings

if TYPE_CHECKING:
    from coach.mining.miner import mine

__all__ = ["MiningOptions", "MiningResult", "MiningSettings", "mine"]


def __getattr__(name: str) -> Any:
    if name == "mine":
        from coach.mining.miner import mine

        return mine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
