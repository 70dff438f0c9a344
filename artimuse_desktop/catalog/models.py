"""SQLAlchemy 2.0 typed models of the catalog, mapped onto the Core tables of ``catalog.tables`` (the one
definition of the columns, which the indexer uses without the ORM).

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

from datetime import datetime

from sqlalchemy.orm import DeclarativeBase, Mapped, relationship

from artimuse_desktop.catalog import tables
from artimuse_desktop.catalog.constants import (  # noqa: F401  (where the rest of the code has always found them)
    DECISION_SOURCES,
    SOURCE_APP,
    SOURCE_COLUMNS,
    SOURCE_FILE,
    SOURCE_SIDECAR,
    STATUS_ERROR,
    STATUS_MISSING,
    STATUS_OK,
    STATUS_TRASHED,
)
from artimuse_desktop.catalog.tables import MIGRATION_ONLY_INDEX_PREFIXES, PathType  # noqa: F401


class Base(DeclarativeBase):
    metadata = tables.metadata


class LibraryRoot(Base):
    __table__ = tables.library_roots

    id: Mapped[int]
    path: Mapped[str]
    added_at: Mapped[datetime]
    last_scan_at: Mapped[datetime | None]

    photos: Mapped[list[Photo]] = relationship(back_populates="root")
    locations: Mapped[list[RootLocation]] = relationship(
        back_populates="root", cascade="all, delete-orphan", passive_deletes=True
    )


class RootLocation(Base):
    """Where one computer (``identity.machine_id``) sees a library root, when not at the root's own path."""

    __table__ = tables.root_locations

    root_id: Mapped[int]
    machine: Mapped[str]
    path: Mapped[str]
    mapped_at: Mapped[datetime]

    root: Mapped[LibraryRoot] = relationship(back_populates="locations")


class Photo(Base):
    __table__ = tables.photos

    id: Mapped[int]
    root_id: Mapped[int | None]
    path: Mapped[str]
    folder: Mapped[str]
    filename: Mapped[str]
    size: Mapped[int]
    mtime: Mapped[float]
    fingerprint: Mapped[str | None]
    format: Mapped[str | None]
    width: Mapped[int | None]
    height: Mapped[int | None]
    orientation: Mapped[int | None]
    captured_at: Mapped[datetime | None]
    camera_make: Mapped[str | None]
    camera_model: Mapped[str | None]
    lens: Mapped[str | None]
    focal_length: Mapped[float | None]
    aperture: Mapped[float | None]
    shutter: Mapped[float | None]
    iso: Mapped[int | None]
    gps_lat: Mapped[float | None]
    gps_lon: Mapped[float | None]
    gps_alt: Mapped[float | None]
    phash: Mapped[str | None]
    status: Mapped[str]
    error: Mapped[str | None]
    indexed_at: Mapped[datetime | None]
    # The photographer's decisions
    flag: Mapped[int]
    rating: Mapped[int]
    color_label: Mapped[str | None]
    decided_at: Mapped[datetime | None]
    # Where each decision came from: SOURCE_APP, SOURCE_SIDECAR or SOURCE_FILE (migration 0003).
    flag_source: Mapped[str | None]
    rating_source: Mapped[str | None]
    label_source: Mapped[str | None]
    # A copy of the current score by the catalog's chosen score model, kept by SQLite triggers (migration
    # 0002), so sorting 100,000 photos by score needs no join. Never written by the app itself.
    score: Mapped[float | None]

    root: Mapped[LibraryRoot | None] = relationship(back_populates="photos")
    assessments: Mapped[list[Assessment]] = relationship(
        back_populates="photo", cascade="all, delete-orphan", passive_deletes=True
    )


class DecisionEvent(Base):
    """Append-only log of decisions: undo/redo across restarts and an audit of who changed what when."""

    __table__ = tables.decision_events

    id: Mapped[int]
    photo_id: Mapped[int]
    field: Mapped[str]
    old_value: Mapped[str | None]
    new_value: Mapped[str | None]
    batch: Mapped[int]
    at: Mapped[datetime]
    # Who decided (identity.current_user); NULL: recorded before 0004, part of every user's history.
    user_name: Mapped[str | None]


class DecisionBatch(Base):
    """One user action's batch number, handed out by the database so concurrent writers never share one."""

    __table__ = tables.decision_batches

    id: Mapped[int]
    user_name: Mapped[str | None]
    at: Mapped[datetime]


class UndoPosition(Base):
    """Each user's undo pointer: the batch of their last applied (not undone) action; ``""`` is the one
    position of catalogs before 0004, where a user without a row of their own starts."""

    __table__ = tables.undo_positions

    user_name: Mapped[str]
    batch: Mapped[int]


class Assessment(Base):
    """One model's judgement of one photo's content (fingerprint) at one model version."""

    __table__ = tables.assessments

    id: Mapped[int]
    photo_id: Mapped[int]
    model: Mapped[str]
    model_version: Mapped[str]
    fingerprint: Mapped[str | None]
    score: Mapped[float | None]
    error: Mapped[str | None]
    created_at: Mapped[datetime]
    # The newest version of this model for this photo: the one shown, sorted and filtered by.
    current: Mapped[bool]

    photo: Mapped[Photo] = relationship(back_populates="assessments")
    attributes: Mapped[list[AttributeScore]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", passive_deletes=True
    )
    measures: Mapped[list[MeasureValue]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", passive_deletes=True
    )


class AttributeScore(Base):
    """An attribute's score and/or critique; either may be NULL (absent, never 0)."""

    __table__ = tables.attribute_scores

    id: Mapped[int]
    assessment_id: Mapped[int]
    attribute: Mapped[str]
    score: Mapped[float | None]
    critique: Mapped[str | None]
    experimental: Mapped[bool]
    critique_model: Mapped[str | None]
    critique_at: Mapped[datetime | None]

    assessment: Mapped[Assessment] = relationship(back_populates="attributes")


class MeasureValue(Base):
    __table__ = tables.measures

    id: Mapped[int]
    assessment_id: Mapped[int]
    name: Mapped[str]
    value: Mapped[float]
    unit: Mapped[str]
    higher_is_better: Mapped[bool | None]
    note: Mapped[str | None]

    assessment: Mapped[Assessment] = relationship(back_populates="measures")


class CatalogSetting(Base):
    """Per-catalog choices, e.g. which model drives "Score" (``score_model``)."""

    __table__ = tables.catalog_settings

    key: Mapped[str]
    value: Mapped[str | None]


class SortValue(Base):
    """The shown value of an attribute (``attr:NAME``) or technical measure (``measure:NAME``) of a photo, kept
    by triggers (migration 0005) so a sort by it walks an index in order; absent values have no row.
    Never written by the app itself."""

    __table__ = tables.sort_values

    key: Mapped[str]
    photo_id: Mapped[int]
    value: Mapped[float]
