"""Indexing, scoring and critiques from the window: starting them, their rows in the status bar, the problems
list, and what each one changed (reported as ``Changes``, live while it runs and once when it ends)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QStatusBar

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.gui.changes import Changes
from artimuse_desktop.gui.job_status import ErrorLog, JobStatus
from artimuse_desktop.gui.workers import INDEX, SCORE, BackgroundJobs, JobProgress, JobResult

log = logging.getLogger(__name__)

#: While jobs run, new photos and scores show every this many milliseconds.
LIVE_REFRESH_MS = 1500


class JobControl(QObject):
    changed = Signal(object)  # Changes
    message = Signal(str, int)  # status-bar text, milliseconds
    index_progress = Signal(int)  # photos indexed so far (the welcome page shows it)
    index_finished = Signal(object)  # JobResult
    score_finished = Signal(object)  # JobResult

    def __init__(
        self,
        catalog: Catalog,
        status_bar: QStatusBar,
        *,
        backend_factory: Callable[[str], Any] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.jobs = BackgroundJobs(catalog, self, backend_factory=backend_factory)
        self.jobs.progress.connect(self._progress)
        self.jobs.finished.connect(self._finished)
        self.widgets: dict[str, JobStatus] = {}
        for job in (INDEX, SCORE):
            widget = JobStatus(job)
            widget.pause_toggled.connect(lambda job, paused: self.jobs.pause(job) if paused else self.jobs.resume(job))
            widget.cancel_requested.connect(self.jobs.cancel)
            self.widgets[job] = widget
            status_bar.addPermanentWidget(widget)
        self.error_log = ErrorLog()
        status_bar.addPermanentWidget(self.error_log)
        self._progressed: set[str] = set()
        self._live = QTimer(self)
        self._live.setInterval(LIVE_REFRESH_MS)
        self._live.timeout.connect(self._live_refresh)

    def start_indexing(self, roots: Sequence[str], cache_max_bytes: int | None) -> bool:
        roots = [r for r in roots if r]
        if not roots:
            self.message.emit("No library folder yet: use File ▸ Add folder…", 5000)
            return False
        if not self.jobs.start_indexing(roots, cache_max_bytes=cache_max_bytes):
            self.message.emit("Indexing is already running", 4000)
            return False
        self._live.start()
        return True

    def start_scoring(
        self, model: str, device: str, batch_size: int, *, rescore: bool, ids: Sequence[int] | None
    ) -> bool:
        if not self.jobs.start_scoring(model, device, batch_size, rescore=rescore, photo_ids=ids):
            self.message.emit("Scoring is already running", 4000)
            return False
        self._live.start()
        return True

    def _progress(self, progress: JobProgress) -> None:
        self.widgets[progress.job].update_progress(progress)
        self._progressed.add(progress.job)
        if progress.job == INDEX:
            self.index_progress.emit(progress.done)

    def _live_refresh(self) -> None:
        """New photos and new scores show while the job runs (at most every LIVE_REFRESH_MS)."""
        changes = Changes()
        if INDEX in self._progressed:
            changes |= Changes(view=True)
        if SCORE in self._progressed:
            changes |= Changes(scores=True)
        self._progressed.clear()
        if changes != Changes():
            self.changed.emit(changes)
        if not self.jobs.running() & {INDEX, SCORE}:
            self._live.stop()

    def _finished(self, result: JobResult) -> None:
        widget = self.widgets.get(result.job)
        if widget is not None:
            widget.finish()
        for path, reason in result.failures:
            self.error_log.add(os.path.basename(path) or path, reason)
        if result.error:
            self.report_error(result.message)
        elif result.failures:
            path, reason = result.failures[0]
            more = f" (and {len(result.failures) - 1} more)" if len(result.failures) > 1 else ""
            self.message.emit(f"{result.message} — {os.path.basename(path)}: {reason}{more}", 10000)
        else:
            self.message.emit(result.message, 8000)
        self._progressed.discard(result.job)
        if result.job == INDEX:
            self.changed.emit(Changes(photos=True, bursts=True, folders=True))
            self.index_finished.emit(result)
        elif result.job == SCORE:
            self.changed.emit(Changes(scores=True, bursts=True))
            self.score_finished.emit(result)

    def report_error(self, text: str, subject: str = "") -> None:
        """A readable message in the status bar and the problems list; details are in the log."""
        log.warning("%s%s", f"{subject}: " if subject else "", text)
        self.error_log.add(subject or "ArtiMuse Desktop", text)
        self.message.emit(text, 10000)

    def busy(self) -> bool:
        return False

    def shutdown(self) -> None:
        self._live.stop()
        self.jobs.cancel("critique")
        self.jobs.shutdown()
