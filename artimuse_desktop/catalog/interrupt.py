"""Calling a catalog question off from another thread, while it runs or before it starts (a newer view
change needs the threads an older one's whole id list or histogram holds)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any


class CalledOff(Exception):
    """A question was called off (``Interrupt``) before it was answered."""


class Interrupt:
    """Calls a question off from another thread: the view changed again while its whole id list or its
    histogram was still being read (hundreds of milliseconds each at 300,000 photos, on threads the next view
    needs). On SQLite the running statement stops at once (``sqlite3.Connection.interrupt``); statements not
    started yet are never run. The question then raises ``CalledOff``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: set[Any] = set()
        self.called_off = False

    def call_off(self) -> None:
        with self._lock:
            self.called_off = True
            for connection in self._connections:
                connection.interrupt()

    def check(self) -> None:
        if self.called_off:
            raise CalledOff

    @contextlib.contextmanager
    def watching(self, session: Any) -> Iterator[None]:
        """While the block reads with ``session``, ``call_off`` interrupts it (never once it has left: the
        connection goes back to the pool)."""
        import sqlite3

        from sqlalchemy.exc import OperationalError

        connection = session.connection().connection.driver_connection
        interruptible = isinstance(connection, sqlite3.Connection)
        with self._lock:
            if interruptible:
                self._connections.add(connection)
        try:
            self.check()
            yield
        except (OperationalError, sqlite3.OperationalError) as exc:
            if self.called_off:
                raise CalledOff from exc
            raise
        finally:
            with self._lock:
                self._connections.discard(connection)
