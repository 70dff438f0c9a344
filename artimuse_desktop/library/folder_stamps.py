"""Folder stamps between index runs, so that a rescan lists only the folders that changed (``scanner``).

Kept in ``catalog_settings``, one row per library root (``index_folders:<root id>``, JSON), with every folder's
path relative to the root: a root mapped to another place on another computer (``RootMap``) reads the same
stamps, and a stamp that does not fit the folder it finds (another file system, another copy) only means that
folder is listed again. Written in the transaction that records a complete scan, never after a cancelled one.

A full scan (no stamps: every folder listed, every photo stat-ed, so in-place edits are noticed everywhere) runs
when a root has none yet, when its last full scan is older than ``FULL_SCAN_EVERY``, and on request
(``index_roots(full_scan=True)``, ``retry_failed``). A row that does not parse is ignored: the scan is full.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from artimuse_desktop.catalog.root_locations import RootMap
from artimuse_desktop.library.scanner import FolderStamp

if TYPE_CHECKING:
    from artimuse_desktop.catalog.db import Catalog
    from artimuse_desktop.catalog.dbapi import Raw

FULL_SCAN_EVERY = timedelta(days=1)
_VERSION = 1


def setting_key(root_id: int) -> str:
    return f"index_folders:{root_id}"


def _relative(path: str, root: str) -> str | None:
    """``path`` relative to ``root`` ("" for the root itself); None when it is not under it."""
    if path == root:
        return ""
    prefix = root.rstrip(os.sep) + os.sep
    return path[len(prefix) :] if path.startswith(prefix) else None


def _innermost(folder: str, roots: Iterable[str]) -> str | None:
    holders = [root for root in roots if _relative(folder, root) is not None]
    return max(holders, key=len) if holders else None


def _decode(value: str | None) -> dict[str, Any] | None:
    try:
        state = json.loads(value or "")
    except ValueError:
        return None
    if not isinstance(state, dict) or state.get("v") != _VERSION or not isinstance(state.get("folders"), dict):
        return None
    return state


def _stamp(raw: Any) -> FolderStamp | None:
    try:
        mtime, ctime, inode, trusted, photos, ignored, subfolders, skipped = raw
        return FolderStamp(
            int(mtime), int(ctime), int(inode), bool(trusted), int(photos), int(ignored),
            tuple(str(name) for name in subfolders), tuple((str(name), str(reason)) for name, reason in skipped),
        )  # fmt: skip
    except (TypeError, ValueError):
        return None


def load_stamps(
    catalog: Catalog, folders: Iterable[str], places: RootMap | None = None, *, now: datetime | None = None
) -> dict[str, FolderStamp]:
    """The stamps of the folders under ``folders``, by the path this computer sees them at; none for a root
    whose full scan is due (see the module notes)."""
    places = places or RootMap()
    now = now or datetime.now()
    stamps: dict[str, FolderStamp] = {}
    with catalog.raw_read() as connection:
        rows = connection.execute("SELECT id, path FROM library_roots").all()
        roots = {places.to_local(os.fsdecode(path)): root_id for root_id, path in rows}
        wanted: dict[str, list[str]] = {}
        for folder in folders:
            root = _innermost(folder, roots)
            if root is not None:
                wanted.setdefault(root, []).append(folder)
        for root, scanned in wanted.items():
            state = _decode(_setting(connection, setting_key(roots[root])))
            if state is None:
                continue
            try:
                full_at = datetime.fromisoformat(str(state.get("full_at")))
            except ValueError:
                continue
            if now - full_at > FULL_SCAN_EVERY or full_at > now + timedelta(minutes=5):
                continue
            for relative, raw in state["folders"].items():
                path = os.path.join(root, relative) if relative else root
                stamp = _stamp(raw)
                if stamp is not None and any(_relative(path, folder) is not None for folder in scanned):
                    stamps[path] = stamp
    return stamps


def store_stamps(
    connection: Raw,
    root_ids: Mapping[str, int],
    folders: Iterable[str],
    stamps: Mapping[str, FolderStamp],
    *,
    unchanged: set[str],
    now: datetime,
) -> None:
    """Replace the stamps under each scanned folder by this scan's (``root_ids``: local root path -> id).
    A scanned root without any ``unchanged`` folder (those the scan trusted from their stamps) was listed in
    full, every photo stat-ed: its full-scan time is now."""
    for folder in folders:
        root = _innermost(folder, root_ids)
        if root is None:
            continue
        scanned = _relative(folder, root)
        assert scanned is not None
        key = setting_key(root_ids[root])
        state = _decode(_setting(connection, key)) or {"v": _VERSION, "folders": {}}
        kept = {
            relative: raw
            for relative, raw in state["folders"].items()
            if scanned and relative != scanned and not relative.startswith(scanned + os.sep)
        }
        for path, stamp in stamps.items():
            relative = _relative(path, folder)
            if relative is not None:
                kept[os.path.join(scanned, relative) if scanned and relative else scanned or relative] = [
                    stamp.mtime_ns, stamp.ctime_ns, stamp.inode, int(stamp.trusted), stamp.photos, stamp.ignored,
                    list(stamp.subfolders), [list(pair) for pair in stamp.skipped],
                ]  # fmt: skip
        state["folders"] = kept
        if not scanned and not any(_relative(path, root) is not None for path in unchanged):
            state["full_at"] = now.isoformat()
        _store_setting(connection, key, json.dumps(state, separators=(",", ":")))


# Raw SQL (``catalog.dbapi``): a short run (one new photo) never imports SQLAlchemy.


def _setting(connection: Raw, key: str) -> str | None:
    found = connection.execute("SELECT value FROM catalog_settings WHERE key = :key", {"key": key}).scalar()
    return None if found is None else str(found)


def _store_setting(connection: Raw, key: str, value: str) -> None:
    params = {"key": key, "value": value}
    if connection.execute("UPDATE catalog_settings SET value = :value WHERE key = :key", params).rowcount:
        return
    connection.execute("INSERT INTO catalog_settings (key, value) VALUES (:key, :value)", params)
