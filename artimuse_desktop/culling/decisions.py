"""Pick/reject flags, 0–5 stars and colour labels, saved at once, with an undo log in the catalog.

Every change is one short write transaction that also appends ``DecisionEvent`` rows sharing a batch number,
so a crash never loses a decision and undo/redo work across restarts. Undo replays a batch backwards; redo
re-applies the last undone batch. Events past the undo pointer are discarded when a new change is made.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.models import SOURCE_APP, SOURCE_COLUMNS, CatalogSetting, DecisionEvent, Photo
from artimuse_desktop.vocabulary import COLOR_LABELS

FIELDS = ("flag", "rating", "color_label")
_UNDO_KEY = "undo_position"  # the batch number of the last applied (not undone) batch


@dataclass(frozen=True)
class DecisionChange:
    """What an apply/undo/redo changed, so the GUI can refresh just those rows."""

    batch: int
    photo_ids: tuple[int, ...]
    field: str


def _validate(field: str, value: int | str | None) -> int | str | None:
    if field == "flag":
        if value not in (-1, 0, 1):
            raise ValueError("flag must be -1 (reject), 0 (none) or 1 (pick)")
    elif field == "rating":
        if not isinstance(value, int) or not 0 <= value <= 5:
            raise ValueError("rating must be 0–5")
    elif field == "color_label":
        if value is not None and value not in COLOR_LABELS:
            raise ValueError(f"colour label must be one of {', '.join(COLOR_LABELS)} or none")
    else:
        raise ValueError(f"unknown decision field {field!r}")
    return value


def _encode(field: str, value: int | str | None) -> str | None:
    return None if value is None else str(value)


def _decode(field: str, value: str | None) -> int | str | None:
    if field == "color_label":
        return value
    return int(value) if value is not None else 0


def _position(session: Session) -> int:
    setting = session.get(CatalogSetting, _UNDO_KEY)
    return int(setting.value) if setting is not None and setting.value else 0


def _set_position(session: Session, batch: int) -> None:
    setting = session.get(CatalogSetting, _UNDO_KEY)
    if setting is None:
        session.add(CatalogSetting(key=_UNDO_KEY, value=str(batch)))
    else:
        setting.value = str(batch)


def _chunks(ids: Sequence[int], size: int = 900) -> Iterator[list[int]]:
    """Stay under SQLite's bound-parameter limit on huge selections."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _apply(session: Session, field: str, values: Mapping[int, int | str | None], now: datetime) -> None:
    """One UPDATE per distinct value (and chunk), not per photo: undoing 30,000 ratings stays quick."""
    by_value: dict[int | str | None, list[int]] = {}
    for pid, value in values.items():
        by_value.setdefault(value, []).append(pid)
    for value, pids in by_value.items():
        for chunk in _chunks(pids):
            values_set = {field: value, SOURCE_COLUMNS[field]: SOURCE_APP, "decided_at": now}  # made here
            session.execute(update(Photo).where(Photo.id.in_(chunk)).values(values_set))


def set_decisions(catalog: Catalog, field: str, wanted: Mapping[int, int | str | None]) -> DecisionChange | None:
    """Set a possibly different value per photo, in one transaction and ONE undo step (e.g. "keep the best
    frame of each burst, reject the rest"). Returns None when nothing changed."""
    for value in wanted.values():
        _validate(field, value)
    if not wanted:
        return None
    ids = list(wanted)
    column = getattr(Photo, field)
    with catalog.write() as session:
        current: dict[int, int | str | None] = {}
        for chunk in _chunks(ids):
            current.update((pid, v) for pid, v in session.execute(select(Photo.id, column).where(Photo.id.in_(chunk))))
        changed = [pid for pid in ids if pid in current and current[pid] != wanted[pid]]
        if not changed:
            return None
        position = _position(session)
        # A new change after undo drops the redo history.
        session.execute(delete(DecisionEvent).where(DecisionEvent.batch > position))
        last = session.execute(select(func.max(DecisionEvent.batch))).scalar() or 0
        batch = max(last, position) + 1
        now = datetime.now()
        session.execute(
            insert(DecisionEvent),
            [
                {
                    "photo_id": pid,
                    "field": field,
                    "old_value": _encode(field, current[pid]),
                    "new_value": _encode(field, wanted[pid]),
                    "batch": batch,
                    "at": now,
                }
                for pid in changed
            ],
        )
        _apply(session, field, {pid: wanted[pid] for pid in changed}, now)
        _set_position(session, batch)
        return DecisionChange(batch, tuple(changed), field)


def set_decision(
    catalog: Catalog, photo_ids: Sequence[int], field: str, value: int | str | None, *, toggle: bool = False
) -> DecisionChange | None:
    """Set ``field`` to ``value`` on the photos; ``toggle`` clears it where every photo already has it
    (Lightroom's behaviour for colour labels). Returns None when nothing changed."""
    value = _validate(field, value)
    ids = list(dict.fromkeys(photo_ids))
    if not ids:
        return None
    if toggle:
        column = getattr(Photo, field)
        with catalog.read() as session:
            values: set[int | str | None] = set()
            for chunk in _chunks(ids):
                values.update(v for (v,) in session.execute(select(column).where(Photo.id.in_(chunk))))
        if values == {value}:
            value = 0 if field in ("flag", "rating") else None
    return set_decisions(catalog, field, dict.fromkeys(ids, value))


def _replay(catalog: Catalog, *, forward: bool) -> DecisionChange | None:
    with catalog.write() as session:
        position = _position(session)
        if forward:
            batch = session.execute(
                select(func.min(DecisionEvent.batch)).where(DecisionEvent.batch > position)
            ).scalar()
        else:
            batch = position or None
        if batch is None:
            return None
        events = session.execute(
            select(DecisionEvent.photo_id, DecisionEvent.field, DecisionEvent.old_value, DecisionEvent.new_value)
            .where(DecisionEvent.batch == batch)
            .order_by(DecisionEvent.id)
        ).all()
        if not events:
            return None
        field = events[0].field
        now = datetime.now()
        _apply(
            session,
            field,
            {e.photo_id: _decode(field, e.new_value if forward else e.old_value) for e in events},
            now,
        )
        if forward:
            _set_position(session, batch)
        else:
            previous = session.execute(
                select(func.max(DecisionEvent.batch)).where(DecisionEvent.batch < batch)
            ).scalar()
            _set_position(session, previous or 0)
        return DecisionChange(batch, tuple(e.photo_id for e in events), field)


def fields_decided_here(session: Session, photo_ids: Sequence[int]) -> dict[int, frozenset[str]]:
    """The decision fields whose current value the undo log put there, per photo (absent: none).

    A field counts when its last applied (not undone) event set the value the photo still has. Values imported
    from sidecars or read from the files add no event; an undone change leaves no applied event, so a value it
    restored is not counted (its ``*_source`` column says "app" all the same).
    """
    position = _position(session)
    found: dict[int, set[str]] = {}
    for chunk in _chunks(list(dict.fromkeys(photo_ids))):
        latest = (
            select(func.max(DecisionEvent.id))
            .where(DecisionEvent.batch <= position, DecisionEvent.photo_id.in_(chunk))
            .group_by(DecisionEvent.photo_id, DecisionEvent.field)
        )
        rows = session.execute(
            select(DecisionEvent.photo_id, DecisionEvent.field, DecisionEvent.new_value, Photo.flag, Photo.rating)
            .add_columns(Photo.color_label)
            .join(Photo, Photo.id == DecisionEvent.photo_id)
            .where(DecisionEvent.id.in_(latest))
        )
        for photo_id, field, new_value, flag, rating, label in rows:
            current = {"flag": flag, "rating": rating, "color_label": label}.get(field)
            if field in FIELDS and _decode(field, new_value) == current:
                found.setdefault(photo_id, set()).add(field)
    return {photo_id: frozenset(fields) for photo_id, fields in found.items()}


def undo(catalog: Catalog) -> DecisionChange | None:
    """Revert the last applied batch; None when there is nothing to undo."""
    return _replay(catalog, forward=False)


def redo(catalog: Catalog) -> DecisionChange | None:
    """Re-apply the batch after the undo pointer; None when there is nothing to redo."""
    return _replay(catalog, forward=True)
