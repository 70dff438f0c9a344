"""Copying decisions from sidecars and from the files themselves into the catalog: files first, then one write.

Precedence: decisions made in this app win, then sidecars, then what the file itself says (its XMP packet or
EXIF Rating, ``embedded_xmp``). Each decision column has a source column (``constants.SOURCE_COLUMNS``), and an
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
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from artimuse_desktop.catalog.constants import SOURCE_COLUMNS, SOURCE_FILE, SOURCE_SIDECAR, STATUS_ERROR, STATUS_OK
from artimuse_desktop.catalog.root_locations import read_root_map_raw
from artimuse_desktop.library.sidecars import (
    SidecarDecisions,
    SidecarError,
    SidecarProblem,
    read_sidecar,
    sidecars_for,
)

if TYPE_CHECKING:
    from artimuse_desktop.catalog.db import Catalog
    from artimuse_desktop.catalog.dbapi import Raw

log = logging.getLogger(__name__)

# Raw SQL (``catalog.dbapi``): the indexer imports no SQLAlchemy for it.


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


def _set_decision_sql(name: str) -> str:
    """Set ``name`` (and its source) where an imported value may: no decision made (and no source), or one read
    from the file; and only where it would change something."""
    source = SOURCE_COLUMNS[name]
    unset = f"{name} IS NULL" if name == "color_label" else f"{name} = 0"
    return (
        f"UPDATE photos SET {name} = :value, {source} = :source, decided_at = :now "
        f"WHERE id = :id AND (({unset} AND {source} IS NULL) OR {source} = :from_file) "
        f"AND ({name} IS NULL OR {name} <> :value OR {source} IS NULL OR {source} <> :source)"
    )


_SET_DECISION = {name: _set_decision_sql(name) for name in SOURCE_COLUMNS}


def apply_decisions(
    connection: Raw,
    updates: Sequence[tuple[int, SidecarDecisions]],
    now: datetime,
    source: str = SOURCE_SIDECAR,
) -> set[int]:
    """Set imported decisions (from ``source``: sidecar or file) of existing rows inside the caller's
    transaction (``Catalog.raw_write``) where one may be set (``_set_decision_sql``); returns the ids that
    changed."""
    changed: set[int] = set()
    stamp = connection.stamp(now)
    for photo_id, found in updates:
        for name, value in _by_field(found).items():
            if value is None:
                continue
            params = {"value": value, "source": source, "now": stamp, "id": photo_id, "from_file": SOURCE_FILE}
            if connection.execute(_SET_DECISION[name], params).rowcount:
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
    sql = (
        "SELECT id, path, flag, rating, color_label, flag_source, rating_source, label_source FROM photos "
        "WHERE status IN (:ok, :error)"
    )
    statuses = {"ok": STATUS_OK, "error": STATUS_ERROR}
    rows: list[Any] = []
    with catalog.raw_read() as connection:
        places = read_root_map_raw(connection)  # the sidecars lie beside the files where this computer sees them
        if photo_ids is None:
            rows = connection.execute(sql, statuses).all()
        else:
            ids = list(dict.fromkeys(photo_ids))
            for start in range(0, len(ids), 900):
                listed, params = connection.in_("id", ids[start : start + 900])
                rows += connection.execute(f"{sql} AND id IN ({listed})", {**statuses, **params}).all()

    reader = SidecarReader()
    updates: list[tuple[int, SidecarDecisions]] = []
    for photo_id, path, flag, rating, label, *sources in rows:
        if flag != 0 and rating != 0 and label is not None and SOURCE_FILE not in sources:
            continue  # every decision is made, none read from the file: the sidecar could change nothing
        found = worth_importing(reader.decisions_for(places.to_local(os.fsdecode(path)), photo_id))
        if not found.empty:
            updates.append((photo_id, found))
    if problems is not None:
        problems.extend(reader.problems)
    if not updates:
        return 0
    with catalog.raw_write() as connection:
        return len(apply_decisions(connection, updates, datetime.now()))
