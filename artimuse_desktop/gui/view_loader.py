"""The window's questions to the catalog, asked off the GUI thread: the grid's ids, the collection counts, the
bursts, the side panel's photo, and (on a timer) whether another process changed the catalog.

Each question has its own ``TaskRunner`` channel with "newest wins", so a burst of changes costs one answer each.
Stats and the panel are debounced by short timers (many decisions in a row refresh the counts once). Answers
arrive as signals carrying plain dataclasses from ``catalog.collections``; the window puts them on widgets.

The view's answer is made ready for the GUI thread on the worker: the ids become an ``IdList`` with its
look-up index built, so the GUI thread only swaps arrays. The score histogram depends on the filter, not the
sort, so a change of the sort alone reuses the last counts (``forget_histogram`` when the data changed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from artimuse_desktop.catalog.collections import (
    PhotoDetails,
    Stats,
    ViewQuery,
    ViewResult,
    load_photo_details,
    run_stats,
    run_view_query,
)
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.filters import SortSpec
from artimuse_desktop.catalog.watch import ExternalChanges
from artimuse_desktop.gui.id_list import IdList
from artimuse_desktop.gui.tasks import TaskRunner

#: How often the window asks whether another process changed the catalog (one PRAGMA: microseconds).
WATCH_MS = 1500


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


@dataclass(frozen=True)
class LoadedView:
    """A view answer ready for the GUI thread: ``result.ids`` is emptied, ``ids`` holds them as an array."""

    result: ViewResult
    ids: IdList
    histogram: list[int]
    query: ViewQuery


def _histogram_key(query: ViewQuery) -> ViewQuery:
    """What the histogram depends on: everything but the sort."""
    return replace(query, sort=SortSpec())


@dataclass(frozen=True)
class BurstQuery:
    key: str
    max_seconds: float
    max_distance: int


class ViewLoader(QObject):
    view_loaded = Signal(object)  # LoadedView
    stats_loaded = Signal(object)  # Stats
    bursts_loaded = Signal(bool)  # whether membership changed
    duplicates_loaded = Signal()  # the members of the duplicate groups changed
    panel_loaded = Signal(object)  # PhotoDetails, or None when the photo is gone
    changed_elsewhere = Signal()  # another process committed to the catalog

    def __init__(self, catalog: Catalog, tasks: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.tasks = tasks
        self.bursts = BurstState()
        self.duplicate_ids: tuple[int, ...] = ()  # every photo in a duplicate group (culling.duplicates)
        self._last_query: ViewQuery | None = None
        self._panel_id: int | None = None
        self._histogram: tuple[ViewQuery, list[int]] | None = None
        self._stats_timer = _single_shot(self, 400, self.refresh_stats)
        self._panel_timer = _single_shot(self, 40, self._load_panel)
        self._watch = ExternalChanges(catalog)
        self._watch_timer = QTimer(self)
        self._watch_timer.setInterval(WATCH_MS)
        self._watch_timer.timeout.connect(self._ask_elsewhere)
        self._watch_timer.start()

    def _ask_elsewhere(self) -> None:
        watch = self._watch
        self.tasks.submit("watch", watch.poll, lambda changed: self.changed_elsewhere.emit() if changed else None)

    def reload_view(self, query: ViewQuery) -> None:
        self._last_query = query
        query = replace(query, duplicate_ids=self.duplicate_ids)
        catalog, last = self.catalog, self._histogram
        # reuse only when the sort alone changed: the same query again is a request to read everything afresh
        sort_only = last is not None and last[0] != query and _histogram_key(last[0]) == _histogram_key(query)
        known = last[1] if last is not None and sort_only else None

        def work() -> LoadedView:
            result = run_view_query(catalog, query, histogram=known is None)
            ids = IdList(result.ids).prepare()
            counts = known if known is not None else list(result.histogram or ())
            return LoadedView(replace(result, ids=[]), ids, counts, query)

        self.tasks.submit("view", work, self._view_done)

    def forget_histogram(self) -> None:
        """The data changed: the next view reload bins the scores again."""
        self._histogram = None

    def _view_done(self, loaded: LoadedView) -> None:
        self._histogram = (loaded.query, loaded.histogram)
        self.view_loaded.emit(loaded)

    def schedule_stats(self) -> None:
        self._stats_timer.start()

    def refresh_stats(self) -> None:
        self._stats_timer.stop()
        catalog, burst_ids, duplicates = self.catalog, self.bursts.member_ids, self.duplicate_ids
        self.tasks.submit("stats", lambda: run_stats(catalog, burst_ids, duplicates), self._stats_done)

    def _stats_done(self, stats: Stats) -> None:
        self.stats_loaded.emit(stats)

    def refresh_bursts(self, query: BurstQuery) -> None:
        """Bursts, and the duplicate groups (they change with the same events: indexing, new settings)."""
        from artimuse_desktop.culling.bursts import find_bursts
        from artimuse_desktop.culling.duplicates import duplicate_ids

        catalog = self.catalog
        self.tasks.submit(
            "bursts",
            lambda: BurstState.of(
                find_bursts(catalog, key=query.key, max_seconds=query.max_seconds, max_distance=query.max_distance)
            ),
            self._bursts_found,
        )
        self.tasks.submit("duplicates", lambda: duplicate_ids(catalog), self._duplicates_found)

    def _duplicates_found(self, ids: tuple[int, ...]) -> None:
        """New members: the counts change, and so does the grid while it shows the "Duplicates" collection."""
        if ids != self.duplicate_ids:
            self.duplicate_ids = ids
            self.schedule_stats()
            if self._last_query is not None and self._last_query.kind == "duplicates":
                self.reload_view(self._last_query)
            self.duplicates_loaded.emit()

    def _bursts_found(self, state: BurstState) -> None:
        previous = (self.bursts.member_ids, self.bursts.rest_ids)
        self.bursts = state  # built on the worker (BurstState.of): nothing is recomputed here
        self.bursts_loaded.emit(previous != (state.member_ids, state.rest_ids))

    def schedule_panel(self, photo_id: int | None) -> None:
        self._panel_id = photo_id
        self._panel_timer.start()

    def _load_panel(self) -> None:
        pid, catalog = self._panel_id, self.catalog
        if pid is None:
            self.panel_loaded.emit(None)
            return
        self.tasks.submit("panel", lambda: load_photo_details(catalog, pid), self._panel_done)

    def _panel_done(self, details: PhotoDetails | None) -> None:
        self.panel_loaded.emit(details)

    def busy(self) -> bool:
        return self._stats_timer.isActive() or self._panel_timer.isActive()

    def stop(self) -> None:
        self._stats_timer.stop()
        self._panel_timer.stop()
        self._watch_timer.stop()

    def close(self) -> None:
        """After the task helper has stopped: no poll can run any more."""
        self._watch.close()


def _single_shot(parent: QObject, msecs: int, slot: Callable[[], None]) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(msecs)
    timer.timeout.connect(slot)
    return timer
