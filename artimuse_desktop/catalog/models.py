"""SQLAlchemy 2.0 typed models of the catalog.

Paths are stored as the raw bytes the file system gave us (``PathType``) so that names that are not valid
UTF-8 survive a round trip; ``filename`` holds a printable copy for display, sorting and search.
Decisions (flag, rating, colour label) sit on the photo row: a rename or move updates the same row, so they
survive it. Each decision says where it came from (``*_source``: made here, read from a sidecar, or read from
the file itself), so a value read from the file gives way to a sidecar's, and neither ever replaces one made
here. Assessments are per (photo, model, model version) so several models coexist.

Several people may cull one shared catalog (schema 0004): each decision event names its user, each user has
their own undo position, and batch numbers come from ``decision_batches`` (an autoincrement id, a sequence on
PostgreSQL) so two processes never share one. A library root keeps the path it was first indexed at; other
computers that mount the same folder elsewhere record where in ``root_locations``.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from artimuse_desktop.vocabulary import Flag


class PathType(TypeDecorator[str]):
    """A file-system path stored losslessly as bytes (``os.fsencode``) and read back as ``str``."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        return None if value is None else os.fsencode(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else os.fsdecode(value)


class Base(DeclarativeBase):
    pass


# Photo.status values
STATUS_OK = "ok"
STATUS_ERROR = "error"
STATUS_MISSING = "missing"
STATUS_TRASHED = "trashed"

# Where a decision came from (Photo.flag_source, rating_source, label_source), strongest first. NULL: no
# decision of that kind, or one made before sources were recorded (treated as made here: never replaced).
SOURCE_APP = "app"  # set in this app (culling, keep-best, undo)
SOURCE_SIDECAR = "sidecar"  # an XMP sidecar beside the photo (Lightroom, darktable, digiKam ...)
SOURCE_FILE = "file"  # the photo file's own XMP packet or EXIF Rating tag
DECISION_SOURCES = (SOURCE_APP, SOURCE_SIDECAR, SOURCE_FILE)
#: The source column of each decision column.
SOURCE_COLUMNS: dict[str, str] = {"flag": "flag_source", "rating": "rating_source", "color_label": "label_source"}


class LibraryRoot(Base):
    __tablename__ = "library_roots"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(PathType, unique=True)
    added_at: Mapped[datetime] = mapped_column(DateTime)
    last_scan_at: Mapped[datetime | None] = mapped_column(DateTime)

    photos: Mapped[list[Photo]] = relationship(back_populates="root")
    locations: Mapped[list[RootLocation]] = relationship(
        back_populates="root", cascade="all, delete-orphan", passive_deletes=True
    )


class RootLocation(Base):
    """Where one computer (``identity.machine_id``) sees a library root, when not at the root's own path."""

    __tablename__ = "root_locations"

    root_id: Mapped[int] = mapped_column(ForeignKey("library_roots.id", ondelete="CASCADE"), primary_key=True)
    machine: Mapped[str] = mapped_column(String(128), primary_key=True)
    path: Mapped[str] = mapped_column(PathType)
    mapped_at: Mapped[datetime] = mapped_column(DateTime)

    root: Mapped[LibraryRoot] = relationship(back_populates="locations")


class Photo(Base):
    __tablename__ = "photos"
    # Covering indexes for the grid's commonest queries (all, by rating, by flag; in shooting order).
    __table_args__ = (
        Index("ix_photos_status_captured", "status", "captured_at"),
        Index("ix_photos_rating_status_captured", "rating", "status", "captured_at"),
        Index("ix_photos_flag_status_captured", "flag", "status", "captured_at"),
        Index("ix_photos_status_score", "status", "score"),
        Index("ix_photos_rating_status_score", "rating", "status", "score"),
        Index("ix_photos_flag_status_score", "flag", "status", "score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    root_id: Mapped[int | None] = mapped_column(ForeignKey("library_roots.id", ondelete="SET NULL"))
    path: Mapped[str] = mapped_column(PathType, unique=True)
    folder: Mapped[str] = mapped_column(PathType, index=True)
    filename: Mapped[str] = mapped_column(Text, index=True)
    size: Mapped[int] = mapped_column(Integer().with_variant(BigInteger(), "postgresql"))  # files over 2 GiB
    mtime: Mapped[float] = mapped_column(Float)
    fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)
    format: Mapped[str | None] = mapped_column(String(16))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    orientation: Mapped[int | None] = mapped_column(Integer)
    captured_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    camera_make: Mapped[str | None] = mapped_column(String(128))
    camera_model: Mapped[str | None] = mapped_column(String(128), index=True)
    lens: Mapped[str | None] = mapped_column(String(256))
    focal_length: Mapped[float | None] = mapped_column(Float)
    aperture: Mapped[float | None] = mapped_column(Float)
    shutter: Mapped[float | None] = mapped_column(Float)  # exposure time in seconds
    iso: Mapped[int | None] = mapped_column(Integer)
    gps_lat: Mapped[float | None] = mapped_column(Float)
    gps_lon: Mapped[float | None] = mapped_column(Float)
    gps_alt: Mapped[float | None] = mapped_column(Float)
    phash: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=STATUS_OK)
    error: Mapped[str | None] = mapped_column(Text)
    indexed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The photographer's decisions
    flag: Mapped[int] = mapped_column(Integer, default=int(Flag.NONE))
    rating: Mapped[int] = mapped_column(Integer, default=0)
    color_label: Mapped[str | None] = mapped_column(String(16), index=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Where each decision came from: SOURCE_APP, SOURCE_SIDECAR or SOURCE_FILE (migration 0003).
    flag_source: Mapped[str | None] = mapped_column(String(8))
    rating_source: Mapped[str | None] = mapped_column(String(8))
    label_source: Mapped[str | None] = mapped_column(String(8))
    # A copy of the current score by the catalog's chosen score model, kept by SQLite triggers (migration
    # 0002), so sorting 100,000 photos by score needs no join. Never written by the app itself.
    score: Mapped[float | None] = mapped_column(Float)

    root: Mapped[LibraryRoot | None] = relationship(back_populates="photos")
    assessments: Mapped[list[Assessment]] = relationship(
        back_populates="photo", cascade="all, delete-orphan", passive_deletes=True
    )


class DecisionEvent(Base):
    """Append-only log of decisions: undo/redo across restarts and an audit of who changed what when."""

    __tablename__ = "decision_events"
    __table_args__ = (Index("ix_decision_events_user_batch", "user_name", "batch"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(16))  # flag | rating | color_label
    old_value: Mapped[str | None] = mapped_column(String(16))
    new_value: Mapped[str | None] = mapped_column(String(16))
    batch: Mapped[int] = mapped_column(Integer, index=True)  # one user action may change many photos
    at: Mapped[datetime] = mapped_column(DateTime)
    # Who decided (identity.current_user); NULL: recorded before 0004, part of every user's history.
    user_name: Mapped[str | None] = mapped_column(String(128))


class DecisionBatch(Base):
    """One user action's batch number, handed out by the database so concurrent writers never share one."""

    __tablename__ = "decision_batches"
    # Never reuse the number of a dropped redo batch.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_name: Mapped[str | None] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime)


class UndoPosition(Base):
    """Each user's undo pointer: the batch of their last applied (not undone) action; ``""`` is the one
    position of catalogs before 0004, where a user without a row of their own starts."""

    __tablename__ = "undo_positions"

    user_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    batch: Mapped[int] = mapped_column(Integer)


class Assessment(Base):
    """One model's judgement of one photo's content (fingerprint) at one model version."""

    __tablename__ = "assessments"
    __table_args__ = (
        UniqueConstraint("photo_id", "model", "model_version", name="uq_assessment_photo_model_version"),
        Index("ix_assessments_model_current_score", "model", "current", "score"),
        # Covers the score join of every sorted grid query (no table lookups for 100,000 photos).
        Index("ix_assessments_photo_model_current_score", "photo_id", "model", "current", "score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str] = mapped_column(String(128))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # The newest version of this model for this photo: the one shown, sorted and filtered by.
    current: Mapped[bool] = mapped_column(Boolean, default=True)

    photo: Mapped[Photo] = relationship(back_populates="assessments")
    attributes: Mapped[list[AttributeScore]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", passive_deletes=True
    )
    measures: Mapped[list[MeasureValue]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", passive_deletes=True
    )


class AttributeScore(Base):
    """An attribute's score and/or critique; either may be NULL (absent, never 0)."""

    __tablename__ = "attribute_scores"
    __table_args__ = (
        UniqueConstraint("assessment_id", "attribute", name="uq_attribute_per_assessment"),
        # Sorting by an attribute reads the score from the index, never the (critique-sized) row.
        Index("ix_attribute_scores_cover", "assessment_id", "attribute", "score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    attribute: Mapped[str] = mapped_column(String(64), index=True)
    score: Mapped[float | None] = mapped_column(Float)
    critique: Mapped[str | None] = mapped_column(Text)
    experimental: Mapped[bool] = mapped_column(Boolean, default=False)
    critique_model: Mapped[str | None] = mapped_column(String(128))
    critique_at: Mapped[datetime | None] = mapped_column(DateTime)

    assessment: Mapped[Assessment] = relationship(back_populates="attributes")


class MeasureValue(Base):
    __tablename__ = "measures"
    __table_args__ = (
        UniqueConstraint("assessment_id", "name", name="uq_measure_per_assessment"),
        Index("ix_measures_name_value", "name", "value"),
        Index("ix_measures_cover", "assessment_id", "name", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))
    higher_is_better: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)

    assessment: Mapped[Assessment] = relationship(back_populates="measures")


class CatalogSetting(Base):
    """Per-catalog choices, e.g. which model drives "Score" (``score_model``)."""

    __tablename__ = "catalog_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)


class SortValue(Base):
    """The shown value of an attribute (``attr:NAME``) or technical measure (``measure:NAME``) of a photo, kept
    by triggers (migration 0005) so a sort by it walks an index in order; absent values have no row.
    Never written by the app itself."""

    __tablename__ = "sort_values"
    __table_args__ = ({"sqlite_with_rowid": False},)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    photo_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[float] = mapped_column(Float)


#: Indexes migration 0005 makes that the models do not describe: partial, descending and expression indexes
#: (``ix_photos_live_*`` and ``ix_sort_values_*``), which alembic's comparison cannot read back on SQLite.
MIGRATION_ONLY_INDEX_PREFIXES = ("ix_photos_live_", "ix_sort_values_")
