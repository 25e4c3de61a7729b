"""A fresh call store per test, on SQLite and (when COACH_TEST_POSTGRES_URL is set) on PostgreSQL."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, make_url, text

from coach.config import Settings
from coach.storage import CallStore

POSTGRES_URL = os.environ.get("COACH_TEST_POSTGRES_URL", "")


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets a database of its own on the same server: two workers
    resetting one schema would drop each other's tables mid-test."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


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
    url = _worker_database(POSTGRES_URL)
    _reset_postgres(url)
    return url


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def store(database_url, settings):
    store = CallStore(database_url, settings)
    yield store
    store.close()
