"""What the export reports say about each exported photo, read from the catalog once as plain rows.

Attribute values follow ``catalog.shown_values`` (score model first, then the others by model name), the same
rule the side panel, sidecars and the catalog's sorts use; measures come from the ``technical`` model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.queries import assessments_for, get_score_model
from artimuse_desktop.catalog.records import AssessmentRecord
from artimuse_desktop.catalog.shown_values import AttributeValue, attribute_values, technical_measures
from artimuse_desktop.export.naming import camera_name
from artimuse_desktop.export.plan import RAW_EXTENSIONS, ROLE_PAIR, PlanItem
from artimuse_desktop.vocabulary import Flag, flag_word


@dataclass(frozen=True)
class MeasureCell:
    value: float
    unit: str
    higher_is_better: bool | None


@dataclass(frozen=True)
class ReportRow:
    """Everything the reports show about one exported photo, as plain data."""

    rank: int
    photo_id: int
    exported_name: str  # relative to DEST, with forward slashes
    companions: tuple[str, ...]
    source_path: str
    score: float | None
    score_model: str | None
    ranked_by: float | None
    flag: int
    rating: int
    label: str | None
    captured_at: datetime | None
    camera: str | None
    lens: str | None
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    measures: dict[str, MeasureCell] = field(default_factory=dict)
    thumbnail_source: str | None = None


def _measures(assessments: Sequence[AssessmentRecord]) -> dict[str, MeasureCell]:
    return {m.name: MeasureCell(m.value, m.unit, m.higher_is_better) for m in technical_measures(assessments)}


def build_rows(
    catalog: Catalog, items: Iterable[PlanItem], dest: Path, *, score_model: str | None = None
) -> list[ReportRow]:
    """Report rows for the exported items, with their assessments read in one session."""
    rows: list[ReportRow] = []
    with catalog.read() as session:
        model = score_model or get_score_model(session)
        for item in items:
            record = item.photo.record
            assessments = assessments_for(session, record.id)
            thumb = str(item.source)
            if item.source.suffix.lower() in RAW_EXTENSIONS:
                partners = [c.source for c in item.companions if c.role == ROLE_PAIR]
                thumb = str(partners[0]) if partners else thumb
            rows.append(
                ReportRow(
                    rank=item.photo.rank,
                    photo_id=record.id,
                    exported_name=item.destination.relative_to(dest).as_posix(),
                    companions=tuple(c.destination.relative_to(dest).as_posix() for c in item.companions),
                    source_path=record.path,
                    score=record.score,
                    score_model=record.score_model,
                    ranked_by=item.photo.key_value,
                    flag=record.flag,
                    rating=record.rating,
                    label=record.color_label,
                    captured_at=record.captured_at,
                    camera=camera_name(record.camera_make, record.camera_model),
                    lens=record.lens,
                    attributes=attribute_values(assessments, model),
                    measures=_measures(assessments),
                    thumbnail_source=thumb,
                )
            )
    return rows


def flag_text(flag: int | None) -> str:
    """ "pick" or "reject" in reports; an unflagged photo shows nothing."""
    return "" if (flag or 0) == Flag.NONE else flag_word(flag)
