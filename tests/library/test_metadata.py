"""EXIF to catalog fields: sub-second capture times, exposure, signed GPS, RAW files, corrupt blocks."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from artimuse_desktop.imaging.decode import decode
from artimuse_desktop.library import metadata
from artimuse_desktop.library.analyse import AnalyseTask, analyse
from tests.library import imagefactory as images


def test_full_exif_from_a_jpeg(tmp_path: Path) -> None:
    exif = images.make_exif(orientation=6, gps=(-33.8567844, 151.213108, 58.5))
    path = images.save(images.marker_image(), tmp_path / "a.jpg", exif=exif)
    meta = metadata.read_metadata(path)
    assert meta.captured_at == datetime(2023, 6, 1, 14, 30, 15, 420000)  # SubSecTimeOriginal "42"
    assert meta.camera_make == "Canon" and meta.camera_model == "EOS R5"
    assert meta.lens == "RF24-70mm F2.8 L IS USM"
    assert meta.focal_length == 50.0 and meta.aperture == 2.8
    assert meta.shutter == pytest.approx(1 / 250)
    assert meta.iso == 400
    assert meta.orientation == 6
    assert meta.gps_lat == pytest.approx(-33.8567844, abs=1e-6)  # south is negative
    assert meta.gps_lon == pytest.approx(151.213108, abs=1e-6)
    assert meta.gps_alt == pytest.approx(58.5)


def test_west_and_below_sea_level_are_negative(tmp_path: Path) -> None:
    exif = images.make_exif(gps=(36.2461, -116.8167, -86.0))  # Badwater Basin
    meta = metadata.read_metadata(images.save(images.marker_image(), tmp_path / "dv.jpg", exif=exif))
    assert meta.gps_lat == pytest.approx(36.2461, abs=1e-6)
    assert meta.gps_lon == pytest.approx(-116.8167, abs=1e-6)
    assert meta.gps_alt == pytest.approx(-86.0)


@pytest.mark.parametrize(
    ("text", "subsec", "expected"),
    [
        ("2023:06:01 14:30:15", "42", datetime(2023, 6, 1, 14, 30, 15, 420000)),
        ("2023:06:01 14:30:15", "5", datetime(2023, 6, 1, 14, 30, 15, 500000)),
        ("2023:06:01 14:30:15", "123456789", datetime(2023, 6, 1, 14, 30, 15, 123456)),
        ("2023:06:01 14:30:15", " 07 ", datetime(2023, 6, 1, 14, 30, 15, 70000)),
        ("2023-06-01T14:30:15.25", None, datetime(2023, 6, 1, 14, 30, 15, 250000)),
        ("2023:06:01 14:30:15\x00", None, datetime(2023, 6, 1, 14, 30, 15)),
        ("0000:00:00 00:00:00", None, None),
        ("    :  :     :  :  ", None, None),
        ("2023:13:01 14:30:15", None, None),
        ("", None, None),
        (None, "42", None),
    ],
)
def test_parse_exif_datetime(text: str | None, subsec: str | None, expected: datetime | None) -> None:
    assert metadata.parse_exif_datetime(text, subsec) == expected


def test_apex_values_are_the_fallback(tmp_path: Path) -> None:
    exif = images.make_exif(fnumber=None, exposure=None)
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    ifd[ExifTags.Base.ApertureValue] = images._rational(4.0)  # f/4
    ifd[ExifTags.Base.ShutterSpeedValue] = images._rational(7.0)  # 1/128 s
    meta = metadata.read_metadata(images.save(images.marker_image(), tmp_path / "a.jpg", exif=exif))
    assert meta.aperture == 4.0
    assert meta.shutter == pytest.approx(1 / 128)


def test_zero_denominators_and_nonsense_are_dropped_not_fatal(tmp_path: Path) -> None:
    from PIL import TiffImagePlugin

    exif = images.make_exif(gps=(10.0, 10.0, 5.0))
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    ifd[ExifTags.Base.ExposureTime] = TiffImagePlugin.IFDRational(1, 0)
    ifd[ExifTags.Base.ISOSpeedRatings] = 0
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitude] = (images._rational(95), images._rational(0), images._rational(0))
    meta = metadata.read_metadata(images.save(images.marker_image(), tmp_path / "a.jpg", exif=exif))
    assert meta.shutter is None and meta.iso is None
    assert meta.gps_lat is None and meta.gps_lon is None  # a 95° latitude drops the position
    assert meta.camera_model == "EOS R5" and meta.aperture == 2.8  # the rest survives


@pytest.mark.filterwarnings("ignore:Corrupt EXIF")  # Pillow's, during decode; the app silences it at import
def test_corrupt_exif_never_fails_the_file(tmp_path: Path) -> None:
    path = images.corrupt_exif_jpeg(tmp_path / "broken.jpg")
    meta = metadata.read_metadata(path)
    assert meta.is_empty()
    decoded = decode(path, 64)  # the pixels are fine
    assert decoded.image.size == (64, 48)
    result = analyse(AnalyseTask(str(path), path.stat().st_size, path.stat().st_mtime))
    assert result.error is None and result.width == 320


def test_no_exif_at_all(tmp_path: Path) -> None:
    meta = metadata.read_metadata(images.save(images.marker_image(), tmp_path / "a.png", "PNG"))
    assert meta.is_empty()
    assert metadata.read_metadata(tmp_path / "missing.jpg").is_empty()
    assert metadata.read_metadata(data=b"garbage").is_empty()


def test_raw_metadata(tmp_path: Path) -> None:
    path = images.make_dng(images.marker_image(), tmp_path / "a.dng", orientation=8, make="NIKON", model="Z 8")
    meta = metadata.read_metadata(path)
    assert meta.captured_at == datetime(2023, 4, 5, 6, 7, 8, 250000)
    assert meta.camera_make == "NIKON" and meta.camera_model == "Z 8"
    assert meta.aperture == 5.6 and meta.iso == 800
    assert meta.orientation == 8


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF", "HEIC", "AVIF"])
def test_other_containers_through_the_indexers_path(tmp_path: Path, fmt: str) -> None:
    """exifread cannot read every container; the decoder's EXIF block fills in (HEIC, AVIF)."""
    exif = images.make_exif(orientation=3, gps=(48.8584, 2.2945, 35.0))
    path = images.save(images.marker_image(), tmp_path / f"a{images.PILLOW_SAVE[fmt]}", fmt, exif=exif)
    result = analyse(AnalyseTask(str(path), path.stat().st_size, path.stat().st_mtime))
    assert result.error is None
    meta = result.metadata or {}
    assert meta["captured_at"] == datetime(2023, 6, 1, 14, 30, 15, 420000)
    assert meta["camera_model"] == "EOS R5"
    assert meta["iso"] == 400
    assert meta["gps_lat"] == pytest.approx(48.8584, abs=1e-6)
    assert result.orientation == 3 == meta["orientation"]


def test_text_fields_are_cleaned(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "  Canon\x00\x00  "
    exif[ExifTags.Base.Model] = "   "
    meta = metadata.read_metadata(images.save(images.marker_image(), tmp_path / "a.jpg", exif=exif))
    assert meta.camera_make == "Canon"
    assert meta.camera_model is None
