"""Library roots per computer: the same NAS folder mounted at different paths on two machines is the same photos.

The catalog stores every photo path as it was first indexed (the root's own ``library_roots.path``). A computer
that sees a root elsewhere records where in ``root_locations`` (``artimuse-desktop roots map ROOT PATH``), and
the paths cross the catalog boundary through a ``RootMap``: ``to_local`` where a stored path is turned into a
file to open (photo records, the indexer's known rows, previews, sidecars), ``to_stored`` where a path found on
this computer is written or looked up (the indexer's rows, ``photo_id_for_path``). A computer without a mapping
sees every root at its own path: the map is empty and translating costs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from artimuse_desktop.identity import machine_id

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session

    from artimuse_desktop.catalog.db import Catalog
    from artimuse_desktop.catalog.dbapi import Raw

_SESSION_KEY = "artimuse_root_map"


def _is_under(path: str, prefix: str) -> bool:
    trimmed = prefix.rstrip(os.sep)
    return path in (prefix, trimmed) or path.startswith(trimmed + os.sep)


def translate(path: str, pairs: Sequence[tuple[str, str]]) -> str:
    """``path`` with the longest matching ``from`` prefix of ``pairs`` (whole folder names only) replaced by
    its ``to``; unchanged where none matches. Pure: the one rule both directions use."""
    best: tuple[str, str] | None = None
    for source, target in pairs:
        if _is_under(path, source) and (best is None or len(source.rstrip(os.sep)) > len(best[0].rstrip(os.sep))):
            best = (source, target)
    if best is None:
        return path
    source, target = (part.rstrip(os.sep) for part in best)
    rest = path[len(source) :] if path.startswith(source) else ""
    return (target + rest) or os.sep


@dataclass(frozen=True)
class RootMap:
    """This computer's root locations as (stored root path, local path) pairs."""

    pairs: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def to_local(self, stored: str) -> str:
        """Where this computer finds the file the catalog stores as ``stored``."""
        return translate(stored, self.pairs) if self.pairs else stored

    def to_stored(self, local: str) -> str:
        """How the catalog names the file this computer sees at ``local``."""
        return translate(local, [(b, a) for a, b in self.pairs]) if self.pairs else local


def root_map(session: Session, machine: str | None = None) -> RootMap:
    """This computer's (or ``machine``'s) map; read once per session and kept in ``session.info``."""
    machine = machine or machine_id()
    cached = session.info.get(_SESSION_KEY)
    if cached is not None and cached[0] == machine:
        return cached[1]
    found = read_root_map(session, machine)
    session.info[_SESSION_KEY] = (machine, found)
    return found


def read_root_map(connection: Connection | Session, machine: str | None = None) -> RootMap:
    """The map read on a Core connection (or a session), uncached.

    A Core query on the tables (``catalog.tables``): neither the ORM nor the models are needed for it (the
    indexer's, which needs no SQLAlchemy at all, is ``read_root_map_raw``)."""
    from sqlalchemy import select

    from artimuse_desktop.catalog.tables import library_roots, root_locations

    roots, places = library_roots.c, root_locations.c
    stmt = select(roots.path, places.path).join_from(library_roots, root_locations, places.root_id == roots.id)
    stmt = stmt.where(places.machine == (machine or machine_id()))
    return RootMap(tuple((str(stored), str(local)) for stored, local in connection.execute(stmt)))


_ROOT_MAP_SQL = (
    "SELECT library_roots.path, root_locations.path FROM library_roots "
    "JOIN root_locations ON root_locations.root_id = library_roots.id WHERE root_locations.machine = :machine"
)


def read_root_map_raw(raw: Raw, machine: str | None = None) -> RootMap:
    """``read_root_map`` in raw SQL (``catalog.dbapi``): the indexer's, which imports no SQLAlchemy."""
    rows = raw.execute(_ROOT_MAP_SQL, {"machine": machine or machine_id()}).all()
    return RootMap(tuple((os.fsdecode(stored), os.fsdecode(local)) for stored, local in rows))


def load_root_map(catalog: Catalog, machine: str | None = None) -> RootMap:
    with catalog.raw_read() as raw:
        return read_root_map_raw(raw, machine)


@dataclass(frozen=True)
class RootInfo:
    """One library root as ``roots`` lists it: its stored path and where this computer sees it."""

    id: int
    path: str
    local_path: str  # the stored path where this computer has no mapping
    mapped: bool
    photos: int
    last_scan_at: datetime | None


def list_roots(catalog: Catalog, machine: str | None = None) -> list[RootInfo]:
    from sqlalchemy import func, select

    from artimuse_desktop.catalog.models import LibraryRoot, Photo, RootLocation

    machine = machine or machine_id()
    counts = select(Photo.root_id, func.count().label("n")).group_by(Photo.root_id).subquery()
    stmt = (
        select(LibraryRoot.id, LibraryRoot.path, RootLocation.path, counts.c.n, LibraryRoot.last_scan_at)
        .outerjoin(RootLocation, (RootLocation.root_id == LibraryRoot.id) & (RootLocation.machine == machine))
        .outerjoin(counts, counts.c.root_id == LibraryRoot.id)
        .order_by(LibraryRoot.id)
    )
    with catalog.read() as session:
        return [
            RootInfo(int(i), str(path), str(local or path), local is not None, int(n or 0), scanned)
            for i, path, local, n, scanned in session.execute(stmt)
        ]


def find_root(roots: Sequence[RootInfo], name: str) -> RootInfo:
    """The root ``name`` means: its id, its stored path, or where this computer sees it."""
    if name.strip().isdigit():
        wanted = int(name)
        for root in roots:
            if root.id == wanted:
                return root
    normal = os.path.normpath(os.path.expanduser(name))
    for root in roots:
        if normal in (os.path.normpath(root.path), os.path.normpath(root.local_path)):
            return root
    known = ", ".join(f"{r.id} ({r.path})" for r in roots) or "none yet: index a folder first"
    raise ValueError(f"no library root {name!r} in the catalog; the roots are: {known}")


def map_root(catalog: Catalog, name: str, local_path: str | None, machine: str | None = None) -> RootInfo:
    """Record that this computer sees the root ``name`` at ``local_path`` (None, or the root's own path: forget
    the mapping). The folder must exist here, and must not be another root's place."""
    from sqlalchemy import delete
    from sqlalchemy.dialects import postgresql, sqlite

    from artimuse_desktop.catalog.models import RootLocation

    machine = machine or machine_id()
    roots = list_roots(catalog, machine)
    root = find_root(roots, name)
    local = None
    if local_path is not None:
        local = os.path.abspath(os.path.expanduser(local_path))
        if not os.path.isdir(local):
            raise ValueError(f"cannot map root {root.id} ({root.path}) to {local}: no such folder on this computer")
        for other in roots:
            if other.id != root.id and (_is_under(local, other.local_path) or _is_under(other.local_path, local)):
                raise ValueError(
                    f"cannot map root {root.id} ({root.path}) to {local}: that overlaps root {other.id}, "
                    f"seen here at {other.local_path}"
                )
        if os.path.normpath(local) == os.path.normpath(root.path):
            local = None
    with catalog.write() as session:
        session.info.pop(_SESSION_KEY, None)
        session.execute(delete(RootLocation).where(RootLocation.root_id == root.id, RootLocation.machine == machine))
        if local is not None:
            dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            stmt = dialect.insert(RootLocation).values(
                root_id=root.id, machine=machine, path=local, mapped_at=datetime.now()
            )
            session.execute(stmt.on_conflict_do_nothing())
    return find_root(list_roots(catalog, machine), str(root.id))
