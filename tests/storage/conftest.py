"""A fresh call store per test, on SQLite and (when COACH_TEST_POSTGRES_URL is set) on PostgreSQL."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text

from coach.config import Settings
from coach.storage import CallStore

POSTGRES_URL = os.environ.get("COACH_TEST_POSTGRES_URL", "")


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'coach.db'}"
    if not POSTGRES_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the storage tests on PostgreSQL: set COACH_TEST_POSTGRES_URL (scripts/test.sh does)")
        pytest.skip("no PostgreSQL: set COACH_TEST_POSTGRES_URL (scripts/postgres.sh starts one)")
    _reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def store(database_url, settings):
    store = CallStore(database_url, settings)
    yield store
    store.close()
