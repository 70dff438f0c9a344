"""What an indexing run tells its caller: progress while it runs (throttled for progress bars), a summary after."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class IndexProgress:
    """Plain data for progress bars: the phase, how far it is, the file at hand and the speed."""

    phase: str  # "scan" | "match" | "index" | "previews"
    done: int
    total: int  # 0 while unknown (scanning)
    current: str | None
    rate: float  # items per second in this phase
    elapsed: float  # seconds since the run started


ProgressCallback = Callable[[IndexProgress], None]


@dataclass
class IndexSummary:
    """What a run did. Every scanned photo is counted in exactly one of new, updated, moved, restored,
    unchanged or failed."""

    roots: list[str]
    new: int = 0
    updated: int = 0
    moved: int = 0
    restored: int = 0  # came back at the same path after being missing or trashed
    unchanged: int = 0
    failed: int = 0
    missing: int = 0  # photos marked missing by this run
    failures: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # special files, broken links (path, reason)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # folders (path, reason)
    ignored: int = 0  # files that are not photos
    decoded: int = 0  # files whose pixels were decoded (0 on an unchanged rescan)
    hashed: int = 0  # files fingerprinted
    previews: int = 0  # ~1600 px previews written by the decode itself (``index_roots(previews=True)``)
    photo_ids: list[int] = field(default_factory=list)  # rows created or changed by this run
    root_ids: dict[str, int] = field(default_factory=dict)  # the scanned folders' library roots (local path: id)
    sidecar_decisions: int = 0  # photos whose rating/flag/label came from a Lightroom/darktable sidecar
    sidecar_problems: list[tuple[str, str]] = field(default_factory=list)  # unreadable sidecars (path, reason)
    file_decisions: int = 0  # photos whose rating/flag/label came from inside the file (XMP packet, EXIF)
    embedded_problems: list[tuple[str, str]] = field(default_factory=list)  # refused in-file XMP (photo, reason)
    cancelled: bool = False
    elapsed: float = 0.0
    executor: str = ""
    workers: int = 0

    @property
    def total(self) -> int:
        return self.new + self.updated + self.moved + self.restored + self.unchanged + self.failed


class ProgressReporter:
    """Turns (phase, done, total, current) into ``IndexProgress`` calls, at most every 0.1 s per phase."""

    def __init__(self, callback: ProgressCallback | None, started: float) -> None:
        self.callback = callback
        self.started = started
        self.phase_started = started
        self.last = 0.0
        self.last_phase = ""

    def phase(self) -> None:
        """A new phase starts now: its rate counts from here."""
        self.phase_started = time.monotonic()

    def __call__(self, phase: str, done: int, total: int, current: str | None, *, force: bool = False) -> None:
        if self.callback is None:
            return
        now = time.monotonic()
        if not force and phase == self.last_phase and now - self.last < 0.1:
            return
        self.last, self.last_phase = now, phase
        spent = max(now - self.phase_started, 1e-6)
        self.callback(IndexProgress(phase, done, total, current, done / spent, now - self.started))
