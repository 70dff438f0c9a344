"""The frozen catalogs of released schemas (tests/data) and what every upgrade of them must keep."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from artimuse_desktop.catalog import Catalog, queries
from artimuse_desktop.catalog.filters import PhotoFilter, SortSpec

FROZEN = Path(__file__).resolve().parent.parent / "data"


def frozen_copy(name: str, folder: Path) -> Path:
    """A private copy of ``tests/data/<name>`` in ``folder`` (the frozen file itself is never opened)."""
    copy = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(FROZEN / name, copy)
    return copy


def assert_frozen_data(catalog: Catalog) -> None:
    """The three photos, decisions, assessment, critique and search of the frozen catalogs are all there."""
    with catalog.read() as session:
        records = queries.query_photos(session, sort=SortSpec("filename"))
        assert [(r.flag, r.rating, r.color_label) for r in records] == [
            (1, 5, "red"),
            (-1, 0, None),
            (0, 3, "green"),
        ]
        assert records[0].captured_at is not None and records[0].captured_at.microsecond == 250000
        assert records[0].score == pytest.approx(81.5)
        (assessment,) = queries.assessments_for(session, records[0].id)
        assert assessment.attributes[0].critique.startswith("Crisp focus")
        found = queries.photo_ids(session, PhotoFilter(search="highlights"))
        assert found == [records[0].id]
    # Every decision says where it came from (0003 fills older catalogs in), so none is taken for unset.
    for record in records:
        decided = {"flag": record.flag != 0, "rating": record.rating != 0, "label": record.color_label is not None}
        sources = {"flag": record.flag_source, "rating": record.rating_source, "label": record.label_source}
        assert all(sources[name] in ("app", "sidecar", "file") for name, made in decided.items() if made), record


def decision_sources(catalog: Catalog) -> list[tuple[str | None, str | None, str | None]]:
    """(flag_source, rating_source, label_source) of each photo, by file name."""
    with catalog.read() as session:
        records = queries.query_photos(session, sort=SortSpec("filename"))
    return [(r.flag_source, r.rating_source, r.label_source) for r in records]


def raw_state(path: Path) -> tuple[str | None, list[str], str]:
    """(alembic revision, columns of photos, integrity_check) read with plain sqlite3, bypassing our code."""
    connection = sqlite3.connect(path)
    try:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        revision = None
        if "alembic_version" in tables:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
        columns = [row[1] for row in connection.execute("PRAGMA table_info(photos)")]
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
        return revision, columns, integrity
    finally:
        connection.close()


#: An undo log as a catalog before 0004 kept it (no users): (photo, field, old, new, batch), its one pointer at
#: batch 3 (photo 2's reject), batch 4 undone and waiting for a redo.
LEGACY_EVENTS = [
    (1, "rating", "0", "5", 1),
    (1, "flag", "0", "1", 2),
    (2, "flag", "0", "-1", 3),
    (3, "rating", "3", "1", 4),
]
LEGACY_POSITION = 3


def add_legacy_history(path: Path) -> None:
    """Write ``LEGACY_EVENTS`` and the pointer into a frozen 0001–0003 copy, as that version left them."""
    connection = sqlite3.connect(path)
    try:
        connection.executemany(
            "INSERT INTO decision_events (photo_id, field, old_value, new_value, batch, at) VALUES (?, ?, ?, ?, ?, ?)",
            [(*event, f"2026-11-02 10:0{event[4]}:00.000000") for event in LEGACY_EVENTS],
        )
        connection.execute(
            "INSERT INTO catalog_settings (key, value) VALUES ('undo_position', ?)", (str(LEGACY_POSITION),)
        )
        connection.commit()
    finally:
        connection.close()


def undo_log(catalog: Catalog) -> list[tuple[int, str, str | None, str | None, int, str | None]]:
    """(photo, field, old, new, batch, user) of every logged decision, in order."""
    from sqlalchemy import select

    from artimuse_desktop.catalog.models import DecisionEvent as E

    with catalog.read() as session:
        rows = session.execute(
            select(E.photo_id, E.field, E.old_value, E.new_value, E.batch, E.user_name).order_by(E.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]
