"""Bursts chained in arrays (``culling.burst_chains``) give exactly what chaining frame by frame gives."""

from __future__ import annotations

import random
import string
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.culling.burst_chains import Frame, FrameArrays, chain_groups, read_frames
from artimuse_desktop.culling.bursts import find_bursts
from tests.factory import insert_photos, photo_row

T0 = datetime(2024, 7, 1, 12, 0, 0)


def reference_groups(frames: Sequence[Frame], max_seconds: float, max_distance: int) -> list[tuple[int, ...]]:
    """Chaining one frame at a time, as the burst finder did before it worked on arrays."""

    def chains(previous: Frame, frame: Frame) -> bool:
        if previous.camera and frame.camera and previous.camera != frame.camera:
            return False
        if (frame.captured_at - previous.captured_at).total_seconds() > max_seconds:
            return False
        if not (hex_hash(previous.phash) and hex_hash(frame.phash)):  # 16 hex digits, nothing else
            return False
        return (int(previous.phash, 16) ^ int(frame.phash, 16)).bit_count() <= max_distance

    by_folder: dict[str | None, list[Frame]] = defaultdict(list)
    for frame in frames:
        by_folder[frame.folder].append(frame)
    found: list[list[Frame]] = []
    for members in by_folder.values():
        runs: list[list[Frame]] = []
        for frame in sorted(members, key=lambda f: (f.captured_at, f.photo_id)):
            if runs and chains(runs[-1][-1], frame):
                runs[-1].append(frame)
            else:
                runs.append([frame])
        found.extend(run for run in runs if len(run) >= 2)
    found.sort(key=lambda run: (run[0].captured_at, run[0].photo_id))
    return [tuple(f.photo_id for f in run) for run in found]


def hex_hash(value: str) -> bool:
    return len(value) == 16 and all(c in string.hexdigits for c in value)


def random_frames(seed: int, count: int) -> list[Frame]:
    """Bursts of drifting hashes, exact 2-second gaps, shared capture times, two cameras, unknown and empty
    camera names, three folders (one of them None), and a few malformed hashes."""
    rng = random.Random(seed)
    frames: list[Frame] = []
    moment, phash = T0, rng.getrandbits(64)
    for pid in range(1, count + 1):
        step = rng.choice([0.0, 0.5, 1.999999, 2.0, 2.000001, 3.0, 600.0])
        moment += timedelta(seconds=step)
        phash = rng.getrandbits(64) if rng.random() < 0.2 else phash ^ (1 << rng.randrange(64))
        for _ in range(rng.choice([0, 0, 4, 9])):
            phash ^= 1 << rng.randrange(64)
        hex_hash = f"{phash:016x}" if rng.random() > 0.03 else rng.choice(["zz", "12345", "g" * 16, "-" + "1" * 15])
        camera = rng.choice(["A", "A", "A", "B", None, ""])
        folder = rng.choice(["/shoot/a", "/shoot/a", "/shoot/b", None])
        frames.append(Frame(pid, moment, hex_hash, camera, folder))
    rng.shuffle(frames)
    return frames


def test_chaining_in_arrays_equals_chaining_frame_by_frame() -> None:
    for seed in range(6):
        frames = random_frames(seed, 600)
        for max_seconds, max_distance in ((2.0, 10), (0.5, 4), (60.0, 0)):
            arrays = FrameArrays.of(frames)
            got = chain_groups(arrays, max_seconds=max_seconds, max_distance=max_distance)
            assert got == reference_groups(frames, max_seconds, max_distance), (seed, max_seconds, max_distance)


def test_min_size_and_tiny_inputs() -> None:
    frames = [Frame(pid, T0 + timedelta(seconds=pid), "ffff0000ffff0000", "A") for pid in (1, 2, 3)]
    assert chain_groups(FrameArrays.of(frames), max_seconds=2, max_distance=10, min_size=3) == [(1, 2, 3)]
    assert chain_groups(FrameArrays.of(frames), max_seconds=2, max_distance=10, min_size=4) == []
    assert chain_groups(FrameArrays.of(frames[:1]), max_seconds=2, max_distance=10) == []
    assert chain_groups(FrameArrays.of([]), max_seconds=2, max_distance=10) == []


def test_rows_without_a_usable_time_or_hash_are_left_out() -> None:
    rows = [
        (1, "2024-07-01 12:00:00.000000", "ffff0000ffff0000", "A", b"/s"),
        (2, "2024-07-01 12:00:01.000000", "ffff0000ffff0001", "A", b"/s"),
        (3, "not a time", "ffff0000ffff0001", "A", b"/s"),
        (4, None, "ffff0000ffff0001", "A", b"/s"),
        (5, "2024-07-01 12:00:01.500000", "", "A", b"/s"),
        (6, datetime(2024, 7, 1, 12, 0, 2), "ffff0000ffff0003", None, b"/s"),
    ]
    arrays = FrameArrays.of_rows(rows)
    assert arrays.ids.tolist() == [1, 2, 6]
    assert chain_groups(arrays, max_seconds=2, max_distance=10) == [(1, 2, 6)]


def test_the_catalog_is_read_in_batches_with_the_same_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Frames read in batches of two rows chain as one read would: cameras and folders keep their codes from
    one batch to the next; a time SQLite cannot read as one is left out, not an error."""
    import artimuse_desktop.culling.burst_chains as burst_chains

    catalog = Catalog(tmp_path / "c.sqlite")
    rows = [
        photo_row(
            f"/shoot/{folder}/IMG_{i:04d}.JPG",
            captured_at=T0 + timedelta(seconds=i),
            phash=f"{0xFFFF0000FFFF0000 ^ i:016x}",
            camera_model="X" if i != 3 else None,
        )
        for i, folder in enumerate("aaaaabbb")
    ]
    ids = insert_photos(catalog, rows)
    with catalog.write() as session:  # what a broken import might leave behind
        session.execute(text("UPDATE photos SET captured_at = 'yesterday' WHERE id = :id"), {"id": ids[1]})
    monkeypatch.setattr(burst_chains, "_BATCH", 2)
    arrays = read_frames(catalog)
    assert sorted(arrays.ids.tolist()) == sorted(set(ids) - {ids[1]})
    expected = [(ids[0], ids[2], ids[3], ids[4]), (ids[5], ids[6], ids[7])]
    assert chain_groups(arrays, max_seconds=2, max_distance=10) == expected
    assert [burst.photo_ids for burst in find_bursts(catalog)] == expected
    catalog.close()
