"""Run the real command line in a subprocess that parks once a photo batch has been committed, for kill -9 tests.

Usage: python parked_cli.py MARKER GATE -- CLI ARGS...
When the run is about to insert its second batch of photo rows (so the first batch is committed, and the second
is not), the process writes MARKER and blocks opening the FIFO GATE, which nobody ever opens for writing: the
test sees the marker and kills the process with SIGKILL at exactly that point. Nothing of our code is
replaced; the gate is a pair of SQLAlchemy events on every engine.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

marker, gate = Path(sys.argv[1]), Path(sys.argv[2])
argv = sys.argv[sys.argv.index("--") + 1 :]
state = {"inserted": False, "committed": False}


def before_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if not statement.lstrip().upper().startswith("INSERT INTO PHOTOS"):
        return
    if state["committed"]:
        marker.write_text(statement)
        with gate.open("rb"):  # blocks: no writer ever comes
            pass
    state["inserted"] = True


def on_commit(_conn: Any) -> None:
    if state["inserted"]:
        state["committed"] = True


event.listen(Engine, "before_cursor_execute", before_execute)
event.listen(Engine, "commit", on_commit)

from artimuse_desktop import cli  # noqa: E402  (after the gate is in place)

sys.exit(cli.main(argv))
