"""Where each decision came from: ``flag_source``, ``rating_source``, ``label_source`` on photos.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

Values: ``app`` (made in this app), ``sidecar`` (read from an XMP sidecar), ``file`` (read from the photo file's
own XMP packet or EXIF Rating). Indexing lets a sidecar's value replace one read from the file, and never
touches one made here.

Existing catalogs are filled in from what they already record: a decision with an entry in the undo log
(``decision_events``) was made here; any other decision was imported from a sidecar, the only other way a
decision reached a catalog before this revision. Unset decisions without a log entry stay NULL.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_COLUMNS = {"flag": "flag_source", "rating": "rating_source", "color_label": "label_source"}
_DECIDED = {"flag": "flag != 0", "rating": "rating != 0", "color_label": "color_label IS NOT NULL"}


def _backfill(field: str) -> str:
    logged = f"EXISTS (SELECT 1 FROM decision_events e WHERE e.photo_id = photos.id AND e.field = '{field}')"
    return f"CASE WHEN {logged} THEN 'app' WHEN {_DECIDED[field]} THEN 'sidecar' END"


def upgrade() -> None:
    for column in _COLUMNS.values():
        op.add_column("photos", sa.Column(column, sa.String(length=8), nullable=True))
    assignments = ", ".join(f"{column} = {_backfill(field)}" for field, column in _COLUMNS.items())
    op.execute(f"UPDATE photos SET {assignments}")


def downgrade() -> None:
    with op.batch_alter_table("photos", schema=None) as batch_op:
        for column in reversed(list(_COLUMNS.values())):
            batch_op.drop_column(column)
