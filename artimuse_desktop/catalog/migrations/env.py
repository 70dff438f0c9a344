"""Alembic environment: always driven programmatically by ``catalog.upgrade`` with a connection in attributes.

That connection is already inside one ``BEGIN IMMEDIATE`` transaction (see ``catalog.upgrade``), so every step
of every pending migration and the new ``alembic_version`` row commit together or not at all.
"""

from alembic import context

from artimuse_desktop.catalog.models import Base

config = context.config
connection = config.attributes["connection"]

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    transaction_per_migration=False,
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
