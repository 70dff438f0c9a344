"""Bursts and near-duplicates: frames shot close together that look alike, grouped to keep the best.

Frames are ordered by capture time and chained: a frame joins the group of the frame before it when it was
shot at most ``max_seconds`` later and its perceptual hash (``Photo.phash``, hex) differs by at most
``max_distance`` bits. Chaining follows a burst as the subject moves, where comparing every frame to the
first would split it. Frames from two different cameras never chain (two shooters at one event are not a
burst), and a stack never spans folders: an export in ``Exports/Web`` has the original's capture time and
looks alike, but it is not a frame of the shoot, and keep best must not reject it.

The frame to keep follows the rules in ``keep_rules`` (RAW, the camera's original, resolution, rating, then
the chosen score key through the catalog's own sort, so "best" agrees with what the grid shows; path last),
and each burst says why in ``reason``. A collapsed stack shows its ``representative_id``: the frame the
photographer rated highest, else the kept one.

Pure Python on plain data (no Qt): the GUI runs it on a worker thread and the command line can use it too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.models import STATUS_OK, Photo
from artimuse_desktop.culling.burst_chains import Frame, FrameArrays, chain_groups, read_frames
from artimuse_desktop.culling.decisions import DecisionChange
from artimuse_desktop.culling.keep_rules import Candidate, keep_order, keep_reason, representative
from artimuse_desktop.vocabulary import FLAG_PICK, FLAG_REJECT

DEFAULT_MAX_SECONDS = 2.0
DEFAULT_MAX_DISTANCE = 10
_LOWEST = -1e300  # a threshold every present value passes: filters out absent values, keeps all others
_CHUNK = 900  # SQLite bound-parameter budget per query


@dataclass(frozen=True)
class Burst:
    """A group of at least two frames, in capture order, with the frame to keep and why.

    ``candidates`` are what the keep rules saw, best first; empty for a burst built by hand, which then keeps
    ``best_id`` and shows it when collapsed."""

    photo_ids: tuple[int, ...]
    best_id: int
    reason: str = ""
    candidates: tuple[Candidate, ...] = ()
    kept_name: str = ""

    @property
    def count(self) -> int:
        return len(self.photo_ids)

    @property
    def rest(self) -> tuple[int, ...]:
        """The frames keep best rejects (all but ``best_id``)."""
        return tuple(pid for pid in self.photo_ids if pid != self.best_id)

    @property
    def ranked(self) -> tuple[int, ...]:
        """The ids in keep-rule order, best first (frames the rules did not see go last)."""
        seen = tuple(c.photo_id for c in self.candidates) or (self.best_id,)
        return seen + tuple(pid for pid in self.photo_ids if pid not in seen)

    @property
    def representative_id(self) -> int:
        """The frame a collapsed stack shows: the highest rated, among equals the kept one."""
        return self.representative_for({})

    def representative_for(self, ratings: Mapping[int, int]) -> int:
        """``representative_id`` with today's ratings (``{photo id: stars}``; ids left out keep their rating
        from when the stack was found), so the GUI need not search again after a rating."""
        if not self.candidates:
            order = self.ranked
            return representative(order, [ratings.get(pid, 0) for pid in order])
        now = [replace(c, rating=ratings.get(c.photo_id, c.rating)) for c in self.candidates]
        ordered = keep_order(now)
        return representative([c.photo_id for c in ordered], [c.rating for c in ordered])

    @property
    def hidden(self) -> tuple[int, ...]:
        """The frames collapsing hides (all but ``representative_id``)."""
        shown = self.representative_id
        return tuple(pid for pid in self.photo_ids if pid != shown)

    def note_for(self, photo_id: int) -> str:
        """One line for the side panel about ``photo_id`` in this stack ("" when it is not a member)."""
        if photo_id not in self.photo_ids:
            return ""
        if photo_id == self.best_id:
            return self.reason or "kept: the best frame"
        why = self.reason.removeprefix("kept: ")
        name = self.kept_name or f"photo {self.best_id}"
        return f"stack of {self.count}: keep best keeps {name}" + (f" ({why})" if why else "")


def phash_distance(a: str, b: str) -> int:
    """Hamming distance between two hex perceptual hashes (imagehash's ``str(hash)``)."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def group_frames(
    frames: Iterable[Frame],
    *,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    max_distance: int = DEFAULT_MAX_DISTANCE,
    min_size: int = 2,
) -> list[tuple[int, ...]]:
    """Groups of photo ids (capture order) with at least ``min_size`` frames, by consecutive chaining within
    each folder; groups come in the capture order of their first frames (``burst_chains`` does the work)."""
    arrays = FrameArrays.of(frames)
    return chain_groups(arrays, max_seconds=max_seconds, max_distance=max_distance, min_size=min_size)


def pick_best(group: Sequence[int], ranking: Mapping[int, int]) -> int:
    """The group's best-ranked id (lower rank is better); the first frame when none is ranked."""
    ranked = [pid for pid in group if pid in ranking]
    return min(ranked, key=lambda pid: ranking[pid]) if ranked else group[0]


# --------------------------------------------------------------------------------------------- catalog side


def load_frames(catalog: Catalog) -> list[Frame]:
    """Every usable photo with a capture time and a perceptual hash (``burst_chains.read_frames`` keeps them
    as arrays, which is what the search uses)."""
    stmt = select(Photo.id, Photo.captured_at, Photo.phash, Photo.camera_model, Photo.folder).where(
        Photo.status == STATUS_OK, Photo.captured_at.is_not(None), Photo.phash.is_not(None)
    )
    with catalog.read() as session:
        return [
            Frame(pid, taken, phash, camera, folder)
            for pid, taken, phash, camera, folder in session.execute(stmt)
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
    """All bursts in the catalog, each with the frame the keep rules choose (``key`` ranks the scores) and why."""
    groups = chain_groups(read_frames(catalog), max_seconds=max_seconds, max_distance=max_distance)
    if not groups:
        return []
    return judge_groups(catalog, groups, key=key, descending=descending, score_model=score_model)


def judge_groups(
    catalog: Catalog,
    groups: Sequence[Sequence[int]],
    *,
    key: str = "score",
    descending: bool = True,
    score_model: str | None = None,
) -> list[Burst]:
    """The bursts of these groups with the frame the keep rules choose: all of them for ``find_bursts``, or
    the few holding photos just rated (ranks compare within a group only, so judging a few gives what judging
    them all would)."""
    ranking = score_ranking(catalog, groups, key, descending=descending, score_model=score_model)
    candidates = load_candidates(catalog, groups, ranking, key, score_model=score_model)
    label = key.split(":", 1)[1] if ":" in key else "score"
    return [judge(group, candidates, label, lowest=not descending) for group in groups]


def load_candidates(
    catalog: Catalog,
    groups: Sequence[Sequence[int]],
    ranking: Mapping[int, int],
    key: str = "score",
    *,
    score_model: str | None = None,
) -> dict[int, Candidate]:
    """What the keep rules need about every frame of ``groups``, by id (the score only when ``key`` is it).

    Only those columns, straight off the DBAPI cursor: whole photo records (every EXIF field, dates parsed)
    cost seconds for the 57,000 frames of a 300,000-photo archive's bursts."""
    from sqlalchemy import and_, null, select

    from artimuse_desktop.catalog.queries import get_score_model
    from artimuse_desktop.catalog.root_locations import read_root_map
    from artimuse_desktop.catalog.tables import assessments, photos

    p, a = photos.c, assessments.c
    ids = [pid for group in groups for pid in group]
    found: dict[int, Candidate] = {}
    with catalog.read() as session:
        model = score_model or get_score_model(session)
        connection = session.connection()
        places = read_root_map(connection)
        score = a.score if key == "score" else null()
        columns = (p.id, p.path, p.folder, p.filename, p.format, p.width, p.height, p.rating, score)
        base = select(*columns).select_from(photos)
        if key == "score":
            current = and_(a.photo_id == p.id, a.model == model, a.current.is_(True))
            base = base.outerjoin(assessments, current)
        for start in range(0, len(ids), _CHUNK):
            result = connection.execute(base.where(p.id.in_(ids[start : start + _CHUNK])))
            try:
                rows = result.cursor.fetchall()
            finally:
                result.close()
            for pid, path, folder, filename, fmt, width, height, rating, value in rows:
                found[pid] = Candidate(
                    photo_id=pid,
                    path=places.to_local(os.fsdecode(bytes(path))),  # paths are stored as bytes (PathType)
                    folder=places.to_local(os.fsdecode(bytes(folder))),
                    filename=filename,
                    format=fmt,
                    width=width,
                    height=height,
                    rating=rating or 0,
                    rank=ranking.get(pid),
                    score=value,
                )
    return found


def judge(
    group: Sequence[int], candidates: Mapping[int, Candidate], score_label: str = "score", *, lowest: bool = False
) -> Burst:
    """The burst of ``group`` with its kept frame, the reason and the keep order (ids without a candidate,
    e.g. deleted meanwhile, go last)."""
    known = [candidates[pid] for pid in group if pid in candidates]
    if not known:
        return Burst(tuple(group), group[0])
    ordered = keep_order(known)
    kept = ordered[0]
    reason = keep_reason(ordered, score_label, lowest=lowest)
    return Burst(tuple(group), kept.photo_id, reason, tuple(ordered), kept.filename or kept.path)


def burst_note(by_member: Mapping[int, Burst], photo_id: int) -> str | None:
    """The side panel's line for ``photo_id``: why its stack keeps the frame it keeps; None outside stacks."""
    burst = by_member.get(photo_id)
    return burst.note_for(photo_id) if burst is not None else None


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
