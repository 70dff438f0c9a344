"""The same library folder mounted at different paths on two computers is the same photos.

Machine A indexes ``mntA``; machine B (``ARTIMUSE_MACHINE=b``) sees a copy of the very same folder at ``mntB``
(and not ``mntA`` at all). Once B maps the root, B's index finds the same photos (no duplicates, decisions
kept), new files under ``mntB`` join the root, a move is recognised, and list and export on B use B's paths.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from artimuse_desktop import cli
from artimuse_desktop.catalog import Catalog, queries
from artimuse_desktop.catalog.root_locations import RootMap, list_roots, map_root, translate
from artimuse_desktop.culling import decisions
from artimuse_desktop.identity import machine_id
from tests.factory import write_jpeg


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/mnt/a/x.jpg", "/Volumes/B/x.jpg"),
        ("/mnt/a", "/Volumes/B"),
        ("/mnt/a/", "/Volumes/B/"),
        ("/mnt/ab/x.jpg", "/mnt/ab/x.jpg"),  # a longer folder name is not under /mnt/a
        ("/mnt/a/deep/x.jpg", "/srv/x.jpg"),  # the longest matching prefix wins
        ("/elsewhere/x.jpg", "/elsewhere/x.jpg"),
    ],
)
def test_translate_replaces_the_longest_whole_folder_prefix(path: str, expected: str) -> None:
    pairs = [("/mnt/a", "/Volumes/B"), ("/mnt/a/deep/", "/srv")]
    assert translate(path, pairs) == expected


def test_a_root_at_the_file_system_root_and_the_way_back() -> None:
    places = RootMap((("/", "/mnt/nas"), ("/photos", "/Volumes/photos")))
    assert places.to_local("/x.jpg") == "/mnt/nas/x.jpg"
    assert places.to_local("/photos/x.jpg") == "/Volumes/photos/x.jpg"
    assert places.to_stored("/Volumes/photos/x.jpg") == "/photos/x.jpg"
    assert places.to_stored("/mnt/nas/y/z.jpg") == "/y/z.jpg"
    assert RootMap().to_local("/a") == "/a" and not RootMap()


def _run(capsys: pytest.CaptureFixture[str], catalog: Path, *argv: str) -> str:
    code = cli.main(["--catalog", str(catalog), *argv])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def _listed(capsys: pytest.CaptureFixture[str], catalog: Path) -> dict[str, dict[str, object]]:
    rows = json.loads(_run(capsys, catalog, "list", "--format", "json"))
    return {row["path"]: row for row in rows}


def _stored_paths(catalog: Path) -> list[str]:
    connection = sqlite3.connect(catalog)
    try:
        return sorted(os.fsdecode(path) for (path,) in connection.execute("SELECT path FROM photos"))
    finally:
        connection.close()


def test_a_root_mapped_on_a_second_machine_is_the_same_photos(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    mnt_a, mnt_b, catalog_file = tmp_path / "x" / "mntA", tmp_path / "x" / "mntB", tmp_path / "catalog.sqlite"
    for seed, name in enumerate(["IMG_0001.JPG", "IMG_0002.JPG", "day2/IMG_0003.JPG"]):
        write_jpeg(mnt_a / name, seed=seed)
    monkeypatch.setenv("ARTIMUSE_MACHINE", "a")
    _run(capsys, catalog_file, "index", str(mnt_a))
    with Catalog(catalog_file) as catalog:
        with catalog.read() as session:
            pick = queries.photo_id_for_path(session, str(mnt_a / "IMG_0002.JPG"))
        assert pick is not None
        decisions.set_decision(catalog, [pick], "flag", 1, user="alice")

    shutil.copytree(mnt_a, mnt_b)  # the NAS folder as machine B mounts it (copy2 keeps the times)
    mnt_a.rename(tmp_path / "x" / "not-on-b")  # and B cannot see mntA at all
    monkeypatch.setenv("ARTIMUSE_MACHINE", "b")
    listing = _run(capsys, catalog_file, "roots")
    assert "(b)" in listing and str(mnt_a) in listing and "3 photos" in listing
    mapped = _run(capsys, catalog_file, "roots", "map", str(mnt_a), str(mnt_b))
    assert str(mnt_b) in mapped and f"(in the catalog: {mnt_a})" in mapped

    indexed = _run(capsys, catalog_file, "index", str(mnt_b))
    counts = dict(line.split()[:2] for line in indexed.splitlines()[1:] if line.split()[:1] != ["previews"])
    assert (counts["new"], counts["unchanged"], counts["missing"], counts["moved"]) == ("0", "3", "0", "0")
    assert _stored_paths(catalog_file) == sorted(
        str(mnt_a / n) for n in ["IMG_0001.JPG", "IMG_0002.JPG", "day2/IMG_0003.JPG"]
    )
    with Catalog(catalog_file) as catalog:
        (root,) = list_roots(catalog)
        assert (root.path, root.local_path, root.photos) == (str(mnt_a), str(mnt_b), 3)
        with catalog.read() as session:
            records = queries.query_photos(session)
            assert queries.photo_id_for_path(session, str(mnt_b / "IMG_0002.JPG")) == pick
        assert {r.status for r in records} == {"ok"}
        assert {r.id: r.flag for r in records}[pick] == 1  # the decision made on A

    # A new file and a move on B join the same root under the stored paths.
    write_jpeg(mnt_b / "day2" / "IMG_0004.JPG", seed=7)
    (mnt_b / "IMG_0002.JPG").rename(mnt_b / "day2" / "IMG_0002.JPG")
    _run(capsys, catalog_file, "index", str(mnt_b))
    assert _stored_paths(catalog_file) == sorted(
        str(mnt_a / n) for n in ["IMG_0001.JPG", "day2/IMG_0002.JPG", "day2/IMG_0003.JPG", "day2/IMG_0004.JPG"]
    )
    listed = _listed(capsys, catalog_file)
    assert sorted(listed) == sorted(
        str(mnt_b / n) for n in ["IMG_0001.JPG", "day2/IMG_0002.JPG", "day2/IMG_0003.JPG", "day2/IMG_0004.JPG"]
    )
    assert listed[str(mnt_b / "day2" / "IMG_0002.JPG")]["flag"] == 1  # the moved pick is the same photo

    dest = tmp_path / "export"
    _run(capsys, catalog_file, "export", str(dest), "--picks")
    (copied,) = [p for p in dest.rglob("*.JPG")]
    assert copied.name == "IMG_0002.JPG"
    assert copied.read_bytes()[:2] == b"\xff\xd8"

    # Machine A still sees the root at its own path.
    monkeypatch.setenv("ARTIMUSE_MACHINE", "a")
    assert all(path.startswith(str(mnt_a)) for path in _listed(capsys, catalog_file))


def test_mapping_refuses_a_missing_folder_an_unknown_root_and_an_overlap(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write_jpeg(first / "a.jpg")
    write_jpeg(second / "b.jpg", seed=1)
    from artimuse_desktop.library.indexer import index_roots

    with Catalog(tmp_path / "c.sqlite") as catalog:
        index_roots(catalog, [first, second], thumbnails=False)
        with pytest.raises(ValueError, match="no such folder on this computer"):
            map_root(catalog, "1", str(tmp_path / "nowhere"))
        with pytest.raises(ValueError, match=r"no library root '9'.*1 \("):
            map_root(catalog, "9", str(tmp_path))
        with pytest.raises(ValueError, match="overlaps root 2"):
            map_root(catalog, str(first), str(second))
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        assert map_root(catalog, "1", str(elsewhere)).mapped
        assert not map_root(catalog, "1", None).mapped  # unmapped again
        assert not map_root(catalog, "1", str(first)).mapped  # its own path is no mapping


def test_the_cli_names_a_bad_mapping(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog_file = tmp_path / "c.sqlite"
    Catalog(catalog_file).close()
    assert cli.main(["--catalog", str(catalog_file), "roots", "map", "1", str(tmp_path)]) == 2
    assert "no library root '1'" in capsys.readouterr().err


def test_the_machine_id_is_made_once_and_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARTIMUSE_MACHINE", raising=False)
    first = machine_id()
    assert len(first) == 32 and machine_id() == first
    monkeypatch.setenv("ARTIMUSE_MACHINE", "studio-mac")
    assert machine_id() == "studio-mac"
