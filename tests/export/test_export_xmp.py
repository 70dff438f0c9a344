"""XMP sidecars: written so exiftool (and so the apps) read them back, merged without losing foreign
fields, malformed ones left alone, and the forms Lightroom, darktable, digiKam and Capture One write read."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from artimuse_desktop.catalog import queries
from artimuse_desktop.culling.decisions import set_decision
from artimuse_desktop.export.xmp import (
    SidecarData,
    SidecarError,
    import_sidecar_decisions,
    read_sidecar,
    sidecar_path,
    write_sidecar,
    write_sidecars,
)
from artimuse_desktop.library.sidecars import SidecarDecisions, SidecarProblem, read_artimuse_fields
from tests.export.export_helpers import Library, exiftool_json, needs_exiftool
from tests.factory import add_photo, write_jpeg

LIGHTROOM_SIDECAR = """\
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 7.0-c000 1.000000, 0000/00/00-00:00:00        ">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:tiff="http://ns.adobe.com/tiff/1.0/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"
   xmp:ModifyDate="2024-05-18T14:30:05.00"
   xmp:CreateDate="2024-05-18T14:30:05.00"
   xmp:MetadataDate="2024-05-20T09:12:44+02:00"
   xmp:Rating="3"
   xmp:Label="Green"
   tiff:Make="Canon"
   tiff:Model="Canon EOS R5"
   photoshop:DateCreated="2024-05-18T14:30:05.00"
   xmpMM:DocumentID="xmp.did:8a7b6c5d-1111-2222-3333-444455556666"
   crs:Version="15.3"
   crs:ProcessVersion="11.0"
   crs:WhiteBalance="As Shot"
   crs:Exposure2012="+0.35"
   crs:Contrast2012="+12"
   crs:Highlights2012="-45"
   crs:Shadows2012="+30"
   crs:HasSettings="True">
   <xmpMM:History>
    <rdf:Seq>
     <rdf:li
      stEvt:action="saved"
      stEvt:instanceID="xmp.iid:0d1e2f3a-aaaa-bbbb-cccc-ddddeeeeffff"
      stEvt:when="2024-05-20T09:12:44+02:00"
      stEvt:softwareAgent="Adobe Photoshop Lightroom Classic 13.3 (Macintosh)"
      stEvt:changed="/metadata"/>
    </rdf:Seq>
   </xmpMM:History>
   <dc:subject>
    <rdf:Bag>
     <rdf:li>landscape</rdf:li>
     <rdf:li>Iceland</rdf:li>
     <rdf:li>golden hour &amp; fog</rdf:li>
    </rdf:Bag>
   </dc:subject>
   <crs:ToneCurvePV2012>
    <rdf:Seq>
     <rdf:li>0, 0</rdf:li>
     <rdf:li>128, 140</rdf:li>
     <rdf:li>255, 255</rdf:li>
    </rdf:Seq>
   </crs:ToneCurvePV2012>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""

DARKTABLE_SIDECAR = """\
<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:exif="http://ns.adobe.com/exif/1.0/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:darktable="http://darktable.sf.net/"
   exif:DateTimeOriginal="2024:05:18 14:30:05.000"
   xmp:Rating="-1"
   xmpMM:DerivedFrom="IMG_0001.CR2"
   darktable:import_timestamp="63851234567000000"
   darktable:change_timestamp="63851234599000000"
   darktable:xmp_version="5"
   darktable:raw_params="0"
   darktable:auto_presets_applied="1"
   darktable:history_end="1"
   darktable:iop_order_version="4">
   <darktable:colorlabels>
    <rdf:Seq>
     <rdf:li>1</rdf:li>
     <rdf:li>3</rdf:li>
    </rdf:Seq>
   </darktable:colorlabels>
   <darktable:history>
    <rdf:Seq>
     <rdf:li
      darktable:num="0"
      darktable:operation="exposure"
      darktable:enabled="1"
      darktable:modversion="6"
      darktable:params="0000000000000000cdcc4c3e0000000000000000"
      darktable:multi_name=""
      darktable:multi_priority="0"
      darktable:blendop_version="13"
      darktable:blendop_params="gz08eJxjYIAACQYYOOHEgAZY0QVwggZ7CB6pfOygYtaHcmA="/>
    </rdf:Seq>
   </darktable:history>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""

DIGIKAM_SIDECAR = """\
<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:digiKam="http://www.digikam.org/ns/1.0/"
    xmlns:MicrosoftPhoto="http://ns.microsoft.com/photo/1.0/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
   xmp:Rating="4"
   digiKam:ColorLabel="5"
   digiKam:PickLabel="3"
   MicrosoftPhoto:Rating="75">
   <digiKam:TagsList>
    <rdf:Seq>
     <rdf:li>Places/Iceland</rdf:li>
    </rdf:Seq>
   </digiKam:TagsList>
   <lr:hierarchicalSubject>
    <rdf:Bag>
     <rdf:li>Places|Iceland</rdf:li>
    </rdf:Bag>
   </lr:hierarchicalSubject>
   <dc:subject>
    <rdf:Bag>
     <rdf:li>Iceland</rdf:li>
    </rdf:Bag>
   </dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""

CAPTURE_ONE_SIDECAR = """\
<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Adobe XMP Core 5.6-c148 79.164036, 2019/08/13-01:06:57        ">
   <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
      <rdf:Description rdf:about=""
            xmlns:xmp="http://ns.adobe.com/xap/1.0/"
            xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/">
         <xmp:CreatorTool>Capture One 23 Macintosh</xmp:CreatorTool>
         <xmp:Rating>2</xmp:Rating>
         <xmp:Label>Purple</xmp:Label>
         <photoshop:Urgency>0</photoshop:Urgency>
      </rdf:Description>
   </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>
"""

EXIFTOOL_SIDECAR = """\
<?xpacket begin='\ufeff' id='W5M0MpCehiHzreSzNTczkc9d'?>
<x:xmpmeta xmlns:x='adobe:ns:meta/' x:xmptk='Image::ExifTool 12.57'>
<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>
 <rdf:Description rdf:about=''
  xmlns:dc='http://purl.org/dc/elements/1.1/'>
  <dc:title><rdf:Alt><rdf:li xml:lang='x-default'>Geysir</rdf:li></rdf:Alt></dc:title>
 </rdf:Description>
 <rdf:Description rdf:about=''
  xmlns:xmp='http://ns.adobe.com/xap/1.0/'>
  <xmp:Rating>1</xmp:Rating>
 </rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end='w'?>
"""

FULL_DATA = SidecarData(
    rating=4,
    flag=1,
    label="red",
    score=87.25,
    model="artimuse",
    model_version="2025.1",
    attributes={"Composition & Design": 72.5, "Technical Execution": 81.0, "Overall Gestalt": 64.25},
)
OWNED_TAGS = {"XMP-xmp:Rating", "XMP-xmp:Label", "XMP-xmp:MetadataDate", "XMP-darktable:Colorlabels"}


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    return write_jpeg(tmp_path / "shoot" / "IMG_0001.JPG", 3)


def foreign(tags: dict[str, object]) -> dict[str, object]:
    return {
        k: v
        for k, v in tags.items()
        if k not in OWNED_TAGS
        and not k.startswith("XMP-artimuse:")
        and not k.startswith("System:")
        and k not in ("SourceFile", "ExifTool:ExifToolVersion")
    }


# ---------------------------------------------------------------------------------------------- writing


@needs_exiftool
@pytest.mark.parametrize("style", ["lightroom", "darktable"])
def test_exiftool_reads_back_what_we_write(photo: Path, style: str) -> None:
    original = photo.read_bytes()
    path = write_sidecar(photo, FULL_DATA, style)
    assert path.name == ("IMG_0001.xmp" if style == "lightroom" else "IMG_0001.JPG.xmp")
    assert photo.read_bytes() == original  # the JPEG itself is never touched
    tags = exiftool_json(path, "-XMP:all")
    assert tags["XMP-xmp:Rating"] == 4
    assert tags["XMP-xmp:Label"] == "Red"
    assert tags["XMP-artimuse:Score"] == 87.25
    assert tags["XMP-artimuse:Model"] == "artimuse"
    assert str(tags["XMP-artimuse:ModelVersion"]) == "2025.1"
    assert tags["XMP-artimuse:Flag"] == "pick"
    assert tags["XMP-artimuse:Rating"] == 4
    assert tags["XMP-artimuse:CompositionDesign"] == 72.5
    assert tags["XMP-artimuse:TechnicalExecution"] == 81
    assert tags["XMP-artimuse:OverallGestalt"] == 64.25
    assert "XMP-artimuse:ThemeCommunication" not in tags  # absent stays absent
    if style == "darktable":
        assert tags["XMP-darktable:Colorlabels"] == 0
    else:
        assert "XMP-darktable:Colorlabels" not in tags
    # Our namespace is readable by tag name through the shipped config.
    named = exiftool_json(path, "-XMP-artimuse:Score", "-XMP-artimuse:CompositionDesign")
    assert (named["XMP-artimuse:Score"], named["XMP-artimuse:CompositionDesign"]) == (87.25, 72.5)


@needs_exiftool
def test_reject_is_rating_minus_one_and_keeps_the_stars(photo: Path) -> None:
    path = write_sidecar(photo, SidecarData(rating=3, flag=-1, label=None), "lightroom")
    tags = exiftool_json(path, "-XMP:all")
    assert tags["XMP-xmp:Rating"] == -1 and tags["XMP-artimuse:Rating"] == 3 and tags["XMP-artimuse:Flag"] == "reject"
    assert "XMP-xmp:Label" not in tags
    assert read_sidecar(path) == SidecarDecisions(rating=3, flag=-1, label=None)


@needs_exiftool
def test_merge_keeps_every_foreign_field(photo: Path) -> None:
    path = photo.with_suffix(".xmp")
    path.write_text(LIGHTROOM_SIDECAR, encoding="utf-8")
    before = exiftool_json(path, "-XMP:all")
    assert before["XMP-crs:Exposure2012"] == "+0.35" and before["XMP-dc:Subject"][2] == "golden hour & fog"
    write_sidecar(photo, FULL_DATA, "lightroom")
    after = exiftool_json(path, "-XMP:all")
    assert foreign(after) == foreign(before)
    assert after["XMP-crs:ToneCurvePV2012"] == ["0, 0", "128, 140", "255, 255"]
    assert after["XMP-xmpMM:HistorySoftwareAgent"] == "Adobe Photoshop Lightroom Classic 13.3 (Macintosh)"
    assert after["XMP-xmp:Rating"] == 4 and after["XMP-xmp:Label"] == "Red"
    assert after["XMP-xmp:MetadataDate"] != before["XMP-xmp:MetadataDate"]
    assert after["XMP-artimuse:Score"] == 87.25
    text = path.read_text(encoding="utf-8")
    assert text.count("xmp:Rating=") == 1 and 'xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/"' in text
    assert 'x:xmptk="Adobe XMP Core 7.0-c000' in text  # the toolkit line of the app that made it stays


@needs_exiftool
def test_merge_into_darktable_sidecar_updates_its_labels_and_keeps_history(tmp_path: Path) -> None:
    raw = tmp_path / "IMG_0001.CR2"
    raw.write_bytes(b"raw")
    path = tmp_path / "IMG_0001.CR2.xmp"
    path.write_text(DARKTABLE_SIDECAR, encoding="utf-8")
    before = exiftool_json(path, "-XMP:all")
    write_sidecar(raw, SidecarData(rating=2, flag=0, label="green", score=55.0, model="technical"), "darktable")
    after = exiftool_json(path, "-XMP:all")
    assert foreign(after) == foreign(before)
    assert after["XMP-darktable:HistoryOperation"] == "exposure"
    assert after["XMP-xmp:Rating"] == 2 and after["XMP-darktable:Colorlabels"] == 2
    assert read_sidecar(path) == SidecarDecisions(rating=2, flag=0, label="green")
    assert path.read_text(encoding="utf-8").startswith('<?xml version="1.0" encoding="UTF-8"?>')


@needs_exiftool
def test_merge_into_multi_description_sidecar_and_prefix_clash(tmp_path: Path, photo: Path) -> None:
    path = photo.with_suffix(".xmp")
    clash = EXIFTOOL_SIDECAR.replace(
        "xmlns:dc='http://purl.org/dc/elements/1.1/'",
        "xmlns:dc='http://purl.org/dc/elements/1.1/' xmlns:artimuse='urn:someone-else' artimuse:Score='keep me'",
    )
    path.write_text(clash, encoding="utf-8")
    write_sidecar(photo, FULL_DATA, "lightroom")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<?xpacket begin=") and text.rstrip().endswith("<?xpacket end='w'?>")
    assert "<xmp:Rating>" not in text  # the element form was replaced, not duplicated
    assert "artimuse:Score='keep me'" in text or 'artimuse:Score="keep me"' in text
    tags = exiftool_json(path, "-XMP:all")
    assert tags["XMP-dc:Title"] == "Geysir"
    assert tags["XMP-xmp:Rating"] == 4
    assert read_artimuse_fields(path)["Score"] == "87.25"


def test_rewriting_is_idempotent_and_clears_what_went_away(photo: Path) -> None:
    path = write_sidecar(photo, FULL_DATA, "darktable")
    write_sidecar(photo, FULL_DATA, "darktable")
    text = path.read_text(encoding="utf-8")
    assert text.count("xmp:Rating=") == 1 and text.count("darktable:colorlabels>") == 2
    write_sidecar(photo, SidecarData(rating=0, flag=0, label=None), "darktable")
    text = path.read_text(encoding="utf-8")
    assert "xmp:Label" not in text and "colorlabels" not in text and "artimuse:Score" not in text
    assert read_sidecar(path) == SidecarDecisions(rating=0, flag=0, label=None)
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    "content",
    [
        "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF",  # truncated
        "",  # empty
        "<html><body>not xmp</body></html>",
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
        "<!-- only a comment -->",
    ],
)
def test_malformed_sidecar_is_reported_and_left_untouched(photo: Path, content: str) -> None:
    path = photo.with_suffix(".xmp")
    path.write_text(content, encoding="utf-8")
    os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    with pytest.raises(SidecarError) as info:
        write_sidecar(photo, FULL_DATA, "lightroom")
    assert info.value.path == path and str(path) in info.value.message and info.value.reason
    assert path.read_text(encoding="utf-8") == content
    assert path.stat().st_mtime_ns == 1_000_000_000_000_000_000
    with pytest.raises(SidecarError):
        read_sidecar(path)


def test_existing_name_differing_in_case_is_reused(photo: Path) -> None:
    upper = photo.parent / "IMG_0001.XMP"
    upper.write_text(CAPTURE_ONE_SIDECAR, encoding="utf-8")
    assert sidecar_path(photo, "lightroom") == upper
    write_sidecar(photo, FULL_DATA, "lightroom")
    assert sorted(p.name for p in photo.parent.iterdir()) == ["IMG_0001.JPG", "IMG_0001.XMP"]
    assert "Capture One 23 Macintosh" in upper.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------- reading


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (LIGHTROOM_SIDECAR, SidecarDecisions(rating=3, flag=None, label="green")),
        (DARKTABLE_SIDECAR, SidecarDecisions(rating=None, flag=-1, label="yellow")),
        (DIGIKAM_SIDECAR, SidecarDecisions(rating=4, flag=1, label="blue")),
        (CAPTURE_ONE_SIDECAR, SidecarDecisions(rating=2, flag=None, label="purple")),
        (EXIFTOOL_SIDECAR, SidecarDecisions(rating=1, flag=None, label=None)),
        (
            DARKTABLE_SIDECAR.replace('xmp:Rating="-1"', 'xmp:Rating="5"').replace("<rdf:li>1</rdf:li>", ""),
            SidecarDecisions(rating=5, flag=None, label="blue"),
        ),
        (
            LIGHTROOM_SIDECAR.replace('xmp:Label="Green"', 'xmp:Label="Magenta"'),
            SidecarDecisions(3, None, "purple"),
        ),
        (
            LIGHTROOM_SIDECAR.replace('xmp:Label="Green"', 'xmp:Label="To Print"'),
            SidecarDecisions(3, None, None),
        ),
    ],
    ids=[
        "lightroom",
        "darktable",
        "digikam",
        "capture-one",
        "exiftool",
        "darktable-5",
        "magenta",
        "custom-label",
    ],
)
def test_reading_the_forms_apps_write(tmp_path: Path, content: str, expected: SidecarDecisions) -> None:
    path = tmp_path / "IMG_0001.xmp"
    path.write_text(content, encoding="utf-8")
    assert read_sidecar(path) == expected


def test_round_trip_of_our_own_flags(photo: Path) -> None:
    for data, expected in [
        (SidecarData(rating=5, flag=1, label="yellow"), SidecarDecisions(5, 1, "yellow")),
        (SidecarData(rating=2, flag=-1, label="purple"), SidecarDecisions(2, -1, "purple")),
        (SidecarData(rating=0, flag=0, label=None), SidecarDecisions(0, 0, None)),
    ]:
        assert read_sidecar(write_sidecar(photo, data, "lightroom")) == expected


# ---------------------------------------------------------------------------------------------- the catalog


def decisions(library: Library, photo_id: int) -> tuple[int, int, str | None]:
    with library.catalog.read() as session:
        record = queries.get_photo(session, photo_id)
        assert record is not None
        return record.flag, record.rating, record.color_label


def test_import_fills_only_unset_decisions(library: Library, tmp_path: Path) -> None:
    ids = library.ids
    library.path("b_good.xmp").write_text(DIGIKAM_SIDECAR, encoding="utf-8")  # b has rating 3 already
    library.path("c_mid.jpg.xmp").write_text(DARKTABLE_SIDECAR, encoding="utf-8")  # c is a pick already
    library.path("d_unscored.xmp").write_text(CAPTURE_ONE_SIDECAR, encoding="utf-8")
    library.path("e_low.xmp").write_text("<broken", encoding="utf-8")
    problems: list[SidecarProblem] = []
    changed = import_sidecar_decisions(library.catalog, problems=problems)
    assert changed == 3
    assert decisions(library, ids["b_good.jpg"]) == (1, 3, "blue")  # its own 3 stars win over digiKam's 4
    assert decisions(library, ids["c_mid.jpg"]) == (1, 0, "yellow")  # pick kept, label taken
    assert decisions(library, ids["d_unscored.jpg"]) == (0, 2, "purple")
    assert decisions(library, ids["a_best.jpg"]) == (1, 5, "red")
    # The fixture's pair sidecars are bare comments: reported too, never fatal.
    assert {p.path.name for p in problems} == {"e_low.xmp", "IMG_0001.xmp", "IMG_0001.CR2.xmp"}
    assert [p.photo_id for p in problems if p.path.name == "e_low.xmp"] == [ids["e_low.jpg"]]
    assert import_sidecar_decisions(library.catalog) == 0  # nothing left to fill


def test_import_prefers_the_photos_own_sidecar(library: Library) -> None:
    library.path("d_unscored.jpg.xmp").write_text(DIGIKAM_SIDECAR, encoding="utf-8")
    library.path("d_unscored.xmp").write_text(CAPTURE_ONE_SIDECAR, encoding="utf-8")
    assert import_sidecar_decisions(library.catalog, [library.ids["d_unscored.jpg"]]) == 1
    assert decisions(library, library.ids["d_unscored.jpg"]) == (1, 4, "blue")


def test_write_sidecars_from_the_catalog(library: Library) -> None:
    ids = library.ids
    targets = [ids["a_best.jpg"], ids["e_low.jpg"], ids["pair/IMG_0001.JPG"], ids["pair/IMG_0001.CR2"]]
    set_decision(library.catalog, [ids["pair/IMG_0001.JPG"]], "rating", 4)  # decided here, yet the RAW's name
    before = library.path("pair/IMG_0001.xmp").read_bytes()
    result = write_sidecars(library.catalog, targets, "lightroom")
    assert [p.name for p in result.written] == ["a_best.xmp", "e_low.xmp"]
    assert [(i, "IMG_0001.xmp belongs to its RAW partner") for i in [ids["pair/IMG_0001.JPG"]]] == result.skipped
    # The pair's existing sidecar is just a comment (malformed): reported and never overwritten.
    assert [(p.path.name, p.photo_id) for p in result.failed] == [("IMG_0001.xmp", ids["pair/IMG_0001.CR2"])]
    assert library.path("pair/IMG_0001.xmp").read_bytes() == before
    fields = read_artimuse_fields(library.path("a_best.xmp"))
    assert fields["Score"] == "90" and fields["Model"] == "artimuse" and fields["ModelVersion"] == "1.0"
    assert fields["CompositionDesign"] == "59"
    assert read_sidecar(library.path("a_best.xmp")) == SidecarDecisions(5, 1, "red")
    assert read_sidecar(library.path("e_low.xmp")) == SidecarDecisions(None, -1, None)  # rejected; stars not set
    dark = write_sidecars(library.catalog, [ids["pair/IMG_0001.JPG"]], "darktable")
    assert [p.name for p in dark.written] == ["IMG_0001.JPG.xmp"]


def test_sidecar_on_every_decision(library: Library) -> None:
    photo_id = library.ids["d_unscored.jpg"]
    set_decision(library.catalog, [photo_id], "color_label", "green")
    write_sidecars(library.catalog, [photo_id], "lightroom")
    set_decision(library.catalog, [photo_id], "rating", 2)
    write_sidecars(library.catalog, [photo_id], "lightroom")
    # Its flag was never set here: the sidecar says nothing about it (another app's pick or reject stays).
    assert read_sidecar(library.path("d_unscored.xmp")) == SidecarDecisions(2, None, "green")


def test_missing_photo_is_skipped(library: Library, tmp_path: Path) -> None:
    gone = add_photo(library.catalog, tmp_path / "nowhere.jpg")
    set_decision(library.catalog, [gone], "rating", 1)
    result = write_sidecars(library.catalog, [gone])
    assert result.skipped == [(gone, "the photo file is missing")] and not result.written


@needs_exiftool
def test_exiftool_config_is_shipped() -> None:
    from tests.export.export_helpers import EXIFTOOL_CONFIG

    assert EXIFTOOL_CONFIG.is_file()
    assert shutil.which("exiftool")
