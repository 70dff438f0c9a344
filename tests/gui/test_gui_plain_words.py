"""Plain words: the camera's make once, "1 photo", the add-folder dialog in Pictures, Pillow's warnings in the log
and never on the terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.queries import photo_ids, records_by_ids
from artimuse_desktop.export import naming
from artimuse_desktop.export.plan import name_fields
from artimuse_desktop.export.selection import RankedPhoto
from artimuse_desktop.formatting import camera_name, count_text
from artimuse_desktop.gui.panel_details import exif_rows
from artimuse_desktop.gui.welcome import WelcomeView, pictures_folder
from artimuse_desktop.library.indexer import index_roots

from .conftest import wait_idle

CAMERAS = [
    ("Nikon", "Nikon SUPER COOLSCAN 5000 ED", "Nikon SUPER COOLSCAN 5000 ED"),
    ("NIKON CORPORATION", "NIKON D850", "Nikon D850"),
    ("Canon", "Canon EOS R5", "Canon EOS R5"),
    ("SONY", "ILCE-7M3", "Sony ILCE-7M3"),
    ("FUJIFILM", "X-T5", "FUJIFILM X-T5"),
    ("OLYMPUS IMAGING CORP.", "E-M1MarkII", "Olympus E-M1MarkII"),
    ("Canon", "Canonet QL17", "Canon Canonet QL17"),  # a word that merely starts like the make
    ("OM Digital Solutions", "OM-1", "OM Digital Solutions OM-1"),
]


def _jpeg_with_camera(path: Path, make: str, model: str) -> Path:
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = model
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 48), (90, 120, 150)).save(path, "JPEG", exif=exif.tobytes())
    return path


@pytest.mark.parametrize(("make", "model", "shown"), CAMERAS)
def test_camera_name_says_the_make_once(make: str, model: str, shown: str) -> None:
    assert camera_name(make, model) == shown
    assert naming.camera_name(make, model) == shown  # export names use the same rule


def test_camera_reads_the_make_once_in_panel_grid_and_export(
    qtbot: Any, window: Any, catalog: Catalog, tmp_path: Path
) -> None:
    library = tmp_path / "scans"
    for index, (make, model, _shown) in enumerate(CAMERAS[:3]):
        _jpeg_with_camera(library / f"scan{index}.jpg", make, model)
    index_roots(catalog, [library], workers=1)  # the real indexer reads the real EXIF
    with catalog.read() as session:
        records = {r.filename: r for r in records_by_ids(session, photo_ids(session))}
    scan = records["scan0.jpg"]
    assert (scan.camera_make, scan.camera_model) == ("Nikon", "Nikon SUPER COOLSCAN 5000 ED")  # kept as the file says
    assert ("Camera", "Nikon SUPER COOLSCAN 5000 ED") in exif_rows(scan)
    assert ("Camera", "Nikon D850") in exif_rows(records["scan1.jpg"])
    window.reload_view()
    wait_idle(qtbot, window)
    tooltip = window.model.data(window.model.index_of(scan.id), Qt.ItemDataRole.ToolTipRole)
    assert "Nikon SUPER COOLSCAN 5000 ED" in tooltip and "Nikon Nikon" not in tooltip
    fields = name_fields(RankedPhoto(scan, 1), 1, 1)  # what an export names the copy by
    assert str(naming.render_relative("{camera}_{original}", fields)) == "Nikon SUPER COOLSCAN 5000 ED_scan0"


def test_one_photo_is_one_photo(qtbot: Any, window: Any) -> None:
    assert count_text(1, "photo") == "1 photo"
    assert count_text(0, "photo") == "0 photos" and count_text(2400, "photo") == "2,400 photos"
    assert count_text(1, "burst") == "1 burst"
    window.filter_bar.set_counts(1, 1)
    assert window.filter_bar.count_label.text() == "1 of 1 photo"
    window.filter_bar.set_counts(1, 3)
    assert window.filter_bar.count_label.text() == "1 of 3 photos"
    welcome = WelcomeView()
    qtbot.addWidget(welcome)
    welcome.set_progress(1)
    assert welcome.status.text() == "Indexing… 1 photo"
    welcome.set_progress(0)
    assert welcome.status.text() == "Indexing…"


def _no_count_before_plural_photos(folder: Path) -> list[str]:
    """f-strings that put a number straight before "photos" (they read "1 photos" for one)."""
    import re

    pattern = re.compile(r"\{[^{}]*:,?\}\s+photos\b|\{[a-z_.()]+\}\s+photos\b(?!/s)")
    found = []
    for path in sorted(folder.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if pattern.search(line) and "selected" not in line:  # "N photos selected" shows for 2 or more only
                found.append(f"{path.name}:{number}: {line.strip()}")
    return found


def test_no_gui_text_says_1_photos() -> None:
    import artimuse_desktop.gui as gui

    assert _no_count_before_plural_photos(Path(gui.__file__).parent) == []


def test_add_folder_dialog_starts_in_the_pictures_folder(
    qtbot: Any, window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    pictures = home / "Bilder"
    pictures.mkdir(parents=True)
    config = tmp_path / "config"
    config.mkdir()
    (config / "user-dirs.dirs").write_text('XDG_PICTURES_DIR="$HOME/Bilder"\n', encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    assert pictures_folder() == str(pictures)
    asked: list[tuple[str, str]] = []

    def choose(_parent: Any, caption: str, directory: str = "", *args: Any) -> str:
        asked.append((caption, directory))
        return ""  # the user cancels

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(choose))
    window.folders.add_folder()
    assert asked == [("Add a folder of photos", str(pictures))]
    # no Pictures folder: the home folder
    (config / "user-dirs.dirs").write_text('XDG_PICTURES_DIR="$HOME/Nowhere"\n', encoding="utf-8")
    pictures.rmdir()
    assert pictures_folder() == str(home)


def _jpeg_with_odd_exif(path: Path) -> Path:
    """A real JPEG whose EXIF claims a 1 MB description: reading it makes Pillow warn "Tag data larger than
    file" (as it does for many cameras' odd maker notes)."""
    exif = Image.Exif()
    exif[0x010E] = "x" * 64
    blob = bytearray(exif.tobytes())
    entry = blob.index(b"\x01\x0e\x00\x02")  # big-endian: tag 270 (ImageDescription), type ASCII
    blob[entry + 4 : entry + 8] = (10**6).to_bytes(4, "big")
    Image.new("RGB", (64, 48), "green").save(path, "JPEG", exif=bytes(blob))
    return path


@pytest.mark.parametrize("start", ["cli", "gui"])
def test_pillow_warnings_go_to_the_log_never_to_the_terminal(tmp_path: Path, start: str) -> None:
    library = tmp_path / "library"
    library.mkdir()
    _jpeg_with_odd_exif(library / "odd.jpg")
    Image.new("RGB", (60, 40), "blue").save(tmp_path / "big.png")
    catalog = str(tmp_path / "c.sqlite")
    if start == "cli":  # the real command line indexing the folder
        begin = f"from artimuse_desktop import cli\ncli.main(['--catalog', {catalog!r}, 'index', {str(library)!r}])\n"
    else:  # the GUI's start-up, then the indexer its jobs run
        begin = (
            "from artimuse_desktop.gui.app import setup_logging\nsetup_logging()\n"
            "from artimuse_desktop.catalog.db import Catalog\n"
            "from artimuse_desktop.library.indexer import index_roots\n"
            f"with Catalog({catalog!r}) as catalog:\n"
            f"    index_roots(catalog, [{str(library)!r}], workers=1)\n"
        )
    code = (
        begin + "from PIL import Image\n"
        "Image.MAX_IMAGE_PIXELS = 2000\n"  # 2,400 pixels: over the limit, under twice it: a warning
        f"with Image.open({str(tmp_path / 'big.png')!r}) as image:\n"
        "    image.load()\n"
        "print('done')\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ARTIMUSE_HOME": str(tmp_path / "home")}
    env.pop("PYTHONWARNINGS", None)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "done" in done.stdout
    for text in ("Warning", "Tag data larger than file", "DecompressionBomb", "warnings.warn"):
        assert text not in done.stderr, done.stderr
    log = (tmp_path / "home" / "logs" / "artimuse-desktop.log").read_text(encoding="utf-8")
    assert "Tag data larger than file" in log
    assert "DecompressionBombWarning" in log
