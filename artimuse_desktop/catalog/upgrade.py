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

On PostgreSQL (``upgrade_server_to_head``) DDL is transactional too, so the same migrations run in one transaction
on a pooled connection, after ``pg_advisory_xact_lock``: two processes opening a new shared catalog at once
queue there, and the second finds the work done. No copy is kept there: the server's own tool, pg_dump, is the
backup, and the notice of an upgrade says so.
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
    notice: str | None = None  # what the user should hear once (PostgreSQL: an upgrade kept no copy)


#: The advisory lock every upgrade of a PostgreSQL catalog takes (any 64-bit number the app alone uses).
UPGRADE_LOCK = 0x4152_544D_5553_4531  # "ARTMUSE1"


def revision_of(connection: Connection) -> str | None:
    """The schema revision recorded in the catalog, or None where there is none (new or half-made)."""
    if connection.dialect.name == "postgresql":
        has_table = connection.execute(text("SELECT to_regclass('alembic_version')")).scalar()
    else:
        has_table = connection.execute(
            text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'")
        ).first()
    if has_table is None:
        return None
    row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def _user_tables(connection: Connection) -> list[str]:
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                "AND table_type = 'BASE TABLE' AND table_name != 'alembic_version' ORDER BY table_name"
            )
        )
        return [str(name) for (name,) in rows]
    rows = connection.execute(
        text(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
            "AND name != 'alembic_version' ORDER BY name"
        )
    )
    return [str(name) for (name,) in rows]


def _refuse_half_made(connection: Connection, path: Path | str) -> None:
    tables = _user_tables(connection)
    if not tables:
        return
    if connection.dialect.name == "postgresql":  # creation there is one transaction: these are someone else's
        raise CatalogError(
            f"the database {path} is not an ArtiMuse catalog: it holds {len(tables)} tables "
            f"({', '.join(tables[:5])}{', …' if len(tables) > 5 else ''}) but no catalog schema version; "
            "it was left untouched",
            hint="create an empty database for the catalog (createdb) and pass its URL",
        )
    photos = 0
    if "photos" in tables:
        photos = int(connection.execute(text("SELECT count(*) FROM photos")).scalar() or 0)
    raise CatalogError(
        f"the catalog {path} is half-made: it has {len(tables)} tables but no schema version, as an earlier "
        f"ArtiMuse Desktop left it when its creation was interrupted (a full disk or a kill); it holds "
        f"{photos} photo{'s' if photos != 1 else ''} and was left untouched",
        hint="move it away (or delete it) and run again to create a new catalog; your photos are not affected",
    )


#: From this many photos an upgrade is announced as a warning (seen on the terminal and in the log): rebuilding
#: the sort indexes of a 300,000-photo catalog takes minutes.
LARGE_CATALOG = 20_000


def _announce(connection: Connection, where: object, before: str | None) -> None:
    """Say that an upgrade starts; for a large catalog say that it takes a while and is safe to wait for."""
    photos = 0
    if before is not None and "photos" in _user_tables(connection):
        photos = int(connection.execute(text("SELECT count(*) FROM photos")).scalar() or 0)
    if photos >= LARGE_CATALOG:
        log.warning(
            "upgrading the catalog %s (%s photos) from schema %s to %s: a catalog this size takes a few minutes; "
            "if it is interrupted it stays as it was",
            where,
            f"{photos:,}",
            before,
            head_revision(),
        )
    else:
        log.info("bringing the catalog %s from schema %s to %s", where, before, head_revision())


def _holds_photos(connection: Connection) -> bool:
    if "photos" not in _user_tables(connection):
        return False
    return bool(connection.execute(text("SELECT EXISTS (SELECT 1 FROM photos)")).scalar())


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


def _failure(path: Path | str, before: str | None, backup: Path | None, exc: BaseException) -> CatalogError:
    reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
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
            _announce(connection, path, before)
            _run_migrations(connection)
    except CatalogError:
        raise
    except (DBAPIError, sqlite3.Error) as exc:
        raise _failure(path, before, backup, exc) from exc
    finally:
        engine.dispose()
    return UpgradeResult(before, head_revision(), backup)


def _run_migrations(connection: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def upgrade_server_to_head(engine: Engine, location: str) -> UpgradeResult:
    """Create the PostgreSQL catalog or bring it to the newest schema in one transaction, one process at a time.

    Raises CatalogError (and leaves the database as it was) when that cannot be done."""
    before: str | None = None
    notice: str | None = None
    try:
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK})
            before = revision_of(connection)
            if before == head_revision():
                return UpgradeResult(before, before)  # another process got here first
            if before is None:
                _refuse_half_made(connection, location)
            elif _holds_photos(connection):
                notice = (
                    f"upgraded the catalog {location} from schema {before} to {head_revision()}; no copy was kept "
                    "on the server (take one with pg_dump before upgrading a shared catalog)"
                )
            _announce(connection, location, before)
            _run_migrations(connection)
    except CatalogError:
        raise
    except DBAPIError as exc:
        raise _failure(location, before, None, exc) from exc
    return UpgradeResult(before, head_revision(), None, notice)
