"""Undoing what the first version's interrupted 0001 -> 0002 upgrade left, so those catalogs open again.

Before upgrades ran in one transaction, each DDL step of migration 0002 committed on its own: a kill or a full
disk part-way left ``alembic_version`` at 0001 with some of 0002 already done (the ``score`` column first), and
every later open failed with "duplicate column name: score" although the data was intact. Such a catalog is put
back to the exact 0001 schema (0002's triggers, indexes and column go, 0001's indexes come back) inside the same
transaction as the upgrade that follows, so the data becomes reachable again and nothing is half-done.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

# What migration 0002 adds (released and frozen: these names never change) ...
_TRIGGERS_0002 = (
    "assessments_score_ai",
    "assessments_score_au",
    "assessments_score_ad",
    "score_model_ai",
    "score_model_au",
    "score_model_ad",
)
_INDEXES_0002 = (
    "ix_photos_status_captured",
    "ix_photos_rating_status_captured",
    "ix_photos_flag_status_captured",
    "ix_photos_status_score",
    "ix_photos_rating_status_score",
    "ix_photos_flag_status_score",
    "ix_assessments_photo_model_current_score",
    "ix_attribute_scores_cover",
    "ix_measures_cover",
)
# ... and the 0001 indexes it drops.
_INDEXES_0001 = {
    "ix_photos_status": "photos (status)",
    "ix_photos_rating": "photos (rating)",
    "ix_photos_flag": "photos (flag)",
    "ix_assessments_photo_model_current": "assessments (photo_id, model, current)",
}


def _photo_columns(connection: Connection) -> set[str]:
    return {str(row[1]) for row in connection.execute(text("PRAGMA table_info(photos)"))}


def undo_interrupted_0002(connection: Connection, revision: str | None) -> bool:
    """Put a catalog at 0001 that already has parts of 0002 back to plain 0001; True when it had to.

    Runs inside the caller's transaction: the repair commits together with the upgrade, or not at all."""
    if revision != "0001" or "score" not in _photo_columns(connection):
        return False
    log.warning("the catalog holds parts of an interrupted upgrade to schema 0002; undoing them first")
    for name in _TRIGGERS_0002:
        connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
    for name in _INDEXES_0002:
        connection.execute(text(f"DROP INDEX IF EXISTS {name}"))
    connection.execute(text("ALTER TABLE photos DROP COLUMN score"))
    for name, target in _INDEXES_0001.items():
        connection.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON {target}"))
    return True
