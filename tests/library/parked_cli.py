"""Run the real command line in a subprocess that parks once a photo batch has been committed, for kill -9 tests.

Usage: python parked_cli.py MARKER GATE -- CLI ARGS...
When the run is about to insert its second batch of photo rows (so the first batch is committed, and the second
is not), the process writes MARKER and blocks opening the FIFO GATE, which nobody ever opens for writing: the
test sees the marker and kills the process with SIGKILL at exactly that point. Nothing of our code is
replaced; the gate is a trace callback on every ``sqlite3`` connection (the driver both the SQLAlchemy engine and
the indexer's raw SQL, ``catalog.dbapi``, connect through).
"""

from __future__ import annotations

import sqlite3
import sqlite3.dbapi2
import sys
from pathlib import Path
from typing import Any

marker, gate = Path(sys.argv[1]), Path(sys.argv[2])
argv = sys.argv[sys.argv.index("--") + 1 :]
state = {"inserted": False, "committed": False}


def trace(statement: str) -> None:
    words = statement.lstrip().upper()
    if words.startswith("COMMIT"):
        if state["inserted"]:
            state["committed"] = True
        return
    if not words.startswith("INSERT INTO PHOTOS"):
        return
    if state["committed"]:
        marker.write_text(statement)
        with gate.open("rb"):  # blocks: no writer ever comes
            pass
    state["inserted"] = True


_connect = sqlite3.connect


def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
    connection = _connect(*args, **kwargs)
    connection.set_trace_callback(trace)
    return connection


sqlite3.connect = connect
sqlite3.dbapi2.connect = connect

from artimuse_desktop import cli  # noqa: E402  (after the gate is in place)

sys.exit(cli.main(argv))
