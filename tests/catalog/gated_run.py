"""Run the real command line in a subprocess that parks right after one SQL statement, for kill -9 tests.

Usage: python gated_run.py MARKER GATE STATEMENT_START -- CLI ARGS...
After the first statement that starts with STATEMENT_START has run (inside whatever transaction it is part of),
the process writes MARKER and blocks opening the FIFO GATE, which nobody ever opens for writing: the test sees the
marker and kills the process with SIGKILL at exactly that point. Nothing of our code is replaced; the gate is a
SQLAlchemy event on every engine.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

marker, gate, start = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
argv = sys.argv[sys.argv.index("--") + 1 :]


def park(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if statement.lstrip().startswith(start):
        partial = marker.with_name(marker.name + ".partial")
        partial.write_text(statement)
        os.replace(partial, marker)  # the test sees the marker whole or not at all
        with gate.open("rb"):  # blocks: no writer ever comes
            pass


event.listen(Engine, "after_cursor_execute", park)

from artimuse_desktop import cli  # noqa: E402  (after the gate is in place)

sys.exit(cli.main(argv))
