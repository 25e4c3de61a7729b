"""A real server for the fuzz tests: its own database, rate limits off (fuzzing opens many connections),
and tokens for it."""

from __future__ import annotations

import os

import pytest

from coach.config import Settings
from coach.storage import CallStore
from tests.conftest import serving


@pytest.fixture(scope="session")
def fuzz_server(tmp_path_factory):
    """(port, store, tokens) of a real `coach serve` with its own data folder."""
    folder = tmp_path_factory.mktemp("fuzz-server")
    settings = Settings(data_dir=folder)
    store = CallStore(settings.database(), settings)
    tokens = {role: store.create_token(f"fuzz-{role}", role, **extra)[0]
              for role, extra in (("admin", {}), ("agent", {"agent_id": "a1", "team": "north"}),
                                  ("coach", {"team": "north"}))}
    env = {**os.environ, "COACH_DATA_DIR": str(folder), "COACH_STREAMS_PER_MINUTE": "0", "COACH_UPLOADS_PER_MINUTE": "0"}
    env.pop("COACH_DATABASE_URL", None)
    with serving(env) as port:
        yield port, store, tokens
    store.close()
