"""Keep best keeps the original: RAW, the camera's name, resolution, rating, score, path; stacks stay in a folder.

Photos are real JPEGs on disk (copies made by copying the bytes, exports by resizing with Pillow) with the
perceptual hash computed from the files, as the indexer stores it. A real RAW file is not available, so a RAW
is modelled as the indexer stores one: a ``.NEF`` row with format ``NEF`` beside its JPEG.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.models import Photo
from artimuse_desktop.culling import decisions
from artimuse_desktop.culling.bursts import (
    Burst,
    Frame,
    burst_note,
    find_bursts,
    group_frames,
    keep_best_reject_rest,
    load_frames,
)
from artimuse_desktop.culling.keep_rules import (
    Candidate,
    copy_marker,
    export_folder,
    keep_order,
    keep_reason,
    representative,
)
from tests.factory import add_assessment, insert_photos, photo_row, write_jpeg
from tests.scenes import phash

TAKEN = datetime(2024, 5, 1, 10, 0, 0)


def real_phash(path: Path) -> str:
    """The hash the indexer stores, of the file as decoded."""
    with Image.open(path) as image:
        return phash(image)


def resized(source: Path, target: Path, size: tuple[int, int]) -> Path:
    """An export: the source re-encoded smaller, as an editor's "export for web" writes it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image.convert("RGB").resize(size).save(target, "JPEG", quality=80)
    return target


def copied(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def add(catalog: Catalog, *photos: tuple[Path, dict[str, Any]]) -> list[int]:
    """Rows as the indexer writes them for these files (size, pixels, format from the file; hash computed),
    all taken at one moment by one camera; ``fields`` override any column."""
    rows = []
    for path, fields in photos:
        base: dict[str, Any] = {"captured_at": TAKEN, "camera_model": "NIKON D750"}
        if path.exists():
            base["phash"] = real_phash(path)
        base.update(fields)
        rows.append(photo_row(path, **base))
    return insert_photos(catalog, rows)


def flags(catalog: Catalog, ids: list[int]) -> list[int]:
    with catalog.read() as session:
        return [session.get(Photo, pid).flag for pid in ids]  # type: ignore[union-attr]


# --------------------------------------------------------------------------------------------- the issue


def test_the_issue_stack_keeps_the_original_and_leaves_exports_alone(catalog: Catalog, tmp_path: Path) -> None:
    original = write_jpeg(tmp_path / "shoot" / "DSC_0415.JPG", seed=4, size=(192, 128))
    copy = copied(original, tmp_path / "shoot" / "DSC_0415 copy.JPG")
    printed = copied(original, tmp_path / "Exports" / "Print" / "DSC_0415.JPG")
    web = resized(original, tmp_path / "Exports" / "Web" / "picos_1600.jpg", (96, 64))
    ids = add(catalog, (original, {}), (copy, {}), (printed, {}), (web, {}))
    for pid, score in zip(ids, (60.0, 90.0, 80.0, 70.0), strict=True):  # the copy scored highest: the old pick
        add_assessment(catalog, pid, "technical", score)

    # They all look alike and share the capture time: only the folder rule keeps the exports out.
    frames = load_frames(catalog)
    assert group_frames([Frame(f.photo_id, f.captured_at, f.phash, f.camera) for f in frames]) == [tuple(ids)]

    bursts = find_bursts(catalog)
    assert [b.photo_ids for b in bursts] == [(ids[0], ids[1])]
    burst = bursts[0]
    assert burst.best_id == ids[0] and burst.rest == (ids[1],) and burst.count == 2
    assert burst.reason == "kept: the camera's original, not a copy"
    assert burst.kept_name == "DSC_0415.JPG"

    change = keep_best_reject_rest(catalog, bursts)
    assert change is not None
    assert flags(catalog, ids) == [1, -1, 0, 0]  # the exports in other folders are not touched
    assert original.exists() and copy.exists() and printed.exists() and web.exists()

    by_member = {pid: b for b in bursts for pid in b.photo_ids}
    assert burst_note(by_member, ids[0]) == "kept: the camera's original, not a copy"
    assert burst_note(by_member, ids[1]) == (
        "stack of 2: keep best keeps DSC_0415.JPG (the camera's original, not a copy)"
    )
    assert burst_note(by_member, ids[2]) is None


def test_an_export_folder_stack_is_judged_inside_its_folder(catalog: Catalog, tmp_path: Path) -> None:
    """Two exports of one frame in Exports/Web: a stack of their own, the bigger one kept."""
    source = write_jpeg(tmp_path / "shoot" / "DSC_0500.JPG", seed=9, size=(192, 128))
    big = resized(source, tmp_path / "Exports" / "Web" / "DSC_0500.jpg", (160, 106))
    small = resized(source, tmp_path / "Exports" / "Web" / "picos_1600.jpg", (96, 64))
    ids = add(catalog, (source, {}), (small, {}), (big, {}))
    [burst] = find_bursts(catalog)
    assert burst.photo_ids == (ids[1], ids[2]) and burst.best_id == ids[2]
    assert burst.reason == "kept: the camera's name, not a copy"  # picos_1600 is a resized name


# --------------------------------------------------------------------------------------------- the rules


def test_raw_over_its_jpeg_even_when_the_jpeg_scores_and_rates_higher(catalog: Catalog, tmp_path: Path) -> None:
    jpeg = write_jpeg(tmp_path / "shoot" / "DSC_0100.JPG", seed=2, size=(192, 128))
    raw = tmp_path / "shoot" / "DSC_0100.NEF"  # as the indexer stores a NEF: format NEF, the sensor's size
    ids = add(
        catalog,
        (jpeg, {"rating": 3}),
        (raw, {"format": "NEF", "width": 192, "height": 128, "phash": real_phash(jpeg)}),
    )
    add_assessment(catalog, ids[0], "technical", 90.0)
    add_assessment(catalog, ids[1], "technical", 40.0)
    [burst] = find_bursts(catalog)
    assert burst.best_id == ids[1]
    assert burst.reason == "kept: the RAW of the RAW+JPEG pair"
    assert burst.representative_id == ids[0]  # rated 3 stars: it shows when collapsed, the RAW is still kept


def test_higher_resolution_before_rating_and_score(catalog: Catalog, tmp_path: Path) -> None:
    full = write_jpeg(tmp_path / "shoot" / "DSC_0200.JPG", seed=3, size=(192, 128))
    smaller = resized(full, tmp_path / "shoot" / "DSC_0201.JPG", (96, 64))
    ids = add(catalog, (full, {}), (smaller, {"rating": 2}))
    assert [r["width"] for r in (photo_row(full), photo_row(smaller))] == [192, 96]  # read from the files
    add_assessment(catalog, ids[0], "technical", 30.0)
    add_assessment(catalog, ids[1], "technical", 95.0)
    [burst] = find_bursts(catalog)
    assert burst.best_id == ids[0]
    assert burst.reason == "kept: highest resolution (192×128)"


def test_rating_before_score_then_score_then_path(catalog: Catalog, tmp_path: Path) -> None:
    first = write_jpeg(tmp_path / "a" / "DSC_0300.JPG", seed=5)
    ids = add(
        catalog,
        (first, {"rating": 4}),
        (copied(first, tmp_path / "a" / "DSC_0301.JPG"), {"rating": 2}),
    )
    add_assessment(catalog, ids[0], "technical", 30.0)
    add_assessment(catalog, ids[1], "technical", 95.0)
    [burst] = find_bursts(catalog)
    assert burst.best_id == ids[0] and burst.reason == "kept: rated 4★"

    second = write_jpeg(tmp_path / "b" / "DSC_0400.JPG", seed=6)
    more = add(catalog, (second, {}), (copied(second, tmp_path / "b" / "DSC_0401.JPG"), {}))
    add_assessment(catalog, more[0], "technical", 41.0, attributes={"Composition & Design": (80.0, None)})
    add_assessment(catalog, more[1], "technical", 72.4, attributes={"Composition & Design": (20.0, None)})
    by_score = {b.photo_ids: b for b in find_bursts(catalog)}[tuple(more)]
    assert by_score.best_id == more[1] and by_score.reason == "kept: best score 72"
    lowest = {b.photo_ids: b for b in find_bursts(catalog, descending=False)}[tuple(more)]
    assert lowest.best_id == more[0] and lowest.reason == "kept: lowest score 41"
    by_attr = {b.photo_ids: b for b in find_bursts(catalog, key="attr:Composition & Design")}[tuple(more)]
    assert by_attr.best_id == more[0] and by_attr.reason == "kept: best Composition & Design"

    third = write_jpeg(tmp_path / "c" / "DSC_0601.JPG", seed=7)
    unscored = add(catalog, (third, {}), (copied(third, tmp_path / "c" / "DSC_0600.JPG"), {}))
    tie = {b.photo_ids: b for b in find_bursts(catalog)}[tuple(unscored)]
    assert tie.best_id == unscored[1]  # nothing tells them apart: the path decides, not the row order
    assert tie.reason == "kept: first by file name (the frames tie on every rule)"


def test_collapsed_stack_shows_the_frame_rated_highest(catalog: Catalog, tmp_path: Path) -> None:
    full = write_jpeg(tmp_path / "shoot" / "DSC_0700.JPG", seed=8, size=(192, 128))
    ids = add(
        catalog,
        (full, {}),
        (resized(full, tmp_path / "shoot" / "DSC_0701.JPG", (96, 64)), {}),
        (resized(full, tmp_path / "shoot" / "DSC_0702.JPG", (96, 64)), {}),
    )
    add_assessment(catalog, ids[1], "technical", 80.0)
    [burst] = find_bursts(catalog)
    assert burst.best_id == burst.representative_id == ids[0]  # nobody rated: the kept frame shows
    assert set(burst.hidden) == {ids[1], ids[2]}

    decisions.set_decision(catalog, [ids[2]], "rating", 4)
    [burst] = find_bursts(catalog)
    assert burst.best_id == ids[0]  # keep best still keeps the full-size frame
    assert burst.representative_id == ids[2] and set(burst.hidden) == {ids[0], ids[1]}
    assert burst.rest == (ids[1], ids[2])  # what keep best rejects is unchanged

    # The GUI can recompute it from today's ratings without searching again; equal ratings: the keep order.
    assert burst.representative_for({ids[1]: 5}) == ids[1]
    assert burst.representative_for({ids[0]: 4, ids[2]: 4}) == ids[0]
    assert burst.representative_for({ids[1]: 4, ids[2]: 4}) == ids[1]  # 80 beats unscored among 96x64


# --------------------------------------------------------------------------------------------- pure parts


@pytest.mark.parametrize(
    ("name", "marker"),
    [
        ("DSC_0415.JPG", None),
        ("IMG_1600.JPG", None),  # a camera name that ends in a web size is still the camera's
        ("_MG_1234.CR2", None),
        ("P1010001.JPG", None),
        ("PXL_20240501_101010123.jpg", None),
        ("2024-05-01.jpg", None),
        ("sunset.jpg", None),
        ("DSC_0415 copy.JPG", "copy"),
        ("DSC_0415 copy 2.JPG", "copy"),
        ("DSC_0415 - Copy (2).jpg", "copy"),
        ("Copy of DSC_0415.jpg", "copy"),
        ("DSC_0415 (2).JPG", "numbered copy"),
        ("DSC_0415-1.jpg", "numbered copy"),
        ("IMG_1234 2.jpg", "numbered copy"),
        ("DSC_0415-Edit.jpg", "edit"),
        ("DSC_0415_edited-2.jpg", "edit"),
        ("picos_1600.jpg", "resized"),
        ("DSC_0415_2048px.jpg", "resized"),
    ],
)
def test_copy_names(name: str, marker: str | None) -> None:
    assert copy_marker(name) == marker


def test_export_folders_at_any_level_any_case() -> None:
    assert export_folder("/home/ana/Pictures/Exports/Print") == "Exports"
    assert export_folder("/home/ana/Pictures/2024/WEB") == "WEB"
    assert export_folder("C:\\Users\\ana\\Output\\x") == "Output"
    assert export_folder("/home/ana/Pictures/2024/shoot") is None
    assert Candidate(1, "/p/Edited/DSC_0001.JPG").copy
    assert not Candidate(1, "/p/shoot/DSC_0001.JPG").copy


def test_reasons_and_representative_from_plain_candidates() -> None:
    lone_raw = [Candidate(1, "/s/DSC_1.NEF", format="NEF"), Candidate(2, "/s/other.jpg", format="JPEG")]
    assert keep_reason(keep_order(lone_raw)) == "kept: RAW original"
    unknown_format = [Candidate(3, "/s/x.jpg"), Candidate(4, "/s/x.CR3")]  # no format column: by extension
    assert keep_order(unknown_format)[0].photo_id == 4
    assert keep_reason(keep_order(lone_raw[:1])) == "kept: the only frame"
    assert representative((5, 6, 7), (0, 3, 3)) == 6
    assert representative((5, 6, 7), (0, 0, 0)) == 5
    hand_made = Burst((1, 2), 2)  # built without the rules: keeps and shows best_id
    assert hand_made.representative_id == 2 and hand_made.hidden == (1,) and hand_made.rest == (1,)
    assert hand_made.representative_for({1: 3}) == 1
    assert hand_made.note_for(2) == "kept: the best frame" and hand_made.note_for(9) == ""
