"""The catalog's tables as SQLAlchemy Core ``Table`` objects: the one definition of the schema.

``models`` maps its ORM classes onto these tables (``__table__ = tables.photos``), so the columns are written
down once and cannot drift apart. Code that needs no ORM imports only this module and runs Core statements on
a connection (``Catalog.connect_read`` / ``connect_write``): importing ``sqlalchemy.orm`` and declaring the
mapped classes costs a quarter of a second. The indexer needs no SQLAlchemy at all (adding one photo to a
50,000-photo library in a fresh process, issue 14): it writes raw SQL (``catalog.dbapi``) and finds the column
values it names in ``catalog.constants``.

Paths are stored as the raw bytes the file system gave us (``PathType``) so that names that are not valid
UTF-8 survive a round trip; ``filename`` holds a printable copy for display, sorting and search. Nullability is
spelled out on every column (the mapped classes used to take it from their annotations). See ``models`` for
what the tables hold.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from artimuse_desktop.catalog.constants import STATUS_OK
from artimuse_desktop.vocabulary import Flag

__all__ = ["PathType", "metadata"]


class PathType(TypeDecorator[str]):
    """A file-system path stored losslessly as bytes (``os.fsencode``) and read back as ``str``."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        return None if value is None else os.fsencode(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else os.fsdecode(value)


metadata = MetaData()


def _id() -> Column[Any]:
    return Column("id", Integer, primary_key=True)


library_roots = Table(
    "library_roots",
    metadata,
    _id(),
    Column("path", PathType, nullable=False, unique=True),
    Column("added_at", DateTime, nullable=False),
    Column("last_scan_at", DateTime),
)

root_locations = Table(
    "root_locations",
    metadata,
    Column("root_id", ForeignKey("library_roots.id", ondelete="CASCADE"), primary_key=True),
    Column("machine", String(128), primary_key=True),
    Column("path", PathType, nullable=False),
    Column("mapped_at", DateTime, nullable=False),
)

photos = Table(
    "photos",
    metadata,
    _id(),
    Column("root_id", ForeignKey("library_roots.id", ondelete="SET NULL")),
    Column("path", PathType, nullable=False, unique=True),
    Column("folder", PathType, nullable=False, index=True),
    Column("filename", Text, nullable=False, index=True),
    Column("size", Integer().with_variant(BigInteger(), "postgresql"), nullable=False),  # files over 2 GiB
    Column("mtime", Float, nullable=False),
    Column("fingerprint", String(64), index=True),
    Column("format", String(16)),
    Column("width", Integer),
    Column("height", Integer),
    Column("orientation", Integer),
    Column("captured_at", DateTime, index=True),
    Column("camera_make", String(128)),
    Column("camera_model", String(128), index=True),
    Column("lens", String(256)),
    Column("focal_length", Float),
    Column("aperture", Float),
    Column("shutter", Float),  # exposure time in seconds
    Column("iso", Integer),
    Column("gps_lat", Float),
    Column("gps_lon", Float),
    Column("gps_alt", Float),
    Column("phash", String(32)),
    Column("status", String(16), nullable=False, default=STATUS_OK),
    Column("error", Text),
    Column("indexed_at", DateTime),
    # The photographer's decisions
    Column("flag", Integer, nullable=False, default=int(Flag.NONE)),
    Column("rating", Integer, nullable=False, default=0),
    Column("color_label", String(16), index=True),
    Column("decided_at", DateTime),
    # Where each decision came from: SOURCE_APP, SOURCE_SIDECAR or SOURCE_FILE (migration 0003).
    Column("flag_source", String(8)),
    Column("rating_source", String(8)),
    Column("label_source", String(8)),
    # A copy of the current score by the catalog's chosen score model, kept by SQLite triggers (migration
    # 0002), so sorting 100,000 photos by score needs no join. Never written by the app itself.
    Column("score", Float),
    # Covering indexes for the grid's commonest queries (all, by rating, by flag; in shooting order).
    Index("ix_photos_status_captured", "status", "captured_at"),
    Index("ix_photos_rating_status_captured", "rating", "status", "captured_at"),
    Index("ix_photos_flag_status_captured", "flag", "status", "captured_at"),
    Index("ix_photos_status_score", "status", "score"),
    Index("ix_photos_rating_status_score", "rating", "status", "score"),
    Index("ix_photos_flag_status_score", "flag", "status", "score"),
)

decision_events = Table(
    "decision_events",
    metadata,
    _id(),
    Column("photo_id", ForeignKey("photos.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("field", String(16), nullable=False),  # flag | rating | color_label
    Column("old_value", String(16)),
    Column("new_value", String(16)),
    Column("batch", Integer, nullable=False, index=True),  # one user action may change many photos
    Column("at", DateTime, nullable=False),
    # Who decided (identity.current_user); NULL: recorded before 0004, part of every user's history.
    Column("user_name", String(128)),
    Index("ix_decision_events_user_batch", "user_name", "batch"),
)

decision_batches = Table(
    "decision_batches",
    metadata,
    _id(),
    Column("user_name", String(128)),
    Column("at", DateTime, nullable=False),
    sqlite_autoincrement=True,  # never reuse the number of a dropped redo batch
)

undo_positions = Table(
    "undo_positions",
    metadata,
    Column("user_name", String(128), primary_key=True),
    Column("batch", Integer, nullable=False),
)

assessments = Table(
    "assessments",
    metadata,
    _id(),
    Column("photo_id", ForeignKey("photos.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("model", String(128), nullable=False),
    Column("model_version", String(128), nullable=False),
    Column("fingerprint", String(64)),
    Column("score", Float),
    Column("error", Text),
    Column("created_at", DateTime, nullable=False),
    # The newest version of this model for this photo: the one shown, sorted and filtered by.
    Column("current", Boolean, nullable=False, default=True),
    UniqueConstraint("photo_id", "model", "model_version", name="uq_assessment_photo_model_version"),
    Index("ix_assessments_model_current_score", "model", "current", "score"),
    # Covers the score join of every sorted grid query (no table lookups for 100,000 photos).
    Index("ix_assessments_photo_model_current_score", "photo_id", "model", "current", "score"),
    # The library's model versions, one index hop per (model, version): library_stats.model_versions.
    Index("ix_assessments_current_model_version", "current", "model", "model_version"),
)

attribute_scores = Table(
    "attribute_scores",
    metadata,
    _id(),
    Column("assessment_id", ForeignKey("assessments.id", ondelete="CASCADE"), nullable=False),
    Column("attribute", String(64), nullable=False, index=True),
    Column("score", Float),
    Column("critique", Text),
    Column("experimental", Boolean, nullable=False, default=False),
    Column("critique_model", String(128)),
    Column("critique_at", DateTime),
    UniqueConstraint("assessment_id", "attribute", name="uq_attribute_per_assessment"),
    # Sorting by an attribute reads the score from the index, never the (critique-sized) row.
    Index("ix_attribute_scores_cover", "assessment_id", "attribute", "score"),
)

measures = Table(
    "measures",
    metadata,
    _id(),
    Column("assessment_id", ForeignKey("assessments.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("value", Float, nullable=False),
    Column("unit", String(32), nullable=False),
    Column("higher_is_better", Boolean),
    Column("note", Text),
    UniqueConstraint("assessment_id", "name", name="uq_measure_per_assessment"),
    Index("ix_measures_name_value", "name", "value"),
    Index("ix_measures_cover", "assessment_id", "name", "value"),
)

catalog_settings = Table(
    "catalog_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text),
)

sort_values = Table(
    "sort_values",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("photo_id", Integer, primary_key=True),
    Column("value", Float, nullable=False),
    sqlite_with_rowid=False,
)

#: Indexes migration 0005 makes that the tables do not describe: partial, descending and expression indexes
#: (``ix_photos_live_*`` and ``ix_sort_values_*``), which alembic's comparison cannot read back on SQLite.
MIGRATION_ONLY_INDEX_PREFIXES = ("ix_photos_live_", "ix_sort_values_")
