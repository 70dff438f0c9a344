"""The SQLAlchemy engines of a catalog (a file's, read-only or not, and a PostgreSQL server's pooled one), made
only where a catalog needs SQLAlchemy: ``db.Catalog.engine`` is made on first use for a file, so the indexer's
raw SQL (``catalog.dbapi``) on a current file never imports it (issue 14)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from artimuse_desktop.catalog.access import read_only_uri
from artimuse_desktop.catalog.location import CatalogLocation
from artimuse_desktop.errors import CatalogError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def current_revision(engine: Engine) -> str | None:
    """The schema revision recorded in the catalog, in one query; None where there is none (new or half-made)."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError, ProgrammingError

    with engine.connect() as connection:
        try:
            row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
        except OperationalError as exc:
            if "no such table" in str(exc.orig):
                return None
            raise
        except ProgrammingError as exc:
            if getattr(exc.orig, "sqlstate", None) == "42P01":  # PostgreSQL: undefined table
                return None
            raise
    return None if row is None else str(row[0])


SERVER_HINT = (
    "check that the PostgreSQL server is running and reachable, and the URL's user, host, port and database "
    "(postgresql+psycopg://USER@HOST:PORT/DATABASE)"
)


def server_engine(location: CatalogLocation, read_only: bool, backends: set[int]) -> Engine:
    """A pooled psycopg 3 engine; connections are checked before use (a server restart costs one retry)."""
    from sqlalchemy import create_engine, event

    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise CatalogError(
            f"cannot open the catalog {location}: the PostgreSQL driver psycopg 3 is not installed",
            hint='install the studio extra: pip install "artimuse-desktop[studio]"',
        ) from exc
    connect_args: dict[str, Any] = {"connect_timeout": 10, "application_name": "ArtiMuse Desktop"}
    if read_only:
        connect_args["options"] = "-c default_transaction_read_only=on"
    assert location.url is not None
    engine = create_engine(
        location.url, pool_pre_ping=True, pool_size=5, max_overflow=10, pool_recycle=1800, connect_args=connect_args
    )

    def note_backend(dbapi_connection: Any, _record: Any) -> None:
        """Remember each pooled connection's server process: ``catalog.watch`` tells our commits by it."""
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backends.add(int(cursor.fetchone()[0]))
        dbapi_connection.rollback()

    event.listen(engine, "connect", note_backend)
    return engine


def file_engine(path: Path, pool_args: dict[str, Any], setup: Callable[[Any, Any], None]) -> Engine:
    """The engine of a catalog file; ``setup``: the connect listener (``db._pragmas``)."""
    from sqlalchemy import create_engine, event

    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 30}, **pool_args)
    event.listen(engine, "connect", setup)
    return engine


def read_only_engine(path: Path, pool_args: dict[str, Any], setup: Callable[[Any, Any], None]) -> Engine:
    """The engine of a catalog file opened read-only (its URI refuses writes; ``setup`` sets query_only)."""
    from sqlalchemy import create_engine, event

    uri = read_only_uri(path)

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30)

    engine = create_engine(f"sqlite:///{path}", creator=connect, **pool_args)
    event.listen(engine, "connect", setup)
    return engine
