"""The mining tests' calls: reviewed by the real engines and stored in a real database (built once per
test process, see tests/mining/calls.py), and a fresh store per test on SQLite and PostgreSQL for the
store's own reading methods."""

from __future__ import annotations

import pytest

from coach.config import Settings
from coach.mining import mine
from coach.storage import CallStore
from tests.mining.calls import stored_database
from tests.storage.conftest import database_url, settings, store  # noqa: F401  (the store tests' fixtures)


@pytest.fixture(scope="session")
def engines(en_engine, zh_engine):
    return {"en": en_engine, "zh": zh_engine}


@pytest.fixture(scope="module")
def mined_store(engines, tmp_path_factory):
    """A store holding the mining calls (its own copy per module)."""
    folder = tmp_path_factory.mktemp("mined")
    calls = CallStore(stored_database(engines, folder), Settings(data_dir=folder))
    yield calls
    calls.close()


@pytest.fixture(scope="module")
def mined(mined_store, engines):
    """Everything mined from all the calls."""
    return mine(mined_store, engines=engines)
