"""Smart collections, collection filters, the grid's view query and the library stats: plain Python, no Qt.

The window asks these questions off the GUI thread and gets plain dataclasses back; the same functions serve any
other front end (a test, a script, the command line). Every function opens its own read session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.filters import PhotoFilter, SortSpec
from artimuse_desktop.catalog.interrupt import Interrupt
from artimuse_desktop.catalog.models import STATUS_ERROR, STATUS_MISSING, STATUS_OK
from artimuse_desktop.catalog.records import AssessmentRecord, PhotoRecord
from artimuse_desktop.vocabulary import Flag

ALL_STATUSES = frozenset({STATUS_OK, STATUS_ERROR, STATUS_MISSING})


@dataclass(frozen=True)
class SmartCollection:
    kind: str
    title: str
    tooltip: str


SMART_COLLECTIONS: tuple[SmartCollection, ...] = (
    SmartCollection("all", "All photos", "Every photo in the library"),
    SmartCollection("picks", "Picks", "Flagged as picks (P)"),
    SmartCollection("rejects", "Rejects", "Flagged as rejects (X)"),
    SmartCollection("unrated", "Unrated", "Not decided yet: no flag and no stars"),
    SmartCollection("top10", "Top 10 %", "The best-scored tenth of the scored photos"),
    SmartCollection("bursts", "Bursts", "Frames shot within seconds that look alike"),
    SmartCollection("closed_eyes", "Closed eyes", "Someone's eyes are closed (technical analyzer, faces)"),
    SmartCollection("soft_faces", "Soft faces", "A face is out of focus (technical analyzer, faces)"),
    SmartCollection("duplicates", "Duplicates", "One photo twice or more, in any folder: copies, exports, RAW+JPEG"),
    SmartCollection("missing", "Missing", "Files that were moved or deleted outside the app"),
    SmartCollection("errors", "Errors", "Files that could not be read or scored"),
)


def merge_filters(a: PhotoFilter, b: PhotoFilter) -> PhotoFilter:
    """Both filters at once (AND): sets intersect, lower bounds take the larger, upper the smaller."""

    def both_sets(x: Any, y: Any) -> Any:
        if x is None:
            return y
        if y is None:
            return x
        return set(x) & set(y)

    def bigger(x: Any, y: Any) -> Any:
        return y if x is None else x if y is None else max(x, y)

    def smaller(x: Any, y: Any) -> Any:
        return y if x is None else x if y is None else min(x, y)

    ids: Sequence[int] | None
    if a.ids is None:
        ids = b.ids
    elif b.ids is None:
        ids = a.ids
    else:
        keep = set(b.ids)
        ids = [i for i in a.ids if i in keep]
    merged = PhotoFilter(
        folder=a.folder or b.folder,
        recursive=a.recursive and b.recursive,
        flags=both_sets(a.flags, b.flags),
        min_rating=bigger(a.min_rating, b.min_rating),
        max_rating=smaller(a.max_rating, b.max_rating),
        color_labels=both_sets(a.color_labels, b.color_labels),
        camera=a.camera or b.camera,
        lens=a.lens or b.lens,
        date_from=bigger(a.date_from, b.date_from),
        date_to=smaller(a.date_to, b.date_to),
        statuses=both_sets(a.statuses, b.statuses),
        min_score=bigger(a.min_score, b.min_score),
        max_score=smaller(a.max_score, b.max_score),
        scored=a.scored if a.scored is not None else b.scored,
        attr_min={**a.attr_min, **b.attr_min},
        attr_max={**a.attr_max, **b.attr_max},
        measure_min={**a.measure_min, **b.measure_min},
        measure_max={**a.measure_max, **b.measure_max},
        search=" ".join(s for s in (a.search, b.search) if s) or None,
        ids=ids,
    )
    contradictory = any(
        chosen is not None and not chosen for chosen in (merged.flags, merged.color_labels, merged.statuses)
    )
    if contradictory:
        merged.ids = []  # e.g. picks AND rejects: nothing matches
    return merged


def collection_filter(
    session: Any, kind: str, value: object, burst_ids: Sequence[int], duplicate_ids: Sequence[int] = ()
) -> PhotoFilter:
    """The PhotoFilter of a smart collection or a folder, inside the caller's read session (bursts and
    duplicates are found by ``culling``, a floor above: their ids come in)."""
    from sqlalchemy import or_, select

    from artimuse_desktop.catalog.library_stats import score_percentile
    from artimuse_desktop.catalog.models import Assessment, Photo

    if kind == "picks":
        return PhotoFilter(flags={Flag.PICK})
    if kind == "rejects":
        return PhotoFilter(flags={Flag.REJECT})
    if kind == "unrated":
        return PhotoFilter(flags={Flag.NONE}, max_rating=0)
    if kind == "top10":
        threshold = score_percentile(session, 0.1)
        return PhotoFilter(min_score=threshold) if threshold is not None else PhotoFilter(ids=[])
    if kind == "bursts":
        return PhotoFilter(ids=list(burst_ids))
    if kind == "duplicates":
        return PhotoFilter(ids=list(duplicate_ids))
    if kind == "closed_eyes":  # measures of the technical analyzer's faces (scoring/technical/people.py)
        return PhotoFilter(measure_min={"eyes_closed": 1.0})
    if kind == "soft_faces":
        return PhotoFilter(measure_min={"soft_faces": 1.0})
    if kind == "missing":
        return PhotoFilter(statuses={STATUS_MISSING})
    if kind == "errors":
        failed = select(Assessment.photo_id).where(Assessment.current.is_(True), Assessment.error.is_not(None))
        ids = list(
            session.execute(select(Photo.id).where(or_(Photo.status == STATUS_ERROR, Photo.id.in_(failed)))).scalars()
        )
        return PhotoFilter(ids=ids, statuses=set(ALL_STATUSES))
    if kind == "folder" and value:
        return PhotoFilter(folder=str(value))
    return PhotoFilter()


@dataclass(frozen=True)
class ViewQuery:
    """What the grid shows: a collection (or folder), the filter bar's filter and sort, bursts collapsed or not."""

    kind: str
    value: object
    bar: PhotoFilter
    sort: SortSpec
    collapse: bool
    burst_ids: tuple[int, ...] = ()
    burst_rest: frozenset[int] = frozenset()
    duplicate_ids: tuple[int, ...] = ()


#: The score histogram's bars: 50 bins of 2 points over 0–100.
HISTOGRAM_BINS = 50
SCORE_LOW, SCORE_HIGH = 0.0, 100.0


def histogram_counts(values: Sequence[float], bins: int = HISTOGRAM_BINS) -> list[int]:
    """Scores binned over 0–100 (out-of-range values in the end bins), by numpy: 300,000 scores in ~2 ms."""
    import numpy as np

    array = np.asarray(values, dtype=np.float64)
    if not array.size:
        return [0] * bins
    counts, _ = np.histogram(np.clip(array, SCORE_LOW, SCORE_HIGH), bins=bins, range=(SCORE_LOW, SCORE_HIGH))
    binned: list[int] = counts.tolist()
    return binned


@dataclass(frozen=True)
class ViewResult:
    ids: Sequence[int]  # a list, or an int64 numpy array (``run_view_query(as_array=True)``)
    collection_total: int
    catalog_total: int
    histogram: list[int] | None  # HISTOGRAM_BINS counts; None when the caller did not ask for them
    score_model: str


@dataclass(frozen=True)
class Stats:
    """The counts beside the smart collections and folders, and the names the menus offer."""

    counts: dict[str, int]
    folders: list[tuple[str, int]]
    measures: list[str]
    models: list[str]
    score_model: str
    attributes: list[str] = field(default_factory=list)  # those some current assessment scores
    model_versions: dict[str, list[str]] = field(default_factory=dict)  # of the current assessments


@dataclass(frozen=True)
class PhotoDetails:
    """Everything the side panel shows about one photo."""

    record: PhotoRecord
    assessments: tuple[AssessmentRecord, ...]
    score_model: str


def run_view_query(
    catalog: Catalog,
    query: ViewQuery,
    *,
    histogram: bool = True,
    as_array: bool = False,
    counts: bool = True,
    interrupt: Interrupt | None = None,
) -> ViewResult:
    """The grid's ids and counts; with ``histogram``, the binned scores of the view ignoring its score range
    (a sort-only change passes False: the sort does not change the histogram). ``as_array``: the ids as the
    int64 numpy array they are read into (the grid keeps that), not a list. ``counts`` False: the totals are
    -1, not counted (the view's head counted them). ``interrupt``: may call it off (``CalledOff``)."""
    import numpy as np

    from artimuse_desktop.catalog.library_stats import score_histogram
    from artimuse_desktop.catalog.queries import count_photos, get_score_model, photo_id_array

    interrupt = interrupt or Interrupt()
    with catalog.read() as session, interrupt.watching(session):
        model = get_score_model(session)
        base = collection_filter(session, query.kind, query.value, query.burst_ids, query.duplicate_ids)
        flt = merge_filters(base, query.bar)
        interrupt.check()
        ids = photo_id_array(session, flt, query.sort, score_model=model)
        interrupt.check()
        if query.collapse and query.burst_rest:
            hidden = np.fromiter(query.burst_rest, dtype=np.int64, count=len(query.burst_rest))
            ids = ids[~np.isin(ids, hidden)]
        total = count_photos(session, base, score_model=model) if counts else -1
        everything = count_photos(session, PhotoFilter(), score_model=model) if counts else -1
        binned = None
        if histogram:
            without_score = replace(flt, min_score=None, max_score=None)
            binned = score_histogram(session, without_score, score_model=model, bins=HISTOGRAM_BINS)
    return ViewResult(ids if as_array else ids.tolist(), total, everything, binned, model)


@dataclass(frozen=True)
class ViewHead:
    """The first rows of a view and its counts: what the grid shows before the whole id list is read.

    ``complete``: ``ids`` is the whole view already (it has fewer rows than asked for)."""

    ids: Any  # int64 numpy array, the first ``limit`` ids in grid order
    count: int  # rows of the whole view
    collection_total: int
    catalog_total: int
    score_model: str
    page_reach: int | None = None  # rows a page by offset reads cheaply (``queries.page_reach``); None: all

    @property
    def complete(self) -> bool:
        return int(self.ids.shape[0]) >= self.count


def _view_filter(session: Any, query: ViewQuery) -> tuple[PhotoFilter, PhotoFilter]:
    base = collection_filter(session, query.kind, query.value, query.burst_ids, query.duplicate_ids)
    return base, merge_filters(base, query.bar)


def head_possible(query: ViewQuery) -> bool:
    """Collapsed bursts hide frames found by numpy over the whole list: such a view has no cheap first rows."""
    return not (query.collapse and query.burst_rest)


@dataclass(frozen=True)
class KnownCounts:
    """Counts a caller kept from an earlier answer while the data has not changed since (a sort change keeps
    every count, a filter change the collection's and the catalog's): ``run_view_head`` does not count them
    again (each is a walk of up to 300,000 index entries, 20-50 ms)."""

    count: int | None = None  # rows of the view
    collection_total: int | None = None
    catalog_total: int | None = None


def run_view_head(catalog: Catalog, query: ViewQuery, limit: int, known: KnownCounts | None = None) -> ViewHead:
    """The view's first ``limit`` ids (an index walk: milliseconds at 300,000 photos) and its counts, so the
    grid can show its first screens and size its scroll bar before the whole list is read.

    An attribute or measure sort under a filter counts first: how many photos the filter keeps tells whether
    the first rows are found by walking the sort's index or by sorting the filter's photos
    (``queries.photo_ids``)."""
    import numpy as np

    from artimuse_desktop.catalog.queries import count_photos, get_score_model, page_reach, photo_ids, walks_values

    known = known or KnownCounts()
    with catalog.read() as session:
        model = get_score_model(session)
        base, flt = _view_filter(session, query)
        counted: list[tuple[PhotoFilter, int]] = []  # (filter, rows): each counted once, the known ones never
        for given, which in ((known.collection_total, base), (known.catalog_total, PhotoFilter())):
            if given is not None:
                counted.append((which, given))

        def count(which: PhotoFilter) -> int:
            found = next((number for f, number in counted if f == which), None)
            if found is None:
                found = count_photos(session, which, score_model=model)
                counted.append((which, found))
            return found

        rows, counts, walking = known.count, None, walks_values(session, flt, query.sort, model)
        if rows is None and walking:
            rows = count(flt)
        if rows is not None:
            counts = (rows, count(PhotoFilter()))
        found = photo_ids(session, flt, query.sort, score_model=model, limit=limit, counts=counts)
        ids = np.asarray(found, dtype=np.int64)
        if rows is None:
            rows = int(ids.shape[0]) if ids.shape[0] < limit else count(flt)
        if base == flt:
            counted.append((base, rows))
        total, everything = count(base), count(PhotoFilter())
    return ViewHead(ids, rows, total, everything, model, page_reach(rows, everything) if walking else None)


def run_view_page(
    catalog: Catalog, query: ViewQuery, offset: int, limit: int, counts: tuple[int, int] | None = None
) -> list[int]:
    """``limit`` ids of the view from row ``offset`` on (rows the grid paints before the whole list came);
    ``counts``: (rows of the view, photos in the catalog) from its head, how to read them (``photo_ids``)."""
    from artimuse_desktop.catalog.queries import get_score_model, photo_ids

    with catalog.read() as session:
        model = get_score_model(session)
        _, flt = _view_filter(session, query)
        return photo_ids(session, flt, query.sort, score_model=model, limit=limit, offset=offset, counts=counts)


def run_view_histogram(catalog: Catalog, query: ViewQuery, interrupt: Interrupt | None = None) -> list[int]:
    """The binned scores of the view, ignoring its score range (the histogram shows what the range cuts)."""
    from artimuse_desktop.catalog.library_stats import score_histogram
    from artimuse_desktop.catalog.queries import get_score_model

    interrupt = interrupt or Interrupt()
    with catalog.read() as session, interrupt.watching(session):
        model = get_score_model(session)
        _, flt = _view_filter(session, query)
        interrupt.check()
        without_score = replace(flt, min_score=None, max_score=None)
        return score_histogram(session, without_score, score_model=model, bins=HISTOGRAM_BINS)


def run_stats(
    catalog: Catalog, burst_ids: Sequence[int], duplicate_ids: Sequence[int] = (), names: Stats | None = None
) -> Stats:
    """The collections' counts, and (unless ``names`` holds them from an earlier answer: decisions change
    counts, never folders or what was scored) the folders' counts and the names the menus offer."""
    from artimuse_desktop.catalog.library_stats import (
        attribute_names,
        folder_counts,
        measure_names,
        model_names,
        model_versions,
    )
    from artimuse_desktop.catalog.queries import count_photos, get_score_model

    with catalog.read() as session:
        model = get_score_model(session)
        counts: dict[str, int] = {}
        for collection in SMART_COLLECTIONS:
            if collection.kind in ("bursts", "duplicates"):
                counts[collection.kind] = len(burst_ids if collection.kind == "bursts" else duplicate_ids)
                continue
            flt = collection_filter(session, collection.kind, None, burst_ids)
            counts[collection.kind] = count_photos(session, flt, score_model=model)
        if names is not None and names.score_model == model:
            return replace(names, counts=counts)
        return Stats(
            counts,
            folder_counts(session),
            measure_names(session),
            model_names(session),
            model,
            attribute_names(session),
            model_versions(session),
        )


def load_photo_details(catalog: Catalog, photo_id: int) -> PhotoDetails | None:
    from artimuse_desktop.catalog.queries import assessments_for, get_score_model, records_by_ids

    with catalog.read() as session:
        model = get_score_model(session)
        records = records_by_ids(session, [photo_id], score_model=model)
        if not records:
            return None
        return PhotoDetails(records[0], tuple(assessments_for(session, photo_id)), model)


def choose_score_model(catalog: Catalog, name: str) -> str:
    """Make ``name`` the model whose score the catalog shows, sorts and filters by (a write: off the GUI thread)."""
    from artimuse_desktop.catalog.queries import set_score_model

    with catalog.write() as session:
        set_score_model(session, name)
    return name
