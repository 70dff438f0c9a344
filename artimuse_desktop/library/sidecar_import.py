"""Copying sidecar decisions into the catalog: read the files first, then change rows in one short write.

Precedence: the catalog wins. A field is filled only where the photo has no decision of that kind (flag none,
rating 0, no label), checked again inside the write (``UPDATE ... WHERE rating = 0``) so a decision made
meanwhile is never replaced. The photo's own ``IMG.CR2.xmp`` is read before the shared ``IMG.xmp``. Imported
values are the photo's starting state, not an edit: they add no undo step.

The indexer applies them in the same transaction as the photo rows (``RowWriter``): a run killed after a
committed batch leaves those photos with their sidecar values, not without them for good.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.models import STATUS_ERROR, STATUS_OK, Photo
from artimuse_desktop.library.sidecars import (
    SidecarDecisions,
    SidecarError,
    SidecarProblem,
    read_sidecar,
    sidecars_for,
)

log = logging.getLogger(__name__)


@dataclass
class SidecarReader:
    """Reads the sidecars of many photos in one run: each folder listed once, each sidecar read once, so a
    bad ``IMG.xmp`` shared by a RAW+JPEG pair is one problem, not two."""

    problems: list[SidecarProblem] = field(default_factory=list)
    _listings: dict[Path, dict[str, str]] = field(default_factory=dict)
    _read: dict[Path, SidecarDecisions | None] = field(default_factory=dict)

    def _one(self, sidecar: Path, photo_id: int | None) -> SidecarDecisions | None:
        if sidecar not in self._read:
            try:
                self._read[sidecar] = read_sidecar(sidecar)
            except SidecarError as exc:
                log.info("%s", exc.message)  # reported once by the caller, with the run's other problems
                self.problems.append(SidecarProblem(sidecar, exc.reason, photo_id))
                self._read[sidecar] = None
        return self._read[sidecar]

    def decisions_for(self, photo: str, photo_id: int | None = None) -> SidecarDecisions:
        """Field by field, the first sidecar that says something wins (the photo's own before the shared one)."""
        rating = flag = None
        label = None
        for sidecar in sidecars_for(photo, self._listings):
            found = self._one(sidecar, photo_id)
            if found is None:
                continue
            rating = found.rating if rating is None else rating
            flag = found.flag if flag is None else flag
            label = found.label if label is None else label
        return SidecarDecisions(rating, flag, label)


def worth_importing(found: SidecarDecisions) -> SidecarDecisions:
    """Only what would fill an unset decision: stars 1–5, a pick or reject, a label (0 stars fill nothing)."""
    return SidecarDecisions(rating=found.rating or None, flag=found.flag or None, label=found.label or None)


def insert_values(found: SidecarDecisions, now: datetime) -> dict[str, Any]:
    """The decision columns of a new photo row: its sidecar's values (no decision of its own exists yet)."""
    wanted = worth_importing(found)
    return {
        "flag": wanted.flag or 0,
        "rating": wanted.rating or 0,
        "color_label": wanted.label,
        "decided_at": None if wanted.empty else now,
    }


def apply_decisions(session: Session, updates: Sequence[tuple[int, SidecarDecisions]], now: datetime) -> set[int]:
    """Fill unset decisions of existing rows inside the caller's transaction; returns the ids that changed."""
    changed: set[int] = set()
    for photo_id, found in updates:
        wanted = worth_importing(found)
        steps: list[tuple[Any, dict[str, Any]]] = []
        if wanted.flag is not None:
            steps.append((Photo.flag == 0, {"flag": wanted.flag}))
        if wanted.rating is not None:
            steps.append((Photo.rating == 0, {"rating": wanted.rating}))
        if wanted.label is not None:
            steps.append((Photo.color_label.is_(None), {"color_label": wanted.label}))
        for unset, values in steps:
            result = session.execute(update(Photo).where(Photo.id == photo_id, unset).values(**values, decided_at=now))
            if result.rowcount:  # type: ignore[attr-defined]
                changed.add(photo_id)
    return changed


def import_sidecar_decisions(
    catalog: Catalog,
    photo_ids: Sequence[int] | None = None,
    *,
    problems: list[SidecarProblem] | None = None,
) -> int:
    """Copy ratings, reject/pick flags and labels from sidecars into photos whose own decision is unset.

    Unreadable or hostile sidecars are skipped, each listed once in ``problems``; the others still import.
    Returns how many photos changed. ``photo_ids=None`` means every photo not in the trash.
    """
    stmt = select(Photo.id, Photo.path, Photo.flag, Photo.rating, Photo.color_label).where(
        Photo.status.in_([STATUS_OK, STATUS_ERROR])
    )
    rows: list[Any] = []
    with catalog.read() as session:
        if photo_ids is None:
            rows = list(session.execute(stmt))
        else:
            ids = list(dict.fromkeys(photo_ids))
            for start in range(0, len(ids), 900):
                rows += session.execute(stmt.where(Photo.id.in_(ids[start : start + 900])))

    reader = SidecarReader()
    updates: list[tuple[int, SidecarDecisions]] = []
    for photo_id, path, flag, rating, label in rows:
        if flag != 0 and rating != 0 and label is not None:
            continue  # every decision is made: the sidecar could fill nothing
        found = worth_importing(reader.decisions_for(path, photo_id))
        if not found.empty:
            updates.append((photo_id, found))
    if problems is not None:
        problems.extend(reader.problems)
    if not updates:
        return 0
    with catalog.write() as session:
        return len(apply_decisions(session, updates, datetime.now()))
