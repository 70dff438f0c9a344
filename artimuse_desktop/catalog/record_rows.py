"""Photo records read in raw SQL on a session's own connection: the grid's page of 200, read for every screen.

The window reads a page of records on a worker for every screen it paints, every decision and every refresh.
Through SQLAlchemy (a Core select of the table's columns in the session) a page cost 19-21 ms of CPU at 300,000
photos, nearly all of it Python holding the GIL (statement building and caching, result rows, type hooks): the
GUI thread waited behind it. The same query as text on the session's DBAPI connection, with the two column
types turned by hand (paths: the file system's bytes, ``tables.PathType``; ``captured_at``: SQLAlchemy's SQLite
``DateTime`` string), gives the same records in 8-9 ms. It runs inside the session's transaction, so it sees
what the session sees.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from artimuse_desktop.catalog.dbapi import Raw
from artimuse_desktop.catalog.records import PhotoRecord
from artimuse_desktop.catalog.root_locations import RootMap

#: ``PhotoRecord``'s fields before ``score``, in order: the photos table's columns of the same names.
_FIELDS = [field.name for field in fields(PhotoRecord)]
_LEADING = tuple(_FIELDS[: _FIELDS.index("score")])
_SOURCES = tuple(_FIELDS[_FIELDS.index("score_model") + 1 :])  # the decisions' sources, columns too
_SELECT = (
    "SELECT "
    + ", ".join(f"p.{column}" for column in (*_LEADING, *_SOURCES))
    + ", a.score FROM photos p LEFT JOIN assessments a"
    " ON a.photo_id = p.id AND a.model = :model AND a.current = :current WHERE p.id IN ({ids})"
)
_PATH, _FOLDER, _CAPTURED = 1, 2, _LEADING.index("captured_at")
_CHUNK = 900  # ids per query: under SQLite's bound-parameter limit


def _when(value: Any) -> datetime | None:
    """``captured_at`` as SQLAlchemy's ``DateTime`` reads it: SQLite stores its ISO text, PostgreSQL a timestamp."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def read_records(session: Any, ids: Sequence[int], model: str, places: RootMap) -> list[PhotoRecord]:
    """Records for ``ids`` in their order (ids not in the catalog are skipped), with ``model``'s current score;
    path and folder where this computer finds them (``places``)."""
    if not ids:
        return []
    connection = session.connection()
    raw = Raw(connection.connection.dbapi_connection, connection.dialect.name)
    local = places.to_local if places.pairs else None
    leading, found = len(_LEADING), {}
    try:
        for start in range(0, len(ids), _CHUNK):
            listed, params = raw.in_("id", ids[start : start + _CHUNK])
            params.update(model=model, current=True)
            for row in raw.execute(_SELECT.format(ids=listed), params).all():
                values = list(row)
                path, folder = os.fsdecode(values[_PATH]), os.fsdecode(values[_FOLDER])
                values[_PATH], values[_FOLDER] = (local(path), local(folder)) if local else (path, folder)
                values[_CAPTURED] = _when(values[_CAPTURED])
                score = values[-1]
                fields_in_order = [*values[:leading], score, model if score is not None else None, *values[leading:-1]]
                found[values[0]] = PhotoRecord(*fields_in_order)
    finally:
        raw.close()
    return [found[i] for i in ids if i in found]
