"""Alembic environment: run by :func:`coach.storage.database.migrate` with an open connection, or by
the ``alembic`` command with ``-x url=...`` when writing a new migration."""

from alembic import context
from sqlalchemy import create_engine

from coach.storage.tables import Base

config = context.config
target_metadata = Base.metadata

connection = config.attributes.get("connection")
if connection is not None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    url = context.get_x_argument(as_dictionary=True).get("url", "sqlite:///coach-migrations.db")
    with create_engine(url).connect() as own:
        context.configure(connection=own, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
