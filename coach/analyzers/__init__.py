"""Analyzers: each takes an utterance's features and the call's context and returns a finding."""
