"""Decoding: upright RGB for every format and orientation, reduced decodes, and readable failures."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

from artimuse_desktop.errors import DecodeError, ImageTooLargeError
from artimuse_desktop.imaging import decode, raster_decode, source
from tests.library import imagefactory as images

PILLOW_FORMATS = ["JPEG", "PNG", "TIFF", "WEBP", "HEIC", "AVIF"]


@pytest.mark.parametrize("fmt", PILLOW_FORMATS)
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_comes_out_upright(tmp_path: Path, fmt: str, orientation: int) -> None:
    path = images.oriented_file(tmp_path / f"o{orientation}{images.PILLOW_SAVE[fmt]}", orientation, fmt)
    reduced = decode.decode(path, 120)
    assert reduced.format == fmt
    assert reduced.orientation == orientation
    assert (reduced.width, reduced.height) == (240, 160)  # full size, upright
    assert reduced.image.mode == "RGB"
    assert max(reduced.image.size) == 120 and reduced.image.width > reduced.image.height
    assert images.marker_corner(reduced.image) == "tl"
    full = decode.load_full_rgb(path)
    assert full.size == (240, 160)
    assert images.marker_corner(full) == "tl"


@pytest.mark.parametrize("fmt", PILLOW_FORMATS)
def test_orientation_override_replaces_the_files_own(tmp_path: Path, fmt: str) -> None:
    path = images.oriented_file(tmp_path / f"o6{images.PILLOW_SAVE[fmt]}", 6, fmt)
    as_stored = decode.decode(path, None, orientation=1)
    assert as_stored.image.size == (160, 240)  # the pixels as the camera stored them
    assert (as_stored.width, as_stored.height) == (160, 240)
    assert images.marker_corner(as_stored.image) == "bl"  # turned 90° counter-clockwise, as stored


def test_jpeg_uses_draft_for_reduced_decodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = images.save(images.photo_like(2400, 1600), tmp_path / "big.jpg")
    requested: list[tuple[int, int] | None] = []
    original = JpegImagePlugin.JpegImageFile.draft

    def spy(self: JpegImagePlugin.JpegImageFile, mode: str | None, size: tuple[int, int] | None) -> object:
        requested.append(size)
        result = original(self, mode, size)
        requested.append(self.size)  # what libjpeg will actually decode
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    image = decode.load_for_analysis(path, 300)
    assert max(image.size) == 300
    assert requested[0] == (300, 200)
    assert requested[1] == (300, 200)  # 1/8 scale: 2400/8 = 300: only an eighth of the pixels decoded


def test_load_for_analysis_defaults_to_512(tmp_path: Path) -> None:
    path = images.save(images.photo_like(1200, 900), tmp_path / "a.png", "PNG")
    image = decode.load_for_analysis(path)
    assert image.size == (512, 384) and image.mode == "RGB"


def test_small_images_are_never_enlarged(tmp_path: Path) -> None:
    path = images.save(images.marker_image(100, 50), tmp_path / "small.webp", "WEBP")
    assert decode.open_for_thumbnail(path, 320).size == (100, 50)


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path: Path) -> None:
    array = np.full((40, 60), 32768, dtype=np.uint16)
    path = tmp_path / "grey16.png"
    Image.fromarray(array).save(path)
    image = decode.load_full_rgb(path)
    assert image.mode == "RGB"
    assert abs(image.getpixel((5, 5))[0] - 128) <= 1  # type: ignore[index]


def test_transparency_is_flattened_onto_white(tmp_path: Path) -> None:
    image = Image.new("RGBA", (20, 20), (255, 0, 0, 0))
    path = tmp_path / "clear.png"
    image.save(path)
    assert decode.load_full_rgb(path).getpixel((3, 3)) == (255, 255, 255)


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (64, 48), (0, 255, 255, 0)).save(path, "JPEG")
    image = decode.load_for_analysis(path, 32)
    assert image.mode == "RGB" and image.size == (32, 24)


# --------------------------------------------------------------------------- failures


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "zero.jpg"
    path.write_bytes(b"")
    with pytest.raises(DecodeError) as info:
        decode.load_for_analysis(path)
    assert info.value.reason == "empty file (0 bytes)"


def test_truncated_jpeg(tmp_path: Path) -> None:
    path = images.truncated_jpeg(tmp_path / "cut.jpg")
    with pytest.raises(DecodeError, match="truncated JPEG"):
        decode.load_full_rgb(path)
    with pytest.raises(DecodeError, match="truncated JPEG"):
        decode.load_for_analysis(path, 64)


def test_corrupt_png_body(tmp_path: Path) -> None:
    data = images.save(images.photo_like(300, 200), tmp_path / "ok.png", "PNG").read_bytes()
    path = tmp_path / "bad.png"
    path.write_bytes(data[:33] + bytes(range(256)) * 20)  # a valid signature and IHDR, then garbage
    with pytest.raises(DecodeError) as info:
        decode.load_full_rgb(path)
    assert info.value.reason.startswith("corrupt PNG file")
    assert info.value.path == str(path)


def test_text_named_jpg(tmp_path: Path) -> None:
    path = tmp_path / "readme.jpg"
    path.write_text("not a photo at all\n" * 5)
    with pytest.raises(DecodeError, match=r"not an image \(looks like text\)"):
        decode.load_for_analysis(path)


def test_png_named_jpg_decodes_as_png(tmp_path: Path) -> None:
    path = images.save(images.marker_image(), tmp_path / "really.jpg", "PNG")
    decoded = decode.decode(path, 64)
    assert decoded.format == "PNG" and images.marker_corner(decoded.image) == "tl"


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    path = images.save(images.photo_like(200, 100), tmp_path / "bomb.png", "PNG")
    with pytest.raises(ImageTooLargeError) as info:
        decode.load_for_analysis(path, max_pixels=10_000)
    assert "0.01 megapixels" in info.value.reason  # names the limit
    assert isinstance(info.value, DecodeError)


def test_bomb_limit_is_configurable(tmp_path: Path) -> None:
    path = images.save(images.photo_like(200, 100), tmp_path / "bomb.jpg", "JPEG")
    previous = source.get_max_pixels()
    assert previous == source.DEFAULT_MAX_PIXELS == 250_000_000
    try:
        source.set_max_pixels(19_999)
        with pytest.raises(ImageTooLargeError, match=r"limit of 0\.019999 megapixels"):
            decode.load_for_analysis(path)
        source.set_max_pixels(20_000)
        assert decode.load_for_analysis(path).size == (200, 100)
    finally:
        source.set_max_pixels(previous)
    with pytest.raises(ValueError):
        source.set_max_pixels(0)


def test_raw_bomb_is_refused(tmp_path: Path) -> None:
    path = images.make_dng(images.marker_image(240, 160), tmp_path / "big.dng")
    with pytest.raises(ImageTooLargeError):
        decode.load_full_rgb(path, max_pixels=1000)


def test_corrupt_raw_is_a_decode_error(tmp_path: Path) -> None:
    data = images.make_dng(images.marker_image(240, 160), tmp_path / "ok.dng").read_bytes()
    path = tmp_path / "cut.dng"
    path.write_bytes(data[:600])  # the header promises pixels that are not there
    with pytest.raises(DecodeError) as info:
        decode.load_full_rgb(path)
    assert "DNG" in info.value.reason


# --------------------------------------------------------------------------- RAW


@pytest.mark.parametrize("orientation", range(1, 9))
def test_raw_without_preview_is_demosaiced_upright(tmp_path: Path, orientation: int) -> None:
    path = images.make_dng(images.marker_image(240, 160), tmp_path / "a.dng", orientation=orientation)
    decoded = decode.decode(path, 100)
    assert decoded.format == "DNG"
    assert decoded.orientation == orientation
    assert (decoded.width, decoded.height) == (240, 160)
    assert max(decoded.image.size) == 100
    assert images.marker_corner(decoded.image) == "tl"
    full = decode.load_full_rgb(path)
    assert full.size == (240, 160) and images.marker_corner(full) == "tl"


def test_raw_reduced_decode_uses_half_size_when_there_is_no_preview(tmp_path: Path) -> None:
    path = images.make_dng(images.marker_image(480, 320), tmp_path / "a.dng", orientation=6)
    decoded = decode.decode(path, 200)
    assert decoded.image.size == (200, 133)  # upright, from the half-size (160×240 stored) demosaic
    assert images.marker_corner(decoded.image) == "tl"


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_raw_reduced_decode_prefers_the_embedded_preview(tmp_path: Path, orientation: int) -> None:
    green_preview = images.marker_image(240, 160)
    green_preview.paste((20, 200, 20), (60, 40, 180, 120))  # only the preview has a green centre
    path = images.make_dng(
        images.marker_image(240, 160), tmp_path / "p.dng", orientation=orientation, preview=True,
        preview_image=green_preview,
    )  # fmt: skip
    decoded = decode.decode(path, 200)
    assert images.marker_corner(decoded.image) == "tl"
    centre: Any = decoded.image.getpixel((decoded.image.width // 2, decoded.image.height // 2))
    assert centre[1] > 150 and centre[2] < 100  # the preview's green
    # A full decode demosaics the sensor data instead: blue there.
    full = decode.load_full_rgb(path)
    assert full.size == (240, 160) and images.marker_corner(full) == "tl"
    assert full.getpixel((120, 80))[2] > 150  # type: ignore[index]


def test_a_preview_too_small_for_the_request_falls_back_to_the_sensor_data(tmp_path: Path) -> None:
    small_preview = images.marker_image(60, 40)
    small_preview.paste((20, 200, 20), (15, 10, 45, 30))
    path = images.make_dng(images.marker_image(480, 320), tmp_path / "s.dng", preview=True, preview_image=small_preview)
    decoded = decode.decode(path, 200)
    assert decoded.image.size == (200, 133)
    assert decoded.image.getpixel((100, 66))[2] > 150  # type: ignore[index]  # sensor blue, not preview green


def test_undecodable_names_work(tmp_path: Path) -> None:
    raw_dir = os.fsencode(tmp_path)
    jpeg_path = os.fsdecode(raw_dir + b"/caf\xe9.jpg")  # Latin-1 name: not valid UTF-8
    images.save(images.marker_image(), Path(jpeg_path))
    assert decode.load_for_analysis(jpeg_path, 64).size == (64, 43)
    dng_path = os.fsdecode(raw_dir + b"/ra\xefw.dng")
    images.make_dng(images.marker_image(), Path(dng_path))
    assert decode.load_for_analysis(dng_path, 64).size == (64, 43)


def test_image_size_reads_headers_only(tmp_path: Path) -> None:
    for fmt in PILLOW_FORMATS:
        path = images.oriented_file(tmp_path / f"s{images.PILLOW_SAVE[fmt]}", 6, fmt)
        assert decode.image_size(path) == (240, 160), fmt
    dng = images.make_dng(images.marker_image(), tmp_path / "s.dng", orientation=8)
    assert decode.image_size(dng) == (240, 160)


def test_heif_opener_is_registered_once() -> None:
    raster_decode.ensure_heif_opener()
    raster_decode.ensure_heif_opener()
    assert "HEIF" in Image.OPEN


@pytest.mark.timeout(20)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_is_refused_without_being_opened(tmp_path: Path) -> None:
    path = tmp_path / "pipe.jpg"
    os.mkfifo(path)
    with pytest.raises(DecodeError, match="not a regular file"):
        decode.load_for_analysis(path)
