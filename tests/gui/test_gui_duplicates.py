"""The "Duplicates" smart collection: found off the GUI thread across folders, counted beside the collection,
and the grid follows when new duplicates arrive while it is shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from artimuse_desktop.catalog.db import Catalog
from tests.factory import PhotoSpec, add_photos

from .conftest import wait_idle


def test_the_duplicates_collection_lists_copies_in_any_folder(
    qtbot: Any, window: Any, catalog: Catalog, tmp_path: Path
) -> None:
    specs = [
        PhotoSpec("DSC_0001.jpg", "shoot", phash="f0f0f0f0f0f0f0f0"),
        PhotoSpec("DSC_0001.jpg", "Exports/Web", phash="f0f0f0f0f0f0f0f1", seconds=86_400),  # other folder, day
        PhotoSpec("other.jpg", "shoot", phash="0f0f0f0f0f0f0f0f"),
    ]
    ids = add_photos(catalog, tmp_path / "photos", specs)
    window.refresh_bursts()  # bursts and duplicates are found together
    wait_idle(qtbot, window)
    panel = window.collections
    assert panel._smart["duplicates"].text(1) == "2"
    assert panel.select("duplicates")
    wait_idle(qtbot, window)
    assert sorted(window.model.ids()) == ids[:2]
    more = add_photos(catalog, tmp_path / "more", [PhotoSpec("DSC_0001 copy.jpg", "backup", phash="f0f0f0f0f0f0f0f0")])
    window.refresh_bursts()
    wait_idle(qtbot, window)
    assert sorted(window.model.ids()) == sorted([*ids[:2], *more])  # the shown collection follows
    assert panel._smart["duplicates"].text(1) == "3"
