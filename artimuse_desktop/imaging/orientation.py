"""EXIF orientation (1–8) applied to pixels, so every image the app shows or scores is upright.

Cameras store pixels as the sensor saw them and record in the Orientation tag how to display them. Pillow
leaves the pixels as stored, LibRaw reports the same information as its own ``flip`` code, and libheif
(pillow-heif) already applies HEIF's rotation itself; ``relative_orientation`` lets a caller move pixels that
are already in one orientation to another one without decoding twice.
"""

from __future__ import annotations

import warnings
from functools import cache

from PIL import Image

# Pillow warns (UserWarning) on damaged EXIF blocks; for a photo library that is routine, not news.
warnings.filterwarnings("ignore", message=r"(?i).*corrupt exif", category=UserWarning)

_TRANSPOSE: dict[int, tuple[Image.Transpose, ...]] = {
    1: (),
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}

# LibRaw's ``flip`` code -> EXIF orientation (LibRaw maps EXIF -> flip with "50132467"[exif & 7]).
_FLIP_TO_EXIF: dict[int, int] = {0: 1, 1: 2, 2: 4, 3: 3, 4: 5, 5: 8, 6: 6, 7: 7}


def normalize(value: object) -> int:
    """An orientation from any source as 1–8; anything else (absent, 0, 9, garbage) means 1."""
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 1
    return number if 1 <= number <= 8 else 1


def swaps_dimensions(orientation: int) -> bool:
    """Orientations 5–8 turn the image by 90°, so width and height trade places."""
    return orientation in (5, 6, 7, 8)


def oriented_size(width: int, height: int, orientation: int) -> tuple[int, int]:
    return (height, width) if swaps_dimensions(orientation) else (width, height)


def apply_orientation(image: Image.Image, orientation: int | None) -> Image.Image:
    """The image as it should be displayed; the same object when nothing needs to change."""
    for op in _TRANSPOSE.get(normalize(orientation), ()):
        image = image.transpose(op)
    return image


def flip_to_orientation(flip: int | None) -> int:
    """LibRaw's ``sizes.flip`` as an EXIF orientation."""
    return _FLIP_TO_EXIF.get(int(flip or 0) & 7, 1)


def orientation_of(image: Image.Image) -> int:
    """The EXIF orientation Pillow reports for an opened image (1 when absent or unreadable)."""
    try:
        return normalize(image.getexif().get(0x0112, 1))
    except Exception:  # a corrupt EXIF block must never fail the image
        return 1


def _signature(orientation: int) -> tuple[int, ...]:
    """Where each pixel of a small asymmetric 3×2 test image ends up: identifies the transform."""
    probe = Image.frombytes("L", (3, 2), bytes(range(1, 7)))
    moved = apply_orientation(probe, orientation)
    return (*moved.size, *moved.tobytes())


@cache
def relative_orientation(applied: int, wanted: int) -> int:
    """The orientation that turns pixels already shown in ``applied`` into pixels shown in ``wanted``."""
    stored = Image.frombytes("L", (3, 2), bytes(range(1, 7)))
    current = apply_orientation(stored, applied)
    target = apply_orientation(stored, wanted)
    for candidate in range(1, 9):
        moved = apply_orientation(current, candidate)
        if moved.size == target.size and moved.tobytes() == target.tobytes():
            return candidate
    raise AssertionError("the eight orientations form a group")  # pragma: no cover
