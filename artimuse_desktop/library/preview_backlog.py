"""Which library roots may hold photos without their ~1600 px preview, so ``index`` checks previews photo by
photo only where some may be missing.

The default ``index`` writes each decoded photo's preview from its own decode, so after it every photo it
touched has one; checking every photo of the folder again (one catalog row and a cache lookup each) made
adding one photo to a 50,000-photo library cost seconds. A run that leaves decoded photos without a preview
(``--no-previews``, thumbnails off, a cache that could not be written, a preview pass stopped early) records a
*backlog* for their root here: one ``catalog_settings`` row, ``index_previews_pending:<root id>``, whose value
is a fresh token. The next default ``index`` of that root checks all its photos (``previews.previews_after_index``)
and, once that pass is complete, settles the backlog, deleting the row only if its token is still the one read
before the pass: a backlog recorded meanwhile by another process stays.

Previews the cache drops to keep within its size budget are not a backlog: they are made again when shown
(re-making them all after each index would only push others out). ``index --full`` checks everything anyway.

Raw SQL (``catalog.dbapi``): the index path imports no SQLAlchemy for it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from artimuse_desktop.catalog.db import Catalog
    from artimuse_desktop.catalog.dbapi import Raw

_PREFIX = "index_previews_pending:"


def _key(root_id: int) -> str:
    return f"{_PREFIX}{root_id}"


def note_backlog(catalog: Catalog, root_ids: Iterable[int]) -> None:
    """Record that these roots may hold photos without a preview (a new token each time)."""
    ids = set(root_ids)
    if ids:
        with catalog.raw_write() as connection:
            note_in(connection, ids)


# The same upsert on both backends (SQLite 3.24+, PostgreSQL 9.5+).
_UPSERT = (
    "INSERT INTO catalog_settings (key, value) VALUES (:key, :value) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)


def note_in(connection: Raw, root_ids: Iterable[int]) -> None:
    """``note_backlog`` inside the caller's transaction (the indexer's: with the rows that lack previews)."""
    keys = sorted({_key(int(root_id)) for root_id in root_ids})
    if not keys:
        return
    token = f"{time.time_ns()}"
    connection.executemany(_UPSERT, [{"key": key, "value": token} for key in keys])


def pending_backlog(catalog: Catalog) -> dict[int, str]:
    """Root id -> token of every root with a backlog."""
    found: dict[int, str] = {}
    with catalog.raw_read() as connection:
        pattern = {"pattern": _PREFIX + "%"}  # as SQLAlchemy's startswith() (the digits are checked below)
        rows = connection.execute("SELECT key, value FROM catalog_settings WHERE key LIKE :pattern", pattern).all()
        for key, value in rows:
            suffix = str(key)[len(_PREFIX) :]
            if suffix.isdigit():
                found[int(suffix)] = str(value or "")
    return found


def settle_backlog(catalog: Catalog, read: Mapping[int, str]) -> None:
    """Forget the backlogs in ``read`` (as ``pending_backlog`` gave them) unless recorded again since."""
    if not read:
        return
    with catalog.raw_write() as connection:
        connection.executemany(
            "DELETE FROM catalog_settings WHERE key = :key AND value = :value",
            [{"key": _key(root_id), "value": token} for root_id, token in read.items()],
        )
