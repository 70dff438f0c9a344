"""Opening a catalog: SQLite in WAL mode, foreign keys on, migrations applied, newer catalogs refused.

One writer at a time: every write goes through ``Catalog.write()``, a short session under a process-wide lock
(SQLite's ``busy_timeout`` covers other processes). Reads use ``Catalog.read()`` and never block the writer
thanks to WAL. ORM objects stay inside these sessions; callers get plain dataclasses from ``queries``.

Creating and upgrading happen in one transaction each (``catalog.upgrade``), with a copy kept beside a catalog
that holds photos before it is upgraded. Opening a current catalog costs one query (its ``alembic_version`` row,
compared with ``catalog.revisions``); Alembic is imported only for an upgrade, the ORM and the models with the
first session, and SQLAlchemy itself with the engine, on first use (``Catalog.engine``): the indexer's raw SQL
(``Catalog.raw_read`` / ``raw_write``, ``catalog.dbapi``) on a current file never needs it. A catalog in a
place that cannot be written is refused to writers with the reason, and opened read-only for readers
(``open_catalog_for_reading``, ``catalog.access``).

A studio's shared catalog lives on PostgreSQL instead (``--catalog postgresql+psycopg://USER@HOST/DB``,
``catalog.location``): the same models and migrations, a pooled engine that pings before use, the upgrade in one
transaction under an advisory lock (``catalog.upgrade``), no file copy (pg_dump is the backup there).
"""

from __future__ import annotations

import logging
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from artimuse_desktop.catalog import dbapi
from artimuse_desktop.catalog.access import READ_ONLY_HINT, read_only_uri, why_not_writable
from artimuse_desktop.catalog.engines import SERVER_HINT, current_revision, file_engine, read_only_engine, server_engine
from artimuse_desktop.catalog.location import CatalogLocation, parse_location
from artimuse_desktop.catalog.revisions import head_revision, known_revisions
from artimuse_desktop.errors import CatalogError, CatalogTooNewError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.orm import Session, sessionmaker

__all__ = ["BATCH", "WINDOW", "Catalog", "Tuning", "head_revision", "open_catalog", "open_catalog_for_reading"]

log = logging.getLogger(__name__)

_SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass(frozen=True)
class Tuning:
    """How SQLite connections to a catalog file use memory, per kind of process.

    ``cache_kib``: each connection's page cache (also the in-memory budget of its sorts); ``mmap_bytes``: how
    much of the file each connection maps (mapped pages count in the process's resident memory, once per
    connection); ``pool_size``: connections kept open between uses (more than that are opened for the moment
    and closed after, and their cache with them). The pool hands out the most recently used connection first,
    so the next question finds the pages the last one read."""

    cache_kib: int
    mmap_bytes: int
    pool_size: int


#: The command line, the indexer and scoring: whole-catalog scans and big sorts on one or two connections.
BATCH = Tuning(cache_kib=65536, mmap_bytes=256 * 1024 * 1024, pool_size=5)
#: The window (``open_catalog(path, tuning=WINDOW)``): a long-lived process whose resident memory counts (issue
#: 14: 500 MB at 300,000 photos), where several threads each hold a connection. Its questions read indexes
#: whose pages the operating system's file cache keeps anyway; copying them from there costs microseconds.
WINDOW = Tuning(cache_kib=16384, mmap_bytes=0, pool_size=2)


def _pragmas(tuning: Tuning, *, read_only: bool = False) -> Callable[[Any, Any], None]:
    """The ``connect`` listener that sets up each new connection."""

    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        else:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps the file consistent
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute(f"PRAGMA cache_size=-{int(tuning.cache_kib)}")
        cursor.execute(f"PRAGMA mmap_size={int(tuning.mmap_bytes)}")  # read pages in place rather than copying
        cursor.close()

    return set_pragmas


_set_pragmas = _pragmas(BATCH)  # upgrades always run with the batch settings (they rebuild indexes)


def _pool_args(tuning: Tuning) -> dict[str, Any]:
    return {"pool_size": tuning.pool_size, "max_overflow": 10, "pool_use_lifo": True}


def _check_is_sqlite(path: Path) -> None:
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        with path.open("rb") as handle:
            magic = handle.read(16)
    except OSError as exc:
        raise CatalogError(f"cannot read the catalog {path}: {exc.strerror or exc}") from exc
    if magic != _SQLITE_MAGIC:
        raise CatalogError(
            f"{path} is not an ArtiMuse catalog (not a SQLite database)",
            hint="pass another file with --catalog, or move this one away",
        )


_reason = dbapi.reason


def _is_database_error(exc: BaseException) -> bool:
    """A driver's or SQLAlchemy's DatabaseError (SQLAlchemy is looked at only where it was imported)."""
    if isinstance(exc, sqlite3.DatabaseError):
        return True
    sa_exc = sys.modules.get("sqlalchemy.exc")
    return sa_exc is not None and isinstance(exc, sa_exc.DatabaseError)


class Catalog:
    """A handle on one catalog (a SQLite file or a PostgreSQL database); cheap to share between threads
    (sessions are not).

    ``location`` names it in messages (a URL's password hidden), ``dialect`` is ``sqlite`` or ``postgresql``;
    ``path`` is the file (None on PostgreSQL) and ``url`` the full URL (None for a file): what another process
    passes to open the same catalog. ``read_only`` opens it without writing anything (no upgrade, ``write()``
    refused); ``notices`` holds what the open did that the user should hear of once (where a copy was kept
    before an upgrade)."""

    def __init__(
        self,
        path: str | Path | CatalogLocation,
        *,
        migrate: bool = True,
        read_only: bool = False,
        tuning: Tuning = BATCH,
    ) -> None:
        place = parse_location(path)
        self.place = place
        self.location = place.printable
        self.dialect = place.dialect
        self.path: Path | None = place.path
        self.url: str | None = place.url
        self.read_only_reason: str | None = None
        self.notices: list[str] = []
        self.backup_path: Path | None = None
        #: PostgreSQL: the server processes of this catalog's pooled connections (``catalog.watch``).
        self.backend_pids: set[int] = set()
        self.tuning = tuning
        #: The SQLAlchemy engine, made on first use for a file (``engine``): the indexer's raw SQL
        #: (``catalog.dbapi``) on a current file never imports SQLAlchemy.
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        self._make_engine: Callable[[], Engine] | None = None
        self._raw_pool: dbapi.SqlitePool | None = None
        if place.path is None:
            self.read_only_reason = "it was opened for reading only" if read_only else None
            self._engine = server_engine(place, read_only, self.backend_pids)
        else:
            self._open_file(place.path, read_only)
        self._session_factory: sessionmaker[Session] | None = None
        self._factory_lock = threading.Lock()
        self._write_lock = threading.RLock()
        try:
            if migrate:
                self._migrate()
        except Exception as exc:
            self._dispose()
            if _is_database_error(exc):
                raise CatalogError(
                    f"cannot open the catalog {self.location}: {_reason(exc)}",
                    hint=SERVER_HINT if self.dialect == "postgresql" else None,
                ) from exc
            raise

    def _open_file(self, path: Path, read_only: bool) -> None:
        _check_is_sqlite(path)
        tuning = self.tuning
        if read_only:
            self.read_only_reason = why_not_writable(path) or "it was opened for reading only"
            setup = _pragmas(tuning, read_only=True)
            self._make_engine = lambda: read_only_engine(path, _pool_args(tuning), setup)
            self._raw_pool = dbapi.SqlitePool(path, setup, size=tuning.pool_size, uri=read_only_uri(path))
            return
        reason = why_not_writable(path)
        if reason is not None:
            raise CatalogError(f"cannot write to the catalog {path}: {reason}", hint=READ_ONLY_HINT)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CatalogError(f"cannot create the folder for the catalog {path}: {exc}") from exc
        self._make_engine = lambda: file_engine(path, _pool_args(tuning), _pragmas(tuning))
        self._raw_pool = dbapi.SqlitePool(path, _pragmas(tuning), size=tuning.pool_size)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (made here on first use for a file; from then on the raw SQL of
        ``catalog.dbapi`` runs on its connections too, inside its sessions' transactions)."""
        if self._engine is None:
            with self._engine_lock:
                if self._engine is None:
                    assert self._make_engine is not None
                    self._engine = self._make_engine()
        return self._engine

    @property
    def raw_pool(self) -> dbapi.SqlitePool | None:
        """The plain ``sqlite3`` connections of ``raw_read`` / ``raw_write``; None once the engine exists (or on
        PostgreSQL): raw SQL then runs on the engine's connections."""
        return self._raw_pool if self._engine is None else None

    def raw_read(self) -> AbstractContextManager[dbapi.Raw]:
        """A read in raw SQL (``catalog.dbapi``): no SQLAlchemy imported on a file whose engine is not made."""
        return dbapi.raw_read(self)

    def raw_write(self) -> AbstractContextManager[dbapi.Raw]:
        """A write transaction in raw SQL (``catalog.dbapi``) under the one-writer lock: commits on success,
        rolls back on error."""
        return dbapi.raw_write(self)

    def _revision(self) -> str | None:
        pool = self.raw_pool
        return dbapi.sqlite_revision(pool) if pool is not None else current_revision(self.engine)

    @property
    def read_only(self) -> bool:
        return self.read_only_reason is not None

    def _migrate(self) -> None:
        current = self._revision()
        if current is not None and current not in known_revisions():
            raise CatalogTooNewError(
                f"the catalog {self.location} was written by a newer version of ArtiMuse Desktop "
                f"(schema {current}); it was left untouched",
                hint="update ArtiMuse Desktop, or open another catalog with --catalog",
            )
        if current == head_revision():
            return
        if self.read_only:
            raise CatalogError(
                f"cannot read the catalog {self.location}: it is at schema {current or 'none'} and needs an upgrade "
                f"to {head_revision()} first, which needs writing, but {self.read_only_reason}",
                hint="open it once where it can be written (or copy it to a writable folder), then try again",
            )
        from artimuse_desktop.catalog.upgrade import upgrade_server_to_head, upgrade_to_head

        with self._write_lock:
            if self.path is None:
                result = upgrade_server_to_head(self.engine, self.location)
            else:
                result = upgrade_to_head(self.path, _set_pragmas)
        if result.notice is not None:
            self.notices.append(result.notice)
            log.warning("%s", result.notice)
        if result.backup is not None:
            self.backup_path = result.backup
            notice = (
                f"upgraded the catalog {self.path} from schema {result.before} to {result.after}; "
                f"the catalog as it was is kept at {result.backup}"
            )
            self.notices.append(notice)
            log.warning("%s", notice)

    @property
    def schema_revision(self) -> str | None:
        return self._revision()

    @property
    def _sessions(self) -> sessionmaker[Session]:
        """The catalog's one session factory (``catalog.watch`` listens on it), made with the first session:
        the ORM and the models are imported then, not at open."""
        with self._factory_lock:
            if self._session_factory is None:
                from sqlalchemy.orm import sessionmaker

                from artimuse_desktop.catalog import models  # noqa: F401  (mapped before the first query)

                self._session_factory = sessionmaker(self.engine, expire_on_commit=False)
            return self._session_factory

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session; nothing is committed."""
        session = self._sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A short write transaction under the one-writer lock; commits on success, rolls back on error."""
        self._refuse_if_read_only()
        with self._write_lock:
            session = self._sessions()
            try:
                with self._committed(session):
                    yield session
            finally:
                session.close()

    def _refuse_if_read_only(self) -> None:
        if self.read_only_reason is not None:
            raise CatalogError(
                f"cannot write to the catalog {self.location}: {self.read_only_reason}", hint=READ_ONLY_HINT
            )

    @contextmanager
    def _committed(self, unit: Session | Connection) -> Iterator[None]:
        """Commit ``unit`` (a session or a connection) after the block; roll it back when the block fails, and
        name a write SQLite refused (a full disk, a lock held too long) as this catalog's."""
        from sqlalchemy.exc import OperationalError

        try:
            yield
            unit.commit()
        except OperationalError as exc:
            unit.rollback()
            raise CatalogError(f"could not write to the catalog {self.location}: {_reason(exc)}") from exc
        except BaseException:
            unit.rollback()
            raise

    @contextmanager
    def connect_read(self) -> Iterator[Connection]:
        """``read()`` for Core statements (``catalog.tables``): a connection, no ORM imported; nothing is
        committed."""
        with self.engine.connect() as connection:
            try:
                yield connection
            finally:
                connection.rollback()

    @contextmanager
    def connect_write(self) -> Iterator[Connection]:
        """``write()`` for Core statements: a transaction on a connection under the one-writer lock; commits on
        success, rolls back on error. Through a session where this process has made its session factory (its
        ``after_commit`` listeners then hear of this commit too), else without importing the ORM."""
        self._refuse_if_read_only()
        with self._write_lock:
            if self._session_factory is not None:  # the ORM is in use here: its commit listeners (``watch``) hear
                with self.write() as session:
                    yield session.connection()
                return
            with self.engine.connect() as connection, self._committed(connection):
                yield connection

    def integrity_check(self) -> str:
        """``ok``, or what is wrong: SQLite's own check of the file; on PostgreSQL (which checks its pages
        itself) that the server answers and the catalog has its schema."""
        from sqlalchemy import text

        with self.engine.connect() as connection:
            if self.dialect == "sqlite":
                return str(connection.execute(text("PRAGMA integrity_check")).scalar())
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            return "ok" if revision in known_revisions() else f"unknown schema revision {revision}"

    def _dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        if self._raw_pool is not None:
            self._raw_pool.close()

    def close(self) -> None:
        self._dispose()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _resolve(path: str | Path | None) -> CatalogLocation:
    if path is None:
        from artimuse_desktop import paths

        path = paths.default_catalog_path()
    return parse_location(path)


def open_catalog(path: str | Path | None = None, *, tuning: Tuning = BATCH) -> Catalog:
    """Open (creating or migrating) the catalog at ``path`` (a file or a PostgreSQL URL), or the default one;
    ``tuning=WINDOW`` for the window's lighter connections (a file's; a server keeps its own cache)."""
    return Catalog(_resolve(path), tuning=tuning)


def open_catalog_for_reading(path: str | Path | None = None) -> Catalog:
    """Open an existing catalog for a command that only reads: as usual where it can be written (upgrading it
    if needed), read-only where it cannot (a read-only folder, file or disk), instead of failing there. A
    PostgreSQL catalog opens as usual: the server decides what this user may do."""
    place = _resolve(path)
    if place.path is None:
        return Catalog(place)
    resolved = place.path
    if not resolved.exists():
        raise CatalogError(f"no catalog at {resolved}", hint="index a folder first: artimuse-desktop index PATH")
    return Catalog(resolved, read_only=why_not_writable(resolved) is not None)
