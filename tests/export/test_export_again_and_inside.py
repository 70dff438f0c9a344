"""Exporting the same picks twice into one folder copies nothing again (and says so), and exported JPEG copies
carry the decisions inside, where Lightroom reads them for rendered files. Originals are never written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from artimuse_desktop import cli
from tests.export.export_helpers import Library, all_files, exiftool_json, snapshot


def run(library: Library, *args: str) -> int:
    return cli.main(["--catalog", str(library.catalog.path), *args])


def test_the_same_export_twice_copies_nothing_again(
    library: Library, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    originals = snapshot(library.files)
    dest = tmp_path / "picks"
    assert run(library, "export", str(dest), "--picks", "--report", "csv,json,html") == 0
    first = sorted(p.name for p in all_files(dest))
    capsys.readouterr()
    assert run(library, "export", str(dest), "--picks", "--report", "csv,json,html") == 0
    out = capsys.readouterr().out
    assert "2 already in" in out and "not copied again" in out
    assert sorted(p.name for p in all_files(dest)) == first  # no "(2)" copies, no second contact sheet
    assert not any("(2)" in name for name in first)
    assert snapshot(library.files) == originals


def test_a_different_file_of_the_same_name_is_never_overwritten(library: Library, tmp_path: Path) -> None:
    dest = tmp_path / "picks"
    dest.mkdir()
    (dest / "a_best.jpg").write_bytes(b"someone else's file")
    assert run(library, "export", str(dest), "--picks") == 0
    assert (dest / "a_best.jpg").read_bytes() == b"someone else's file"
    assert (dest / "a_best (2).jpg").is_file()


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool is not installed")
def test_exported_jpeg_copies_carry_rating_label_and_reject_inside(library: Library, tmp_path: Path) -> None:
    originals = snapshot(library.files)
    dest = tmp_path / "all"
    assert run(library, "export", str(dest), "--filter", "score>=0") == 0
    best = exiftool_json(dest / "a_best.jpg", "-XMP:Rating", "-XMP:Label")
    assert best["XMP-xmp:Rating"] == 5 and best["XMP-xmp:Label"] == "Red"
    low = exiftool_json(dest / "e_low.jpg", "-XMP:Rating")
    assert low["XMP-xmp:Rating"] == -1  # a reject, as Lightroom writes it
    source = library.path("a_best.jpg").read_bytes()
    copy = (dest / "a_best.jpg").read_bytes()
    assert copy.endswith(source[source.find(b"\xff\xda") :])  # the image data, byte for byte
    assert snapshot(library.files) == originals


def test_links_never_get_xmp_inside(library: Library, tmp_path: Path) -> None:
    originals = snapshot(library.files)
    dest = tmp_path / "links"
    assert run(library, "export", str(dest), "--picks", "--mode", "hardlink") == 0
    assert snapshot(library.files) == originals
    assert b"xpacket" not in (dest / "a_best.jpg").read_bytes()
