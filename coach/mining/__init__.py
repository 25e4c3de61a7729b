"""Mining stored calls for trainers: the objections that come up, the answers that work, and what the
playbook misses (see docs/mining.md)."""

from coach.mining.miner import mine
from coach.mining.models import MiningResult
from coach.mining.options import MiningOptions, MiningSettings

__all__ = ["MiningOptions", "MiningResult", "MiningSettings", "mine"]
