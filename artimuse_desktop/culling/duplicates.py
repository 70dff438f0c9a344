"""Duplicates across the whole library: the same photo kept twice, wherever the copies live.

Two kinds, one grouping:

* **exact**: the same content fingerprint (``Photo.fingerprint``): a copy made in the file manager, a backup
  restored into the library, the same card imported twice;
* **near**: perceptual hashes (``Photo.phash``, 64 bits) at most ``max_distance`` bits apart: a re-encode at
  another quality, a resized export, the JPEG beside its RAW. A crop or another frame of a burst differs by
  more (a tighter crop moves every DCT coefficient the hash is made of).

Unlike bursts, nothing here looks at folders, cameras or capture times: an export in ``Exports/Web`` is exactly
the duplicate to find. Near pairs come from ``hash_index`` (multi-index hashing: all pairs within the distance
without comparing every pair); ``duplicate_groups`` makes them stars around a centre rather than chains, so a
slowly drifting series does not become one group.

Each group keeps one photo by the rules in ``keep_rules`` (RAW over JPEG, the camera's original over a copy or
export, resolution, rating, score, path) and says why. Keep best rejects the others in ONE undoable batch and
leaves the kept photos' flags as they are. Pure Python and numpy on plain data, no Qt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.culling.bursts import DEFAULT_MAX_DISTANCE, load_candidates, score_ranking
from artimuse_desktop.culling.decisions import DecisionChange, set_decisions
from artimuse_desktop.culling.duplicate_groups import group_arrays
from artimuse_desktop.culling.duplicate_rows import Columns, Item, Rows, columns_of, load_columns, load_rows
from artimuse_desktop.culling.hash_index import parse_hashes
from artimuse_desktop.culling.keep_rules import Candidate, keep_order, keep_reason
from artimuse_desktop.vocabulary import FLAG_REJECT

EXACT = "exact"
NEAR = "near"
MAX_DISTANCE_LIMIT = 32  # half the bits: beyond it two unrelated photos match as often as not

__all__ = [
    "DEFAULT_MAX_DISTANCE",
    "EXACT",
    "MAX_DISTANCE_LIMIT",
    "NEAR",
    "DuplicateGroup",
    "DuplicateReport",
    "Item",
    "Rows",
    "duplicate_ids",
    "find_duplicates",
    "group_items",
    "keep_best_reject_rest",
    "load_rows",
]


@dataclass(frozen=True)
class DuplicateGroup:
    """Photos that are one picture: ``photo_ids`` in keep order (best first), the one to keep and why.

    ``distances`` are the bits between each photo's hash and the kept one's, in ``photo_ids`` order (None where
    either has no usable hash); ``same_content`` says which members have the kept one's fingerprint (exact
    copies of it; the kept one itself too)."""

    photo_ids: tuple[int, ...]
    best_id: int
    kind: str
    reason: str = ""
    distances: tuple[int | None, ...] = ()
    same_content: tuple[bool, ...] = ()
    candidates: tuple[Candidate, ...] = field(default=(), repr=False)

    @property
    def count(self) -> int:
        return len(self.photo_ids)

    @property
    def rest(self) -> tuple[int, ...]:
        """The photos keep best rejects (all but ``best_id``)."""
        return tuple(pid for pid in self.photo_ids if pid != self.best_id)

    def distance_of(self, photo_id: int) -> int | None:
        return dict(zip(self.photo_ids, self.distances, strict=False)).get(photo_id)


@dataclass(frozen=True)
class DuplicateReport:
    """The groups found, and how many photos were looked at and lacked a usable perceptual hash (those could
    only match by content)."""

    groups: tuple[DuplicateGroup, ...]
    photos: int
    without_hash: int

    @property
    def member_ids(self) -> tuple[int, ...]:
        return tuple(pid for group in self.groups for pid in group.photo_ids)

    @property
    def rest_ids(self) -> tuple[int, ...]:
        return tuple(pid for group in self.groups for pid in group.rest)


# --------------------------------------------------------------------------------------------- grouping


def group_items(
    items: Sequence[Item] | Rows, *, max_distance: int = DEFAULT_MAX_DISTANCE, exact_only: bool = False
) -> list[tuple[tuple[int, ...], str]]:
    """Groups of at least two photo ids with their kind (``EXACT`` when every member has one fingerprint),
    ids ascending inside a group, groups by their first id."""
    rows = items if isinstance(items, Rows) else Rows.of(items)
    found = _grouping(columns_of(rows.ids, rows.fingerprints, rows.phashes), max_distance, exact_only)
    ids = found.ids.tolist()
    bounds = found.bounds.tolist()
    exact = found.exact.tolist()
    return [
        (tuple(ids[start:stop]), EXACT if same else NEAR)
        for start, stop, same in zip(bounds[:-1], bounds[1:], exact, strict=True)
    ]


class _Found(NamedTuple):
    ids: npt.NDArray[np.int64]  # every member, group after group
    bounds: npt.NDArray[np.intp]
    exact: npt.NDArray[np.bool_]


def _grouping(columns: Columns, max_distance: int, exact_only: bool) -> _Found:
    if not 0 <= max_distance <= MAX_DISTANCE_LIMIT:
        raise ValueError(f"max_distance must be between 0 and {MAX_DISTANCE_LIMIT} bits")
    found = group_arrays(
        columns.ids,
        columns.prints,
        columns.linkable,
        None if exact_only else columns.hashes,
        None if exact_only else columns.valid,
        max_distance,
    )
    return _Found(columns.ids[found.positions], found.bounds, found.exact)


# --------------------------------------------------------------------------------------------- catalog side


def duplicate_ids(catalog: Catalog, *, max_distance: int = DEFAULT_MAX_DISTANCE) -> tuple[int, ...]:
    """Every photo that has a duplicate (what the "Duplicates" collection shows), group after group: grouping
    only, no keep rules, from plain columns (``duplicate_rows.load_columns``)."""
    if not 0 <= max_distance <= MAX_DISTANCE_LIMIT:
        raise ValueError(f"max_distance must be between 0 and {MAX_DISTANCE_LIMIT} bits")
    return tuple(_grouping(load_columns(catalog), max_distance, exact_only=False).ids.tolist())


def find_duplicates(
    catalog: Catalog,
    *,
    max_distance: int = DEFAULT_MAX_DISTANCE,
    exact_only: bool = False,
    key: str = "score",
    descending: bool = True,
    score_model: str | None = None,
) -> DuplicateReport:
    """All duplicate groups in the catalog, each with the photo the keep rules choose and why."""
    rows = load_rows(catalog)
    found = group_items(rows, max_distance=max_distance, exact_only=exact_only)
    hashes, valid = parse_hashes(rows.phashes)
    without_hash = int((~valid).sum())
    if not found:
        return DuplicateReport((), len(rows.ids), without_hash)
    id_groups = [ids for ids, _kind in found]
    ranking = score_ranking(catalog, id_groups, key, descending=descending, score_model=score_model)
    candidates = load_candidates(catalog, id_groups, ranking, key, score_model=score_model)  # the bursts' read
    position = {pid: index for index, pid in enumerate(rows.ids)}
    label = key.split(":", 1)[1] if ":" in key else "score"
    groups = []
    for ids, kind in found:
        at = [position[pid] for pid in ids]
        known = {
            pid: (rows.fingerprints[i], int(hashes[i]) if valid[i] else None) for pid, i in zip(ids, at, strict=True)
        }
        groups.append(judge(ids, kind, candidates, known, label, lowest=not descending))
    return DuplicateReport(tuple(groups), len(rows.ids), without_hash)


def judge(
    ids: Sequence[int],
    kind: str,
    candidates: Mapping[int, Candidate],
    known: Mapping[int, tuple[str | None, int | None]],
    score_label: str = "score",
    *,
    lowest: bool = False,
) -> DuplicateGroup:
    """The group of ``ids`` with its kept photo, the reason and how each member relates to the kept one
    (``known``: photo id -> (fingerprint, hash as a number or None)); ids without a candidate (deleted
    meanwhile) go last."""
    ordered = keep_order([candidates[pid] for pid in ids if pid in candidates])
    order = [c.photo_id for c in ordered] + [pid for pid in ids if pid not in candidates]
    reason = keep_reason(ordered, score_label, lowest=lowest) if ordered else ""
    kept_print, kept_hash = known.get(order[0], (None, None))
    same = tuple(bool(kept_print) and known.get(pid, (None, None))[0] == kept_print for pid in order)
    apart: list[int | None] = []
    for pid in order:
        value = known.get(pid, (None, None))[1]
        apart.append(None if value is None or kept_hash is None else (value ^ kept_hash).bit_count())
    return DuplicateGroup(tuple(order), order[0], kind, reason, tuple(apart), same, tuple(ordered))


def keep_best_reject_rest(catalog: Catalog, groups: Iterable[DuplicateGroup]) -> DecisionChange | None:
    """Reject every photo but the kept one of each group, as ONE undoable batch (one Ctrl+Z restores all).

    The kept photos' flags are left alone: being the best copy does not make a photo a pick. None when nothing
    changed (all already rejected)."""
    wanted: dict[int, int] = {}
    for group in groups:
        for pid in group.rest:
            wanted[pid] = FLAG_REJECT
    return set_decisions(catalog, "flag", wanted)
