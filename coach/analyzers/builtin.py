"""Imports the built-in analyzers so they register (see :mod:`coach.analyzers.base`)."""

from coach.analyzers import agent_speech, commitment, compliance, dialogue, intent, pressing, sentiment, stages, tone  # noqa: F401
