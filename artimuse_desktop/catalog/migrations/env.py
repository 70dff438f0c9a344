"""Alembic environment: always driven programmatically by ``catalog.db`` with an engine in attributes."""

from alembic import context

from artimuse_desktop.catalog.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    context.run_migrations()
