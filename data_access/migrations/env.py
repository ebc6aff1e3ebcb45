"""Alembic environment: runs on the connection that ``data_access.migrate`` hands it."""

from alembic import context

from data_access.schema import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
