"""The backend protocol every scoring model implements, plus the small types it speaks.

A backend is split in two so the pipeline can keep the model busy: ``prepare`` runs on a thread pool ahead of the
model (decode, resize, normalise) and must be thread-safe; ``score_batch`` runs on the pipeline's thread with a
list of prepared items and returns one result per item, in order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from artimuse_desktop.scoring.types import PhotoInput, ScoreResult


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str


class CancelToken:
    """Cooperative cancellation and pause, shared by the pipeline, the CLI (Ctrl+C) and the GUI worker."""

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


TokenCallback = Callable[[str, str], None]
"""Streaming critique text: called with (attribute, new_text_fragment)."""


@runtime_checkable
class Backend(Protocol):
    """A scoring model. ``version`` changes whenever its outputs may change (weights, code, prompts)."""

    name: str
    version: str
    description: str
    supports_critique: bool

    def availability(self) -> Availability: ...

    def load(self, device: str = "auto") -> None: ...

    def unload(self) -> None: ...

    def prepare(self, item: PhotoInput) -> Any: ...

    def score_batch(self, prepared: Sequence[Any]) -> list[ScoreResult]: ...

    def critique(
        self,
        item: PhotoInput,
        attributes: Sequence[str],
        on_token: TokenCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> dict[str, str]: ...
