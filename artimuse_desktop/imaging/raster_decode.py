"""Decoding the formats Pillow reads (JPEG, PNG, TIFF, WebP, HEIC, AVIF...), never more pixels than needed.

* JPEG: ``Image.draft`` lets libjpeg scale by 1/2, 1/4 or 1/8 while decoding (a 24 MP photo decodes as 3 MP at
  most for a 320 px thumbnail);
* HEIC: ``draft`` picks an embedded thumbnail when one is big enough (pillow-heif, registered on first use);
* other formats: a full decode, then ``reduce`` (a fast integer box filter) before the final resample.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

from PIL import Image

from artimuse_desktop.errors import DecodeError, ImageTooLargeError
from artimuse_desktop.imaging import formats
from artimuse_desktop.imaging.orientation import (
    apply_orientation,
    normalize,
    orientation_of,
    oriented_size,
    relative_orientation,
)
from artimuse_desktop.imaging.pixels import Decoded, exif_bytes, fit, shrink, to_rgb, to_srgb
from artimuse_desktop.imaging.source import check_pixels

_MAX_BLOCK = 16 * 1024 * 1024
_heif_lock = threading.Lock()
_heif_registered = False


def ensure_heif_opener() -> None:
    """Register pillow-heif's HEIF opener once, on first use (importing it costs ~25 ms)."""
    global _heif_registered
    if _heif_registered:
        return
    with _heif_lock:
        if not _heif_registered:
            import pillow_heif

            pillow_heif.register_heif_opener()
            _heif_registered = True


def _require_plugin(path: str | Path, fmt: str) -> None:
    """Fail with a clear reason when this installation cannot decode ``fmt`` at all."""
    if fmt == "HEIC":
        try:
            ensure_heif_opener()
        except ImportError as exc:
            raise DecodeError(path, "unsupported format (HEIC): pillow-heif is not installed") from exc
    wanted = formats.PILLOW_FORMATS[fmt]
    if wanted not in Image.OPEN:
        Image.preinit()  # the common plugins (JPEG, PNG, ...): loading all of them cost 0.1-0.2 s per process
    if wanted not in Image.OPEN:
        Image.init()
    if wanted not in Image.OPEN:
        raise DecodeError(path, f"unsupported format ({fmt}): this Pillow was built without it")


def _pillow_error(path: str | Path, fmt: str, exc: BaseException) -> DecodeError:
    if isinstance(exc, DecodeError):
        return exc
    if isinstance(exc, Image.DecompressionBombError):
        return ImageTooLargeError(path, f"image too large ({exc})")
    if isinstance(exc, MemoryError):
        return DecodeError(path, "not enough memory to decode the image")
    text = str(exc)
    lowered = text.lower()
    if "truncated" in lowered or "premature end" in lowered:
        return DecodeError(path, f"truncated {fmt} file (incomplete image data)")
    if isinstance(exc, Image.UnidentifiedImageError):
        return DecodeError(path, f"corrupt {fmt} file (the header cannot be read)")
    return DecodeError(path, f"corrupt {fmt} file ({text or type(exc).__name__})")


def decode_raster(
    path: str | Path,
    data: bytes | None,
    fmt: str,
    long_edge: int | None,
    orientation: int | None,
    max_pixels: int | None,
) -> Decoded:
    _require_plugin(path, fmt)
    source: Any = io.BytesIO(data) if data is not None else open(path, "rb")  # noqa: SIM115
    try:
        with Image.open(source, formats=[formats.PILLOW_FORMATS[fmt]]) as im:
            pre_w, pre_h = im.size
            check_pixels(path, pre_w, pre_h, max_pixels)
            if fmt == "HEIC":
                # libheif turns the pixels upright itself; pillow-heif keeps the original tag aside.
                file_orientation = normalize(im.info.get("original_orientation") or 1)
                pre_state = file_orientation
            else:
                file_orientation = orientation_of(im)
                pre_state = 1
            if long_edge is not None:
                im.draft("RGB", fit(pre_w, pre_h, long_edge))
            if data is not None:
                # Feed the decoder in a few big blocks, not 64 KiB ones: each block re-takes the GIL, and
                # with several decode threads those hand-offs, not the decoding, limited the speed.
                im.decodermaxblock = max(im.decodermaxblock, min(len(data), _MAX_BLOCK))
            im.load()
            # Pillow's TIFF plugin transposes single-page TIFFs on load and drops the tag: detect that.
            post_state = pre_state
            if fmt != "HEIC" and file_orientation != 1 and orientation_of(im) == 1:
                post_state = file_orientation
            if fmt not in ("HEIC", "JPEG"):  # no draft: the loaded size is the full size, in post_state
                pre_state = post_state
                pre_w, pre_h = im.size
            exif = exif_bytes(im)
            icc = im.info.get("icc_profile")
            image = to_srgb(to_rgb(shrink(im, long_edge)), icc)
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, EOFError... for bad files
        raise _pillow_error(path, fmt, exc) from exc
    finally:
        source.close()
    wanted = file_orientation if orientation is None else normalize(orientation)
    image = apply_orientation(image, relative_orientation(post_state, wanted))
    width, height = oriented_size(pre_w, pre_h, relative_orientation(pre_state, wanted))
    return Decoded(image, fmt, width, height, file_orientation, exif)


def raster_size(path: str | Path, data: bytes | None, fmt: str) -> tuple[int, int]:
    """The upright (width, height) from the header only, without decoding pixels."""
    _require_plugin(path, fmt)
    source: Any = io.BytesIO(data) if data is not None else open(path, "rb")  # noqa: SIM115
    try:
        with Image.open(source, formats=[formats.PILLOW_FORMATS[fmt]]) as im:
            if fmt == "HEIC":
                return im.size  # already upright (libheif)
            stored = im.size
            tags = getattr(im, "tag_v2", None)
            if fmt == "TIFF" and tags is not None and 256 in tags and 257 in tags:
                stored = (int(tags[256]), int(tags[257]))  # Pillow reports TIFF sizes pre-rotated
            return oriented_size(*stored, orientation_of(im))
    except Exception as exc:
        raise _pillow_error(path, fmt, exc) from exc
    finally:
        source.close()
