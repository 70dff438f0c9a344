"""The window follows the catalog: a change another process commits (a terminal's `trash-rejects`, a script)
reaches the grid, the counts and the panel through the one change signal."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from artimuse_desktop.catalog.db import Catalog

from .conftest import wait_idle

_SCRIPT = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
    'c.execute("UPDATE photos SET flag = -1 WHERE id = ?", (int(sys.argv[2]),)); c.commit()'
)


def test_a_change_made_by_another_process_reaches_the_window(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int]
) -> None:
    window.reload_view()
    window.refresh_stats()
    wait_idle(qtbot, window)
    target = photos[4]  # unflagged
    rejects_before = window.collections._smart["rejects"].text(1)
    subprocess.run([sys.executable, "-c", _SCRIPT, str(catalog.path), str(target)], check=True)
    qtbot.waitUntil(lambda: (r := window.model.record_for_id(target)) is not None and r.flag == -1, timeout=10000)
    qtbot.waitUntil(lambda: window.collections._smart["rejects"].text(1) != rejects_before, timeout=10000)
    assert int(window.collections._smart["rejects"].text(1)) == int(rejects_before) + 1


def test_our_own_decisions_do_not_look_like_changes_from_elsewhere(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int]
) -> None:
    window.reload_view()
    wait_idle(qtbot, window)
    seen: list[bool] = []
    window.queries.changed_elsewhere.connect(lambda: seen.append(True))
    window.grid.select_id(photos[4])
    window.culling.set_flag(1)
    wait_idle(qtbot, window)
    for _ in range(3):  # three polls after our own write
        window.queries._ask_elsewhere()
        wait_idle(qtbot, window)
    assert seen == []
