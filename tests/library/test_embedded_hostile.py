"""A packet inside a photo is as untrusted as a sidecar: every hostile one is one warning naming the photo,
nothing of it is used, the photo still indexes and the file is never touched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PIL import Image

from artimuse_desktop import cli
from artimuse_desktop.catalog import Catalog, queries
from artimuse_desktop.catalog.filters import SortSpec
from artimuse_desktop.catalog.models import STATUS_OK
from artimuse_desktop.library.embedded_xmp import MAX_PACKET_BYTES, decisions_from_packet
from artimuse_desktop.library.indexer import index_roots
from tests.library import imagefactory as images
from tests.library.hostile_xmp import BILLION_LAUGHS, HOSTILE, sidecar


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(catalog: Catalog) -> dict[str, tuple[str, int, str | None, str | None]]:
    with catalog.read() as session:
        records = queries.query_photos(session, sort=SortSpec("filename"))
    return {r.filename: (r.status, r.rating, r.color_label, r.rating_source) for r in records}


def test_a_doctype_in_a_jpeg_packet_is_one_warning_and_the_photo_indexes(
    catalog: Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    library = tmp_path / "shoot"
    library.mkdir()
    exif = Image.Exif()
    exif[0x4746] = 2  # the EXIF Rating is not part of the refused packet: it still counts
    photo = library / "IMG_0001.jpg"
    images.photo_like(160, 120).save(photo, "JPEG", exif=exif, xmp=BILLION_LAUGHS.encode())
    images.photo_like(160, 120, 1).save(library / "IMG_0002.jpg", "JPEG", xmp=sidecar(rating="4").encode())
    before = _digest(photo)

    assert cli.main(["--catalog", str(catalog.path), "index", "--quiet", "--no-previews", str(library)]) == 0

    out = capsys.readouterr()
    text = out.out + out.err
    assert text.count("IMG_0001.jpg") == 1 and "IMG_0002.jpg" not in text
    assert "XMP inside these photos was refused" in text and "DOCTYPE" in text
    assert _rows(catalog) == {
        "IMG_0001.jpg": (STATUS_OK, 2, None, "file"),
        "IMG_0002.jpg": (STATUS_OK, 4, "green", "file"),
    }
    assert _digest(photo) == before


def test_every_hostile_packet_in_a_tiff_is_refused_with_its_reason(catalog: Catalog, tmp_path: Path) -> None:
    """Tag 700 takes any bytes (UTF-16, 130 KB of nesting), so each sidecar attack fits inside a TIFF."""
    library = tmp_path / "shoot"
    library.mkdir()
    for seed, (case, (data, _fragment)) in enumerate(sorted(HOSTILE.items())):
        images.photo_like(96, 64, seed).save(library / f"{case}.tif", "TIFF", tiffinfo={700: data})

    summary = index_roots(catalog, [library], thumbnails=False)

    assert summary.new == len(HOSTILE) and summary.failed == 0
    problems = {Path(path).stem: reason for path, reason in summary.embedded_problems}
    assert len(summary.embedded_problems) == len(problems) == len(HOSTILE)  # one warning per photo
    for case, (_data, fragment) in HOSTILE.items():
        assert fragment in problems[case] and problems[case].startswith("XMP packet refused: "), case
    assert all(row == (STATUS_OK, 0, None, None) for row in _rows(catalog).values())
    assert summary.sidecar_problems == []


def test_a_huge_tiff_directory_is_refused_without_reading_it_whole(catalog: Catalog, tmp_path: Path) -> None:
    library = tmp_path / "shoot"
    library.mkdir()
    huge = sidecar(rating="5").encode().ljust(2 * MAX_PACKET_BYTES + 1024, b" ")
    images.photo_like(96, 64).save(library / "huge.tif", "TIFF", tiffinfo={700: huge})
    summary = index_roots(catalog, [library], thumbnails=False)
    assert summary.failed == 0
    ((path, reason),) = summary.embedded_problems
    assert Path(path).name == "huge.tif" and "over 32 MiB" in reason
    assert _rows(catalog)["huge.tif"] == (STATUS_OK, 0, None, None)


def test_a_packet_over_the_limit_is_refused_and_padding_is_not_a_packet() -> None:
    too_big = decisions_from_packet(b"<x:xmpmeta" + b" " * MAX_PACKET_BYTES + b"/>", "big.tif")
    assert too_big.decisions.empty and too_big.problem is not None and "too large" in too_big.problem
    padding = decisions_from_packet(b"\x00" * 64 + b"   \n", "pad.jpg")
    assert padding.decisions.empty and padding.problem is None
