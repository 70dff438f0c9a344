"""Opening a catalog: SQLite in WAL mode, foreign keys on, migrations applied, newer catalogs refused.

One writer at a time: every write goes through ``Catalog.write()``, a short session under a process-wide lock
(SQLite's ``busy_timeout`` covers other processes). Reads use ``Catalog.read()`` and never block the writer
thanks to WAL. ORM objects stay inside these sessions; callers get plain dataclasses from ``queries``.

Creating and upgrading happen in one transaction each (``catalog.upgrade``), with a copy kept beside a catalog
that holds photos before it is upgraded. Opening a current catalog costs one query (its ``alembic_version`` row,
compared with ``catalog.revisions``); Alembic is imported only for an upgrade, the ORM and the models with the
first session. A catalog in a place that cannot be written is refused to writers with the reason, and opened
read-only for readers (``open_catalog_for_reading``, ``catalog.access``).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, OperationalError

from artimuse_desktop.catalog.access import READ_ONLY_HINT, read_only_uri, why_not_writable
from artimuse_desktop.catalog.revisions import head_revision, known_revisions
from artimuse_desktop.errors import CatalogError, CatalogTooNewError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

__all__ = ["Catalog", "head_revision", "open_catalog", "open_catalog_for_reading"]

log = logging.getLogger(__name__)

_SQLITE_MAGIC = b"SQLite format 3\x00"


def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps the file consistent
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache for sorting 100k-photo catalogs
    cursor.execute("PRAGMA mmap_size=268435456")  # read pages in place rather than copying them
    cursor.close()


def _set_read_only_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.close()


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


def _current_revision(engine: Engine) -> str | None:
    """The schema revision recorded in the catalog, in one query; None where there is none (new or half-made)."""
    with engine.connect() as connection:
        try:
            row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
        except OperationalError as exc:
            if "no such table" in str(exc.orig):
                return None
            raise
    return None if row is None else str(row[0])


def _read_only_engine(path: Path) -> Engine:
    uri = read_only_uri(path)

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30)

    engine = create_engine(f"sqlite:///{path}", creator=connect)
    event.listen(engine, "connect", _set_read_only_pragmas)
    return engine


class Catalog:
    """A handle on one catalog file; cheap to share between threads (sessions are not).

    ``read_only`` opens it without writing anything (no upgrade, ``write()`` refused); ``notices`` holds what
    the open did that the user should hear of once (where a copy was kept before an upgrade)."""

    def __init__(self, path: str | Path, *, migrate: bool = True, read_only: bool = False) -> None:
        self.path = Path(path).expanduser().absolute()
        self.read_only_reason: str | None = None
        self.notices: list[str] = []
        self.backup_path: Path | None = None
        _check_is_sqlite(self.path)
        if read_only:
            self.read_only_reason = why_not_writable(self.path) or "it was opened for reading only"
            self.engine = _read_only_engine(self.path)
        else:
            reason = why_not_writable(self.path)
            if reason is not None:
                raise CatalogError(f"cannot write to the catalog {self.path}: {reason}", hint=READ_ONLY_HINT)
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CatalogError(f"cannot create the folder for the catalog {self.path}: {exc}") from exc
            self.engine = create_engine(
                f"sqlite:///{self.path}",
                connect_args={"check_same_thread": False, "timeout": 30},
            )
            event.listen(self.engine, "connect", _set_pragmas)
        self._session_factory: sessionmaker[Session] | None = None
        self._factory_lock = threading.Lock()
        self._write_lock = threading.RLock()
        try:
            if migrate:
                self._migrate()
        except (DatabaseError, sqlite3.DatabaseError) as exc:
            self.engine.dispose()
            raise CatalogError(
                f"cannot open the catalog {self.path}: {exc.orig if hasattr(exc, 'orig') else exc}"
            ) from exc
        except Exception:
            self.engine.dispose()
            raise

    @property
    def read_only(self) -> bool:
        return self.read_only_reason is not None

    def _migrate(self) -> None:
        current = _current_revision(self.engine)
        if current is not None and current not in known_revisions():
            raise CatalogTooNewError(
                f"the catalog {self.path} was written by a newer version of ArtiMuse Desktop "
                f"(schema {current}); it was left untouched",
                hint="update ArtiMuse Desktop, or open another catalog with --catalog",
            )
        if current == head_revision():
            return
        if self.read_only:
            raise CatalogError(
                f"cannot read the catalog {self.path}: it is at schema {current or 'none'} and needs an upgrade "
                f"to {head_revision()} first, which needs writing, but {self.read_only_reason}",
                hint="open it once where it can be written (or copy it to a writable folder), then try again",
            )
        from artimuse_desktop.catalog.upgrade import upgrade_to_head

        with self._write_lock:
            result = upgrade_to_head(self.path, _set_pragmas)
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
        return _current_revision(self.engine)

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
        if self.read_only_reason is not None:
            raise CatalogError(f"cannot write to the catalog {self.path}: {self.read_only_reason}", hint=READ_ONLY_HINT)
        with self._write_lock:
            session = self._sessions()
            try:
                yield session
                session.commit()
            except OperationalError as exc:
                session.rollback()
                raise CatalogError(f"could not write to the catalog {self.path}: {exc.orig}") from exc
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    def integrity_check(self) -> str:
        with self.engine.connect() as connection:
            return str(connection.execute(text("PRAGMA integrity_check")).scalar())

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _resolve(path: str | Path | None) -> Path:
    if path is None:
        from artimuse_desktop import paths

        return Path(paths.default_catalog_path())
    return Path(path)


def open_catalog(path: str | Path | None = None) -> Catalog:
    """Open (creating or migrating) the catalog at ``path``, or the default one."""
    return Catalog(_resolve(path))


def open_catalog_for_reading(path: str | Path | None = None) -> Catalog:
    """Open an existing catalog for a command that only reads: as usual where it can be written (upgrading it
    if needed), read-only where it cannot (a read-only folder, file or disk), instead of failing there."""
    resolved = Path(_resolve(path)).expanduser().absolute()
    if not resolved.exists():
        raise CatalogError(f"no catalog at {resolved}", hint="index a folder first: artimuse-desktop index PATH")
    return Catalog(resolved, read_only=why_not_writable(resolved) is not None)
