"""``index_roots(previews=True)``: one decode writes the ~1600 px preview and the grid thumbnail from it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import select

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.models import Photo
from artimuse_desktop.imaging.thumbnails import ThumbnailCache
from artimuse_desktop.library.indexer import index_roots
from artimuse_desktop.library.previews import make_previews
from tests.library import imagefactory as images


def _jpeg(path: Path, seed: int, size: tuple[int, int], orientation: int = 1) -> Path:
    """Smooth colour fields and edges, like a photo's content at thumbnail scale (``photo_like``'s noise would
    make the perceptual hash mostly noise, and the comparison below meaningless)."""
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32) / max(size) * 6.0
    frame = np.stack([np.sin(x + seed), np.cos(y * 1.3 - seed), np.sin((x - y) * 0.7)], axis=-1) * 90 + 128
    frame[(x.astype(int) + y.astype(int)) % 3 == 0] -= 50
    image = Image.fromarray(np.clip(frame, 0, 255).astype(np.uint8))
    return images.save(image, path, exif=images.make_exif(orientation=orientation))  # type: ignore[arg-type]


def _rows(catalog: Catalog) -> dict[str, tuple[str, str, int, int]]:
    with catalog.read() as session:
        query = select(Photo.path, Photo.fingerprint, Photo.phash, Photo.width, Photo.height)
        return {row.path: (row.fingerprint, row.phash, row.width, row.height) for row in session.execute(query)}


def _bits_apart(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def test_one_decode_writes_preview_and_grid(catalog: Catalog, cache: ThumbnailCache, library: Path, tmp_path: Path):
    _jpeg(library / "wide.jpg", 1, (2400, 1600))
    _jpeg(library / "turned.jpg", 2, (2000, 1500), orientation=6)  # stored landscape, shown portrait
    _jpeg(library / "small.jpg", 3, (640, 480))  # smaller than a preview: kept at its own size

    summary = index_roots(catalog, [library], cache=cache, previews=True)

    assert (summary.new, summary.failed, summary.previews) == (3, 0, 3)
    rows = _rows(catalog)
    sizes = {}
    for path, (fingerprint, _phash, _w, _h) in rows.items():
        grid, preview = cache.get(fingerprint, "grid"), cache.get(fingerprint, "preview")
        assert grid is not None and preview is not None
        with Image.open(grid) as g, Image.open(preview) as p:
            sizes[Path(path).name] = (g.size, p.size)
    assert sizes["wide.jpg"] == ((320, 213), (1600, 1067))
    assert sizes["turned.jpg"] == ((240, 320), (1200, 1600))  # upright, like the grid-only decode
    assert sizes["small.jpg"] == ((320, 240), (640, 480))

    # Same rows as a grid-only index: sizes exactly, perceptual hashes within a few bits (other resampling).
    other = Catalog(tmp_path / "grid-only.sqlite")
    try:
        assert index_roots(other, [library], cache=ThumbnailCache(tmp_path / "other"), previews=False).previews == 0
        grid_only = _rows(other)
    finally:
        other.close()
    for path, (fingerprint, phash, width, height) in rows.items():
        assert grid_only[path][0] == fingerprint and grid_only[path][2:] == (width, height)
        assert _bits_apart(phash, grid_only[path][1]) <= 4, path


def test_previews_after_such_an_index_decode_nothing(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    for seed in range(2):
        _jpeg(library / f"p{seed}.jpg", seed, (1800, 1200))
    summary = index_roots(catalog, [library], cache=cache, previews=True)
    made = {path.name: path.stat().st_mtime_ns for path in (cache.root / "preview").rglob("*.jpg")}

    previews = make_previews(catalog, cache, summary.photo_ids, made_by_index=summary.previews)

    assert (previews.made, previews.existing, previews.failed) == (2, 0, 0)  # counted as made, by the index
    assert {path.name: path.stat().st_mtime_ns for path in (cache.root / "preview").rglob("*.jpg")} == made
    again = make_previews(catalog, cache, summary.photo_ids)
    assert (again.made, again.existing) == (0, 2)


def test_a_preview_already_cached_is_not_made_again(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    first = _jpeg(library / "a" / "IMG_1.jpg", 5, (1800, 1200))
    assert index_roots(catalog, [library], cache=cache, previews=True).previews == 1
    shutil.copy2(first, library / "IMG_1 copy.jpg")  # identical content: same fingerprint, same thumbnails

    summary = index_roots(catalog, [library], cache=cache, previews=True)

    assert (summary.new, summary.unchanged, summary.previews) == (1, 1, 0)


def test_previews_need_the_thumbnail_cache(catalog: Catalog, library: Path) -> None:
    _jpeg(library / "x.jpg", 7, (1800, 1200))
    summary = index_roots(catalog, [library], thumbnails=False, previews=True)
    assert (summary.new, summary.previews) == (1, 0)
