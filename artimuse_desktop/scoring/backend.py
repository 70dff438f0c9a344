"""The backend protocol every scoring model implements, plus the small types it speaks.

A backend is split in two so the pipeline can keep the model busy: ``prepare`` runs on a thread pool ahead of the
model (decode, resize, normalise) and must be thread-safe; ``score_batch`` runs on the pipeline's thread with a
list of prepared items and returns one result per item, in order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.scoring.types import PhotoInput, ScoreResult


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str


@dataclass(frozen=True)
class BackendInfo:
    """One entry of the model list: lives here, below the registry and every backend's discovery, so both
    can speak it without importing each other."""

    name: str
    description: str
    available: bool
    reason: str
    experimental: bool = False


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
