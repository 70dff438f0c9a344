"""The window's questions to the catalog, asked off the GUI thread: the grid's ids, the collection counts, the
bursts, the side panel's photo, and (on a timer) whether another process changed the catalog.

Each question has its own ``TaskRunner`` channel with "newest wins", so a burst of changes costs one answer each.
Stats and the panel are debounced by short timers (many decisions in a row refresh the counts once). Answers
arrive as signals carrying plain dataclasses from ``catalog.collections``; the window puts them on widgets.

A view change asks the *head* first ("view": the first ``HEAD`` ids and the counts, milliseconds at 300,000
photos, so the grid shows its first screens and sizes its scroll bar at once), then, side by side, the whole
ordered id list ("view-full", hundreds of milliseconds, swapped in without a reset) and the score histogram
("histogram"), each shown when ready. Those two run on threads of their own, so the pool stays free for the
rows the grid paints meanwhile (pages by offset; one deeper than a cheap walk waits for the whole list) and
for the next head; a newer view change calls them off (``Interrupt``). The library stats, bursts and duplicate
groups asked while a view is read wait for it (seconds of work that took the CPU the first screens needed).
A view smaller than the head is answered by the head alone. A question that is stale before it starts (the
user typed on) is skipped. The ids become an ``IdList`` with its look-up index built on the worker, so the GUI
thread only swaps arrays. The histogram depends on the filter, not the sort, so a change of the sort alone
reuses the last counts (``forget_histogram`` when the data changed), and so does the head: the counts of the
last one are kept while the catalog's data version stays the same (``CountCache``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
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
from artimuse_desktop.catalog.interrupt import CalledOff, Interrupt
from artimuse_desktop.catalog.watch import ExternalChanges
from artimuse_desktop.gui.id_list import IdList
from artimuse_desktop.gui.tasks import IN_ORDER, TaskRunner
from artimuse_desktop.gui.view_answers import (
    BurstQuery,
    BurstState,
    CountCache,
    DataVersion,
    LoadedView,
    histogram_key,
)

log = logging.getLogger(__name__)

#: How often the window asks whether another process changed the catalog (one PRAGMA: microseconds).
WATCH_MS = 1500
#: The longest a histogram waits for its view's whole list before it is read anyway.
WHOLE_WAIT_S = 30.0


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
        self._bursts_judged = self.bursts  # the newest state, read and written only on the bursts' serial thread
        self.duplicate_ids: tuple[int, ...] = ()  # every photo in a duplicate group (culling.duplicates)
        self._last_query: ViewQuery | None = None
        self._panel_id: int | None = None
        self._histogram: tuple[ViewQuery, list[int]] | None = None
        self._counts = CountCache()
        self._data = 0  # bumped when the data changed: answers counted before it are not kept
        self._burst_asked = 0
        self._stats_asked = 0
        self._stats: Stats | None = None  # the last answer: its names are kept when only counts changed
        self._names_owed = True  # a full answer (folders, names) was asked and is not in yet
        self._then_histogram: Callable[[], None] | None = None  # asked once the head is in
        self._asked = 0  # bumped by each view change: questions asked for older ones are skipped unstarted
        self._interrupt = Interrupt()  # calls off the last view's whole list and histogram
        self._whole_read = threading.Event()  # set once the last view's whole list is read (or will not be)
        self._after_head: dict[str, Callable[[], None]] = {}  # background questions held while a head is read
        self._hold_until: int | None = None  # the view change whose whole list releases them
        self._stats_timer = _single_shot(self, 400, lambda: self.refresh_stats(names=False))
        self._panel_timer = _single_shot(self, 40, self._load_panel)
        self._watch = ExternalChanges(catalog)
        self._version = DataVersion(catalog)
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
        # reuse only when the sort (or what else it ignores) changed: the same query again reads all afresh
        sort_only = last is not None and last[0] != query and histogram_key(last[0]) == histogram_key(query)
        self._asked += 1
        self._interrupt.call_off()  # the last view's whole list and histogram: their threads are needed
        self._interrupt = interrupt = Interrupt()
        asked, head, data, counts, version = self._asked, self.HEAD, self._data, self._counts, self._version

        def current() -> bool:
            return asked == self._asked

        def first() -> LoadedView | None:
            if not current():
                return None
            stamp = version.current()  # before the read: a commit after it makes the next head count again
            found: ViewHead = run_view_head(catalog, query, head, counts.known(query, stamp))
            result = ViewResult([], found.collection_total, found.catalog_total, None, found.score_model)
            shares, reach = (found.count, found.catalog_total), found.page_reach

            def page_ids(offset: int, limit: int) -> list[int] | None:
                if reach is not None and offset + limit > reach:
                    return None  # as dear as the whole list, read meanwhile: the rows wait for it
                return run_view_page(catalog, query, offset, limit, shares)

            ids = IdList.partial(found.ids, found.count).prepare()
            return LoadedView(result, ids, query, page_ids, stamp)

        self._whole_read = whole_read = threading.Event()  # the histogram waits for the whole list

        def whole() -> LoadedView | None:
            try:
                if not current():
                    return None
                result = run_view_query(catalog, query, histogram=False, as_array=True, interrupt=interrupt)
                return LoadedView(replace(result, ids=[]), IdList(result.ids).prepare(), query)
            finally:
                whole_read.set()

        def histogram() -> list[int] | None:
            """After the whole list (read at once, both took the CPU the GUI thread needs to show the head)."""
            whole_read.wait(WHOLE_WAIT_S)
            return _unless_called_off(lambda: run_view_histogram(catalog, query, interrupt)) if current() else None

        def ask_histogram() -> None:  # after the head: on two cores it would slow the head down 3-6x
            done = lambda bins: self._histogram_done(query, bins, asked, data)  # noqa: E731
            self.tasks.submit("histogram", histogram, done, policy=IN_ORDER)

        self._then_histogram = None
        if sort_only and last is not None:
            self._histogram = (query, last[1])
            self.histogram_loaded.emit(last[1])
        else:
            self._then_histogram = ask_histogram
        self._hold_until = asked  # (only the newest question's answer or error comes: it releases them)
        failed = lambda text: self._view_failed("view", text, asked)  # noqa: E731
        if head_possible(query):
            self.tasks.submit("view", first, lambda loaded: self._head_done(loaded, asked, data), failed)
        else:
            self.tasks.submit("view", lambda: _unless_called_off(whole), lambda v: self._whole_done(v, asked), failed)
            self._ask_histogram()

    def _ask_histogram(self) -> None:
        then, self._then_histogram = self._then_histogram, None
        if then is not None:
            then()

    def _view_failed(self, channel: str, text: str, asked: int) -> None:
        self._release_background(asked)
        self.tasks.failed.emit(channel, text)

    def _release_background(self, asked: int) -> None:
        """The view is in (its head and whole list): the questions held back meanwhile are asked (stats,
        bursts, duplicates: seconds of work at 300,000 photos, Python-heavy, that took the CPU and the GIL
        the first screens needed)."""
        if asked != self._hold_until:
            return
        self._hold_until = None
        held, self._after_head = self._after_head, {}
        for ask in held.values():
            ask()

    def _hold_for_head(self, name: str, ask: Callable[[], None]) -> None:
        if self._hold_until is not None:
            self._after_head[name] = ask
        else:
            ask()

    def _head_done(self, loaded: LoadedView | None, asked: int, data: int) -> None:
        if loaded is None or asked != self._asked:  # an answer to an older view change
            return
        if data == self._data and loaded.data_version is not None:
            self._counts = CountCache.of(loaded, loaded.data_version)
        whole_read = self._whole_read
        if loaded.ids.complete:  # the head was the whole list
            whole_read.set()
            self._release_background(asked)
        self._ask_histogram()
        if not loaded.ids.complete:
            query, catalog, interrupt = loaded.query, self.catalog, self._interrupt

            def whole() -> LoadedView | None:
                try:
                    if asked != self._asked:
                        return None
                    result = run_view_query(
                        catalog, query, histogram=False, as_array=True, counts=False, interrupt=interrupt
                    )
                    return LoadedView(replace(loaded.result, ids=[]), IdList(result.ids).prepare(), query)
                finally:
                    whole_read.set()

            # on a thread of its own (as the histogram): the pool stays free for the rows the grid paints
            done = lambda whole_view: self._whole_done(whole_view, asked)  # noqa: E731
            failed = lambda text: self._view_failed("view-full", text, asked)  # noqa: E731
            self.tasks.submit("view-full", lambda: _unless_called_off(whole), done, failed, policy=IN_ORDER)
        self.view_loaded.emit(loaded)

    def forget_histogram(self) -> None:
        """The data changed: the next view reload bins the scores and counts the photos again."""
        self._histogram = None
        self._counts = CountCache()
        self._data += 1

    def _histogram_done(self, query: ViewQuery, counts: list[int] | None, asked: int, data: int) -> None:
        if counts is not None and asked == self._asked:
            if data == self._data:
                self._histogram = (query, counts)
            self.histogram_loaded.emit(counts)

    def _whole_done(self, loaded: LoadedView | None, asked: int) -> None:
        self._release_background(asked)
        self._view_done(loaded, asked)

    def _view_done(self, loaded: LoadedView | None, asked: int) -> None:
        if loaded is not None and asked == self._asked:
            self.view_loaded.emit(loaded)

    def schedule_stats(self) -> None:
        """Decisions changed counts only: the folders and names of the last answer are kept."""
        self._stats_timer.start()

    def refresh_stats(self, names: bool = True) -> None:
        """On a thread of its own (seconds at 300,000 photos: on the pool it kept views waiting), after the
        view being read; a question already stale when its turn comes is skipped. ``names`` False:
        the counts alone (the timer's decisions), unless a full answer is still owed."""
        self._names_owed = self._names_owed or names or self._stats is None
        keep = None if self._names_owed else self._stats
        self._stats_timer.stop()
        self._stats_asked += 1
        catalog, burst_ids, duplicates = self.catalog, self.bursts.member_ids, self.duplicate_ids
        asked = self._stats_asked

        def stats() -> Stats | None:
            return run_stats(catalog, burst_ids, duplicates, keep) if asked == self._stats_asked else None

        def ask() -> None:
            self.tasks.submit("stats", stats, lambda answer: self._stats_done(answer, asked), policy=IN_ORDER)

        self._hold_for_head("stats", ask)

    def _stats_done(self, stats: Stats | None, asked: int) -> None:
        if stats is not None:
            if asked == self._stats_asked:
                self._names_owed = False
            self._stats = stats
            self.stats_loaded.emit(stats)

    def refresh_bursts(self, query: BurstQuery) -> None:
        """Bursts, and the duplicate groups (they change with the same events: indexing, new settings).

        Both run one after the other on the bursts' own thread (``IN_ORDER`` channels have their own pool): at
        300,000 photos they take seconds, on the shared pool they kept the view's whole list and histogram
        waiting, and side by side they were two threads running Python at once, which the GUI thread waits
        behind for the GIL. A question already stale when its turn comes is skipped; the modules are imported
        there, not on the GUI thread."""
        self._burst_asked += 1
        catalog, asked = self.catalog, self._burst_asked

        def bursts() -> BurstState | None:
            if asked != self._burst_asked:
                return None
            from artimuse_desktop.culling.bursts import find_bursts

            found = find_bursts(catalog, key=query.key, max_seconds=query.max_seconds, max_distance=query.max_distance)
            self._bursts_judged = BurstState.of(found)
            return self._bursts_judged

        def duplicates() -> tuple[int, ...] | None:
            if asked != self._burst_asked:
                return None
            from artimuse_desktop.culling.duplicates import duplicate_ids

            return duplicate_ids(catalog)

        def when_current(done: Callable[[Any], None]) -> Callable[[Any], None]:
            return lambda answer: done(answer) if answer is not None and asked == self._burst_asked else None

        def ask() -> None:
            self.tasks.submit("bursts", bursts, when_current(self._bursts_found), policy=IN_ORDER)
            self.tasks.submit("bursts", duplicates, when_current(self._duplicates_found), policy=IN_ORDER)

        self._hold_for_head("bursts", ask)

    def rejudge_bursts(self, photo_ids: frozenset[int], query: BurstQuery) -> None:
        """Stars changed: only the bursts holding these photos choose their kept frame again (milliseconds;
        finding every burst and duplicate group again took seconds at 300,000 photos, on threads that kept
        the GUI thread waiting for the GIL). Runs on the bursts' own serial thread, after any search there,
        from the state the last task there made (its answer may not have reached the GUI thread yet)."""
        catalog, asked = self.catalog, self._burst_asked

        def rejudge() -> BurstState | None:
            state = self._bursts_judged
            touched = {id(burst): burst for pid in photo_ids if (burst := state.by_member.get(pid)) is not None}
            if asked != self._burst_asked or not touched:
                return None
            from artimuse_desktop.culling.bursts import judge_groups

            groups = [burst.photo_ids for burst in touched.values()]
            self._bursts_judged = state.rejudged(judge_groups(catalog, groups, key=query.key))
            return self._bursts_judged

        done = self._bursts_found
        self.tasks.submit("bursts", rejudge, lambda state: done(state) if state is not None else None, policy=IN_ORDER)

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
        return self._stats_timer.isActive() or self._panel_timer.isActive() or bool(self._after_head)

    def stop(self) -> None:
        """Before the task helper stops: queued questions are skipped, a running whole list is called off."""
        self._asked += 1
        self._stats_asked += 1
        self._burst_asked += 1
        self._after_head.clear()
        self._interrupt.call_off()
        self._whole_read.set()
        self._stats_timer.stop()
        self._panel_timer.stop()
        self._watch_timer.stop()

    def close(self) -> None:
        """After the task helper has stopped: no poll can run any more."""
        self._watch.close()
        self._version.close()


def _unless_called_off(ask: Callable[[], Any]) -> Any:
    """``ask()``, or None when a newer view called it off (``Interrupt``)."""
    try:
        return ask()
    except CalledOff:
        return None


def _single_shot(parent: QObject, msecs: int, slot: Callable[[], None]) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(msecs)
    timer.timeout.connect(slot)
    return timer
