"""Pick/reject flags, 0–5 stars and colour labels, saved at once, with a per-user undo log in the catalog.

Every change is one short write transaction that also appends ``DecisionEvent`` rows sharing a batch number,
so a crash never loses a decision and undo/redo work across restarts. Undo replays a batch backwards; redo
re-applies the last undone batch. Events past the user's undo pointer are discarded when they make a change.

Several people may cull one catalog at once (a shared PostgreSQL catalog, or two windows on one file):

- Each transaction writes only the column decided (``UPDATE photos SET rating = :v WHERE id IN (...)``, with
  its source and time), never whole rows: a flag from one editor and a rating from another both stay.
- The values logged as ``old_value`` are read under a lock: SQLite's write lock, taken by the transaction's
  first statement (never a read first: a read snapshot could be stale by the time it writes), and on
  PostgreSQL ``SELECT ... FOR UPDATE`` on the photos, in id order so two writers cannot deadlock. Two editors
  flagging the same photos end with one of the values and a log whose every step follows the one before.
- Batch numbers come from ``decision_batches`` (an autoincrement id, a sequence on PostgreSQL): never shared.
- Undo and redo replay only the user's own batches (and those logged before users were recorded, which are
  everyone's). They never revert somebody else's later change: a photo whose field another user changed
  after the batch (or whose value is no longer the one the batch left) is left alone and listed in
  ``DecisionChange.skipped``; the rest of the batch is undone.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.models import (
    SOURCE_APP,
    SOURCE_COLUMNS,
    DecisionBatch,
    DecisionEvent,
    Photo,
    UndoPosition,
)
from artimuse_desktop.identity import LEGACY_USER, current_user
from artimuse_desktop.vocabulary import COLOR_LABELS

FIELDS = ("flag", "rating", "color_label")


@dataclass(frozen=True)
class DecisionChange:
    """What an apply/undo/redo changed, so the GUI can refresh just those rows.

    ``skipped``: photos an undo or redo left alone because somebody else changed that field since."""

    batch: int
    photo_ids: tuple[int, ...]
    field: str
    skipped: tuple[int, ...] = ()


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


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _mine(user: str) -> Any:
    """The events in ``user``'s undo history: their own and the ones from before users were recorded."""
    return or_(DecisionEvent.user_name == user, DecisionEvent.user_name.is_(None))


def _positions(session: Session, users: Sequence[str]) -> dict[str, int]:
    """Undo pointers by user; one without a row of their own starts at the pointer from before 0004."""
    wanted = sorted({*users, LEGACY_USER})
    stmt = select(UndoPosition.user_name, UndoPosition.batch).where(UndoPosition.user_name.in_(wanted))
    rows: dict[str, int] = {str(name): int(batch) for name, batch in session.execute(stmt)}
    legacy = rows.get(LEGACY_USER, 0)
    return {user: rows.get(user, legacy) for user in users}


def _position(session: Session, user: str) -> int:
    return _positions(session, [user])[user]


def _set_position(session: Session, user: str, batch: int) -> None:
    """Upsert: concurrent first decisions of one user must not both insert."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect: Any = postgresql if _is_postgres(session) else sqlite
    stmt = dialect.insert(UndoPosition).values(user_name=user, batch=batch)
    session.execute(stmt.on_conflict_do_update(index_elements=[UndoPosition.user_name], set_={"batch": batch}))


def _take_write_lock(session: Session, user: str) -> None:
    """On SQLite, start the transaction with a write so what it reads next is read under the write lock
    (a no-op update; PostgreSQL locks the photo rows instead)."""
    if not _is_postgres(session):
        session.execute(update(UndoPosition).where(UndoPosition.user_name == user).values(batch=UndoPosition.batch))


def _chunks(ids: Sequence[int], size: int = 900) -> Iterator[list[int]]:
    """Stay under SQLite's bound-parameter limit on huge selections."""
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _locked_values(session: Session, field: str, ids: Sequence[int]) -> dict[int, int | str | None]:
    """The photos' current ``field``; on PostgreSQL their rows stay locked until the commit (in id order)."""
    column = getattr(Photo, field)
    current: dict[int, int | str | None] = {}
    postgres = _is_postgres(session)
    for chunk in _chunks(sorted(set(ids))):
        stmt: Select[Any] = select(Photo.id, column).where(Photo.id.in_(chunk)).order_by(Photo.id)
        if postgres:
            stmt = stmt.with_for_update(of=Photo)
        current.update((pid, v) for pid, v in session.execute(stmt))
    return current


def _apply(session: Session, field: str, values: Mapping[int, int | str | None], now: datetime) -> None:
    """One UPDATE per distinct value (and chunk), not per photo: undoing 30,000 ratings stays quick. Only the
    decided column, its source and the time are written: another editor's other columns stay."""
    by_value: dict[int | str | None, list[int]] = {}
    for pid, value in values.items():
        by_value.setdefault(value, []).append(pid)
    for value, pids in by_value.items():
        for chunk in _chunks(sorted(pids)):
            values_set = {field: value, SOURCE_COLUMNS[field]: SOURCE_APP, "decided_at": now}  # made here
            session.execute(update(Photo).where(Photo.id.in_(chunk)).values(values_set))


def set_decisions(
    catalog: Catalog, field: str, wanted: Mapping[int, int | str | None], *, user: str | None = None
) -> DecisionChange | None:
    """Set a possibly different value per photo, in one transaction and ONE undo step of ``user`` (default:
    ``identity.current_user()``), e.g. "keep the best frame of each burst, reject the rest". Returns None when
    nothing changed."""
    for value in wanted.values():
        _validate(field, value)
    if not wanted:
        return None
    user = user if user is not None else current_user()
    now = datetime.now()
    with catalog.write() as session:
        # The first statement writes (SQLite: the write lock before any read); the number is never shared.
        batch = session.execute(
            insert(DecisionBatch).values(user_name=user, at=now).returning(DecisionBatch.id)
        ).scalar_one()
        current = _locked_values(session, field, list(wanted))
        changed = [pid for pid in wanted if pid in current and current[pid] != wanted[pid]]
        if not changed:
            session.execute(delete(DecisionBatch).where(DecisionBatch.id == batch))
            return None
        position = _position(session, user)
        # A new change after undo drops this user's redo history (nobody else's).
        session.execute(delete(DecisionEvent).where(_mine(user), DecisionEvent.batch > position))
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
                    "user_name": user,
                }
                for pid in changed
            ],
        )
        _apply(session, field, {pid: wanted[pid] for pid in changed}, now)
        _set_position(session, user, batch)
        return DecisionChange(batch, tuple(changed), field)


def set_decision(
    catalog: Catalog,
    photo_ids: Sequence[int],
    field: str,
    value: int | str | None,
    *,
    toggle: bool = False,
    user: str | None = None,
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
    return set_decisions(catalog, field, dict.fromkeys(ids, value), user=user)


def _changed_by_others_since(session: Session, field: str, user: str, logged: Mapping[int, int]) -> set[int]:
    """Photos whose ``field`` another user changed after the event ``logged[photo]`` (and has not undone).

    "After" is by event id: events are logged while their photos are locked, so ids follow the order the
    changes were applied, where batch numbers (handed out as transactions start) may not."""
    later: list[tuple[int, str, int]] = []
    for chunk in _chunks(sorted(logged)):
        stmt = select(DecisionEvent.photo_id, DecisionEvent.id, DecisionEvent.user_name, DecisionEvent.batch).where(
            DecisionEvent.photo_id.in_(chunk),
            DecisionEvent.field == field,
            DecisionEvent.id > min(logged[pid] for pid in chunk),
            DecisionEvent.user_name.is_not(None),
            DecisionEvent.user_name != user,
        )
        later += [(pid, str(name), int(b)) for pid, eid, name, b in session.execute(stmt) if eid > logged[pid]]
    if not later:
        return set()
    positions = _positions(session, sorted({name for _, name, _ in later}))
    return {pid for pid, name, b in later if b <= positions[name]}


def _replay(catalog: Catalog, *, forward: bool, user: str | None) -> DecisionChange | None:
    user = user if user is not None else current_user()
    with catalog.write() as session:
        _take_write_lock(session, user)
        position = _position(session, user)
        if forward:
            target = select(func.min(DecisionEvent.batch)).where(_mine(user), DecisionEvent.batch > position)
        else:  # the last of the user's batches at or before the pointer (one whose photos are gone is passed)
            target = select(func.max(DecisionEvent.batch)).where(_mine(user), DecisionEvent.batch <= position)
        batch = session.execute(target).scalar()
        if batch is None:
            return None
        events = session.execute(
            select(
                DecisionEvent.id,
                DecisionEvent.photo_id,
                DecisionEvent.field,
                DecisionEvent.old_value,
                DecisionEvent.new_value,
            )
            .where(DecisionEvent.batch == batch)
            .order_by(DecisionEvent.id)
        ).all()
        field = events[0].field
        # The value each photo should have now (what the batch left, or what it found) and the one to set.
        expected = {e.photo_id: _decode(field, e.old_value if forward else e.new_value) for e in events}
        target_values = {e.photo_id: _decode(field, e.new_value if forward else e.old_value) for e in events}
        current = _locked_values(session, field, list(expected))
        others = _changed_by_others_since(session, field, user, {e.photo_id: e.id for e in events})
        apply = {
            pid: value
            for pid, value in target_values.items()
            if pid in current and current[pid] == expected[pid] and pid not in others
        }
        skipped = tuple(pid for pid in target_values if pid not in apply and pid in current)
        _apply(session, field, apply, datetime.now())
        if forward:
            _set_position(session, user, batch)
        else:
            previous = session.execute(
                select(func.max(DecisionEvent.batch)).where(_mine(user), DecisionEvent.batch < batch)
            ).scalar()
            _set_position(session, user, previous or 0)
        return DecisionChange(batch, tuple(apply), field, skipped)


def fields_decided_here(session: Session, photo_ids: Sequence[int]) -> dict[int, frozenset[str]]:
    """The decision fields whose current value the undo log put there, per photo (absent: none).

    A field counts when its last applied (not undone by its user) event set the value the photo still has,
    whoever made it. Values imported from sidecars or read from the files add no event; an undone change
    leaves no applied event, so a value it restored is not counted (its ``*_source`` column says "app" all
    the same).
    """
    legacy = aliased(UndoPosition)
    own = (
        select(UndoPosition.batch)
        .where(UndoPosition.user_name == func.coalesce(DecisionEvent.user_name, LEGACY_USER))
        .scalar_subquery()
    )
    before_users = select(legacy.batch).where(legacy.user_name == LEGACY_USER).scalar_subquery()
    applied = DecisionEvent.batch <= func.coalesce(own, before_users, 0)
    found: dict[int, set[str]] = {}
    for chunk in _chunks(list(dict.fromkeys(photo_ids))):
        latest = (
            select(func.max(DecisionEvent.id))
            .where(and_(applied, DecisionEvent.photo_id.in_(chunk)))
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


def undo(catalog: Catalog, *, user: str | None = None) -> DecisionChange | None:
    """Revert ``user``'s last applied batch (default: ``identity.current_user()``); None when there is
    nothing to undo."""
    return _replay(catalog, forward=False, user=user)


def redo(catalog: Catalog, *, user: str | None = None) -> DecisionChange | None:
    """Re-apply ``user``'s batch after their undo pointer; None when there is nothing to redo."""
    return _replay(catalog, forward=True, user=user)
