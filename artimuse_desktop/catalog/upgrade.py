"""Creating and upgrading a catalog in one transaction: a kill or a full disk leaves it as it was.

SQLite DDL is transactional, but Python's sqlite3 module (before 3.12's ``autocommit``) begins a transaction only
before INSERT/UPDATE/DELETE, so each CREATE or ALTER of a migration used to commit on its own: a kill -9 half-way
left the new ``score`` column without the new ``alembic_version`` row, and every later open failed. Here the
migrations run on a connection where sqlite3 emits no BEGIN of its own (``isolation_level = None``) and we emit
``BEGIN IMMEDIATE`` (the write lock up front, waiting on ``busy_timeout``), so every step of every pending
migration and the version row commit together or not at all (SQLAlchemy's pysqlite transactional-DDL recipe).

Before upgrading a catalog that holds photos, a copy of it is kept beside it (``catalog.backup``), taken inside
the same write lock so it is exactly the state that was upgraded; what the first version's interrupted upgrades
left is undone first, in the same transaction (``catalog.repair``).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from artimuse_desktop.catalog.backup import backup_catalog
from artimuse_desktop.catalog.repair import undo_interrupted_0002
from artimuse_desktop.catalog.revisions import MIGRATIONS_DIR, head_revision
from artimuse_desktop.errors import CatalogError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UpgradeResult:
    """What an open did to the file: the revision it found (None: created) and where a copy was kept."""

    before: str | None
    after: str
    backup: Path | None = None


def revision_of(connection: Connection) -> str | None:
    """The schema revision recorded in the catalog, or None where there is none (new or half-made)."""
    has_table = connection.execute(
        text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'")
    ).first()
    if has_table is None:
        return None
    row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def _user_tables(connection: Connection) -> list[str]:
    rows = connection.execute(
        text(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
            "AND name != 'alembic_version' ORDER BY name"
        )
    )
    return [str(name) for (name,) in rows]


def _refuse_half_made(connection: Connection, path: Path) -> None:
    tables = _user_tables(connection)
    if not tables:
        return
    photos = 0
    if "photos" in tables:
        photos = int(connection.execute(text("SELECT count(*) FROM photos")).scalar() or 0)
    raise CatalogError(
        f"the catalog {path} is half-made: it has {len(tables)} tables but no schema version, as an earlier "
        f"ArtiMuse Desktop left it when its creation was interrupted (a full disk or a kill); it holds "
        f"{photos} photo{'s' if photos != 1 else ''} and was left untouched",
        hint="move it away (or delete it) and run again to create a new catalog; your photos are not affected",
    )


def _holds_photos(connection: Connection) -> bool:
    if "photos" not in _user_tables(connection):
        return False
    return connection.execute(text("SELECT EXISTS (SELECT 1 FROM photos)")).scalar() == 1


def _one_transaction_engine(path: Path, set_pragmas: Callable[[Any, Any], None]) -> Engine:
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool, connect_args={"timeout": 30})

    def connect(dbapi_connection: Any, record: Any) -> None:
        set_pragmas(dbapi_connection, record)
        dbapi_connection.isolation_level = None  # sqlite3 must not BEGIN (or skip BEGIN) on its own

    def begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(engine, "connect", connect)
    event.listen(engine, "begin", begin)
    return engine


def _failure(path: Path, before: str | None, backup: Path | None, exc: BaseException) -> CatalogError:
    reason = str(getattr(exc, "orig", None) or exc)
    full = "full" in reason.lower()
    if before is None:
        return CatalogError(
            f"could not create the catalog {path}: {reason}; nothing of it was kept",
            hint="free some space on that disk, then run again" if full else None,
        )
    kept = f"; a copy of it is at {backup}" if backup else ""
    return CatalogError(
        f"could not upgrade the catalog {path} from schema {before} to {head_revision()}: {reason}; "
        f"nothing was changed, it is still at schema {before}{kept}",
        hint="free some space on that disk, then run again (it upgrades then)" if full else None,
    )


def upgrade_to_head(path: Path, set_pragmas: Callable[[Any, Any], None]) -> UpgradeResult:
    """Create the catalog at ``path`` or bring it to the newest schema, all in one transaction.

    Raises CatalogError (and leaves the file as it was) when that cannot be done."""
    from alembic import command
    from alembic.config import Config

    engine = _one_transaction_engine(path, set_pragmas)
    before: str | None = None
    backup: Path | None = None
    try:
        with engine.begin() as connection:
            before = revision_of(connection)
            if before == head_revision():
                return UpgradeResult(before, before)  # another process got here first
            if before is None:
                _refuse_half_made(connection, path)
            elif _holds_photos(connection):
                backup = backup_catalog(path, before)
            undo_interrupted_0002(connection, before)
            log.info("bringing the catalog %s from schema %s to %s", path, before, head_revision())
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except CatalogError:
        raise
    except (DBAPIError, sqlite3.Error) as exc:
        raise _failure(path, before, backup, exc) from exc
    finally:
        engine.dispose()
    return UpgradeResult(before, head_revision(), backup)
