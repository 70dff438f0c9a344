"""Notice changes another process made to the catalog (``trash-rejects`` or ``score`` in a terminal while the
window is open), without mistaking our own writes for them.

SQLite's ``PRAGMA data_version`` on one connection changes whenever *another* connection commits. The watcher
keeps its own connection, and after each of this process's commits (SQLAlchemy's ``after_commit``, while the
one-writer lock is still held) it notes the value that commit produced. A later value it did not note was written
by someone else. The check costs one PRAGMA on an open connection: microseconds, so a timer can ask often.

On PostgreSQL every writing statement on the catalog's tables sends a NOTIFY (migration 0001) whose payload is
the writing server process; the watcher LISTENs on a connection of its own and counts only notifications from
processes that are not this catalog's pooled connections (``Catalog.backend_pids``). One round trip per check.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Any

from sqlalchemy import event

from artimuse_desktop.catalog.db import Catalog

log = logging.getLogger(__name__)

#: The channel migration 0001's statement triggers notify on PostgreSQL.
NOTIFY_CHANNEL = "artimuse_catalog"


class ExternalChanges:
    """``poll()`` is True once after another process committed to the catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._listener: Any = None
        if catalog.path is None:
            self._listen()
        else:
            try:
                uri = f"{catalog.path.as_uri()}?mode=ro"
                self._connection = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=5)
            except sqlite3.Error as exc:  # the catalog is unreadable: nothing to watch, nothing to break
                log.info("cannot watch %s for changes by other processes: %s", catalog.location, exc)
        self._seen = self._version()
        self._sessions: Any = catalog._sessions  # the catalog's own session factory
        event.listen(self._sessions, "after_commit", self._own_commit)

    def _listen(self) -> None:
        """PostgreSQL: a connection of our own (out of the pool, never writing) that LISTENs for commits."""
        from sqlalchemy.exc import DBAPIError

        try:
            raw = self.catalog.engine.raw_connection()
            raw.detach()
            listener = raw.dbapi_connection
            assert listener is not None
            listener.rollback()
            listener.autocommit = True
            listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
            self._listener = listener
        except DBAPIError as exc:
            log.info("cannot watch %s for changes by other sessions: %s", self.catalog.location, exc.orig)

    def _others_committed(self) -> bool:
        """PostgreSQL: whether a notification came from a process other than our own connections."""
        if self._listener is None:
            return False
        import psycopg

        with self._lock:
            try:
                self._listener.execute("SELECT 1")  # a round trip: notifications sent before it have arrived
                senders = {notify.pid for notify in self._listener.notifies(timeout=0)}
            except psycopg.Error as exc:
                log.info("cannot read the catalog's change notifications: %s", exc)
                return False
        return bool(senders - self.catalog.backend_pids)

    def _version(self) -> int | None:
        if self._connection is None:
            return None
        with self._lock:
            try:
                row = self._connection.execute("PRAGMA data_version").fetchone()
            except sqlite3.Error as exc:
                log.info("cannot read the catalog's data version: %s", exc)
                return None
        return int(row[0]) if row else None

    def _own_commit(self, _session: Any) -> None:
        """Right after one of our commits: the value it produced is ours, not news."""
        self._seen = self._version()

    def poll(self) -> bool:
        """Ask between our writes (a write in progress: ask again next time), so our commit is never news."""
        if self.catalog.path is None:
            return self._others_committed()
        lock = self.catalog._write_lock  # the one-writer lock our commits hold
        if not lock.acquire(blocking=False):
            return False
        try:
            version = self._version()
            if version is None or version == self._seen:
                return False
            self._seen = version
            return True
        finally:
            lock.release()

    def close(self) -> None:
        if event.contains(self._sessions, "after_commit", self._own_commit):
            event.remove(self._sessions, "after_commit", self._own_commit)
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            if self._listener is not None:
                self._listener.close()
                self._listener = None
