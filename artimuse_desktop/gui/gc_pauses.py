"""Python's full garbage collections, kept from freezing the window.

A collection holds the GIL, whatever thread starts it, so every full one stops the GUI thread until it is done.
At 300,000 photos the window's heap holds big long-lived containers (the bursts by member, the duplicate
groups, cached records): one full collection of it was 0.2-0.3 s of CPU (0.3-1.4 s of stall on a busy
machine), and the bursts and duplicates found on workers at start-up set off dozens of them, each finding
next to nothing to free.

Two things make them rare and short:

* ``calm_collections``: collections of the young generations run after many more allocations, so a full one
  comes after about 20 million net allocations instead of 70,000 (the bursts of 300,000 photos allocate
  millions of objects at once).
* ``HeapFreezer``: once the window has been idle a few seconds, what survived is frozen (``gc.freeze``:
  moved out of the generations, which takes microseconds), so later full collections go over what was made
  since, not the whole heap again. Cycles frozen are not freed: after the window has been idle a minute, at
  most every ten minutes, everything is unfrozen and collected once (a pause while nobody works).

Only the window's process does this (``gui.app.run``); the command line and the tests keep Python's defaults.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)

THRESHOLDS = (20_000, 20, 50)  # young, middle, old: see ``gc.set_threshold``
CHECK_MS = 2_000  # how often the window's idleness is looked at
FREEZE_AFTER = 2  # idle checks in a row before freezing (about 4 s)
COLLECT_AFTER = 30  # idle checks in a row before a full collection may run (about a minute)
COLLECT_EVERY_S = 600.0  # at most one full collection per ten minutes


def calm_collections(thresholds: tuple[int, int, int] = THRESHOLDS) -> tuple[int, int, int]:
    """Collect the young generations less often (never more often than Python would); returns the old
    thresholds."""
    old = gc.get_threshold()
    gc.set_threshold(*(max(new, current) for new, current in zip(thresholds, old, strict=True)))
    return (old[0], old[1], old[2])


class HeapFreezer(QObject):
    """Freezes the surviving heap when ``idle()`` has held for a few checks; collects it all now and then."""

    def __init__(
        self,
        idle: Callable[[], bool],
        parent: QObject | None = None,
        *,
        check_ms: int = CHECK_MS,
        freeze_after: int = FREEZE_AFTER,
        collect_after: int = COLLECT_AFTER,
        collect_every_s: float = COLLECT_EVERY_S,
    ) -> None:
        super().__init__(parent)
        self._idle = idle
        self._freeze_after = freeze_after
        self._collect_after = collect_after
        self._collect_every_s = collect_every_s
        self._idle_checks = 0
        self._frozen = False  # frozen since the window was last busy
        self._last_collect = time.monotonic()
        self.freezes = 0
        self.collections = 0
        self._timer = QTimer(self)
        self._timer.setInterval(check_ms)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> None:
        if not self._idle():
            self._idle_checks = 0
            self._frozen = False
            return
        self._idle_checks += 1
        if self._idle_checks >= self._freeze_after and not self._frozen:
            gc.freeze()
            self._frozen = True
            self.freezes += 1
        due = time.monotonic() - self._last_collect >= self._collect_every_s
        if self._idle_checks >= self._collect_after and due:
            started = time.perf_counter()
            gc.unfreeze()
            freed = gc.collect()
            gc.freeze()
            self._last_collect = time.monotonic()
            self.collections += 1
            log.debug("full collection while idle: %d freed in %.0f ms", freed, (time.perf_counter() - started) * 1000)

    def stop(self) -> None:
        self._timer.stop()
