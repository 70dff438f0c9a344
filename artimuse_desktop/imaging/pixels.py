"""From a decoded Pillow image to what the app keeps: 8-bit sRGB, shrunk to a long edge, with its EXIF.

Shared by the raster and RAW decoders (a RAW's embedded preview is a JPEG), so it sits below both.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from PIL import Image


@dataclass
class Decoded:
    """An upright RGB image plus what the decode learned about the file on the way."""

    image: Image.Image
    format: str
    width: int  # full-resolution size, upright (after orientation)
    height: int
    orientation: int  # the file's EXIF orientation (1 when none)
    exif: bytes | None = None  # TIFF-structured EXIF found in the container or the RAW preview, if any


def fit(width: int, height: int, long_edge: int) -> tuple[int, int]:
    """The size of (width, height) scaled so its long edge is ``long_edge`` (never enlarged)."""
    scale = min(1.0, long_edge / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def shrink(image: Image.Image, long_edge: int | None) -> Image.Image:
    """``image`` with its long edge at most ``long_edge`` (unchanged when already small enough or None)."""
    if long_edge is None or max(image.size) <= long_edge:
        return image
    size = fit(*image.size, long_edge)
    # reducing_gap: integer box reduction first (fast), then a short Lanczos pass (quality).
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


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


def to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """``image`` converted from its embedded ICC profile to sRGB; unchanged when that is impossible."""
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


def exif_bytes(image: Image.Image) -> bytes | None:
    """The TIFF-structured EXIF a Pillow image carries (without the ``Exif\\0\\0`` prefix), if any."""
    raw = image.info.get("exif")
    if not isinstance(raw, bytes | bytearray) or len(raw) < 8:
        return None
    raw = bytes(raw)
    return raw[6:] if raw.startswith(b"Exif\x00\x00") else raw
