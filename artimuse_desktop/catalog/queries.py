"""Reading the catalog: photo ids in display order, records, assessments, counts and the score model setting.

"Score" is the current assessment of the catalog's chosen score model (``photos.score`` caches it); what a
``PhotoFilter`` and ``SortSpec`` mean in SQL lives in ``filters``, the records handed out in ``records``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from artimuse_desktop.catalog.filters import (
    PhotoFilter,
    SortSpec,
    filtered_select,
    only_live,
    ordered_selects,
    sorted_by_value,
    value_bound,
    value_order,
    value_walk,
)
from artimuse_desktop.catalog.models import (
    Assessment,
    CatalogSetting,
    Photo,
)
from artimuse_desktop.catalog.record_rows import read_records
from artimuse_desktop.catalog.records import AssessmentRecord, AttributeRecord, MeasureRecord, PhotoRecord
from artimuse_desktop.catalog.root_locations import root_map

DEFAULT_SCORE_MODEL = "technical"
SCORE_MODEL_KEY = "score_model"
#: A sort by an attribute or measure under a filter: the first rows walk at most this many index entries (a
#: few milliseconds) before the filter's photos are read as a set instead (a filter that keeps few photos).
VALUE_WALK_MOST = 16384
#: ... and the whole list reads the filter's photos as a set and sorts them below this many, above it every
#: photo with a value in order less those the filter drops (a 240,000-id index walk, no sort).
VALUE_SET_MOST = 20000
#: One photo of a set (look-up, sort) costs about what this many entries of a walk do (measured at 300,000).
WALK_PER_SET = 2
#: A page read by offset before the whole list came walks about this many entries at most (50-100 ms).
VALUE_PAGE_MOST = 32768


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
    counts: tuple[int, int] | None = None,
) -> list[int]:
    """Ids in display order: the GUI keeps this list and fetches records for the visible rows only.

    ``counts``: (photos the filter keeps, photos in the catalog) when the caller counted them: how the first
    rows of an attribute or measure sort under a filter are best read (``_walk_values``)."""
    if limit is None and offset == 0:
        ids: list[int] = photo_id_array(session, flt, sort, score_model=score_model).tolist()
        return ids
    statements = _ordered(session, flt, sort, score_model)
    found: list[int] = []
    skip = offset
    walked = _walk_values(session, flt, sort, score_model, offset + limit, counts) if limit is not None else None
    if walked is not None:  # the photos with a value: all of them, or the first offset + limit
        found, skip, statements = walked[offset:], max(0, offset - len(walked)), statements[1:]
    for part in statements:
        if limit is not None and len(found) >= limit:
            break
        stmt = part.offset(skip) if skip else part
        if limit is not None:
            stmt = stmt.limit(limit - len(found))
        rows = _limited_ids(session, stmt)
        if skip:  # rows left: the offset ended in this part; none: it passed over all of it
            skip = 0 if rows else max(0, skip - _count(session, part))
        found += rows
    return found


def photo_id_array(
    session: Session,
    flt: PhotoFilter | None = None,
    sort: SortSpec | None = None,
    *,
    score_model: str | None = None,
    set_most: int | None = None,
) -> Any:
    """Every id of ``photo_ids`` as an int64 numpy array (the grid's 300,000 ids without 300,000 Python rows).
    ``set_most``: instead of ``VALUE_SET_MOST``, how many photos an attribute or measure sort under a filter
    reads as a set and sorts (more: every photo with a value in order, less those the filter drops)."""
    import numpy as np

    flt, sort = flt or PhotoFilter(), sort or SortSpec()
    chosen = get_score_model(session)
    model = score_model or chosen
    statements = ordered_selects(flt, sort, model, cached=model == chosen)
    if sorted_by_value(flt, sort, cached=model == chosen):
        # Those without a value, in id order: every kept id (read off an index in any order) less those
        # with one, by numpy, instead of a probe into sort_values for each of 300,000 photos.
        kept, _, _ = filtered_select(flt, model, cached=model == chosen)
        kept_ids = _all_ids(session, kept)
        if only_live(kept) or len(kept_ids) < (VALUE_SET_MOST if set_most is None else set_most):
            present = _all_ids(session, statements[0])
        else:  # every photo with a value in order, less those the filter drops: no 100,000-row sort
            ordered = _all_ids(session, value_order(sort))
            present = ordered[np.isin(ordered, kept_ids, assume_unique=True)]
        absent = np.sort(np.setdiff1d(kept_ids, present, assume_unique=True))  # unsorted so far
        return np.concatenate([present, absent.astype(np.int64, copy=False)])
    parts = [_all_ids(session, part) for part in statements]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def walks_values(session: Session, flt: PhotoFilter | None, sort: SortSpec | None, score_model: str | None) -> bool:
    """The first rows of this view may walk the sort's index checking the filter photo by photo
    (``filters.value_walk``); whether that pays depends on how many photos the filter keeps (``counts``)."""
    flt, sort = flt or PhotoFilter(), sort or SortSpec()
    chosen = get_score_model(session)
    model = score_model or chosen
    if not sorted_by_value(flt, sort, cached=model == chosen):
        return False
    kept, _, _ = filtered_select(flt, model, cached=model == chosen)
    return not only_live(kept)  # the grid's default already walks the index (less the few trashed)


def _walk_values(
    session: Session,
    flt: PhotoFilter | None,
    sort: SortSpec | None,
    score_model: str | None,
    rows: int,
    counts: tuple[int, int] | None,
) -> list[int] | None:
    """The first ``rows`` photos with a value of a ``sort_values`` sort under a filter, by a walk of the key's
    index checking the filter photo by photo: fewer than ``rows`` when there are no more; None when a set of
    the filter's photos, sorted, is cheaper (the caller reads that).

    ``counts`` (photos the filter keeps, photos in the catalog) tells what the walk costs: it reads about
    ``rows * catalog / kept`` entries, the set costs ``kept`` look-ups and a sort of them. The walk is bounded
    to four times that (or ``VALUE_WALK_MOST`` entries without ``counts``), so a filter whose photos all sort
    last costs the bound and then the set, never a walk of every entry."""
    if not walks_values(session, flt, sort, score_model):
        return None
    flt, sort = flt or PhotoFilter(), sort or SortSpec()
    chosen = get_score_model(session)
    model = score_model or chosen
    entries = max(VALUE_WALK_MOST, 4 * rows)
    if counts is not None:
        kept_count, everyone = counts
        if not _walk_pays(rows, kept_count, everyone):
            return None
        entries = 4 * (rows * everyone // max(kept_count, 1) + 1)
    kept, _, _ = filtered_select(flt, model, cached=model == chosen)
    row = session.execute(value_bound(sort, entries)).first()
    bound = (float(row[0]), int(row[1])) if row is not None else None
    found = _limited_ids(session, value_walk(kept, sort, bound).limit(rows))
    return found if len(found) >= rows or bound is None else None


def _walk_pays(rows: int, kept: int, everyone: int) -> bool:
    """Walking about ``rows * everyone / kept`` index entries costs less than looking up and sorting ``kept``."""
    return kept * kept * WALK_PER_SET >= rows * everyone


def page_reach(kept: int, everyone: int) -> int:
    """How many first rows of a view that ``walks_values`` (``kept`` rows of ``everyone`` photos) a page reads
    cheaply: a walk of at most ``VALUE_PAGE_MOST`` entries, or any row when the view is small enough to read
    as a set. A page deeper than that costs about what the whole list does."""
    if kept < VALUE_SET_MOST:
        return kept
    everyone = max(everyone, 1)
    return min(kept, VALUE_PAGE_MOST * kept // everyone, kept * kept * WALK_PER_SET // everyone)


def _ordered(session: Session, flt: PhotoFilter | None, sort: SortSpec | None, score_model: str | None) -> list[Any]:
    chosen = get_score_model(session)
    model = score_model or chosen
    return ordered_selects(flt or PhotoFilter(), sort or SortSpec(), model, cached=model == chosen)


def _fetch_ids(session: Session, stmt: Any) -> list[int]:
    # Integer ids need no result processing: read them straight off the DBAPI cursor.
    result = session.connection().execute(stmt)
    try:
        return [row[0] for row in result.cursor.fetchall()]
    finally:
        result.close()


def _limited_ids(session: Session, stmt: Any) -> list[int]:
    """The ids of a statement with its own LIMIT (the grid's first screens, an offset page). SQLite: one
    ``group_concat`` row, not a row per id: each row fetched hands the GIL back and forth, and with the GUI
    thread busy that cost 600 ids 0.45 s instead of 3 ms (the subquery's LIMIT keeps its ORDER BY)."""
    if session.get_bind().dialect.name != "sqlite":
        return _fetch_ids(session, stmt)
    inner = (stmt if stmt._limit_clause is not None else stmt.limit(-1)).subquery()
    joined = session.connection().execute(select(func.group_concat(next(iter(inner.c))))).scalar()
    return [int(part) for part in joined.split(",")] if joined else []


def _all_ids(session: Session, stmt: Any) -> Any:
    """All ids of one ordered statement as an int64 array. SQLite concatenates them into one text in C
    (2.5x faster than a row per id); ``LIMIT -1`` keeps the inner ORDER BY from being dropped or flattened."""
    import numpy as np

    if session.get_bind().dialect.name != "sqlite":
        return np.asarray(_fetch_ids(session, stmt), dtype=np.int64)
    inner = stmt.limit(-1).subquery()
    joined = session.connection().execute(select(func.group_concat(next(iter(inner.c))))).scalar()
    if not joined:
        return np.empty(0, dtype=np.int64)
    return np.fromstring(joined, dtype=np.int64, sep=",")


def _count(session: Session, stmt: Any) -> int:
    return int(session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one())


def count_photos(session: Session, flt: PhotoFilter | None = None, *, score_model: str | None = None) -> int:
    flt = flt or PhotoFilter()
    chosen = get_score_model(session)
    model = score_model or chosen
    stmt, _, params = filtered_select(flt, model, cached=model == chosen)
    return int(session.execute(select(func.count()).select_from(stmt.subquery()), params).scalar_one())


def records_by_ids(session: Session, ids: Sequence[int], *, score_model: str | None = None) -> list[PhotoRecord]:
    """Records for the given ids, in the given order (missing ids are skipped); raw SQL on the session's
    connection (``catalog.record_rows``: a page of 200 is read for every screen the grid paints)."""
    if not ids:
        return []
    return read_records(session, ids, score_model or get_score_model(session), root_map(session))


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
