"""The catalog's column values that code outside SQLAlchemy needs: photo statuses and decision sources.

Kept apart from ``catalog.tables`` (which re-exports them) so that the indexer's raw-SQL path
(``catalog.dbapi``) names them without importing SQLAlchemy (issue 14: one new photo in a fresh process).
"""

from __future__ import annotations

__all__ = [
    "DECISION_SOURCES",
    "SOURCE_APP",
    "SOURCE_COLUMNS",
    "SOURCE_FILE",
    "SOURCE_SIDECAR",
    "STATUS_ERROR",
    "STATUS_MISSING",
    "STATUS_OK",
    "STATUS_TRASHED",
]

# photos.status values
STATUS_OK = "ok"
STATUS_ERROR = "error"
STATUS_MISSING = "missing"
STATUS_TRASHED = "trashed"

# Where a decision came from (flag_source, rating_source, label_source), strongest first. NULL: no decision of
# that kind, or one made before sources were recorded (treated as made here: never replaced).
SOURCE_APP = "app"  # set in this app (culling, keep-best, undo)
SOURCE_SIDECAR = "sidecar"  # an XMP sidecar beside the photo (Lightroom, darktable, digiKam ...)
SOURCE_FILE = "file"  # the photo file's own XMP packet or EXIF Rating tag
DECISION_SOURCES = (SOURCE_APP, SOURCE_SIDECAR, SOURCE_FILE)
#: The source column of each decision column.
SOURCE_COLUMNS: dict[str, str] = {"flag": "flag_source", "rating": "rating_source", "color_label": "label_source"}
