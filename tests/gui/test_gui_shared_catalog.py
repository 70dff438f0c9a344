"""Two editors on one shared PostgreSQL catalog: the window culls it as it culls a file, another editor's
decision reaches the grid as it is committed, and undo takes back only this editor's own decisions."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.queries import get_photo

from .conftest import wait_idle

_OTHER_EDITOR = (
    "import sys; from artimuse_desktop.catalog.db import Catalog; from artimuse_desktop.culling import decisions; "
    "c = Catalog(sys.argv[1]); decisions.set_decision(c, [int(sys.argv[2])], 'rating', 4); c.close()"
)


@pytest.fixture
def catalog(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Catalog]:
    """This test module's catalog is a database on the test server, culled by the editor "anna"."""
    monkeypatch.setenv("ARTIMUSE_USER", "anna")
    with Catalog(postgres_url) as opened:
        yield opened


def _flag_and_rating(catalog: Catalog, photo_id: int) -> tuple[int, int]:
    with catalog.read() as session:
        record = get_photo(session, photo_id)
    assert record is not None
    return record.flag, record.rating


def test_two_editors_cull_one_shared_catalog(qtbot: Any, window: Any, catalog: Catalog, photos: list[int]) -> None:
    assert catalog.dialect == "postgresql"
    window.reload_view()
    wait_idle(qtbot, window)
    target = photos[4]  # unflagged, no stars
    assert window.grid.select_id(target)

    qtbot.keyClick(window.grid, Qt.Key.Key_P)
    wait_idle(qtbot, window)
    assert _flag_and_rating(catalog, target) == (1, 0)

    # Bruno, at another computer, rates the same photo: it reaches Anna's grid, and her pick stands.
    assert catalog.url is not None
    env_script = f"import os; os.environ['ARTIMUSE_USER'] = 'bruno'; {_OTHER_EDITOR}"
    subprocess.run([sys.executable, "-c", env_script, catalog.url, str(target)], check=True)
    qtbot.waitUntil(lambda: (r := window.model.record_for_id(target)) is not None and r.rating == 4, timeout=15000)
    assert _flag_and_rating(catalog, target) == (1, 4)

    # Anna's undo takes back her pick, never Bruno's rating.
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    assert _flag_and_rating(catalog, target) == (0, 4)
