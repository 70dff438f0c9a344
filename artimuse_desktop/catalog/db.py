"""Opening a catalog: SQLite in WAL mode, foreign keys on, migrations applied, newer catalogs refused.

One writer at a time: every write goes through ``Catalog.write()``, a short session under a process-wide lock
(SQLite's ``busy_timeout`` covers other processes). Reads use ``Catalog.read()`` and never block the writer
thanks to WAL. ORM objects stay inside these sessions; callers get plain dataclasses from ``queries``.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from artimuse_desktop.errors import CatalogError, CatalogTooNewError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
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


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    return {rev.revision for rev in script.walk_revisions()}


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None
    return head


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
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
        return None if row is None else str(row[0])


class Catalog:
    """A handle on one catalog file; cheap to share between threads (sessions are not)."""

    def __init__(self, path: str | Path, *, migrate: bool = True) -> None:
        self.path = Path(path).expanduser().absolute()
        _check_is_sqlite(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CatalogError(f"cannot create the folder for the catalog {self.path}: {exc}") from exc
        self.engine = create_engine(
            f"sqlite:///{self.path}",
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(self.engine, "connect", _set_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
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
        from alembic import command

        with self._write_lock:
            log.info("migrating catalog %s from %s to %s", self.path, current, head_revision())
            command.upgrade(_alembic_config(self.engine), "head")

    @property
    def schema_revision(self) -> str | None:
        return _current_revision(self.engine)

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


def open_catalog(path: str | Path | None = None) -> Catalog:
    """Open (creating or migrating) the catalog at ``path``, or the default one."""
    if path is None:
        from artimuse_desktop import paths

        path = paths.default_catalog_path()
    return Catalog(path)
