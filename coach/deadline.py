"""A wall-clock limit on a long piece of work (a review, a mining run), checked between its steps.

The work cannot be cut off from outside (it runs in a worker thread, and speech recognition in native
code): it looks at its deadline between steps (a batch of speech windows, an utterance analysed, a
page of calls) and gives up at the first one past it, before anything is stored.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from coach.errors import CoachError, TimeLimitError


@dataclass(frozen=True)
class Deadline:
    """The monotonic time after which ``work`` gives up (None: no limit)."""

    at: float | None
    #: What took too long, as the error names it ("mining", "the review of call.wav").
    work: str = "the work"
    hint: str | None = None
    error: type[CoachError] = TimeLimitError

    @classmethod
    def after(cls, seconds: float | None, **names: Any) -> Deadline:
        """The deadline ``seconds`` from now (0 or None: none)."""
        return cls(None if not seconds else time.monotonic() + seconds, **names)

    def check(self, step: str) -> None:
        if self.at is not None and time.monotonic() > self.at:
            raise self.error(f"{self.work} took too long ({step}); nothing was changed", hint=self.hint)
