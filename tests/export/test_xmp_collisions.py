"""No two photos write one sidecar: ``photo.avif``/``photo.heic``/``photo.tif``/``photo.webp`` and
``IMG_0001.JPG``/``img_0001.jpg`` get full-name sidecars, named in the summary; a RAW+JPEG pair keeps its one
shared ``photo.xmp``, which belongs to the RAW. Real files, the real indexer, exiftool reading them back."""

from __future__ import annotations

from pathlib import Path

import pytest

from artimuse_desktop import cli
from artimuse_desktop.catalog import Catalog
from artimuse_desktop.culling.decisions import set_decision, set_decisions
from artimuse_desktop.export.sidecar_names import plan_sidecar_names
from artimuse_desktop.export.xmp import write_sidecars
from artimuse_desktop.library.indexer import index_roots
from artimuse_desktop.library.sidecars import read_sidecar
from tests.export.export_helpers import exiftool_json, needs_exiftool
from tests.factory import write_jpeg
from tests.library import imagefactory as images

FOUR = {"photo.avif": ("AVIF", 1), "photo.heic": ("HEIC", 2), "photo.tif": ("TIFF", 3), "photo.webp": ("WEBP", 4)}


def _ids(catalog: Catalog) -> dict[str, int]:
    from sqlalchemy import select

    from artimuse_desktop.catalog.models import Photo

    with catalog.read() as session:
        rows = session.execute(select(Photo.id, Photo.path))
        return {f"{Path(path).parent.name}/{Path(path).name}": photo_id for photo_id, path in rows}


@pytest.fixture
def shoot(catalog: Catalog, tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """``mixed/``: four formats of one stem and a case pair; ``pair/``: a real DNG with its JPEG; all indexed,
    every photo rated here."""
    root = tmp_path / "shoot"
    for name, (fmt, _stars) in FOUR.items():
        images.save(images.photo_like(120, 80, seed=len(name)), root / "mixed" / name, fmt)
    write_jpeg(root / "mixed" / "IMG_0001.JPG", 1)
    write_jpeg(root / "mixed" / "img_0001.jpg", 2)
    write_jpeg(root / "mixed" / "alone.jpg", 3)
    images.make_dng(images.marker_image(), root / "pair" / "photo.dng")
    write_jpeg(root / "pair" / "photo.jpg", 4)
    summary = index_roots(catalog, [root], thumbnails=False, workers=1)
    assert summary.failed == 0, summary.failures
    ids = _ids(catalog)
    wanted = {ids[f"mixed/{name}"]: stars for name, (_fmt, stars) in FOUR.items()}
    wanted |= {ids["mixed/IMG_0001.JPG"]: 2, ids["mixed/img_0001.jpg"]: 5, ids["mixed/alone.jpg"]: 1}
    wanted |= {ids["pair/photo.dng"]: 4, ids["pair/photo.jpg"]: 3}
    set_decisions(catalog, "rating", wanted)
    return root, ids


def xmp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.suffix.lower() == ".xmp")


@needs_exiftool
def test_four_formats_and_a_case_pair_get_one_sidecar_each(
    catalog: Catalog, shoot: tuple[Path, dict[str, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ids = shoot
    capsys.readouterr()
    assert cli.main(["--catalog", str(catalog.path), "xmp", "write"]) == 0
    out = capsys.readouterr().out
    mixed = root / "mixed"
    assert xmp_files(mixed) == sorted(
        [*(f"{name}.xmp" for name in FOUR), "IMG_0001.JPG.xmp", "img_0001.jpg.xmp", "alone.xmp"]
    )
    for name, (_fmt, stars) in FOUR.items():
        assert exiftool_json(mixed / f"{name}.xmp", "-XMP:Rating")["XMP-xmp:Rating"] == stars, name
    assert exiftool_json(mixed / "IMG_0001.JPG.xmp", "-XMP:Rating")["XMP-xmp:Rating"] == 2
    assert exiftool_json(mixed / "img_0001.jpg.xmp", "-XMP:Rating")["XMP-xmp:Rating"] == 5
    # The pair shares the RAW's photo.xmp; its JPEG writes none.
    assert xmp_files(root / "pair") == ["photo.xmp"]
    assert exiftool_json(root / "pair" / "photo.xmp", "-XMP:Rating")["XMP-xmp:Rating"] == 4
    assert "XMP: wrote 8 sidecars (lightroom style); 0 failed, 1 skipped." in out
    assert "6 sidecars carry the whole file name (photo.heic.xmp), because their photos would share one:" in out
    for name in [*FOUR, "IMG_0001.JPG", "img_0001.jpg"]:
        assert out.count(f"{mixed / name}.xmp (") == 1, name
    assert f"{mixed / 'photo.avif'}.xmp (photo.avif, photo.heic, photo.tif and photo.webp would share photo.xmp)" in out
    assert f"{mixed / 'img_0001.jpg'}.xmp (IMG_0001.JPG and img_0001.jpg would share img_0001.xmp)" in out
    assert "1 photo whose sidecar belongs to its RAW partner" in out
    assert "alone" not in out  # a photo with a name of its own is not listed


def test_names_do_not_depend_on_the_selection(catalog: Catalog, shoot: tuple[Path, dict[str, int]]) -> None:
    root, ids = shoot
    result = write_sidecars(catalog, [ids["mixed/photo.heic"]])
    assert result.written == [root / "mixed" / "photo.heic.xmp"]
    assert xmp_files(root / "mixed") == ["photo.heic.xmp"]  # never photo.xmp, though it alone was written
    assert read_sidecar(root / "mixed" / "photo.heic.xmp").rating == 2


def test_dry_run_lists_the_planned_names(
    catalog: Catalog, shoot: tuple[Path, dict[str, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ids = shoot
    capsys.readouterr()
    assert cli.main(["--catalog", str(catalog.path), "xmp", "write", "--dry-run"]) == 0
    listed = set(capsys.readouterr().out.splitlines())
    assert str(root / "mixed" / "photo.tif.xmp") in listed and str(root / "pair" / "photo.xmp") in listed
    assert xmp_files(root / "mixed") == [] and xmp_files(root / "pair") == []


def test_darktable_style_never_reuses_another_photos_sidecar(
    catalog: Catalog, shoot: tuple[Path, dict[str, int]]
) -> None:
    root, ids = shoot
    result = write_sidecars(catalog, [ids["mixed/IMG_0001.JPG"], ids["mixed/img_0001.jpg"]], "darktable")
    assert sorted(p.name for p in result.written) == ["IMG_0001.JPG.xmp", "img_0001.jpg.xmp"]
    assert not result.full_names  # the darktable style always uses the full name
    assert read_sidecar(root / "mixed" / "img_0001.jpg.xmp").rating == 5


def test_a_lone_photo_still_reuses_a_sidecar_differing_in_case(catalog: Catalog, tmp_path: Path) -> None:
    from tests.factory import add_photo

    photo = write_jpeg(tmp_path / "IMG_0009.JPG", 9)
    photo_id = add_photo(catalog, photo)
    upper = tmp_path / "IMG_0009.XMP"
    upper.write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about=""/></rdf:RDF></x:xmpmeta>',
        encoding="utf-8",
    )
    set_decision(catalog, [photo_id], "rating", 3)
    assert write_sidecars(catalog, [photo_id]).written == [upper]


def test_planning_rules(tmp_path: Path) -> None:
    """Without the catalog: who keeps the stem name and who moves to the full name, and why."""
    folder = tmp_path / "f"
    folder.mkdir()
    raw_and_edit = [folder / "A.CR2", folder / "A.JPG", folder / "A.tif"]
    chain = [folder / "b.jpg", folder / "b.heic", folder / "b.jpg.png"]
    two_raws = [folder / "c.CR2", folder / "c.DNG", folder / "c.jpg"]
    everyone = [*raw_and_edit, *chain, *two_raws]
    plans = plan_sidecar_names(everyone, everyone)
    names = {
        photo.name: plan.path.name if plan.path else f"-> {plan.owner and plan.owner.name}"
        for photo, plan in plans.items()
    }
    assert names == {
        "A.CR2": "A.xmp",  # the RAW keeps the name Lightroom reads
        "A.JPG": "-> A.CR2",  # its JPEG partner shares it
        "A.tif": "A.tif.xmp",  # an edit beside them gets its own
        "b.jpg": "b.jpg.xmp",
        "b.heic": "b.heic.xmp",
        "b.jpg.png": "b.jpg.png.xmp",  # b.jpg.xmp is b.jpg's now
        "c.CR2": "c.CR2.xmp",  # two RAWs: nobody owns c.xmp
        "c.DNG": "c.DNG.xmp",
        "c.jpg": "c.jpg.xmp",
    }
    assert plans[folder / "b.jpg.png"].why_full_name == "b.jpg.xmp is the sidecar of b.jpg"
    assert plans[folder / "A.tif"].why_full_name == "A.CR2, A.JPG and A.tif would share A.xmp"
