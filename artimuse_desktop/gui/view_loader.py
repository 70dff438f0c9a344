"""The window's questions to the catalog, asked off the GUI thread: the grid's ids, the collection counts, the
bursts, the side panel's photo, and (on a timer) whether another process changed the catalog.

Each question has its own ``TaskRunner`` channel with "newest wins", so a burst of changes costs one answer each.
Stats and the panel are debounced by short timers (many decisions in a row refresh the counts once). Answers
arrive as signals carrying plain dataclasses from ``catalog.collections``; the window puts them on widgets.

A view change asks the *head* first ("view": the first ``HEAD`` ids and the counts, tens of milliseconds at
300,000 photos, so the grid shows its first screens and sizes its scroll bar at once), then, side by side, the
whole ordered id list ("view-full", hundreds of milliseconds, swapped in without a reset) and the score
histogram ("histogram"), each shown when ready. A view smaller than the head is answered by the head alone. A
question that is stale before it starts (the user typed on) is skipped. The ids become an ``IdList`` with its
look-up index built on the worker, so the GUI thread only swaps arrays. The histogram depends on the filter, not
the sort, so a change of the sort alone reuses the last counts (``forget_histogram`` when the data changed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from artimuse_desktop.catalog.collections import (
    PhotoDetails,
    Stats,
    ViewHead,
    ViewQuery,
    ViewResult,
    head_possible,
    load_photo_details,
    run_stats,
    run_view_head,
    run_view_histogram,
    run_view_page,
    run_view_query,
)
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.filters import SortSpec
from artimuse_desktop.catalog.watch import ExternalChanges
from artimuse_desktop.gui.id_list import IdList
from artimuse_desktop.gui.tasks import IN_ORDER, TaskRunner

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
    """A view answer ready for the GUI thread: ``result.ids`` is emptied, ``ids`` holds them as an array.

    ``ids.complete`` False: the head, a partial list whose unknown rows ``page_ids`` reads by offset; the
    whole list follows in a second ``LoadedView``."""

    result: ViewResult
    ids: IdList
    query: ViewQuery
    page_ids: Callable[[int, int], list[int]] | None = None


def _histogram_key(query: ViewQuery) -> ViewQuery:
    """What the histogram depends on: everything but the sort."""
    return replace(query, sort=SortSpec())


@dataclass(frozen=True)
class BurstQuery:
    key: str
    max_seconds: float
    max_distance: int


class ViewLoader(QObject):
    HEAD = 600  # ids read first: a screenful or two at the smallest thumbnails
    view_loaded = Signal(object)  # LoadedView: the head (maybe partial), then the whole list if it was
    histogram_loaded = Signal(object)  # list[int]: HISTOGRAM_BINS counts of the last view
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
        self._burst_asked = 0
        self._then_histogram: Callable[[], None] | None = None  # asked once the head is in
        self._asked = 0  # bumped by each view change: questions asked for older ones are skipped unstarted
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
        self._asked += 1
        asked, head = self._asked, self.HEAD

        def current() -> bool:
            return asked == self._asked

        def page_ids(offset: int, limit: int) -> list[int]:
            return run_view_page(catalog, query, offset, limit)

        def first() -> LoadedView | None:
            if not current():
                return None
            found: ViewHead = run_view_head(catalog, query, head)
            counts = ViewResult([], found.collection_total, found.catalog_total, None, found.score_model)
            return LoadedView(counts, IdList.partial(found.ids, found.count).prepare(), query, page_ids)

        def whole() -> LoadedView | None:
            if not current():
                return None
            result = run_view_query(catalog, query, histogram=False, as_array=True)
            return LoadedView(replace(result, ids=[]), IdList(result.ids).prepare(), query)

        def histogram() -> list[int] | None:
            return run_view_histogram(catalog, query) if current() else None

        def ask_histogram() -> None:  # after the head: on two cores it would slow the head down 3-6x
            self.tasks.submit("histogram", histogram, lambda counts: self._histogram_done(query, counts, asked))

        self._then_histogram = None
        if sort_only and last is not None:
            self._histogram = (query, last[1])
            self.histogram_loaded.emit(last[1])
        else:
            self._then_histogram = ask_histogram
        if head_possible(query):
            self.tasks.submit("view", first, lambda loaded: self._head_done(loaded, asked))
        else:
            self.tasks.submit("view", whole, lambda loaded: self._view_done(loaded, asked))
            self._ask_histogram()

    def _ask_histogram(self) -> None:
        then, self._then_histogram = self._then_histogram, None
        if then is not None:
            then()

    def _head_done(self, loaded: LoadedView | None, asked: int) -> None:
        if loaded is None or asked != self._asked:  # an answer to an older view change
            return
        self._ask_histogram()
        if not loaded.ids.complete:
            query, catalog = loaded.query, self.catalog

            def whole() -> LoadedView | None:
                if asked != self._asked:
                    return None
                result = run_view_query(catalog, query, histogram=False, as_array=True, counts=False)
                return LoadedView(replace(loaded.result, ids=[]), IdList(result.ids).prepare(), query)

            self.tasks.submit("view-full", whole, lambda whole_view: self._view_done(whole_view, asked))
        self.view_loaded.emit(loaded)

    def forget_histogram(self) -> None:
        """The data changed: the next view reload bins the scores again."""
        self._histogram = None

    def _histogram_done(self, query: ViewQuery, counts: list[int] | None, asked: int) -> None:
        if counts is not None and asked == self._asked:
            self._histogram = (query, counts)
            self.histogram_loaded.emit(counts)

    def _view_done(self, loaded: LoadedView | None, asked: int) -> None:
        if loaded is not None and asked == self._asked:
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
        """Bursts, and the duplicate groups (they change with the same events: indexing, new settings).

        Each runs on a thread of its own (``IN_ORDER`` channels have their own pool): at 300,000 photos they
        take seconds, and on the shared pool they kept the view's whole list and histogram waiting. A question
        already stale when its turn comes is skipped; the modules are imported there, not on the GUI thread."""
        self._burst_asked += 1
        catalog, asked = self.catalog, self._burst_asked

        def bursts() -> BurstState | None:
            if asked != self._burst_asked:
                return None
            from artimuse_desktop.culling.bursts import find_bursts

            found = find_bursts(catalog, key=query.key, max_seconds=query.max_seconds, max_distance=query.max_distance)
            return BurstState.of(found)

        def duplicates() -> tuple[int, ...] | None:
            if asked != self._burst_asked:
                return None
            from artimuse_desktop.culling.duplicates import duplicate_ids

            return duplicate_ids(catalog)

        def when_current(done: Callable[[Any], None]) -> Callable[[Any], None]:
            return lambda answer: done(answer) if answer is not None and asked == self._burst_asked else None

        self.tasks.submit("bursts", bursts, when_current(self._bursts_found), policy=IN_ORDER)
        self.tasks.submit("duplicates", duplicates, when_current(self._duplicates_found), policy=IN_ORDER)

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
