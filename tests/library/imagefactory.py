"""Test images built on the fly: every writable format, EXIF orientations with matching pixels, edge cases.

Loaded by file path (``load()`` in the conftests) because the test folders are not packages. Upright images
have a red marker in their top-left corner on a blue background; ``stored_for_orientation`` turns them into
the pixels a camera would store with a given EXIF orientation, so a correct decoder brings the marker back to
the top-left.
"""

from __future__ import annotations

import io
import struct
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from PIL import ExifTags, Image, TiffImagePlugin

RED = (230, 20, 20)
BLUE = (30, 60, 200)

# The transform to apply to upright pixels to get the stored ones (the inverse of each orientation).
_INVERSE = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}
_TRANSPOSE = {
    1: (),
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}


def marker_image(width: int = 240, height: int = 160) -> Image.Image:
    """Upright test image: blue, with a red square in the top-left corner."""
    image = Image.new("RGB", (width, height), BLUE)
    side = max(4, min(width, height) // 4)
    image.paste(RED, (0, 0, side, side))
    return image


def stored_for_orientation(upright: Image.Image, orientation: int) -> Image.Image:
    image = upright
    for op in _TRANSPOSE[_INVERSE[orientation]]:
        image = image.transpose(op)
    return image


def marker_corner(image: Image.Image) -> str:
    """Which corner holds the red marker: "tl", "tr", "bl" or "br"."""
    rgb = image.convert("RGB")
    w, h = rgb.size
    inset_x, inset_y = max(1, w // 16), max(1, h // 16)
    corners = {
        "tl": (inset_x, inset_y),
        "tr": (w - 1 - inset_x, inset_y),
        "bl": (inset_x, h - 1 - inset_y),
        "br": (w - 1 - inset_x, h - 1 - inset_y),
    }

    def redness(point: tuple[int, int]) -> int:
        pixel: Any = rgb.getpixel(point)
        return int(pixel[0]) - int(pixel[2])

    return max(corners, key=lambda name: redness(corners[name]))


def photo_like(width: int, height: int, seed: int = 0) -> Image.Image:
    """Smooth gradients plus noise: compresses like a real photo (not like a flat test card)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack(
        [
            128 + 100 * np.sin(x / (width / 3.1) + seed),
            128 + 90 * np.cos(y / (height / 2.3) - seed),
            128 + 80 * np.sin((x + y) / (width / 1.7)),
        ],
        axis=-1,
    )
    noise = rng.normal(0, 12, size=(height, width, 3)).astype(np.float32)
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))


# --------------------------------------------------------------------------- EXIF


def _rational(value: float) -> TiffImagePlugin.IFDRational:
    fraction = Fraction(value).limit_denominator(1_000_000)
    return TiffImagePlugin.IFDRational(fraction.numerator, fraction.denominator)


def _dms(value: float) -> tuple[TiffImagePlugin.IFDRational, ...]:
    value = abs(value)
    degrees = int(value)
    minutes_full = (value - degrees) * 60
    minutes = int(minutes_full)
    seconds = (minutes_full - minutes) * 60
    return (_rational(degrees), _rational(minutes), _rational(round(seconds, 4)))


def make_exif(
    *,
    orientation: int | None = None,
    make: str | None = "Canon",
    model: str | None = "EOS R5",
    lens: str | None = "RF24-70mm F2.8 L IS USM",
    captured: datetime | None = datetime(2023, 6, 1, 14, 30, 15),
    subsec: str | None = "42",
    focal: float | None = 50.0,
    fnumber: float | None = 2.8,
    exposure: float | None = 1 / 250,
    iso: int | None = 400,
    gps: tuple[float, float, float] | None = None,
) -> Image.Exif:
    exif = Image.Exif()
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    if make:
        exif[ExifTags.Base.Make] = make
    if model:
        exif[ExifTags.Base.Model] = model
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    if captured is not None:
        ifd[ExifTags.Base.DateTimeOriginal] = captured.strftime("%Y:%m:%d %H:%M:%S")
    if subsec is not None:
        ifd[ExifTags.Base.SubsecTimeOriginal] = subsec
    if lens:
        ifd[ExifTags.Base.LensModel] = lens
    if focal is not None:
        ifd[ExifTags.Base.FocalLength] = _rational(focal)
    if fnumber is not None:
        ifd[ExifTags.Base.FNumber] = _rational(fnumber)
    if exposure is not None:
        ifd[ExifTags.Base.ExposureTime] = _rational(exposure)
    if iso is not None:
        ifd[ExifTags.Base.ISOSpeedRatings] = iso
    if gps is not None:
        lat, lon, alt = gps
        gps_ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps_ifd[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
        gps_ifd[ExifTags.GPS.GPSLatitude] = _dms(lat)
        gps_ifd[ExifTags.GPS.GPSLongitudeRef] = "E" if lon >= 0 else "W"
        gps_ifd[ExifTags.GPS.GPSLongitude] = _dms(lon)
        gps_ifd[ExifTags.GPS.GPSAltitudeRef] = b"\x01" if alt < 0 else b"\x00"
        gps_ifd[ExifTags.GPS.GPSAltitude] = _rational(abs(alt))
    return exif


# --------------------------------------------------------------------------- writers

PILLOW_SAVE = {
    "JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif", "WEBP": ".webp", "HEIC": ".heic", "AVIF": ".avif",
}  # fmt: skip


def save(
    image: Image.Image, path: Path, fmt: str = "JPEG", *, exif: Image.Exif | None = None, quality: int = 90
) -> Path:
    """Write ``image`` as ``fmt`` (JPEG, PNG, TIFF, WEBP, HEIC, AVIF) with optional EXIF."""
    kwargs: dict[str, Any] = {}
    if exif is not None:
        kwargs["exif"] = exif.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "HEIC":
        import pillow_heif

        pillow_heif.register_heif_opener()
        image.save(path, "HEIF", quality=quality, **kwargs)
    elif fmt in ("JPEG", "WEBP", "AVIF"):
        image.save(path, fmt, quality=quality, **kwargs)
    else:
        image.save(path, fmt, **kwargs)
    return path


def oriented_file(path: Path, orientation: int, fmt: str = "JPEG", size: tuple[int, int] = (240, 160)) -> Path:
    """A file whose stored pixels need ``orientation`` to show the marker top-left."""
    stored = stored_for_orientation(marker_image(*size), orientation)
    return save(stored, path, fmt, exif=make_exif(orientation=orientation))


def jpeg_bytes(image: Image.Image, quality: int = 90, exif: Image.Exif | None = None) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, **({"exif": exif.tobytes()} if exif is not None else {}))
    return buffer.getvalue()


def truncated_jpeg(path: Path, size: tuple[int, int] = (800, 600)) -> Path:
    data = jpeg_bytes(photo_like(*size))
    path.write_bytes(data[: len(data) // 2])
    return path


def corrupt_exif_jpeg(path: Path, size: tuple[int, int] = (320, 240)) -> Path:
    """A valid JPEG whose APP1 EXIF block is garbage (an IFD pointing far outside the block)."""
    data = jpeg_bytes(photo_like(*size))
    garbage_tiff = b"II*\x00" + struct.pack("<I", 0x7FFFFFF0) + b"\xff" * 40
    app1 = b"Exif\x00\x00" + garbage_tiff
    segment = b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1
    path.write_bytes(data[:2] + segment + data[2:])
    return path


# --------------------------------------------------------------------------- DNG

_BYTE, _ASCII, _SHORT, _LONG, _RATIONAL, _SRATIONAL = 1, 2, 3, 4, 5, 10
_TYPE_SIZE = {_BYTE: 1, _ASCII: 1, _SHORT: 2, _LONG: 4, _RATIONAL: 8, _SRATIONAL: 8}


def _pack(typ: int, values: Any) -> bytes:
    if typ == _ASCII:
        return values.encode() + b"\x00"
    if typ == _BYTE:
        return bytes(values)
    if typ == _SHORT:
        return struct.pack(f"<{len(values)}H", *values)
    if typ == _LONG:
        return struct.pack(f"<{len(values)}I", *values)
    if typ == _RATIONAL:
        return b"".join(struct.pack("<II", n, d) for n, d in values)
    if typ == _SRATIONAL:
        return b"".join(struct.pack("<ii", n, d) for n, d in values)
    raise ValueError(typ)


class _TiffWriter:
    def __init__(self) -> None:
        self.buffer = bytearray(b"II*\x00\x00\x00\x00\x00")

    def blob(self, data: bytes) -> int:
        if len(self.buffer) % 2:
            self.buffer += b"\x00"
        offset = len(self.buffer)
        self.buffer += data
        return offset

    def ifd(self, entries: list[tuple[int, int, Any]]) -> int:
        packed = []
        for tag, typ, values in sorted(entries, key=lambda entry: entry[0]):
            data = _pack(typ, values)
            count = len(data) // _TYPE_SIZE[typ]
            value = data.ljust(4, b"\x00") if len(data) <= 4 else struct.pack("<I", self.blob(data))
            packed.append(struct.pack("<HHI", tag, typ, count) + value)
        body = struct.pack("<H", len(packed)) + b"".join(packed) + b"\x00\x00\x00\x00"
        return self.blob(body)


def make_dng(
    upright: Image.Image,
    path: Path,
    *,
    orientation: int = 1,
    preview: bool = False,
    preview_image: Image.Image | None = None,
    make: str = "Canon",
    model: str = "EOS Test",
    captured: str | None = "2023:04:05 06:07:08",
    subsec: str | None = "250",
    xmp: bytes | None = None,
) -> Path:
    """A minimal but real DNG (uncompressed 16-bit RGGB mosaic) that LibRaw decodes.

    ``xmp``: an XMP packet in IFD0's tag 700 (XMLPacket), where Adobe's converter and digiKam put it.

    The stored pixels are ``upright`` turned by the inverse of ``orientation``. With ``preview`` IFD0 is an
    embedded JPEG preview and the mosaic sits in a SubIFD, as cameras and Adobe's converter write them;
    ``preview_image`` (upright) makes the preview differ from the mosaic, to tell which one was decoded.
    """
    stored = stored_for_orientation(upright.convert("RGB"), orientation)
    rgb = np.asarray(stored, dtype=np.uint16)
    height, width, _ = rgb.shape
    mosaic = np.zeros((height, width), dtype=np.uint16)
    mosaic[0::2, 0::2] = rgb[0::2, 0::2, 0]
    mosaic[0::2, 1::2] = rgb[0::2, 1::2, 1]
    mosaic[1::2, 0::2] = rgb[1::2, 0::2, 1]
    mosaic[1::2, 1::2] = rgb[1::2, 1::2, 2]
    mosaic = mosaic * 256
    writer = _TiffWriter()
    raw_offset = writer.blob(mosaic.astype("<u2").tobytes())
    raw_entries: list[tuple[int, int, Any]] = [
        (254, _LONG, [0]), (256, _LONG, [width]), (257, _LONG, [height]), (258, _SHORT, [16]),
        (259, _SHORT, [1]), (262, _SHORT, [32803]), (273, _LONG, [raw_offset]), (277, _SHORT, [1]),
        (278, _LONG, [height]), (279, _LONG, [mosaic.nbytes]), (284, _SHORT, [1]),
        (33421, _SHORT, [2, 2]), (33422, _BYTE, [0, 1, 1, 2]), (50717, _LONG, [65535]),
    ]  # fmt: skip
    identity = [(1, 1), (0, 1), (0, 1), (0, 1), (1, 1), (0, 1), (0, 1), (0, 1), (1, 1)]
    common: list[tuple[int, int, Any]] = [
        (271, _ASCII, make), (272, _ASCII, model), (274, _SHORT, [orientation]),
        (50706, _BYTE, [1, 4, 0, 0]), (50707, _BYTE, [1, 1, 0, 0]), (50708, _ASCII, f"{make} {model}"),
        (50721, _SRATIONAL, identity), (50778, _SHORT, [21]), (50728, _RATIONAL, [(1, 1), (1, 1), (1, 1)]),
    ]  # fmt: skip
    exif_entries: list[tuple[int, int, Any]] = []
    if captured:
        exif_entries.append((36867, _ASCII, captured))
    if subsec:
        exif_entries.append((37521, _ASCII, subsec))
    exif_entries.append((33437, _RATIONAL, [(56, 10)]))  # FNumber 5.6
    exif_entries.append((34855, _SHORT, [800]))  # ISO
    common.append((34665, _LONG, [writer.ifd(exif_entries)]))
    if xmp is not None:
        common.append((700, _BYTE, xmp))
    if preview:
        shown = upright if preview_image is None else preview_image
        preview_stored = stored_for_orientation(shown.convert("RGB"), orientation)
        jpeg = jpeg_bytes(preview_stored)
        jpeg_offset = writer.blob(jpeg)
        sub_ifd = writer.ifd(raw_entries)
        preview_entries: list[tuple[int, int, Any]] = [
            (254, _LONG, [1]), (256, _LONG, [preview_stored.width]), (257, _LONG, [preview_stored.height]),
            (258, _SHORT, [8, 8, 8]), (259, _SHORT, [7]), (262, _SHORT, [6]), (273, _LONG, [jpeg_offset]),
            (277, _SHORT, [3]), (278, _LONG, [preview_stored.height]), (279, _LONG, [len(jpeg)]),
            (330, _LONG, [sub_ifd]),
        ]  # fmt: skip
        ifd0 = writer.ifd(common + preview_entries)
    else:
        ifd0 = writer.ifd(common + raw_entries)
    writer.buffer[4:8] = struct.pack("<I", ifd0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(writer.buffer))
    return path
