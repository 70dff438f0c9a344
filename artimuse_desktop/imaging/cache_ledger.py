"""A running size total of the thumbnail cache, so a prune after adding N thumbnails costs O(N), not a walk.

``ThumbnailCache.prune`` runs after every index and preview pass. Walking and statting every cached file to
learn the total (50,000 photos: 100,000 files) made adding one photo cost seconds. Here the cache keeps a
ledger file, ``<root>/.ledger``: a checkpoint line with the total as of the last full walk, then one line per
change since (``+bytes`` for a stored file, ``-bytes`` for a removed one). Appending a line is one small
``O_APPEND`` write under a shared ``flock`` (processes that share the cache append side by side); reading the
total and writing a new checkpoint take the exclusive lock.

The ledger is only a hint that decides whether a walk is needed: a prune that finds the total over budget, a
ledger it cannot read (missing, cut short by a crash, written by another version), one older than
``MAX_AGE_S`` or one kept for a larger budget walks the cache as before and starts a new checkpoint. A drift
(a file deleted by hand, a failed append) therefore costs at most one walk, never a wrong deletion: what to
delete is always decided from the walk.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: appends stay atomic; checkpoints may then lose a racing line
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

LEDGER_NAME = ".ledger"
MAX_AGE_S = 7 * 86400.0  # walk at least weekly, so changes made behind the cache's back are seen
_MAGIC = "artimuse-thumbnail-ledger"
_VERSION = 1


@dataclass(frozen=True)
class LedgerState:
    total_bytes: int  # checkpoint plus every change since
    budget: int  # the budget the checkpoint was taken under
    taken_at: float  # when the checkpoint's walk ran
    changes: int  # lines since the checkpoint


def _parse(text: str) -> LedgerState | None:
    if not text.endswith("\n"):
        return None  # empty, or a line cut short
    lines = text.splitlines()
    head = lines[0].split()
    if len(head) != 5 or head[0] != _MAGIC or head[1] != str(_VERSION):
        return None
    try:
        total, budget, taken_at = int(head[2]), int(head[3]), float(head[4])
        total += sum(int(line) for line in lines[1:])
    except ValueError:
        return None
    return LedgerState(total, budget, taken_at, len(lines) - 1)


class CacheLedger:
    """The ledger of one cache folder; cheap to make, holds no file open between calls."""

    def __init__(self, root: Path) -> None:
        self.path = root / LEDGER_NAME

    def record(self, delta: int) -> None:
        """Add one change (bytes stored, or negative: removed). Never raises: a ledger that misses a change
        is removed, so the next prune walks instead of trusting it."""
        if delta == 0:
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        except FileNotFoundError:
            return  # no checkpoint yet: the next prune walks anyway
        except OSError:
            self._forget()
            return
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_SH)
            line = f"{delta:+d}\n".encode("ascii")
            if os.write(fd, line) != len(line):
                raise OSError("short write to the thumbnail cache ledger")
        except OSError:
            log.debug("cannot append to %s", self.path, exc_info=True)
            self._forget()
        finally:
            os.close(fd)  # closing releases the lock

    def _forget(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[LedgerSession]:
        """The ledger locked against appends: read its state, write a new checkpoint."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            log.debug("cannot open %s", self.path, exc_info=True)
            yield LedgerSession(None)
            return
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield LedgerSession(fd)
        finally:
            os.close(fd)


class LedgerSession:
    """The ledger while it is locked (``fd`` None: it cannot be used; every state is unknown)."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    def state(self) -> LedgerState | None:
        if self._fd is None:
            return None
        try:
            os.lseek(self._fd, 0, os.SEEK_SET)
            chunks = []
            while chunk := os.read(self._fd, 1 << 16):
                chunks.append(chunk)
            return _parse(b"".join(chunks).decode("ascii"))
        except (OSError, UnicodeDecodeError):
            return None

    def checkpoint(self, total_bytes: int, budget: int, taken_at: float | None = None) -> None:
        """Start over from a known total (after a walk, or folding the changes into one line)."""
        if self._fd is None:
            return
        when = time.time() if taken_at is None else taken_at
        line = f"{_MAGIC} {_VERSION} {int(total_bytes)} {int(budget)} {when:.0f}\n"
        try:
            os.ftruncate(self._fd, 0)
            os.lseek(self._fd, 0, os.SEEK_SET)
            os.write(self._fd, line.encode("ascii"))
        except OSError:
            log.debug("cannot write the checkpoint of the thumbnail cache ledger", exc_info=True)
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)  # an empty ledger is unreadable: the next prune walks
