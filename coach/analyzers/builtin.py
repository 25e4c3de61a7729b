"""Imports the built-in analyzers so they register (see :mod:`coach.analyzers.base`)."""

from coach.analyzers import (  # noqa: F401
    agent_speech, commitment, compliance, consent, dialogue, intent, pressing, sentiment, stages, tone,
)
