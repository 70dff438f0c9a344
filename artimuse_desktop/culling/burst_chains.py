"""Frames chained into bursts in whole-array passes: the grouping half of ``bursts``.

A frame joins the group of the frame before it (in capture order, within one folder) when it was shot at most
``max_seconds`` later, by the same camera or one of the two is unknown, and its perceptual hash differs by at
most ``max_distance`` bits. ``bursts`` explains why; this module only makes it cheap at archive scale.

Why arrays: the window searches bursts on a worker after the first view, and at 300,000 photos the search
in Python objects (a ``Frame`` and a ``datetime`` per photo, a comparison per pair) held the GIL for seconds,
so the GUI thread stalled for 100-300 ms at a time while the photographer browsed. Here the catalog's rows
come straight off the DBAPI cursor (no result processing) in batches of 20,000, capture times are parsed by
numpy, and the chain test is one vectorised pass over sorted arrays (numpy hands the GIL back during large
passes). Batches because every C call that builds or reads Python objects holds the GIL throughout, and
300,000 live row tuples made each young garbage collection 40-100 ms.

Hashes are 16 hex digits (64 bits, what indexing stores); any other text is malformed and never chains.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.culling.hash_index import parse_hashes

Int64Array = npt.NDArray[np.int64]
_UNKNOWN = -1  # the code of an unknown camera (None or empty) and of a photo outside any folder
_BATCH = 20_000  # rows turned into arrays at a time


@dataclass(frozen=True)
class Frame:
    """What grouping needs to know about one photo."""

    photo_id: int
    captured_at: datetime
    phash: str
    camera: str | None = None
    folder: str | None = None


@dataclass(frozen=True)
class FrameArrays:
    """Frames as parallel arrays: ``micros`` is the capture time in microseconds (exact, as ``datetime`` has
    it), ``cameras`` and ``folders`` are codes (``-1``: unknown camera, no folder), ``valid`` says which hashes
    parsed."""

    ids: Int64Array
    micros: Int64Array
    hashes: npt.NDArray[np.uint64]
    valid: npt.NDArray[np.bool_]
    cameras: Int64Array
    folders: Int64Array

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def of_rows(cls, rows: Sequence[Sequence[Any]], codes: _Codes | None = None) -> FrameArrays:
        """From ``(id, captured_at, phash, camera, folder)`` rows; ``captured_at`` a ``datetime`` or SQLite's
        text of one. Rows without a capture time or a hash, or whose time does not parse, are left out.
        ``codes`` carries the camera and folder codes from one batch of rows to the next."""
        if not rows:
            empty = np.empty(0, dtype=np.int64)
            return cls(empty, empty, np.empty(0, dtype=np.uint64), np.empty(0, dtype=bool), empty, empty)
        codes = codes or _Codes()
        ids, taken, phashes, cameras, folders = zip(*rows, strict=True)
        micros = _micros(taken)
        keep = (micros != np.iinfo(np.int64).min) & np.array([bool(h) for h in phashes], dtype=bool)
        hashes, valid = parse_hashes(phashes)
        chosen = np.flatnonzero(keep)
        return cls(
            np.asarray(ids, dtype=np.int64)[chosen],
            micros[chosen],
            hashes[chosen],
            valid[chosen],
            codes.of(cameras, codes.cameras)[chosen],
            codes.of(folders, codes.folders, empty_is_unknown=False)[chosen],
        )

    @classmethod
    def of(cls, frames: Iterable[Frame]) -> FrameArrays:
        return cls.of_rows([(f.photo_id, f.captured_at, f.phash, f.camera, f.folder) for f in frames])

    @classmethod
    def joined(cls, parts: Sequence[FrameArrays]) -> FrameArrays:
        if not parts:
            return cls.of_rows([])
        fields = ("ids", "micros", "hashes", "valid", "cameras", "folders")
        return cls(*(np.concatenate([getattr(part, name) for part in parts]) for name in fields))


def _micros(values: Sequence[Any]) -> Int64Array:
    """Capture times as int64 microseconds; ``int64 min`` (NaT) where one is missing or does not parse."""
    try:
        parsed = np.array(values, dtype="datetime64[us]")
    except (ValueError, TypeError, OverflowError):  # one odd value: parse them one by one
        parsed = np.array([_one_time(value) for value in values], dtype="datetime64[us]")
    return parsed.astype(np.int64)


def _one_time(value: Any) -> np.datetime64:
    try:
        return np.datetime64(value, "us") if value is not None else np.datetime64("NaT", "us")
    except (ValueError, TypeError, OverflowError):
        return np.datetime64("NaT", "us")


class _Codes:
    """A small integer per distinct camera and folder, the same over every batch of rows read."""

    def __init__(self) -> None:
        self.cameras: dict[Any, int] = {}
        self.folders: dict[Any, int] = {}

    @staticmethod
    def of(values: Sequence[Any], seen: dict[Any, int], *, empty_is_unknown: bool = True) -> Int64Array:
        """Codes of ``values``; ``-1`` for None (and for "" when ``empty_is_unknown``)."""
        return np.fromiter(
            (
                seen.setdefault(value, len(seen)) if value or (value is not None and not empty_is_unknown) else _UNKNOWN
                for value in values
            ),
            dtype=np.int64,
            count=len(values),
        )


def read_frames(catalog: Catalog) -> FrameArrays:
    """Every usable photo (status ok) with a capture time and a perceptual hash, off the DBAPI cursor."""
    from sqlalchemy import select

    from artimuse_desktop.catalog.constants import STATUS_OK
    from artimuse_desktop.catalog.tables import photos

    p = photos.c
    stmt = select(p.id, p.captured_at, p.phash, p.camera_model, p.folder).where(
        p.status == STATUS_OK, p.captured_at.is_not(None), p.phash.is_not(None)
    )
    codes, parts = _Codes(), []
    with catalog.connect_read() as connection:
        result = connection.execute(stmt)
        try:  # raw values (SQLite's time text is parsed by numpy), a batch at a time: see the module notes
            while rows := result.cursor.fetchmany(_BATCH):
                parts.append(FrameArrays.of_rows(rows, codes))
        finally:
            result.close()
    return FrameArrays.joined(parts)


def chain_groups(
    frames: FrameArrays, *, max_seconds: float, max_distance: int, min_size: int = 2
) -> list[tuple[int, ...]]:
    """Groups of photo ids (capture order) with at least ``min_size`` frames, chained within each folder;
    groups come in the capture order (then id) of their first frames."""
    if len(frames) < max(min_size, 1):
        return []
    order = np.lexsort((frames.ids, frames.micros, frames.folders))
    ids, micros = frames.ids[order], frames.micros[order]
    folders, cameras = frames.folders[order], frames.cameras[order]
    hashes, valid = frames.hashes[order], frames.valid[order]
    cams_before, cams_after = cameras[:-1], cameras[1:]
    chains = (
        (folders[1:] == folders[:-1])
        & ((cams_before == _UNKNOWN) | (cams_after == _UNKNOWN) | (cams_before == cams_after))
        & (np.diff(micros) / 1e6 <= max_seconds)  # as ``timedelta.total_seconds()`` rounds it
        & valid[1:]
        & valid[:-1]
        & (np.bitwise_count(np.bitwise_xor(hashes[1:], hashes[:-1])) <= max_distance)
    )
    bounds = np.concatenate(([0], np.flatnonzero(~chains) + 1, [len(ids)]))
    starts, stops = bounds[:-1], bounds[1:]
    kept = np.flatnonzero(stops - starts >= min_size)
    first = starts[kept]
    kept = kept[np.lexsort((ids[first], micros[first]))]
    listed = ids.tolist()
    return [tuple(listed[start:stop]) for start, stop in zip(starts[kept].tolist(), stops[kept].tolist(), strict=True)]
