"""The indexer's side of the catalog: what is known about each path, library roots, and batched row writes.

Writes go in short transactions of a few hundred rows, so the GUI (reading the same catalog) never waits long.
Each batch carries the decisions found in its photos' XMP sidecars and inside the files themselves (read by
the decode, ``embedded_xmp``) in the same transaction (sidecars are read before it starts, so no file is read
while the catalog is locked): a run killed after a batch leaves every committed photo with its imported
rating and label, where an import after the run left them without, for good. Sidecars are applied before the
file's own values, which fill only what is still unset (``sidecar_import`` has the precedence). A batch with
rows whose preview is not in the cache records their root's preview backlog (``preview_backlog``) with them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from artimuse_desktop.catalog.constants import (
    SOURCE_COLUMNS,
    SOURCE_FILE,
    SOURCE_SIDECAR,
    STATUS_ERROR,
    STATUS_MISSING,
    STATUS_OK,
    STATUS_TRASHED,
)
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.dbapi import Raw
from artimuse_desktop.catalog.root_locations import RootMap
from artimuse_desktop.library.analyse import AnalyseResult
from artimuse_desktop.library.folder_stamps import store_stamps
from artimuse_desktop.library.index_results import IndexSummary
from artimuse_desktop.library.preview_backlog import note_in
from artimuse_desktop.library.scanner import FolderStamp
from artimuse_desktop.library.sidecar_import import SidecarReader, apply_decisions, insert_values
from artimuse_desktop.library.sidecars import SidecarDecisions

ACTIVE_STATUSES = (STATUS_OK, STATUS_ERROR)


class KnownPhoto(NamedTuple):
    """The catalog's row for a path, as far as classifying a scanned file needs it (a tuple: a run over a
    50,000-photo library makes one per photo, and a dataclass cost four times as much to build)."""

    id: int
    path: str
    size: int
    mtime: float
    fingerprint: str | None
    status: str
    error: str | None


# Statements here are raw SQL (``catalog.dbapi``): adding one photo to a big library in a fresh process then
# never imports SQLAlchemy. Values are bound as SQLAlchemy binds them (``_bound``), so the ORM reads them back.
KNOWN_SQL = "SELECT id, path, size, mtime, fingerprint, status, error FROM photos WHERE "
_PATH_COLUMNS = frozenset({"path", "folder"})  # ``tables.PathType``: stored as the file system's bytes
_DATETIME_COLUMNS = frozenset({"captured_at", "indexed_at", "decided_at"})
#: Column defaults that ``tables.photos`` gives on the Python side (SQLAlchemy fills them in, not the database).
_PHOTO_DEFAULTS: dict[str, Any] = {"status": STATUS_OK, "flag": 0, "rating": 0}


def _bound(raw: Raw, values: Mapping[str, Any]) -> dict[str, Any]:
    """A photos row's values as SQLAlchemy would bind them: paths as bytes, datetimes in the backend's form."""
    return {
        key: raw.path(value) if key in _PATH_COLUMNS else raw.stamp(value) if key in _DATETIME_COLUMNS else value
        for key, value in values.items()
    }


def display_name(path: str) -> str:
    """A printable file name: names that are not valid UTF-8 show U+FFFD instead of surrogate escapes."""
    return os.fsencode(os.path.basename(path)).decode("utf-8", "replace")


def is_under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def under_bounds(folder: str) -> tuple[bytes, bytes, bytes]:
    """(folder, lower, upper) as stored bytes: the rows of ``folder`` and the byte range of those below it."""
    raw = os.fsencode(folder).rstrip(b"/\\") or b"/"
    sep = os.sep.encode()
    return os.fsencode(folder), raw.rstrip(sep) + sep, raw.rstrip(sep) + sep + b"\xff"


_KNOWN_SQL = KNOWN_SQL

#: An SQL condition with ``{}`` where its values go (numbered ``:name`` placeholders when the OR is built), and
#: its values.
_Condition = tuple[str, tuple[bytes, ...]]
_UNDER = "folder = {} OR (folder >= {} AND folder < {})"


def _under_conditions(folders: Sequence[str], places: RootMap) -> list[_Condition]:
    return [(_UNDER, under_bounds(places.to_stored(folder))) for folder in folders]


class _Reader:
    """Raw reads of ``_KNOWN_SQL`` rows into ``KnownPhoto`` tuples keyed by local path."""

    def __init__(self, raw: Raw, places: RootMap) -> None:
        self.raw, self.places = raw, places

    def rows(self, sql: str, conditions: Sequence[_Condition], chunk: int = 200) -> list[tuple[Any, ...]]:
        found: list[tuple[Any, ...]] = []
        for start in range(0, len(conditions), chunk):
            params: dict[str, bytes] = {}
            parts: list[str] = []
            for template, values in conditions[start : start + chunk]:
                names = [f"c{len(params) + i}" for i in range(len(values))]
                params.update(zip(names, values, strict=True))
                parts.append("(" + template.format(*(f":{name}" for name in names)) + ")")
            found += self.raw.execute(sql.format(where=" OR ".join(parts)), params).all()
        return found

    def known(self, sql: str, conditions: Sequence[_Condition], into: dict[str, KnownPhoto]) -> None:
        decode, places = os.fsdecode, self.places
        for row_id, raw_path, size, mtime, fingerprint, status, error in self.rows(sql, conditions):
            path = places.to_local(decode(raw_path)) if places else decode(raw_path)
            into[path] = KnownPhoto(row_id, path, size, mtime, fingerprint, status, error)


_NOT_OK = (STATUS_ERROR, STATUS_MISSING, STATUS_TRASHED)

# Distinct folders by index seeks, one per folder (a DISTINCT reads every row's index entry: 25 ms at 50,000).
# (ORDER BY ... LIMIT 1, not min(): PostgreSQL has no min(bytea).)
_SKIP_SCAN = (
    "WITH RECURSIVE f(folder) AS ("
    "SELECT (SELECT folder FROM photos WHERE folder >= :lower AND folder < :upper ORDER BY folder LIMIT 1) "
    "UNION ALL SELECT (SELECT folder FROM photos WHERE folder > f.folder AND folder < :upper ORDER BY folder "
    "LIMIT 1) FROM f WHERE f.folder IS NOT NULL) SELECT folder FROM f WHERE folder IS NOT NULL"
)


def _folders_under(raw: Raw, folders: Sequence[str], places: RootMap) -> set[bytes]:
    """The stored folders holding rows at or below ``folders``."""
    found: set[bytes] = set()
    for folder in folders:
        exact, lower, upper = under_bounds(places.to_stored(folder))
        rows = raw.execute("SELECT folder FROM photos WHERE folder = :exact LIMIT 1", {"exact": exact}).all()
        rows += raw.execute(_SKIP_SCAN, {"lower": lower, "upper": upper}).all()
        found.update(bytes(stored) for (stored,) in rows)
    return found


def load_known(
    catalog: Catalog,
    folders: Sequence[str],
    files: Sequence[str],
    places: RootMap | None = None,
    *,
    unchanged: set[str] | None = None,
) -> dict[str, KnownPhoto]:
    """Every catalog row under the scanned folders, and the rows of the scanned single files, by the path
    this computer sees them at (``places``: a mapped root's stored paths read as local ones).

    ``unchanged``: folders the scan trusted from their stamps (``scanner``): of their rows only those that are
    not plainly "ok" are read (a failure to report again, a missing photo that may be back); the many others
    are never read, which is what makes adding one photo to a big library cheap.

    Raw SQL on the driver (``catalog.dbapi``), not the ORM: at 50,000 rows the ORM's row objects and type hooks
    cost four times the query itself. (Both drivers hand BLOB / bytea values back as ``bytes``.)
    """
    places = places or RootMap()
    under = _under_conditions(folders, places)
    singles: list[_Condition] = [("path = {}", (os.fsencode(places.to_stored(path)),)) for path in files]
    if not under and not singles:
        return {}
    known: dict[str, KnownPhoto] = {}
    with catalog.raw_read() as raw:
        reader = _Reader(raw, places)
        if not unchanged:
            reader.known(_KNOWN_SQL + "{where}", under + singles, known)
            return known
        # The folders holding rows, less the unchanged ones: listed folders and those that vanished.
        stored_unchanged = {os.fsencode(places.to_stored(folder)) for folder in unchanged}
        changed: list[_Condition] = [
            ("folder = {}", (stored,))
            for stored in _folders_under(raw, folders, places)
            if stored not in stored_unchanged
        ]
        reader.known(_KNOWN_SQL + "{where}", changed + singles, known)
        # "ok" rows are unchanged whatever else they hold (``classify``); the others are few, and indexed.
        flagged = _KNOWN_SQL + f"status IN ({', '.join(repr(s) for s in _NOT_OK)}) AND ({{where}})"
        reader.known(flagged, under, known)
    return known


def ensure_roots(catalog: Catalog, folders: Sequence[str], places: RootMap | None = None) -> dict[str, int]:
    """LibraryRoot rows for the scanned folders; a folder inside a known root uses that root. Keyed by the
    path this computer sees each root at (``places``)."""
    places = places or RootMap()
    now = datetime.now()
    with catalog.raw_write() as connection:
        rows = connection.execute("SELECT id, path FROM library_roots").all()
        roots = {places.to_local(os.fsdecode(path)): int(root_id) for root_id, path in rows}
        for folder in folders:
            if not any(is_under(folder, existing) for existing in roots):
                params = {"path": connection.path(places.to_stored(folder)), "added_at": connection.stamp(now)}
                sql = "INSERT INTO library_roots (path, added_at) VALUES (:path, :added_at) RETURNING id"
                roots[folder] = int(connection.execute(sql, params).scalar())
        return roots


def root_id_for(path: str, root_ids: dict[str, int]) -> int | None:
    """The innermost library root holding ``path``."""
    best: tuple[int, int] | None = None
    for root, root_id in root_ids.items():
        if is_under(path, root) and (best is None or len(root) > best[0]):
            best = (len(root), root_id)
    return best[1] if best else None


def mark_roots_scanned(
    catalog: Catalog,
    root_ids: dict[str, int],
    folders: Sequence[str],
    stamps: Mapping[str, FolderStamp] | None = None,
    unchanged: set[str] | None = None,
) -> None:
    """Record when the scanned folders' roots were last scanned in full, and (``stamps``) the scan's folder
    stamps for the next run (``folder_stamps``), in one transaction."""
    now = datetime.now()
    with catalog.raw_write() as connection:
        listed, params = connection.in_("root", [root_ids[f] for f in folders if f in root_ids] or [-1])
        sql = f"UPDATE library_roots SET last_scan_at = :now WHERE id IN ({listed})"
        connection.execute(sql, {"now": connection.stamp(now), **params})
        if stamps is not None:
            store_stamps(connection, root_ids, folders, stamps, unchanged=unchanged or set(), now=now)


def row_values(result: AnalyseResult, root_ids: dict[str, int], now: datetime) -> dict[str, Any]:
    """The photos row for an analysed file: stat, fingerprint, decode facts and EXIF."""
    task = result.task
    values: dict[str, Any] = {
        "path": task.path,
        "folder": os.path.dirname(task.path),
        "filename": display_name(task.path),
        "size": task.size,
        "mtime": task.mtime,
        "root_id": root_id_for(task.path, root_ids),
        "fingerprint": result.fingerprint,
        "format": result.format,
        "width": result.width,
        "height": result.height,
        "orientation": result.orientation,
        "phash": result.phash,
        "status": STATUS_ERROR if result.error else STATUS_OK,
        "error": result.error,
        "indexed_at": now,
    }
    metadata = result.metadata or {}
    for key in (
        "captured_at", "camera_make", "camera_model", "lens", "focal_length", "aperture", "shutter", "iso",
        "gps_lat", "gps_lon", "gps_alt",
    ):  # fmt: skip
        values[key] = metadata.get(key)
    if result.orientation is None and metadata.get("orientation") is not None:
        values["orientation"] = metadata["orientation"]
    return values


def _count_from(rows: list[dict[str, Any]], source: str) -> int:
    """How many new rows took at least one decision from ``source``."""
    return sum(any(row[column] == source for column in SOURCE_COLUMNS.values()) for row in rows)


def _insert_sql(columns: Sequence[str]) -> str:
    names = ", ".join(columns)
    return f"INSERT INTO photos ({names}) VALUES ({', '.join(f':{c}' for c in columns)}) RETURNING id"


def _update_sql(columns: Sequence[str]) -> str:
    """An update by id (``:row_id``) setting ``columns``."""
    return f"UPDATE photos SET {', '.join(f'{c} = :{c}' for c in columns)} WHERE id = :row_id"


def _by_id(raw: Raw, values: dict[str, Any]) -> dict[str, Any]:
    """An update's parameters: ``id`` picks the row (as ``row_id``), the other keys are what it sets."""
    found = _bound(raw, values)
    found["row_id"] = found.pop("id")
    return found


class RowWriter:
    """Buffers row changes and writes them, with their imported decisions, in transactions of ``batch_size``.

    Rows created or changed by the run (``insert``, ``update(..., changed=path)``) join ``summary.photo_ids``
    and take their sidecars' decisions, then the ones found inside the file (``in_file``, when it was read);
    status-only updates (missing, a moved row's new path) do not.
    """

    def __init__(self, catalog: Catalog, summary: IndexSummary, batch_size: int, places: RootMap | None = None) -> None:
        self.catalog = catalog
        self.places = places or RootMap()  # rows carry local paths; the catalog stores the roots' own
        self.summary = summary
        self.batch_size = batch_size
        self.inserts: list[tuple[dict[str, Any], SidecarDecisions | None]] = []
        self.updates: list[dict[str, Any]] = []
        # (row id, photo path, decisions inside the file) of rows whose sidecars (and file values) to import
        self.changed: list[tuple[int, str, SidecarDecisions | None]] = []
        self.reader = SidecarReader()  # one per run: each folder listed once, each bad sidecar reported once
        self.backlog: set[int] = set()  # roots of queued rows whose preview is not in the cache
        self.noted: set[int] = set()  # roots whose preview backlog this run has recorded already

    def insert(self, values: dict[str, Any], *, in_file: SidecarDecisions | None = None) -> None:
        self.inserts.append((values, in_file))
        self._maybe_flush()

    def update(
        self, values: dict[str, Any], *, changed: str | None = None, in_file: SidecarDecisions | None = None
    ) -> None:
        """Queue an update; ``changed`` (the photo's path) marks a row this run created or changed."""
        self.updates.append(values)
        if changed is not None:
            self.summary.photo_ids.append(values["id"])
            self.changed.append((values["id"], changed, in_file))
        self._maybe_flush()

    def lacks_preview(self, root_id: int | None) -> None:
        """The row queued last has no preview in the cache: its root gets a preview backlog, recorded in the
        same transaction as the row (``preview_backlog``)."""
        if root_id is not None and root_id not in self.noted:
            self.backlog.add(root_id)

    def _maybe_flush(self) -> None:
        if len(self.inserts) + len(self.updates) >= self.batch_size:
            self.flush()

    def _sidecars(self, path: str) -> SidecarDecisions:
        known = len(self.reader.problems)
        found = self.reader.decisions_for(path)
        self.summary.sidecar_problems += [(str(p.path), p.reason) for p in self.reader.problems[known:]]
        return found

    def _stored(self, values: dict[str, Any]) -> dict[str, Any]:
        """A row's local path and folder as the catalog stores them."""
        return {
            key: self.places.to_stored(value) if key in ("path", "folder") else value for key, value in values.items()
        }

    def flush(self) -> None:
        """Write what is buffered now; the ids of inserted rows join ``summary.photo_ids``."""
        if not self.inserts and not self.updates:
            return
        inserts, updates, changed, backlog = self.inserts, self.updates, self.changed, self.backlog
        self.inserts, self.updates, self.changed, self.backlog = [], [], [], set()
        now = datetime.now()
        rows = [
            {**values, **insert_values(self._sidecars(values["path"]), now, in_file)} for values, in_file in inserts
        ]
        found = [(row_id, self._sidecars(path), in_file) for row_id, path, in_file in changed]
        if self.places:
            rows = [self._stored(values) for values in rows]
            updates = [self._stored(values) for values in updates]
        with self.catalog.raw_write() as connection:
            for values in rows:  # one by one: each gives back its id, in order (a few hundred per transaction)
                row = {**_PHOTO_DEFAULTS, **_bound(connection, values)}
                self.summary.photo_ids.append(int(connection.execute(_insert_sql(tuple(row)), row).scalar()))
            if updates:
                # Rows may carry different keys: group by key set for executemany (each sets its own keys).
                groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
                for values in updates:
                    groups.setdefault(tuple(sorted(values)), []).append(values)
                for keys, group in groups.items():
                    sql = _update_sql([key for key in keys if key != "id"])
                    connection.executemany(sql, [_by_id(connection, values) for values in group])
            if backlog:
                note_in(connection, backlog)
            from_sidecars = apply_decisions(connection, [(i, s) for i, s, _ in found if not s.empty], now)
            from_files = apply_decisions(
                connection, [(i, f) for i, _, f in found if f is not None and not f.empty], now, SOURCE_FILE
            )
        self.noted |= backlog
        self.summary.sidecar_decisions += len(from_sidecars) + _count_from(rows, SOURCE_SIDECAR)
        self.summary.file_decisions += len(from_files) + _count_from(rows, SOURCE_FILE)
