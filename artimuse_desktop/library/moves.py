"""Recognising moved files: a new path whose fingerprint matches a photo whose old path is gone.

A match keeps its row (decisions, scores, critiques) and only gets the new path. A photo still present at its
old path is a copy, not a move.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from artimuse_desktop.catalog.constants import STATUS_ERROR, STATUS_MISSING, STATUS_OK, STATUS_TRASHED
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.root_locations import RootMap
from artimuse_desktop.library import scanner
from artimuse_desktop.library.index_rows import KNOWN_SQL, KnownPhoto

# Raw SQL (``catalog.dbapi``): the indexer imports no SQLAlchemy for it.
_LIVE = "status IN (:ok, :error, :missing)"
_LIVE_PARAMS = {"ok": STATUS_OK, "error": STATUS_ERROR, "missing": STATUS_MISSING}


def may_have_moves(
    catalog: Catalog, known: dict[str, KnownPhoto], seen: set[str], vanished: dict[str, KnownPhoto]
) -> bool:
    """Whether a photo outside this scan could be the old location of a new file (then fingerprint first)."""
    if vanished:
        return True
    present = sum(1 for path, row in known.items() if path in seen and row.status != STATUS_TRASHED)
    with catalog.raw_read() as connection:
        others = connection.execute(f"SELECT count(*) FROM photos WHERE {_LIVE}", _LIVE_PARAMS).scalar()
    return int(others) > present


def match_moves(
    catalog: Catalog,
    entries: Sequence[scanner.FileEntry],
    fingerprints: dict[str, str],
    vanished: dict[str, KnownPhoto],
    seen: set[str],
    places: RootMap | None = None,
) -> dict[str, KnownPhoto]:
    """New path -> the row of the photo that moved there (same fingerprint, old path gone); paths as this
    computer sees them (``places``)."""
    places = places or RootMap()
    wanted = sorted({fingerprints[e.path] for e in entries if e.path in fingerprints})
    candidates: dict[str, list[KnownPhoto]] = {}
    with catalog.raw_read() as connection:
        for start in range(0, len(wanted), 500):
            listed, params = connection.in_("fp", wanted[start : start + 500])
            sql = f"{KNOWN_SQL}fingerprint IN ({listed}) AND {_LIVE}"
            for row_id, raw_path, *rest in connection.execute(sql, {**params, **_LIVE_PARAMS}).all():
                known = KnownPhoto(row_id, os.fsdecode(raw_path), *rest)
                if places:
                    known = known._replace(path=places.to_local(known.path))
                if known.path in seen:
                    continue  # still there: a copy, not a move
                gone = known.path in vanished or known.status == STATUS_MISSING or not os.path.lexists(known.path)
                if gone and known.fingerprint is not None:
                    candidates.setdefault(known.fingerprint, []).append(known)
    moves: dict[str, KnownPhoto] = {}
    for entry in entries:
        fingerprint = fingerprints.get(entry.path)
        pool = candidates.get(fingerprint or "")
        if not pool:
            continue
        name = os.path.basename(entry.path)
        pool.sort(key=lambda row: os.path.basename(row.path) != name)  # a plain move keeps its name
        moves[entry.path] = pool.pop(0)
    return moves
