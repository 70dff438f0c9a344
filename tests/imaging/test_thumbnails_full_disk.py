"""The thumbnail cache on a real full disk (a small tmpfs): whole files or none, and the reason is said.

A thumbnail is written to a temporary file, flushed, fsynced and closed before it is renamed into place, so
running out of space never leaves a truncated JPEG under its final name; the summary names the cache folder and
says "no space left on device". A cut-short file left by an older version is treated as missing and rebuilt.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from artimuse_desktop import cli, paths
from artimuse_desktop.imaging.thumbnails import CacheFullError, ThumbnailCache
from tests.disks import small_tmpfs
from tests.library import imagefactory as images

FP = "c" + "0123456789abcdef" * 2


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder that is a 1 MiB tmpfs: room for a few thumbnails, not for a dozen previews."""
    with small_tmpfs(tmp_path / "small-disk", "1m") as folder:
        yield folder


def jpeg_files(root: Path) -> list[Path]:
    """Every cached (or temporary) JPEG; the cache's running total (``.ledger``) is no image."""
    return sorted(path for path in root.rglob("*.jpg") if path.is_file())


def assert_all_whole(root: Path) -> int:
    """Every file in the cache decodes to the end (Pillow refuses truncated JPEGs); no temporary files."""
    files = jpeg_files(root)
    for path in files:
        assert not path.name.startswith(".tmp-"), f"temporary file left behind: {path}"
        with Image.open(path) as image:
            image.load()
    return len(files)


def test_a_full_cache_keeps_no_truncated_file_and_says_why(tmp_path: Path, small_disk: Path) -> None:
    cache = ThumbnailCache(small_disk)
    stored = 0
    with pytest.raises(CacheFullError) as caught:
        for seed in range(40):
            cache.store(f"{FP[:-2]}{seed:02d}", "preview", images.photo_like(1600, 1200, seed=seed))
            stored += 1
    assert stored >= 1
    error = caught.value
    assert isinstance(error, OSError) and error.errno == errno.ENOSPC
    assert "no space left on device" in str(error) and str(small_disk) in str(error)
    assert error.hint
    assert assert_all_whole(small_disk) == stored
    failed_key = f"{FP[:-2]}{stored:02d}"
    assert cache.get(failed_key, "preview") is None


def test_index_on_a_full_cache_names_the_reason_and_serves_only_whole_previews(
    tmp_path: Path, small_disk: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ARTIMUSE_CACHE_DIR", str(small_disk))
    thumbs = paths.thumbnails_dir()
    assert thumbs.is_relative_to(small_disk)
    library = tmp_path / "photos"
    for seed in range(12):
        images.save(images.photo_like(2000, 1500, seed=seed), library / f"p{seed:02d}.jpg")
    catalog = tmp_path / "catalog.sqlite"
    assert cli.main(["--catalog", str(catalog), "index", str(library), "--workers", "2"]) == 0
    out, _ = capsys.readouterr()
    assert "new             12" in out
    assert "failed" in out and "Previews not made:" in out
    reasons = [line for line in out.splitlines() if "p0" in line or "p1" in line]
    assert reasons and all("no space left on device" in line and str(thumbs) in line for line in reasons)
    assert assert_all_whole(thumbs) > 0

    # Served thumbnails are whole: every path the cache hands out decodes, the others are rebuilt on demand.
    cache = ThumbnailCache()
    for path in jpeg_files(thumbs):
        kind, fingerprint = path.parent.parent.name, path.stem
        served = cache.get(fingerprint, kind)
        assert served == path
        with Image.open(served) as image:
            image.load()


def test_a_truncated_cached_file_counts_as_missing_and_is_rebuilt(tmp_path: Path) -> None:
    cache = ThumbnailCache(tmp_path / "thumbs")
    source = images.save(images.photo_like(800, 600), tmp_path / "a.jpg")
    path = cache.ensure(source, FP, "grid")
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])  # as a full disk under an older version left it
    assert cache.get(FP, "grid") is None
    assert not path.exists()
    rebuilt = cache.ensure(source, FP, "grid")
    assert rebuilt.read_bytes() == whole
    rebuilt.write_bytes(b"")  # empty, and then not a JPEG at all
    assert cache.ensure(source, FP, "grid").read_bytes() == whole
    rebuilt.write_bytes(b"GIF89a" + whole[6:])
    assert cache.ensure(source, FP, "grid").read_bytes() == whole
