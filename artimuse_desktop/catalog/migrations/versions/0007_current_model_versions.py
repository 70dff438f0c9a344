"""The model versions a library holds are read from an index: assessments (current, model, model_version).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

``library_stats.model_versions`` (the library panel's list of versions, read again after every batch of
decisions) looked at every current assessment: 0.6-1.6 s at 300,000 photos, on a worker that holds the GIL
for some of it. Along this index it hops to the next model, then to each next version of it: one index search
each, 1.2 ms in all (``bench/bench_model_versions.py``).
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

INDEX = "ix_assessments_current_model_version"


def upgrade() -> None:
    op.create_index(INDEX, "assessments", ["current", "model", "model_version"], unique=False)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="assessments")
