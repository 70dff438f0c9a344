"""Decoding photos to upright RGB, as fast as each format allows; every failure is a readable DecodeError.

Reduced decodes (thumbnails, analysis) never decode more pixels than needed:

* JPEG: ``Image.draft`` lets libjpeg scale by 1/2, 1/4 or 1/8 while decoding (a 24 MP photo decodes as 3 MP at
  most for a 320 px thumbnail);
* HEIC: ``draft`` picks an embedded thumbnail when one is big enough (pillow-heif);
* other Pillow formats: a full decode, then ``reduce`` (a fast integer box filter) before the final resample;
* RAW: the embedded JPEG preview (``rawpy.extract_thumb``), which every modern camera writes; only when there
  is none, or it is too small, a half-size LibRaw demosaic.

Full decodes (``load_full_rgb``) of RAW files run LibRaw's full postprocess (camera white balance, sRGB, 8
bits): the only way to get the sensor's full resolution on every camera, since some embed small previews. When
LibRaw cannot demosaic a file it falls back to the largest embedded JPEG.

Pixels always come out upright: EXIF orientation is applied here (or by LibRaw / libheif, which do it
themselves). Images larger than the decompression-bomb limit (250 megapixels by default, ``set_max_pixels`` or
``$ARTIMUSE_MAX_PIXELS``) are refused with ImageTooLargeError before any pixel is decoded.
"""

from __future__ import annotations

import io
import os
import stat
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image

from artimuse_desktop.errors import DecodeError, ImageTooLargeError
from artimuse_desktop.imaging import formats
from artimuse_desktop.imaging.orientation import (
    apply_orientation,
    flip_to_orientation,
    normalize,
    orientation_of,
    oriented_size,
    relative_orientation,
)

DEFAULT_MAX_PIXELS = 250_000_000
IN_MEMORY_LIMIT = 64 * 1024 * 1024
"""Files up to this size are read once into memory and decoded from there (one read: hash, EXIF, pixels);
larger ones (big TIFF scans) stream from disk, so parallel workers never each hold a huge file in memory."""

_MAX_BLOCK = 16 * 1024 * 1024
_max_pixels = int(os.environ.get("ARTIMUSE_MAX_PIXELS", "0") or 0) or DEFAULT_MAX_PIXELS
_heif_lock = threading.Lock()
_heif_registered = False


def get_max_pixels() -> int:
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
    Image.init()
    if formats.PILLOW_FORMATS[fmt] not in Image.OPEN:
        raise DecodeError(path, f"unsupported format ({fmt}): this Pillow was built without it")


@dataclass
class Decoded:
    """An upright RGB image plus what the decode learned about the file on the way."""

    image: Image.Image
    format: str
    width: int  # full-resolution size, upright (after orientation)
    height: int
    orientation: int  # the file's EXIF orientation (1 when none)
    exif: bytes | None = None  # TIFF-structured EXIF found in the container or the RAW preview, if any


# --------------------------------------------------------------------------- reading


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


def _check_pixels(path: str | Path, width: int, height: int, max_pixels: int | None) -> None:
    limit = max_pixels or _max_pixels
    if width * height > limit:
        raise ImageTooLargeError(
            path,
            f"image too large: {width}×{height} = {width * height / 1e6:.1f} megapixels exceeds the limit of "
            f"{limit / 1e6:g} megapixels",
            hint="raise the limit with $ARTIMUSE_MAX_PIXELS if you trust this file",
        )


def _fit(width: int, height: int, long_edge: int) -> tuple[int, int]:
    """The size of (width, height) scaled so its long edge is ``long_edge`` (never enlarged)."""
    scale = min(1.0, long_edge / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _shrink(image: Image.Image, long_edge: int | None) -> Image.Image:
    if long_edge is None or max(image.size) <= long_edge:
        return image
    size = _fit(*image.size, long_edge)
    # reducing_gap: integer box reduction first (fast), then a short Lanczos pass (quality).
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


# --------------------------------------------------------------------------- colour


@lru_cache(maxsize=32)
def _icc_transform(icc: bytes) -> Any:
    """A cached ICC → sRGB transform, or None when the profile is sRGB already or unusable."""
    try:
        from PIL import ImageCms

        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = (ImageCms.getProfileDescription(source) or "").lower()
        if "srgb" in description:
            return None
        return ImageCms.buildTransform(source, ImageCms.createProfile("sRGB"), "RGB", "RGB")
    except Exception:  # a broken profile is ignored, never fatal
        return None


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    if not icc or image.mode != "RGB":
        return image
    transform = _icc_transform(bytes(icc))
    if transform is None:
        return image
    try:
        from PIL import ImageCms

        return ImageCms.applyTransform(image, transform) or image
    except Exception:
        return image


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB from any Pillow mode: 16-bit scaled (not clipped), transparency flattened onto white."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode.startswith("I") or mode == "F":
        import numpy as np

        array = np.asarray(image).astype(np.float64)
        top = 65535.0 if mode.startswith("I;16") else float(array.max() or 1.0)
        if mode == "F" and top <= 1.0:
            top = 1.0
        scaled = np.clip(array * (255.0 / top), 0, 255).astype(np.uint8)
        return Image.fromarray(scaled).convert("RGB")
    if mode in ("RGBA", "LA", "La", "RGBa", "PA") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


# --------------------------------------------------------------------------- Pillow formats


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


def _exif_bytes(image: Image.Image) -> bytes | None:
    raw = image.info.get("exif")
    if not isinstance(raw, bytes | bytearray) or len(raw) < 8:
        return None
    raw = bytes(raw)
    return raw[6:] if raw.startswith(b"Exif\x00\x00") else raw


def _decode_pillow(
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
            _check_pixels(path, pre_w, pre_h, max_pixels)
            if fmt == "HEIC":
                # libheif turns the pixels upright itself; pillow-heif keeps the original tag aside.
                file_orientation = normalize(im.info.get("original_orientation") or 1)
                pre_state = file_orientation
            else:
                file_orientation = orientation_of(im)
                pre_state = 1
            if long_edge is not None:
                im.draft("RGB", _fit(pre_w, pre_h, long_edge))
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
            exif = _exif_bytes(im)
            icc = im.info.get("icc_profile")
            image = _to_srgb(to_rgb(_shrink(im, long_edge)), icc)
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, EOFError... for bad files
        raise _pillow_error(path, fmt, exc) from exc
    finally:
        source.close()
    wanted = file_orientation if orientation is None else normalize(orientation)
    image = apply_orientation(image, relative_orientation(post_state, wanted))
    width, height = oriented_size(pre_w, pre_h, relative_orientation(pre_state, wanted))
    return Decoded(image, fmt, width, height, file_orientation, exif)


# --------------------------------------------------------------------------- RAW formats


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
                    preview.draft("RGB", _fit(*preview.size, long_edge))
                preview.load()
                exif = _exif_bytes(preview)
                own = orientation_of(preview)
                image = _to_srgb(to_rgb(_shrink(preview, long_edge)), preview.info.get("icc_profile"))
        except Exception:
            return None
        # A preview that carries its own orientation tag describes itself; otherwise the RAW's applies.
        image = apply_orientation(image, own if own != 1 else raw_orientation)
    else:
        import numpy as np

        array = np.asarray(thumb.data)
        if array.ndim != 3 or array.shape[2] != 3 or (long_edge is not None and max(array.shape[:2]) < long_edge):
            return None
        image = _shrink(Image.fromarray(array.astype(np.uint8)), long_edge)
        image = apply_orientation(image, raw_orientation)
    return Decoded(image, "", image.width, image.height, raw_orientation, exif)


def _decode_raw(
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
            _check_pixels(path, sizes.raw_width, sizes.raw_height, max_pixels)
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
                return Decoded(_shrink(fallback.image, long_edge), fmt, width, height, file_orientation, None)
            image = _shrink(Image.fromarray(np.ascontiguousarray(array)), long_edge)
            return Decoded(image, fmt, width, height, file_orientation, None)
    except Exception as exc:
        raise _raw_error(path, fmt, exc) from exc


_EXIF_TO_FLIP = {1: 0, 2: 1, 3: 3, 4: 2, 5: 4, 6: 6, 7: 7, 8: 5}


def _orientation_to_flip(orientation: int) -> int:
    return _EXIF_TO_FLIP.get(orientation, 0)


# --------------------------------------------------------------------------- public API


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
        return _decode_raw(path, data, fmt, long_edge, orientation, max_pixels)
    if fmt not in formats.PILLOW_FORMATS:
        raise DecodeError(path, formats.reason_for(fmt) or f"unsupported format ({fmt})")
    return _decode_pillow(path, data, fmt, long_edge, orientation, max_pixels)


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
        try:
            with _open_raw(path, data) as raw:
                sizes = raw.sizes
                return oriented_size(sizes.width, sizes.height, flip_to_orientation(sizes.flip))
        except Exception as exc:
            raise _raw_error(path, fmt, exc) from exc
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


__all__ = [
    "DEFAULT_MAX_PIXELS",
    "Decoded",
    "decode",
    "ensure_heif_opener",
    "get_max_pixels",
    "image_size",
    "load_for_analysis",
    "load_full_rgb",
    "open_for_thumbnail",
    "read_source",
    "set_max_pixels",
    "to_rgb",
]
