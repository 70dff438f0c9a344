"""What background jobs say to the window: plain dataclasses only (no ORM object, no widget crosses a thread).

Requests carry a ``CancelToken`` the job checks between photos, so pause and cancel act within one batch.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from artimuse_desktop.cancel import CancelToken

INDEX = "index"
SCORE = "score"
CRITIQUE = "critique"


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
    max_new_tokens: int | None = None  # most tokens per attribute (the window's setting); None: the backend's


@dataclass(frozen=True)
class IndexRequest:
    roots: tuple[str, ...]
    token: CancelToken
    previews: bool = True
    cache_max_bytes: int | None = None
    workers: int | None = None


@dataclass
class Throttle:
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


def summary_failures(summary: Any) -> tuple[tuple[str, str], ...]:
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


def summary_text(summary: Any) -> str:
    """ "12 new, 3 updated, 1 failed" from an IndexSummary (only the non-zero counts)."""
    parts = [
        f"{getattr(summary, name):,} {name}"
        for name in ("new", "updated", "moved", "restored", "unchanged", "failed", "missing")
        if isinstance(getattr(summary, name, None), int) and getattr(summary, name)
    ]
    return ", ".join(parts)
