"""Whether a catalog can be written where it lies, and how to read it where it cannot.

SQLite in WAL mode writes two files beside the catalog (``-wal`` and ``-shm``) even to read, so a catalog on a
read-only disk or in a read-only folder fails with a bare "unable to open database file". Here we find out why a
place is not writable (to refuse writers with a reason) and pick the SQLite URI that reads it anyway: ``mode=ro``
where SQLite can still use its WAL files, ``immutable=1`` where it cannot and no unfinished journal needs reading
(immutable ignores the ``-wal`` file, so using it then would show stale data).
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from pathlib import Path

from artimuse_desktop.errors import CatalogError

READ_ONLY_HINT = (
    "reading commands such as `list` and `export` still work on it; to change it, make the place writable "
    "or copy the catalog to a writable folder and pass --catalog"
)


def _on_read_only_disk(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _nearest_existing(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def why_not_writable(path: Path) -> str | None:
    """Why the catalog at ``path`` (existing or to be created) cannot be written, or None when it can.

    Uses ``access(2)``, which also sees read-only mounts and immutable files (root ignores plain permissions, and
    so does SQLite when run as root)."""
    folder = _nearest_existing(path.parent)
    if _on_read_only_disk(folder):
        return f"it lies on a read-only file system ({folder} is mounted read-only)"
    if path.exists() and not os.access(path, os.W_OK):
        return f"the file {path} is read-only (its permissions or an immutable flag forbid writing)"
    if not os.access(folder, os.W_OK | os.X_OK):
        if path.exists():
            return (
                f"the folder {folder} is read-only, and SQLite needs to create its journal files "
                f"({path.name}-wal, {path.name}-shm) beside the catalog"
            )
        return f"the folder {folder} is read-only, so no catalog can be created in it"
    for suffix in ("-wal", "-shm"):
        extra = Path(f"{path}{suffix}")
        if extra.exists() and not os.access(extra, os.W_OK):
            return f"the journal file {extra} is read-only"
    return None


def _uri(path: Path, params: str) -> str:
    return f"file:{urllib.parse.quote(os.fsencode(path))}?{params}"


def _open_error(uri: str) -> str | None:
    """Why SQLite cannot read through ``uri``, or None when it can."""
    try:
        connection = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return None
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        connection.close()


def read_only_uri(path: Path) -> str:
    """The SQLite URI that reads the catalog at ``path`` without writing anything, or a clear CatalogError."""
    if not path.is_file():
        raise CatalogError(f"no catalog at {path}", hint="index a folder first: artimuse-desktop index PATH")
    plain = _uri(path, "mode=ro")
    error = _open_error(plain)
    if error is None:
        return plain
    wal = Path(f"{path}-wal")
    try:
        unfinished = wal.exists() and wal.stat().st_size > 0
    except OSError:
        unfinished = True
    if unfinished:
        raise CatalogError(
            f"cannot read the catalog {path}: it was not closed cleanly, and its journal {wal} cannot be "
            "replayed in a read-only place",
            hint="open it once where it can be written (or copy the folder to a writable place) and try again",
        )
    frozen = _uri(path, "mode=ro&immutable=1")
    frozen_error = _open_error(frozen)
    if frozen_error is None:
        return frozen
    raise CatalogError(f"cannot read the catalog {path}: {frozen_error}")
