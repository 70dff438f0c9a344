"""Indexing reads the ratings and labels other applications left in XMP sidecars."""

from __future__ import annotations

from pathlib import Path

from artimuse_desktop.catalog import Catalog, queries
from artimuse_desktop.catalog.filters import SortSpec
from artimuse_desktop.culling.decisions import set_decision
from artimuse_desktop.library.indexer import index_roots
from tests.images import write_jpeg

LIGHTROOM = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="{rating}" xmp:Label="Green"/>
</rdf:RDF></x:xmpmeta>"""


def test_sidecar_decisions_are_imported_without_overriding_ours(catalog: Catalog, tmp_path: Path) -> None:
    library = tmp_path / "shoot"
    write_jpeg(library / "IMG_0001.jpg", 320, 240, seed=1)
    write_jpeg(library / "IMG_0002.jpg", 320, 240, seed=2)
    (library / "IMG_0001.xmp").write_text(LIGHTROOM.format(rating=4))
    (library / "IMG_0002.xmp").write_text("<x:xmpmeta this is not xml")
    before = (library / "IMG_0002.xmp").read_bytes()

    summary = index_roots(catalog, [library], thumbnails=False)
    assert summary.new == 2 and summary.sidecar_decisions == 1
    assert [Path(p).name for p, _ in summary.sidecar_problems] == ["IMG_0002.xmp"]
    assert (library / "IMG_0002.xmp").read_bytes() == before
    with catalog.read() as session:
        first, second = queries.query_photos(session, sort=SortSpec("filename"))
    assert (first.rating, first.color_label) == (4, "green")
    assert (second.rating, second.color_label) == (0, None)

    # Our own decision wins over a sidecar changed later.
    set_decision(catalog, [first.id], "rating", 2)
    (library / "IMG_0001.xmp").write_text(LIGHTROOM.format(rating=5))
    (library / "IMG_0001.jpg").touch()
    index_roots(catalog, [library], thumbnails=False)
    with catalog.read() as session:
        record = queries.get_photo(session, first.id)
    assert record is not None and record.rating == 2


def test_indexing_keeps_the_thumbnail_cache_within_its_budget(catalog: Catalog, tmp_path: Path) -> None:
    from artimuse_desktop.imaging.thumbnails import ThumbnailCache
    from artimuse_desktop.library.previews import make_previews

    library = tmp_path / "shoot"
    for seed in range(6):
        write_jpeg(library / f"IMG_{seed:04d}.jpg", 1800, 1200, seed=seed)
    budget = 40_000  # bytes: a few grid thumbnails, no room for previews
    cache = ThumbnailCache(tmp_path / "cache", max_bytes=budget)
    index_roots(catalog, [library], cache=cache)
    files = [p for p in (tmp_path / "cache").rglob("*.jpg")]
    assert files and sum(p.stat().st_size for p in files) <= budget
    summary = make_previews(catalog, cache)
    assert summary.made == 6 and summary.pruned is not None
    assert sum(p.stat().st_size for p in (tmp_path / "cache").rglob("*.jpg")) <= budget
