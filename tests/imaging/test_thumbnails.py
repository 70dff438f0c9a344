"""The thumbnail cache: keyed by fingerprint, upright, atomic, rebuilt on demand, pruned oldest first."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from PIL import Image

from artimuse_desktop import paths
from artimuse_desktop.errors import DecodeError
from artimuse_desktop.imaging.thumbnails import KIND_SIZES, ThumbnailCache
from tests.fresh_interpreter import loaded_after
from tests.library import imagefactory as images

FP = "b" + "0123456789abcdef" * 2


def test_default_root_is_the_apps_cache_folder() -> None:
    assert ThumbnailCache().root == paths.thumbnails_dir()
    assert str(paths.thumbnails_dir()).startswith(os.environ["ARTIMUSE_HOME"])


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_grid_and_preview_are_upright_jpegs_of_the_right_size(
    tmp_path: Path, cache: ThumbnailCache, orientation: int
) -> None:
    source = images.oriented_file(tmp_path / "p.jpg", orientation, size=(2400, 1600))
    grid = cache.ensure(source, FP, "grid")
    preview = cache.ensure(source, FP, "preview")
    assert grid == cache.path_for(FP, "grid") and grid.parent.parent.name == "grid"
    for path, size in ((grid, (320, 213)), (preview, (1600, 1067))):
        with Image.open(path) as image:
            assert image.format == "JPEG"
            assert image.size == size
            assert images.marker_corner(image) == "tl"


def test_heic_and_raw_thumbnails_are_upright(tmp_path: Path, cache: ThumbnailCache) -> None:
    heic = images.oriented_file(tmp_path / "p.heic", 6, "HEIC", size=(480, 320))
    dng = images.make_dng(images.marker_image(480, 320), tmp_path / "p.dng", orientation=8)
    for index, source in enumerate((heic, dng)):
        with Image.open(cache.ensure(source, f"{FP[:-1]}{index}", "grid")) as image:
            assert image.size == (320, 213)
            assert images.marker_corner(image) == "tl"


def test_get_only_returns_existing_thumbnails(tmp_path: Path, cache: ThumbnailCache) -> None:
    assert cache.get(FP, "grid") is None
    cache.ensure(images.save(images.marker_image(), tmp_path / "a.png", "PNG"), FP, "grid")
    assert cache.get(FP, "grid") == cache.path_for(FP, "grid")
    assert cache.get(FP, "preview") is None


def test_a_moved_photo_reuses_its_thumbnail_by_fingerprint(tmp_path: Path, cache: ThumbnailCache) -> None:
    source = images.save(images.marker_image(), tmp_path / "old.jpg")
    first = cache.ensure(source, FP, "grid")
    moved = tmp_path / "elsewhere" / "new name.jpg"
    moved.parent.mkdir()
    source.rename(moved)
    mtime = first.stat().st_mtime_ns
    assert cache.ensure(moved, FP, "grid") == first
    assert first.stat().st_mtime_ns == mtime  # not rewritten


def test_deleted_thumbnails_are_rebuilt_on_demand(tmp_path: Path, cache: ThumbnailCache) -> None:
    source = images.save(images.marker_image(), tmp_path / "a.jpg")
    path = cache.ensure(source, FP, "grid")
    path.unlink()
    assert cache.get(FP, "grid") is None
    assert cache.ensure(source, FP, "grid").is_file()


def test_an_already_decoded_image_is_reused(tmp_path: Path, cache: ThumbnailCache) -> None:
    image = images.marker_image(640, 480)
    path = cache.ensure(tmp_path / "does-not-exist.jpg", FP, "grid", image=image)
    with Image.open(path) as thumb:
        assert thumb.size == (320, 240)
    # Too small to serve as a preview: the source must be decoded, and here it does not exist.
    with pytest.raises(DecodeError):
        cache.ensure(tmp_path / "does-not-exist.jpg", FP, "preview", image=image)


def test_orientation_override(tmp_path: Path, cache: ThumbnailCache) -> None:
    source = images.oriented_file(tmp_path / "p.jpg", 6)
    with Image.open(cache.ensure(source, FP, "grid", orientation=1)) as image:
        assert image.size == (160, 240)  # as stored, the file's tag ignored


def test_writes_are_atomic(tmp_path: Path, cache: ThumbnailCache, monkeypatch: pytest.MonkeyPatch) -> None:
    source = images.save(images.marker_image(), tmp_path / "a.jpg")

    def broken_save(self: Image.Image, fp: object, *args: object, **kwargs: object) -> None:
        assert hasattr(fp, "write")
        fp.write(b"\xff\xd8 half a jpeg")  # type: ignore[attr-defined]
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        cache.ensure(source, FP, "grid")
    folder = cache.path_for(FP, "grid").parent
    assert not cache.path_for(FP, "grid").exists()
    assert not folder.exists() or list(folder.iterdir()) == []  # no temporary file left behind
    # A real full disk: tests/imaging/test_thumbnails_full_disk.py


def test_bad_keys_are_refused(cache: ThumbnailCache) -> None:
    with pytest.raises(ValueError):
        cache.path_for("../../etc/passwd", "grid")
    with pytest.raises(ValueError):
        cache.path_for(FP, "poster")
    assert set(KIND_SIZES) == {"grid", "preview"}


def test_prune_removes_least_recently_used_first(tmp_path: Path) -> None:
    cache = ThumbnailCache(tmp_path / "thumbs", max_bytes=10**9)
    photo = images.photo_like(400, 300)
    keys = [f"b{index:032x}" for index in range(6)]
    now = time.time()
    for age, key in enumerate(keys):
        path = cache.store(key, "grid", photo)
        stamp = now - 10_000 * (len(keys) - age)  # keys[0] is the oldest
        os.utime(path, (stamp, stamp))
    one = cache.path_for(keys[0], "grid").stat().st_size
    total = cache.total_bytes()
    assert cache.prune().removed_files == 0  # under budget: nothing to do
    result = cache.prune(max_bytes=total - one * 2 - 10)
    assert result.removed_files == 3
    assert result.remaining_bytes <= total - one * 2 - 10
    remaining = {key for key in keys if cache.get(key, "grid") is not None}
    assert remaining == set(keys[3:])


def test_get_refreshes_the_access_time_for_prune(tmp_path: Path) -> None:
    cache = ThumbnailCache(tmp_path / "thumbs")
    path = cache.store(FP, "grid", images.marker_image())
    old = time.time() - 7 * 86400
    os.utime(path, (old, old))
    cache.get(FP, "grid")
    assert path.stat().st_atime > old + 86400


_READ_CACHED = """
import sys
from artimuse_desktop.imaging.thumbnails import ThumbnailCache
assert ThumbnailCache(sys.argv[1]).get(sys.argv[2], "grid") is not None
"""


def test_reading_a_cached_thumbnail_imports_no_pillow(tmp_path: Path) -> None:
    """The window's first screen reads cached thumbnails on a worker: importing Pillow there, while the GUI
    thread paints, kept the GUI thread waiting for the GIL."""
    cache = ThumbnailCache(tmp_path / "cache")
    cache.store("abcdef0123456789", "grid", Image.new("RGB", (640, 480), (40, 90, 160)))
    modules = loaded_after(_READ_CACHED, str(tmp_path / "cache"), "abcdef0123456789")
    assert not {name for name in modules if name == "PIL" or name.startswith("PIL.")}
