"""Indexing against a real catalog file: first runs, incremental runs, moves, missing files, failures."""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.models import LibraryRoot, Photo
from artimuse_desktop.imaging.thumbnails import ThumbnailCache
from artimuse_desktop.library import indexer
from artimuse_desktop.library.index_results import IndexProgress
from artimuse_desktop.library.indexer import index_roots
from artimuse_desktop.library.previews import make_previews
from tests.library import imagefactory as images


def _photos(catalog: Catalog) -> dict[str, Any]:
    """Every row as a plain snapshot (ORM objects do not outlive their session)."""
    columns = [column.key for column in Photo.__table__.columns]
    with catalog.read() as session:
        return {
            photo.path: SimpleNamespace(**{name: getattr(photo, name) for name in columns})
            for photo in session.execute(select(Photo)).scalars()
        }


def _jpeg(path: Path, seed: int = 0, size: tuple[int, int] = (480, 320), **exif: object) -> Path:
    image = images.photo_like(*size, seed=seed)
    return images.save(image, path, exif=images.make_exif(**exif))  # type: ignore[arg-type]


def _decide(catalog: Catalog, path: Path, *, flag: int, rating: int, label: str | None) -> int:
    with catalog.write() as session:
        photo = session.execute(select(Photo).where(Photo.path == str(path))).scalar_one()
        photo.flag, photo.rating, photo.color_label = flag, rating, label
        photo.decided_at = datetime.now()
        return photo.id


def _bump_mtime(path: Path, seconds: float = 10.0) -> None:
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + seconds))


# --------------------------------------------------------------------------- first run


def test_first_index_fills_the_catalog_and_makes_grid_thumbnails(
    catalog: Catalog, cache: ThumbnailCache, library: Path
) -> None:
    _jpeg(library / "a.jpg", 1, gps=(51.5, -0.12, 11.0))
    images.oriented_file(library / "2024" / "turned.jpg", 6)
    summary = index_roots(catalog, [library], cache=cache, workers=2)
    assert (summary.new, summary.failed, summary.unchanged) == (2, 0, 0)
    assert summary.decoded == 2 and summary.total == 2
    assert summary.roots == [str(library)]
    photos = _photos(catalog)
    a = photos[str(library / "a.jpg")]
    assert a.status == "ok" and a.error is None
    assert a.format == "JPEG" and (a.width, a.height) == (480, 320)
    assert a.folder == str(library) and a.filename == "a.jpg"
    assert a.captured_at == datetime(2023, 6, 1, 14, 30, 15, 420000)
    assert a.camera_model == "EOS R5" and a.iso == 400 and a.shutter == pytest.approx(0.004)
    assert a.gps_lat == pytest.approx(51.5) and a.gps_lon == pytest.approx(-0.12)
    assert a.phash and len(a.phash) == 16
    assert a.fingerprint and a.indexed_at is not None
    assert a.flag == 0 and a.rating == 0
    turned = photos[str(library / "2024" / "turned.jpg")]
    assert (turned.width, turned.height, turned.orientation) == (240, 160, 6)
    grid = cache.get(turned.fingerprint or "", "grid")
    assert grid is not None
    with Image.open(grid) as thumb:
        assert thumb.size == (240, 160)  # never enlarged
        assert images.marker_corner(thumb) == "tl"  # upright
    with Image.open(cache.path_for(a.fingerprint or "", "grid")) as thumb:
        assert thumb.size == (320, 213)
    assert cache.get(a.fingerprint or "", "preview") is None  # previews come later
    with catalog.read() as session:
        roots = [(root.id, root.path, root.last_scan_at) for root in session.execute(select(LibraryRoot)).scalars()]
    assert [path for _, path, _ in roots] == [str(library)]
    assert roots[0][2] is not None
    assert {photo.root_id for photo in photos.values()} == {roots[0][0]}


def test_every_writable_format_is_indexed(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    for fmt, ext in images.PILLOW_SAVE.items():
        images.save(images.marker_image(), library / f"photo{ext}", fmt, exif=images.make_exif())
    images.make_dng(images.marker_image(), library / "photo.dng", orientation=6)
    images.make_dng(images.marker_image(), library / "preview.dng", preview=True)
    images.save(images.marker_image(), library / "png-named.jpg", "PNG")
    summary = index_roots(catalog, [library], cache=cache)
    assert summary.failed == 0, summary.failures
    formats = {Path(path).name: photo.format for path, photo in _photos(catalog).items()}
    assert formats == {
        "photo.jpg": "JPEG", "photo.png": "PNG", "photo.tif": "TIFF", "photo.webp": "WEBP",
        "photo.heic": "HEIC", "photo.avif": "AVIF", "photo.dng": "DNG", "preview.dng": "DNG",
        "png-named.jpg": "PNG",
    }  # fmt: skip
    dng = _photos(catalog)[str(library / "photo.dng")]
    assert (dng.width, dng.height, dng.orientation) == (240, 160, 6)  # upright size
    assert dng.captured_at == datetime(2023, 4, 5, 6, 7, 8, 250000)
    with Image.open(cache.path_for(dng.fingerprint or "", "grid")) as thumb:
        assert thumb.size == (240, 160) and images.marker_corner(thumb) == "tl"


def test_bad_files_become_error_rows_with_reasons(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    good = _jpeg(library / "good.jpg", size=(200, 150))
    (library / "zero.jpg").write_bytes(b"")
    images.truncated_jpeg(library / "cut.jpg", size=(300, 200))
    (library / "notes.jpg").write_text("this is not a photo\n" * 10)
    images.save(images.photo_like(400, 300), library / "bomb.png", "PNG")
    summary = index_roots(catalog, [library], cache=cache, max_pixels=100_000)
    assert summary.new == 1 and summary.failed == 4
    reasons = dict(summary.failures)
    assert reasons[str(library / "zero.jpg")] == "empty file (0 bytes)"
    assert reasons[str(library / "cut.jpg")].startswith("truncated JPEG")
    assert reasons[str(library / "notes.jpg")] == "not an image (looks like text)"
    assert "exceeds the limit of 0.1 megapixels" in reasons[str(library / "bomb.png")]
    photos = _photos(catalog)
    assert photos[str(good)].status == "ok"
    for name in ("zero.jpg", "cut.jpg", "notes.jpg", "bomb.png"):
        row = photos[str(library / name)]
        assert row.status == "error" and row.error == reasons[str(library / name)]
    assert photos[str(library / "cut.jpg")].format == "JPEG"


@pytest.mark.timeout(60)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_special_files_and_loops_do_not_hang_the_index(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    _jpeg(library / "a.jpg")
    os.mkfifo(library / "pipe.jpg")
    os.symlink("..", library / "up")
    summary = index_roots(catalog, [library], cache=cache)
    assert summary.new == 1
    assert dict(summary.skipped)[str(library / "pipe.jpg")].startswith("named pipe")
    assert str(library / "up") in dict(summary.skipped)


# --------------------------------------------------------------------------- incremental runs


def test_unchanged_rescan_decodes_and_hashes_nothing(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    for index in range(5):
        _jpeg(library / f"{index}.jpg", index)
    (library / "zero.jpg").write_bytes(b"")
    first = index_roots(catalog, [library], cache=cache)
    assert first.new == 5 and first.failed == 1
    before = {path: photo.indexed_at for path, photo in _photos(catalog).items()}
    second = index_roots(catalog, [library], cache=cache)
    assert (second.unchanged, second.new, second.updated) == (5, 0, 0)
    assert second.decoded == 0 and second.hashed == 0
    assert second.failed == 1 and second.failures == [(str(library / "zero.jpg"), "empty file (0 bytes)")]
    assert second.photo_ids == []
    assert {path: photo.indexed_at for path, photo in _photos(catalog).items()} == before


def test_retry_failed_decodes_known_failures_again(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    images.truncated_jpeg(library / "cut.jpg")
    index_roots(catalog, [library], cache=cache)
    again = index_roots(catalog, [library], cache=cache, retry_failed=True)
    assert again.decoded == 1 and again.failed == 1


def test_touched_but_identical_file_is_hashed_not_decoded(
    catalog: Catalog, cache: ThumbnailCache, library: Path
) -> None:
    path = _jpeg(library / "a.jpg")
    index_roots(catalog, [library], cache=cache)
    _bump_mtime(path)
    summary = index_roots(catalog, [library], cache=cache)
    assert summary.unchanged == 1 and summary.updated == 0
    assert summary.decoded == 0 and summary.hashed == 1
    assert _photos(catalog)[str(path)].mtime == path.stat().st_mtime
    assert index_roots(catalog, [library], cache=cache).hashed == 0  # the new mtime is remembered


def test_changed_content_updates_the_row_and_keeps_decisions(
    catalog: Catalog, cache: ThumbnailCache, library: Path
) -> None:
    path = _jpeg(library / "a.jpg", 1, size=(480, 320))
    index_roots(catalog, [library], cache=cache)
    photo_id = _decide(catalog, path, flag=1, rating=4, label="green")
    old = _photos(catalog)[str(path)]
    _jpeg(path, 2, size=(300, 400), model="EOS R6")  # edited in place: new pixels, new size
    _bump_mtime(path)
    summary = index_roots(catalog, [library], cache=cache)
    assert summary.updated == 1 and summary.decoded == 1 and summary.photo_ids == [photo_id]
    new = _photos(catalog)[str(path)]
    assert new.id == photo_id
    assert (new.width, new.height, new.camera_model) == (300, 400, "EOS R6")
    assert new.fingerprint != old.fingerprint
    assert (new.flag, new.rating, new.color_label) == (1, 4, "green")
    assert cache.get(new.fingerprint or "", "grid") is not None


def test_rename_and_move_keep_the_row_and_its_decisions(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    path = _jpeg(library / "IMG_0001.jpg", 3)
    _jpeg(library / "other.jpg", 4)
    index_roots(catalog, [library], cache=cache)
    photo_id = _decide(catalog, path, flag=1, rating=5, label="red")
    fingerprint = _photos(catalog)[str(path)].fingerprint
    target = library / "2024" / "best" / "Sunset.jpg"
    target.parent.mkdir(parents=True)
    path.rename(target)
    summary = index_roots(catalog, [library], cache=cache)
    assert (summary.moved, summary.new, summary.missing, summary.unchanged) == (1, 0, 0, 1)
    assert summary.decoded == 0  # recognised by fingerprint: no decode
    photos = _photos(catalog)
    assert str(path) not in photos
    moved = photos[str(target)]
    assert moved.id == photo_id and moved.status == "ok"
    assert (moved.flag, moved.rating, moved.color_label) == (1, 5, "red")
    assert moved.folder == str(target.parent) and moved.filename == "Sunset.jpg"
    assert moved.fingerprint == fingerprint and cache.get(fingerprint or "", "grid") is not None
    assert len(photos) == 2


def test_a_move_to_another_library_folder_keeps_the_row(
    catalog: Catalog, cache: ThumbnailCache, tmp_path: Path
) -> None:
    first, second = tmp_path / "card", tmp_path / "archive"
    path = _jpeg(first / "a.jpg")
    index_roots(catalog, [first], cache=cache)
    photo_id = _decide(catalog, path, flag=-1, rating=1, label=None)
    second.mkdir()
    shutil.move(str(path), second / "a.jpg")
    summary = index_roots(catalog, [second], cache=cache)  # the old folder is not rescanned
    assert summary.moved == 1 and summary.new == 0
    row = _photos(catalog)[str(second / "a.jpg")]
    assert row.id == photo_id and (row.flag, row.rating) == (-1, 1)
    with catalog.read() as session:
        roots = {root.path: root.id for root in session.execute(select(LibraryRoot)).scalars()}
    assert row.root_id == roots[str(second)]


def test_a_copy_is_a_new_photo_not_a_move(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    path = _jpeg(library / "a.jpg")
    index_roots(catalog, [library], cache=cache)
    shutil.copy2(path, library / "a copy.jpg")
    summary = index_roots(catalog, [library], cache=cache)
    assert (summary.new, summary.moved, summary.unchanged) == (1, 0, 1)
    photos = _photos(catalog)
    assert photos[str(path)].fingerprint == photos[str(library / "a copy.jpg")].fingerprint


def test_vanished_files_go_missing_and_come_back(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    path = _jpeg(library / "a.jpg")
    keep = _jpeg(library / "b.jpg", 1)
    index_roots(catalog, [library], cache=cache)
    photo_id = _decide(catalog, path, flag=1, rating=3, label="blue")
    hidden = library.parent / "away.jpg"
    path.rename(hidden)
    gone = index_roots(catalog, [library], cache=cache)
    assert gone.missing == 1 and gone.unchanged == 1
    row = _photos(catalog)[str(path)]
    assert row.status == "missing" and row.id == photo_id  # never deleted
    again = index_roots(catalog, [library], cache=cache)
    assert again.missing == 0  # already missing: not counted twice
    hidden.rename(path)
    back = index_roots(catalog, [library], cache=cache)
    assert back.restored == 1 and back.decoded == 0
    row = _photos(catalog)[str(path)]
    assert row.status == "ok" and row.id == photo_id and (row.flag, row.rating) == (1, 3)
    assert _photos(catalog)[str(keep)].status == "ok"


def test_a_file_that_comes_back_touched_is_restored_without_a_decode(
    catalog: Catalog, cache: ThumbnailCache, library: Path
) -> None:
    path = _jpeg(library / "a.jpg")
    index_roots(catalog, [library], cache=cache)
    away = library.parent / "away.jpg"
    path.rename(away)
    index_roots(catalog, [library], cache=cache)
    away.rename(path)
    _bump_mtime(path)  # e.g. copied back from a backup
    summary = index_roots(catalog, [library], cache=cache)
    assert (summary.restored, summary.unchanged, summary.decoded) == (1, 0, 0)
    assert _photos(catalog)[str(path)].status == "ok"


def test_a_missing_photo_found_at_a_new_path_is_a_move(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    path = _jpeg(library / "a.jpg")
    index_roots(catalog, [library], cache=cache)
    photo_id = _decide(catalog, path, flag=1, rating=2, label=None)
    outside = library.parent / "a.jpg"
    path.rename(outside)
    assert index_roots(catalog, [library], cache=cache).missing == 1
    outside.rename(library / "found.jpg")
    summary = index_roots(catalog, [library], cache=cache)
    assert summary.moved == 1
    row = _photos(catalog)[str(library / "found.jpg")]
    assert row.id == photo_id and row.status == "ok" and row.rating == 2


def test_unreadable_folders_do_not_make_photos_missing(
    catalog: Catalog, cache: ThumbnailCache, library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside = _jpeg(library / "locked" / "a.jpg")
    index_roots(catalog, [library], cache=cache)
    from artimuse_desktop.library import scanner

    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if os.path.basename(path) == "locked":
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(scanner.os, "scandir", scandir)
    summary = index_roots(catalog, [library], cache=cache)
    assert summary.missing == 0
    assert summary.unreadable == [(str(library / "locked"), "permission denied")]
    assert _photos(catalog)[str(inside)].status == "ok"


def test_an_unreadable_file_is_a_failure_simulated(
    catalog: Catalog, cache: ThumbnailCache, library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Works as root too: opening this one file is refused."""
    from artimuse_desktop.imaging import source as source_module

    secret = _jpeg(library / "secret.jpg")
    _jpeg(library / "fine.jpg", 1)

    def guarded_open(path: object, *args: object, **kwargs: object) -> object:
        if os.fsdecode(path).endswith("secret.jpg"):  # type: ignore[call-overload]
            raise PermissionError(13, "Permission denied", path)
        return open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(source_module, "open", guarded_open, raising=False)
    summary = index_roots(catalog, [library], cache=cache, workers=1)
    assert summary.new == 1 and summary.failed == 1
    assert summary.failures == [(str(secret), "cannot read the file (Permission denied)")]


@pytest.mark.skipif(getattr(os, "geteuid", lambda: 0)() == 0, reason="root reads files whatever their permissions")
def test_an_unreadable_file_is_a_failure_for_real(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    secret = _jpeg(library / "secret.jpg")
    secret.chmod(0)
    try:
        summary = index_roots(catalog, [library], cache=cache)
    finally:
        secret.chmod(0o644)
    assert summary.failures == [(str(secret), "cannot read the file (Permission denied)")]


def test_names_that_are_not_utf8_round_trip(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    raw = os.fsencode(library) + b"/D\xe9j\xe0 vu.jpg"
    with open(raw, "wb") as handle:
        handle.write(images.jpeg_bytes(images.photo_like(64, 48)))
    _jpeg(library / "写真 📷.jpg")
    summary = index_roots(catalog, [library], cache=cache)
    assert summary.new == 2 and summary.failed == 0
    photos = _photos(catalog)
    by_bytes = {os.fsencode(path): photo for path, photo in photos.items()}
    assert by_bytes[raw].filename == "D\ufffdj\ufffd vu.jpg"  # printable copy for display
    assert photos[str(library / "写真 📷.jpg")].filename == "写真 📷.jpg"
    assert index_roots(catalog, [library], cache=cache).unchanged == 2


def test_a_subfolder_rescan_reuses_the_library_root(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    _jpeg(library / "a.jpg")
    _jpeg(library / "sub" / "b.jpg", 1)
    index_roots(catalog, [library], cache=cache)
    summary = index_roots(catalog, [library / "sub"], cache=cache)
    assert summary.unchanged == 1 and summary.missing == 0  # a.jpg is outside this scan, not missing
    with catalog.read() as session:
        assert [root.path for root in session.execute(select(LibraryRoot)).scalars()] == [str(library)]


def test_the_library_is_never_written(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    _jpeg(library / "a.jpg")
    images.truncated_jpeg(library / "b.jpg")
    images.make_dng(images.marker_image(), library / "c.dng")

    def state() -> dict[str, tuple[int, int, str]]:
        result = {}
        for path in sorted(library.rglob("*")):
            stat = path.stat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
            result[str(path)] = (stat.st_mtime_ns, stat.st_size, digest)
        return result

    before = state()
    index_roots(catalog, [library], cache=cache)
    make_previews(catalog, cache)
    assert state() == before


# --------------------------------------------------------------------------- running


def test_progress_reports_plain_data(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    for index in range(4):
        _jpeg(library / f"{index}.jpg", index)
    events: list[IndexProgress] = []
    index_roots(catalog, [library], cache=cache, progress=events.append, workers=1)
    indexing = [event for event in events if event.phase == "index"]
    assert indexing[-1].done == indexing[-1].total == 4
    assert all(isinstance(event.rate, float) and event.rate >= 0 for event in events)
    assert indexing[-1].current is not None and indexing[-1].current.endswith(".jpg")


def test_cancel_stops_and_a_rerun_finishes(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    for index in range(6):
        _jpeg(library / f"{index}.jpg", index)
    token = CancelToken()

    def stop_after_two(event: IndexProgress) -> None:
        if event.phase == "index":  # the first event of a phase is always reported
            token.cancel()

    summary = index_roots(catalog, [library], cache=cache, progress=stop_after_two, cancel=token, workers=1)
    assert summary.cancelled and 1 <= summary.new < 6
    rest = index_roots(catalog, [library], cache=cache)
    assert not rest.cancelled and rest.new + summary.new == 6 and rest.unchanged == summary.new


def test_cancelled_before_start(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    _jpeg(library / "a.jpg")
    token = CancelToken()
    token.cancel()
    summary = index_roots(catalog, [library], cache=cache, cancel=token)
    assert summary.cancelled and summary.new == 0
    assert _photos(catalog) == {}


@pytest.mark.parametrize(("workers", "executor"), [(1, "thread"), (3, "thread"), (2, "process")])
def test_workers_and_executors_agree(
    catalog: Catalog, cache: ThumbnailCache, library: Path, workers: int, executor: str
) -> None:
    for index in range(7):
        _jpeg(library / f"{index}.jpg", index)
    images.truncated_jpeg(library / "bad.jpg")
    summary = index_roots(catalog, [library], cache=cache, workers=workers, executor=executor, batch_size=3)
    assert (summary.new, summary.failed, summary.workers, summary.executor) == (7, 1, workers, executor)
    assert len(_photos(catalog)) == 8
    assert all(
        cache.get(photo.fingerprint or "", "grid") for photo in _photos(catalog).values() if photo.status == "ok"
    )


def test_unknown_executor_is_refused(catalog: Catalog, library: Path) -> None:
    with pytest.raises(ValueError):
        index_roots(catalog, [library], executor="fibers")


def test_thumbnails_can_be_left_out(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    _jpeg(library / "a.jpg")
    index_roots(catalog, [library], cache=cache, thumbnails=False)
    assert not cache.root.exists() or not any(cache.root.rglob("*.jpg"))


def test_default_cache_lives_in_artimuse_home(catalog: Catalog, library: Path) -> None:
    _jpeg(library / "a.jpg")
    index_roots(catalog, [library])
    thumbs = list((Path(os.environ["ARTIMUSE_HOME"]) / "cache" / "thumbnails" / "grid").rglob("*.jpg"))
    assert len(thumbs) == 1


# --------------------------------------------------------------------------- previews


def test_make_previews_fills_in_what_is_missing(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    a = _jpeg(library / "a.jpg", 1, size=(2000, 1500))
    _jpeg(library / "b.jpg", 2, size=(800, 600))
    images.truncated_jpeg(library / "bad.jpg")
    index_roots(catalog, [library], cache=cache)
    events: list[IndexProgress] = []
    first = make_previews(catalog, cache, progress=events.append, workers=2)
    assert (first.made, first.existing, first.failed) == (2, 0, 0)  # error rows are not attempted
    assert events[-1].phase == "previews" and events[-1].done == 2
    with Image.open(cache.path_for(_photos(catalog)[str(a)].fingerprint or "", "preview")) as preview:
        assert preview.size == (1600, 1200)
    second = make_previews(catalog, cache)
    assert (second.made, second.existing) == (0, 2)
    a.unlink()  # status still ok in the catalog, file gone: a failure, not a crash
    cache.path_for(_photos(catalog)[str(a)].fingerprint or "", "preview").unlink()
    third = make_previews(catalog, cache, photo_ids=[_photos(catalog)[str(a)].id])
    assert third.failed == 1 and "cannot read" in third.failures[0][1]


def test_previews_for_selected_ids_only(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    _jpeg(library / "a.jpg", 1)
    _jpeg(library / "b.jpg", 2)
    summary = index_roots(catalog, [library], cache=cache)
    result = make_previews(catalog, cache, photo_ids=summary.photo_ids[:1])
    assert result.made == 1


def test_rows_are_written_in_batches(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    from sqlalchemy import event

    for index in range(7):
        _jpeg(library / f"{index}.jpg", index, size=(64, 48))
    transactions = 0

    def count_commit(_connection: object) -> None:
        nonlocal transactions
        transactions += 1

    event.listen(catalog.engine, "commit", count_commit)
    try:
        index_roots(catalog, [library], cache=cache, batch_size=3, workers=1)
    finally:
        event.remove(catalog.engine, "commit", count_commit)
    # roots + 3 batches (3, 3, 1) + last_scan_at
    assert transactions == 5
    assert indexer.BATCH_SIZE == 200


def test_an_unchanged_rescan_only_stats_files(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    """Counted, not timed (speed is bench/bench_index.py's job): no decode and no hash the second time."""
    for index in range(10):
        _jpeg(library / f"{index}.jpg", index, size=(1600, 1200))
    first = index_roots(catalog, [library], cache=cache)
    assert first.decoded == 10
    again = index_roots(catalog, [library], cache=cache)
    assert (again.unchanged, again.decoded, again.hashed) == (10, 0, 0)


def test_big_files_stream_from_disk_with_the_same_results(
    catalog: Catalog, cache: ThumbnailCache, library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from artimuse_desktop.imaging import source as source_module

    images.oriented_file(library / "a.jpg", 6)
    images.make_dng(images.marker_image(), library / "b.dng", orientation=3, preview=True)
    images.save(images.marker_image(), library / "c.tif", "TIFF", exif=images.make_exif(orientation=8))
    index_roots(catalog, [library], cache=cache)
    in_memory = {
        path: (p.fingerprint, p.width, p.height, p.orientation, p.phash) for path, p in _photos(catalog).items()
    }
    monkeypatch.setattr(source_module, "IN_MEMORY_LIMIT", 10)  # every file counts as "big" now
    other = Catalog(tmp_path / "other.sqlite")
    try:
        summary = index_roots(other, [library], cache=ThumbnailCache(tmp_path / "thumbs2"))
        streamed = {
            path: (p.fingerprint, p.width, p.height, p.orientation, p.phash) for path, p in _photos(other).items()
        }
    finally:
        other.close()
    assert summary.new == 3 and summary.failed == 0
    assert streamed == in_memory
