"""What queries hand out: plain frozen dataclasses, never ORM objects, so callers may keep them past a session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PhotoRecord:
    """One photo as the grid, the command line and export see it."""

    id: int
    path: str
    folder: str
    filename: str
    size: int
    mtime: float
    fingerprint: str | None
    format: str | None
    width: int | None
    height: int | None
    orientation: int | None
    captured_at: datetime | None
    camera_make: str | None
    camera_model: str | None
    lens: str | None
    focal_length: float | None
    aperture: float | None
    shutter: float | None
    iso: int | None
    gps_lat: float | None
    gps_lon: float | None
    gps_alt: float | None
    phash: str | None
    status: str
    error: str | None
    flag: int
    rating: int
    color_label: str | None
    score: float | None = None
    score_model: str | None = None
    # Where each decision came from: "app", "sidecar" or "file" (models.SOURCE_*); None: not recorded.
    flag_source: str | None = None
    rating_source: str | None = None
    label_source: str | None = None


@dataclass(frozen=True)
class AttributeRecord:
    """One attribute of one assessment; ``model`` is the one that wrote the critique, else the assessment's."""

    attribute: str
    score: float | None
    critique: str | None
    experimental: bool
    model: str


@dataclass(frozen=True)
class MeasureRecord:
    name: str
    value: float
    unit: str
    higher_is_better: bool | None
    note: str | None


@dataclass(frozen=True)
class AssessmentRecord:
    """One model's current assessment of a photo, with its attributes and measures."""

    photo_id: int
    model: str
    model_version: str
    score: float | None
    error: str | None
    created_at: datetime
    attributes: tuple[AttributeRecord, ...]
    measures: tuple[MeasureRecord, ...]
