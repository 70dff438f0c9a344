"""Decoding photos to upright RGB, as fast as each format allows; every failure is a readable DecodeError.

The entry points here pick a decoder by the sniffed format: ``raster_decode`` for what Pillow reads (JPEG DCT
scaling, HEIC thumbnails, ``reduce``), ``raw_decode`` for LibRaw (the embedded preview, a half-size or the
full demosaic). Below both, ``source`` reads the file and holds the decompression-bomb limit, and ``pixels``
turns what was decoded into 8-bit sRGB at the wanted size.

Reduced decodes (thumbnails, analysis) never decode more pixels than needed; full decodes (``load_full_rgb``)
give the sensor's full resolution, RAW included. Pixels always come out upright: EXIF orientation is applied
(or LibRaw / libheif do it themselves), and ``orientation`` overrides the file's own tag.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from artimuse_desktop.errors import DecodeError
from artimuse_desktop.imaging import formats
from artimuse_desktop.imaging.pixels import Decoded
from artimuse_desktop.imaging.raster_decode import decode_raster, raster_size
from artimuse_desktop.imaging.raw_decode import decode_raw, raw_size
from artimuse_desktop.imaging.source import read_source


def decode(
    path: str | Path,
    long_edge: int | None = None,
    *,
    data: bytes | None = None,
    fmt: str | None = None,
    orientation: int | None = None,
    max_pixels: int | None = None,
) -> Decoded:
    """Decode ``path`` (or its already-read ``data``) to upright RGB whose long edge is at most ``long_edge``.

    ``long_edge=None`` decodes at full resolution. ``orientation`` overrides the file's own EXIF orientation.
    Raises DecodeError (ImageTooLargeError for decompression bombs) with a reason a photographer can read.
    """
    if data is None:
        data = read_source(path)
    elif not data:
        raise DecodeError(path, "empty file (0 bytes)")
    if fmt is None:
        fmt = formats.identify(path, data)
    if formats.is_raw(fmt):
        return decode_raw(path, data, fmt, long_edge, orientation, max_pixels)
    if fmt not in formats.PILLOW_FORMATS:
        raise DecodeError(path, formats.reason_for(fmt) or f"unsupported format ({fmt})")
    return decode_raster(path, data, fmt, long_edge, orientation, max_pixels)


def load_for_analysis(path: str | Path, long_edge: int = 512, *, max_pixels: int | None = None) -> Image.Image:
    """A small upright RGB copy (long edge ≤ ``long_edge``) by the fastest reduced decode of its format."""
    return decode(path, long_edge, max_pixels=max_pixels).image


def open_for_thumbnail(
    path: str | Path, long_edge: int, *, orientation: int | None = None, max_pixels: int | None = None
) -> Image.Image:
    """An upright RGB image with long edge ≤ ``long_edge``, ready to be saved as a thumbnail."""
    return decode(path, long_edge, orientation=orientation, max_pixels=max_pixels).image


def load_full_rgb(path: str | Path, *, max_pixels: int | None = None) -> Image.Image:
    """The full-resolution upright RGB image; RAW files get LibRaw's full postprocess (see module notes)."""
    return decode(path, None, max_pixels=max_pixels).image


def image_size(path: str | Path) -> tuple[int, int]:
    """The upright (width, height) read from the header only, without decoding pixels."""
    data = read_source(path)
    fmt = formats.identify(path, data)
    if formats.is_raw(fmt):
        return raw_size(path, data, fmt)
    return raster_size(path, data, fmt)
