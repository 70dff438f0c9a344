"""Changes made by another process are noticed; our own writes are not news."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.watch import ExternalChanges
from artimuse_desktop.culling import decisions
from tests.factory import PhotoSpec, add_photos

pytestmark = pytest.mark.sqlite_only  # another process writes the file with sqlite3; PostgreSQL: test_postgres_catalog


def test_own_writes_are_not_news_but_another_process_is(catalog: Catalog, tmp_path: Path) -> None:
    ids = add_photos(catalog, tmp_path / "photos", [PhotoSpec("a.jpg"), PhotoSpec("b.jpg")])
    watch = ExternalChanges(catalog)
    try:
        assert watch.poll() is False
        decisions.set_decision(catalog, ids, "flag", 1)  # our own write
        assert watch.poll() is False
        script = (
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            "c.execute('UPDATE photos SET rating = 4 WHERE id = ?', (int(sys.argv[2]),)); c.commit()"
        )
        subprocess.run([sys.executable, "-c", script, str(catalog.path), str(ids[0])], check=True)
        assert watch.poll() is True  # another process committed
        assert watch.poll() is False  # reported once
    finally:
        watch.close()
