"""Burst grouping (capture time + perceptual hash, chained), best frame by score, keep-best as one undo batch."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.models import Photo
from artimuse_desktop.culling import decisions
from artimuse_desktop.culling.bursts import (
    Burst,
    Frame,
    find_bursts,
    group_frames,
    keep_best_reject_rest,
    phash_distance,
    pick_best,
)
from tests.factory import add_assessment, insert_photos, photo_row

T0 = datetime(2024, 7, 1, 12, 0, 0)
H = "ffff0000ffff0000"


def frame(pid: int, seconds: float, phash: str = H, camera: str | None = "A") -> Frame:
    return Frame(pid, T0 + timedelta(seconds=seconds), phash, camera)


def flip(phash: str, bits: int) -> str:
    """The hash with its lowest ``bits`` bits inverted (Hamming distance ``bits``)."""
    return f"{int(phash, 16) ^ ((1 << bits) - 1):016x}"


def test_phash_distance_counts_differing_bits() -> None:
    assert phash_distance(H, H) == 0
    assert phash_distance(H, flip(H, 7)) == 7
    assert phash_distance("0000000000000000", "ffffffffffffffff") == 64


def test_groups_chain_consecutive_frames() -> None:
    frames = [
        frame(1, 0.0),
        frame(2, 1.5, flip(H, 6)),
        frame(3, 3.0, flip(H, 12)),  # 12 bits from frame 1 but 6 from frame 2: chaining keeps it
        frame(4, 9.0),  # too late
        frame(5, 9.5, flip(H, 40)),  # looks different
        frame(6, 20.0),
        frame(7, 20.5),
    ]
    assert group_frames(frames) == [(1, 2, 3), (6, 7)]
    assert group_frames(frames, max_seconds=10, max_distance=64) == [(1, 2, 3, 4, 5), (6, 7)]  # 10.5 s gap
    assert group_frames(frames, min_size=3) == [(1, 2, 3)]


def test_order_of_input_does_not_matter_and_cameras_do() -> None:
    frames = [frame(3, 1.0), frame(1, 0.0), frame(2, 0.5, camera="B")]
    assert group_frames(frames) == []  # A, B, A: no two consecutive frames share a camera
    frames = [frame(3, 1.0), frame(1, 0.0), frame(2, 0.5, camera=None)]
    assert group_frames(frames) == [(1, 2, 3)]  # an unknown camera does not split
    assert group_frames([frame(1, 0.0, "zz"), frame(2, 0.1, "zz")]) == []  # malformed hashes never group


def test_pick_best_prefers_the_best_rank_else_the_first_frame() -> None:
    assert pick_best((4, 5, 6), {6: 0, 4: 3}) == 6
    assert pick_best((4, 5, 6), {}) == 4


def add(catalog: Catalog, rows: list[tuple[float, str | None, float | None, float | None]]) -> list[int]:
    """Photos at T0 + seconds with a phash, a technical score and a composition attribute score."""
    ids = insert_photos(
        catalog,
        [
            photo_row(f"/p/{i}.jpg", captured_at=T0 + timedelta(seconds=seconds), phash=phash, camera_model="A")
            for i, (seconds, phash, _s, _a) in enumerate(rows)
        ],
    )
    for pid, (_t, _p, score, attr) in zip(ids, rows, strict=True):
        if score is None and attr is None:
            continue
        attributes = {"Composition & Design": (attr, None)} if attr is not None else None
        add_assessment(catalog, pid, "technical", score, attributes=attributes, version="1")
    return ids


def test_find_bursts_marks_the_best_frame_by_the_chosen_score(catalog: Catalog) -> None:
    ids = add(
        catalog,
        [
            (0.0, H, 40.0, 90.0),
            (0.5, H, 80.0, 10.0),
            (1.0, H, None, None),  # unscored frames never win
            (1.4, flip(H, 3), 60.0, 50.0),
            (30.0, H, 99.0, 99.0),  # alone
            (60.0, H, None, None),
            (60.5, H, None, None),  # a burst without any score keeps its first frame
            (61.0, None, 50.0, 50.0),  # no hash: never grouped
        ],
    )
    bursts = find_bursts(catalog)
    assert [b.photo_ids for b in bursts] == [tuple(ids[0:4]), (ids[5], ids[6])]
    assert bursts[0].best_id == ids[1] and bursts[0].count == 4
    assert bursts[1].best_id == ids[5]
    by_attribute = find_bursts(catalog, key="attr:Composition & Design")
    assert by_attribute[0].best_id == ids[0]
    lowest = find_bursts(catalog, descending=False)
    assert lowest[0].best_id == ids[0]
    with pytest.raises(ValueError):
        find_bursts(catalog, key="filename")


def test_keep_best_reject_rest_is_one_undoable_batch(catalog: Catalog) -> None:
    ids = add(
        catalog,
        [(0.0, H, 1.0, None), (0.5, H, 2.0, None), (1.0, H, 3.0, None), (50, H, 4.0, None), (50.2, H, 5.0, None)],
    )
    decisions.set_decision(catalog, [ids[2]], "flag", -1)  # the user had rejected what is the best frame
    bursts = find_bursts(catalog)
    assert [b.best_id for b in bursts] == [ids[2], ids[4]]

    def flags() -> list[int]:
        with catalog.read() as session:
            return [session.get(Photo, pid).flag for pid in ids]  # type: ignore[union-attr]

    change = keep_best_reject_rest(catalog, bursts)
    assert change is not None and change.field == "flag"
    assert sorted(change.photo_ids) == sorted(ids)
    assert flags() == [-1, -1, 1, -1, 1]
    assert keep_best_reject_rest(catalog, bursts) is None  # nothing left to change
    decisions.undo(catalog)
    assert flags() == [0, 0, -1, 0, 0]  # one undo restores everything, including the earlier reject
    decisions.redo(catalog)
    assert flags() == [-1, -1, 1, -1, 1]
    decisions.undo(catalog)
    decisions.undo(catalog)
    assert flags() == [0, 0, 0, 0, 0]
    assert keep_best_reject_rest(catalog, [Burst((ids[0],), ids[0])]) is not None
