"""Long-lived background threads: one owns the scoring model, one indexes the library.

The model thread keeps the loaded backend between runs (loading ArtiMuse takes many seconds; scoring a few new
photos should not pay that again). Jobs are asked for with queued signals and report back with plain
dataclasses (``JobProgress``, ``JobResult``): no ORM object and no widget crosses a thread. Pause and cancel
go through a ``CancelToken`` the pipeline checks between photos, so they act within one batch.
``BackgroundJobs.shutdown`` cancels, quits and waits for both threads: the window calls it on close, so no
"QThread: Destroyed while thread is still running" can happen.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.catalog.db import Catalog

log = logging.getLogger(__name__)

INDEX = "index"
SCORE = "score"
CRITIQUE = "critique"

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


def describe_error(exc: BaseException) -> str:
    from artimuse_desktop.errors import ArtiMuseError

    if isinstance(exc, ArtiMuseError):
        return exc.user_text()
    return f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class JobProgress:
    job: str
    label: str
    done: int
    total: int
    failed: int = 0
    rate: float = 0.0
    eta_s: float | None = None
    current: str | None = None


@dataclass(frozen=True)
class JobResult:
    job: str
    message: str
    cancelled: bool = False
    failures: tuple[tuple[str, str], ...] = ()
    error: str | None = None
    changed: bool = True


@dataclass(frozen=True)
class ScoreRequest:
    model: str
    device: str
    batch_size: int
    token: CancelToken
    rescore: bool = False
    photo_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class CritiqueRequest:
    model: str
    device: str
    photo_id: int
    token: CancelToken


@dataclass(frozen=True)
class IndexRequest:
    roots: tuple[str, ...]
    token: CancelToken
    previews: bool = True
    cache_max_bytes: int | None = None
    workers: int | None = None


@dataclass
class _Throttle:
    """At most ``hz`` progress signals a second (the last one always goes out)."""

    hz: float = 8.0
    _last: float = field(default=0.0)

    def ready(self, final: bool = False) -> bool:
        now = time.monotonic()
        if final or now - self._last >= 1.0 / self.hz:
            self._last = now
            return True
        return False


PHASE_LABELS = {"scan": "Scanning", "match": "Matching moved files", "index": "Indexing", "previews": "Making previews"}


def index_progress(progress: Any, label: str | None = None) -> JobProgress:
    """A JobProgress from the indexer's ``IndexProgress`` (phase, done, total, current, rate)."""
    done = int(getattr(progress, "done", 0) or 0)
    total = int(getattr(progress, "total", 0) or 0)
    rate = float(getattr(progress, "rate", 0.0) or 0.0)
    current = getattr(progress, "current", None)
    phase = str(getattr(progress, "phase", "index"))
    eta = (total - done) / rate if rate > 0 and total else None
    name = os.path.basename(current) if current else None
    return JobProgress(INDEX, label or PHASE_LABELS.get(phase, phase.capitalize()), done, total, 0, rate, eta, name)


def _summary_failures(summary: Any) -> tuple[tuple[str, str], ...]:
    for name in ("failures", "errors"):
        items = getattr(summary, name, None)
        if isinstance(items, list | tuple):
            out: list[tuple[str, str]] = []
            for item in items:
                if isinstance(item, tuple | list) and len(item) >= 2:
                    out.append((str(item[0]), str(item[1])))
                else:
                    out.append((str(getattr(item, "path", "?")), str(getattr(item, "reason", item))))
            return tuple(out)
    return ()


def _summary_text(summary: Any) -> str:
    """ "12 new, 3 updated, 1 failed" from an IndexSummary (only the non-zero counts)."""
    parts = [
        f"{getattr(summary, name):,} {name}"
        for name in ("new", "updated", "moved", "restored", "unchanged", "failed", "missing")
        if isinstance(getattr(summary, name, None), int) and getattr(summary, name)
    ]
    return ", ".join(parts)


class ScoringWorker(QObject):
    """Lives on the model thread; owns the loaded backend."""

    progress = Signal(object)
    finished = Signal(object)
    critique_started = Signal(int)
    critique_token = Signal(int, str, str)
    critique_finished = Signal(int, object, object)  # photo id, {attribute: text} or None, error or None

    def __init__(self, catalog: Catalog) -> None:
        super().__init__()
        self.catalog = catalog
        self._backend: Any = None
        self._backend_key: tuple[str, str] | None = None
        self._lock = threading.Lock()

    def _get_backend(self, model: str, device: str) -> Any:
        from artimuse_desktop.scoring import registry

        if self._backend is not None and self._backend_key == (model, device):
            return self._backend
        self.unload()
        backend = registry.create_backend(model)
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
        throttle = _Throttle()
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
            message = f"Scoring cancelled after {done:,} of {summary.total:,} photos"
        elif summary.total == 0:
            message = f"Every photo is already scored by {summary.model}"
        else:
            message = f"Scored {summary.scored:,} photos with {summary.model} in {summary.elapsed_s:.1f} s"
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

            def on_token(attribute: str, fragment: str) -> None:
                self.critique_token.emit(request.photo_id, attribute, fragment)

            texts = critique_photo(self.catalog, backend, request.photo_id, on_token=on_token, cancel=request.token)
        except Exception as exc:
            log.exception("critique of photo %s failed", request.photo_id)
            self.critique_finished.emit(request.photo_id, None, describe_error(exc))
            return
        self.critique_finished.emit(request.photo_id, dict(texts), None)


class IndexWorker(QObject):
    """Lives on the I/O thread: indexes folders (making grid thumbnails as it goes), then previews."""

    progress = Signal(object)
    finished = Signal(object)

    def __init__(self, catalog: Catalog) -> None:
        super().__init__()
        self.catalog = catalog

    @Slot(object)
    def index(self, request: IndexRequest) -> None:
        throttle = _Throttle()

        def on_progress(progress: Any) -> None:
            final = bool(progress.total) and progress.done >= progress.total
            if throttle.ready(final=final):
                self.progress.emit(index_progress(progress))

        try:
            from artimuse_desktop.imaging.thumbnails import ThumbnailCache
            from artimuse_desktop.library.indexer import index_roots, make_previews

            cache = ThumbnailCache(max_bytes=request.cache_max_bytes) if request.cache_max_bytes else None
            self.progress.emit(JobProgress(INDEX, "Scanning", 0, 0))
            summary = index_roots(
                self.catalog,
                list(request.roots),
                progress=on_progress,
                cancel=request.token,
                workers=request.workers,
                cache=cache,
            )
            failures = _summary_failures(summary)
            for path, reason in failures:
                log.warning("could not index %s: %s", path, reason)
            if request.previews and not request.token.cancelled:
                previews = make_previews(self.catalog, cache, progress=on_progress, cancel=request.token)
                for path, reason in previews.failures:
                    log.warning("could not make a preview of %s: %s", path, reason)
        except Exception as exc:
            log.exception("indexing %s failed", request.roots)
            self.finished.emit(JobResult(INDEX, f"Indexing failed: {describe_error(exc)}", error=describe_error(exc)))
            return
        text = _summary_text(summary)
        if request.token.cancelled:
            message = "Indexing cancelled" + (f" ({text})" if text else "")
        else:
            message = "Indexing finished" + (f": {text}" if text else "")
        self.finished.emit(JobResult(INDEX, message, cancelled=request.token.cancelled, failures=failures))


class BackgroundJobs(QObject):
    """The GUI's one door to background work: starts jobs, relays progress, pauses, cancels, shuts down."""

    progress = Signal(object)  # JobProgress
    finished = Signal(object)  # JobResult
    critique_started = Signal(int)
    critique_token = Signal(int, str, str)
    critique_finished = Signal(int, object, object)

    _score_requested = Signal(object)
    _critique_requested = Signal(object)
    _index_requested = Signal(object)

    def __init__(self, catalog: Catalog, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self._tokens: dict[str, CancelToken] = {}
        self._running: set[str] = set()
        self._closed = False

        self.model_thread = QThread(self)
        self.model_thread.setObjectName("artimuse-model")
        self.scoring = ScoringWorker(catalog)
        self.scoring.moveToThread(self.model_thread)
        self._score_requested.connect(self.scoring.score)
        self._critique_requested.connect(self.scoring.critique)
        self.scoring.progress.connect(self._relay_progress)
        self.scoring.finished.connect(self._relay_finished)
        self.scoring.critique_started.connect(self.critique_started)
        self.scoring.critique_token.connect(self.critique_token)
        self.scoring.critique_finished.connect(self._critique_done)

        self.io_thread = QThread(self)
        self.io_thread.setObjectName("artimuse-index")
        self.indexer = IndexWorker(catalog)
        self.indexer.moveToThread(self.io_thread)
        self._index_requested.connect(self.indexer.index)
        self.indexer.progress.connect(self._relay_progress)
        self.indexer.finished.connect(self._relay_finished)

        for thread in (self.model_thread, self.io_thread):
            _THREADS.add(thread)
            thread.start()

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

    def start_critique(self, model: str, device: str, photo_id: int) -> bool:
        if self._closed or CRITIQUE in self._running:
            return False
        token = self._new_token(CRITIQUE)
        self._critique_requested.emit(CritiqueRequest(model, device, photo_id, token))
        return True

    def start_indexing(
        self, roots: Sequence[str], *, previews: bool = True, cache_max_bytes: int | None = None
    ) -> bool:
        if self._closed or INDEX in self._running:
            return False
        token = self._new_token(INDEX)
        self._index_requested.emit(IndexRequest(tuple(roots), token, previews, cache_max_bytes))
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
        """Cancel every job, stop both threads and unload the model; True when both stopped in time."""
        self._closed = True
        for token in self._tokens.values():
            token.cancel()
        for thread in (self.model_thread, self.io_thread):
            thread.quit()
        stopped = True
        for thread in (self.model_thread, self.io_thread):
            if not thread.wait(timeout_ms):
                log.error("background thread %s did not stop within %d ms", thread.objectName(), timeout_ms)
                stopped = False
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
