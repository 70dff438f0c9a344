"""Duplicates across the library: exact copies by content, near copies by perceptual hash, keep rules, one undo.

The end-to-end tests index real photographs written to disk (``duplicate_library``) with the real indexer, so
fingerprints and hashes are the ones a user's catalog holds. The arrays underneath (the hash-pair index, the
plain reads, the grouping) are checked on random data in ``test_duplicate_arrays``.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import select, update

from artimuse_desktop.catalog.collections import ViewQuery, collection_filter, run_stats, run_view_query
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.filters import PhotoFilter, SortSpec
from artimuse_desktop.catalog.models import STATUS_MISSING, Photo
from artimuse_desktop.culling import decisions
from artimuse_desktop.culling.bursts import DEFAULT_MAX_DISTANCE
from artimuse_desktop.culling.duplicates import (
    EXACT,
    NEAR,
    Item,
    duplicate_ids,
    find_duplicates,
    group_items,
    keep_best_reject_rest,
)
from artimuse_desktop.library.indexer import index_roots
from artimuse_desktop.vocabulary import FLAG_PICK, FLAG_REJECT
from tests.culling.duplicate_library import Library, write_library
from tests.factory import add_assessment, insert_photos, photo_row


@pytest.fixture
def library(tmp_path: Path, catalog: Catalog) -> Library:
    written = write_library(tmp_path / "photos")
    index_roots(catalog, [written.root], thumbnails=False)
    return written


def ids_by_path(catalog: Catalog) -> dict[Path, int]:
    with catalog.read() as session:
        return {Path(path): pid for pid, path in session.execute(select(Photo.id, Photo.path))}


def flags(catalog: Catalog) -> dict[int, int]:
    with catalog.read() as session:
        return dict(session.execute(select(Photo.id, Photo.flag)).all())


# --------------------------------------------------------------------------------------------- real photos


def test_copies_re_encodes_exports_and_raw_jpeg_group_a_crop_does_not(catalog: Catalog, library: Library) -> None:
    ids = ids_by_path(catalog)
    report = find_duplicates(catalog)
    groups = {frozenset(g.photo_ids): g for g in report.groups}
    coffee = frozenset(ids[p] for p in library.coffee_group)
    cat = frozenset({ids[library.cat_jpeg], ids[library.cat_raw]})
    assert set(groups) == {coffee, cat}  # the crop and the other photos are in no group
    assert ids[library.crop] not in report.member_ids

    kept = groups[coffee]
    assert kept.kind == NEAR and kept.best_id == ids[library.original]
    assert kept.reason == "kept: the camera's original, not a copy"
    assert kept.distance_of(ids[library.byte_copy]) == 0
    assert kept.same_content[kept.photo_ids.index(ids[library.byte_copy])]  # the byte copy is an exact one
    assert not kept.same_content[kept.photo_ids.index(ids[library.web_export])]
    assert all(bits is not None and bits <= DEFAULT_MAX_DISTANCE for bits in kept.distances)

    raw = groups[cat]
    assert raw.best_id == ids[library.cat_raw] and raw.reason == "kept: the RAW of the RAW+JPEG pair"
    assert report.photos == len(ids) and report.without_hash == 0


def test_exact_only_finds_the_byte_copy_alone(catalog: Catalog, library: Library) -> None:
    ids = ids_by_path(catalog)
    report = find_duplicates(catalog, exact_only=True)
    assert [(set(g.photo_ids), g.kind) for g in report.groups] == [
        ({ids[library.original], ids[library.byte_copy]}, EXACT)
    ]
    assert report.groups[0].best_id == ids[library.original]


def test_a_smaller_distance_drops_the_raw_pair_and_a_larger_one_takes_the_crop(
    catalog: Catalog, library: Library
) -> None:
    ids = ids_by_path(catalog)
    tight = find_duplicates(catalog, max_distance=0)
    assert ids[library.cat_raw] not in tight.member_ids  # the DNG's demosaiced pixels hash 4 bits away
    assert ids[library.web_export] in tight.member_ids  # resizing keeps the hash
    loose = find_duplicates(catalog, max_distance=30)
    assert ids[library.crop] in loose.member_ids


def test_keep_best_rejects_the_rest_in_one_undoable_step(catalog: Catalog, library: Library) -> None:
    ids = ids_by_path(catalog)
    with catalog.write() as session:  # a pick that is a copy: keep best still rejects it, undo gives it back
        session.execute(update(Photo).where(Photo.id == ids[library.low_quality]).values(flag=FLAG_PICK))
    before = flags(catalog)
    report = find_duplicates(catalog)
    change = keep_best_reject_rest(catalog, report.groups)
    assert change is not None and set(change.photo_ids) == set(report.rest_ids)
    after = flags(catalog)
    assert all(after[pid] == FLAG_REJECT for pid in report.rest_ids)
    kept = {g.best_id for g in report.groups}
    assert all(after[pid] == before[pid] for pid in after if pid not in report.rest_ids)  # kept ones untouched
    assert kept.isdisjoint(report.rest_ids)
    assert keep_best_reject_rest(catalog, report.groups) is None  # nothing left to change
    decisions.undo(catalog)
    assert flags(catalog) == before  # ONE undo restores every flag, the pick too


def test_the_score_and_rating_decide_between_equal_files(catalog: Catalog, tmp_path: Path) -> None:
    rows = [photo_row(tmp_path / name, phash="a5a5a5a5a5a5a5a5", width=600, height=400) for name in "abc"]
    a, b, c = insert_photos(catalog, [{**row, "filename": f"IMG_{i}.jpg"} for i, row in enumerate(rows)])
    add_assessment(catalog, a, "technical", 40.0)
    add_assessment(catalog, b, "technical", 90.0)
    group = find_duplicates(catalog).groups[0]
    assert group.best_id == b and group.reason == "kept: best score 90"
    with catalog.write() as session:
        session.execute(update(Photo).where(Photo.id == c).values(rating=4))
    group = find_duplicates(catalog).groups[0]
    assert group.photo_ids[0] == c and group.reason == "kept: rated 4★"


# --------------------------------------------------------------------------------------------- bad input


def test_malformed_missing_and_absent_hashes_never_group_and_never_crash(catalog: Catalog, tmp_path: Path) -> None:
    bad = [
        "zzzzzzzzzzzzzzzz",
        "abc",
        "",
        None,
        "0123456789abcdef0",
        "-123456789abcdef",
        "+23456789abcdef0",
        "12_4567890abcdef",
    ]
    rows = [photo_row(tmp_path / f"bad{i}.jpg", phash=value) for i, value in enumerate(bad)]
    rows += [  # a missing file and a broken one never group, even with equal hashes and contents
        photo_row(tmp_path / "gone.jpg", phash="ffff0000ffff0000", fingerprint="same", status=STATUS_MISSING),
        photo_row(tmp_path / "here.jpg", phash="ffff0000ffff0000", fingerprint="same"),
    ]
    insert_photos(catalog, rows)
    report = find_duplicates(catalog)
    assert report.groups == ()
    assert report.photos == len(bad) + 1 and report.without_hash == len(bad)


def test_group_items_rejects_a_distance_outside_the_hash() -> None:
    with pytest.raises(ValueError, match="between 0 and 32"):
        group_items([], max_distance=40)
    with pytest.raises(ValueError):
        group_items([], max_distance=-1)


def test_a_thousand_copies_of_one_frame_make_one_group_quickly() -> None:
    items = [Item(i, f"print{i}", "8000000000000000") for i in range(1000)]
    items += [Item(2000 + i, None, f"{random.Random(i).getrandbits(64):016x}") for i in range(50)]
    groups = group_items(items)
    assert [len(ids) for ids, _kind in groups] == [1000]


def test_a_drifting_series_is_cut_into_stars_not_chained_into_one_group() -> None:
    """Ten frames, each 4 bits from the one before (40 bits end to end): a chain would be one group and keep
    best would reject nine different pictures; every group must stay within the distance of one member."""
    value, chain = 0, []
    for step in range(10):
        chain.append(value)
        value ^= 0xF << (4 * step)
    items = [Item(i, None, f"{h:016x}") for i, h in enumerate(chain)]
    groups = group_items(items, max_distance=10)
    assert len(groups) > 1
    for ids, _kind in groups:
        members = [chain[i] for i in ids]
        assert any(all((m ^ centre).bit_count() <= 10 for m in members) for centre in members)


# --------------------------------------------------------------------------------------------- the collection


def test_the_duplicates_collection_shows_every_member_and_counts_them(catalog: Catalog, library: Library) -> None:
    members = duplicate_ids(catalog)
    report = find_duplicates(catalog)
    assert sorted(members) == sorted(report.member_ids) and len(members) == 7
    with catalog.read() as session:
        assert collection_filter(session, "duplicates", None, (), members) == PhotoFilter(ids=list(members))
    query = ViewQuery("duplicates", None, PhotoFilter(), SortSpec("filename"), False, duplicate_ids=members)
    assert sorted(run_view_query(catalog, query).ids) == sorted(members)
    assert run_stats(catalog, (), members).counts["duplicates"] == 7
    assert run_view_query(catalog, ViewQuery("duplicates", None, PhotoFilter(), SortSpec(), False)).ids == []
