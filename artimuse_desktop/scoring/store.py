"""Writing assessments and critiques into the catalog.

A (photo, model, model version) has one assessment row; the newest version of a model for a photo is the
``current`` one. Re-scoring the same content keeps the critiques already written for it (they cost far more than
a score); a change of content drops them, since they describe other pixels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from artimuse_desktop.catalog.models import Assessment, AttributeScore, MeasureValue
from artimuse_desktop.scoring.types import PhotoInput, ScoreResult


def save_results(
    session: Session, model: str, version: str, items: Sequence[PhotoInput], results: Sequence[ScoreResult]
) -> None:
    """Store one batch with a handful of bulk statements (the caller's transaction makes it all-or-nothing).

    Bulk Core statements rather than ORM objects: the catalog write must not become the pipeline's bottleneck.
    """
    if not items:
        return
    now = datetime.now()
    photo_ids = [item.photo_id for item in items]
    # Older versions of this model stop being the one shown.
    session.execute(
        update(Assessment)
        .where(Assessment.photo_id.in_(photo_ids), Assessment.model == model, Assessment.model_version != version)
        .values(current=False)
        .execution_options(synchronize_session=False)
    )
    existing: dict[int, tuple[int, str | None]] = {
        photo_id: (assessment_id, fingerprint)
        for assessment_id, photo_id, fingerprint in session.execute(
            select(Assessment.id, Assessment.photo_id, Assessment.fingerprint).where(
                Assessment.photo_id.in_(photo_ids), Assessment.model == model, Assessment.model_version == version
            )
        )
    }
    fingerprints = {item.photo_id: item.fingerprint for item in items}
    same_content = [aid for pid, (aid, fp) in existing.items() if fp == fingerprints[pid]]
    kept: dict[int, dict[str, tuple[str, str | None, datetime | None]]] = {}
    if same_content:
        for aid, name, text, by_model, written_at in session.execute(
            select(
                AttributeScore.assessment_id,
                AttributeScore.attribute,
                AttributeScore.critique,
                AttributeScore.critique_model,
                AttributeScore.critique_at,
            ).where(AttributeScore.assessment_id.in_(same_content), AttributeScore.critique.is_not(None))
        ):
            if text is not None:
                kept.setdefault(aid, {})[name] = (text, by_model, written_at)
    existing_ids = [aid for aid, _ in existing.values()]
    if existing_ids:
        session.execute(delete(AttributeScore).where(AttributeScore.assessment_id.in_(existing_ids)))
        session.execute(delete(MeasureValue).where(MeasureValue.assessment_id.in_(existing_ids)))

    def fields(item: PhotoInput, result: ScoreResult) -> dict[str, object]:
        return {
            "fingerprint": item.fingerprint,
            "score": None if result.error else result.score,
            "error": result.error,
            "created_at": now,
            "current": True,
        }

    updates = [
        {"id": existing[item.photo_id][0], **fields(item, result)}
        for item, result in zip(items, results, strict=True)
        if item.photo_id in existing
    ]
    if updates:
        session.execute(update(Assessment), updates)
    inserts = [
        {"photo_id": item.photo_id, "model": model, "model_version": version, **fields(item, result)}
        for item, result in zip(items, results, strict=True)
        if item.photo_id not in existing
    ]
    assessment_ids = {pid: aid for pid, (aid, _) in existing.items()}
    if inserts:
        for aid, pid in session.execute(insert(Assessment).returning(Assessment.id, Assessment.photo_id), inserts):
            assessment_ids[pid] = aid

    attribute_rows: list[dict[str, object]] = []
    measure_rows: list[dict[str, object]] = []
    for item, result in zip(items, results, strict=True):
        aid = assessment_ids[item.photo_id]
        critiques = dict(kept.get(aid, {}))
        if not result.error:
            for attribute in result.attributes:
                old = critiques.pop(attribute.attribute, None)
                critique: str | None = None
                critique_model: str | None = None
                critique_at: datetime | None = None
                if attribute.critique:
                    critique, critique_model, critique_at = attribute.critique, model, now
                elif old:
                    critique, critique_model, critique_at = old
                attribute_rows.append(
                    {
                        "assessment_id": aid,
                        "attribute": attribute.attribute,
                        "score": attribute.score,
                        "critique": critique,
                        "experimental": attribute.experimental,
                        "critique_model": critique_model,
                        "critique_at": critique_at,
                    }
                )
            measure_rows.extend(
                {
                    "assessment_id": aid,
                    "name": m.name,
                    "value": float(m.value),
                    "unit": m.unit,
                    "higher_is_better": m.higher_is_better,
                    "note": m.note,
                }
                for m in result.measures
            )
        # Critiques of the same pixels outlive a re-score, even one that failed.
        attribute_rows.extend(
            {
                "assessment_id": aid,
                "attribute": name,
                "score": None,
                "critique": critique,
                "experimental": False,
                "critique_model": critique_model,
                "critique_at": critique_at,
            }
            for name, (critique, critique_model, critique_at) in critiques.items()
        )
    if attribute_rows:
        session.execute(insert(AttributeScore), attribute_rows)
    if measure_rows:
        session.execute(insert(MeasureValue), measure_rows)


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
