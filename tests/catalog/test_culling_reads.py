"""The burst and duplicate searches read the catalog off the DBAPI cursor (raw values: SQLite's time texts and
path bytes, PostgreSQL's datetimes and bytea; one joined text per column for duplicates), so each runs on both
backends here and must find the same groups."""

from __future__ import annotations

from datetime import datetime, timedelta

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.culling.bursts import find_bursts
from artimuse_desktop.culling.duplicates import duplicate_ids, find_duplicates
from tests.factory import add_assessment, insert_photos, photo_row

T0 = datetime(2024, 7, 1, 12, 0, 0, 250_000)
H = 0xFFFF0000FFFF0000


def test_bursts_and_duplicates_on_either_backend(catalog: Catalog) -> None:
    shots = [  # (folder, seconds after T0, hash, camera, fingerprint)
        ("ceremony", 0.0, H, "X", "a"),
        ("ceremony", 1.5, H ^ 0b1, "X", "b"),
        ("ceremony", 3.5, H ^ 0b11, None, "c"),  # 2.0 s after the one before: still chained
        ("ceremony", 3.6, H ^ 0xFFFF, "Y", "d"),  # another camera: a new run
        ("ceremony", 900.0, 0x0123456789ABCDEF, "X", "e"),
        ("Exports/Web", 0.0, H, "X", "a"),  # the first frame's export: a duplicate, not a burst frame
        ("ünïcode folder", 10.0, 0x0123456789ABCDEF, "X", "f"),
        ("ünïcode folder", 11.0, 0x0123456789ABCDEE, "X", "g"),
    ]
    rows = [
        photo_row(
            f"/shoot/{folder}/IMG_{i:04d}.JPG",
            captured_at=T0 + timedelta(seconds=seconds),
            phash=f"{phash:016x}",
            camera_model=camera,
            fingerprint=fingerprint,
        )
        for i, (folder, seconds, phash, camera, fingerprint) in enumerate(shots)
    ]
    ids = insert_photos(catalog, rows)
    add_assessment(catalog, ids[1], score=80.0)
    bursts = find_bursts(catalog)
    assert [burst.photo_ids for burst in bursts] == [(ids[0], ids[1], ids[2]), (ids[6], ids[7])]
    assert bursts[0].best_id == ids[1] and bursts[0].kept_name == "IMG_0001.JPG"
    assert bursts[0].candidates[0].folder == "/shoot/ceremony"
    by_measure = find_bursts(catalog, key="measure:sharpness")  # no score column read: a NULL in its place
    assert [burst.photo_ids for burst in by_measure] == [burst.photo_ids for burst in bursts]
    assert all(c.score is None for burst in by_measure for c in burst.candidates)
    near = {ids[0], ids[1], ids[2], ids[5], ids[4], ids[6], ids[7]}
    assert set(duplicate_ids(catalog)) >= {ids[0], ids[5]} and set(duplicate_ids(catalog)) <= near
    report = find_duplicates(catalog)
    assert any({ids[0], ids[5]} <= set(group.photo_ids) for group in report.groups)
    assert list(duplicate_ids(catalog)) == [pid for group in report.groups for pid in sorted(group.photo_ids)]
