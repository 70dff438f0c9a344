"""``records_by_ids`` reads in raw SQL (``catalog.record_rows``) and gives exactly the records the ORM's own
objects describe: every field, the current score of the chosen model only, paths mapped to where this computer
sees its root, odd names and empty values; on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.models import Assessment, LibraryRoot, Photo
from artimuse_desktop.catalog.queries import records_by_ids
from artimuse_desktop.catalog.records import PhotoRecord
from artimuse_desktop.catalog.root_locations import map_root

WHEN = datetime(2024, 7, 1, 12, 0, 0, 250_000)
ODD_NAME = os.fsdecode(b"caf\xe9 \xff.jpg")  # not UTF-8: stored as the file system's bytes


def _photo(folder: Path, name: str, root_id: int, **more: Any) -> Photo:
    values: dict[str, Any] = {
        "path": str(folder / name), "folder": str(folder), "filename": name, "size": 3_000_000_123,
        "mtime": 1719835200.123456, "root_id": root_id, "fingerprint": "ab" * 32, "format": "JPEG",
        "width": 6000, "height": 4000, "orientation": 6, "phash": "0123456789abcdef", "status": "ok",
        "captured_at": WHEN, "camera_make": "Fujifilm", "camera_model": "X-T5", "lens": "XF56mmF1.2 R WR",
        "focal_length": 56.0, "aperture": 1.2, "shutter": 1 / 250, "iso": 400, "gps_lat": 48.858222,
        "gps_lon": 2.2945, "gps_alt": 35.5, "flag": 1, "rating": 4, "color_label": "red", "flag_source": "app",
        "rating_source": "sidecar", "label_source": None,
    }  # fmt: skip
    values.update(more)
    return Photo(**values)


def _expected(photo: Photo, score: float | None, model: str, moved: tuple[str, str] | None = None) -> PhotoRecord:
    def here(path: str) -> str:
        return path.replace(moved[0], moved[1], 1) if moved else path

    return PhotoRecord(
        id=photo.id, path=here(photo.path), folder=here(photo.folder), filename=photo.filename, size=photo.size,
        mtime=photo.mtime, fingerprint=photo.fingerprint, format=photo.format, width=photo.width,
        height=photo.height, orientation=photo.orientation, captured_at=photo.captured_at,
        camera_make=photo.camera_make, camera_model=photo.camera_model, lens=photo.lens,
        focal_length=photo.focal_length, aperture=photo.aperture, shutter=photo.shutter, iso=photo.iso,
        gps_lat=photo.gps_lat, gps_lon=photo.gps_lon, gps_alt=photo.gps_alt, phash=photo.phash,
        status=photo.status, error=photo.error, flag=photo.flag, rating=photo.rating,
        color_label=photo.color_label, score=score, score_model=model if score is not None else None,
        flag_source=photo.flag_source, rating_source=photo.rating_source, label_source=photo.label_source,
    )  # fmt: skip


def _assess(photo: Photo, model: str, score: float | None, *, current: bool, version: str = "1") -> Assessment:
    return Assessment(photo=photo, model=model, model_version=version, score=score, created_at=WHEN, current=current)


def test_raw_records_are_the_orm_objects_records(catalog: Catalog, tmp_path: Path) -> None:
    folder = tmp_path / "shoot"
    folder.mkdir()
    with catalog.write() as session:
        root = LibraryRoot(path=str(folder), added_at=WHEN)
        session.add(root)
        session.flush()
        full = _photo(folder, "IMG_0001.JPG", root.id)
        empty = dict.fromkeys(("captured_at", "camera_make", "lens", "gps_lat", "gps_lon", "gps_alt", "phash"))
        bare = _photo(
            folder, ODD_NAME, root.id, filename="caf? ?.jpg", fingerprint=None, status="error", error="truncated",
            flag=-1, rating=0, color_label=None, flag_source=None, rating_source=None, **empty,
        )  # fmt: skip
        unscored = _photo(folder, "IMG_0003.JPG", root.id, captured_at=datetime(2024, 7, 1, 12, 0, 1))
        session.add_all([full, bare, unscored])
        session.add_all(
            [
                _assess(full, "artimuse", 71.25, current=True, version="2"),
                _assess(full, "artimuse", 12.0, current=False),  # an older version: never shown
                _assess(full, "technical", 55.5, current=True),
                _assess(bare, "artimuse", None, current=True),  # failed: no score
                _assess(unscored, "technical", 40.0, current=True),
            ]
        )
        session.flush()
        photos = [full, bare, unscored]
        ids = [photo.id for photo in photos]

    order = [ids[2], 987_654, ids[0], ids[1]]  # asked order kept, an unknown id skipped
    with catalog.read() as session:
        got = records_by_ids(session, order, score_model="artimuse")
        technical = records_by_ids(session, ids, score_model="technical")
    assert got == [
        _expected(unscored, None, "artimuse"),
        _expected(full, 71.25, "artimuse"),
        _expected(bare, None, "artimuse"),
    ]
    assert [record.score for record in technical] == [55.5, None, 40.0]
    assert got[2].path.endswith(ODD_NAME) and got[1].captured_at == WHEN

    elsewhere = tmp_path / "mounted" / "shoot"
    elsewhere.mkdir(parents=True)
    map_root(catalog, str(folder), str(elsewhere))  # this computer sees the root at another place
    with catalog.read() as session:
        mapped = records_by_ids(session, ids, score_model="artimuse")
    moved = (str(folder), str(elsewhere))
    scores = (71.25, None, None)
    assert mapped == [_expected(photo, score, "artimuse", moved) for photo, score in zip(photos, scores, strict=True)]


def test_many_ids_are_read_in_chunks_under_the_parameter_limit(catalog: Catalog, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    with catalog.write() as session:
        root = LibraryRoot(path=str(folder), added_at=WHEN)
        session.add(root)
        session.flush()
        session.add_all([_photo(folder, f"IMG_{i:04d}.JPG", root.id) for i in range(2_000)])
    with catalog.read() as session:
        ids = [photo.id for photo in session.query(Photo).order_by(Photo.id.desc())]
        records = records_by_ids(session, ids, score_model="artimuse")
    assert [record.id for record in records] == ids
    assert records_by_ids_empty(catalog) == []


def records_by_ids_empty(catalog: Catalog) -> list[PhotoRecord]:
    with catalog.read() as session:
        return records_by_ids(session, [], score_model="artimuse")
