"""Indexing reads the ratings and labels other apps wrote inside the files: XMP packets and the EXIF Rating.

Every file here is written by a real library (Pillow, pillow-heif, the app's own ``embed_xmp``, exiftool where
installed) and read back through the real indexer into a real catalog.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin, features

from artimuse_desktop import cli
from artimuse_desktop.catalog import Catalog, queries
from artimuse_desktop.catalog.filters import SortSpec
from artimuse_desktop.culling.decisions import set_decision
from artimuse_desktop.export.embed_xmp import embed_xmp, xmp_packet
from artimuse_desktop.library.indexer import index_roots
from artimuse_desktop.library.sidecar_import import import_sidecar_decisions
from tests.factory import write_jpeg
from tests.library import imagefactory as images

NS = (
    'xmlns:x="adobe:ns:meta/" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:digiKam="http://www.digikam.org/ns/1.0/" '
    'xmlns:photomechanic="http://ns.camerabits.com/photomechanic/1.0/"'
)


def packet(attributes: str) -> bytes:
    """An XMP packet as digiKam and Photo Mechanic embed it: the xpacket wrapper, one rdf:Description."""
    document = f'<x:xmpmeta {NS}><rdf:RDF><rdf:Description rdf:about="" {attributes}/></rdf:RDF></x:xmpmeta>'
    return xmp_packet(document.encode())


DIGIKAM_5_GREEN = packet('xmp:Rating="5" digiKam:ColorLabel="4"')
SIDECAR_2_RED = (
    f'<x:xmpmeta {NS}><rdf:RDF><rdf:Description rdf:about="" xmp:Rating="{{rating}}" xmp:Label="Red"/>'
    "</rdf:RDF></x:xmpmeta>"
)


def picture(seed: int = 0) -> Image.Image:
    return images.photo_like(160, 120, seed)


def save_with_xmp(path: Path, fmt: str, xmp: bytes, seed: int = 0) -> Path:
    """``path`` in ``fmt`` with ``xmp`` inside, written by the library that writes that format."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = picture(seed)
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8"), zip=False)
        image.save(path, "PNG", pnginfo=info)
    elif fmt == "TIFF":
        image.save(path, "TIFF", tiffinfo={700: xmp})
    elif fmt == "HEIC":
        import pillow_heif

        pillow_heif.register_heif_opener()
        image.save(path, "HEIF", xmp=xmp)
        with Image.open(path) as written:
            if not written.info.get("xmp"):
                pytest.skip(f"pillow-heif {pillow_heif.__version__} does not write XMP into HEIC")
    elif fmt == "DNG":
        images.make_dng(image, path, xmp=xmp)
    else:  # JPEG, WEBP, AVIF: Pillow writes the packet itself
        if fmt == "AVIF" and not features.check("avif"):
            pytest.skip("this Pillow was built without AVIF")
        image.save(path, fmt, xmp=xmp)
    return path


def by_name(catalog: Catalog) -> dict[str, tuple[int, int, str | None, str | None, str | None]]:
    """file name -> (rating, flag, label, rating_source, label_source)."""
    with catalog.read() as session:
        records = queries.query_photos(session, sort=SortSpec("filename"))
    return {r.filename: (r.rating, r.flag, r.color_label, r.rating_source, r.label_source) for r in records}


@pytest.mark.parametrize(
    ("fmt", "suffix"),
    [("JPEG", ".jpg"), ("PNG", ".png"), ("WEBP", ".webp"), ("TIFF", ".tif"), ("HEIC", ".heic"), ("AVIF", ".avif"),
     ("DNG", ".dng")],
)  # fmt: skip
def test_the_xmp_packet_inside_each_format_is_read_at_index(
    catalog: Catalog, tmp_path: Path, fmt: str, suffix: str
) -> None:
    path = save_with_xmp(tmp_path / "shoot" / f"IMG_0001{suffix}", fmt, DIGIKAM_5_GREEN)
    summary = index_roots(catalog, [tmp_path / "shoot"], thumbnails=False)
    assert summary.failed == 0, summary.failures
    assert summary.file_decisions == 1 and summary.embedded_problems == []
    assert by_name(catalog) == {path.name: (5, 0, "green", "file", "file")}


def test_the_apps_own_embedded_copy_and_digikam_photo_mechanic_forms(catalog: Catalog, tmp_path: Path) -> None:
    library = tmp_path / "shoot"
    original = write_jpeg(tmp_path / "original.jpg", 1)
    copy = library / "embedded.jpg"
    library.mkdir()
    shutil.copyfile(original, copy)
    embed_xmp(copy, original, packet('xmp:Rating="3" xmp:Label="Blue"'))
    save_with_xmp(library / "digikam-reject.jpg", "JPEG", packet('xmp:Rating="2" digiKam:PickLabel="1"'), 2)
    save_with_xmp(library / "photomechanic.jpg", "JPEG", packet('xmp:Rating="4" photomechanic:ColorClass="6"'), 3)
    save_with_xmp(library / "pm-orange.jpg", "JPEG", packet('xmp:Rating="1" photomechanic:ColorClass="2"'), 4)

    index_roots(catalog, [library], thumbnails=False)

    found = by_name(catalog)
    assert found["embedded.jpg"] == (3, 0, "blue", "file", "file")
    assert found["digikam-reject.jpg"] == (2, -1, None, "file", None)
    assert found["photomechanic.jpg"] == (4, 0, "purple", "file", "file")
    assert found["pm-orange.jpg"] == (1, 0, None, "file", None)  # orange is no label of ours


def test_the_exif_rating_and_rating_percent_tags(catalog: Catalog, tmp_path: Path) -> None:
    library = tmp_path / "shoot"
    library.mkdir()
    for name, tags in {"rating.jpg": {0x4746: 4}, "percent.jpg": {0x4749: 75}, "bad.jpg": {0x4746: 9}}.items():
        exif = Image.Exif()
        exif.update(tags)
        picture().save(library / name, "JPEG", exif=exif)
    # The packet's rating wins over the EXIF one; the EXIF one fills in where the packet has none.
    exif = Image.Exif()
    exif[0x4746] = 1
    picture().save(library / "both.jpg", "JPEG", exif=exif, xmp=packet('xmp:Rating="5"'))
    picture().save(library / "label-only.jpg", "JPEG", exif=exif, xmp=packet('xmp:Label="Yellow"'))

    index_roots(catalog, [library], thumbnails=False)

    found = by_name(catalog)
    assert found["rating.jpg"] == (4, 0, None, "file", None)
    assert found["percent.jpg"] == (4, 0, None, "file", None)
    assert found["bad.jpg"] == (0, 0, None, None, None)  # 9 stars: left out, as any nonsense EXIF field
    assert found["both.jpg"][0] == 5
    assert found["label-only.jpg"] == (1, 0, "yellow", "file", "file")


def test_a_sidecar_beats_the_file_and_its_zero_stars_hide_nothing(catalog: Catalog, tmp_path: Path) -> None:
    """The reported case: ``xmp write`` left ``xmp:Rating=0`` sidecars beside photos rated 5 inside the file."""
    library = tmp_path / "shoot"
    save_with_xmp(library / "IMG_0001.jpg", "JPEG", DIGIKAM_5_GREEN, 1)
    (library / "IMG_0001.xmp").write_text(SIDECAR_2_RED.format(rating=2))
    save_with_xmp(library / "IMG_0002.jpg", "JPEG", DIGIKAM_5_GREEN, 2)
    (library / "IMG_0002.xmp").write_text(SIDECAR_2_RED.format(rating=0))

    summary = index_roots(catalog, [library], thumbnails=False)

    found = by_name(catalog)
    assert found["IMG_0001.jpg"] == (2, 0, "red", "sidecar", "sidecar")
    assert found["IMG_0002.jpg"] == (5, 0, "red", "file", "sidecar")
    assert summary.sidecar_decisions == 2 and summary.file_decisions == 1


def test_a_sidecar_read_later_replaces_what_the_file_said(catalog: Catalog, tmp_path: Path) -> None:
    library = tmp_path / "shoot"
    save_with_xmp(library / "IMG_0001.jpg", "JPEG", DIGIKAM_5_GREEN)
    index_roots(catalog, [library], thumbnails=False)
    (library / "IMG_0001.xmp").write_text(SIDECAR_2_RED.format(rating=2))
    assert import_sidecar_decisions(catalog) == 1  # what `xmp read` and Photo > Read metadata run
    assert by_name(catalog)["IMG_0001.jpg"] == (2, 0, "red", "sidecar", "sidecar")


def test_a_decision_made_here_beats_both_and_survives_every_later_index(catalog: Catalog, tmp_path: Path) -> None:
    library = tmp_path / "shoot"
    photo = save_with_xmp(library / "IMG_0001.jpg", "JPEG", DIGIKAM_5_GREEN)
    index_roots(catalog, [library], thumbnails=False)
    with catalog.read() as session:
        (record,) = queries.query_photos(session)
    set_decision(catalog, [record.id], "rating", 1)
    set_decision(catalog, [record.id], "color_label", None)  # cleared here: stays cleared
    assert by_name(catalog)["IMG_0001.jpg"] == (1, 0, None, "app", "app")

    index_roots(catalog, [library], thumbnails=False)  # a plain rerun
    save_with_xmp(photo, "JPEG", packet('xmp:Rating="4" xmp:Label="Purple"'), seed=7)  # changed in digiKam
    (library / "IMG_0001.xmp").write_text(SIDECAR_2_RED.format(rating=2))
    summary = index_roots(catalog, [library], thumbnails=False)
    import_sidecar_decisions(catalog)

    assert summary.updated == 1
    assert by_name(catalog)["IMG_0001.jpg"] == (1, 0, None, "app", "app")


def test_a_file_changed_elsewhere_updates_the_values_read_from_it(catalog: Catalog, tmp_path: Path) -> None:
    library = tmp_path / "shoot"
    photo = save_with_xmp(library / "IMG_0001.jpg", "JPEG", DIGIKAM_5_GREEN)
    index_roots(catalog, [library], thumbnails=False)
    save_with_xmp(photo, "JPEG", packet('xmp:Rating="3" digiKam:ColorLabel="5"'), seed=8)
    index_roots(catalog, [library], thumbnails=False)
    assert by_name(catalog)["IMG_0001.jpg"] == (3, 0, "blue", "file", "file")


def test_the_source_of_each_decision_is_listed_and_shown(
    catalog: Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from artimuse_desktop.gui.panel_details import decision_text  # plain text, no Qt

    library = tmp_path / "shoot"
    save_with_xmp(library / "IMG_0001.jpg", "JPEG", DIGIKAM_5_GREEN)
    index_roots(catalog, [library], thumbnails=False)
    with catalog.read() as session:
        (record,) = queries.query_photos(session)
    assert decision_text(record) == "Unflagged   ·   ★★★★★ (from the file)   ·   green label (from the file)"
    set_decision(catalog, [record.id], "rating", 4)
    with catalog.read() as session:
        shown = decision_text(queries.query_photos(session)[0])
    assert shown == "Unflagged   ·   ★★★★☆   ·   green label (from the file)"
    assert cli.main(["--catalog", str(catalog.path), "list", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["rating"], row["rating_source"], row["color_label"], row["label_source"]) == (4, "app", "green", "file")


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool is not installed (libimage-exiftool-perl)")
def test_ratings_exiftool_writes_into_files(catalog: Catalog, tmp_path: Path) -> None:
    """exiftool writes the tags as digiKam (via Exiv2) and Photo Mechanic do, into JPEG, TIFF and PNG."""
    library = tmp_path / "shoot"
    library.mkdir()
    picture().save(library / "a.jpg", "JPEG")
    picture().save(library / "b.tif", "TIFF")
    picture().save(library / "c.png", "PNG")
    exe = str(shutil.which("exiftool"))
    args = {
        "a.jpg": ["-XMP-xmp:Rating=4", "-XMP-digiKam:ColorLabel=1", "-EXIF:Rating=4"],
        "b.tif": ["-XMP-xmp:Rating=3", "-XMP-photomech:ColorClass=4"],
        "c.png": ["-XMP-xmp:Rating=-1"],
    }
    for name, tags in args.items():
        subprocess.run([exe, "-q", "-overwrite_original", *tags, str(library / name)], check=True, timeout=60)

    index_roots(catalog, [library], thumbnails=False)

    found = by_name(catalog)
    assert found["a.jpg"] == (4, 0, "red", "file", "file")
    assert found["b.tif"] == (3, 0, "green", "file", "file")
    assert found["c.png"] == (0, -1, None, None, None)  # xmp:Rating -1: rejected
