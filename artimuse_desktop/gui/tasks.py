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
import ctypes
import functools
import logging
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from artimuse_desktop.errors import describe_error

log = logging.getLogger(__name__)

NEWEST_WINS = "newest-wins"
IN_ORDER = "in-order"

_M_ARENA_MAX = -8  # glibc's mallopt parameter
#: glibc arenas for the window's threads: each worker thread that allocates gets an arena of its own (up to 8 per
#: core) and keeps what it freed there, so transient answers (a 300,000-row list, a sort) stay resident per thread.
MALLOC_ARENAS = 2


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """glibc, where the process runs on it (not macOS, Windows or musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")  # glibc's name; find_library would run ldconfig
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


#: How long a thread runs Python before a thread waiting for the GIL gets it (Python's default: 5 ms). The
#: window's workers (a whole id list, bursts, duplicate groups: seconds of Python at 300,000 photos) each ran
#: their 5 ms in turn while the GUI thread waited for its next event; at 1 ms it waits about a millisecond for
#: each busy worker.
GIL_SWITCH_S = 0.001


#: How many nice steps below the GUI thread the pools' threads run (the window's process; Linux counts 0-19).
#: At 300,000 photos a culling session keeps both cores of a small laptop busy with workers (the whole id list,
#: the histogram, the library's counts, grid pages: about 3.5 s of CPU a minute of scripted culling); at the
#: same priority the GUI thread waited for a core behind them (77 stalls over 45 ms in 10 rounds, the longest
#: 189 ms), at 10 steps below it gets one when it has work (30-39 such stalls, the longest 89-103 ms).
WORKER_NICENESS = 10

_worker_nice: int | None = None  # the pool threads' nice value (Linux); None: they keep the GUI thread's


def run_workers_below_the_gui(niceness: int = WORKER_NICENESS) -> None:
    """From now on every pool task runs ``niceness`` steps below the calling (GUI) thread (the window's
    process): the value is absolute, so a thread that started low already (threads inherit their creator's) is
    never lowered twice, and a user's ``nice`` on the whole window is kept under it."""
    global _worker_nice
    _worker_nice = min(19, _thread_nice() + niceness) if sys.platform.startswith("linux") else 19


def _thread_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) if sys.platform.startswith("linux") else 0


def lower_this_thread(nice: int) -> bool:
    """Run the calling thread at nice value ``nice`` unless it runs that low already (two system calls; each
    task asks, as pool threads come and go); False where the system refused. Linux sets one thread's nice
    value (threads it starts later, torch's among them, inherit it); elsewhere Qt's low thread priority
    (Windows, macOS) stands for it."""
    if sys.platform.startswith("linux"):
        thread = threading.get_native_id()
        try:
            if os.getpriority(os.PRIO_PROCESS, thread) < nice:
                os.setpriority(os.PRIO_PROCESS, thread, nice)
        except OSError:
            return False
        return True
    from PySide6.QtCore import QThread

    current = QThread.currentThread()
    if current is None:
        return False
    if current.priority() != QThread.Priority.LowPriority:
        current.setPriority(QThread.Priority.LowPriority)
    return True


def share_the_gil_quickly(seconds: float = GIL_SWITCH_S) -> float:
    """Hand the GIL between threads every ``seconds`` at most (the window's process); returns the old value."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(min(old, seconds))
    return old


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Share ``arenas`` malloc arenas between all threads (call before the pools start); False off glibc, and
    where the user chose with ``MALLOC_ARENA_MAX``."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    libc = _libc()
    return libc is not None and bool(libc.mallopt(_M_ARENA_MAX, arenas))


def release_free_memory() -> bool:
    """Give the memory malloc keeps free in its arenas back to the system (``malloc_trim``): after a big
    answer was built and dropped. Milliseconds; on a pool thread, never the GUI thread."""
    libc = _libc()
    return libc is not None and bool(libc.malloc_trim(0))


class FreeAfterBigTasks:
    """Trims malloc's free memory when the last running task finishes after one that ran ``big_s`` or longer
    since the last trim (a whole id list, bursts, duplicates: hundreds of MB built and dropped). Quick tasks
    alone (a page of records, a poll) never trim, nor does a task while others still run."""

    def __init__(self, big_s: float | None = 0.1) -> None:
        self.big_s = big_s
        self.trims = 0
        self.longest_ms = 0.0
        self._lock = threading.Lock()
        self._running = 0
        self._settling = 0  # tasks not past their trim yet
        self._due = False

    def started(self) -> None:
        with self._lock:
            self._running += 1
            self._settling += 1

    def finished(self, seconds: float) -> None:
        with self._lock:
            self._running -= 1
            self._due = self._due or (self.big_s is not None and seconds >= self.big_s)
            go = self._due and self._running == 0
            if go:
                self._due = False
        if go:
            started = time.monotonic()
            release_free_memory()
            self.trims += 1
            self.longest_ms = max(self.longest_ms, (time.monotonic() - started) * 1000)
        with self._lock:
            self._settling -= 1

    def settled(self) -> bool:
        """No task runs and no trim is under way (a bench reads the resident memory then)."""
        with self._lock:
            return self._running == 0 and self._settling == 0


#: One for the process: every runner's tasks count (the window has one runner; tests make more).
FREE_AFTER_BIG_TASKS = FreeAfterBigTasks()

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
        if _worker_nice is not None:
            lower_this_thread(_worker_nice)
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
        FREE_AFTER_BIG_TASKS.started()
        started = time.monotonic()
        try:
            result = fn()
        except Exception as exc:  # reported to the GUI as text, logged with the traceback
            log.exception("background task %s failed", channel)
            error = describe_error(exc)
        if callbacks is None:
            self._gui.call(lambda: self._deliver_newest(channel, generation, result, error))
        else:
            self._gui.call(lambda: self._deliver_in_order(channel, callbacks, result, error))
        FREE_AFTER_BIG_TASKS.finished(time.monotonic() - started)

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
