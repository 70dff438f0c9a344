"""What the library holds, summed up for the filter bar, the folder tree and the menus: the score distribution
(histogram, values, the "Top 10 %" threshold) and the names a filter or sort can use (measures, models,
attributes, model versions, folders). Each is one SQL question; nothing per photo crosses into Python.
"""

from __future__ import annotations

from sqlalchemy import Integer, case, cast, func, select, text
from sqlalchemy.orm import Session

from artimuse_desktop.catalog.filters import PhotoFilter, filtered_select
from artimuse_desktop.catalog.models import STATUS_TRASHED, Assessment, MeasureValue, Photo
from artimuse_desktop.catalog.queries import get_score_model


def score_values(session: Session, flt: PhotoFilter | None = None, *, score_model: str | None = None) -> list[float]:
    """All scores under a filter: for the filter bar's histogram and percentile collections."""
    flt = flt or PhotoFilter()
    chosen = get_score_model(session)
    model = score_model or chosen
    stmt, score, params = filtered_select(flt, model, join_score=True, cached=model == chosen)
    stmt = stmt.with_only_columns(score).where(score.is_not(None))
    return [float(row[0]) for row in session.execute(stmt, params)]


def score_histogram(
    session: Session, flt: PhotoFilter | None = None, *, score_model: str | None = None, bins: int = 50
) -> list[int]:
    """Scores under a filter binned over 0-100 (``bins`` equal bins, out-of-range values in the end bins), by
    the database: no score crosses into Python (300,000 of them cost more to fetch than to count)."""
    flt = flt or PhotoFilter()
    chosen = get_score_model(session)
    model = score_model or chosen
    stmt, score, params = filtered_select(flt, model, join_score=True, cached=model == chosen)
    width = 100.0 / bins
    scaled = score / width
    floor = func.floor(scaled) if session.get_bind().dialect.name != "sqlite" else scaled  # SQLite: CAST truncates
    raw = cast(floor, Integer)
    binned = case((score >= 100.0, bins - 1), (score <= 0.0, 0), else_=raw).label("bin")
    stmt = stmt.with_only_columns(binned, func.count()).where(score.is_not(None)).group_by(binned)
    counts = [0] * bins
    for position, number in session.execute(stmt, params):
        counts[min(bins - 1, max(0, int(position)))] += int(number)
    return counts


def score_percentile(session: Session, fraction: float, *, score_model: str | None = None) -> float | None:
    """The score above which the top ``fraction`` of scored photos lie (e.g. 0.1 for "Top 10 %"): a count and
    one row at an offset of the score index, not 300,000 scores sorted in Python (the view's head, its pages
    and its histogram each ask it)."""
    chosen = get_score_model(session)
    model = score_model or chosen
    stmt, score, params = filtered_select(PhotoFilter(), model, join_score=True, cached=model == chosen)
    scored = stmt.where(score.is_not(None))
    total = int(session.execute(select(func.count()).select_from(scored.subquery()), params).scalar_one())
    if not total:
        return None
    count = max(1, round(total * fraction))
    found = session.execute(scored.with_only_columns(score).order_by(score.desc()).offset(count - 1).limit(1), params)
    value = found.scalar()
    return float(value) if value is not None else None


def measure_names(session: Session) -> list[str]:
    return list(session.execute(select(MeasureValue.name).distinct().order_by(MeasureValue.name)).scalars())


def model_names(session: Session) -> list[str]:
    return list(session.execute(select(Assessment.model).distinct().order_by(Assessment.model)).scalars())


def attribute_names(session: Session) -> list[str]:
    """The attributes some current assessment gives a score (what a sort by attribute can order by): the
    ``attr:`` keys of ``sort_values``, which holds a row exactly where one does (migration 0005), found by
    hopping from key to key along its index (microseconds; reading 1.8 million scores took 2 s)."""
    keys = text(
        'WITH RECURSIVE k(name) AS (SELECT min("key") FROM sort_values WHERE "key" > :start '
        'UNION ALL SELECT (SELECT min("key") FROM sort_values WHERE "key" > k.name) FROM k WHERE k.name IS NOT NULL) '
        "SELECT substr(name, 6) FROM k WHERE name LIKE 'attr:%' ORDER BY 1"
    )
    return [str(name) for (name,) in session.execute(keys, {"start": "attr:"})]


def model_versions(session: Session) -> dict[str, list[str]]:
    """Each model's versions among the current assessments (usually one; two while a rescore is under way).

    Read by hops along the index on (current, model, model_version) (migration 0007): the next model after the
    last, then each next version of it, one index seek each. A DISTINCT read every current assessment (0.6 s
    at 300,000 photos); so did a hop to the next (model, version) pair, which SQLite seeks by model only."""
    current = Assessment.current.is_(True)
    versions: dict[str, list[str]] = {}
    model: str | None = None
    while True:
        after_model = [Assessment.model > model] if model is not None else []
        model = session.execute(
            select(Assessment.model).where(current, *after_model).order_by(Assessment.model).limit(1)
        ).scalar()
        if model is None:
            return versions
        version: str | None = None
        while True:
            after_version = [Assessment.model_version > version] if version is not None else []
            version = session.execute(
                select(Assessment.model_version)
                .where(current, Assessment.model == model, *after_version)
                .order_by(Assessment.model_version)
                .limit(1)
            ).scalar()
            if version is None:
                break
            versions.setdefault(model, []).append(version)


def folder_counts(session: Session) -> list[tuple[str, int]]:
    """(folder, number of photos directly in it), for the GUI's folder tree."""
    stmt = (
        select(Photo.folder, func.count())
        .where(Photo.status != STATUS_TRASHED)
        .group_by(Photo.folder)
        .order_by(Photo.folder)
    )
    return [(folder, int(count)) for folder, count in session.execute(stmt)]
