"""Removing the temporary files a killed run left behind: only our exact names, never a file still in use.

Exports write ``.NAME.<8 hex>.partial`` beside their copies and reports; ``xmp write`` writes
``.IMG.xmp.<8 hex>.tmp`` beside the sidecar it replaces. A run that ends, fails or is cancelled removes its
own; a kill -9 cannot. So the next run of the same command sweeps the folders it is about to write into. A
file goes only when all of this holds: its whole name matches the pattern, it is a regular file (not a link,
not a folder), and no live process holds it. Writers mark a temporary file in use with an exclusive
``flock`` for as long as it exists (``mark_in_use``); the kernel drops the lock when the process dies, so a
killed run's files are free and a running export's are not. Where ``flock`` does not exist (Windows) an open
file cannot be deleted either, which protects a running writer the same way.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

#: ``copier.partial_name`` and the report writer: ``.IMG_0001.jpg.1a2b3c4d.partial``.
PARTIAL_PATTERN = re.compile(r"\..+\.[0-9a-f]{8}\.partial", re.DOTALL)
#: ``xmp._temporary_name``: ``.IMG_0001.xmp.1a2b3c4d.tmp`` (the sidecar's own case: ``.IMG.XMP.…``).
SIDECAR_TMP_PATTERN = re.compile(r"\..+\.(?i:xmp)\.[0-9a-f]{8}\.tmp", re.DOTALL)


def mark_in_use(path: Path) -> int | None:
    """Hold an exclusive lock on our new temporary file; close the returned fd once the file is gone or has
    its final name. None where locks are not available (the file is then protected by being open)."""
    if fcntl is None:  # pragma: no cover - Windows
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # a file system without locks (some network shares): nothing to hold
        os.close(fd)
        return None
    return fd


def release(fd: int | None) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


def _remove_if_free(path: Path) -> bool:
    """Remove ``path`` if it is a regular file no running process holds; False when it stays."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return False
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return False
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # held by a live writer (or no locks here): not ours to judge
                return False
            now = os.lstat(path)
            if (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino):
                return False  # replaced meanwhile
            os.unlink(path)
            return True
    except OSError:
        return False
    finally:
        os.close(fd)
    try:  # pragma: no cover - Windows: an open file cannot be deleted, so a running writer's stays
        os.unlink(path)
    except OSError:
        return False
    return True  # pragma: no cover


def remove_leftovers(folders: Iterable[Path], pattern: re.Pattern[str]) -> list[Path]:
    """Remove our temporary files matching ``pattern`` in each folder (not below it); returns what went."""
    removed: list[Path] = []
    for folder in dict.fromkeys(Path(f) for f in folders):
        try:
            with os.scandir(folder) as entries:
                candidates = [
                    Path(entry.path)
                    for entry in entries
                    if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)
                ]
        except OSError:
            continue  # a folder we cannot list holds nothing we could remove
        for path in candidates:
            if _remove_if_free(path):
                log.info("removed %s, left by an earlier run that was stopped", path)
                removed.append(path)
    return removed
