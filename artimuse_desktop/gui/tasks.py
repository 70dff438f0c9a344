"""The GUI's one way to run work off the GUI thread and get the answer back on it.

``TaskRunner.submit(channel, fn, on_done, on_error, policy=...)`` runs ``fn`` on a pool thread and calls
``on_done(result)`` (or ``on_error(text)``) on the GUI thread. Each channel has a policy:

* ``NEWEST_WINS``: a newer submission on the channel makes older answers stale, so the GUI only ever sees the
  answer to its latest question (typing in the search box fires many queries; one lands).
* ``IN_ORDER``: every task runs, one at a time, in the order submitted, and every answer is delivered
  (catalog writes: decisions reach the catalog in the order the keys were pressed; indexing runs).

``GuiCaller.call(fn)`` is the primitive under both: from any thread, run ``fn`` on the GUI thread. The image
loader builds its newest-first queue on ``PoolCall`` and ``GuiCaller`` too. Results are plain data built inside
the task from its own session: no ORM object and no widget crosses a thread. Errors become text through
``errors.describe_error``, which keeps the hint.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from artimuse_desktop.errors import describe_error

log = logging.getLogger(__name__)

NEWEST_WINS = "newest-wins"
IN_ORDER = "in-order"

#: Every pool the GUI creates, so tests can assert nothing is left running after the window closes.
_POOLS: weakref.WeakSet[QThreadPool] = weakref.WeakSet()


def new_pool(parent: QObject, threads: int) -> QThreadPool:
    """A registered thread pool (tests check that none still runs once a window has closed)."""
    pool = QThreadPool(parent)
    pool.setMaxThreadCount(threads)
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


class GuiCaller(QObject):
    """Lives on the GUI thread; ``call(fn)`` from any thread queues ``fn`` to run there."""

    _called = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._called.connect(self._run)

    def call(self, fn: Callable[[], None]) -> None:
        with contextlib.suppress(RuntimeError):  # the caller was deleted while the window closed
            self._called.emit(fn)

    @Slot(object)
    def _run(self, fn: Callable[[], None]) -> None:
        fn()


class PoolCall(QRunnable):
    """Runs one callable on a pool thread (the only QRunnable the GUI defines)."""

    def __init__(self, fn: Callable[[], None]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._fn = fn

    def run(self) -> None:
        self._fn()


class TaskRunner(QObject):
    """Runs callables on pools; delivers results per channel policy on the GUI thread."""

    failed = Signal(str, str)  # channel, readable message (when the task gave no on_error)

    def __init__(self, parent: QObject | None = None, threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = new_pool(self, threads)
        self._serial: dict[str, QThreadPool] = {}
        self._gui = GuiCaller(self)
        self._generation: dict[str, int] = {}
        self._callbacks: dict[str, tuple[int, Callable[[Any], None], Callable[[str], None] | None]] = {}
        self._in_order_pending: dict[str, int] = {}
        self._closed = False

    @property
    def gui(self) -> GuiCaller:
        """For progress reports from a running task: ``runner.gui.call(lambda: bar.update(p))``."""
        return self._gui

    def submit(
        self,
        channel: str,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None = None,
        *,
        policy: str = NEWEST_WINS,
    ) -> int:
        """Run ``fn`` off the GUI thread; ``on_done(result)`` runs on the GUI thread as the policy says."""
        if self._closed:
            return -1
        generation = self._generation.get(channel, 0) + 1
        self._generation[channel] = generation
        if policy == IN_ORDER:
            self._in_order_pending[channel] = self._in_order_pending.get(channel, 0) + 1
            pool = self._serial.get(channel) or self._serial.setdefault(channel, new_pool(self, 1))
            pool.start(PoolCall(lambda: self._run(channel, generation, fn, (on_done, on_error))))
        else:
            self._callbacks[channel] = (generation, on_done, on_error)
            self._pool.start(PoolCall(lambda: self._run(channel, generation, fn, None)))
        return generation

    def _run(self, channel: str, generation: int, fn: Callable[[], Any], callbacks: Any) -> None:
        """Pool thread: run the task, hand its answer (or its error as text) to the GUI thread."""
        error: str | None = None
        result: Any = None
        try:
            result = fn()
        except Exception as exc:  # reported to the GUI as text, logged with the traceback
            log.exception("background task %s failed", channel)
            error = describe_error(exc)
        if callbacks is None:
            self._gui.call(lambda: self._deliver_newest(channel, generation, result, error))
        else:
            self._gui.call(lambda: self._deliver_in_order(channel, callbacks, result, error))

    def _deliver_newest(self, channel: str, generation: int, result: Any, error: str | None) -> None:
        entry = self._callbacks.get(channel)
        if entry is None or entry[0] != generation or self._closed:
            return
        del self._callbacks[channel]
        self._finish(channel, entry[1], entry[2], result, error)

    def _deliver_in_order(self, channel: str, callbacks: Any, result: Any, error: str | None) -> None:
        left = self._in_order_pending.get(channel, 1) - 1
        if left > 0:
            self._in_order_pending[channel] = left
        else:
            self._in_order_pending.pop(channel, None)
        if not self._closed:
            self._finish(channel, callbacks[0], callbacks[1], result, error)

    def _finish(
        self,
        channel: str,
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None,
        result: Any,
        error: str | None,
    ) -> None:
        if error is None:
            on_done(result)
        elif on_error is not None:
            on_error(error)
        else:
            self.failed.emit(channel, error)

    def pending(self, channel: str) -> bool:
        """A task on the channel has not delivered its answer yet."""
        return channel in self._callbacks or channel in self._in_order_pending

    def busy(self) -> bool:
        return bool(self._callbacks or self._in_order_pending) or self._pool.activeThreadCount() > 0

    def wait(self, msecs: int = 10000) -> bool:
        done = bool(self._pool.waitForDone(msecs))
        return all([bool(pool.waitForDone(msecs)) for pool in self._serial.values()]) and done

    def shutdown(self, msecs: int = 120000) -> None:
        """Drop queued questions, let queued in-order work (decision writes) finish, wait for running tasks."""
        self._closed = True
        self._callbacks.clear()
        self._pool.clear()
        for pool in self._serial.values():
            pool.waitForDone(msecs)
        self._pool.waitForDone(msecs)
