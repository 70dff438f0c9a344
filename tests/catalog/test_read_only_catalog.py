"""Read-only places say so: readers read a catalog they cannot write, writers refuse and say why.

Root ignores permission bits, so the places are made read-only by the kernel: a read-only bind mount of the
catalog's folder, or the immutable attribute on the file or the folder (``tests/catalog/places.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from artimuse_desktop import cli
from artimuse_desktop.catalog import Catalog
from artimuse_desktop.catalog.db import open_catalog_for_reading
from artimuse_desktop.errors import CatalogError
from tests.catalog.frozen import frozen_copy
from tests.catalog.places import immutable, read_only_view
from tests.factory import PhotoSpec, add_photos


def _make_catalog(folder: Path, photos: Path) -> Path:
    path = folder / "catalog.sqlite"
    with Catalog(path) as catalog:
        add_photos(catalog, photos, [PhotoSpec("a.jpg", rating=4), PhotoSpec("b.jpg", flag=1)])
    assert sorted(p.name for p in folder.iterdir()) == ["catalog.sqlite"]  # closed cleanly: no -wal, -shm
    return path


def _listed(path: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    code = cli.main(["--catalog", str(path), "list", "--format", "json", "--sort", "filename"])
    out = capsys.readouterr()
    assert code == 0, out.err
    rows: list[dict[str, object]] = json.loads(out.out)
    return rows


def _refused_writer(path: Path, library: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(["--catalog", str(path), "index", "--no-previews", str(library)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write to the catalog {path}" in err and "hint:" in err and "`list`" in err
    return err


def test_a_catalog_in_a_read_only_folder_is_listed_and_writers_say_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    place = tmp_path / "place"
    place.mkdir()
    _make_catalog(place, tmp_path / "photos")
    with read_only_view(place, tmp_path / "ro") as view:
        path = view / "catalog.sqlite"
        rows = _listed(path, capsys)
        assert [(r["filename"], r["rating"], r["flag"]) for r in rows] == [("a.jpg", 4, 0), ("b.jpg", 0, 1)]
        err = _refused_writer(path, tmp_path / "photos", capsys)
        assert "read-only file system" in err
        with pytest.raises(CatalogError, match="read-only file system"):
            Catalog(path)
        with open_catalog_for_reading(path) as catalog:
            assert catalog.read_only
            with pytest.raises(CatalogError, match="cannot write to the catalog"), catalog.write():
                pass
        dest = tmp_path / "out"
        code = cli.main(["--catalog", str(path), "export", str(dest), "--all-filtered", "--report", "json"])
        assert code == 0, capsys.readouterr().err
        assert sorted(p.name for p in dest.iterdir()) == ["a.jpg", "artimuse-export.json", "b.jpg"]
    assert sorted(p.name for p in place.iterdir()) == ["catalog.sqlite"]


def test_a_read_only_catalog_that_needs_an_upgrade_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    place = tmp_path / "place"
    frozen_copy("catalog-0001.sqlite", place)
    with read_only_view(place, tmp_path / "ro") as view:
        code = cli.main(["--catalog", str(view / "catalog-0001.sqlite"), "list"])
        err = capsys.readouterr().err
    assert code == 2
    assert "schema 0001 and needs an upgrade" in err and "read-only file system" in err and "hint:" in err


def test_a_read_only_catalog_left_unclosed_reads_its_journal_or_says_why_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A writer killed before its last close leaves -wal and -shm; mode=ro reads the journal (never the stale
    main file through immutable=1), and without the -shm file SQLite cannot, which is said plainly."""
    place = tmp_path / "place"
    place.mkdir()
    path = _make_catalog(place, tmp_path / "photos")
    crash = (
        "import os, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1])\n"
        "c.execute(\"UPDATE photos SET rating = 2 WHERE filename = 'b.jpg'\")\n"
        "c.commit()\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", crash, str(path)], check=True)
    assert (place / "catalog.sqlite-wal").stat().st_size > 0
    with read_only_view(place, tmp_path / "ro") as view:
        rows = _listed(view / "catalog.sqlite", capsys)
    assert [r["rating"] for r in rows] == [4, 2]  # the committed change in the journal is seen
    (place / "catalog.sqlite-shm").unlink()
    with read_only_view(place, tmp_path / "ro") as view:
        code = cli.main(["--catalog", str(view / "catalog.sqlite"), "list"])
        err = capsys.readouterr().err
    assert code == 2 and "not closed cleanly" in err and "catalog.sqlite-wal" in err


def test_an_immutable_catalog_file_is_listed_and_writers_say_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    place = tmp_path / "place"
    place.mkdir()
    path = _make_catalog(place, tmp_path / "photos")
    with immutable(path):
        assert [r["filename"] for r in _listed(path, capsys)] == ["a.jpg", "b.jpg"]
        err = _refused_writer(path, tmp_path / "photos", capsys)
        assert f"the file {path} is read-only" in err


def test_a_catalog_in_an_immutable_folder_is_listed_and_writers_say_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    place = tmp_path / "place"
    place.mkdir()
    path = _make_catalog(place, tmp_path / "photos")
    with immutable(place):
        assert [r["filename"] for r in _listed(path, capsys)] == ["a.jpg", "b.jpg"]
        err = _refused_writer(path, tmp_path / "photos", capsys)
        assert f"the folder {place} is read-only" in err and "catalog.sqlite-wal" in err
        other = place / "new.sqlite"
        with pytest.raises(CatalogError, match="no catalog can be created in it"):
            Catalog(other)


def test_a_corrupt_catalog_in_a_read_only_folder_names_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    place = tmp_path / "place"
    place.mkdir()
    data = frozen_copy("catalog-0002.sqlite", tmp_path).read_bytes()
    (place / "catalog.sqlite").write_bytes(data[:100] + b"\x00" * 4000)
    with read_only_view(place, tmp_path / "ro") as view:
        assert cli.main(["--catalog", str(view / "catalog.sqlite"), "list"]) == 2
        err = capsys.readouterr().err
    assert f"cannot read the catalog {view / 'catalog.sqlite'}:" in err and "malformed" in err
