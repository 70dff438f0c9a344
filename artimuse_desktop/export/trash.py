"""Moving rejected photos to the system trash: planned, counted, confirmed, never a permanent delete.

``plan_trash()`` lists what would go so the caller can show the count; ``move_rejects_to_trash()`` refuses
to run unless ``confirm`` equals that count. Files go through send2trash (the desktop's trash, restorable),
one at a time; each photo is marked "trashed" in the catalog as soon as its file is gone, and failures are
reported per file.

What travels with a reject: only the rejected file and its own sidecars. Its own ``IMG_0001.CR2.xmp`` always
goes; the shared ``IMG_0001.xmp`` / ``IMG_0001.AAE`` goes only when no other file with that stem stays behind.
A RAW+JPEG partner is never trashed with a reject: each is its own photo with its own flag, and rejecting the
JPEG of a pair says nothing certain about the RAW (reject both to trash both).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import select, update

from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.catalog import queries
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.filters import PhotoFilter
from artimuse_desktop.catalog.models import STATUS_ERROR, STATUS_OK, STATUS_TRASHED, Photo
from artimuse_desktop.errors import ExportError
from artimuse_desktop.export.naming import names_by_casefold
from artimuse_desktop.export.plan import STEM_SIDECAR_EXTENSIONS
from artimuse_desktop.vocabulary import FLAG_REJECT

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrashItem:
    photo_id: int
    path: Path
    sidecars: tuple[Path, ...] = ()


@dataclass(frozen=True)
class TrashPlan:
    items: tuple[TrashItem, ...]

    @property
    def count(self) -> int:
        """The number the user confirms: rejected photos (their sidecars go with them)."""
        return len(self.items)

    @property
    def file_count(self) -> int:
        return sum(1 + len(item.sidecars) for item in self.items)


@dataclass(frozen=True)
class TrashFailure:
    photo_id: int
    path: Path
    reason: str


@dataclass
class TrashResult:
    trashed: list[int] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    failures: list[TrashFailure] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    cancelled: bool = False


def _own_sidecars(path: Path, leaving: set[str], listing: dict[str, list[str]]) -> list[Path]:
    """Sidecars that belong to ``path`` alone (see the module docstring)."""
    folder = path.parent
    found: list[Path] = []
    for name in listing.get((path.name + ".xmp").casefold(), []):
        found.append(folder / name)
    stem_key = path.stem.casefold()
    others_staying = [
        name
        for names in listing.values()
        for name in names
        if os.path.splitext(name)[0].casefold() == stem_key
        and os.path.splitext(name)[1].lower() not in STEM_SIDECAR_EXTENSIONS
        and str(folder / name) not in leaving
    ]
    if not others_staying:
        for ext in sorted(STEM_SIDECAR_EXTENSIONS):
            for name in listing.get((path.stem + ext).casefold(), []):
                found.append(folder / name)
    return found


def plan_trash(catalog: Catalog, photo_ids: Sequence[int] | None = None, flt: PhotoFilter | None = None) -> TrashPlan:
    """The rejected photos (optionally among ``photo_ids`` and/or matching ``flt``) whose files exist."""
    base = flt if flt is not None else PhotoFilter()
    query = replace(base)
    query.flags = {FLAG_REJECT}
    query.statuses = {STATUS_OK, STATUS_ERROR} if base.statuses is None else set(base.statuses) - {STATUS_TRASHED}
    if photo_ids is not None:
        allowed = None if base.ids is None else set(base.ids)
        query.ids = [i for i in photo_ids if allowed is None or i in allowed]
    with catalog.read() as session:
        records = queries.records_by_ids(session, queries.photo_ids(session, query))
    leaving = {record.path for record in records}
    listings: dict[Path, dict[str, list[str]]] = {}
    items: list[TrashItem] = []
    claimed: set[str] = set()
    for record in records:
        path = Path(record.path)
        if not os.path.lexists(path):
            continue
        if path.parent not in listings:
            listings[path.parent] = names_by_casefold(path.parent)
        sidecars = [s for s in _own_sidecars(path, leaving, listings[path.parent]) if str(s) not in claimed]
        claimed.update(str(s) for s in sidecars)  # a sidecar shared by two rejects is listed once
        items.append(TrashItem(record.id, path, tuple(sidecars)))
    return TrashPlan(tuple(items))


def _send(path: Path) -> None:
    import send2trash

    send2trash.send2trash(str(path))


def move_rejects_to_trash(
    catalog: Catalog,
    plan: TrashPlan,
    *,
    confirm: int,
    cancel: CancelToken | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> TrashResult:
    """Send the planned rejects and their sidecars to the system trash and mark them trashed.

    ``confirm`` must equal ``plan.count`` (the number the user agreed to), else ExportError. A photo that is
    no longer rejected (changed since the plan) is skipped. Never deletes permanently: when the trash cannot
    take a file, that file stays and the failure is reported."""
    if confirm != plan.count:
        raise ExportError(
            f"refusing to trash: {plan.count} photos are planned but {confirm} were confirmed",
            hint="plan again and confirm the number shown",
        )
    result = TrashResult()
    total = plan.count
    for done, item in enumerate(plan.items):
        if cancel is not None and (not cancel.wait_if_paused() or cancel.cancelled):
            result.cancelled = True
            break
        if progress is not None:
            progress(done, total, str(item.path))
        with catalog.read() as session:
            row = session.execute(select(Photo.flag, Photo.status).where(Photo.id == item.photo_id)).first()
        if row is None or row.flag != FLAG_REJECT or row.status == STATUS_TRASHED:
            result.skipped.append((item.photo_id, "no longer rejected"))
            continue
        try:
            _send(item.path)
        except Exception as exc:
            log.warning("could not trash %s: %s", item.path, exc)
            result.failures.append(TrashFailure(item.photo_id, item.path, str(exc) or type(exc).__name__))
            continue
        result.files.append(item.path)
        with catalog.write() as session:
            session.execute(update(Photo).where(Photo.id == item.photo_id).values(status=STATUS_TRASHED))
        result.trashed.append(item.photo_id)
        for sidecar in item.sidecars:
            if not os.path.lexists(sidecar):
                continue
            try:
                _send(sidecar)
                result.files.append(sidecar)
            except Exception as exc:
                log.warning("could not trash %s: %s", sidecar, exc)
                result.failures.append(TrashFailure(item.photo_id, sidecar, str(exc) or type(exc).__name__))
    if progress is not None:
        progress(len(result.trashed), total, "")
    return result
