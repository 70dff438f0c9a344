"""XMP inside exported copies: exiftool reads Rating and Label back, the image data is byte-identical, and no
original or link to one is ever written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from artimuse_desktop.export.embed_xmp import EmbedError, embed_xmp, xmp_packet
from artimuse_desktop.export.xmp import SidecarData, render_sidecar

EXIFTOOL = shutil.which("exiftool")


def _packet(path: Path, data: SidecarData) -> bytes:
    return xmp_packet(render_sidecar(None, path, data, "lightroom"))


def _photo(path: Path, fmt: str) -> Path:
    image = Image.new("RGB", (64, 48), (200, 120, 40))
    for x in range(0, 64, 6):
        image.paste((20, 90, 210), (x, 0, x + 2, 48))
    if fmt == "JPEG":
        exif = Image.Exif()
        exif[0x010F] = "Fujifilm"  # Make
        image.save(path, "JPEG", quality=90, exif=exif.tobytes())
    else:
        image.save(path, fmt)
    return path


def _read_back(path: Path) -> dict[str, object]:
    assert EXIFTOOL is not None
    out = subprocess.run(
        [EXIFTOOL, "-j", "-XMP:Rating", "-XMP:Label", "-EXIF:Make", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(out)[0])


@pytest.mark.skipif(EXIFTOOL is None and not os.environ.get("CI"), reason="exiftool is not installed")
@pytest.mark.parametrize(("name", "fmt"), [("a.jpg", "JPEG"), ("b.png", "PNG")])
def test_exiftool_reads_the_embedded_decisions_and_the_pixels_are_untouched(
    tmp_path: Path, name: str, fmt: str
) -> None:
    original = _photo(tmp_path / name, fmt)
    before = original.read_bytes()
    copy = tmp_path / "export" / name
    copy.parent.mkdir()
    shutil.copy2(original, copy)
    embed_xmp(copy, original, _packet(copy, SidecarData(rating=4, label="green", score=71.5, model="technical")))
    assert original.read_bytes() == before  # the original is never written
    tags = _read_back(copy)
    assert tags["Rating"] == 4 and tags["Label"] == "Green"
    if fmt == "JPEG":
        assert tags["Make"] == "Fujifilm"  # the EXIF segment is kept
        assert copy.read_bytes().endswith(before[before.find(b"\xff\xda") :])
    with Image.open(copy) as a, Image.open(original) as b:
        assert a.tobytes() == b.tobytes()
    # embedding again replaces our packet instead of adding a second one
    embed_xmp(copy, original, _packet(copy, SidecarData(rating=-1, flag=-1)))
    assert _read_back(copy)["Rating"] == -1
    assert copy.read_bytes().count(b"xpacket begin") == 1


def test_a_hardlink_or_the_original_is_never_written(tmp_path: Path) -> None:
    original = _photo(tmp_path / "a.jpg", "JPEG")
    before = original.read_bytes()
    link = tmp_path / "linked.jpg"
    os.link(original, link)
    with pytest.raises(EmbedError, match="link"):
        embed_xmp(link, original, _packet(link, SidecarData(rating=5)))
    symlink = tmp_path / "sym.jpg"
    symlink.symlink_to(original)
    with pytest.raises(EmbedError):
        embed_xmp(symlink, original, _packet(symlink, SidecarData(rating=5)))
    link.unlink()
    with pytest.raises(EmbedError, match="original"):
        embed_xmp(original, original, _packet(original, SidecarData(rating=5)))
    assert original.read_bytes() == before


def test_a_damaged_jpeg_is_refused_and_left_alone(tmp_path: Path) -> None:
    original = _photo(tmp_path / "a.jpg", "JPEG")
    copy = tmp_path / "copy.jpg"
    data = original.read_bytes()
    copy.write_bytes(data[:4] + b"\x00\x00" + data[6:40])  # truncated, broken segment length
    kept = copy.read_bytes()
    with pytest.raises(EmbedError, match="damaged JPEG"):
        embed_xmp(copy, original, _packet(copy, SidecarData(rating=5)))
    assert copy.read_bytes() == kept
