"""Short background reads (id lists, counts, histograms, assessments) off the GUI thread.

Each task belongs to a *channel*; a newer submission on the same channel makes older results stale, so the GUI
only ever sees the answer to its latest question (typing in the search box fires many queries; one lands).
Results are plain data built inside the task from its own read session: no ORM object crosses a thread.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

#: Every pool the GUI creates, so tests can assert nothing is left running after the window closes.
_POOLS: weakref.WeakSet[QThreadPool] = weakref.WeakSet()


def register_pool(pool: QThreadPool) -> QThreadPool:
    _POOLS.add(pool)
    return pool


def active_pool_threads() -> int:
    total = 0
    for pool in list(_POOLS):
        try:
            total += pool.activeThreadCount()
        except RuntimeError:  # the pool's C++ object is gone with its window
            continue
    return total


class _Relay(QObject):
    """Lives on the GUI thread; a signal emitted from a pool thread reaches it queued."""

    done = Signal(str, int, object, object)  # channel, generation, result, error text


class _Task(QRunnable):
    def __init__(self, relay: _Relay, channel: str, generation: int, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._relay = relay
        self._channel = channel
        self._generation = generation
        self._fn = fn

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # reported to the GUI as text, logged with the traceback
            log.exception("background task %s failed", self._channel)
            self._emit(None, _describe(exc))
            return
        self._emit(result, None)

    def _emit(self, result: Any, error: str | None) -> None:
        with contextlib.suppress(RuntimeError):  # the relay was deleted while the window closed
            self._relay.done.emit(self._channel, self._generation, result, error)


def _describe(exc: BaseException) -> str:
    from artimuse_desktop.errors import ArtiMuseError

    return exc.user_text() if isinstance(exc, ArtiMuseError) else f"{type(exc).__name__}: {exc}"


class TaskRunner(QObject):
    """Runs callables on a small pool; delivers the newest result per channel on the GUI thread."""

    failed = Signal(str, str)  # channel, readable message

    def __init__(self, parent: QObject | None = None, threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = register_pool(QThreadPool(self))
        self._pool.setMaxThreadCount(threads)
        self._relay = _Relay(self)
        self._relay.done.connect(self._deliver)
        self._generation: dict[str, int] = {}
        self._callbacks: dict[str, tuple[int, Callable[[Any], None], Callable[[str], None] | None]] = {}
        self._closed = False

    def submit(
        self,
        channel: str,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None = None,
    ) -> int:
        """Run ``fn`` in the pool; ``on_done(result)`` runs on the GUI thread unless a newer task came."""
        if self._closed:
            return -1
        generation = self._generation.get(channel, 0) + 1
        self._generation[channel] = generation
        self._callbacks[channel] = (generation, on_done, on_error)
        self._pool.start(_Task(self._relay, channel, generation, fn))
        return generation

    def pending(self, channel: str) -> bool:
        return channel in self._callbacks

    def busy(self) -> bool:
        return bool(self._callbacks) or self._pool.activeThreadCount() > 0

    @Slot(str, int, object, object)
    def _deliver(self, channel: str, generation: int, result: Any, error: object) -> None:
        entry = self._callbacks.get(channel)
        if entry is None or entry[0] != generation or self._closed:
            return
        del self._callbacks[channel]
        _, on_done, on_error = entry
        if error is not None:
            if on_error is not None:
                on_error(str(error))
            else:
                self.failed.emit(channel, str(error))
            return
        on_done(result)

    def wait(self, msecs: int = 10000) -> bool:
        return bool(self._pool.waitForDone(msecs))

    def shutdown(self, msecs: int = 10000) -> None:
        """Drop queued tasks and wait for running ones: called from the window's closeEvent."""
        self._closed = True
        self._callbacks.clear()
        self._pool.clear()
        self._pool.waitForDone(msecs)
