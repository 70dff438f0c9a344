"""Cooperative cancellation and pause, on the ground floor: indexing, scoring, export and trash all stop on it,
and the CLI (Ctrl+C) and the GUI workers hold the token."""

from __future__ import annotations

import threading


class CancelToken:
    """Set ``cancel()`` from any thread; long loops check ``cancelled`` or call ``wait_if_paused`` between items."""

    def __init__(self) -> None:
        self._cancelled = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def cancel(self) -> None:
        self._cancelled.set()
        self._running.set()  # wake a paused run so it can stop

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_if_paused(self, timeout: float | None = None) -> bool:
        """Block while paused; returns False when cancelled."""
        self._running.wait(timeout)
        return not self.cancelled
