"""What a decode may take in: the file's bytes (read once when small) and a pixel budget against decompression bombs.

Images larger than the limit (250 megapixels by default, ``set_max_pixels`` or ``$ARTIMUSE_MAX_PIXELS``) are
refused with ImageTooLargeError before any pixel is decoded.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from PIL import Image

from artimuse_desktop.errors import DecodeError, ImageTooLargeError

DEFAULT_MAX_PIXELS = 250_000_000
IN_MEMORY_LIMIT = 64 * 1024 * 1024
"""Files up to this size are read once into memory and decoded from there (one read: hash, EXIF, pixels);
larger ones (big TIFF scans) stream from disk, so parallel workers never each hold a huge file in memory."""

_max_pixels = int(os.environ.get("ARTIMUSE_MAX_PIXELS", "0") or 0) or DEFAULT_MAX_PIXELS


def get_max_pixels() -> int:
    """The decompression-bomb limit (pixels) now in force."""
    return _max_pixels


def set_max_pixels(limit: int) -> None:
    """Change the decompression-bomb limit (pixels) for every later decode in this process."""
    global _max_pixels
    if limit <= 0:
        raise ValueError("the pixel limit must be positive")
    _max_pixels = int(limit)
    _raise_pillow_limit(_max_pixels)


def _raise_pillow_limit(limit: int) -> None:
    # Pillow's own guard (89 MP warning, 179 MP error by default) would refuse legitimate 200 MP panoramas
    # before ours runs; we only ever raise it, so code that calls Pillow directly keeps a guard.
    current = Image.MAX_IMAGE_PIXELS
    if current is not None and current < limit:
        Image.MAX_IMAGE_PIXELS = limit


_raise_pillow_limit(_max_pixels)


def read_source(path: str | Path, *, limit: int | None = None) -> bytes | None:
    """The whole file when small enough to decode from memory, else None; DecodeError when unreadable."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block the open forever
            raise DecodeError(path, "not a regular file")
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                raise DecodeError(path, "empty file (0 bytes)")
            if size > (IN_MEMORY_LIMIT if limit is None else limit):
                return None
            return handle.read()
    except OSError as exc:
        raise DecodeError(path, f"cannot read the file ({exc.strerror or exc})") from exc


def check_pixels(path: str | Path, width: int, height: int, max_pixels: int | None) -> None:
    """Refuse ``width``×``height`` when it exceeds ``max_pixels`` (or the process-wide limit)."""
    limit = max_pixels or _max_pixels
    if width * height > limit:
        raise ImageTooLargeError(
            path,
            f"image too large: {width}×{height} = {width * height / 1e6:.1f} megapixels exceeds the limit of "
            f"{limit / 1e6:g} megapixels",
            hint="raise the limit with $ARTIMUSE_MAX_PIXELS if you trust this file",
        )
