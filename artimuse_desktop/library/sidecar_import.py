"""Copying decisions from sidecars and from the files themselves into the catalog: files first, then one write.

Precedence: decisions made in this app win, then sidecars, then what the file itself says (its XMP packet or
EXIF Rating, ``embedded_xmp``). Each decision column has a source column (``tables.SOURCE_COLUMNS``), and an
imported value goes only where the photo has no decision of that kind (flag none, rating 0, no label, no
source) or where the one it has was read from the file: a sidecar's replaces the file's, a file read again
after it changed replaces its own. This is checked inside the write (``UPDATE ... WHERE``), so a decision made
meanwhile is never replaced. A value of 0 stars fills nothing (a sidecar saying 0 must not hide the file's 5).
The photo's own ``IMG.CR2.xmp`` is read before the shared ``IMG.xmp``. Imported values are the photo's
starting state, not an edit: they add no undo step.

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

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Connection

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.root_locations import read_root_map
from artimuse_desktop.catalog.tables import (
    SOURCE_COLUMNS,
    SOURCE_FILE,
    SOURCE_SIDECAR,
    STATUS_ERROR,
    STATUS_OK,
    photos,
)
from artimuse_desktop.library.sidecars import (
    SidecarDecisions,
    SidecarError,
    SidecarProblem,
    read_sidecar,
    sidecars_for,
)

log = logging.getLogger(__name__)

_P = photos.c  # Core statements on the table: no ORM for the indexer (``catalog.tables``)


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


def _by_field(found: SidecarDecisions) -> dict[str, int | str | None]:
    wanted = worth_importing(found)
    return {"flag": wanted.flag, "rating": wanted.rating, "color_label": wanted.label}


_UNSET: dict[str, Any] = {"flag": 0, "rating": 0, "color_label": None}


def insert_values(sidecar: SidecarDecisions, now: datetime, in_file: SidecarDecisions | None = None) -> dict[str, Any]:
    """The decision columns of a new photo row: its sidecar's values, else the file's (none of its own exists)."""
    values: dict[str, Any] = dict(_UNSET)
    values.update(dict.fromkeys(SOURCE_COLUMNS.values()))
    for source, found in ((SOURCE_FILE, in_file), (SOURCE_SIDECAR, sidecar)):  # the stronger one last
        for name, value in _by_field(found or SidecarDecisions()).items():
            if value is not None:
                values[name] = value
                values[SOURCE_COLUMNS[name]] = source
    decided = any(values[column] is not None for column in SOURCE_COLUMNS.values())
    values["decided_at"] = now if decided else None
    return values


def _replaceable(name: str) -> Any:
    """Rows whose ``name`` decision an imported value may set: none made (and no source), or read from the file."""
    column, source = _P[name], _P[SOURCE_COLUMNS[name]]
    unset = column.is_(None) if name == "color_label" else column == 0
    return or_(and_(unset, source.is_(None)), source == SOURCE_FILE)


def apply_decisions(
    connection: Connection,
    updates: Sequence[tuple[int, SidecarDecisions]],
    now: datetime,
    source: str = SOURCE_SIDECAR,
) -> set[int]:
    """Set imported decisions (from ``source``: sidecar or file) of existing rows inside the caller's
    transaction (a Core connection: ``Catalog.connect_write``) where ``_replaceable``; returns the ids that
    changed."""
    changed: set[int] = set()
    for photo_id, found in updates:
        for name, value in _by_field(found).items():
            if value is None:
                continue
            column, source_column = _P[name], _P[SOURCE_COLUMNS[name]]
            differs = or_(column.is_distinct_from(value), source_column.is_distinct_from(source))
            result = connection.execute(
                update(photos)
                .where(_P.id == photo_id, _replaceable(name), differs)
                .values({name: value, SOURCE_COLUMNS[name]: source, "decided_at": now})
            )
            if result.rowcount:
                changed.add(photo_id)
    return changed


def import_sidecar_decisions(
    catalog: Catalog,
    photo_ids: Sequence[int] | None = None,
    *,
    problems: list[SidecarProblem] | None = None,
) -> int:
    """Copy ratings, reject/pick flags and labels from sidecars into photos whose own decision is unset or was
    read from the file itself.

    Unreadable or hostile sidecars are skipped, each listed once in ``problems``; the others still import.
    Returns how many photos changed. ``photo_ids=None`` means every photo not in the trash.
    """
    stmt = select(
        _P.id, _P.path, _P.flag, _P.rating, _P.color_label, _P.flag_source, _P.rating_source, _P.label_source,
    ).where(_P.status.in_([STATUS_OK, STATUS_ERROR]))  # fmt: skip
    rows: list[Any] = []
    with catalog.connect_read() as connection:
        places = read_root_map(connection)  # the sidecars lie beside the files where this computer sees them
        if photo_ids is None:
            rows = list(connection.execute(stmt))
        else:
            ids = list(dict.fromkeys(photo_ids))
            for start in range(0, len(ids), 900):
                rows += connection.execute(stmt.where(_P.id.in_(ids[start : start + 900])))

    reader = SidecarReader()
    updates: list[tuple[int, SidecarDecisions]] = []
    for photo_id, path, flag, rating, label, *sources in rows:
        if flag != 0 and rating != 0 and label is not None and SOURCE_FILE not in sources:
            continue  # every decision is made, none read from the file: the sidecar could change nothing
        found = worth_importing(reader.decisions_for(places.to_local(path), photo_id))
        if not found.empty:
            updates.append((photo_id, found))
    if problems is not None:
        problems.extend(reader.problems)
    if not updates:
        return 0
    with catalog.connect_write() as connection:
        return len(apply_decisions(connection, updates, datetime.now()))
