"""Reading the catalog: photo ids in display order, records, assessments, counts and the score model setting.

"Score" is the current assessment of the catalog's chosen score model (``photos.score`` caches it); what a
``PhotoFilter`` and ``SortSpec`` mean in SQL lives in ``filters``, the records handed out in ``records``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from artimuse_desktop.catalog.filters import PhotoFilter, SortSpec, filtered_select, order_by
from artimuse_desktop.catalog.models import (
    STATUS_TRASHED,
    Assessment,
    AttributeScore,
    CatalogSetting,
    MeasureValue,
    Photo,
)
from artimuse_desktop.catalog.records import AssessmentRecord, AttributeRecord, MeasureRecord, PhotoRecord
from artimuse_desktop.catalog.root_locations import RootMap, root_map

DEFAULT_SCORE_MODEL = "technical"
SCORE_MODEL_KEY = "score_model"


# --------------------------------------------------------------------------- score model setting


def get_score_model(session: Session) -> str:
    value = session.get(CatalogSetting, SCORE_MODEL_KEY)
    return value.value if value is not None and value.value else DEFAULT_SCORE_MODEL


def set_score_model(session: Session, model: str) -> None:
    setting = session.get(CatalogSetting, SCORE_MODEL_KEY)
    if setting is None:
        session.add(CatalogSetting(key=SCORE_MODEL_KEY, value=model))
    else:
        setting.value = model


# --------------------------------------------------------------------------- public queries


def photo_ids(
    session: Session,
    flt: PhotoFilter | None = None,
    sort: SortSpec | None = None,
    *,
    score_model: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[int]:
    """Ids in display order: the GUI keeps this list and fetches records for the visible rows only."""
    flt = flt or PhotoFilter()
    sort = sort or SortSpec()
    chosen = get_score_model(session)
    model = score_model or chosen
    stmt, score, params = filtered_select(flt, model, join_score=sort.key == "score", cached=model == chosen)
    stmt = stmt.order_by(*order_by(sort, score, model)).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    # Integer ids need no result processing: read them straight off the DBAPI cursor (a 100,000-id list
    # costs a quarter less than through Row objects).
    result = session.connection().execute(stmt, params)
    try:
        return [row[0] for row in result.cursor.fetchall()]
    finally:
        result.close()


def count_photos(session: Session, flt: PhotoFilter | None = None, *, score_model: str | None = None) -> int:
    flt = flt or PhotoFilter()
    chosen = get_score_model(session)
    model = score_model or chosen
    stmt, _, params = filtered_select(flt, model, cached=model == chosen)
    return int(session.execute(select(func.count()).select_from(stmt.subquery()), params).scalar_one())


def _record(photo: Photo, score: float | None, model: str | None, places: RootMap) -> PhotoRecord:
    """A record whose path and folder are where this computer finds them (``catalog.root_locations``)."""
    return PhotoRecord(
        id=photo.id,
        path=places.to_local(photo.path),
        folder=places.to_local(photo.folder),
        filename=photo.filename,
        size=photo.size,
        mtime=photo.mtime,
        fingerprint=photo.fingerprint,
        format=photo.format,
        width=photo.width,
        height=photo.height,
        orientation=photo.orientation,
        captured_at=photo.captured_at,
        camera_make=photo.camera_make,
        camera_model=photo.camera_model,
        lens=photo.lens,
        focal_length=photo.focal_length,
        aperture=photo.aperture,
        shutter=photo.shutter,
        iso=photo.iso,
        gps_lat=photo.gps_lat,
        gps_lon=photo.gps_lon,
        gps_alt=photo.gps_alt,
        phash=photo.phash,
        status=photo.status,
        error=photo.error,
        flag=photo.flag,
        rating=photo.rating,
        color_label=photo.color_label,
        score=score,
        score_model=model if score is not None else None,
        flag_source=photo.flag_source,
        rating_source=photo.rating_source,
        label_source=photo.label_source,
    )


def records_by_ids(session: Session, ids: Sequence[int], *, score_model: str | None = None) -> list[PhotoRecord]:
    """Records for the given ids, in the given order (missing ids are skipped)."""
    if not ids:
        return []
    model = score_model or get_score_model(session)
    places = root_map(session)
    rows: dict[int, PhotoRecord] = {}
    for start in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
        chunk = list(ids[start : start + 900])
        stmt = (
            select(Photo, Assessment.score)
            .outerjoin(
                Assessment,
                and_(Assessment.photo_id == Photo.id, Assessment.model == model, Assessment.current.is_(True)),
            )
            .where(Photo.id.in_(chunk))
        )
        for photo, score in session.execute(stmt):
            rows[photo.id] = _record(photo, score, model, places)
    return [rows[i] for i in ids if i in rows]


def query_photos(
    session: Session,
    flt: PhotoFilter | None = None,
    sort: SortSpec | None = None,
    *,
    score_model: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[PhotoRecord]:
    model = score_model or get_score_model(session)
    ids = photo_ids(session, flt, sort, score_model=model, limit=limit, offset=offset)
    return records_by_ids(session, ids, score_model=model)


def get_photo(session: Session, photo_id: int, *, score_model: str | None = None) -> PhotoRecord | None:
    records = records_by_ids(session, [photo_id], score_model=score_model)
    return records[0] if records else None


def photo_id_for_path(session: Session, path: str) -> int | None:
    """The photo at ``path`` as this computer sees it (a mapped root's local path counts)."""
    stored = root_map(session).to_stored(os.path.abspath(path))
    return session.execute(select(Photo.id).where(Photo.path == stored)).scalar_one_or_none()


def assessments_for(session: Session, photo_id: int) -> list[AssessmentRecord]:
    """Every current assessment of a photo, one per model, with attributes and measures."""
    stmt = select(Assessment).where(Assessment.photo_id == photo_id, Assessment.current.is_(True))
    result: list[AssessmentRecord] = []
    for assessment in session.execute(stmt).scalars():
        result.append(
            AssessmentRecord(
                photo_id=assessment.photo_id,
                model=assessment.model,
                model_version=assessment.model_version,
                score=assessment.score,
                error=assessment.error,
                created_at=assessment.created_at,
                attributes=tuple(
                    AttributeRecord(
                        a.attribute, a.score, a.critique, a.experimental, a.critique_model or assessment.model
                    )
                    for a in assessment.attributes
                ),
                measures=tuple(
                    MeasureRecord(m.name, m.value, m.unit, m.higher_is_better, m.note) for m in assessment.measures
                ),
            )
        )
    return result


def score_values(session: Session, flt: PhotoFilter | None = None, *, score_model: str | None = None) -> list[float]:
    """All scores under a filter: for the filter bar's histogram and percentile collections."""
    flt = flt or PhotoFilter()
    chosen = get_score_model(session)
    model = score_model or chosen
    stmt, score, params = filtered_select(flt, model, join_score=True, cached=model == chosen)
    stmt = stmt.with_only_columns(score).where(score.is_not(None))
    return [float(row[0]) for row in session.execute(stmt, params)]


def score_percentile(session: Session, fraction: float, *, score_model: str | None = None) -> float | None:
    """The score above which the top ``fraction`` of scored photos lie (e.g. 0.1 for "Top 10 %")."""
    values = sorted(score_values(session, score_model=score_model), reverse=True)
    if not values:
        return None
    count = max(1, round(len(values) * fraction))
    return values[count - 1]


def measure_names(session: Session) -> list[str]:
    return list(session.execute(select(MeasureValue.name).distinct().order_by(MeasureValue.name)).scalars())


def model_names(session: Session) -> list[str]:
    return list(session.execute(select(Assessment.model).distinct().order_by(Assessment.model)).scalars())


def attribute_names(session: Session) -> list[str]:
    """The attributes some current assessment gives a score (what a sort by attribute can order by)."""
    stmt = (
        select(AttributeScore.attribute)
        .join(Assessment, AttributeScore.assessment_id == Assessment.id)
        .where(Assessment.current.is_(True), AttributeScore.score.is_not(None))
        .distinct()
        .order_by(AttributeScore.attribute)
    )
    return list(session.execute(stmt).scalars())


def model_versions(session: Session) -> dict[str, list[str]]:
    """Each model's versions among the current assessments (usually one; two while a rescore is under way)."""
    stmt = (
        select(Assessment.model, Assessment.model_version)
        .where(Assessment.current.is_(True))
        .distinct()
        .order_by(Assessment.model, Assessment.model_version)
    )
    versions: dict[str, list[str]] = {}
    for model, version in session.execute(stmt):
        versions.setdefault(model, []).append(version)
    return versions


def folder_counts(session: Session) -> list[tuple[str, int]]:
    """(folder, number of photos directly in it), for the GUI's folder tree."""
    stmt = (
        select(Photo.folder, func.count())
        .where(Photo.status != STATUS_TRASHED)
        .group_by(Photo.folder)
        .order_by(Photo.folder)
    )
    return [(folder, int(count)) for folder, count in session.execute(stmt)]
