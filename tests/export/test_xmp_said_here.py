"""``xmp write`` writes only what the photographer said here: sidecars for photos with a decision made in this
app or a score (every readable photo with ``--all``), never for files that failed to index, and into each only
the fields decided or scored here, so a rating set in Lightroom is never replaced by one nobody set."""

from __future__ import annotations

from pathlib import Path

import pytest

from artimuse_desktop import cli
from artimuse_desktop.catalog import Catalog, queries
from artimuse_desktop.culling.decisions import fields_decided_here, set_decision, undo
from artimuse_desktop.export.xmp import write_sidecars
from artimuse_desktop.library.indexer import index_roots
from artimuse_desktop.library.sidecars import SidecarDecisions, read_sidecar
from tests.export.export_helpers import exiftool_json, needs_exiftool
from tests.factory import add_assessment, add_photo, write_jpeg
from tests.library import imagefactory as images

LIGHTROOM_5_GREEN = """\
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000 1.000000, 0000/00/00-00:00:00        ">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
   xmp:Rating="{rating}"
   xmp:Label="Green"
   crs:Exposure2012="+0.35"/>
 </rdf:RDF>
</x:xmpmeta>
"""


def lightroom_sidecar(path: Path, rating: int = 5) -> Path:
    path.write_text(LIGHTROOM_5_GREEN.format(rating=rating), encoding="utf-8")
    return path


def _ids(catalog: Catalog) -> dict[str, int]:
    from sqlalchemy import select

    from artimuse_desktop.catalog.models import Photo

    with catalog.read() as session:
        return {Path(path).name: photo_id for photo_id, path in session.execute(select(Photo.id, Photo.path))}


@pytest.fixture
def shoot(catalog: Catalog, tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """A folder indexed by the real indexer: photos decided here, scored, untouched, imported from Lightroom,
    and four files that fail to index (empty, text named .jpg, truncated, a decompression bomb)."""
    root = tmp_path / "shoot"
    for seed, name in enumerate(["rated", "picked", "labelled", "scored", "plain", "imported"]):
        write_jpeg(root / f"{name}.jpg", seed)
    lightroom_sidecar(root / "imported.xmp")  # read by the indexer: the catalog shows 5 stars, not set here
    (root / "zero-bytes.jpg").write_bytes(b"")
    (root / "notes.jpg").write_text("this is not a photo\n" * 10)
    images.truncated_jpeg(root / "cut.jpg", size=(300, 200))
    images.save(images.photo_like(400, 300), root / "bomb.png", "PNG")
    summary = index_roots(catalog, [root], thumbnails=False, max_pixels=100_000, workers=1)
    assert summary.failed == 4, summary.failures
    ids = _ids(catalog)
    with catalog.read() as session:
        imported = queries.get_photo(session, ids["imported.jpg"])
        assert imported is not None and (imported.rating, imported.color_label) == (5, "green")
    set_decision(catalog, [ids["rated.jpg"]], "rating", 4)
    set_decision(catalog, [ids["picked.jpg"]], "flag", 1)
    set_decision(catalog, [ids["labelled.jpg"]], "color_label", "blue")
    add_assessment(catalog, ids["scored.jpg"], "technical", 62.0)
    # Even a decision on a file that failed to index writes nothing beside it.
    set_decision(catalog, [ids["bomb.png"], ids["notes.jpg"]], "flag", -1)
    return root, ids


def sidecars(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.suffix.lower() == ".xmp")


def test_imported_values_are_not_decisions_made_here(catalog: Catalog, shoot: tuple[Path, dict[str, int]]) -> None:
    _root, ids = shoot
    with catalog.read() as session:
        decided = fields_decided_here(session, list(ids.values()))
    assert decided == {
        ids["rated.jpg"]: {"rating"},
        ids["picked.jpg"]: {"flag"},
        ids["labelled.jpg"]: {"color_label"},
        ids["bomb.png"]: {"flag"},
        ids["notes.jpg"]: {"flag"},
    }  # imported.jpg shows 5 stars from its sidecar: not one of ours


def test_sidecars_only_for_photos_decided_or_scored_here(
    catalog: Catalog, shoot: tuple[Path, dict[str, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ids = shoot
    imported = (root / "imported.xmp").read_bytes()
    capsys.readouterr()
    assert cli.main(["--catalog", str(catalog.path), "xmp", "write"]) == 0
    out = capsys.readouterr().out
    assert sidecars(root) == ["imported.xmp", "labelled.xmp", "picked.xmp", "rated.xmp", "scored.xmp"]
    assert (root / "imported.xmp").read_bytes() == imported  # nothing said here: Lightroom's file untouched
    assert "XMP: wrote 4 sidecars (lightroom style); 0 failed, 6 skipped." in out
    assert "2 photos with nothing decided here and no score (--all writes them too)" in out
    assert "4 photos that failed to index" in out
    assert read_sidecar(root / "rated.xmp") == SidecarDecisions(4, None, None)
    assert read_sidecar(root / "labelled.xmp") == SidecarDecisions(None, None, "blue")
    assert read_sidecar(root / "scored.xmp") == SidecarDecisions(None, None, None)


def test_all_writes_every_readable_photo_but_never_a_failed_one(
    catalog: Catalog, shoot: tuple[Path, dict[str, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, ids = shoot
    imported = (root / "imported.xmp").read_bytes()
    capsys.readouterr()
    assert cli.main(["--catalog", str(catalog.path), "xmp", "write", "--all"]) == 0
    out = capsys.readouterr().out
    assert "wrote 5 sidecars" in out and "4 photos that failed to index" in out
    assert "1 photo whose sidecar is there already, with nothing decided here or scored to add" in out
    assert sidecars(root) == [f"{n}.xmp" for n in ["imported", "labelled", "picked", "plain", "rated", "scored"]]
    # Even with --all, nothing set elsewhere is replaced: Lightroom's file is not even touched.
    assert (root / "imported.xmp").read_bytes() == imported
    set_decision(catalog, [ids["imported.jpg"]], "flag", 1)
    write_sidecars(catalog, [ids["imported.jpg"]])
    assert read_sidecar(root / "imported.xmp") == SidecarDecisions(5, 1, "green")  # the pick joins Lightroom's
    assert read_sidecar(root / "plain.xmp") == SidecarDecisions(None, None, None)  # no invented 0 stars


@needs_exiftool
def test_lightroom_rating_survives_a_photo_we_only_scored(catalog: Catalog, tmp_path: Path) -> None:
    photo = write_jpeg(tmp_path / "shoot" / "DSC_0415.jpg", 3)
    photo_id = add_photo(catalog, photo)  # indexed before Lightroom wrote its sidecar: the catalog shows 0 stars
    add_assessment(catalog, photo_id, "technical", 71.0)
    sidecar = lightroom_sidecar(photo.with_suffix(".xmp"))
    result = write_sidecars(catalog, [photo_id])
    assert result.written == [sidecar]
    tags = exiftool_json(sidecar, "-XMP:all")
    assert tags["XMP-xmp:Rating"] == 5 and tags["XMP-xmp:Label"] == "Green"
    assert tags["XMP-crs:Exposure2012"] == "+0.35"
    assert tags["XMP-artimuse:Score"] == 71 and tags["XMP-artimuse:Model"] == "technical"
    assert "XMP-artimuse:Flag" not in tags and "XMP-artimuse:Rating" not in tags


def test_reject_here_keeps_the_stars_set_elsewhere_and_unreject_brings_them_back(
    catalog: Catalog, tmp_path: Path
) -> None:
    photo = write_jpeg(tmp_path / "IMG_0001.jpg", 1)
    photo_id = add_photo(catalog, photo)
    sidecar = lightroom_sidecar(photo.with_suffix(".xmp"))
    set_decision(catalog, [photo_id], "flag", -1)
    write_sidecars(catalog, [photo_id])
    assert read_sidecar(sidecar) == SidecarDecisions(5, -1, "green")
    assert 'xmp:Rating="-1"' in sidecar.read_text(encoding="utf-8")
    set_decision(catalog, [photo_id], "flag", 0)
    write_sidecars(catalog, [photo_id])
    assert read_sidecar(sidecar) == SidecarDecisions(5, 0, "green")
    assert 'xmp:Rating="5"' in sidecar.read_text(encoding="utf-8")


def test_stars_here_under_a_reject_set_elsewhere_keep_the_reject(catalog: Catalog, tmp_path: Path) -> None:
    photo = write_jpeg(tmp_path / "IMG_0002.jpg", 2)
    photo_id = add_photo(catalog, photo)
    sidecar = lightroom_sidecar(photo.with_suffix(".xmp"), rating=-1)
    set_decision(catalog, [photo_id], "rating", 3)
    write_sidecars(catalog, [photo_id])
    assert read_sidecar(sidecar) == SidecarDecisions(3, -1, "green")


def test_an_undone_decision_is_not_one(catalog: Catalog, tmp_path: Path) -> None:
    photo = write_jpeg(tmp_path / "IMG_0003.jpg", 3)
    photo_id = add_photo(catalog, photo)
    set_decision(catalog, [photo_id], "rating", 2)
    undo(catalog)
    result = write_sidecars(catalog, [photo_id])
    assert not result.written and not photo.with_suffix(".xmp").exists()
    # A label cleared here is a decision: it removes the label Lightroom set.
    sidecar = lightroom_sidecar(photo.with_suffix(".xmp"))
    set_decision(catalog, [photo_id], "color_label", "red")
    set_decision(catalog, [photo_id], "color_label", None)
    write_sidecars(catalog, [photo_id])
    assert read_sidecar(sidecar) == SidecarDecisions(5, None, None)


def test_a_decision_without_a_source_predates_sources_and_is_ours(catalog: Catalog, tmp_path: Path) -> None:
    photo = write_jpeg(tmp_path / "old.jpg", 4)
    photo_id = add_photo(catalog, photo, rating=3, color_label="yellow")  # a catalog from before sources
    assert write_sidecars(catalog, [photo_id]).written == [photo.with_suffix(".xmp")]
    assert read_sidecar(photo.with_suffix(".xmp")) == SidecarDecisions(3, None, "yellow")


@needs_exiftool
def test_stars_inside_the_file_are_not_shadowed_by_a_sidecar(catalog: Catalog, tmp_path: Path) -> None:
    import shutil
    import subprocess

    root = tmp_path / "digikam"
    photo = write_jpeg(root / "IMG_0415.jpg", 5)
    exe = shutil.which("exiftool")
    assert exe is not None
    subprocess.run([exe, "-q", "-overwrite_original", "-XMP-xmp:Rating=5", str(photo)], check=True)
    index_roots(catalog, [root], thumbnails=False, workers=1)
    photo_id = _ids(catalog)["IMG_0415.jpg"]
    with catalog.read() as session:
        record = queries.get_photo(session, photo_id)
        assert record is not None and (record.rating, record.rating_source) == (5, "file")
    add_assessment(catalog, photo_id, "technical", 58.0)
    set_decision(catalog, [photo_id], "flag", 1)
    assert write_sidecars(catalog, [photo_id]).written == [root / "IMG_0415.xmp"]
    tags = exiftool_json(root / "IMG_0415.xmp", "-XMP:all")
    assert "XMP-xmp:Rating" not in tags  # no 0 stars hiding the file's 5 from apps that read sidecars first
    assert tags["XMP-artimuse:Flag"] == "pick" and tags["XMP-artimuse:Score"] == 58
