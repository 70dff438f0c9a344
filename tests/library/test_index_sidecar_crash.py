"""Sidecar imports survive a crash: a real kill -9 of ``index`` right after its first committed batch leaves
those photos with their sidecar rating and label, and the rerun gives every other photo its own."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from artimuse_desktop import cli
from artimuse_desktop.catalog import Catalog, queries
from artimuse_desktop.catalog.filters import SortSpec
from artimuse_desktop.library.indexer import BATCH_SIZE
from tests.factory import write_jpeg
from tests.library.hostile_xmp import sidecar
from tests.waiting import kill_when_parked

PARKED_CLI = Path(__file__).with_name("parked_cli.py")
REPO = Path(__file__).resolve().parents[2]
PHOTOS = 450


def _rows(path: Path) -> list[tuple[str, int, str | None]]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT filename, rating, color_label FROM photos ORDER BY id").fetchall()
    finally:
        connection.close()


@pytest.mark.timeout(240)
def test_kill_9_after_the_first_batch_keeps_its_sidecar_decisions(tmp_path: Path) -> None:
    library = tmp_path / "shoot"
    for number in range(PHOTOS):
        write_jpeg(library / f"IMG_{number:04d}.jpg", number)
        (library / f"IMG_{number:04d}.xmp").write_text(sidecar(rating="3", label="Green"))
    catalog_path = tmp_path / "catalog.sqlite"
    argv = ["--catalog", str(catalog_path), "index", "-q", "--no-previews", "--workers", "2", str(library)]
    marker, gate = tmp_path / "parked.sql", tmp_path / "gate.fifo"
    os.mkfifo(gate)
    process = subprocess.Popen(
        [sys.executable, str(PARKED_CLI), str(marker), str(gate), "--", *argv],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    kill_when_parked(process, marker, "its second batch", timeout=200)

    committed = _rows(catalog_path)
    assert len(committed) == BATCH_SIZE  # exactly the first batch: killed before the second was written
    assert {(rating, label) for _name, rating, label in committed} == {(3, "green")}

    assert cli.main(argv) == 0  # the rerun: the first 200 are unchanged now, the other 250 new
    with Catalog(catalog_path) as catalog, catalog.read() as session:
        photos = queries.query_photos(session, sort=SortSpec("filename"))
    assert len(photos) == PHOTOS
    assert [p.filename for p in photos if (p.rating, p.color_label) != (3, "green")] == []
