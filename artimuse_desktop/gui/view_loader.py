"""The window's questions to the catalog, asked off the GUI thread: the grid's ids, the collection counts, the
bursts, the side panel's photo, and (on a timer) whether another process changed the catalog.

Each question has its own ``TaskRunner`` channel with "newest wins", so a burst of changes costs one answer each.
Stats and the panel are debounced by short timers (many decisions in a row refresh the counts once). Answers
arrive as signals carrying plain dataclasses from ``catalog.collections``; the window puts them on widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
from artimuse_desktop.catalog.watch import ExternalChanges
from artimuse_desktop.gui.tasks import TaskRunner

#: How often the window asks whether another process changed the catalog (one PRAGMA: microseconds).
WATCH_MS = 1500


@dataclass
class BurstState:
    """The bursts found last, by member, and what collapsing hides."""

    bursts: list[Any] = field(default_factory=list)
    by_member: dict[int, Any] = field(default_factory=dict)

    @property
    def member_ids(self) -> tuple[int, ...]:
        return tuple(pid for burst in self.bursts for pid in burst.photo_ids)

    @property
    def rest_ids(self) -> frozenset[int]:
        return frozenset(pid for burst in self.bursts for pid in burst.hidden)


@dataclass(frozen=True)
class BurstQuery:
    key: str
    max_seconds: float
    max_distance: int


class ViewLoader(QObject):
    view_loaded = Signal(object)  # ViewResult
    stats_loaded = Signal(object)  # Stats
    bursts_loaded = Signal(bool)  # whether membership changed
    panel_loaded = Signal(object)  # PhotoDetails, or None when the photo is gone
    changed_elsewhere = Signal()  # another process committed to the catalog

    def __init__(self, catalog: Catalog, tasks: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.tasks = tasks
        self.bursts = BurstState()
        self._panel_id: int | None = None
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
        catalog = self.catalog
        self.tasks.submit("view", lambda: run_view_query(catalog, query), self._view_done)

    def _view_done(self, result: ViewResult) -> None:
        self.view_loaded.emit(result)

    def schedule_stats(self) -> None:
        self._stats_timer.start()

    def refresh_stats(self) -> None:
        self._stats_timer.stop()
        catalog, burst_ids = self.catalog, self.bursts.member_ids
        self.tasks.submit("stats", lambda: run_stats(catalog, burst_ids), self._stats_done)

    def _stats_done(self, stats: Stats) -> None:
        self.stats_loaded.emit(stats)

    def refresh_bursts(self, query: BurstQuery) -> None:
        from artimuse_desktop.culling.bursts import find_bursts

        catalog = self.catalog
        self.tasks.submit(
            "bursts",
            lambda: find_bursts(catalog, key=query.key, max_seconds=query.max_seconds, max_distance=query.max_distance),
            self._bursts_found,
        )

    def _bursts_found(self, bursts: list[Any]) -> None:
        previous = (self.bursts.member_ids, self.bursts.rest_ids)
        self.bursts = BurstState(bursts, {pid: b for b in bursts for pid in b.photo_ids})
        self.bursts_loaded.emit(previous != (self.bursts.member_ids, self.bursts.rest_ids))

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
