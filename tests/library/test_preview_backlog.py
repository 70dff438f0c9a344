"""The previews after ``index`` look only at what changed, unless a root may lack some (``preview_backlog``)."""

from __future__ import annotations

from pathlib import Path

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.imaging.thumbnails import ThumbnailCache
from artimuse_desktop.library.indexer import index_roots
from artimuse_desktop.library.preview_backlog import note_backlog, pending_backlog, settle_backlog
from artimuse_desktop.library.previews import make_previews, previews_after_index
from tests.library import imagefactory as images


def _photos(folder: Path, count: int, first: int = 0) -> None:
    for seed in range(first, first + count):
        images.save(images.photo_like(400, 300, seed=seed), folder / f"p{seed}.jpg", exif=images.make_exif())


def _index(catalog: Catalog, cache: ThumbnailCache, path: Path, *, previews: bool = True, full: bool = False):
    summary = index_roots(catalog, [path], cache=cache, previews=previews)
    if not previews:
        return summary, None
    return summary, previews_after_index(catalog, summary, [str(path)], full=full, cache=cache)


def _preview_files(cache: ThumbnailCache) -> int:
    return len(list((cache.root / "preview").rglob("*.jpg")))


def test_a_default_index_looks_up_only_what_it_touched(catalog: Catalog, cache: ThumbnailCache, library: Path):
    _photos(library, 3)
    summary, previews = _index(catalog, cache, library)
    assert summary.previews == 3 and previews is not None and (previews.made, previews.existing) == (3, 0)
    assert pending_backlog(catalog) == {}

    _photos(library, 1, first=3)
    summary, previews = _index(catalog, cache, library)
    assert summary.new == 1 and previews is not None and (previews.made, previews.existing) == (1, 0)

    summary, previews = _index(catalog, cache, library)  # nothing changed: no preview looked up at all
    assert summary.unchanged == 4 and previews is not None and (previews.made, previews.existing) == (0, 0)
    summary, previews = _index(catalog, cache, library, full=True)
    assert previews is not None and (previews.made, previews.existing) == (0, 4)
    assert _preview_files(cache) == 4


def test_no_previews_leaves_a_backlog_the_next_default_index_clears(
    catalog: Catalog, cache: ThumbnailCache, library: Path
) -> None:
    _photos(library / "a", 2)
    _photos(library / "b", 2, first=2)
    summary, _ = _index(catalog, cache, library, previews=False)
    assert summary.new == 4 and _preview_files(cache) == 0
    assert set(pending_backlog(catalog)) == {summary.root_ids[str(library)]}

    # A subfolder is checked in full, but the rest of the root may still lack previews: the backlog stays.
    _, previews = _index(catalog, cache, library / "a")
    assert previews is not None and previews.made == 2 and _preview_files(cache) == 2
    assert pending_backlog(catalog)

    _, previews = _index(catalog, cache, library)
    assert previews is not None and (previews.made, previews.existing) == (2, 2)
    assert pending_backlog(catalog) == {} and _preview_files(cache) == 4
    _, previews = _index(catalog, cache, library)
    assert previews is not None and (previews.made, previews.existing) == (0, 0)


def test_a_backlog_recorded_meanwhile_is_not_settled(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    _photos(library, 1)
    summary, _ = _index(catalog, cache, library, previews=False)
    read = pending_backlog(catalog)
    root_id = summary.root_ids[str(library)]
    note_backlog(catalog, [root_id])  # another process, after this one read the backlog
    settle_backlog(catalog, read)
    assert set(pending_backlog(catalog)) == {root_id}
    settle_backlog(catalog, pending_backlog(catalog))
    assert pending_backlog(catalog) == {}


def test_previews_of_every_photo_settle_every_backlog(catalog: Catalog, cache: ThumbnailCache, library: Path) -> None:
    """What the GUI runs after its index: all photos, so no root is left with a backlog."""
    _photos(library, 2)
    index_roots(catalog, [library], cache=cache, previews=False)
    assert pending_backlog(catalog)
    summary = make_previews(catalog, cache)
    assert summary.made == 2 and pending_backlog(catalog) == {}


def test_previews_the_cache_could_not_keep_are_a_backlog(catalog: Catalog, tmp_path: Path, library: Path) -> None:
    _photos(library, 2)
    blocked = tmp_path / "thumbs"
    blocked.mkdir()
    (blocked / "preview").write_text("a file where the preview folder should be")
    cache = ThumbnailCache(blocked)
    summary = index_roots(catalog, [library], cache=cache, previews=True)
    assert summary.new == 2 and summary.previews == 0
    assert set(pending_backlog(catalog)) == {summary.root_ids[str(library)]}


def test_the_backlog_cycle_on_postgresql(postgres_url: str, cache: ThumbnailCache, library: Path) -> None:
    """The upsert, the byte-range folder query and the token check on the studio's shared catalog."""
    _photos(library / "day", 2)
    with Catalog(postgres_url) as catalog:
        summary, _ = _index(catalog, cache, library, previews=False)
        assert set(pending_backlog(catalog)) == {summary.root_ids[str(library)]}
        note_backlog(catalog, summary.root_ids.values())  # again: the upsert replaces the token
        _, previews = _index(catalog, cache, library)
        assert previews is not None and previews.made == 2 and pending_backlog(catalog) == {}
        _, previews = _index(catalog, cache, library)
        assert previews is not None and (previews.made, previews.existing) == (0, 0)
