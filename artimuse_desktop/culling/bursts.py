"""Bursts and near-duplicates: frames shot close together that look alike, grouped to keep the best.

Frames are ordered by capture time and chained: a frame joins the group of the frame before it when it was
shot at most ``max_seconds`` later and its perceptual hash (``Photo.phash``, hex) differs by at most
``max_distance`` bits. Chaining follows a burst as the subject moves, where comparing every frame to the
first would split it. Frames from two different cameras never chain (two shooters at one event are not a
burst). The best frame of a group is the one ranked highest by the chosen score key through the catalog's
own sort, so "best" always agrees with what the grid shows; a group with no score keeps its first frame.

Pure Python on plain data (no Qt): the GUI runs it on a worker thread and the command line can use it too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.models import STATUS_OK, Photo
from artimuse_desktop.culling.decisions import DecisionChange
from artimuse_desktop.vocabulary import FLAG_PICK, FLAG_REJECT

DEFAULT_MAX_SECONDS = 2.0
DEFAULT_MAX_DISTANCE = 10
_LOWEST = -1e300  # a threshold every present value passes: filters out absent values, keeps all others
_CHUNK = 900  # SQLite bound-parameter budget per query


@dataclass(frozen=True)
class Frame:
    """What grouping needs to know about one photo."""

    photo_id: int
    captured_at: datetime
    phash: str
    camera: str | None = None


@dataclass(frozen=True)
class Burst:
    """A group of at least two frames, in capture order, with the frame to keep."""

    photo_ids: tuple[int, ...]
    best_id: int

    @property
    def count(self) -> int:
        return len(self.photo_ids)

    @property
    def rest(self) -> tuple[int, ...]:
        return tuple(pid for pid in self.photo_ids if pid != self.best_id)


def phash_distance(a: str, b: str) -> int:
    """Hamming distance between two hex perceptual hashes (imagehash's ``str(hash)``)."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _chains(previous: Frame, frame: Frame, max_seconds: float, max_distance: int) -> bool:
    if previous.camera and frame.camera and previous.camera != frame.camera:
        return False
    gap = (frame.captured_at - previous.captured_at).total_seconds()
    if gap > max_seconds:
        return False
    try:
        return phash_distance(previous.phash, frame.phash) <= max_distance
    except ValueError:  # a malformed hash never groups
        return False


def group_frames(
    frames: Iterable[Frame],
    *,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    max_distance: int = DEFAULT_MAX_DISTANCE,
    min_size: int = 2,
) -> list[tuple[int, ...]]:
    """Groups of photo ids (capture order) with at least ``min_size`` frames, by consecutive chaining."""
    ordered = sorted(frames, key=lambda f: (f.captured_at, f.photo_id))
    groups: list[tuple[int, ...]] = []
    current: list[Frame] = []
    for frame in ordered:
        if current and _chains(current[-1], frame, max_seconds, max_distance):
            current.append(frame)
            continue
        if len(current) >= min_size:
            groups.append(tuple(f.photo_id for f in current))
        current = [frame]
    if len(current) >= min_size:
        groups.append(tuple(f.photo_id for f in current))
    return groups


def pick_best(group: Sequence[int], ranking: Mapping[int, int]) -> int:
    """The group's best-ranked id (lower rank is better); the first frame when none is ranked."""
    ranked = [pid for pid in group if pid in ranking]
    return min(ranked, key=lambda pid: ranking[pid]) if ranked else group[0]


# --------------------------------------------------------------------------------------------- catalog side


def load_frames(catalog: Catalog) -> list[Frame]:
    """Every usable photo with a capture time and a perceptual hash."""
    stmt = select(Photo.id, Photo.captured_at, Photo.phash, Photo.camera_model).where(
        Photo.status == STATUS_OK, Photo.captured_at.is_not(None), Photo.phash.is_not(None)
    )
    with catalog.read() as session:
        return [
            Frame(pid, taken, phash, camera)
            for pid, taken, phash, camera in session.execute(stmt)
            if taken is not None and phash
        ]


def score_ranking(
    catalog: Catalog,
    groups: Sequence[Sequence[int]],
    key: str = "score",
    *,
    descending: bool = True,
    score_model: str | None = None,
) -> dict[int, int]:
    """Rank of each id that has a value for ``key`` (score, ``attr:NAME`` or ``measure:NAME``) within its
    group's query; ids without a value are left out. Groups are never split across queries, so ranks compare
    within a group."""
    from artimuse_desktop.catalog.filters import PhotoFilter, SortSpec
    from artimuse_desktop.catalog.queries import photo_ids

    def present_only(ids: list[int]) -> PhotoFilter:
        flt = PhotoFilter(ids=ids)
        if key == "score":
            flt.min_score = _LOWEST
        elif key.startswith("attr:"):
            flt.attr_min[key[5:]] = _LOWEST
        elif key.startswith("measure:"):
            flt.measure_min[key[8:]] = _LOWEST
        else:
            raise ValueError(f"bursts rank by score, attr:NAME or measure:NAME, not {key!r}")
        return flt

    ranking: dict[int, int] = {}
    chunk: list[int] = []
    sort = SortSpec(key, descending)
    with catalog.read() as session:

        def run() -> None:
            for rank, pid in enumerate(photo_ids(session, present_only(chunk), sort, score_model=score_model)):
                ranking[pid] = rank
            chunk.clear()

        for group in groups:
            if chunk and len(chunk) + len(group) > _CHUNK:
                run()
            chunk.extend(group)
        if chunk:
            run()
    return ranking


def find_bursts(
    catalog: Catalog,
    *,
    key: str = "score",
    descending: bool = True,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    max_distance: int = DEFAULT_MAX_DISTANCE,
    score_model: str | None = None,
) -> list[Burst]:
    """All bursts in the catalog, each with its best frame by ``key``."""
    groups = group_frames(load_frames(catalog), max_seconds=max_seconds, max_distance=max_distance)
    if not groups:
        return []
    ranking = score_ranking(catalog, groups, key, descending=descending, score_model=score_model)
    return [Burst(group, pick_best(group, ranking)) for group in groups]


def keep_best_reject_rest(catalog: Catalog, bursts: Iterable[Burst]) -> DecisionChange | None:
    """Pick each burst's best frame and reject the others, as ONE undoable batch of decisions."""
    wanted: dict[int, int] = {}
    for burst in bursts:
        for pid in burst.photo_ids:
            wanted[pid] = FLAG_PICK if pid == burst.best_id else FLAG_REJECT
    return set_flags(catalog, wanted)


def set_flags(catalog: Catalog, wanted: Mapping[int, int]) -> DecisionChange | None:
    """Set a different flag per photo in one transaction and one undo batch, so one Ctrl+Z restores all."""
    from artimuse_desktop.culling import decisions

    return decisions.set_decisions(catalog, "flag", wanted)
