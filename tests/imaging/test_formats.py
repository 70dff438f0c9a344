"""Formats are identified by content; the extension only separates TIFF from TIFF-based RAW files."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from artimuse_desktop.errors import DecodeError
from artimuse_desktop.imaging import formats
from tests.library import imagefactory as images


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF", "WEBP", "HEIC", "AVIF"])
def test_pillow_formats_are_identified_by_content(tmp_path: Path, fmt: str) -> None:
    path = images.save(images.marker_image(), tmp_path / f"photo{images.PILLOW_SAVE[fmt]}", fmt)
    assert formats.identify(path) == fmt
    misnamed = tmp_path / "misnamed.jpg"
    misnamed.write_bytes(path.read_bytes())
    expected = "TIFF" if fmt == "TIFF" else fmt
    assert formats.identify(misnamed) == expected


def test_png_named_jpg_is_png(tmp_path: Path) -> None:
    path = images.save(images.marker_image(), tmp_path / "holiday.jpg", "PNG")
    assert formats.identify(path) == "PNG"


def test_text_named_jpg_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("shopping list\n- film\n- batteries\n", encoding="utf-8")
    with pytest.raises(DecodeError) as info:
        formats.identify(path)
    assert info.value.reason == "not an image (looks like text)"
    assert info.value.path == str(path)


def test_empty_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(DecodeError, match="empty file"):
        formats.identify(path)


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"GIF89a" + b"\x00" * 32, "unsupported format (GIF)"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", "not a photo (looks like a video file)"),
        (b"PK\x03\x04" + b"\x00" * 40, "not an image (looks like a ZIP archive)"),
        (bytes(range(256)) * 4, "not an image (unrecognised content)"),
    ],
)
def test_other_content_gets_a_clear_reason(tmp_path: Path, head: bytes, reason: str) -> None:
    path = tmp_path / "x.jpg"
    path.write_bytes(head)
    with pytest.raises(DecodeError) as info:
        formats.identify(path)
    assert info.value.reason == reason


def test_dng_is_recognised_by_its_dng_version_tag_whatever_its_name(tmp_path: Path) -> None:
    dng = images.make_dng(images.marker_image(), tmp_path / "a.dng")
    assert formats.identify(dng) == "DNG"
    renamed = tmp_path / "a.tif"
    renamed.write_bytes(dng.read_bytes())
    assert formats.identify(renamed) == "DNG"


def _tiff_with_make(make: str, *, sub_ifds: bool) -> bytes:
    """A little-endian TIFF header whose IFD0 holds Make (and SubIFDs, as camera files have)."""
    make_bytes = make.encode() + b"\x00"
    entries = [(0x010F, 2, len(make_bytes), 0)]  # value offset patched below
    if sub_ifds:
        entries.append((0x014A, 4, 1, 0))
    ifd_offset = 8
    data_offset = ifd_offset + 2 + 12 * len(entries) + 4
    blob = bytearray(b"II*\x00" + struct.pack("<I", ifd_offset))
    blob += struct.pack("<H", len(entries))
    for tag, typ, count, _ in entries:
        value = struct.pack("<I", data_offset) if tag == 0x010F else b"\x00\x00\x00\x00"
        blob += struct.pack("<HHI", tag, typ, count) + value
    blob += b"\x00\x00\x00\x00" + make_bytes
    return bytes(blob)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.nef", "NEF"), ("a.NEF", "NEF"), ("a.arw", "ARW"), ("a.pef", "PEF"), ("a.srw", "SRW"),
        ("a.cr2", "CR2"), ("a.tif", "TIFF"), ("a.tiff", "TIFF"),
    ],
)  # fmt: skip
def test_tiff_based_raws_need_the_extension(name: str, expected: str) -> None:
    head = _tiff_with_make("Generic", sub_ifds=False)
    assert formats.sniff(head, name) == expected


@pytest.mark.parametrize(
    ("make", "expected"),
    [("NIKON CORPORATION", "NEF"), ("SONY", "ARW"), ("PENTAX", "PEF"), ("SAMSUNG", "SRW"), ("Acme", "TIFF")],
)
def test_maker_hint_decides_for_a_misnamed_camera_file(make: str, expected: str) -> None:
    assert formats.sniff(_tiff_with_make(make, sub_ifds=True), "photo.jpg") == expected
    # Without SubIFDs it looks like an exported TIFF, which keeps the camera's Make: still a TIFF.
    assert formats.sniff(_tiff_with_make(make, sub_ifds=False), "photo.jpg") == "TIFF"


@pytest.mark.parametrize(
    ("head", "name", "expected"),
    [
        (b"II*\x00\x10\x00\x00\x00CR\x02\x00" + b"\x00" * 16, "x.jpg", "CR2"),
        (b"IIRO\x08\x00\x00\x00" + b"\x00" * 16, "x.orf", "ORF"),
        (b"IIU\x00\x08\x00\x00\x00" + b"\x00" * 16, "x.rw2", "RW2"),
        (b"FUJIFILMCCD-RAW 0201FF383501" + b"\x00" * 16, "x.raf", "RAF"),
        (b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom", "x.cr3", "CR3"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "x.jpg", "HEIC"),
        (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avifmiaf", "x.heic", "AVIF"),
        (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1heicmiaf", "x", "HEIC"),
    ],
)
def test_raw_and_bmff_signatures(head: bytes, name: str, expected: str) -> None:
    assert formats.sniff(head, name) == expected
    assert formats.reason_for(expected) is None


def test_is_raw() -> None:
    assert formats.is_raw("NEF") and formats.is_raw("DNG") and formats.is_raw("CR3")
    assert not formats.is_raw("JPEG") and not formats.is_raw(None)
