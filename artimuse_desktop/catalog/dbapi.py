"""Raw SQL on the catalog's DBAPI connection, for the paths that must not import SQLAlchemy (issue 14).

Indexing one new photo into a 50,000-photo catalog must take at most half a second as a whole command in a
fresh process, and importing SQLAlchemy alone costs a quarter to half of that. So the index path writes its SQL
once, as text with ``:name`` placeholders (sqlite3's own named style; for psycopg they become ``%(name)s``,
converted once per statement), and runs it through ``Catalog.raw_read()`` / ``Catalog.raw_write()``:

- a SQLite file whose SQLAlchemy engine this process has not made: plain ``sqlite3`` connections with exactly
  the engine's pragmas (``db._pragmas``), kept in a small pool (``SqlitePool``); writes under the catalog's
  one-writer lock, committed on success, rolled back on error, a refused write named as the catalog's;
- otherwise (PostgreSQL, or the engine exists, e.g. in the window): the DBAPI connection inside the engine's
  own ``connect_read()`` / ``connect_write()``, so the session's ``after_commit`` listeners (``catalog.watch``)
  still hear of the commit.

Values are stored as SQLAlchemy stores them (``Raw.stamp``: its SQLite DateTime string; ``Raw.path``: the
bytes ``tables.PathType`` writes), so the ORM reads back what this layer wrote, and the other way round.
Statements here never hold ``::`` casts nor a literal ``?``.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from artimuse_desktop.errors import CatalogError

if TYPE_CHECKING:
    from artimuse_desktop.catalog.db import Catalog

__all__ = ["Params", "Raw", "SqlitePool", "raw_read", "raw_write", "sqlite_revision"]

Params = Mapping[str, Any]

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """``:name`` placeholders as psycopg's ``%(name)s`` (a literal ``%`` doubled)."""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


def reason(exc: BaseException) -> str:
    """The driver's message on one line (psycopg's span several)."""
    return " ".join(str(getattr(exc, "orig", None) or exc).split())


def sqlite_stamp(value: datetime) -> str:
    """A datetime as SQLAlchemy's SQLite ``DateTime`` stores it (always with microseconds, no zone)."""
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"
    )


class Raw:
    """One DBAPI connection inside a read or a write: ``execute`` / ``executemany``, then fetch rows (tuples)."""

    def __init__(self, connection: Any, dialect: str) -> None:
        self.connection = connection
        self.dialect = dialect
        self.cursor = connection.cursor()

    def _sql(self, sql: str) -> str:
        return sql if self.dialect == "sqlite" else to_pyformat(sql)

    def execute(self, sql: str, params: Params | None = None) -> Raw:
        self.cursor.execute(self._sql(sql), dict(params or {}))  # a mapping always: psycopg then reads ``%%``
        return self

    def executemany(self, sql: str, rows: Sequence[Params]) -> Raw:
        if rows:
            self.cursor.executemany(self._sql(sql), [dict(row) for row in rows])
        return self

    def all(self) -> list[tuple[Any, ...]]:
        return list(self.cursor.fetchall())  # tuples already: both drivers' default rows

    def first(self) -> tuple[Any, ...] | None:
        row = self.cursor.fetchone()
        return None if row is None else tuple(row)

    def scalar(self) -> Any:
        row = self.first()
        return None if row is None else row[0]

    @property
    def rowcount(self) -> int:
        return int(self.cursor.rowcount)

    def stamp(self, value: datetime | None) -> Any:
        """A DateTime column's value as SQLAlchemy binds it: its string on SQLite, the datetime on PostgreSQL."""
        if value is None or self.dialect != "sqlite":
            return value
        return sqlite_stamp(value)

    @staticmethod
    def path(value: str | None) -> bytes | None:
        """A path column's value (``tables.PathType``): the file system's bytes."""
        return None if value is None else os.fsencode(value)

    @staticmethod
    def in_(name: str, values: Iterable[Any]) -> tuple[str, dict[str, Any]]:
        """``:name0, :name1, ...`` for an ``IN (...)`` list, and its parameters."""
        params = {f"{name}{i}": value for i, value in enumerate(values)}
        return ", ".join(f":{key}" for key in params) or "NULL", params

    def close(self) -> None:
        with suppress(Exception):  # a cursor of a connection already gone
            self.cursor.close()


class SqlitePool:
    """``sqlite3`` connections to one catalog file, set up as the engine's (``setup``: its connect listener);
    the most recently used first, at most ``size`` kept open between uses."""

    def __init__(self, path: Path, setup: Callable[[Any, Any], None], *, size: int, uri: str | None = None) -> None:
        self.path, self.setup, self.size, self.uri = path, setup, size, uri
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        if self.uri is not None:
            connection = sqlite3.connect(self.uri, uri=True, check_same_thread=False, timeout=30)
        else:
            connection = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        try:
            self.setup(connection, None)
        except BaseException:
            connection.close()
            raise
        return connection

    @contextmanager
    def borrow(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            connection = self._idle.pop() if self._idle else None
        if connection is None:
            connection = self._connect()
        try:
            yield connection
        except BaseException:
            connection.rollback()
            raise
        connection.rollback()  # nothing left open (a read's, or a commit that failed)
        with self._lock:
            if len(self._idle) < self.size:
                self._idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


def sqlite_revision(pool: SqlitePool) -> str | None:
    """The schema revision recorded in the catalog file, in one query; None where there is none."""
    with pool.borrow() as connection:
        try:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return None
            raise
    return None if row is None else str(row[0])


def _is_operational(exc: BaseException, dialect: str) -> bool:
    if isinstance(exc, sqlite3.OperationalError):
        return True
    if dialect == "postgresql":
        import psycopg

        return isinstance(exc, psycopg.OperationalError)
    return False


@contextmanager
def raw_read(catalog: Catalog) -> Iterator[Raw]:
    """``Catalog.raw_read``: a read on a raw connection; nothing is committed."""
    pool = catalog.raw_pool
    if pool is None:
        with catalog.connect_read() as connection:
            raw = Raw(connection.connection.dbapi_connection, catalog.dialect)
            try:
                yield raw
            finally:
                raw.close()
        return
    with pool.borrow() as connection:
        raw = Raw(connection, "sqlite")
        try:
            yield raw
        finally:
            raw.close()


@contextmanager
def raw_write(catalog: Catalog) -> Iterator[Raw]:
    """``Catalog.raw_write``: a transaction on a raw connection under the one-writer lock; commits on success,
    rolls back on error; a write the database refused (a full disk, a lock held too long) is named as the
    catalog's (``CatalogError``), as ``Catalog.write()`` names it."""
    catalog._refuse_if_read_only()
    pool = catalog.raw_pool
    if pool is None:
        with catalog.connect_write() as connection:
            if not connection.in_transaction():
                connection.begin()  # so that the commit after the block is the driver's (SQLAlchemy's is lazy)
            raw = Raw(connection.connection.dbapi_connection, catalog.dialect)
            try:
                yield raw
            except Exception as exc:
                if _is_operational(exc, catalog.dialect):
                    raise CatalogError(f"could not write to the catalog {catalog.location}: {reason(exc)}") from exc
                raise
            finally:
                raw.close()
        return
    with catalog._write_lock, pool.borrow() as connection:
        raw = Raw(connection, "sqlite")
        try:
            yield raw
            connection.commit()
        except sqlite3.OperationalError as exc:
            connection.rollback()
            raise CatalogError(f"could not write to the catalog {catalog.location}: {reason(exc)}") from exc
        finally:
            raw.close()
