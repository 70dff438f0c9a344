"""Where the GUI thread was when it stalled: a sampler thread watching the bench's heartbeat.

``bench/grid_session.py`` starts one when ``ARTIMUSE_STALL_TRACE`` is set. Every ``SAMPLE_S`` it looks at how
long ago the heartbeat last ticked on the GUI thread; while that is over ``STALL_MS`` it samples the GUI thread's
Python stack (``sys._current_frames``). Each stall is kept as its length and its most frequent stack, and the
session's JSON gets the longest few. A stall spent in C++ without the GIL released shows the Python frame that
called into Qt; one where another thread holds the GIL shows where the GUI thread waits for it.
"""

from __future__ import annotations

import collections
import contextlib
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

SAMPLE_S = 0.005
STALL_MS = 40.0
FRAMES = 14  # innermost frames kept per sample
KEEP = 8  # stalls reported
OTHER_FRAMES = 6  # innermost frames of the other threads


class StallTrace:
    """Samples ``thread_id``'s stack while ``last_tick()`` (a ``time.perf_counter`` value) is too old."""

    def __init__(self, last_tick: Callable[[], float], thread_id: int | None = None) -> None:
        self._last_tick = last_tick
        self._thread_id = thread_id if thread_id is not None else threading.main_thread().ident
        self._stop = threading.Event()
        self._paused = 0  # the bench's own work on the GUI thread: its gaps are not the window's
        self._resumed = 0.0  # and the gap until the first tick after it
        self.stalls: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self._run, name="stall-trace", daemon=True)
        self._thread.start()

    def _sample(self) -> str:
        """The GUI thread's stack, then the innermost frames of every other thread that runs Python (one of
        them may be holding the GIL the GUI thread waits for)."""
        frames = sys._current_frames()
        names = {thread.ident: thread.name for thread in threading.enumerate()}
        out = _stack(frames.get(self._thread_id or 0), FRAMES)
        for ident, frame in frames.items():
            if ident in (self._thread_id, threading.get_ident()):
                continue
            top = _stack(frame, OTHER_FRAMES)
            if "wait" in top.splitlines()[-1] if top else True:
                continue  # idle in a queue or lock wait
            out += f"  [{names.get(ident, ident)}]\n" + "".join("    " + line + "\n" for line in top.splitlines())
        return out

    def _run(self) -> None:
        samples: collections.Counter[str] = collections.Counter()
        started: float | None = None
        while not self._stop.wait(SAMPLE_S):
            gap_ms = (time.perf_counter() - self._last_tick()) * 1000
            if self._paused or self._last_tick() < self._resumed:
                samples, started = collections.Counter(), None
                continue
            if gap_ms > STALL_MS:
                if started is None:
                    started = self._last_tick()
                samples[self._sample()] += 1
            elif started is not None:
                self._keep(started, samples)
                samples = collections.Counter()
                started = None

    def _keep(self, started: float, samples: collections.Counter[str]) -> None:
        length = (self._last_tick() - started) * 1000
        stack, hits = samples.most_common(1)[0]
        self.stalls.append({"ms": round(length, 1), "samples": sum(samples.values()), "top_hits": hits, "stack": stack})
        self.stalls.sort(key=lambda stall: -stall["ms"])
        del self.stalls[KEEP:]

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1
            self._resumed = time.perf_counter()

    def stop(self) -> list[dict[str, Any]]:
        self._stop.set()
        self._thread.join(timeout=1)
        return self.stalls


def _stack(frame: Any, depth: int) -> str:
    if frame is None:
        return ""
    lines = traceback.format_stack(frame)[-depth:]
    heads = (line.split("\n")[0].strip().replace('File "', "").replace('", line ', ":") for line in lines)
    return "".join(head + "\n" for head in heads)
