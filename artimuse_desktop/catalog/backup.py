"""A copy of a catalog kept beside it before an upgrade, as Lightroom keeps one, so an upgrade can be undone.

The copy is made with SQLite's online backup API, which reads one consistent snapshot even while the WAL holds
pages not yet in the main file, and is written under a ``.partial`` name that takes its final name only when
complete. If the disk has no room for it the upgrade is refused and the catalog is left as it was.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

from artimuse_desktop.errors import CatalogError

_HEADROOM = 1 << 20  # keep a MiB free beside the copy: the upgrade itself needs a little room too


def _human(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover


def backup_name(path: Path, revision: str, now: datetime | None = None) -> Path:
    """``catalog.sqlite.backup-0001-20261126-143000`` beside the catalog, never an existing name."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.name}.backup-{revision}-{stamp}")
    number = 2
    while candidate.exists() or Path(f"{candidate}.partial").exists():
        candidate = path.with_name(f"{path.name}.backup-{revision}-{stamp}-{number}")
        number += 1
    return candidate


def _remove(partial: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)


def _remove_leftovers(path: Path) -> None:
    """Partial copies a killed run left (only one upgrade runs at a time: the caller holds the write lock)."""
    for partial in path.parent.glob(f"{glob.escape(path.name)}.backup-*.partial"):
        _remove(partial)


def _no_room(path: Path, needed: int, free: int) -> CatalogError:
    return CatalogError(
        f"not upgrading the catalog {path}: there is no room beside it for the safety copy kept before an "
        f"upgrade (it needs about {_human(needed)}, {_human(free)} are free); the catalog was left untouched",
        hint="free some space on that disk (old catalog.sqlite.backup-* copies can go), then run again",
    )


def backup_catalog(path: Path, revision: str, *, now: datetime | None = None) -> Path:
    """Copy the catalog at ``path`` (at schema ``revision``) to a new file beside it; returns the copy's path.

    Raises CatalogError, with the catalog untouched and no partial copy left, when the copy cannot be made."""
    _remove_leftovers(path)
    target = backup_name(path, revision, now)
    partial = Path(f"{target}.partial")
    source = sqlite3.connect(path, timeout=30)
    try:
        page_size = int(source.execute("PRAGMA page_size").fetchone()[0])
        page_count = int(source.execute("PRAGMA page_count").fetchone()[0])
        needed = page_size * page_count
        free = shutil.disk_usage(path.parent).free
        if free < needed + _HEADROOM:
            raise _no_room(path, needed, free)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            copy.close()
        with partial.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, target)
    except CatalogError:
        _remove(partial)
        raise
    except (sqlite3.Error, OSError) as exc:
        _remove(partial)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CatalogError(
            f"not upgrading the catalog {path}: the safety copy kept before an upgrade could not be written "
            f"({reason}); the catalog was left untouched",
            hint="free some space on that disk (old catalog.sqlite.backup-* copies can go), then run again",
        ) from exc
    finally:
        source.close()
    return target
