"""Writes the frozen copy of a released catalog schema (run once per release, then never again).

Usage: python tests/data/make_frozen_catalog.py tests/data/catalog-0007.sqlite
The file holds a few photos with decisions (and, from 0003, where each came from), an assessment with a
critique, and a measure, so upgrade tests can check that every kind of data survives each later migration.
From 0004 on it also holds two users' undo history (``FROZEN_EVENTS``, their undo pointers) and where a second
computer sees the library root (``FROZEN_LOCATION``). From 0005 on its ``sort_values`` hold the shown attribute and
measure, written by the triggers as the rows above go in (nothing here writes them).
"""

import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy import text

from artimuse_desktop.catalog import Catalog

#: (flag_source, rating_source, label_source) of the three photos: one of each source (schema 0003 on).
FROZEN_SOURCES = [("app", "app", "sidecar"), ("app", None, None), (None, "file", "file")]

target = Path(sys.argv[1])
target.unlink(missing_ok=True)
#: (photo, field, old, new, batch, user) of the undo log, schema 0004 on: alice rated and picked photo 1,
#: bob rejected photo 2; both pointers at their last batch.
FROZEN_EVENTS = [
    (1, "rating", "0", "5", 1, "alice"),
    (1, "flag", "0", "1", 2, "alice"),
    (2, "flag", "0", "-1", 3, "bob"),
]
FROZEN_POSITIONS = {"alice": 2, "bob": 3}
#: (root id, machine, path) of a root location, schema 0004 on.
FROZEN_LOCATION = (1, "studio-mac", b"/Volumes/photos")

catalog = Catalog(target)
with catalog.engine.begin() as connection:
    connection.execute(
        text("INSERT INTO library_roots (id, path, added_at) VALUES (1, :path, :now)"),
        {"path": b"/photos", "now": datetime(2026, 11, 1)},
    )
    for i, (flag, rating, label) in enumerate([(1, 5, "red"), (-1, 0, None), (0, 3, "green")], start=1):
        flag_source, rating_source, label_source = FROZEN_SOURCES[i - 1]
        connection.execute(
            text(
                "INSERT INTO photos (id, root_id, path, folder, filename, size, mtime, fingerprint, format, "
                "width, height, orientation, captured_at, status, flag, rating, color_label, "
                "flag_source, rating_source, label_source) VALUES "
                "(:id, 1, :path, :folder, :name, 1000, 1700000000.5, :fp, 'JPEG', 6000, 4000, 1, :at, 'ok', "
                ":flag, :rating, :label, :flag_source, :rating_source, :label_source)"
            ),
            {
                "id": i,
                "path": f"/photos/IMG_{i:04d}.JPG".encode(),
                "folder": b"/photos",
                "name": f"IMG_{i:04d}.JPG",
                "fp": f"{i:064x}",
                "at": datetime(2026, 10, 31, 12, 0, i, 250000),
                "flag": flag,
                "rating": rating,
                "label": label,
                "flag_source": flag_source,
                "rating_source": rating_source,
                "label_source": label_source,
            },
        )
    connection.execute(
        text(
            "INSERT INTO assessments (id, photo_id, model, model_version, fingerprint, score, created_at, current) "
            "VALUES (1, 1, 'technical', '1.0', :fp, 81.5, :now, 1)"
        ),
        {"fp": f"{1:064x}", "now": datetime(2026, 11, 1)},
    )
    connection.execute(
        text(
            "INSERT INTO attribute_scores (id, assessment_id, attribute, score, critique, experimental) "
            "VALUES (1, 1, 'Technical Execution', 80.0, 'Crisp focus on the eyes; the highlights hold.', 0)"
        )
    )
    connection.execute(
        text(
            "INSERT INTO measures (assessment_id, name, value, unit, higher_is_better, note) "
            "VALUES (1, 'sharpness', 0.8, '', 1, 'sharp')"
        )
    )
    tables = {name for (name,) in connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
    if "undo_positions" in tables:
        for photo_id, field, old, new, batch, user in FROZEN_EVENTS:
            at = datetime(2026, 11, 2, 10, batch)
            connection.execute(
                text(
                    "INSERT INTO decision_events (photo_id, field, old_value, new_value, batch, at, user_name) "
                    "VALUES (:photo, :field, :old, :new, :batch, :at, :user)"
                ),
                {"photo": photo_id, "field": field, "old": old, "new": new, "batch": batch, "at": at, "user": user},
            )
            connection.execute(
                text("INSERT INTO decision_batches (id, user_name, at) VALUES (:batch, :user, :at)"),
                {"batch": batch, "user": user, "at": at},
            )
        for user, batch in FROZEN_POSITIONS.items():
            connection.execute(
                text("INSERT INTO undo_positions (user_name, batch) VALUES (:user, :batch)"),
                {"user": user, "batch": batch},
            )
        root_id, machine, path = FROZEN_LOCATION
        connection.execute(
            text(
                "INSERT INTO root_locations (root_id, machine, path, mapped_at) VALUES (:root, :machine, :path, :now)"
            ),
            {"root": root_id, "machine": machine, "path": path, "now": datetime(2026, 11, 3)},
        )
catalog.close()
for suffix in ("-wal", "-shm"):
    Path(str(target) + suffix).unlink(missing_ok=True)
print(f"wrote {target}")
