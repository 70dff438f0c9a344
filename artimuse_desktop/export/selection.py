"""Which photos an export takes, and in what rank: explicit ids, picks, top N, above a score, or a filter.

The criteria combine with AND (``--picks --min-score 70`` exports the picks scoring 70 or more); ``top``
applies last. The ranking key is the catalog's score unless ``by`` names an attribute (``attr:NAME``) or a
technical measure (``measure:NAME``); photos without a value for that key are left out when ranking by it, so
"top 10" never pads itself with unscored photos. An explicit id list (the GUI's selection) keeps its order
unless ``by`` is given. All queries go through ``catalog.queries`` and ``catalog.filters``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.filters import PhotoFilter, SortSpec
from artimuse_desktop.catalog.queries import assessments_for, get_score_model, photo_ids, records_by_ids
from artimuse_desktop.catalog.records import PhotoRecord
from artimuse_desktop.catalog.shown_values import attribute_score, technical_measures
from artimuse_desktop.vocabulary import FLAG_PICK

_ASCENDING_BY_DEFAULT = ("captured_at", "filename", "path", "id", "mtime")


@dataclass(frozen=True)
class RankedPhoto:
    """A photo with its place in the export (1 = best) and the value it was ranked by."""

    record: PhotoRecord
    rank: int
    key_value: float | None = None


@dataclass
class Selection:
    """What to export. At least one criterion, or ``everything=True``, must be set."""

    ids: Sequence[int] | None = None
    picks: bool = False
    top: int | None = None
    by: str | None = None  # "score", "attr:NAME", "measure:NAME[:asc|:desc]", or any SortSpec key
    min_score: float | None = None
    filter: PhotoFilter | None = None
    everything: bool = False  # the whole (filtered) catalog, e.g. ``--all-filtered``
    score_model: str | None = None

    def is_empty(self) -> bool:
        return (
            self.ids is None
            and not self.picks
            and self.top is None
            and self.min_score is None
            and self.filter is None
            and not self.everything
        )


def sort_for(by: str | None) -> SortSpec:
    """The SortSpec for ``by``; scores, attributes and measures rank highest first unless ``:asc``."""
    if not by:
        return SortSpec("score", descending=True)
    spec = SortSpec.parse(by)
    lowered = by.strip().lower()
    explicit = lowered.startswith("-") or lowered.endswith(":asc") or lowered.endswith(":desc")
    if not explicit and spec.key not in _ASCENDING_BY_DEFAULT:
        spec = SortSpec(spec.key, descending=True)
    return spec


def _filter_for(selection: Selection, sort: SortSpec) -> PhotoFilter:
    flt = replace(selection.filter) if selection.filter is not None else PhotoFilter()
    # Copy the mutable parts so the caller's filter is never changed.
    flt.attr_min, flt.attr_max = dict(flt.attr_min), dict(flt.attr_max)
    flt.measure_min, flt.measure_max = dict(flt.measure_min), dict(flt.measure_max)
    if selection.picks:
        flt.flags = {FLAG_PICK} if flt.flags is None else set(flt.flags) & {FLAG_PICK}
        if not flt.flags:
            flt.ids = []
    if selection.min_score is not None:
        flt.min_score = selection.min_score if flt.min_score is None else max(flt.min_score, selection.min_score)
    if selection.ids is not None:
        wanted = list(dict.fromkeys(selection.ids))
        if flt.ids is not None:
            allowed = set(flt.ids)
            wanted = [i for i in wanted if i in allowed]
        flt.ids = wanted
    ranking = selection.top is not None or selection.by is not None
    if ranking:
        key = sort.key
        if key == "score":
            flt.scored = True if flt.scored is None else flt.scored
        elif key.startswith("attr:"):
            flt.attr_min.setdefault(key[5:], -math.inf)
        elif key.startswith("measure:"):
            flt.measure_min.setdefault(key[8:], -math.inf)
    return flt


def _key_value(session: Session, record: PhotoRecord, key: str, score_model: str) -> float | None:
    if key == "score":
        return record.score
    if not (key.startswith("attr:") or key.startswith("measure:")):
        return None
    assessments = assessments_for(session, record.id)
    if key.startswith("attr:"):
        return attribute_score(assessments, score_model, key[5:])
    name = key[8:]
    return next((m.value for m in technical_measures(assessments) if m.name == name), None)


def select_photos(catalog: Catalog, selection: Selection) -> list[RankedPhoto]:
    """The photos to export, ranked (1 = first). Raises ValueError for an empty selection or a bad key."""
    if selection.is_empty():
        raise ValueError("nothing chosen to export: give ids, picks, top N, a minimum score or a filter")
    if selection.top is not None and selection.top < 1:
        raise ValueError("top N needs N of at least 1")
    sort = sort_for(selection.by)
    flt = _filter_for(selection, sort)
    with catalog.read() as session:
        model = selection.score_model or get_score_model(session)
        if selection.ids is not None and selection.by is None:
            allowed = set(photo_ids(session, flt, score_model=model))
            ordered = [i for i in flt.ids or [] if i in allowed]
            if selection.top is not None:
                ordered = ordered[: selection.top]
        else:
            ordered = photo_ids(session, flt, sort, score_model=model, limit=selection.top)
        records = records_by_ids(session, ordered, score_model=model)
        return [
            RankedPhoto(record, rank, _key_value(session, record, sort.key, model))
            for rank, record in enumerate(records, start=1)
        ]
