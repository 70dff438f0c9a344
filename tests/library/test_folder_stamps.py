"""Folder stamps: a rescan lists only the folders that changed, and still never misses a new, moved or removed
photo. Folders are aged (mtime an hour back) so their stamps are trusted; a folder the test then changes gets
a fresh mtime from the file system, as it would for a user."""

from __future__ import annotations

import json
import os
import re
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.models import CatalogSetting, LibraryRoot, Photo
from artimuse_desktop.imaging.thumbnails import ThumbnailCache
from artimuse_desktop.library import folder_stamps, scanner
from artimuse_desktop.library.indexer import index_roots
from tests.library import imagefactory as images


def _jpeg(path: Path, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return images.save(images.photo_like(96, 64, seed=seed), path, exif=images.make_exif())  # type: ignore[arg-type]


def _age(library: Path) -> None:
    """Every folder last changed an hour ago (files keep their own times)."""
    past = time.time() - 3600
    for folder, _dirs, _files in os.walk(library, topdown=False):
        os.utime(folder, (past, past))


def _library(library: Path) -> dict[str, Path]:
    photos = {
        "a": _jpeg(library / "2023" / "roll-1" / "a.jpg", 1),
        "b": _jpeg(library / "2023" / "roll-1" / "b.jpg", 2),
        "c": _jpeg(library / "2023" / "roll-2" / "c.jpg", 3),
        "d": _jpeg(library / "2024" / "d.jpg", 4),
    }
    (library / "2023" / "roll-2" / "notes.txt").write_text("not a photo")
    _age(library)
    return photos


def _statuses(catalog: Catalog) -> dict[str, str]:
    with catalog.read() as session:
        return {path: status for path, status in session.execute(select(Photo.path, Photo.status))}


def _first_index(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    first = index_roots(catalog, [library], cache=cache)
    assert first.new == 4 and first.ignored == 1


def test_an_unchanged_library_is_counted_from_its_stamps(
    catalog: Catalog, cache: ThumbnailCache, library: Path
) -> None:
    _library(library)
    _first_index(catalog, cache, library)
    stamps = folder_stamps.load_stamps(catalog, [str(library)])
    assert set(stamps) == {str(library / p) for p in ("", "2023", "2023/roll-1", "2023/roll-2", "2024")}
    assert all(stamp.trusted for stamp in stamps.values())
    scan = scanner.scan([library], stamps=stamps)
    assert scan.files == [] and scan.unchanged_photos == 4 and scan.ignored == 1
    assert scan.unchanged_folders == set(stamps)  # none listed
    again = index_roots(catalog, [library], cache=cache)
    assert (again.unchanged, again.new, again.missing, again.decoded, again.ignored) == (4, 0, 0, 0, 1)


def test_new_moved_and_removed_photos_are_found_below_unchanged_folders(
    catalog: Catalog, cache: ThumbnailCache, library: Path
) -> None:
    photos = _library(library)
    _first_index(catalog, cache, library)
    with catalog.write() as session:
        moved = session.execute(select(Photo).where(Photo.path == str(photos["a"]))).scalar_one()
        moved.rating, moved_id = 4, moved.id
    _jpeg(library / "2023" / "roll-1" / "new.jpg", 9)  # a new photo deep down: only roll-1 changes
    photos["a"].rename(library / "2023" / "roll-2" / "a.jpg")  # a move between two folders
    photos["d"].unlink()  # a removal
    _jpeg(library / "2024" / "fresh" / "e.jpg", 10)  # a new folder with a photo in it
    summary = index_roots(catalog, [library], cache=cache)
    assert (summary.new, summary.moved, summary.missing, summary.unchanged) == (2, 1, 1, 2)
    statuses = _statuses(catalog)
    assert statuses[str(photos["d"])] == "missing"
    assert statuses[str(library / "2024" / "fresh" / "e.jpg")] == "ok"
    with catalog.read() as session:
        row = session.get(Photo, moved_id)
        assert row is not None and row.path == str(library / "2023" / "roll-2" / "a.jpg") and row.rating == 4


def test_a_removed_folder_makes_its_photos_missing(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    photos = _library(library)
    _first_index(catalog, cache, library)
    for name in ("a", "b"):
        photos[name].unlink()
    (library / "2023" / "roll-1").rmdir()
    summary = index_roots(catalog, [library], cache=cache)
    assert (summary.missing, summary.unchanged) == (2, 2)
    assert _statuses(catalog)[str(photos["a"])] == "missing"


def test_an_in_place_edit_waits_for_a_full_scan(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    """The documented limit: a file rewritten under its own name leaves its folder's mtime alone."""
    photos = _library(library)
    _first_index(catalog, cache, library)
    with open(photos["c"], "r+b") as handle:  # rewritten in place: same name, new content
        handle.write(images.jpeg_bytes(images.photo_like(96, 64, seed=77)))
    quick = index_roots(catalog, [library], cache=cache)
    assert (quick.unchanged, quick.updated) == (4, 0)  # folder stamps trusted: not seen yet
    full = index_roots(catalog, [library], cache=cache, full_scan=True)
    assert (full.unchanged, full.updated) == (3, 1)


def test_a_full_scan_is_due_once_a_day(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    _library(library)
    _first_index(catalog, cache, library)
    assert folder_stamps.load_stamps(catalog, [str(library)])
    tomorrow = datetime.now() + folder_stamps.FULL_SCAN_EVERY + timedelta(minutes=1)
    assert folder_stamps.load_stamps(catalog, [str(library)], now=tomorrow) == {}


def test_failures_are_reported_again_and_a_bad_state_row_means_a_full_scan(
    catalog: Catalog, cache: ThumbnailCache, library: Path
) -> None:
    _library(library)
    (library / "2024" / "zero.jpg").write_bytes(b"")
    _age(library)
    first = index_roots(catalog, [library], cache=cache)
    assert first.failed == 1
    again = index_roots(catalog, [library], cache=cache)
    assert (again.unchanged, again.failed) == (4, 1)
    assert again.failures == [(str(library / "2024" / "zero.jpg"), "empty file (0 bytes)")]
    with catalog.write() as session:
        root_id = session.execute(select(LibraryRoot.id)).scalar_one()
        setting = session.get(CatalogSetting, folder_stamps.setting_key(root_id))
        assert setting is not None and json.loads(setting.value or "")["v"] == 1
        setting.value = "{not json"
    assert folder_stamps.load_stamps(catalog, [str(library)]) == {}
    full = index_roots(catalog, [library], cache=cache)
    assert (full.unchanged, full.failed) == (4, 1)
    assert folder_stamps.load_stamps(catalog, [str(library)])  # written again


def test_a_folder_changed_just_now_is_listed_again(library: Path) -> None:
    """A stamp taken within RACY_SECONDS of the folder's last change is not trusted: a change in the same
    timestamp tick could hide behind it."""
    _jpeg(library / "a.jpg")
    first = scanner.scan([library])
    assert not first.stamps[str(library)].trusted
    again = scanner.scan([library], stamps=first.stamps)
    assert again.unchanged_folders == set() and len(again.files) == 1


def test_skipped_entries_and_subfolder_scans_keep_their_stamps(
    catalog: Catalog, cache: ThumbnailCache, library: Path
) -> None:
    _library(library)
    os.mkfifo(library / "2024" / "pipe.jpg")
    _age(library)
    first = index_roots(catalog, [library], cache=cache)
    assert str(library / "2024" / "pipe.jpg") in dict(first.skipped)
    again = index_roots(catalog, [library], cache=cache)
    assert dict(again.skipped) == dict(first.skipped) and again.unchanged == 4
    sub = index_roots(catalog, [library / "2023"], cache=cache)  # the root's stamps serve a subfolder too
    assert (sub.unchanged, sub.missing) == (3, 0)
    assert set(folder_stamps.load_stamps(catalog, [str(library)])) >= {str(library), str(library / "2023" / "roll-1")}


def test_stamped_rescans_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    """The same rules through psycopg: the distinct-folder and flagged-row reads, the settings row."""
    library = tmp_path / "photos"
    photos = _library(library)
    (library / "2024" / "zero.jpg").write_bytes(b"")
    _age(library)
    cache = ThumbnailCache(tmp_path / "thumbs")
    with Catalog(postgres_url) as catalog:
        first = index_roots(catalog, [library], cache=cache)
        assert (first.new, first.failed) == (4, 1)
        again = index_roots(catalog, [library], cache=cache)
        assert (again.unchanged, again.failed, again.decoded) == (4, 1, 0)
        photos["b"].unlink()
        (library / "2024" / "zero.jpg").unlink()
        _jpeg(library / "2023" / "roll-2" / "new.jpg", 5)
        changed = index_roots(catalog, [library], cache=cache)
        assert (changed.new, changed.missing, changed.unchanged, changed.failed) == (1, 2, 3, 0)
        assert _statuses(catalog)[str(photos["b"])] == "missing"


def test_overlapping_roots_leave_no_subfolder_out_of_a_stamp(
    catalog: Catalog, cache: ThumbnailCache, library: Path
) -> None:
    """``index photos/2023 photos``: 2023 is entered first, so the listing of photos meets it a second time."""
    photos = _library(library)
    first = index_roots(catalog, [library / "2023", library], cache=cache)
    assert first.new == 4
    again = index_roots(catalog, [library], cache=cache)
    assert (again.unchanged, again.missing) == (4, 0)
    assert _statuses(catalog)[str(photos["a"])] == "ok"


def test_index_full_on_the_command_line_finds_an_in_place_edit(
    catalog: Catalog, library: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from artimuse_desktop.cli import main

    photos = _library(library)
    assert main(["--catalog", str(catalog.path), "index", "--no-previews", "-q", str(library)]) == 0
    with open(photos["c"], "r+b") as handle:
        handle.write(images.jpeg_bytes(images.photo_like(96, 64, seed=77)))
    assert main(["--catalog", str(catalog.path), "index", "--no-previews", "--full", str(library)]) == 0
    out = capsys.readouterr().out.split("Indexed:")[-1]
    assert re.search(r"updated\s+1\b", out) and re.search(r"unchanged\s+3\b", out)
