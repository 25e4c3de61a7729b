"""Opening the database: SQLite by default, PostgreSQL by URL, always migrated to the current schema.

Schema changes are Alembic migrations shipped inside the package (``coach/storage/migrations``), so an
installed wheel can upgrade an existing database. Connection problems become :class:`StorageError`
with the URL (password hidden) and what to check.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from coach.errors import StorageError

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
#: Seconds SQLite waits for another writer before reporting the database as locked.
SQLITE_BUSY_SECONDS = 5.0


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid URL>"


def create_database_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"invalid database URL {url!r}",
                           hint="use sqlite:///path/to/coach.db or postgresql+psycopg://user:password@host/db") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # a file where a folder should be, no permission, a read-only disk
                raise StorageError(f"cannot create the database folder {folder}: {exc.strerror or exc}",
                                   hint="point COACH_DATABASE_URL (or COACH_DATA_DIR) at a folder this user can write") from None
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_SECONDS})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the live-call writer
            cursor.execute("PRAGMA synchronous=NORMAL")  # WAL's recommended setting: safe if the process dies
            cursor.close()
    else:
        connect_args = {"connect_timeout": 5} if parsed.get_backend_name() == "postgresql" else {}
        try:
            engine = create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
        except (ArgumentError, ImportError) as exc:
            raise StorageError(f"cannot use database {safe_url(url)}: {exc}") from None
    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema up to date (creates it on a new database)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with translate_errors(engine.url.render_as_string(hide_password=True)), engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextmanager
def translate_errors(url: str) -> Iterator[None]:
    """Database failures as StorageError with a message a user can act on."""
    try:
        yield
    except OperationalError as exc:
        text = str(exc.orig) if exc.orig is not None else str(exc)
        if "locked" in text or "busy" in text:
            raise StorageError(f"the database {url} is locked by another process; nothing was written",
                               hint="retry, or point COACH_DATABASE_URL at PostgreSQL for many writers") from None
        raise StorageError(f"cannot reach the database {url}: {text.strip().splitlines()[0] if text.strip() else exc}",
                           hint="check COACH_DATABASE_URL and that the database server is running") from None
    except DBAPIError as exc:
        text = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        raise StorageError(f"the database {url} refused the operation: {text}; nothing was written") from None
    except SQLAlchemyError as exc:
        raise StorageError(f"database error on {url}: {exc}") from None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
