"""What the window's catalog questions answer with, and what ``view_loader`` keeps between answers.

Plain data, no Qt: a view answer ready for the GUI thread (``LoadedView``), the bursts as the grid needs them
(``BurstState``, built on the worker that found them), the counts of the last head kept while the catalog's
data version stays the same (``CountCache``, ``DataVersion``) and the keys saying what a histogram or a count
depends on.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from artimuse_desktop.catalog.collections import KnownCounts, ViewQuery, ViewResult
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.filters import SortSpec
from artimuse_desktop.gui.id_list import IdList

log = logging.getLogger(__name__)


class DataVersion:
    """Whether anything was committed to a SQLite catalog since a moment: ``PRAGMA data_version`` on a
    connection of our own that never writes changes with every commit of any other connection, this
    process's too (microseconds, from any thread). None on PostgreSQL: counts there are never reused."""

    def __init__(self, catalog: Catalog) -> None:
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        if catalog.path is not None:
            try:
                uri = f"{catalog.path.as_uri()}?mode=ro"
                self._connection = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=5)
            except sqlite3.Error as exc:  # counted afresh each time then
                log.info("cannot read the data version of %s: %s", catalog.location, exc)

    def current(self) -> int | None:
        with self._lock:
            if self._connection is None:
                return None
            try:
                row = self._connection.execute("PRAGMA data_version").fetchone()
            except sqlite3.Error:
                return None
        return int(row[0]) if row else None

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


@dataclass(frozen=True)
class BurstState:
    """The bursts found last, by member, and what collapsing hides: computed once, on the worker that found
    them (each burst's best frame is a sort of its frames: 0.2 s per question at 10,000 photos if asked on
    the GUI thread each time the view reloads)."""

    bursts: list[Any] = field(default_factory=list)
    by_member: dict[int, Any] = field(default_factory=dict)
    member_ids: tuple[int, ...] = ()
    rest_ids: frozenset[int] = frozenset()
    counts: dict[int, int] = field(default_factory=dict)  # best frame id -> frames in its burst

    @classmethod
    def of(cls, bursts: list[Any]) -> BurstState:
        return cls(
            bursts,
            {pid: burst for burst in bursts for pid in burst.photo_ids},
            tuple(pid for burst in bursts for pid in burst.photo_ids),
            frozenset(pid for burst in bursts for pid in burst.hidden),
            {burst.representative_id: burst.count for burst in bursts},
        )

    def rejudged(self, judged: Sequence[Any]) -> BurstState:
        """This state with some bursts judged again (after a rating; same frames, so ``member_ids`` stays):
        copies of the maps changed only where those bursts are (tens of milliseconds at 300,000 photos, where
        building the state anew took seconds)."""
        new_by_first = {burst.photo_ids[0]: burst for burst in judged}
        by_member, counts, rest = dict(self.by_member), dict(self.counts), set(self.rest_ids)
        for burst in judged:
            before = self.by_member.get(burst.photo_ids[0])
            if before is not None:
                counts.pop(before.representative_id, None)
                rest.difference_update(before.hidden)
        for burst in judged:
            by_member.update(dict.fromkeys(burst.photo_ids, burst))
            counts[burst.representative_id] = burst.count
            rest.update(burst.hidden)
        bursts = [new_by_first.get(burst.photo_ids[0], burst) for burst in self.bursts]
        return BurstState(bursts, by_member, self.member_ids, frozenset(rest), counts)


@dataclass(frozen=True)
class LoadedView:
    """A view answer ready for the GUI thread: ``result.ids`` is emptied, ``ids`` holds them as an array.

    ``ids.complete`` False: the head, a partial list whose unknown rows ``page_ids`` reads by offset; the
    whole list follows in a second ``LoadedView``."""

    result: ViewResult
    ids: IdList
    query: ViewQuery
    page_ids: Callable[[int, int], list[int] | None] | None = None
    data_version: int | None = None  # of the catalog when counted (``DataVersion``), None: not known


def histogram_key(query: ViewQuery) -> ViewQuery:
    """What the histogram (and a head's row count) depends on: the collection and the filter bar; not the
    sort, nor bursts collapsed, nor the burst and duplicate members unless the collection is theirs (they are
    found after the first view: its counts serve the next one)."""
    bursts, duplicates = query.kind == "bursts", query.kind == "duplicates"
    return replace(
        query,
        sort=SortSpec(),
        collapse=False,
        burst_rest=frozenset(),
        burst_ids=query.burst_ids if bursts else (),
        duplicate_ids=query.duplicate_ids if duplicates else (),
    )


def collection_key(query: ViewQuery) -> tuple[Any, ...]:
    """What the collection's count depends on: the collection, not the filter bar or the sort."""
    key = histogram_key(query)
    return (key.kind, key.value, key.burst_ids, key.duplicate_ids)


@dataclass(frozen=True)
class CountCache:
    """The counts of the last head, kept until the data changes: a sort change asks no count again, a filter
    change only the view's (each is 20-50 ms of index walking at 300,000 photos, most of a head's time).
    Frozen: a worker reads the one it was handed while the GUI thread puts the next in its place."""

    view: tuple[ViewQuery, int] | None = None  # the query without its sort, and its rows
    collection: tuple[tuple[Any, ...], int] | None = None
    catalog: int | None = None
    data_version: int | None = None  # what they were counted at: valid while the catalog's is the same

    def known(self, query: ViewQuery, data_version: int | None) -> KnownCounts:
        if data_version is None or data_version != self.data_version:
            return KnownCounts()
        view, collection = self.view, self.collection
        return KnownCounts(
            view[1] if view is not None and view[0] == histogram_key(query) else None,
            collection[1] if collection is not None and collection[0] == collection_key(query) else None,
            self.catalog,
        )

    @classmethod
    def of(cls, loaded: LoadedView, version: int) -> CountCache:
        result, query = loaded.result, loaded.query
        view, collection = (histogram_key(query), len(loaded.ids)), (collection_key(query), result.collection_total)
        return cls(view, collection, result.catalog_total, version)


@dataclass(frozen=True)
class BurstQuery:
    key: str
    max_seconds: float
    max_distance: int
