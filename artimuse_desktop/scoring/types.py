"""The app's assessment vocabulary, ArtiMuse's: a holistic score 0–100 and eight named attributes.

Absent values are ``None`` and stay absent all the way to the screen: an attribute a model did not score is never
shown (or sorted) as 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Measure:
    """A technical measurement, with its unit and which direction is better (None: neither, e.g. colour cast)."""

    name: str
    value: float
    unit: str
    higher_is_better: bool | None = None
    note: str | None = None


@dataclass(frozen=True)
class AttributeResult:
    attribute: str
    score: float | None = None
    critique: str | None = None
    experimental: bool = False


@dataclass
class ScoreResult:
    """What a backend returns for one photo. ``error`` set means this photo failed (recorded, run goes on)."""

    score: float | None = None
    attributes: list[AttributeResult] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class PhotoInput:
    """Plain data about one photo handed to a backend; never an ORM object (they do not cross threads)."""

    photo_id: int
    path: str
    fingerprint: str
    orientation: int | None = None
    preview_path: str | None = None
    width: int | None = None
    height: int | None = None
