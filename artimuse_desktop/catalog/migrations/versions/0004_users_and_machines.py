"""Several people and computers on one catalog: who decided, per-user undo, batch numbers, root locations.

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-10

- ``decision_events.user_name``: who made each decision. Events recorded before this revision keep NULL: they
  are the history of the catalog's one user, and every user may undo and redo them.
- ``undo_positions``: each user's undo pointer. The one pointer catalogs kept until now (the
  ``undo_position`` row of ``catalog_settings``) moves here under the user ``""``, where a user without a
  pointer of their own starts.
- ``decision_batches``: batch numbers handed out by the database (an autoincrement id; a sequence on
  PostgreSQL), so two processes deciding at once never share one. Filled with the batches already logged, so
  new numbers come after them.
- ``root_locations``: where another computer sees a library root (the same NAS folder mounted elsewhere).

Runs on SQLite and on PostgreSQL: plain DDL, and the one PostgreSQL step of moving the id sequence past the
copied batch numbers.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("decision_events", sa.Column("user_name", sa.String(length=128), nullable=True))
    op.create_index("ix_decision_events_user_batch", "decision_events", ["user_name", "batch"], unique=False)
    op.create_table(
        "decision_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(length=128), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "undo_positions",
        sa.Column("user_name", sa.String(length=128), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("user_name"),
    )
    op.create_table(
        "root_locations",
        sa.Column("root_id", sa.Integer(), nullable=False),
        sa.Column("machine", sa.String(length=128), nullable=False),
        sa.Column("path", sa.LargeBinary(), nullable=False),
        sa.Column("mapped_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["root_id"], ["library_roots.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("root_id", "machine"),
    )
    op.execute(
        "INSERT INTO undo_positions (user_name, batch) "
        "SELECT '', CAST(value AS INTEGER) FROM catalog_settings "
        "WHERE key = 'undo_position' AND value IS NOT NULL AND value != ''"
    )
    op.execute("DELETE FROM catalog_settings WHERE key = 'undo_position'")
    # Every batch number used so far, the pointer's too (its events may be gone with their photos), so the
    # numbers handed out from now on come after all of them.
    op.execute(
        "INSERT INTO decision_batches (id, user_name, at) "
        "SELECT batch, NULL, min(at) FROM decision_events GROUP BY batch"
    )
    op.execute(
        "INSERT INTO decision_batches (id, user_name, at) "
        "SELECT batch, NULL, CURRENT_TIMESTAMP FROM undo_positions "
        "WHERE batch > 0 AND batch NOT IN (SELECT id FROM decision_batches)"
    )
    if op.get_bind().dialect.name == "postgresql":
        # Explicit ids leave the serial sequence where it was: move it past the copied batch numbers.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('decision_batches', 'id'), "
            "COALESCE((SELECT max(id) FROM decision_batches), 0) + 1, false)"
        )


def downgrade() -> None:
    op.execute(
        "INSERT INTO catalog_settings (key, value) "
        "SELECT 'undo_position', CAST(max(batch) AS VARCHAR(16)) FROM undo_positions HAVING count(*) > 0"
    )
    op.drop_table("root_locations")
    op.drop_table("undo_positions")
    op.drop_table("decision_batches")
    with op.batch_alter_table("decision_events", schema=None) as batch_op:
        batch_op.drop_index("ix_decision_events_user_batch")
        batch_op.drop_column("user_name")
