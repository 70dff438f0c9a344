"""Decoding RAW files with LibRaw (rawpy), imported only when a RAW file is met.

Reduced decodes use the embedded JPEG preview (``rawpy.extract_thumb``), which every modern camera writes; only
when there is none, or it is too small, a half-size LibRaw demosaic. Full decodes run LibRaw's full postprocess
(camera white balance, sRGB, 8 bits): the only way to get the sensor's full resolution on every camera, since
some embed small previews. When LibRaw cannot demosaic a file it falls back to the largest embedded JPEG.
LibRaw turns the pixels upright itself (``user_flip``).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image

from artimuse_desktop.errors import DecodeError, ImageTooLargeError
from artimuse_desktop.imaging.orientation import (
    apply_orientation,
    flip_to_orientation,
    normalize,
    orientation_of,
    oriented_size,
)
from artimuse_desktop.imaging.pixels import Decoded, exif_bytes, fit, shrink, to_rgb, to_srgb
from artimuse_desktop.imaging.source import check_pixels


def _raw_error(path: str | Path, fmt: str, exc: BaseException) -> DecodeError:
    import rawpy

    if isinstance(exc, DecodeError):
        return exc
    if isinstance(exc, rawpy.LibRawFileUnsupportedError):
        return DecodeError(path, f"unsupported {fmt} variant (LibRaw cannot read this camera's files)")
    if isinstance(exc, rawpy.LibRawIOError | rawpy.LibRawDataError):
        return DecodeError(path, f"corrupt or truncated {fmt} file ({exc})")
    if isinstance(exc, rawpy.LibRawTooBigError | rawpy.LibRawUnsufficientMemoryError | MemoryError):
        return ImageTooLargeError(path, f"{fmt} file too large to decode ({exc})")
    return DecodeError(path, f"cannot decode {fmt} file ({exc or type(exc).__name__})")


def _open_raw(path: str | Path, data: bytes | None) -> Any:
    import rawpy

    # A buffer, never the path: rawpy cannot take bytes paths (names that are not valid UTF-8).
    if data is None:
        with open(path, "rb") as handle:
            return rawpy.imread(handle)
    return rawpy.imread(io.BytesIO(data))


def _raw_preview(raw: Any, path: str | Path, long_edge: int | None, raw_orientation: int) -> Decoded | None:
    """The embedded preview, upright and shrunk, or None when there is none or it is too small to use."""
    import rawpy

    try:
        thumb = raw.extract_thumb()
    except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
        return None
    except rawpy.LibRawError:
        return None
    exif: bytes | None = None
    if thumb.format == rawpy.ThumbFormat.JPEG:
        try:
            with Image.open(io.BytesIO(thumb.data), formats=["JPEG"]) as preview:
                if long_edge is not None and max(preview.size) < long_edge:
                    return None
                if long_edge is not None:
                    preview.draft("RGB", fit(*preview.size, long_edge))
                preview.load()
                exif = exif_bytes(preview)
                own = orientation_of(preview)
                image = to_srgb(to_rgb(shrink(preview, long_edge)), preview.info.get("icc_profile"))
        except Exception:
            return None
        # A preview that carries its own orientation tag describes itself; otherwise the RAW's applies.
        image = apply_orientation(image, own if own != 1 else raw_orientation)
    else:
        import numpy as np

        array = np.asarray(thumb.data)
        if array.ndim != 3 or array.shape[2] != 3 or (long_edge is not None and max(array.shape[:2]) < long_edge):
            return None
        image = shrink(Image.fromarray(array.astype(np.uint8)), long_edge)
        image = apply_orientation(image, raw_orientation)
    return Decoded(image, "", image.width, image.height, raw_orientation, exif)


def decode_raw(
    path: str | Path,
    data: bytes | None,
    fmt: str,
    long_edge: int | None,
    orientation: int | None,
    max_pixels: int | None,
) -> Decoded:
    import numpy as np

    try:
        with _open_raw(path, data) as raw:
            sizes = raw.sizes
            check_pixels(path, sizes.raw_width, sizes.raw_height, max_pixels)
            file_orientation = flip_to_orientation(sizes.flip)
            wanted = file_orientation if orientation is None else normalize(orientation)
            width, height = oriented_size(sizes.width, sizes.height, wanted)
            preview: Decoded | None = None
            if long_edge is not None:
                preview = _raw_preview(raw, path, long_edge, wanted)
            if preview is not None:
                return Decoded(preview.image, fmt, width, height, file_orientation, preview.exif)
            half = long_edge is not None and max(sizes.width, sizes.height) // 2 >= long_edge
            try:
                array = raw.postprocess(
                    half_size=half,
                    use_camera_wb=True,
                    output_bps=8,
                    user_flip=_orientation_to_flip(wanted),
                )
            except Exception:
                # LibRaw reads the file but cannot demosaic it: the biggest embedded preview is what we have.
                fallback = _raw_preview(raw, path, None, wanted)
                if fallback is None:
                    raise
                return Decoded(shrink(fallback.image, long_edge), fmt, width, height, file_orientation, None)
            image = shrink(Image.fromarray(np.ascontiguousarray(array)), long_edge)
            return Decoded(image, fmt, width, height, file_orientation, None)
    except Exception as exc:
        raise _raw_error(path, fmt, exc) from exc


_EXIF_TO_FLIP = {1: 0, 2: 1, 3: 3, 4: 2, 5: 4, 6: 6, 7: 7, 8: 5}


def _orientation_to_flip(orientation: int) -> int:
    return _EXIF_TO_FLIP.get(orientation, 0)


def raw_size(path: str | Path, data: bytes | None, fmt: str) -> tuple[int, int]:
    """The upright (width, height) from LibRaw's header read, without demosaicing."""
    try:
        with _open_raw(path, data) as raw:
            sizes = raw.sizes
            return oriented_size(sizes.width, sizes.height, flip_to_orientation(sizes.flip))
    except Exception as exc:
        raise _raw_error(path, fmt, exc) from exc
