"""Background jobs: a long-lived thread owns the scoring model; indexing runs on the GUI's task helper.

The model thread keeps the loaded backend between runs (loading ArtiMuse takes many seconds; scoring a few new
photos should not pay that again). Jobs are asked for with queued signals and report back with plain
dataclasses (``JobProgress``, ``JobResult``): no ORM object and no widget crosses a thread. Pause and cancel
go through a ``CancelToken`` the pipeline checks between photos, so they act within one batch.
``BackgroundJobs.shutdown`` cancels, quits and waits for the model thread and the indexing task: the window
calls it on close, so no "QThread: Destroyed while thread is still running" can happen.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.errors import describe_error
from artimuse_desktop.formatting import count_text
from artimuse_desktop.gui.index_job import run_index
from artimuse_desktop.gui.job_types import (
    CRITIQUE,
    INDEX,
    SCORE,
    CritiqueRequest,
    IndexRequest,
    JobProgress,
    JobResult,
    ScoreRequest,
    Throttle,
)
from artimuse_desktop.gui.tasks import IN_ORDER, TaskRunner

log = logging.getLogger(__name__)

BackendFactory = Callable[[str], Any]

_THREADS: weakref.WeakSet[QThread] = weakref.WeakSet()


def running_threads() -> list[QThread]:
    """Threads made by the GUI that are still running (tests assert none survive the window)."""
    alive: list[QThread] = []
    for thread in list(_THREADS):
        try:
            if thread.isRunning():
                alive.append(thread)
        except RuntimeError:  # the C++ object is gone
            continue
    return alive


class ScoringWorker(QObject):
    """Lives on the model thread; owns the loaded backend."""

    progress = Signal(object)
    finished = Signal(object)
    critique_started = Signal(int)
    critique_token = Signal(int, str, str)
    critique_finished = Signal(int, object, object)  # photo id, {attribute: text} or None, error or None

    def __init__(self, catalog: Catalog, backend_factory: BackendFactory | None = None) -> None:
        super().__init__()
        self.catalog = catalog
        self._backend_factory = backend_factory
        self._backend: Any = None
        self._backend_key: tuple[str, str] | None = None
        self._lock = threading.Lock()

    def _get_backend(self, model: str, device: str) -> Any:
        if self._backend is not None and self._backend_key == (model, device):
            return self._backend
        self.unload()
        if self._backend_factory is None:
            from artimuse_desktop.scoring.registry import create_backend

            self._backend_factory = create_backend
        backend = self._backend_factory(model)
        backend.load(device)
        with self._lock:
            self._backend, self._backend_key = backend, (model, device)
        return backend

    def unload(self) -> None:
        with self._lock:
            backend, self._backend, self._backend_key = self._backend, None, None
        if backend is not None:
            try:
                backend.unload()
            except Exception:
                log.exception("unloading the model failed")

    @property
    def loaded_model(self) -> str | None:
        with self._lock:
            return self._backend_key[0] if self._backend_key else None

    @Slot(object)
    def score(self, request: ScoreRequest) -> None:
        label = f"Scoring ({request.model})"
        throttle = Throttle()
        try:
            if request.token.cancelled:
                self.finished.emit(JobResult(SCORE, "Scoring cancelled", cancelled=True, changed=False))
                return
            self.progress.emit(JobProgress(SCORE, f"Loading {request.model}…", 0, 0))
            from artimuse_desktop.scoring.pipeline import run_scoring

            backend = self._get_backend(request.model, request.device)

            def on_progress(p: Any) -> None:
                if throttle.ready(final=p.done >= p.total):
                    current = os.path.basename(p.current) if p.current else None
                    self.progress.emit(JobProgress(SCORE, label, p.done, p.total, p.failed, p.rate, p.eta_s, current))

            summary = run_scoring(
                self.catalog,
                backend,
                batch_size=request.batch_size,
                rescore=request.rescore,
                photo_ids=list(request.photo_ids) if request.photo_ids is not None else None,
                progress=on_progress,
                cancel=request.token,
            )
        except Exception as exc:
            log.exception("scoring with %s failed", request.model)
            self.finished.emit(JobResult(SCORE, f"Scoring failed: {describe_error(exc)}", error=describe_error(exc)))
            return
        for path, reason in summary.failures:
            log.warning("could not score %s: %s", path, reason)
        done = summary.scored + summary.failed
        if summary.cancelled:
            message = f"Scoring cancelled after {done:,} of {count_text(summary.total, 'photo')}"
        elif summary.total == 0:
            message = f"Every photo is already scored by {summary.model}"
        else:
            message = f"Scored {count_text(summary.scored, 'photo')} with {summary.model} in {summary.elapsed_s:.1f} s"
            if summary.failed:
                message += f"; {summary.failed:,} failed"
        self.finished.emit(
            JobResult(
                SCORE,
                message,
                cancelled=summary.cancelled,
                failures=tuple(summary.failures),
                changed=done > 0,
            )
        )

    @Slot(object)
    def critique(self, request: CritiqueRequest) -> None:
        self.critique_started.emit(request.photo_id)
        try:
            from artimuse_desktop.scoring.pipeline import critique_photo

            backend = self._get_backend(request.model, request.device)
            if request.max_new_tokens is not None and hasattr(backend, "max_new_tokens"):
                backend.max_new_tokens = request.max_new_tokens

            def on_token(attribute: str, fragment: str) -> None:
                self.critique_token.emit(request.photo_id, attribute, fragment)

            texts = critique_photo(self.catalog, backend, request.photo_id, on_token=on_token, cancel=request.token)
        except Exception as exc:
            log.exception("critique of photo %s failed", request.photo_id)
            self.critique_finished.emit(request.photo_id, None, describe_error(exc))
            return
        self.critique_finished.emit(request.photo_id, dict(texts), None)


class BackgroundJobs(QObject):
    """The GUI's one door to background work: starts jobs, relays progress, pauses, cancels, shuts down."""

    progress = Signal(object)  # JobProgress
    finished = Signal(object)  # JobResult
    critique_started = Signal(int)
    critique_token = Signal(int, str, str)
    critique_finished = Signal(int, object, object)

    _score_requested = Signal(object)
    _critique_requested = Signal(object)

    def __init__(
        self, catalog: Catalog, parent: QObject | None = None, *, backend_factory: BackendFactory | None = None
    ) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self._tokens: dict[str, CancelToken] = {}
        self._running: set[str] = set()
        self._closed = False

        self.model_thread = QThread(self)
        self.model_thread.setObjectName("artimuse-model")
        self.scoring = ScoringWorker(catalog, backend_factory)
        self.scoring.moveToThread(self.model_thread)
        self._score_requested.connect(self.scoring.score)
        self._critique_requested.connect(self.scoring.critique)
        self.scoring.progress.connect(self._relay_progress)
        self.scoring.finished.connect(self._relay_finished)
        self.scoring.critique_started.connect(self.critique_started)
        self.scoring.critique_token.connect(self.critique_token)
        self.scoring.critique_finished.connect(self._critique_done)

        # Indexing runs on the GUI's one task helper (its own runner, in order); the indexer's signals are emitted
        # from that pool thread and arrive here queued.
        self._index_tasks = TaskRunner(self, threads=1)

        _THREADS.add(self.model_thread)
        self.model_thread.start()

    # ------------------------------------------------------------------ starting jobs

    def is_running(self, job: str) -> bool:
        return job in self._running

    def running(self) -> set[str]:
        return set(self._running)

    def start_scoring(
        self,
        model: str,
        device: str = "auto",
        batch_size: int = 8,
        *,
        rescore: bool = False,
        photo_ids: Sequence[int] | None = None,
    ) -> bool:
        if self._closed or SCORE in self._running:
            return False
        token = self._new_token(SCORE)
        ids = tuple(photo_ids) if photo_ids is not None else None
        self._score_requested.emit(ScoreRequest(model, device, batch_size, token, rescore, ids))
        return True

    def start_critique(self, model: str, device: str, photo_id: int, max_new_tokens: int | None = None) -> bool:
        if self._closed or CRITIQUE in self._running:
            return False
        token = self._new_token(CRITIQUE)
        self._critique_requested.emit(CritiqueRequest(model, device, photo_id, token, max_new_tokens))
        return True

    def start_indexing(
        self, roots: Sequence[str], *, previews: bool = True, cache_max_bytes: int | None = None
    ) -> bool:
        if self._closed or INDEX in self._running:
            return False
        token = self._new_token(INDEX)
        request = IndexRequest(tuple(roots), token, previews, cache_max_bytes)
        catalog, gui = self.catalog, self._index_tasks.gui

        def report(progress: JobProgress) -> None:  # on the indexing thread: hand it to the GUI thread
            gui.call(lambda: self._relay_progress(progress))

        self._index_tasks.submit(
            INDEX, lambda: run_index(catalog, request, report), self._relay_finished, policy=IN_ORDER
        )
        return True

    def _new_token(self, job: str) -> CancelToken:
        token = CancelToken()
        self._tokens[job] = token
        self._running.add(job)
        return token

    # ------------------------------------------------------------------ control

    def pause(self, job: str) -> None:
        if job in self._tokens:
            self._tokens[job].pause()

    def resume(self, job: str) -> None:
        if job in self._tokens:
            self._tokens[job].resume()

    def is_paused(self, job: str) -> bool:
        token = self._tokens.get(job)
        return bool(token is not None and token.paused and job in self._running)

    def cancel(self, job: str) -> None:
        token = self._tokens.get(job)
        if token is not None:
            token.cancel()

    def shutdown(self, timeout_ms: int = 15000) -> bool:
        """Cancel every job, stop the model thread and the indexing task, unload the model; True when in time."""
        self._closed = True
        for token in self._tokens.values():
            token.cancel()
        self.model_thread.quit()
        stopped = bool(self.model_thread.wait(timeout_ms))
        if not stopped:
            log.error("the model thread did not stop within %d ms", timeout_ms)
        self._index_tasks.shutdown(timeout_ms)
        if stopped:
            self.scoring.unload()
        return stopped

    # ------------------------------------------------------------------ relays (GUI thread)

    def _relay_progress(self, progress: JobProgress) -> None:
        if not self._closed:
            self.progress.emit(progress)

    def _relay_finished(self, result: JobResult) -> None:
        self._running.discard(result.job)
        self._tokens.pop(result.job, None)
        if not self._closed:
            self.finished.emit(result)

    def _critique_done(self, photo_id: int, texts: object, error: object) -> None:
        self._running.discard(CRITIQUE)
        self._tokens.pop(CRITIQUE, None)
        if not self._closed:
            self.critique_finished.emit(photo_id, texts, error)
