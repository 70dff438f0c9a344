"""Writing assessments and critiques into the catalog.

A (photo, model, model version) has one assessment row; the newest version of a model for a photo is the
``current`` one. Re-scoring the same content keeps the critiques already written for it (they cost far more than
a score); a change of content drops them, since they describe other pixels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from artimuse_desktop.catalog.models import Assessment, AttributeScore, MeasureValue
from artimuse_desktop.scoring.types import PhotoInput, ScoreResult


def _current_or_new(session: Session, item: PhotoInput, model: str, version: str) -> tuple[Assessment, bool]:
    """The assessment row for (photo, model, version), created if needed; True if its content still matches."""
    assessment = session.execute(
        select(Assessment).where(
            Assessment.photo_id == item.photo_id,
            Assessment.model == model,
            Assessment.model_version == version,
        )
    ).scalar_one_or_none()
    same_content = assessment is not None and assessment.fingerprint == item.fingerprint
    # Older versions of this model stop being the one shown.
    session.execute(
        update(Assessment)
        .where(
            Assessment.photo_id == item.photo_id,
            Assessment.model == model,
            Assessment.model_version != version,
        )
        .values(current=False)
    )
    if assessment is None:
        assessment = Assessment(
            photo_id=item.photo_id,
            model=model,
            model_version=version,
            created_at=datetime.now(),
            current=True,
        )
        session.add(assessment)
    return assessment, same_content


def save_results(
    session: Session, model: str, version: str, items: Sequence[PhotoInput], results: Sequence[ScoreResult]
) -> None:
    """Store one batch (the caller's transaction makes it all-or-nothing)."""
    now = datetime.now()
    for item, result in zip(items, results, strict=True):
        assessment, same_content = _current_or_new(session, item, model, version)
        kept_critiques: dict[str, AttributeScore] = {}
        if same_content:
            kept_critiques = {a.attribute: a for a in assessment.attributes if a.critique}
        assessment.attributes.clear()
        assessment.measures.clear()
        session.flush()
        assessment.fingerprint = item.fingerprint
        assessment.score = None if result.error else result.score
        assessment.error = result.error
        assessment.created_at = now
        assessment.current = True
        if result.error:
            continue
        seen: set[str] = set()
        for attribute in result.attributes:
            kept = kept_critiques.get(attribute.attribute)
            critique = attribute.critique or (kept.critique if kept else None)
            assessment.attributes.append(
                AttributeScore(
                    attribute=attribute.attribute,
                    score=attribute.score,
                    critique=critique,
                    experimental=attribute.experimental,
                    critique_model=model if attribute.critique else (kept.critique_model if kept else None),
                    critique_at=now if attribute.critique else (kept.critique_at if kept else None),
                )
            )
            seen.add(attribute.attribute)
        for name, kept in kept_critiques.items():
            if name not in seen:
                assessment.attributes.append(
                    AttributeScore(
                        attribute=name,
                        score=None,
                        critique=kept.critique,
                        experimental=False,
                        critique_model=kept.critique_model,
                        critique_at=kept.critique_at,
                    )
                )
        for measure in result.measures:
            assessment.measures.append(
                MeasureValue(
                    name=measure.name,
                    value=float(measure.value),
                    unit=measure.unit,
                    higher_is_better=measure.higher_is_better,
                    note=measure.note,
                )
            )


def save_critiques(session: Session, item: PhotoInput, model: str, version: str, critiques: Mapping[str, str]) -> None:
    """Attach critique texts to the photo's assessment by this model (which must exist: score first)."""
    assessment = session.execute(
        select(Assessment).where(
            Assessment.photo_id == item.photo_id,
            Assessment.model == model,
            Assessment.model_version == version,
        )
    ).scalar_one()
    now = datetime.now()
    by_name = {a.attribute: a for a in assessment.attributes}
    for attribute, text in critiques.items():
        row = by_name.get(attribute)
        if row is None:
            row = AttributeScore(attribute=attribute, score=None, experimental=False)
            assessment.attributes.append(row)
        row.critique = text
        row.critique_model = model
        row.critique_at = now
