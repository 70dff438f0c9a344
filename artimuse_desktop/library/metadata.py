"""EXIF metadata for the catalog: capture time (with sub-seconds), camera, lens, exposure, GPS, orientation,
and the star rating other apps wrote into the file (Windows, digiKam, Lightroom's EXIF ``Rating`` tag).

exifread reads JPEG, TIFF and the TIFF-based RAW formats (DNG, CR2, NEF, ARW, ORF, RW2, PEF, SRW), PNG, WebP
and some HEIC files directly. For containers it cannot parse (other HEIC/AVIF files, RAF, CR3) the decoder
hands over the TIFF-structured EXIF block it found (Pillow's ``info["exif"]`` or the RAW's embedded JPEG
preview), which exifread reads as a TIFF. Corrupt EXIF never fails a photo: each field is converted on its own
and a field that does not make sense (a zero denominator, a 13th month, a latitude of 91°) is simply left
empty.

Capture times are naive local times, as cameras record them (EXIF has no zone before OffsetTimeOriginal, and
photographers sort by the clock on the camera, not by UTC).
"""

from __future__ import annotations

import io
import logging
import math
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

logging.getLogger("exifread").setLevel(logging.ERROR)  # it warns on every odd tag; corrupt EXIF is normal here

_DATE = re.compile(r"^\s*(\d{4})[:\-/.](\d{1,2})[:\-/.](\d{1,2})[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(?:[.,](\d+))?")


@dataclass
class PhotoMetadata:
    """What the catalog stores from EXIF; None means "not recorded" (never a made-up zero)."""

    captured_at: datetime | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    lens: str | None = None
    focal_length: float | None = None  # mm
    aperture: float | None = None  # f-number
    shutter: float | None = None  # exposure time in seconds
    iso: int | None = None
    gps_lat: float | None = None  # signed decimal degrees, north positive
    gps_lon: float | None = None  # signed decimal degrees, east positive
    gps_alt: float | None = None  # metres, negative below sea level
    orientation: int | None = None
    rating: int | None = None  # 0–5 stars from EXIF Rating (0x4746) or RatingPercent (0x4749)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def is_empty(self) -> bool:
        return all(value is None for value in asdict(self).values())


# --------------------------------------------------------------------------- reading tags


def _process(handle: BinaryIO) -> dict[str, Any]:
    import exifread

    try:
        tags = exifread.process_file(handle, details=False, extract_thumbnail=False, strict=False)
    except Exception:  # exifread raises assertion, struct, index and value errors on damaged blocks
        return {}
    return dict(tags or {})


def read_tags(path: str | Path | None = None, *, data: bytes | None = None) -> dict[str, Any]:
    """exifread's tags for a file (or its bytes); {} when there is no EXIF or it cannot be read."""
    if data is not None:
        return _process(io.BytesIO(data))
    if path is None:
        return {}
    try:
        with open(path, "rb") as handle:
            return _process(handle)
    except OSError:
        return {}


# --------------------------------------------------------------------------- converting values


def _values(tag: Any) -> list[Any]:
    values = getattr(tag, "values", tag)
    if isinstance(values, list | tuple):
        return list(values)
    return [values]


def _number(value: Any) -> float | None:
    try:
        if hasattr(value, "numerator") and hasattr(value, "denominator"):
            if not value.denominator:
                return None
            number = value.numerator / value.denominator
        else:
            number = float(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _first_number(tags: dict[str, Any], *names: str) -> float | None:
    for name in names:
        if name in tags:
            values = _values(tags[name])
            if values:
                number = _number(values[0])
                if number is not None:
                    return number
    return None


def _text(tags: dict[str, Any], *names: str) -> str | None:
    for name in names:
        tag = tags.get(name)
        if tag is None:
            continue
        values = getattr(tag, "values", tag)
        if isinstance(values, bytes):
            values = values.decode("utf-8", "replace")
        if not isinstance(values, str):
            values = getattr(tag, "printable", "")
        cleaned = "".join(ch for ch in str(values) if ch.isprintable()).strip()
        if cleaned and cleaned.lower() not in ("unknown", "none", "----", "0"):
            return cleaned[:250]
    return None


def parse_exif_datetime(text: str | None, subsec: str | None = None) -> datetime | None:
    """``2023:04:05 06:07:08`` (+ SubSecTime ``"25"`` → .25 s) as a datetime; None for blanks or nonsense."""
    if not text:
        return None
    match = _DATE.match(text.replace("\x00", ""))
    if not match:
        return None
    year, month, day, hour, minute, second, fraction = match.groups()
    digits = "".join(ch for ch in (subsec or "") if ch.isdigit()) or (fraction or "")
    micro = int((digits + "000000")[:6]) if digits else 0
    try:
        value = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro)
    except ValueError:
        return None
    return value if value.year >= 1800 else None


def _captured_at(tags: dict[str, Any]) -> datetime | None:
    for date_tag, subsec_tag in (
        ("EXIF DateTimeOriginal", "EXIF SubSecTimeOriginal"),
        ("EXIF DateTimeDigitized", "EXIF SubSecTimeDigitized"),
        ("Image DateTimeOriginal", "Image SubSecTimeOriginal"),  # some TIFF/RAW writers put it in IFD0
        ("Image DateTime", "EXIF SubSecTime"),
    ):
        value = parse_exif_datetime(_text(tags, date_tag), _text(tags, subsec_tag))
        if value is not None:
            return value
    return None


def _gps_coordinate(tags: dict[str, Any], name: str, ref_name: str, limit: float) -> float | None:
    tag = tags.get(name)
    if tag is None:
        return None
    parts = [_number(value) for value in _values(tag)[:3]]
    if not parts or any(part is None for part in parts):
        return None
    degrees = sum(part / 60**index for index, part in enumerate(parts) if part is not None)
    ref = (_text(tags, ref_name) or "").upper()[:1]
    if ref in ("S", "W"):
        degrees = -degrees
    if not math.isfinite(degrees) or abs(degrees) > limit:
        return None
    return round(degrees, 7)


def _gps_altitude(tags: dict[str, Any]) -> float | None:
    altitude = _first_number(tags, "GPS GPSAltitude")
    if altitude is None:
        return None
    ref = tags.get("GPS GPSAltitudeRef")
    ref_values = _values(ref) if ref is not None else []
    below = bool(ref_values) and _number(ref_values[0]) == 1
    return -altitude if below else altitude


def _positive(value: float | None, upper: float) -> float | None:
    return value if value is not None and 0 < value < upper else None


def metadata_from_tags(tags: dict[str, Any]) -> PhotoMetadata:
    """Convert exifread tags; every field is independent, so one bad field never loses the others."""
    meta = PhotoMetadata()
    fields: list[tuple[str, Any]] = [
        ("captured_at", lambda: _captured_at(tags)),
        ("camera_make", lambda: _text(tags, "Image Make")),
        ("camera_model", lambda: _text(tags, "Image Model")),
        ("lens", lambda: _text(tags, "EXIF LensModel", "Image LensModel")),
        ("focal_length", lambda: _positive(_first_number(tags, "EXIF FocalLength"), 10_000)),
        ("aperture", lambda: _aperture(tags)),
        ("shutter", lambda: _shutter(tags)),
        ("iso", lambda: _iso(tags)),
        ("gps_lat", lambda: _gps_coordinate(tags, "GPS GPSLatitude", "GPS GPSLatitudeRef", 90.0)),
        ("gps_lon", lambda: _gps_coordinate(tags, "GPS GPSLongitude", "GPS GPSLongitudeRef", 180.0)),
        ("gps_alt", lambda: _gps_altitude(tags)),
        ("orientation", lambda: _orientation(tags)),
        ("rating", lambda: _rating(tags)),
    ]
    for name, getter in fields:
        try:
            setattr(meta, name, getter())
        except Exception:  # a malformed field is dropped, the rest survive
            setattr(meta, name, None)
    if meta.gps_lat is None or meta.gps_lon is None:
        meta.gps_lat = meta.gps_lon = None
    return meta


def _aperture(tags: dict[str, Any]) -> float | None:
    value = _positive(_first_number(tags, "EXIF FNumber"), 1000)
    if value is None:
        apex = _first_number(tags, "EXIF ApertureValue")
        if apex is not None and -2 < apex < 40:
            value = round(2 ** (apex / 2), 1)
    return value


def _shutter(tags: dict[str, Any]) -> float | None:
    value = _positive(_first_number(tags, "EXIF ExposureTime"), 100_000)
    if value is None:
        apex = _first_number(tags, "EXIF ShutterSpeedValue")
        if apex is not None and -20 < apex < 30:
            value = 2.0**-apex
    return value


def _iso(tags: dict[str, Any]) -> int | None:
    value = _first_number(tags, "EXIF ISOSpeedRatings", "EXIF RecommendedExposureIndex")
    return int(value) if value is not None and 0 < value < 10_000_000 else None


def _orientation(tags: dict[str, Any]) -> int | None:
    value = _first_number(tags, "Image Orientation")
    return int(value) if value is not None and 1 <= value <= 8 else None


#: Windows' RatingPercent for each star count (1, 25, 50, 75, 99); read back to the nearest star.
_PERCENT_STARS = ((0, 0), (1, 1), (13, 2), (38, 3), (63, 4), (88, 5))


def _rating(tags: dict[str, Any]) -> int | None:
    """EXIF Rating 0–5 (IFD0 0x4746), else RatingPercent 0–100 (0x4749) as stars; anything else is left out."""
    stars = _first_number(tags, "Image Rating")
    if stars is not None:
        return int(stars) if stars == int(stars) and 0 <= stars <= 5 else None
    percent = _first_number(tags, "Image RatingPercent", "Image Tag 0x4749")
    if percent is None or percent != int(percent) or not 0 <= percent <= 100:
        return None
    return max(count for lowest, count in _PERCENT_STARS if percent >= lowest)


def _useful(tags: dict[str, Any]) -> bool:
    return any(name in tags for name in ("Image Make", "EXIF DateTimeOriginal", "EXIF ExposureTime"))


def read_metadata(
    path: str | Path | None = None, *, data: bytes | None = None, fallback_exif: bytes | None = None
) -> PhotoMetadata:
    """Metadata of a photo (from ``data`` when given, else read from ``path``); never raises.

    ``fallback_exif``: a TIFF-structured EXIF block (from the decoder) used when exifread finds nothing in
    the file itself, e.g. for AVIF, RAF or CR3.
    """
    tags = read_tags(path, data=data)
    if fallback_exif and not _useful(tags):
        extra = _process(io.BytesIO(fallback_exif))
        tags = {**extra, **tags}
    return metadata_from_tags(tags)
