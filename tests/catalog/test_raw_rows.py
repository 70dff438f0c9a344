"""The indexer's raw SQL (``catalog.dbapi``) stores values exactly as SQLAlchemy does: photos written through it
read back through the ORM with every column as written, the same row written through the ORM is stored the same
(byte for byte where SQLite keeps text), and the indexer's raw reads see ORM-written rows as they were. On SQLite
(a fresh file: plain ``sqlite3`` connections, no engine) and on the real PostgreSQL server (its engine)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from artimuse_desktop.catalog.constants import SOURCE_SIDECAR
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.models import LibraryRoot, Photo
from artimuse_desktop.catalog.tables import photos
from artimuse_desktop.errors import CatalogError
from artimuse_desktop.library.folder_stamps import load_stamps
from artimuse_desktop.library.index_results import IndexSummary
from artimuse_desktop.library.index_rows import RowWriter, ensure_roots, load_known, mark_roots_scanned
from artimuse_desktop.library.scanner import FolderStamp
from tests.library.hostile_xmp import sidecar

WHEN = datetime(2024, 7, 1, 12, 0, 0, 250_000)
NOW = datetime(2026, 12, 1, 23, 59, 58, 7)
ODD_NAME = os.fsdecode(b"caf\xe9 \xff.jpg")  # not UTF-8: stored as the file system's bytes


def _values(folder: Path, name: str, root_id: int) -> dict[str, Any]:
    path = str(folder / name)
    return {
        "path": path, "folder": str(folder), "filename": name.encode("utf-8", "replace").decode("utf-8", "replace"),
        "size": 3_000_000_123, "mtime": 1719835200.123456, "root_id": root_id, "fingerprint": "ab" * 32,
        "format": "JPEG", "width": 6000, "height": 4000, "orientation": 6, "phash": "0123456789abcdef",
        "status": "ok", "error": None, "indexed_at": NOW, "captured_at": WHEN, "camera_make": "Fujifilm",
        "camera_model": "X-T5", "lens": "XF56mmF1.2 R WR", "focal_length": 56.0, "aperture": 1.2,
        "shutter": 1 / 250, "iso": 400, "gps_lat": 48.858222, "gps_lon": 2.2945, "gps_alt": 35.5,
    }  # fmt: skip


def _orm_row(catalog: Catalog, photo_id: int) -> dict[str, Any]:
    with catalog.read() as session:
        photo = session.get(Photo, photo_id)
        assert photo is not None
        return {column.key: getattr(photo, column.key) for column in photos.c}


def _stored(catalog: Catalog, photo_id: int) -> dict[str, Any]:
    """The row as the database holds it (raw driver values: texts, bytes, numbers)."""
    names = [column.key for column in photos.c]
    with catalog.raw_read() as raw:
        row = raw.execute(f"SELECT {', '.join(names)} FROM photos WHERE id = :id", {"id": photo_id}).first()
    assert row is not None
    return dict(zip(names, row, strict=True))


def test_raw_writes_read_back_through_the_orm_and_the_other_way_round(catalog: Catalog, tmp_path: Path) -> None:
    if catalog.dialect == "sqlite":
        assert catalog.raw_pool is not None  # no engine yet: plain sqlite3 connections
    folder = tmp_path / "shoot"
    folder.mkdir()
    (folder / "IMG_0002.xmp").write_text(sidecar(rating="4", label="Red"))
    roots = ensure_roots(catalog, [str(folder)])
    root_id = roots[str(folder)]
    summary = IndexSummary([str(folder)])
    writer = RowWriter(catalog, summary, batch_size=100)
    raw_values = [_values(folder, name, root_id) for name in ("IMG_0001.JPG", "IMG_0002.JPG", ODD_NAME)]
    for values in raw_values:
        writer.insert(values)
    writer.flush()
    first, second, odd = summary.photo_ids
    writer.update({"id": first, "status": "error", "error": "truncated", "indexed_at": WHEN}, changed=None)
    writer.flush()
    stamp = FolderStamp(1, 2, 3, True, 3, 0, (), ())
    mark_roots_scanned(catalog, roots, [str(folder)], {str(folder): stamp}, unchanged=set())
    if catalog.dialect == "sqlite":
        assert catalog.raw_pool is not None  # still no engine: all the above was raw sqlite3

    expected = {**raw_values[0], "status": "error", "error": "truncated", "indexed_at": WHEN}
    defaults = {"flag": 0, "rating": 0, "color_label": None, "decided_at": None, "score": None}
    sources = {"flag_source": None, "rating_source": None, "label_source": None}
    assert _orm_row(catalog, first) == {"id": first, **expected, **defaults, **sources}
    with_sidecar = {"rating": 4, "color_label": "red", "rating_source": SOURCE_SIDECAR, "label_source": SOURCE_SIDECAR}
    decided_at = _orm_row(catalog, second)["decided_at"]
    assert isinstance(decided_at, datetime)
    expected_second = {"id": second, **raw_values[1], **defaults, **sources, **with_sidecar, "decided_at": decided_at}
    assert _orm_row(catalog, second) == expected_second
    assert _orm_row(catalog, odd)["path"] == str(folder / ODD_NAME)
    with catalog.read() as session:
        root = session.get(LibraryRoot, root_id)
        assert root is not None and root.path == str(folder)
        assert isinstance(root.added_at, datetime) and isinstance(root.last_scan_at, datetime)

    # The same values through the ORM: stored the same, column by column.
    twin = {**raw_values[1], "path": str(folder / "TWIN.JPG"), "filename": "TWIN.JPG", **defaults, **sources}
    twin.update(with_sidecar, decided_at=decided_at)
    twin.pop("score")
    with catalog.write() as session:
        session.add(Photo(**twin))
        session.flush()
        twin_id = session.query(Photo.id).filter(Photo.path == twin["path"]).scalar()
    raw_row, orm_row = _stored(catalog, second), _stored(catalog, twin_id)
    for column in photos.c:
        if column.key not in ("id", "path", "filename"):
            assert raw_row[column.key] == orm_row[column.key], column.key
            assert type(raw_row[column.key]) is type(orm_row[column.key]), column.key

    # And the indexer's raw reads see ORM-written rows as written (a fresh handle: raw sqlite3 on a file).
    reopened = Catalog(catalog.path if catalog.path is not None else catalog.url)  # type: ignore[arg-type]
    with reopened:
        known = load_known(reopened, [str(folder)], [])
        assert known[twin["path"]][1:] == (twin["path"], twin["size"], twin["mtime"], "ab" * 32, "ok", None)
        assert known[str(folder / ODD_NAME)].id == odd
        assert load_stamps(reopened, [str(folder)]) == {str(folder): stamp}


@pytest.mark.sqlite_only
def test_a_raw_write_refused_by_sqlite_is_named_as_the_catalogs(catalog: Catalog) -> None:
    assert catalog.raw_pool is not None
    refused = pytest.raises(CatalogError, match=r"could not write to the catalog .*catalog\.sqlite: no such table")
    with refused, catalog.raw_write() as raw:
        raw.execute("INSERT INTO catalog_settings (key, value) VALUES (:key, :value)", {"key": "a", "value": "b"})
        raw.execute("DELETE FROM no_such_table")
    with catalog.raw_read() as raw:  # rolled back: the first statement too
        assert raw.execute("SELECT count(*) FROM catalog_settings WHERE key = 'a'").scalar() == 0


@pytest.mark.sqlite_only  # another process writes the file with sqlite3; PostgreSQL tells its own by backend pid
def test_the_indexers_raw_writes_in_a_watched_catalog_are_its_own(catalog: Catalog, tmp_path: Path) -> None:
    """In the window (the engine and its sessions exist, ``catalog.watch`` listens), the indexer's raw writes run
    inside the sessions' commits: the watcher knows them for this process's, and still hears another's."""
    from artimuse_desktop.catalog.watch import ExternalChanges
    from artimuse_desktop.imaging.thumbnails import ThumbnailCache
    from artimuse_desktop.library.indexer import index_roots
    from tests.images import write_jpeg

    library = tmp_path / "library"
    write_jpeg(library / "a.jpg", 320, 240, seed=1)
    (library / "a.xmp").write_text(sidecar(rating="2"))
    watch = ExternalChanges(catalog)
    try:
        assert catalog.raw_pool is None  # the engine exists now: raw SQL runs on its connections
        assert watch.poll() is False
        summary = index_roots(catalog, [str(library)], cache=ThumbnailCache(tmp_path / "thumbs"))
        assert summary.new == 1 and summary.sidecar_decisions == 1
        assert watch.poll() is False  # our own commits
        script = (
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('UPDATE photos SET rating = 5'); "
            "c.commit()"
        )
        subprocess.run([sys.executable, "-c", script, str(catalog.path)], check=True)
        assert watch.poll() is True
    finally:
        watch.close()
